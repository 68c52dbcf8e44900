package client

import (
	"fmt"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// entry is one event, decided but not yet written: the pure rules return
// entries, and the session writes them with the time of the wake-up.
type entry struct {
	name, text string
	fields     []event.Field
}

func (l entry) emit(ev *event.Writer, t time.Duration) { ev.Emit(t, l.name, l.text, l.fields...) }

// meaning is what one received frame means for the session.
type meaning struct {
	// events are the frame's events, in order.
	events []entry
	// rearm is true when the heartbeat's next deadline moved.
	rearm bool
	// answer is true for a server's PING: the session sends the frame back
	// as a PONG and says whether it could (see serverPing).
	answer bool
	// seq is the server PING's sequence number when answer is true; zero
	// when its data carries no stamp.
	seq uint64
	// end is true when the frame ends the run (a closing NOTICE), with
	// result.
	end    bool
	result Result
}

// interpreter decides what each received frame means. It holds the
// heartbeat's machine and the notes said once per connection; it does no
// I/O, reads no clock and starts no goroutine, so each rule is tested with
// exact times.
type interpreter struct {
	m *probe.Machine
	// saidHostOrder and saidNoEcho are true once the note on a peer that
	// writes the PONG type in host byte order, or does not echo the PING's
	// data, has been given: each is said once, at its first PONG.
	saidHostOrder, saidNoEcho bool
}

// frame says what f, received at at, means. For a server's PING it sets
// f's type to PONG, ready to be sent back.
func (in *interpreter) frame(f *msg.Frame, at time.Time) meaning {
	var mn meaning
	typ, hostOrder := f.Type()
	if hostOrder && !in.saidHostOrder {
		in.saidHostOrder = true
		mn.events = append(mn.events, entry{event.Note,
			"peer writes the PONG type in host byte order (02 00 00 00), as the seed C server does; accepted as PONG",
			[]event.Field{event.F("note", "host_order_pong")}})
	}
	if typ != msg.Pong && in.m.Frame(at) {
		mn.rearm = true
	}
	switch typ {
	case msg.Pong:
		in.pong(f, at, &mn)
	case msg.Ping:
		// The server's own heartbeat: answer at once, echoing.
		mn.answer = true
		if st, ok := msg.ReadStamp(f); ok {
			mn.seq = st.Seq
		}
		f.SetType(msg.Pong)
	case msg.Notice:
		sev, text := msg.ReadNotice(f)
		if sev == msg.Closing {
			mn.events = append(mn.events, entry{event.Error, "the server closes the connection: " + text,
				[]event.Field{event.F("error", text), event.F("from", "server")}})
			mn.end, mn.result = true, Result{Outcome: Failed, Err: fmt.Errorf("closed by the server: %s", text)}
			break
		}
		mn.events = append(mn.events, entry{event.Note, "the server warns: " + text,
			[]event.Field{event.F("note", "server_warning"), event.F("text", text)}})
	default:
		mn.events = append(mn.events, entry{event.Data, fmt.Sprintf("%v frame received%s", typ, ignored(typ)),
			[]event.Field{event.F("type", uint32(typ)), event.F("name", typ.String())}})
	}
	return mn
}

// pong adds what a PONG means to mn: the PING it answers, in time or late,
// or none.
func (in *interpreter) pong(f *msg.Frame, at time.Time, mn *meaning) {
	cfg := in.m.Config()
	a := in.m.Pong(at)
	mn.rearm = a.Alive
	fields := []event.Field{event.F("seq", a.Seq), event.Secs("rtt_s", a.RTT)}
	echo := ""
	if s, ok := msg.ReadStamp(f); ok {
		fields = append(fields, event.F("echo_seq", s.Seq))
		if s.Seq != a.Seq {
			echo = fmt.Sprintf(" (its data echoes PING #%d: out of order)", s.Seq)
		}
	} else if !in.saidNoEcho && a.Seq != 0 {
		in.saidNoEcho = true
		mn.events = append(mn.events, entry{event.Note,
			"peer does not echo the PING's data (the seed C server does not); PONGs are matched to PINGs in order",
			[]event.Field{event.F("note", "no_echo")}})
	}
	var l entry
	switch {
	case a.Seq == 0:
		l = entry{event.LatePong, "PONG received that answers no PING" + lifeNote(a, cfg),
			append(fields, event.F("unsolicited", true), event.F("alive", a.Alive))}
	case a.Late:
		l = entry{event.LatePong,
			fmt.Sprintf("late PONG #%d, RTT %s, %s%s%s", a.Seq, fmtRTT(a.RTT), lateWhy(a, cfg), echo, lifeNote(a, cfg)),
			append(fields, event.F("alive", a.Alive))}
	default:
		l = entry{event.Pong, fmt.Sprintf("PONG #%d, RTT %s%s", a.Seq, fmtRTT(a.RTT), echo), fields}
	}
	mn.events = append(mn.events, l)
}

// serverPing is the event for a server's PING number seq: answered, or not
// because the writer's queue was full.
func serverPing(seq uint64, answered bool) entry {
	text := fmt.Sprintf("PING #%d from the server, answered", seq)
	if !answered {
		text = fmt.Sprintf("PING #%d from the server, not answered: the server has stopped reading and the send buffer is full", seq)
	}
	return entry{event.Data, text, []event.Field{event.F("type", uint32(msg.Ping)), event.F("name", msg.Ping.String()),
		event.F("seq", seq), event.F("answered", answered)}}
}

func lifeNote(a probe.Answer, cfg probe.Config) string {
	switch {
	case a.Alive:
		return "; counts as life (--accept-late)"
	case cfg.Enabled():
		return "; does not count as life"
	}
	return ""
}

func ignored(t msg.Type) string {
	if t.Known() {
		return ""
	}
	return ", ignored"
}

// lateWhy says why a PONG was late. Its deadline runs from the PING's
// scheduled time, so when the PING left late the RTT can be under the
// interval: that would read as a contradiction without the reason.
func lateWhy(a probe.Answer, cfg probe.Config) string {
	if a.RTT >= cfg.Interval || a.SentLate <= 0 {
		return fmt.Sprintf("over the %s interval", fmtDur(cfg.Interval))
	}
	return fmt.Sprintf("after its deadline: the PING left %s after it was due (%s interval)", fmtRTT(a.SentLate), fmtDur(cfg.Interval))
}
