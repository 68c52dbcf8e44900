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
