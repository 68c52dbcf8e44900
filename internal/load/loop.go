//go:build linux && !portable

package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/deadline"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/peer"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// openBatch is how many connections one pass of the loop opens at most
// when they are due together (--rate 0), so that the connections already
// open are served between batches.
const openBatch = 64

// readFrames is how many frames' worth of bytes one read takes at most.
const readFrames = 16

// loop drives every connection of a run from one goroutine: one epoll set,
// one timerfd for every deadline (so a verdict is given to the microsecond,
// not the millisecond Go's timers keep), and nothing per connection but its
// descriptor, its probe machine and, while a frame is incomplete, a buffer.
type loop struct {
	cfg    Config
	sa     unix.Sockaddr
	domain int
	p      *poll.Poller
	tally  *tally
	start  time.Time

	conns  []*conn // by file descriptor
	due    deadline.Queue[*conn]
	opened int     // connections attempted so far
	active int     // connections connecting or up
	gone   []*conn // ended in this pass; closed before the next wait
	rbuf   []byte
	frames msg.Pool // lends the partial frames their buffers
	ping   msg.Frame
	// detect is every verdict's distance from its predicted instant.
	detect []time.Duration
}

// conn is one connection. A deadline that is zero is not set.
type conn struct {
	slot      deadline.Slot
	fd        int
	up        bool             // the handshake is done
	ended     bool             // given up on; closed at the end of the pass
	connectBy time.Time        // while !up: when the handshake must be done
	core      peer.Interpreter // its heartbeat (core.M) and what each frame means
	interest  uint32

	in  msg.Partial // a frame's first bytes, until the rest arrives
	out []byte      // the unsent rest of a frame; nil when all is sent
}

func (c *conn) DeadlineSlot() *deadline.Slot { return &c.slot }

// sockaddr is addr as the socket calls take it, and its address family.
func sockaddr(addr string) (unix.Sockaddr, int, error) {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	if ip4 := a.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: a.Port}
		copy(sa.Addr[:], ip4)
		return sa, unix.AF_INET, nil
	}
	sa := &unix.SockaddrInet6{Port: a.Port}
	copy(sa.Addr[:], a.IP.To16())
	if a.Zone != "" {
		ifi, err := net.InterfaceByName(a.Zone)
		if err != nil {
			return nil, 0, fmt.Errorf("address %s: %w", addr, err)
		}
		sa.ZoneId = uint32(ifi.Index)
	}
	return sa, unix.AF_INET6, nil
}

// drive starts the event loop on the connections of a run; done receives
// its error once it has stopped, and detect is then every verdict's
// distance from its predicted instant.
func drive(ctx context.Context, cfg Config, t *tally, start time.Time) (done <-chan error, detect func() []time.Duration, err error) {
	sa, domain, err := sockaddr(cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	p, err := poll.New()
	if err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	l := &loop{cfg: cfg, sa: sa, domain: domain, p: p, tally: t, start: start,
		rbuf: make([]byte, readFrames*msg.FrameSize)}
	l.ping.SetType(msg.Ping)
	woken := make(chan struct{})
	stopWake := context.AfterFunc(ctx, func() { p.Wake(); close(woken) })
	loopDone := make(chan error, 1)
	go func() {
		err := l.run(func() bool { return ctx.Err() != nil })
		if !stopWake() && ctx.Err() != nil {
			<-woken // the wake-up is under way; p stays open until it is done
		}
		p.Close()
		loopDone <- err
	}()
	return loopDone, func() []time.Duration { return l.detect }, nil
}

// run drives the connections until stop reports true after a wake-up, or
// until every connection has been opened and has ended.
func (l *loop) run(stop func() bool) error {
	for {
		l.open(time.Now())
		l.closeGone()
		if stop() || (l.opened == l.cfg.Conns && l.active == 0) {
			l.closeAll()
			return nil
		}
		if err := l.p.SetTimer(l.nextWake()); err != nil {
			l.closeAll()
			return fmt.Errorf("load: timer: %w", err)
		}
		ready, _, _, err := l.p.Wait()
		if err != nil {
			l.closeAll()
			return fmt.Errorf("load: epoll: %w", err)
		}
		for _, r := range ready {
			if r.FD < len(l.conns) && l.conns[r.FD] != nil {
				l.ready(l.conns[r.FD], r.Events)
			}
		}
		l.expire()
	}
}

// nextWake is the earliest deadline of any connection, or now when more
// connections are due to open.
func (l *loop) nextWake() time.Time {
	at := l.due.Next()
	if l.opened < l.cfg.Conns {
		open := l.cfg.openAt(l.start, l.opened)
		if at.IsZero() || open.Before(at) {
			at = open
		}
	}
	return at
}

// open starts the handshakes that are due.
func (l *loop) open(now time.Time) {
	for n := 0; n < openBatch && l.opened < l.cfg.Conns && !now.Before(l.cfg.openAt(l.start, l.opened)); n++ {
		l.opened++
		l.dial(now)
	}
}

// dial starts one non-blocking handshake.
func (l *loop) dial(now time.Time) {
	fd, err := unix.Socket(l.domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.tally.connectError(fmt.Errorf("socket: %w", err))
		return
	}
	// As Go's net package does: a frame leaves as soon as it is written.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	c := &conn{fd: fd}
	l.active++
	for fd >= len(l.conns) {
		l.conns = append(l.conns, nil)
	}
	l.conns[fd] = c
	err = unix.Connect(fd, l.sa)
	switch {
	case err == nil:
		l.connected(c, now)
	case err == unix.EINPROGRESS:
		if l.cfg.ConnectTimeout > 0 {
			c.connectBy = now.Add(l.cfg.ConnectTimeout)
		}
		l.watch(c, poll.Out)
		l.schedule(c)
	default:
		l.connectFailed(c, err)
	}
}

func (l *loop) connectFailed(c *conn, err error) { l.fail(c, fmt.Errorf("connect: %w", err)) }

// connected starts the heartbeat on c, from now.
func (l *loop) connected(c *conn, now time.Time) {
	c.up = true
	c.connectBy = time.Time{}
	c.core = peer.Interpreter{M: probe.New(l.cfg.Probe, now)}
	l.tally.connected()
	l.watch(c, poll.In)
	l.schedule(c)
}

// watch sets what the poller watches c for.
func (l *loop) watch(c *conn, want uint32) {
	if want == c.interest {
		return
	}
	var err error
	if c.interest == 0 {
		err = l.p.Add(c.fd, want)
	} else {
		err = l.p.Modify(c.fd, want)
	}
	if err != nil {
		l.fail(c, err)
		return
	}
	c.interest = want
}

// schedule keeps c's place in the deadlines.
func (l *loop) schedule(c *conn) {
	var at time.Time
	switch {
	case c.ended:
	case !c.up:
		at = c.connectBy
	default:
		at = c.core.M.Deadline()
	}
	l.due.Set(c, at)
}

// ready handles what epoll reported for c.
func (l *loop) ready(c *conn, events uint32) {
	if c.ended {
		return
	}
	if !c.up {
		n, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			l.connectFailed(c, err)
		case n == int(unix.ECONNRESET):
			// A reset answers only an established connection (a refused
			// handshake is ECONNREFUSED): it was up, and has failed.
			l.connected(c, time.Now())
			l.fail(c, unix.ECONNRESET)
		case n != 0:
			l.connectFailed(c, unix.Errno(n))
		case events&poll.Out != 0:
			l.connected(c, time.Now())
		default:
			l.connectFailed(c, errors.New("connection hung up"))
		}
		return
	}
	if events&poll.Out != 0 && c.out != nil {
		l.flush(c)
	}
	if !c.ended && events&(poll.In|poll.Err|poll.Hup) != 0 {
		l.read(c)
	}
	l.schedule(c)
}

// read takes what c's socket holds (a bounded amount) and handles every
// whole frame in it.
func (l *loop) read(c *conn) {
	buf := l.rbuf
	had := c.in.Unread(buf)
	n, err := unix.Read(c.fd, buf[had:])
	at := time.Now()
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		l.fail(c, err)
		return
	case n == 0:
		end := peer.PeerClosed
		if had > 0 {
			end = peer.MidFrame
		}
		l.ended(c, end, "")
		return
	}
	data := buf[:had+n]
	for len(data) >= msg.FrameSize && !c.ended {
		l.frame(c, (*msg.Frame)(data[:msg.FrameSize]), at)
		data = data[msg.FrameSize:]
	}
	if !c.ended {
		c.in.Keep(data, &l.frames)
	}
}

// frame handles one whole frame received at at: what it means is the
// client's meaning (peer.Interpreter), counted.
func (l *loop) frame(c *conn, f *msg.Frame, at time.Time) {
	mn := c.core.Frame(f, at)
	l.tally.frame(mn)
	switch {
	case mn.Ends:
		l.ended(c, mn.End, mn.Text)
	case mn.Reply:
		l.send(c, f[:])
	}
}

// send writes one frame. A frame the socket takes only in part is finished
// when the socket can take more; meanwhile, and while the socket takes
// nothing (the server has stopped reading), further frames are not sent:
// the heartbeat still counts its probes and gives its verdict on time.
// It reports whether the frame was sent, whole or in part.
func (l *loop) send(c *conn, b []byte) bool {
	if c.out != nil {
		return false
	}
	n, err := unix.Write(c.fd, b)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return false
	case err != nil:
		l.fail(c, err)
		return false
	case n < len(b):
		c.out = append([]byte(nil), b[n:]...)
		l.watch(c, poll.In|poll.Out)
	}
	return true
}

// flush writes what is left of a frame.
func (l *loop) flush(c *conn) {
	n, err := unix.Write(c.fd, c.out)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
	case err != nil:
		l.fail(c, err)
	case n < len(c.out):
		c.out = c.out[n:]
	default:
		c.out = nil
		l.watch(c, poll.In)
	}
}

// expire handles every deadline that has passed: verdicts first, each with
// its own reading of the clock, and every close after them.
func (l *loop) expire() {
	for {
		now := time.Now()
		c, ok := l.due.Due(now)
		switch {
		case !ok:
			return
		case !c.up:
			l.connectFailed(c, errors.New("i/o timeout"))
		default:
			l.tick(c, now)
		}
	}
}

// tick does what c's heartbeat asks for at now: PINGs or the verdict.
func (l *loop) tick(c *conn, now time.Time) {
	for st := c.core.M.Tick(now); st.Action != probe.Wait; st = c.core.M.Tick(now) {
		if st.Action == probe.Dead {
			end := peer.HeartbeatDead
			if neverAccepted(uintptr(c.fd)) {
				end = peer.NeverAccepted
			} else {
				l.detect = append(l.detect, st.Silence-l.cfg.Probe.DeadAfter())
			}
			l.ended(c, end, "")
			return
		}
		msg.Stamp{Seq: st.Seq, Sent: now}.Put(&l.ping)
		if l.send(c, l.ping[:]) {
			l.tally.pings.Add(1)
		} else if !c.ended {
			// Never sent, so never answered: the probe runs out on its
			// schedule, as in the single connection mode.
			c.core.M.Dropped(st.Seq)
		}
		if c.ended {
			return
		}
	}
	l.schedule(c)
}

// fail ends c on an error: a connect error before the handshake is done,
// a failure after.
func (l *loop) fail(c *conn, err error) {
	if c.ended {
		return
	}
	if !c.up {
		l.tally.connectError(err)
		l.end(c)
		return
	}
	l.ended(c, peer.Failed, "")
}

// ended counts how c, which was up, ended, and takes it out of the loop.
func (l *loop) ended(c *conn, end peer.End, reason string) {
	if !c.ended {
		l.tally.ended(end, reason)
	}
	l.end(c)
}

// end takes c out of the loop; its descriptor is closed at the end of the
// pass, after every verdict due in it.
func (l *loop) end(c *conn) {
	if c.ended {
		return
	}
	c.ended = true
	l.active--
	l.due.Set(c, time.Time{})
	c.in.Release(&l.frames)
	l.gone = append(l.gone, c)
}

// closeGone closes the descriptors of the connections that ended.
func (l *loop) closeGone() {
	for i, c := range l.gone {
		l.conns[c.fd] = nil
		unix.Close(c.fd)
		l.gone[i] = nil
	}
	l.gone = l.gone[:0]
}

// closeAll closes every descriptor; connections still up stay counted
// alive.
func (l *loop) closeAll() {
	l.closeGone()
	for fd, c := range l.conns {
		if c != nil {
			unix.Close(fd)
			l.conns[fd] = nil
		}
	}
}
