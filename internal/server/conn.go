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
// which does its I/O. Its policy (policy.go) decides what a frame, a FIN,
// a write or a deadline means; the conn has the loop read and write as the
// policy says.
type conn struct {
	policy
	s    *srv
	io   *evloop.Conn // its descriptor, deadline, partial frame and output
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
	c.io = s.p.Adopt(fd, c)
	s.open.Add(1)
	if err := c.io.Watch(evloop.In); err != nil {
		emit(c, event.Failed{Op: "epoll", Err: err.Error()})
		c.policy.stop(&s.fx, ending.IOError, "epoll: "+err.Error())
		c.apply(now)
		return
	}
	if !s.makeRoom(c, now) {
		s.schedule(c)
		return
	}
	s.greet(c, c.io, now)
	s.schedule(c)
}

// Ready handles what the poller reported for the conn, at now.
func (c *conn) Ready(events uint32, now time.Time) {
	c.ready(events, now)
	c.s.schedule(c)
}

// Due does what is due at now.
func (c *conn) Due(now time.Time) {
	c.expire(now)
	c.s.schedule(c)
}

// nextDeadline is the conn's earliest deadline; zero when none is set.
func (c *conn) nextDeadline() time.Time { return c.deadline() }

// expire does what is due at now.
func (c *conn) expire(now time.Time) {
	c.policy.expire(&c.s.fx, now)
	c.apply(now)
}

// ready handles what the poller reported for the conn.
func (c *conn) ready(events uint32, now time.Time) {
	if events&evloop.Out != 0 && c.io.Waiting() {
		c.flush(now)
	}
	if c.state == closed || c.state == frozen {
		return
	}
	switch {
	case c.state == lingering:
		if events&(evloop.In|evloop.Err|evloop.Hup) != 0 {
			c.drain(now)
		}
	case c.io.Interest()&evloop.In != 0 && events&(evloop.In|evloop.Err|evloop.Hup) != 0:
		c.read(now) // which sees the FIN, if any, after the frames before it
	case events&evloop.RdHup != 0 && c.state == serving:
		// The peer's FIN while the conn is not read (PINGs or output
		// wait): whatever it sent that was not read yet is dropped.
		c.peerClosed(&c.s.fx, now)
		c.apply(now)
	case events&(evloop.Err|evloop.Hup) != 0:
		// Not reading (output or PINGs wait): the error is all there is
		// to learn, and it must be handled, or it is reported again.
		if err := c.io.SocketError(); err != nil {
			c.fail(err, now)
		} else {
			c.policy.fail(&c.s.fx, ending.IOError, "connection hung up")
			c.apply(now)
		}
	}
	c.watch()
}

// watch sets what the poller watches the conn for: output first; then
// frames, when the policy takes them.
func (c *conn) watch() {
	var want uint32
	switch c.state {
	case closed, frozen:
		return
	case lingering:
		want = evloop.In
	case serving:
		want = evloop.RdHup // a FIN is seen even while the conn is not read
		if c.reads() {
			want |= evloop.In
		}
		c.markStalled()
	}
	if c.io.Waiting() {
		want |= evloop.Out
	}
	c.io.Watch(want)
}

// read takes what the socket holds and handles every whole frame in it;
// the rest of a frame waits in the loop. It takes no more frames than the
// queue has room for, so that each can wait its turn there.
func (c *conn) read(now time.Time) {
	s := c.s
	room := c.room()
	if room == 0 {
		return // watch stops reading a conn whose queue is full
	}
	data, had, eof, err := c.io.Read(min(room, readFrames) * msg.FrameSize)
	switch {
	case err == evloop.ErrWouldBlock:
		return
	case err != nil:
		c.fail(err, now)
		return
	case eof:
		c.peerClosed(&s.fx, now) // mid-frame when the loop holds part of one
		c.apply(now)
		return
	}
	whole := false
	for len(data) >= msg.FrameSize && c.state == serving {
		c.frame(&s.fx, (*msg.Frame)(data[:msg.FrameSize]), now)
		c.apply(now)
		data = data[msg.FrameSize:]
		whole = true
	}
	if c.state != serving {
		return
	}
	c.io.Keep(data)
	c.partial(len(data), whole || had == 0, now)
}

// send writes b, or has the loop keep what the socket does not take for
// later, and tells the policy. A write that fails ends the connection:
// what the policy asked for after it (todo i) is not done.
func (c *conn) send(b []byte, now time.Time, i int) {
	if c.io.Waiting() {
		c.io.Hold(b)
		c.sent(&c.s.fx, c.io.Pending(), true, false, now)
		return
	}
	n, err := c.io.Write(b)
	if err != nil {
		c.s.fx.todo = c.s.fx.todo[:i+1]
		reason, detail := c.s.classify(err)
		c.policy.fail(&c.s.fx, reason, detail) // apply, which called send, ends it
		return
	}
	if n < len(b) {
		c.io.Hold(b[n:])
	}
	c.sent(&c.s.fx, c.io.Pending(), true, true, now)
}

// shutWrite sends a FIN once the output that waits is out.
func (c *conn) shutWrite() { c.io.ShutWrite() }

// stopIO stops watching the connection: it is neither read nor written.
func (c *conn) stopIO() { c.io.StopIO() }

// flush writes the output that waits, when the socket takes it.
func (c *conn) flush(now time.Time) {
	moved, err := c.io.Flush()
	if err != nil {
		c.fail(err, now)
		return
	}
	if !moved {
		return
	}
	c.sent(&c.s.fx, c.io.Pending(), false, true, now) // the PONGs that waited behind the output
	c.apply(now)
}

// drain reads and drops what a lingering client sends; its close ends it.
func (c *conn) drain(now time.Time) {
	if c.io.Drop() {
		c.drained(&c.s.fx)
		c.apply(now)
	}
}

// discard reads and drops, up to a bound, what the peer sent that was
// never read, so that closing sends a FIN: closing with bytes unread sends
// a RST, which can destroy the PONGs still on their way.
func (c *conn) discard() { c.io.Discard() }

// finish closes the connection and reports why.
func (c *conn) finish(reason ending.Reason, detail string) {
	c.io.Close(reason == ending.FaultReset) // a reset: SO_LINGER 0, and close sends a RST
	c.s.closed(c, reason, detail)
}
