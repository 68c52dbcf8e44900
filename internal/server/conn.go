//go:build linux

package server

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/deadline"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
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
	// Room for the newcomer: the ones leaving first, then the stalled
	// (a refused newcomer lingering makes MaxConns+1, so one may not do).
	for s.over() && (s.leaving.head != nil || s.stalled.head != nil) {
		if s.leaving.head != nil {
			s.leaving.head.evict(now)
		} else {
			s.stalled.head.evict(now)
		}
	}
	if s.over() {
		c.policy.refuse(&s.fx, fmt.Sprintf("server full: %s open, the limit (--max-conns); try again later", plural.Count(s.cfg.MaxConns, "connection")), now)
		c.apply(now)
		s.schedule(c)
		return
	}
	text, kernelFields, err := s.setKernel(fd)
	if err != nil {
		s.ev.Emit(s.since(), event.Error, c.tag()+err.Error(), c.fields(event.F("error", err.Error()))...)
	}
	s.ev.Emit(s.since(), event.Connected, c.tag()+"connected"+text, c.fields(kernelFields...)...)
	c.start(now)
	s.schedule(c)
}

// over reports whether the server holds more than MaxConns connections,
// a newcomer included (the rule is Config.MaxConns's).
func (s *srv) over() bool {
	return s.cfg.MaxConns > 0 && s.open.Load() > int64(s.cfg.MaxConns)
}

// evict ends a connection on its way out, or a stalled one, to make room
// for a newcomer.
func (c *conn) evict(now time.Time) {
	c.policy.evict(&c.s.fx)
	c.apply(now)
}

func (c *conn) tag() string { return fmt.Sprintf("[#%d %s] ", c.id, c.peer) }

// fields are the connection's event fields, then fs.
func (c *conn) fields(fs ...event.Field) []event.Field {
	return append([]event.Field{event.F("conn", c.id), event.F("peer", c.peer)}, fs...)
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
		// A full queue puts the conn on the stalled list, which a
		// newcomer to a full server may end: its FIN may be stuck behind
		// PINGs not read yet, more than the receive buffer holds.
		full := c.queue != nil && c.queue.full()
		switch {
		case full && c.list == nil:
			c.s.stalled.push(c)
		case !full && c.list == &c.s.stalled:
			c.s.stalled.remove(c)
		}
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
		case report:
			c.report(&t.what)
		case leave:
			c.s.leaving.push(c)
		case startLinger:
			if c.out != nil {
				c.shutWant = true
			} else {
				unix.Shutdown(c.fd, unix.SHUT_WR)
			}
		case freeze:
			c.s.p.Remove(c.fd)
			c.interest = 0
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

// fail ends the connection for a failed read, or a write of what waited.
func (c *conn) fail(err error, now time.Time) {
	reason, detail := c.s.classify(err)
	c.policy.fail(&c.s.fx, reason, detail)
	c.apply(now)
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

// report gives a happening its text and fields, and emits it.
func (c *conn) report(h *happening) {
	s := c.s
	switch h.what {
	case pingReceived:
		s.ev.Emit(s.since(), event.Ping, c.tag()+h.ping.label()+" received", c.pingFields(&h.ping)...)
	case pongSent:
		s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG sent for %s, %s after the PING arrived", c.tag(), h.ping.label(), h.dur.Round(time.Microsecond)),
			append(c.pingFields(&h.ping), event.Secs("held_s", h.dur))...)
	case muted:
		s.ev.Emit(s.since(), event.Note, c.tag()+h.ping.label()+" not answered (--fault mute)", append(c.pingFields(&h.ping), event.F("note", "muted"))...)
	case dataReceived:
		s.ev.Emit(s.since(), event.Data, fmt.Sprintf("%s%v frame received%s", c.tag(), h.typ, ignored(h.typ)),
			c.fields(event.F("type", uint32(h.typ)), event.F("name", h.typ.String()))...)
	case clientPong:
		fs := c.fields(event.F("seq", h.seq), event.Secs("rtt_s", h.dur), event.F("received", true))
		if h.late {
			s.ev.Emit(s.since(), event.LatePong, fmt.Sprintf("%slate PONG #%d from the client, RTT %s", c.tag(), h.seq, h.dur.Round(time.Microsecond)), fs...)
		} else {
			s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG #%d from the client, RTT %s", c.tag(), h.seq, h.dur.Round(time.Microsecond)), fs...)
		}
	case told:
		s.ev.Emit(s.since(), event.Note, c.tag()+"told the client: "+h.text,
			c.fields(event.F("note", "notice"), event.F("severity", int(h.sev)), event.F("text", h.text))...)
	case faultOn:
		s.ev.Emit(s.since(), event.Note, fmt.Sprintf("%sfault: %s, from now on", c.tag(), s.cfg.Fault),
			c.fields(event.F("note", "fault"), event.F("fault", string(s.cfg.Fault)))...)
	case missed:
		s.ev.Emit(s.since(), event.Missed, fmt.Sprintf("%sprobe %d/%d of the client missed", c.tag(), h.n, s.cfg.Probe.Probes),
			c.fields(event.F("missed", h.n), event.F("probes", s.cfg.Probe.Probes))...)
	case deadByHeartbeat:
		cfg := s.cfg.Probe
		pred := cfg.DeadAfter()
		s.ev.Emit(s.since(), event.Dead,
			fmt.Sprintf("%sDEAD (heartbeat): client reaped, %s unanswered; observed %.3fs, predicted %.3fs",
				c.tag(), plural.Count(cfg.Probes, "probe"), h.dur.Seconds(), pred.Seconds()),
			c.fields(event.F("cause", "heartbeat"), event.Secs("observed_s", h.dur), event.Secs("predicted_s", pred))...)
	case pingSent:
		s.ev.Emit(s.since(), event.Ping, fmt.Sprintf("%sPING #%d sent to the client", c.tag(), h.seq),
			c.fields(event.F("seq", h.seq), event.F("sent", true))...)
	}
}

func (p *pingInfo) label() string {
	if !p.stamped {
		return "PING"
	}
	return fmt.Sprintf("PING #%d", p.seq)
}

func (c *conn) pingFields(p *pingInfo) []event.Field {
	if !p.stamped {
		return c.fields()
	}
	return c.fields(event.F("seq", p.seq))
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
	s.counts[reason]++
	s.open.Add(-1)
	if c.list != nil {
		c.list.remove(c)
	}
	text := c.tag() + "closed: " + string(reason)
	if detail != "" {
		text += " (" + detail + ")"
	}
	s.ev.Emit(s.since(), event.Closed, text, c.fields(event.F("reason", string(reason)))...)
}
