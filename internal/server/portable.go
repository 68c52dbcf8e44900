//go:build !linux || portable

// This file is the portable backend, hbserver's on every OS but Linux
// (and on Linux with the build tag portable): one goroutine accepts, and
// each connection has a goroutine that reads it and a Go timer for its
// deadlines. They share one mutex, under which every connection's policy
// (policy.go) runs, as the epoll loop's single goroutine runs it on
// Linux: the rules are the same, only the I/O differs. A write is tried
// at once without waiting (on Unix); what the socket does not take goes
// to a writer goroutine that lives only while output waits, outside the
// mutex, so a peer that does not read holds up only its own writer.

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
	"github.com/heartbeat/heartbeat/internal/gate"
	"github.com/heartbeat/heartbeat/internal/msg"
)

// serve is Serve with a goroutine per connection.
func serve(ctx context.Context, tl *net.TCPListener, cfg Config) error {
	s := &srv{cfg: cfg, ev: cfg.Events, start: time.Now(), counts: map[ending.Reason]int{}, conns: map[*conn]struct{}{}}
	s.startLines(s.start)
	s.listening(tl.Addr())
	s.warnKernel(tl.Addr())
	stop := context.AfterFunc(ctx, func() { tl.Close() })
	defer stop()
	if cfg.StatsEvery > 0 {
		s.wg.Go(func() { s.stats(ctx) })
	}
	stopCommands := s.takeCommands(ctx, &s.wg)
	if s.lines.g != nil {
		s.wg.Go(func() { s.statusLoop(ctx) })
	}
	err := s.accept(ctx, tl)
	stopCommands()
	s.closeAll()
	s.wg.Wait() // every connection's reader and writer
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
	// wg counts the goroutines of the connections (readers, writers),
	// the stats' and the status lines'.
	wg sync.WaitGroup
	// lines is the gate on the per-connection lines; statusLoop ends its
	// windows.
	lines lines
}

// statusLoop ends the gate's window once a gate.Window until ctx ends.
func (s *srv) statusLoop(ctx context.Context) {
	t := time.NewTicker(gate.Window)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			s.statusTick(now)
			s.mu.Unlock()
		}
	}
}

// accept accepts connections until ln is closed (ctx ended) or accepting
// fails for good.
func (s *srv) accept(ctx context.Context, ln *net.TCPListener) error {
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
		s.adopt(nc, time.Now())
		s.mu.Unlock()
	}
}

// conn is one client's connection: its policy, and the I/O of it by a
// reader goroutine that waits on cond for the policy's word, and a writer
// goroutine while output waits.
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

	now nowWriter // writes what the socket takes without waiting

	// writing says a writer goroutine is running: output waits, in out
	// or, inflight bytes of it, in the writer's hands outside the mutex.
	// Output goes behind it, in order. Both are nil or zero otherwise.
	writing  bool
	out      []byte
	inflight int
	shutWant bool // send a FIN once the output is out (lingering)

	// reading is set while the reader is in a Read, or waits for the
	// peer's end (watching), outside the mutex: discard must not read
	// then (it would wait for that Read to end), and the reader closes
	// the socket, after discarding if discardWant says so, once finish
	// has woken it (kicked: a read deadline in the past). So what came
	// meanwhile is read, and the close is a FIN, not a RST that could
	// overtake the Notice the client was sent.
	reading, watching bool
	kicked            bool
	discardWant       bool
	// noWatch says the OS cannot tell the peer's FIN without reading
	// (see awaitPeerEnd): while the policy takes no frames, the reader
	// waits.
	noWatch bool
}

// peerEnd is what awaitPeerEnd saw.
type peerEnd uint8

const (
	peerWoken   peerEnd = iota // woken by a deadline or a close: nothing seen
	peerFin                    // the peer's FIN came
	peerReset                  // the peer reset the connection
	peerUnknown                // the OS does not say
)

// adopt starts serving an accepted connection at now.
func (s *srv) adopt(nc *net.TCPConn, now time.Time) {
	s.nextID++
	c := &conn{policy: policy{cfg: &s.cfg}, s: s, nc: nc, id: s.nextID, peer: nc.RemoteAddr().String()}
	c.cond = sync.NewCond(&s.mu)
	// The kernel's buffers capped, as on the event loop (see sockBuf): a
	// client that never reads holds kilobytes of them, not megabytes.
	nc.SetReadBuffer(sockBuf)
	nc.SetWriteBuffer(sockBuf)
	c.now.init(nc)
	s.conns[c] = struct{}{}
	s.open.Add(1)
	s.wg.Go(c.readLoop)
	if s.makeRoom(c, now) {
		s.greet(c, nc, now)
	}
	c.watch()
}

// readLoop reads the connection while its policy takes frames, one frame
// at a time, so that it never holds more than the policy has room for;
// while it takes none, it watches for the peer's FIN or reset, as the
// event loop does (EPOLLRDHUP); lingering, it reads and drops until the
// peer closes.
func (c *conn) readLoop() {
	s := c.s
	var f msg.Frame
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for c.state == closing || c.state == frozen || (c.state == serving && !c.reads() && c.noWatch) {
			c.cond.Wait()
		}
		if c.state == closed {
			return
		}
		if c.state == serving && !c.reads() {
			c.watchEnd()
			continue
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
			c.closeAfterRead()
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

// watchEnd, in the reader while the policy takes no frames, waits for the
// peer's FIN or reset without reading; watch wakes it when the policy
// changes its mind. A FIN drops what the peer sent that was not read, as
// on the event loop: the PINGs queued are answered, then the connection
// ends. It is called with s.mu held and returns with it held.
func (c *conn) watchEnd() {
	s := c.s
	c.reading, c.watching = true, true
	s.mu.Unlock()
	end, err := awaitPeerEnd(c.nc)
	s.mu.Lock()
	c.reading, c.watching = false, false
	if c.kicked && c.state != closed {
		c.kicked = false
		c.nc.SetReadDeadline(time.Time{})
	}
	now := time.Now()
	switch {
	case c.state == closed:
		c.closeAfterRead()
	case end == peerUnknown:
		c.noWatch = true
	case c.state != serving:
	case end == peerReset:
		c.fail(err, now)
	case end == peerFin:
		c.peerClosed(&s.fx, now)
		c.apply(now)
	}
}

// closeAfterRead, in the reader woken by finish, drops what the peer sent
// when the policy asked for that, then closes.
func (c *conn) closeAfterRead() {
	if c.discardWant {
		discardUnread(c.nc)
	}
	c.nc.Close()
}

// writeLoop writes the output the socket did not take at once, and tells
// the policy what came of each write; it ends once none waits.
func (c *conn) writeLoop() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for c.state != closed && c.state != frozen && len(c.out) > 0 {
		b := c.out
		c.out, c.inflight = nil, len(b)
		s.mu.Unlock()
		_, err := c.nc.Write(b)
		s.mu.Lock()
		c.inflight = 0
		if c.state == closed {
			break
		}
		now := time.Now()
		if err != nil {
			c.fail(err, now)
			break
		}
		if len(c.out) == 0 && c.shutWant {
			c.shutWant = false
			c.nc.CloseWrite()
		}
		c.sent(&s.fx, len(c.out), false, true, now) // the PONGs that waited behind the output
		c.apply(now)
	}
	if c.state != frozen { // frozen, output waits, as on the event loop
		c.writing, c.out = false, nil
	}
}

// send writes b, or what of it the socket does not take to the writer,
// and tells the policy. A write that fails ends the connection: what the
// policy asked for after it (todo i) is not done.
func (c *conn) send(b []byte, now time.Time, i int) {
	if c.writing {
		c.out = append(c.out, b...)
		c.sent(&c.s.fx, len(c.out)+c.inflight, true, false, now)
		return
	}
	n, err := c.now.writeNow(b)
	if err != nil {
		c.s.fx.todo = c.s.fx.todo[:i+1]
		reason, detail := c.s.classify(err)
		c.policy.fail(&c.s.fx, reason, detail) // apply, which called send, ends it
		return
	}
	if n < len(b) {
		c.out = append([]byte(nil), b[n:]...)
		c.writing = true
		c.s.wg.Go(c.writeLoop)
	}
	c.sent(&c.s.fx, len(c.out), true, true, now)
}

// shutWrite sends a FIN once the output that waits is out.
func (c *conn) shutWrite() {
	if c.writing {
		c.shutWant = true
	} else {
		c.nc.CloseWrite()
	}
}

// stopIO stops reading and writing the connection: the reader and the
// writer see it frozen and wait.
func (c *conn) stopIO() {}

// watch wakes the reader to the policy's new state and sets the timer at
// its next deadline.
func (c *conn) watch() {
	if c.state == serving {
		c.markStalled()
	}
	c.cond.Broadcast()
	if c.watching && (c.state != serving || c.reads()) {
		c.kick()
	}
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

// kick wakes the reader from a Read or from watching for the peer's end.
func (c *conn) kick() {
	if !c.kicked {
		c.kicked = true
		c.nc.SetReadDeadline(aLongTimeAgo)
	}
}

// aLongTimeAgo is a read deadline that has passed: it wakes the reader.
var aLongTimeAgo = time.Unix(1, 0)

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
// a RST, which can destroy the PONGs still on their way. While a Read is
// under way the reader does it, before it closes (see finish).
func (c *conn) discard() {
	if c.reading {
		c.discardWant = true
		return
	}
	discardUnread(c.nc)
}

// finish closes the connection and reports why. Output that still waits
// is dropped, as on the event loop; what the socket took goes, but for a
// reset. While the reader is in a Read, it is woken and closes the socket
// itself, so that what came meanwhile is read first.
func (c *conn) finish(reason ending.Reason, detail string) {
	switch {
	case reason == ending.FaultReset:
		c.nc.SetLinger(0) // close sends a RST
		c.nc.Close()
	case c.reading:
		c.kick()
	default:
		c.nc.Close() // which ends a write under way
	}
	c.out = nil
	if c.timer != nil {
		c.timer.Stop()
	}
	delete(c.s.conns, c)
	c.s.closed(c, reason, detail)
	c.cond.Broadcast()
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
