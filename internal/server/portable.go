//go:build !linux || portable

// This file is the portable backend, hbserver's on every OS but Linux
// (and on Linux with the build tag portable): one goroutine accepts, and
// each connection has a goroutine that reads it, one that writes it and a
// Go timer for its deadlines. They share one mutex, under which every
// connection's policy (policy.go) runs, as the epoll loop's single
// goroutine runs it on Linux: the rules are the same, only the I/O
// differs. Reads and writes happen outside the mutex, so a peer that does
// not read holds up only its own writer.

package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
)

// serve is Serve with a goroutine per connection.
func serve(ctx context.Context, tl *net.TCPListener, cfg Config) error {
	s := &srv{cfg: cfg, ev: cfg.Events, start: time.Now(), counts: map[ending.Reason]int{}, conns: map[*conn]struct{}{}}
	s.listening(tl.Addr())
	s.warnKernel(tl.Addr())
	stop := context.AfterFunc(ctx, func() { tl.Close() })
	defer stop()
	var wg sync.WaitGroup
	if cfg.StatsEvery > 0 {
		wg.Go(func() { s.stats(ctx) })
	}
	err := s.accept(ctx, tl, &wg)
	s.closeAll()
	wg.Wait() // every connection's reader and writer
	s.report()
	return err
}

// errWarned stops the dial of warnKernel before it connects.
var errWarned = errors.New("server: warned")

// warnKernel warns, once, of kernel options that combine in a way that
// surprises (see warnOn), reading them back from a socket that is never
// connected, so that the kernel's defaults for what was not given count:
// package net makes one for a dial, which stops before connecting.
func (s *srv) warnKernel(addr net.Addr) {
	if !s.cfg.KeepAlive.Enable || s.cfg.UserTimeout == 0 {
		return
	}
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		s.warnOn(rawConn{rc})
		return errWarned
	}}
	d.Dial(addr.Network(), addr.String())
}

// rawConn lets package sockopt work on a socket package net is making.
type rawConn struct{ rc syscall.RawConn }

func (c rawConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// srv is the server's state, guarded by mu, except open, which the stats
// goroutine reads.
type srv struct {
	mu    sync.Mutex
	cfg   Config
	ev    *event.Writer
	start time.Time

	conns map[*conn]struct{}
	// open is how many connections hold a socket, whatever their state:
	// what MaxConns bounds.
	open    atomic.Int64
	leaving connList // the connections on their way out, oldest first
	stalled connList // the serving connections whose PING queue is full, oldest first
	nextID  uint64
	counts  map[ending.Reason]int
	// fx is what a conn's policy asks for, done before mu is let go; it
	// also keeps the spare PING queues.
	fx      effects
	backoff time.Duration
}

// accept accepts connections until ln is closed (ctx ended) or accepting
// fails for good.
func (s *srv) accept(ctx context.Context, ln *net.TCPListener, wg *sync.WaitGroup) error {
	for {
		nc, err := ln.AcceptTCP()
		switch {
		case ctx.Err() != nil:
			if nc != nil {
				nc.Close()
			}
			return nil
		case err != nil && outOfResources(err):
			s.mu.Lock()
			wait := s.backOff(err)
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			continue
		case err != nil:
			return fmt.Errorf("accept: %w", err)
		}
		s.mu.Lock()
		s.backoff = 0
		s.adopt(nc, wg, time.Now())
		s.mu.Unlock()
	}
}

// conn is one client's connection: its policy, and the I/O of it by a
// reader and a writer goroutine that wait on cond for the policy's word.
type conn struct {
	policy
	s    *srv
	nc   *net.TCPConn
	id   uint64
	peer string
	// list is the list of connections a newcomer may end that the conn
	// is on (the server's leaving or stalled), nil when none; listPrev
	// and listNext are its place there.
	list               *connList
	listPrev, listNext *conn
	// cond wakes the reader and the writer when the policy may have
	// changed its mind: it waits on s.mu.
	cond  *sync.Cond
	timer *time.Timer // at the policy's next deadline; nil until one is set

	// out is the output the writer has not taken yet; inflight is how
	// many bytes it is writing now, outside the mutex; spare is the
	// buffer it wrote last, for reuse.
	out      []byte
	spare    []byte
	inflight int
	shutWant bool // send a FIN once the output is out (lingering)
	// reading is set while the reader is in a Read, outside the mutex:
	// discard must not read then (it would wait for that Read to end).
	reading bool
	// closeLater says the connection has ended with output still waiting
	// (a closing Notice, say): the writer sends it, then closes.
	closeLater bool
}

// adopt starts serving an accepted connection at now.
func (s *srv) adopt(nc *net.TCPConn, wg *sync.WaitGroup, now time.Time) {
	s.nextID++
	c := &conn{policy: policy{cfg: &s.cfg}, s: s, nc: nc, id: s.nextID, peer: nc.RemoteAddr().String()}
	c.cond = sync.NewCond(&s.mu)
	// The kernel's buffers capped, as on the event loop (see sockBuf): a
	// client that never reads holds kilobytes of them, not megabytes.
	nc.SetReadBuffer(sockBuf)
	nc.SetWriteBuffer(sockBuf)
	s.conns[c] = struct{}{}
	s.open.Add(1)
	wg.Go(c.readLoop)
	wg.Go(c.writeLoop)
	if s.makeRoom(c, now) {
		s.greet(c, nc, now)
	}
	c.watch()
}

// readLoop reads the connection while its policy takes frames, one frame
// at a time, so that it never holds more than the policy has room for;
// lingering, it reads and drops until the peer closes.
func (c *conn) readLoop() {
	s := c.s
	var f msg.Frame
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for c.state == closing || c.state == frozen || (c.state == serving && !c.reads()) {
			c.cond.Wait()
		}
		if c.state == closed {
			return
		}
		had := c.held
		buf := f[had:]
		if c.state == lingering {
			buf = f[:]
		}
		c.reading = true
		s.mu.Unlock()
		n, err := c.nc.Read(buf)
		s.mu.Lock()
		c.reading = false
		now := time.Now()
		switch {
		case c.state == closed:
			return
		case c.state == lingering:
			if err != nil {
				c.drained(&s.fx)
				c.apply(now)
			}
		case c.state != serving:
			// Frozen or closing while the read was under way: what came
			// is dropped, as it would not have been read.
		case errors.Is(err, io.EOF):
			c.peerClosed(&s.fx, now) // mid-frame when part of one came
			c.apply(now)
		case err != nil:
			c.fail(err, now)
		case had+n == msg.FrameSize:
			c.partial(0, false, now)
			c.frame(&s.fx, &f, now)
			c.apply(now)
		default:
			c.partial(had+n, had == 0, now)
			c.watch()
		}
	}
}

// writeLoop writes the output the policy asked for and tells it what came
// of each write.
func (c *conn) writeLoop() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for c.state != closed && (len(c.out) == 0 || c.state == frozen) {
			c.cond.Wait()
		}
		if c.state == closed {
			c.closeWhenSent()
			return
		}
		b := c.out
		c.out, c.inflight = c.spare[:0], len(b)
		s.mu.Unlock()
		_, err := c.nc.Write(b)
		s.mu.Lock()
		c.spare, c.inflight = b[:0], 0
		if c.state == closed {
			c.closeWhenSent()
			return
		}
		now := time.Now()
		if err != nil {
			c.fail(err, now)
			continue
		}
		if len(c.out) == 0 && c.shutWant {
			c.shutWant = false
			c.nc.CloseWrite()
		}
		c.sent(&s.fx, len(c.out), false, true, now) // the PONGs that waited behind the output
		c.apply(now)
	}
}

// send hands b to the writer and tells the policy: it waits until the
// writer has written it.
func (c *conn) send(b []byte, now time.Time, _ int) {
	begins := len(c.out) == 0 && c.inflight == 0
	c.out = append(c.out, b...)
	c.sent(&c.s.fx, len(c.out)+c.inflight, true, begins, now)
}

// shutWrite sends a FIN once the output that waits is out.
func (c *conn) shutWrite() {
	if len(c.out) > 0 || c.inflight > 0 {
		c.shutWant = true
	} else {
		c.nc.CloseWrite()
	}
}

// stopIO stops reading and writing the connection: the reader and the
// writer see it frozen and wait.
func (c *conn) stopIO() {}

// watch wakes the reader and the writer to the policy's new state and
// sets the timer at its next deadline.
func (c *conn) watch() {
	if c.state == serving {
		c.markStalled()
	}
	c.cond.Broadcast()
	at := c.deadline()
	switch {
	case c.state == closed || at.IsZero():
		if c.timer != nil {
			c.timer.Stop()
		}
	case c.timer == nil:
		c.timer = time.AfterFunc(time.Until(at), c.expire)
	default:
		c.timer.Reset(time.Until(at))
	}
}

// expire does what is due now; a timer that fires early does nothing.
func (c *conn) expire() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.state == closed {
		return
	}
	now := time.Now()
	c.policy.expire(&s.fx, now)
	c.apply(now)
}

// discard reads and drops, up to a bound, what the peer sent that was
// never read, so that closing sends a FIN: closing with bytes unread sends
// a RST, which can destroy the PONGs still on their way. The reader is
// waiting then (the policy does not take frames), so nothing else reads.
func (c *conn) discard() {
	if c.reading {
		return // a Read is under way (a lingering conn's reader drains too)
	}
	discardUnread(c.nc)
}

// finish closes the connection and reports why. Output that still waits
// (a closing Notice the writer has not sent yet) goes first, as on the
// event loop, which has written it by now: the writer sends it and
// closes, within lingerFor.
func (c *conn) finish(reason ending.Reason, detail string) {
	switch {
	case reason == ending.FaultReset:
		c.nc.SetLinger(0) // close sends a RST
		c.nc.Close()
	case len(c.out) > 0 || c.inflight > 0:
		c.closeLater = true
		c.nc.SetWriteDeadline(time.Now().Add(lingerFor))
	default:
		c.nc.Close() // which ends a read under way
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	delete(c.s.conns, c)
	c.s.closed(c, reason, detail)
	c.cond.Broadcast()
}

// closeWhenSent, in the writer, sends what waits of an ended connection
// and closes it, when finish left that to it. It is called with s.mu held
// and returns with it held.
func (c *conn) closeWhenSent() {
	if !c.closeLater {
		return
	}
	c.closeLater = false
	b := c.out
	c.out = nil
	c.s.mu.Unlock()
	if len(b) > 0 {
		c.nc.Write(b)
	}
	c.nc.Close()
	c.s.mu.Lock()
}

// closeAll ends every connection still open, at shutdown.
func (s *srv) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for c := range s.conns {
		c.shutdown(&s.fx)
		c.apply(now)
	}
}
