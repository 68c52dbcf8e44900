package peer

import (
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
	// NextSeq and NextPing, after a PONG that was life, are the PING due
	// next and when: the rule at work, said in the PONG's line. NextSeq
	// 0: not said.
	NextSeq  uint64
	NextPing time.Time
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
		if mn.Answer.Alive && mn.Answer.Seq != 0 {
			mn.NextSeq, mn.NextPing = in.M.NextSeq(), in.M.Deadline()
		}
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

// Events is the frame's events, in order, under the heartbeat settings cfg,
// on a connection made at start: the pure rules return events, and the
// driver writes them with the time of its wake-up. The server's PING has none here: whether it could be
// answered is known only once it is sent (event.ServerPingData).
func (mn Meaning) Events(cfg probe.Config, start time.Time) []event.Event {
	var evs []event.Event
	if mn.HostOrderNote {
		evs = append(evs, event.HostOrderPong{})
	}
	switch mn.Type {
	case msg.Pong:
		if mn.NoEchoNote {
			evs = append(evs, event.NoEcho{})
		}
		a := mn.Answer
		evs = append(evs, event.PongReceived{Seq: a.Seq, RTT: a.RTT, Echoed: mn.Echoed, Echo: mn.Echo,
			Late: a.Late, Alive: a.Alive, SentLate: a.SentLate, Interval: cfg.PongWait(), Heartbeat: cfg.Enabled(),
			NextSeq: mn.NextSeq, NextAt: mn.NextPing.Sub(start)})
	case msg.Ping:
	case msg.Notice:
		if mn.Ends {
			evs = append(evs, event.ServerClosing{Text: mn.Text})
			break
		}
		evs = append(evs, event.ServerWarns{Text: mn.Text})
	default:
		evs = append(evs, event.DataReceived{Type: mn.Type})
	}
	return evs
}
