package server

import (
	"fmt"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// This file is the policy's CALL rule (docs/PROTOCOL.md): a client asks
// the server to speak first after a silence, so that it can find how long
// a middlebox keeps an idle connection for packets coming in from the
// server's side. The rule is pure, as the rest of policy.go; it is kept
// apart so that the other rules do not grow around it.

// callState is one connection's pending CALL. The zero value is none.
type callState struct {
	call msg.CallInfo // what was asked; Delay 0: nothing pending
	at   time.Time    // when the CALLBACK is due; zero when nothing is pending
}

// heard restarts a pending CALL's silence: every frame the client sends
// counts, so the CALLBACK comes after Delay with nothing from the client,
// which is what a middlebox's idle timer sees. What the server itself
// sends does not restart it (hbserver sends nothing unasked but its
// heartbeat's PINGs, off by default).
func (p *policy) heard(now time.Time) {
	if !p.calls.at.IsZero() {
		p.calls.at = now.Add(p.calls.call.Delay)
	}
}

// call takes a CALL received at now: a delay from 1ms to MaxCallDelay
// replaces any pending one, 0 cancels, one out of range is refused with
// a warning Notice and leaves the pending one as it was.
func (p *policy) call(e *effects, f *msg.Frame, now time.Time) {
	c := msg.ReadCall(f)
	switch {
	case c.Delay == 0:
		p.calls = callState{}
	case c.Delay > msg.MaxCallDelay:
		p.notify(e, msg.Warning, fmt.Sprintf("call refused: a delay of %dms is out of range, 1ms to %dms",
			c.Delay.Milliseconds(), msg.MaxCallDelay.Milliseconds()), !p.cfg.Quiet)
	default:
		p.calls = callState{call: c, at: now.Add(c.Delay)}
	}
}

// callDeadline is when the pending CALLBACK is due; zero when none is, or
// when the connection no longer serves.
func (p *policy) callDeadline() time.Time {
	if p.state != serving {
		return time.Time{}
	}
	return p.calls.at
}

// callDue sends the CALLBACK once its silence is over. It is sent once; a
// new CALL asks for another.
func (p *policy) callDue(e *effects, now time.Time) {
	if p.state != serving || p.calls.at.IsZero() || now.Before(p.calls.at) {
		return
	}
	c := p.calls.call
	p.calls = callState{}
	if p.send(e, todo{kind: sendCallback, call: c}) && !p.cfg.Quiet {
		e.report(happening{what: calledBack, dur: c.Delay, seq: c.Tag})
	}
}
