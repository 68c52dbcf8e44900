package event

// tone is how an event's line stands out on a terminal in colour: the
// verdict must be seen from the back of a room, a late or missed answer
// is a warning, an answer in time is the good news.
type tone uint8

const (
	plain tone = iota
	good       // green: a PONG in time
	warn       // yellow: a late PONG, a missed probe
	bad        // bold red: the peer declared dead
)

// toner is an event type whose tone is not its name's: a "pong" that
// hbserver sent is its own act, not news of the peer. typeTone reports the
// type's own tone, or own false when the tone goes by name after all (a
// wrapper whose inner type has none). The method is on the pointer and
// reads nothing: a tone belongs to the type, so toneFor asks a nil pointer,
// which costs no allocation. A type that embeds another event defines its
// own: a promoted method would reach the embedded field through nil.
type toner interface{ typeTone() (t tone, own bool) }

// typeTone is E's type's own tone, if it has one.
func typeTone[E any]() (tone, bool) {
	if t, ok := any((*E)(nil)).(toner); ok {
		return t.typeTone()
	}
	return plain, false
}

// toneFor is e's tone: its type's own (toner), or its name's, which may
// depend on its value (a late PONG). The type is E, as the event is
// emitted: every event is emitted as its own type, not in an interface.
func toneFor[E Event](e E) tone {
	if t, own := typeTone[E](); own {
		return t
	}
	return toneOf(e.Name())
}

// toneOf is each event's tone, by name: the one table of colours, so that
// both tools colour an event alike.
func toneOf(name string) tone {
	switch name {
	case Dead:
		return bad
	case LatePong, Missed:
		return warn
	case Pong:
		return good
	}
	return plain
}

// sgr is the tone's escape sequences (ECMA-48 SGR): the one that turns it
// on and the one that resets; none for plain.
func (t tone) sgr() (on, off string) {
	switch t {
	case good:
		return "\x1b[32m", "\x1b[0m"
	case warn:
		return "\x1b[33m", "\x1b[0m"
	case bad:
		return "\x1b[1;31m", "\x1b[0m"
	}
	return "", ""
}
