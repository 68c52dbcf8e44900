//go:build linux && !portable

package server

import (
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/evloop"
	"github.com/heartbeat/heartbeat/internal/msg"
)

// conn is one client's connection on the event loop (package evloop),
// which does its I/O and hands it whole frames. Its policy (policy.go)
// decides what a frame, a FIN, a write or a deadline means; the conn has
// the loop read and write as the policy says.
type conn struct {
	policy
	s    *srv
	io   evloop.Conn // its descriptor, deadline, partial frame and output
	id   uint64
	peer string
	// list is the list of connections a newcomer may end that the conn
	// is on (the server's leaving or stalled), nil when none; listPrev
	// and listNext are its place there.
	list               *connList
	listPrev, listNext *conn
}

// adopt starts serving an accepted descriptor.
func (s *srv) adopt(fd int, peer string, now time.Time) {
	s.nextID++
	c := &conn{policy: policy{cfg: &s.cfg}, s: s, id: s.nextID, peer: peer}
	s.open.Add(1)
	if err := s.p.Adopt(&c.io, fd, c); err != nil {
		emit(c, event.Failed{Op: "epoll", Err: err.Error()})
		c.policy.stop(&s.fx, ending.IOError, "epoll: "+err.Error())
		c.apply(now)
		return
	}
	if s.makeRoom(c, now) {
		s.greet(c, &c.io, now)
		c.watch()
	}
	s.schedule(c)
}

// Frame handles one whole frame; it is the loop's until the call returns,
// and a PONG that echoes it at once is sent from it.
func (c *conn) Frame(f *msg.Frame, now time.Time) {
	c.frame(&c.s.fx, f, now)
	c.apply(now)
}

// Held is the start of a frame waiting for its rest, from which the
// frame timeout counts.
func (c *conn) Held(n int, fresh bool, now time.Time) { c.partial(n, fresh, now) }

// Closed is the peer's FIN; a lingering conn has drained what its peer
// sent, and ends.
func (c *conn) Closed(_ bool, now time.Time) {
	if c.state == lingering {
		c.drained(&c.s.fx)
	} else {
		c.peerClosed(&c.s.fx, now) // mid-frame when the loop holds part of one
	}
	c.apply(now)
}

// Failed ends the connection for a failed read or write.
func (c *conn) Failed(err error, now time.Time) { c.fail(err, now) }

// Writable is output that waited moving: the PONGs that waited behind it
// may follow.
func (c *conn) Writable(now time.Time) {
	c.sent(&c.s.fx, c.io.Pending(), false, true, now)
	c.apply(now)
}

// Due does what is due at now.
func (c *conn) Due(now time.Time) { c.expire(now) }

// Deadline is the conn's earliest deadline; zero when none is set.
func (c *conn) Deadline() time.Time { return c.deadline() }

// expire does what is due at now.
func (c *conn) expire(now time.Time) {
	c.policy.expire(&c.s.fx, now)
	c.apply(now)
}

// watch tells the loop how many frames the conn takes now: none while
// output waits or the queue is full (policy.reads), else as many as the
// queue has room for, so that each can wait its turn there.
func (c *conn) watch() {
	switch c.state {
	case serving:
		room := 0
		if c.reads() {
			room = c.room()
		}
		c.io.Receive(room)
		c.markStalled()
	case lingering:
		c.io.Drain()
	}
}

// send writes b, or has the loop keep what the socket does not take for
// later, and tells the policy. A write that fails ends the connection:
// what the policy asked for after it (todo i) is not done.
func (c *conn) send(b []byte, now time.Time, i int) {
	wrote := !c.io.Waiting() // behind output that waits, b waits too
	if err := c.io.Send(b); err != nil {
		c.s.fx.todo = c.s.fx.todo[:i+1]
		reason, detail := c.s.classify(err)
		c.policy.fail(&c.s.fx, reason, detail) // apply, which called send, ends it
		return
	}
	c.sent(&c.s.fx, c.io.Pending(), true, wrote, now)
}

// shutWrite sends a FIN once the output that waits is out.
func (c *conn) shutWrite() { c.io.ShutWrite() }

// stopIO stops watching the connection: it is neither read nor written.
func (c *conn) stopIO() { c.io.StopIO() }

// discard reads and drops, up to a bound, what the peer sent that was
// never read, so that closing sends a FIN: closing with bytes unread sends
// a RST, which can destroy the PONGs still on their way.
func (c *conn) discard() { c.io.Discard() }

// finish closes the connection and reports why.
func (c *conn) finish(reason ending.Reason, detail string) {
	c.io.Close(reason == ending.FaultReset) // a reset: SO_LINGER 0, and close sends a RST
	c.s.closed(c, reason, detail)
}
