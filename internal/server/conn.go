//go:build linux && !portable

package server

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/deadline"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/poll"
)

// conn is one client's connection, owned by the event loop: the I/O of
// it. Its policy (policy.go) decides what a frame, a FIN, a write or a
// deadline means; the conn reads and writes as the policy says.
type conn struct {
	policy
	s    *srv
	fd   int
	id   uint64
	peer string
	// list is the list of connections a newcomer may end that the conn
	// is on (the server's leaving or stalled), nil when none; listPrev
	// and listNext are its place there.
	list               *connList
	listPrev, listNext *conn
	// interest is what the poller watches fd for now.
	interest uint32
	// slot is the conn's place in the loop's deadlines.
	slot deadline.Slot

	// in holds a frame's first bytes until the rest arrives.
	in msg.Partial

	// out is output the socket did not take yet; nil when all is sent.
	out      []byte
	shutWant bool // shut the write side once out is sent (lingering)
}

// DeadlineSlot is c's place in the loop's deadlines.
func (c *conn) DeadlineSlot() *deadline.Slot { return &c.slot }

// adopt starts serving an accepted descriptor.
func (s *srv) adopt(fd int, peer string, now time.Time) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	s.nextID++
	c := &conn{policy: policy{cfg: &s.cfg}, s: s, fd: fd, id: s.nextID, peer: peer}
	for fd >= len(s.conns) {
		s.conns = append(s.conns, nil)
	}
	s.conns[fd] = c
	s.open.Add(1)
	if err := s.p.Add(fd, poll.In); err != nil {
		s.ev.Emit(s.since(), event.Error, c.tag()+"epoll: "+err.Error(), c.fields(event.F("error", err.Error()))...)
		c.policy.stop(&s.fx, IOError, "epoll: "+err.Error())
		c.apply(now)
		return
	}
	c.interest = poll.In
	if !s.makeRoom(c, now) {
		s.schedule(c)
		return
	}
	s.greet(c, fdConn(fd), now)
	s.schedule(c)
}

// ready handles what the poller reported for the conn.
func (c *conn) ready(events uint32, now time.Time) {
	if events&poll.Out != 0 && c.out != nil {
		c.flush(now)
	}
	if c.state == closed || c.state == frozen {
		return
	}
	switch {
	case c.state == lingering:
		if events&(poll.In|poll.Err|poll.Hup) != 0 {
			c.drain(now)
		}
	case c.interest&poll.In != 0 && events&(poll.In|poll.Err|poll.Hup) != 0:
		c.read(now) // which sees the FIN, if any, after the frames before it
	case events&poll.RdHup != 0 && c.state == serving:
		// The peer's FIN while the conn is not read (PINGs or output
		// wait): whatever it sent that was not read yet is dropped.
		c.peerClosed(&c.s.fx, now)
		c.apply(now)
	case events&(poll.Err|poll.Hup) != 0:
		// Not reading (output or PINGs wait): the error is all there is
		// to learn, and it must be handled, or it is reported again.
		if n, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && n != 0 {
			c.fail(unix.Errno(n), now)
		} else {
			c.policy.fail(&c.s.fx, IOError, "connection hung up")
			c.apply(now)
		}
	}
	c.watch()
}

// watch sets what the poller watches fd for: output first; then frames,
// when the policy takes them.
func (c *conn) watch() {
	var want uint32
	switch c.state {
	case closed, frozen:
		return
	case lingering:
		want = poll.In
	case serving:
		want = poll.RdHup // a FIN is seen even while the conn is not read
		if c.reads() {
			want |= poll.In
		}
		c.markStalled()
	}
	if c.out != nil {
		want |= poll.Out
	}
	if want != c.interest {
		c.s.p.Modify(c.fd, want)
		c.interest = want
	}
}

// read takes what the socket holds and handles every whole frame in it;
// the rest of a frame waits in c.in. It takes no more frames than the
// queue has room for, so that each can wait its turn there.
func (c *conn) read(now time.Time) {
	s := c.s
	room := c.room()
	if room == 0 {
		return // watch stops reading a conn whose queue is full
	}
	buf := s.rbuf[:min(room, readFrames)*msg.FrameSize]
	had := c.in.Unread(buf)
	n, err := unix.Read(c.fd, buf[had:])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		c.fail(err, now)
		return
	case n == 0:
		c.peerClosed(&s.fx, now) // mid-frame when c.in holds part of one
		c.apply(now)
		return
	}
	data := buf[:had+n]
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
	c.in.Keep(data, &s.frames)
	c.partial(len(data), whole || had == 0, now)
}

// send writes b, or keeps what the socket does not take for later, and
// tells the policy. A write that fails ends the connection: what the
// policy asked for after it (todo i) is not done.
func (c *conn) send(b []byte, now time.Time, i int) {
	if c.out != nil {
		c.out = append(c.out, b...)
		c.sent(&c.s.fx, len(c.out), true, false, now)
		return
	}
	n, err := unix.Write(c.fd, b)
	if err == unix.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		c.s.fx.todo = c.s.fx.todo[:i+1]
		reason, detail := c.s.classify(err)
		c.policy.fail(&c.s.fx, reason, detail) // apply, which called send, ends it
		return
	}
	if n < len(b) {
		c.out = append([]byte(nil), b[n:]...)
	}
	c.sent(&c.s.fx, len(c.out), true, true, now)
}

// shutWrite sends a FIN once the output that waits is out.
func (c *conn) shutWrite() {
	if c.out != nil {
		c.shutWant = true
	} else {
		unix.Shutdown(c.fd, unix.SHUT_WR)
	}
}

// stopIO stops watching the connection: it is neither read nor written.
func (c *conn) stopIO() {
	c.s.p.Remove(c.fd)
	c.interest = 0
}

// flush writes the output that waits, when the socket takes it.
func (c *conn) flush(now time.Time) {
	n, err := unix.Write(c.fd, c.out)
	if err == unix.EAGAIN {
		return
	}
	if err != nil {
		c.fail(err, now)
		return
	}
	if n < len(c.out) {
		c.out = c.out[n:]
	} else {
		c.out = nil
		if c.shutWant {
			c.shutWant = false
			unix.Shutdown(c.fd, unix.SHUT_WR)
		}
	}
	c.sent(&c.s.fx, len(c.out), false, true, now) // the PONGs that waited behind the output
	c.apply(now)
}

// drain reads and drops what a lingering client sends; its close ends it.
func (c *conn) drain(now time.Time) {
	n, err := unix.Read(c.fd, c.s.rbuf)
	if n == 0 || (err != nil && err != unix.EAGAIN && err != unix.EINTR) {
		c.drained(&c.s.fx)
		c.apply(now)
	}
}

// nextDeadline is the conn's earliest deadline; zero when none is set.
func (c *conn) nextDeadline() time.Time { return c.deadline() }

// expire does what is due at now.
func (c *conn) expire(now time.Time) {
	c.policy.expire(&c.s.fx, now)
	c.apply(now)
}

// discard reads and drops, up to a bound, what the peer sent that was
// never read, so that closing sends a FIN: closing with bytes unread sends
// a RST, which can destroy the PONGs still on their way.
func (c *conn) discard() {
	for range 64 {
		if n, err := unix.Read(c.fd, c.s.rbuf); n <= 0 || err != nil {
			return
		}
	}
}

// finish closes the connection and reports why.
func (c *conn) finish(reason Reason, detail string) {
	s := c.s
	if reason == FaultReset {
		// SO_LINGER 0: close sends a RST.
		unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	unix.Close(c.fd) // which takes it out of the epoll set
	s.conns[c.fd] = nil
	s.timers.Set(c, time.Time{})
	c.in.Release(&s.frames)
	c.out = nil
	s.closed(c, reason, detail)
}
