package server

import (
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// This file is where both backends (server.go and conn.go, the epoll
// loop; portable.go, a goroutine per connection) do what a policy asks:
// each backend gives its conn send, shutWrite, stopIO, discard, finish
// and watch.

// apply does what the policy asked for, in order, and tells it what came
// of each write, which may ask for more.
func (c *conn) apply(now time.Time) {
	fx := &c.s.fx
	for i := 0; i < len(fx.todo); i++ {
		t := fx.todo[i]
		switch t.kind {
		case sendPong:
			c.send(t.f[:], now, i)
		case sendNotice:
			var f msg.Frame
			msg.PutNotice(&f, t.sev, t.text)
			c.send(f[:], now, i)
		case sendPing:
			var f msg.Frame
			f.SetType(msg.Ping)
			msg.Stamp{Seq: t.seq, Sent: t.at}.Put(&f)
			c.send(f[:], now, i)
		case sendCallback:
			var f msg.Frame
			msg.PutCall(&f, msg.Callback, t.call)
			c.send(f[:], now, i)
		case report:
			c.report(&t.what, c.s.shows(t.what.lineKind()))
		case leave:
			c.s.leaving.push(c)
		case startLinger:
			c.shutWrite()
		case freeze:
			c.stopIO()
		case discardIn:
			c.discard()
		case end:
			c.finish(t.reason, t.detail)
		}
	}
	clear(fx.todo) // no frame or text stays reachable
	fx.todo = fx.todo[:0]
	c.watch()
}

// fail ends the connection for a failed read, or a write of what waited.
func (c *conn) fail(err error, now time.Time) {
	reason, detail := c.s.classify(err)
	c.policy.fail(&c.s.fx, reason, detail)
	c.apply(now)
}
