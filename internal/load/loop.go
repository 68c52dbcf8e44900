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
	io        evloop.Conn // its descriptor, partial frame and output
	l         *loop
	i         int              // its number, from 0, in the order opened
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
		l.ev.Dispatch(time.Now())
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
		l.dial(now, l.opened-1)
	}
}

// dial starts one non-blocking handshake, connection number i.
func (l *loop) dial(now time.Time, i int) {
	c := &conn{l: l, i: i}
	err := l.ev.Dial(l.addr, &c.io, c)
	if errors.Is(err, evloop.ErrNoSocket) {
		l.tally.connectError(err)
		return
	}
	l.active++
	switch {
	case err == nil:
		c.connected(now)
	case err == evloop.ErrInProgress:
		if l.cfg.ConnectTimeout > 0 {
			c.connectBy = now.Add(l.cfg.ConnectTimeout)
			c.io.SetDeadline(c.connectBy)
		}
	default:
		c.fail(err)
	}
}

// connected starts the heartbeat on c, from now.
func (c *conn) connected(now time.Time) {
	c.up = true
	c.connectBy = time.Time{}
	c.core = peer.Interpreter{M: probe.New(c.l.cfg.probe(c.i), now)}
	c.l.tally.connected()
	if err := c.io.Receive(evloop.ReadFrames); err != nil {
		c.fail(err)
		return
	}
	c.io.SetDeadline(c.Deadline())
}

// Deadline is c's next deadline: the handshake's, or the heartbeat's.
func (c *conn) Deadline() time.Time {
	if !c.up {
		return c.connectBy
	}
	return c.core.M.Deadline()
}

// Writable is the handshake done; output that waited moving needs
// nothing more.
func (c *conn) Writable(now time.Time) {
	if !c.up {
		c.connected(now)
	}
}

// Failed ends c on an error. A reset before the handshake was seen done
// answers only an established connection (a refused handshake is
// ECONNREFUSED): it was up, and has failed.
func (c *conn) Failed(err error, now time.Time) {
	if !c.up && err == evloop.ErrReset {
		c.connected(now)
	}
	c.fail(err)
}

// Closed is the server's FIN.
func (c *conn) Closed(midFrame bool, _ time.Time) {
	end := ending.PeerClosed
	if midFrame {
		end = ending.MidFrame
	}
	c.finish(end, "")
}

// Held needs nothing: the load mode has no frame timeout.
func (c *conn) Held(int, bool, time.Time) {}

// Frame handles one whole frame: what it means is the client's meaning
// (peer.Interpreter), counted.
func (c *conn) Frame(f *msg.Frame, now time.Time) {
	mn := c.core.Frame(f, now)
	c.l.tally.frame(mn)
	switch {
	case mn.Ends:
		c.finish(mn.End, mn.Text)
	case mn.Reply:
		c.send(f[:])
	}
}

// send writes one frame. A frame the socket takes only in part is finished
// when the socket can take more; meanwhile, and while the socket takes
// nothing (the server has stopped reading), further frames are not sent:
// the heartbeat still counts its probes and gives its verdict on time.
// It reports whether the frame was sent, whole or in part.
func (c *conn) send(b []byte) bool {
	sent, err := c.io.Offer(b)
	if err != nil {
		c.fail(err)
	}
	return sent
}

// Due handles c's deadline at now (the loop reads the clock once per
// deadline): the handshake's, or the heartbeat's. Every close comes after
// the pass's verdicts.
func (c *conn) Due(now time.Time) {
	if !c.up {
		c.fail(errors.New("i/o timeout"))
		return
	}
	c.tick(now)
}

// tick does what c's heartbeat asks for at now: PINGs or the verdict.
func (c *conn) tick(now time.Time) {
	l := c.l
	for st := c.core.M.Tick(now); st.Action != probe.Wait; st = c.core.M.Tick(now) {
		if st.Action == probe.Dead {
			end := ending.HeartbeatDead
			if neverAccepted(uintptr(c.io.FD())) {
				end = ending.NeverAccepted
			} else {
				l.detect = append(l.detect, st.Silence-st.Due)
			}
			c.finish(end, "")
			return
		}
		msg.Stamp{Seq: st.Seq, Sent: now}.Put(&l.ping)
		if c.send(l.ping[:]) {
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
}

// fail ends c on an error: a connect error before the handshake is done,
// a failure after.
func (c *conn) fail(err error) {
	if c.ended {
		return
	}
	if !c.up {
		c.l.tally.connectError(fmt.Errorf("connect: %w", err))
		c.end()
		return
	}
	c.finish(ending.IOError, "")
}

// finish counts how c, which was up, ended, and takes it out of the loop.
func (c *conn) finish(end ending.Reason, reason string) {
	if !c.ended {
		c.l.tally.ended(end, reason)
	}
	c.end()
}

// end takes c out of the loop; its descriptor is closed at the end of the
// pass, after every verdict due in it.
func (c *conn) end() {
	if c.ended {
		return
	}
	c.ended = true
	c.l.active--
	c.io.Stop()
	c.l.gone = append(c.l.gone, c)
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
