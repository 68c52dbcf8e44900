//go:build linux && !portable

package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/evloop"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/peer"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// openBatch is how many connections one pass of the loop opens at most
// when they are due together (--rate 0), so that the connections already
// open are served between batches.
const openBatch = 64

// loop drives every connection of a run from one goroutine, on the event
// loop (package evloop): one timerfd for every deadline (so a verdict is
// given to the microsecond, not the millisecond Go's timers keep), and
// nothing per connection but its descriptor, its probe machine and, while
// a frame is incomplete, a buffer.
type loop struct {
	cfg   Config
	addr  evloop.Addr
	ev    *evloop.Loop
	tally *tally
	start time.Time

	opened int     // connections attempted so far
	active int     // connections connecting or up
	gone   []*conn // ended in this pass; closed before the next wait
	ping   msg.Frame
	// detect is every verdict's distance from its predicted instant.
	detect []time.Duration
}

// conn is one connection. A deadline that is zero is not set.
type conn struct {
	l         *loop
	io        *evloop.Conn
	up        bool             // the handshake is done
	ended     bool             // given up on; closed at the end of the pass
	connectBy time.Time        // while !up: when the handshake must be done
	core      peer.Interpreter // its heartbeat (core.M) and what each frame means
}

// drive starts the event loop on the connections of a run; done receives
// its error once it has stopped, and detect is then every verdict's
// distance from its predicted instant.
func drive(ctx context.Context, cfg Config, t *tally, start time.Time) (done <-chan error, detect func() []time.Duration, err error) {
	addr, err := evloop.Resolve(cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	p, err := evloop.New()
	if err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	l := &loop{cfg: cfg, addr: addr, ev: p, tally: t, start: start}
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
		if err := l.ev.SetTimer(l.nextOpen()); err != nil {
			l.closeAll()
			return fmt.Errorf("load: timer: %w", err)
		}
		if _, err := l.ev.Wait(); err != nil {
			l.closeAll()
			return fmt.Errorf("load: epoll: %w", err)
		}
		l.ev.Dispatch(time.Time{}) // each conn reads the clock itself
		l.ev.Expire()
	}
}

// nextOpen is when the next connection is due to open; zero when all
// have been.
func (l *loop) nextOpen() time.Time {
	if l.opened < l.cfg.Conns {
		return l.cfg.openAt(l.start, l.opened)
	}
	return time.Time{}
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
	c := &conn{l: l}
	io, err := l.ev.Dial(l.addr, c)
	if io == nil {
		l.tally.connectError(err)
		return
	}
	c.io = io
	l.active++
	switch {
	case err == nil:
		l.connected(c, now)
	case err == evloop.ErrInProgress:
		if l.cfg.ConnectTimeout > 0 {
			c.connectBy = now.Add(l.cfg.ConnectTimeout)
		}
		l.watch(c, evloop.Out)
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
	l.watch(c, evloop.In)
	l.schedule(c)
}

// watch sets what the poller watches c for.
func (l *loop) watch(c *conn, want uint32) {
	if err := c.io.Watch(want); err != nil {
		l.fail(c, err)
	}
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
	c.io.SetDeadline(at)
}

// Ready handles what epoll reported for c; it reads the clock itself.
func (c *conn) Ready(events uint32, _ time.Time) {
	l := c.l
	if c.ended {
		return
	}
	if !c.up {
		switch err := c.io.SocketError(); {
		case err == evloop.ErrReset:
			// A reset answers only an established connection (a refused
			// handshake is ECONNREFUSED): it was up, and has failed.
			l.connected(c, time.Now())
			l.fail(c, err)
		case err != nil:
			l.connectFailed(c, err)
		case events&evloop.Out != 0:
			l.connected(c, time.Now())
		default:
			l.connectFailed(c, errors.New("connection hung up"))
		}
		return
	}
	if events&evloop.Out != 0 && c.io.Waiting() {
		l.flush(c)
	}
	if !c.ended && events&(evloop.In|evloop.Err|evloop.Hup) != 0 {
		l.read(c)
	}
	l.schedule(c)
}

// read takes what c's socket holds (a bounded amount) and handles every
// whole frame in it.
func (l *loop) read(c *conn) {
	data, had, eof, err := c.io.Read(evloop.ReadFrames * msg.FrameSize)
	at := time.Now()
	switch {
	case err == evloop.ErrWouldBlock:
		return
	case err != nil:
		l.fail(c, err)
		return
	case eof:
		end := ending.PeerClosed
		if had > 0 {
			end = ending.MidFrame
		}
		l.ended(c, end, "")
		return
	}
	for len(data) >= msg.FrameSize && !c.ended {
		l.frame(c, (*msg.Frame)(data[:msg.FrameSize]), at)
		data = data[msg.FrameSize:]
	}
	if !c.ended {
		c.io.Keep(data)
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
	if c.io.Waiting() {
		return false
	}
	n, err := c.io.Write(b)
	switch {
	case err != nil:
		l.fail(c, err)
		return false
	case n == 0:
		return false
	case n < len(b):
		c.io.Hold(b[n:])
		l.watch(c, evloop.In|evloop.Out)
	}
	return true
}

// flush writes what is left of a frame.
func (l *loop) flush(c *conn) {
	_, err := c.io.Flush()
	switch {
	case err != nil:
		l.fail(c, err)
	case !c.io.Waiting():
		l.watch(c, evloop.In)
	}
}

// Due handles c's deadline at now (the loop reads the clock once per
// deadline): the handshake's, or the heartbeat's. Every close comes after
// the pass's verdicts.
func (c *conn) Due(now time.Time) {
	if !c.up {
		c.l.connectFailed(c, errors.New("i/o timeout"))
		return
	}
	c.l.tick(c, now)
}

// tick does what c's heartbeat asks for at now: PINGs or the verdict.
func (l *loop) tick(c *conn, now time.Time) {
	for st := c.core.M.Tick(now); st.Action != probe.Wait; st = c.core.M.Tick(now) {
		if st.Action == probe.Dead {
			end := ending.HeartbeatDead
			if neverAccepted(uintptr(c.io.FD())) {
				end = ending.NeverAccepted
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
	l.ended(c, ending.IOError, "")
}

// ended counts how c, which was up, ended, and takes it out of the loop.
func (l *loop) ended(c *conn, end ending.Reason, reason string) {
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
	c.io.SetDeadline(time.Time{})
	c.io.Release()
	l.gone = append(l.gone, c)
}

// closeGone closes the descriptors of the connections that ended.
func (l *loop) closeGone() {
	for i, c := range l.gone {
		c.io.Close(false)
		l.gone[i] = nil
	}
	l.gone = l.gone[:0]
}

// closeAll closes every descriptor; connections still up stay counted
// alive.
func (l *loop) closeAll() {
	l.closeGone()
	l.ev.CloseAll()
}
