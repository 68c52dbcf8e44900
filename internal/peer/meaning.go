package peer

import (
	"fmt"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// Meaning is what one received frame means. It is plain data: the load
// mode counts it, and the client turns it into events (Events).
type Meaning struct {
	// Type is the frame's type.
	Type msg.Type
	// HostOrderNote and NoEchoNote are true at the first PONG whose type
	// is in host byte order, or that does not echo the PING's data: each
	// is said once per connection.
	HostOrderNote, NoEchoNote bool
	// Answer is the heartbeat's reading of a PONG (Type msg.Pong); Echo is
	// the PING number the PONG's data echoes, when Echoed.
	Answer probe.Answer
	Echo   uint64
	Echoed bool
	// Rearm is true when the heartbeat's next deadline moved.
	Rearm bool
	// Reply is true for the server's PING: the frame, its type now PONG,
	// is to be sent back. Seq is that PING's number; zero when its data
	// carries no stamp.
	Reply bool
	Seq   uint64
	// Text is a NOTICE's text: a warning's, or a closing NOTICE's reason.
	Text string
	// Ends is true when the frame ends the connection (a closing NOTICE):
	// End says how.
	Ends bool
	End  ending.Reason
}

// Interpreter decides what each frame received on one connection means. It
// holds the connection's heartbeat machine and the notes said once per
// connection.
type Interpreter struct {
	M *probe.Machine
	// saidHostOrder and saidNoEcho are true once the note on a peer that
	// writes the PONG type in host byte order, or does not echo the PING's
	// data, has been given.
	saidHostOrder, saidNoEcho bool
}

// Frame says what f, received at at, means, and gives the heartbeat its
// sign of life: every frame but a PONG is one, a PONG only when it answers
// a PING in time (or any PONG with --accept-late). For the server's PING it
// sets f's type to PONG, ready to be sent back.
func (in *Interpreter) Frame(f *msg.Frame, at time.Time) Meaning {
	typ, hostOrder := f.Type()
	mn := Meaning{Type: typ}
	if hostOrder && !in.saidHostOrder {
		in.saidHostOrder, mn.HostOrderNote = true, true
	}
	if typ != msg.Pong && in.M.Frame(at) {
		mn.Rearm = true
	}
	switch typ {
	case msg.Pong:
		mn.Answer = in.M.Pong(at)
		mn.Rearm = mn.Answer.Alive
		if s, ok := msg.ReadStamp(f); ok {
			mn.Echo, mn.Echoed = s.Seq, true
		} else if !in.saidNoEcho && mn.Answer.Seq != 0 {
			in.saidNoEcho, mn.NoEchoNote = true, true
		}
	case msg.Ping:
		// The server's own heartbeat: answer at once, echoing.
		mn.Reply = true
		if st, ok := msg.ReadStamp(f); ok {
			mn.Seq = st.Seq
		}
		f.SetType(msg.Pong)
	case msg.Notice:
		var sev msg.Severity
		sev, mn.Text = msg.ReadNotice(f)
		if sev == msg.Closing {
			mn.Ends, mn.End = true, ending.ClosedByNotice
		}
	}
	return mn
}

// InTime reports whether the frame is a PONG that answers a PING in time:
// the only PONG whose RTT is a sample.
func (mn Meaning) InTime() bool {
	return mn.Type == msg.Pong && mn.Answer.Seq != 0 && !mn.Answer.Late
}

// Warning reports whether the frame is a warning NOTICE.
func (mn Meaning) Warning() bool { return mn.Type == msg.Notice && !mn.Ends }

// Event is one event, decided but not yet written: the pure rules return
// events, and the driver writes them with the time of its wake-up.
type Event struct {
	Name, Text string
	Fields     []event.Field
}

// Emit writes e at t, since the connect.
func (e Event) Emit(ev *event.Writer, t time.Duration) { ev.Emit(t, e.Name, e.Text, e.Fields...) }

// Events is the frame's events, in order, under the heartbeat settings cfg.
// The server's PING has none here: whether it could be answered is known
// only once it is sent (ServerPing).
func (mn Meaning) Events(cfg probe.Config) []Event {
	var evs []Event
	if mn.HostOrderNote {
		evs = append(evs, Event{event.Note,
			"peer writes the PONG type in host byte order (02 00 00 00), as the seed C server does; accepted as PONG",
			[]event.Field{event.F("note", "host_order_pong")}})
	}
	switch mn.Type {
	case msg.Pong:
		if mn.NoEchoNote {
			evs = append(evs, Event{event.Note,
				"peer does not echo the PING's data (the seed C server does not); PONGs are matched to PINGs in order",
				[]event.Field{event.F("note", "no_echo")}})
		}
		evs = append(evs, mn.pong(cfg))
	case msg.Ping:
	case msg.Notice:
		if mn.Ends {
			evs = append(evs, Event{event.Error, "the server closes the connection: " + mn.Text,
				[]event.Field{event.F("error", mn.Text), event.F("from", "server")}})
			break
		}
		evs = append(evs, Event{event.Note, "the server warns: " + mn.Text,
			[]event.Field{event.F("note", "server_warning"), event.F("text", mn.Text)}})
	default:
		evs = append(evs, Event{event.Data, fmt.Sprintf("%v frame received%s", mn.Type, ignored(mn.Type)),
			[]event.Field{event.F("type", uint32(mn.Type)), event.F("name", mn.Type.String())}})
	}
	return evs
}

// pong is a PONG's event: the PING it answers, in time or late, or none.
func (mn Meaning) pong(cfg probe.Config) Event {
	a := mn.Answer
	fields := []event.Field{event.F("seq", a.Seq), event.Secs("rtt_s", a.RTT)}
	echo := ""
	if mn.Echoed {
		fields = append(fields, event.F("echo_seq", mn.Echo))
		if mn.Echo != a.Seq {
			echo = fmt.Sprintf(" (its data echoes PING #%d: out of order)", mn.Echo)
		}
	}
	switch {
	case a.Seq == 0:
		return Event{event.LatePong, "PONG received that answers no PING" + lifeNote(a, cfg),
			append(fields, event.F("unsolicited", true), event.F("alive", a.Alive))}
	case a.Late:
		return Event{event.LatePong,
			fmt.Sprintf("late PONG #%d, RTT %s, %s%s%s", a.Seq, FmtRTT(a.RTT), lateWhy(a, cfg), echo, lifeNote(a, cfg)),
			append(fields, event.F("alive", a.Alive))}
	}
	return Event{event.Pong, fmt.Sprintf("PONG #%d, RTT %s%s", a.Seq, FmtRTT(a.RTT), echo), fields}
}

// ServerPing is the event for the server's PING number seq: answered, or
// not because the send buffer was full.
func ServerPing(seq uint64, answered bool) Event {
	text := fmt.Sprintf("PING #%d from the server, answered", seq)
	if !answered {
		text = fmt.Sprintf("PING #%d from the server, not answered: the server has stopped reading and the send buffer is full", seq)
	}
	return Event{event.Data, text, []event.Field{event.F("type", uint32(msg.Ping)), event.F("name", msg.Ping.String()),
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
		return fmt.Sprintf("over the %s interval", FmtDur(cfg.Interval))
	}
	return fmt.Sprintf("after its deadline: the PING left %s after it was due (%s interval)", FmtRTT(a.SentLate), FmtDur(cfg.Interval))
}

// FmtDur prints a setting as the user would type it: 10s, 300ms, 1m30s.
func FmtDur(d time.Duration) string { return d.String() }

// FmtRTT prints a measured time to the microsecond below a second and to
// the millisecond above.
func FmtRTT(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
