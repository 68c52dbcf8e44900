//go:build linux

package server

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/deadline"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// maxOut bounds the output one connection may have waiting for its
// socket: a PONG's rest, a Notice, the server heartbeat's PINGs. PONGs wait
// in the queue, not here, while output waits, so a client that takes
// nothing while four frames' worth waits is not reading; it is closed as
// such, before WriteTimeout.
const maxOut = 4 * msg.FrameSize

// lingerFor is how long a connection the server gave up on is drained
// after its closing Notice, so that no RST overtakes the Notice.
const lingerFor = time.Second

type connState uint8

const (
	serving   connState = iota
	closing             // the peer sent its FIN: answering what is queued, then closing
	lingering           // told why it ends; draining until the peer closes or lingerFor
	frozen              // --fault freeze: neither read nor written until shutdown
	closed
)

// conn is one client's connection, owned by the event loop. A deadline
// that is zero is not set.
type conn struct {
	s     *srv
	fd    int
	id    uint64
	peer  string
	state connState
	// leavePrev and leaveNext are the conn's place in the loop's list of
	// connections on their way out (closing or lingering).
	leavePrev, leaveNext *conn
	// interest is what the poller watches fd for now.
	interest uint32
	// slot is the conn's place in the loop's deadlines.
	slot deadline.Slot

	// in holds a frame's first bytes until the rest arrives. frameBy is
	// when that frame must be complete.
	in      msg.Partial
	frameBy time.Time

	// out is output the socket did not take yet; nil when all is sent.
	// While it waits, the conn is not read: a client that does not read
	// cannot make the server buffer more. outBy is when it must have moved.
	out      []byte
	outBy    time.Time
	shutWant bool // shut the write side once out is sent (lingering)

	// queue holds the PINGs waiting for their SLEEP, in order; nil when
	// none waits.
	queue *pingQueue

	rate     pingRate  // MinPingInterval's schedule
	lastPing time.Time // when the last PING came, for the Notices

	m *probe.Machine // the server's heartbeat; nil when off

	faultAt time.Time // when --fault takes effect; zero once it has
	faulted bool

	lingerBy time.Time
	reason   Reason // why a lingering conn ends
	detail   string
}

// pingInfo is what the timeline says of a PING received.
type pingInfo struct {
	at      time.Time
	seq     uint64
	stamped bool // it carries our stamp, so seq is its number
}

// DeadlineSlot is c's place in the loop's deadlines.
func (c *conn) DeadlineSlot() *deadline.Slot { return &c.slot }

// adopt starts serving an accepted descriptor.
func (s *srv) adopt(fd int, peer string, now time.Time) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	s.nextID++
	c := &conn{s: s, fd: fd, id: s.nextID, peer: peer}
	for fd >= len(s.conns) {
		s.conns = append(s.conns, nil)
	}
	s.conns[fd] = c
	s.open.Add(1)
	if err := s.p.Add(fd, poll.In); err != nil {
		s.ev.Emit(s.since(), event.Error, c.tag()+"epoll: "+err.Error(), c.fields(event.F("error", err.Error()))...)
		c.finish(IOError, "epoll: "+err.Error())
		return
	}
	c.interest = poll.In
	if s.over() && s.leaving.head != nil {
		s.leaving.head.evict()
	}
	if s.over() {
		text := fmt.Sprintf("server full: %s open, the limit (--max-conns); try again later", plural.Count(s.cfg.MaxConns, "connection"))
		c.notify(msg.Closing, text, now, false)
		c.linger(OverLimit, text, now)
		s.schedule(c)
		return
	}
	text, kernelFields, err := s.setKernel(fd)
	if err != nil {
		s.ev.Emit(s.since(), event.Error, c.tag()+err.Error(), c.fields(event.F("error", err.Error()))...)
	}
	s.ev.Emit(s.since(), event.Connected, c.tag()+"connected"+text, c.fields(kernelFields...)...)
	if s.cfg.Probe.Enabled() {
		c.m = probe.New(s.cfg.Probe, now)
	}
	if s.cfg.Fault != NoFault {
		c.faultAt = now.Add(s.cfg.FaultAfter)
	}
	s.schedule(c)
}

// over reports whether the server holds more than MaxConns connections,
// a newcomer included (the rule is Config.MaxConns's).
func (s *srv) over() bool {
	return s.cfg.MaxConns > 0 && s.open.Load() > int64(s.cfg.MaxConns)
}

// evict ends a connection on its way out to make room for a newcomer: a
// lingering one for the reason it was told, a closing one with its
// remaining PINGs unanswered.
func (c *conn) evict() {
	if c.state == lingering {
		c.finish(c.reason, c.detail)
		return
	}
	c.discard()
	c.finish(OverLimit, "its peer had closed; ended early for a newcomer")
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
			c.drain()
		}
	case c.interest&poll.In != 0 && events&(poll.In|poll.Err|poll.Hup) != 0:
		c.read(now) // which sees the FIN, if any, after the frames before it
	case events&poll.RdHup != 0 && c.state == serving:
		// The peer's FIN while the conn is not read (PINGs or output
		// wait): whatever it sent that was not read yet is dropped.
		c.peerClosed(now)
	case events&(poll.Err|poll.Hup) != 0:
		// Not reading (output or PINGs wait): the error is all there is
		// to learn, and it must be handled, or it is reported again.
		if n, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && n != 0 {
			c.fail(unix.Errno(n))
		} else {
			c.finish(IOError, "connection hung up")
		}
	}
	c.watch()
}

// watch sets what the poller watches fd for: output first; then frames,
// unless too many PINGs wait for their SLEEP.
func (c *conn) watch() {
	var want uint32
	switch c.state {
	case closed, frozen:
		return
	case lingering:
		want = poll.In
	case serving:
		want = poll.RdHup // a FIN is seen even while the conn is not read
		if c.out == nil && (c.queue == nil || !c.queue.full()) {
			want |= poll.In
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
	room := maxQueued
	if c.queue != nil {
		room -= c.queue.n
	}
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
		c.fail(err)
		return
	case n == 0:
		c.peerClosed(now) // mid-frame when c.in holds part of one
		return
	}
	data := buf[:had+n]
	whole := false
	for len(data) >= msg.FrameSize && c.state == serving {
		c.frame((*msg.Frame)(data[:msg.FrameSize]), now)
		data = data[msg.FrameSize:]
		whole = true
	}
	if c.state != serving {
		return
	}
	c.in.Keep(data, &s.frames)
	if len(data) == 0 {
		c.frameBy = time.Time{}
		return
	}
	// A frame's first byte may wait forever; from it, the rest gets
	// FrameTimeout.
	if (whole || had == 0) && s.cfg.FrameTimeout > 0 {
		c.frameBy = now.Add(s.cfg.FrameTimeout)
	}
}

// frame handles one whole frame.
func (c *conn) frame(f *msg.Frame, now time.Time) {
	s := c.s
	typ, _ := f.Type()
	switch {
	case typ == msg.Ping:
		c.ping(f, now)
	case typ == msg.Pong && c.m != nil:
		c.pong(now)
	default: // a PONG too when the server heartbeat is off: it answers nothing
		if !s.cfg.Quiet {
			s.ev.Emit(s.since(), event.Data, fmt.Sprintf("%s%v frame received%s", c.tag(), typ, ignored(typ)),
				c.fields(event.F("type", uint32(typ)), event.F("name", typ.String()))...)
		}
		if c.m != nil {
			c.m.Frame(now)
		}
	}
}

// ping handles a PING: it is reported, checked against the rate, then
// answered now (SLEEP 0, nothing waiting) or in its turn.
func (c *conn) ping(f *msg.Frame, now time.Time) {
	s := c.s
	if c.m != nil {
		c.m.Frame(now)
	}
	p := pingInfo{at: now}
	if !s.cfg.Quiet {
		if st, ok := msg.ReadStamp(f); ok {
			p.seq, p.stamped = st.Seq, true
		}
		s.ev.Emit(s.since(), event.Ping, c.tag()+p.label()+" received", c.pingFields(&p)...)
	}
	if !c.rateKept(now) {
		return
	}
	if c.faulted && s.cfg.Fault == Mute {
		c.muted(&p)
		return
	}
	if s.cfg.Sleep == 0 && c.queue == nil && c.out == nil {
		f.SetType(msg.Pong) // the data stays: the PONG echoes the PING
		c.send(f[:], now)
		c.answered(&p, now)
		return
	}
	// The C server's recv, sleep, send: SLEEP after the PING arrived or
	// after the previous answer, whichever is later. (With SLEEP 0 a PING
	// waits here only behind output that waits.) read took no more PINGs
	// than there is room for.
	due := now.Add(s.cfg.Sleep)
	if c.queue == nil {
		c.queue = s.lendQueue()
	} else if last := c.queue.back().due; last.After(now) {
		due = last.Add(s.cfg.Sleep)
	}
	c.queue.push(p, due, f)
}

// rateKept applies --min-ping-interval to a PING that came at now: a PING
// ahead of the schedule is warned about with a Notice that names both
// rates and how many PINGs ahead the client is; PingStrikes ahead closes
// the connection. It reports whether the connection goes on.
func (c *conn) rateKept(now time.Time) bool {
	s := c.s
	allowed := s.cfg.MinPingInterval
	if allowed <= 0 {
		return true
	}
	ahead := c.rate.arrive(now, allowed)
	gap := now.Sub(c.lastPing)
	c.lastPing = now
	if ahead == 0 {
		return true
	}
	if ahead >= PingStrikes {
		// The reason is said once: the Notice begins with it, the closed
		// line gives it apart from the detail.
		detail := fmt.Sprintf("%d PINGs ahead of the rate, the last %s; --min-ping-interval allows one per %s",
			ahead, pace(gap), allowed)
		c.notify(msg.Closing, string(PingFlood)+": "+detail, now, true)
		c.linger(PingFlood, detail, now)
		return false
	}
	// A warning is a per-frame event, which the client controls: --quiet
	// leaves it out of the timeline (the client still gets it).
	c.notify(msg.Warning, fmt.Sprintf("too many pings: %s ahead of the rate, this one %s; --min-ping-interval allows one per %s; %d ahead closes the connection",
		plural.Count(ahead, "PING"), pace(gap), allowed, PingStrikes), now, !s.cfg.Quiet)
	return c.state == serving
}

// pace says how soon a PING came after the one before, gap. PINGs that
// arrive in one read share its time, so a gap of zero says that, not a
// rate it cannot know.
func pace(gap time.Duration) string {
	if gap <= 0 {
		return "in the same read as the one before"
	}
	gap = max(gap.Round(time.Microsecond), time.Microsecond)
	return fmt.Sprintf("%s after the one before, about %.0f/s", gap, float64(time.Second)/float64(gap))
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

// muted reports a PING left unanswered by --fault mute.
func (c *conn) muted(p *pingInfo) {
	s := c.s
	if !s.cfg.Quiet {
		s.ev.Emit(s.since(), event.Note, c.tag()+p.label()+" not answered (--fault mute)", append(c.pingFields(p), event.F("note", "muted"))...)
	}
}

// answered reports a PONG sent.
func (c *conn) answered(p *pingInfo, now time.Time) {
	s := c.s
	if s.cfg.Quiet || c.state == closed {
		return
	}
	held := now.Sub(p.at)
	s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG sent for %s, %s after the PING arrived", c.tag(), p.label(), held.Round(time.Microsecond)),
		append(c.pingFields(p), event.Secs("held_s", held))...)
}

// pong hands a client's PONG to the server's heartbeat.
func (c *conn) pong(now time.Time) {
	s := c.s
	a := c.m.Pong(now)
	if s.cfg.Quiet {
		return
	}
	fs := c.fields(event.F("seq", a.Seq), event.Secs("rtt_s", a.RTT), event.F("received", true))
	if a.Late || a.Seq == 0 {
		s.ev.Emit(s.since(), event.LatePong, fmt.Sprintf("%slate PONG #%d from the client, RTT %s", c.tag(), a.Seq, a.RTT.Round(time.Microsecond)), fs...)
	} else {
		s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG #%d from the client, RTT %s", c.tag(), a.Seq, a.RTT.Round(time.Microsecond)), fs...)
	}
}

// send writes b, or keeps what the socket does not take for later.
func (c *conn) send(b []byte, now time.Time) {
	if c.state == closed || c.state == frozen {
		return
	}
	if c.out != nil {
		if len(c.out)+len(b) > maxOut {
			c.finish(WriteStalled, fmt.Sprintf("%d bytes wait to be sent, more than the %d a connection may hold", len(c.out)+len(b), maxOut))
			return
		}
		c.out = append(c.out, b...)
		return
	}
	n, err := unix.Write(c.fd, b)
	if err == unix.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		c.fail(err)
		return
	}
	if n < len(b) {
		c.out = append([]byte(nil), b[n:]...)
		c.outBy = now.Add(c.s.cfg.WriteTimeout)
		c.watch()
	}
}

// flush writes the output that waits, when the socket takes it.
func (c *conn) flush(now time.Time) {
	n, err := unix.Write(c.fd, c.out)
	if err == unix.EAGAIN {
		return
	}
	if err != nil {
		c.fail(err)
		return
	}
	if n < len(c.out) {
		c.out = c.out[n:]
		c.outBy = now.Add(c.s.cfg.WriteTimeout)
		return
	}
	c.out, c.outBy = nil, time.Time{}
	if c.shutWant {
		c.shutWant = false
		unix.Shutdown(c.fd, unix.SHUT_WR)
	}
	c.answerDue(now) // the PONGs that waited behind the output
	c.watch()
}

// notify sends the client a Notice and, when log is set, logs it.
func (c *conn) notify(sev msg.Severity, text string, now time.Time, log bool) {
	var f msg.Frame
	msg.PutNotice(&f, sev, text)
	c.send(f[:], now)
	if log {
		c.s.ev.Emit(c.s.since(), event.Note, c.tag()+"told the client: "+text,
			c.fields(event.F("note", "notice"), event.F("severity", int(sev)), event.F("text", text))...)
	}
}

// linger ends a connection that the server gives up on with a FIN, without
// making the client lose the Notice just sent, if any: closing with unread
// bytes would send a RST, which can overtake the Notice. So it sends FIN
// once the output is out, then reads and drops what the client still
// sends, until the client closes or lingerFor passes.
func (c *conn) linger(reason Reason, detail string, now time.Time) {
	if c.state == closed {
		return
	}
	c.state, c.reason, c.detail = lingering, reason, detail
	c.s.leaving.push(c)
	c.lingerBy = now.Add(lingerFor)
	c.dropQueue()
	c.m = nil
	c.frameBy = time.Time{}
	if c.out != nil {
		c.shutWant = true
	} else {
		unix.Shutdown(c.fd, unix.SHUT_WR)
	}
	c.watch()
}

// drain reads and drops what a lingering client sends; its close ends it.
func (c *conn) drain() {
	n, err := unix.Read(c.fd, c.s.rbuf)
	if n == 0 || (err != nil && err != unix.EAGAIN && err != unix.EINTR) {
		c.finish(c.reason, c.detail)
	}
}

// fail ends the connection for a failed read or write.
func (c *conn) fail(err error) {
	if c.state == lingering {
		c.finish(c.reason, c.detail)
		return
	}
	reason, detail := c.s.classify(err)
	c.finish(reason, detail)
}

// nextDeadline is the conn's earliest deadline; zero when none is set.
func (c *conn) nextDeadline() time.Time {
	var at time.Time
	sooner := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	switch c.state {
	case lingering:
		return c.lingerBy
	case frozen, closed:
		return time.Time{}
	}
	sooner(c.frameBy)
	sooner(c.outBy)
	sooner(c.faultAt)
	if c.queue != nil && c.out == nil { // behind output, PONGs wait for it
		sooner(c.queue.front().due)
	}
	if c.m != nil {
		sooner(c.m.Deadline())
	}
	return at
}

// expire does what is due at now.
func (c *conn) expire(now time.Time) {
	s := c.s
	if c.state == lingering {
		if !now.Before(c.lingerBy) {
			c.finish(c.reason, c.detail)
		}
		return
	}
	if c.state != serving && c.state != closing {
		return
	}
	switch {
	case !c.frameBy.IsZero() && !now.Before(c.frameBy):
		c.finish(FrameTimeout, fmt.Sprintf("frame not finished in time: %d of %d bytes in %s (--frame-timeout)", c.in.Len(), msg.FrameSize, s.cfg.FrameTimeout))
		return
	case !c.outBy.IsZero() && !now.Before(c.outBy):
		c.finish(WriteStalled, fmt.Sprintf("a write waited %s", s.cfg.WriteTimeout))
		return
	}
	if !c.faultAt.IsZero() && !now.Before(c.faultAt) {
		c.faultAt = time.Time{}
		c.fault(now)
		if c.state != serving {
			return
		}
	}
	c.answerDue(now)
	if c.m != nil && c.state == serving {
		c.tick(now)
	}
	c.watch()
}

// peerClosed handles the peer's FIN. Inside a frame it ends the
// connection ("peer closed mid-frame"). With nothing queued the connection
// ends now. Otherwise it is closing: the FIN may be a half-close (shutdown
// of the peer's sending side), and a half-closed peer still reads, so the
// PINGs queued are answered in their turn, as the C server would, and the
// connection ends after the last ("peer closed"). A FIN looks the same
// whether the peer has gone or only stopped sending; one that has gone
// answers the first PONG with a RST, which ends the connection ("reset by
// peer"). So a closing connection stays at most maxQueued x SLEEP after
// the FIN (a gone peer's at most SLEEP), plus WriteTimeout when its
// output waits; it reads nothing more and is on its way out, so a
// newcomer may take its place (see Config.MaxConns): clients that have gone never
// fill MaxConns.
func (c *conn) peerClosed(now time.Time) {
	if n := c.in.Len(); n > 0 {
		c.finish(MidFrame, fmt.Sprintf("%s (%d of %d bytes)", strings.TrimPrefix(msg.ErrShortFrame.Error(), "msg: "), n, msg.FrameSize))
		return
	}
	if c.queue == nil && c.out == nil {
		c.finish(PeerClosed, "")
		return
	}
	c.state = closing
	c.s.leaving.push(c)
	c.m, c.faultAt, c.frameBy = nil, time.Time{}, time.Time{} // the peer sends nothing more
	c.answerDue(now)
	c.watch()
}

// dropQueue gives the connection's queue back, with what is in it.
func (c *conn) dropQueue() {
	c.s.returnQueue(c.queue)
	c.queue = nil
}

// answerDue sends the PONGs whose SLEEP is over, in order, unless output
// waits. Each PING leaves the queue before its PONG is sent: a send that
// fails finishes the connection, which drops the queue, and nothing may
// touch a finished connection's state. A closing connection ends once its
// last PONG is out.
func (c *conn) answerDue(now time.Time) {
	s := c.s
	for (c.state == serving || c.state == closing) && c.out == nil && c.queue != nil && !c.queue.front().due.After(now) {
		q := c.queue.front()
		c.queue.pop()
		p := q.pingInfo
		if c.faulted && s.cfg.Fault == Mute {
			c.muted(&p)
		} else {
			q.f.SetType(msg.Pong)
			c.send(q.f[:], now) // q stays valid: nothing is pushed meanwhile
			c.answered(&p, now)
		}
		if c.queue != nil && c.queue.n == 0 {
			c.dropQueue()
		}
	}
	if c.state == closing && c.queue == nil && c.out == nil {
		c.discard()
		c.finish(PeerClosed, "")
	}
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

// tick runs the server's heartbeat: PINGs due, probes missed, the verdict.
func (c *conn) tick(now time.Time) {
	s := c.s
	cfg := s.cfg.Probe
	for st := c.m.Tick(now); st.Action != probe.Wait; st = c.m.Tick(now) {
		if st.Missed > 0 {
			s.ev.Emit(s.since(), event.Missed, fmt.Sprintf("%sprobe %d/%d of the client missed", c.tag(), st.Missed, cfg.Probes),
				c.fields(event.F("missed", st.Missed), event.F("probes", cfg.Probes))...)
		}
		if st.Action == probe.Dead {
			pred := cfg.DeadAfter()
			s.ev.Emit(s.since(), event.Dead,
				fmt.Sprintf("%sDEAD (heartbeat): client reaped, %s unanswered; observed %.3fs, predicted %.3fs",
					c.tag(), plural.Count(cfg.Probes, "probe"), st.Silence.Seconds(), pred.Seconds()),
				c.fields(event.F("cause", "heartbeat"), event.Secs("observed_s", st.Silence), event.Secs("predicted_s", pred))...)
			c.finish(HeartbeatDead, plural.Count(cfg.Probes, "probe")+" unanswered")
			return
		}
		var ping msg.Frame
		ping.SetType(msg.Ping)
		msg.Stamp{Seq: st.Seq, Sent: now}.Put(&ping)
		c.send(ping[:], now)
		if c.state != serving {
			return
		}
		if s.cfg.Quiet {
			continue
		}
		s.ev.Emit(s.since(), event.Ping, fmt.Sprintf("%sPING #%d sent to the client", c.tag(), st.Seq),
			c.fields(event.F("seq", st.Seq), event.F("sent", true))...)
	}
}

// fault makes the connection misbehave as --fault says.
func (c *conn) fault(now time.Time) {
	s := c.s
	c.faulted = true
	s.ev.Emit(s.since(), event.Note, fmt.Sprintf("%sfault: %s, from now on", c.tag(), s.cfg.Fault),
		c.fields(event.F("note", "fault"), event.F("fault", string(s.cfg.Fault)))...)
	switch s.cfg.Fault {
	case Freeze:
		// A hung process: nothing read, nothing written; the kernel still
		// ACKs until the receive buffer fills.
		s.p.Remove(c.fd)
		c.state, c.interest = frozen, 0
		c.dropQueue()
		c.m, c.frameBy, c.outBy = nil, time.Time{}, time.Time{}
	case ResetConn:
		c.finish(FaultReset, "")
	case CloseConn:
		// A FIN, then what the client still sends is drained: closing
		// with its PINGs unread would send a RST instead.
		c.linger(FaultClose, "", now)
	}
}

// finish closes the connection and reports why.
func (c *conn) finish(reason Reason, detail string) {
	s := c.s
	if c.state == closed {
		return
	}
	if reason == FaultReset {
		// SO_LINGER 0: close sends a RST.
		unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	unix.Close(c.fd) // which takes it out of the epoll set
	s.conns[c.fd] = nil
	s.timers.Set(c, time.Time{})
	c.in.Release(&s.frames)
	c.dropQueue()
	c.state, c.out, c.m = closed, nil, nil
	s.counts[reason]++
	s.open.Add(-1)
	s.leaving.remove(c)
	text := c.tag() + "closed: " + string(reason)
	if detail != "" {
		text += " (" + detail + ")"
	}
	s.ev.Emit(s.since(), event.Closed, text, c.fields(event.F("reason", string(reason)))...)
}
