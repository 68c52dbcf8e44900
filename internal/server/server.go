//go:build linux && !portable

// This file is the epoll backend, hbserver's on Linux:
// one goroutine serves every connection: an event loop over an epoll set
// (package poll) with one timer for all deadlines. A connection costs a few
// hundred bytes while it is quiet, not a goroutine stack and a frame
// buffer, and a PING costs one read and one write, as in a C epoll server.

package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/deadline"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/poll"
)

// serve is Serve on the epoll loop.
func serve(ctx context.Context, tl *net.TCPListener, cfg Config) error {
	ln := tl
	lfd, err := rawFD(tl)
	if err != nil {
		return err
	}
	if err := capBuffers(lfd); err != nil {
		return err
	}
	p, err := poll.New()
	if err != nil {
		return fmt.Errorf("server: epoll: %w", err)
	}
	defer p.Close()
	s := &srv{cfg: cfg, ev: cfg.Events, start: time.Now(), p: p, lfd: lfd,
		rbuf: make([]byte, readFrames*msg.FrameSize), counts: map[Reason]int{}}
	s.fx.todo = make([]todo, 0, 16)
	if s.ev == nil {
		s.ev = event.Discard()
	}
	if err := p.Add(lfd, poll.In); err != nil {
		return fmt.Errorf("server: epoll: %w", err)
	}
	defer p.Remove(lfd)
	s.listening(ln.Addr())
	s.warnKernel()

	stop := context.AfterFunc(ctx, p.Wake)
	defer stop()
	var wg sync.WaitGroup
	if cfg.StatsEvery > 0 {
		wg.Go(func() { s.stats(ctx) })
	}
	err = s.run(ctx)
	s.closeAll()
	wg.Wait()
	s.report()
	return err
}

// rawFD is the listener's descriptor, which the event loop accepts on
// itself. It stays valid while ln is open.
func rawFD(ln *net.TCPListener) (int, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return 0, err
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return 0, err
	}
	return fd, nil
}

// sockBuf is the send and receive buffer asked for each accepted socket;
// the kernel doubles it for its bookkeeping, so each holds about 16 KiB,
// room for several frames. Left to itself the kernel grows a buffer to
// megabytes (tcp_wmem, tcp_rmem) for a client that sends PINGs and never
// reads its PONGs, and that memory is the kernel's, outside the server's
// bounds: 200 such clients pinned 1.5 GB. A heartbeat needs one frame each
// way at a time.
const sockBuf = 8 << 10

// capBuffers sets sockBuf on the listening socket, which each accepted
// socket inherits (on Linux), so that accepting costs no extra system call.
// A buffer set by hand is also left alone by the kernel's autotuning.
func capBuffers(lfd int) error {
	for _, opt := range []int{unix.SO_SNDBUF, unix.SO_RCVBUF} {
		if err := unix.SetsockoptInt(lfd, unix.SOL_SOCKET, opt, sockBuf); err != nil {
			return fmt.Errorf("server: socket buffers: %w", err)
		}
	}
	return nil
}

// readFrames is the size of the buffer every read lands in, in frames. A
// read of frames takes no more than the connection's PING queue has room
// for (maxQueued), so that a client that floods does not starve others;
// reads that drop what a closing client sent take the whole buffer.
const readFrames = 16

// srv is the event loop's state. Only the loop's goroutine touches it,
// except open, which the stats goroutine reads.
type srv struct {
	cfg   Config
	ev    *event.Writer
	start time.Time
	p     *poll.Poller
	lfd   int

	conns []*conn // by file descriptor
	// open is how many connections hold a descriptor, whatever their
	// state: what MaxConns bounds.
	open    atomic.Int64
	leaving connList // the connections on their way out, oldest first
	// stalled is the serving connections whose PING queue is full, oldest
	// first: a client with more PINGs outstanding than any heartbeat
	// sends, or one that has gone with its FIN behind PINGs not read yet.
	stalled connList
	nextID  uint64
	counts  map[Reason]int
	timers  deadline.Queue[*conn] // one entry per conn with a deadline
	rbuf    []byte                // every read lands here first
	frames  msg.Pool              // lends the partial frames their buffers
	// fx is what a conn's policy asks for, done before the next call
	// into any policy; it also keeps the spare PING queues.
	fx      effects
	backoff time.Duration
	// acceptAt is when accepting resumes after running out of file
	// descriptors; zero while accepting.
	acceptAt time.Time
}

// run is the event loop: it waits for readiness or a deadline, handles
// them and sets the timer for the next deadline, until ctx ends.
func (s *srv) run(ctx context.Context) error {
	for {
		ready, woke, _, err := s.p.Wait()
		if err != nil {
			return fmt.Errorf("server: epoll: %w", err)
		}
		if woke && ctx.Err() != nil {
			return nil
		}
		now := time.Now()
		for _, r := range ready {
			if r.FD == s.lfd {
				if err := s.acceptReady(now); err != nil {
					return err
				}
				continue
			}
			if r.FD < len(s.conns) && s.conns[r.FD] != nil {
				c := s.conns[r.FD]
				c.ready(r.Events, now)
				s.schedule(c)
			}
		}
		// Read the clock again: handling a full batch can take long
		// enough for a deadline to pass meanwhile.
		s.expire(time.Now())
		if err := s.p.SetTimer(s.nextWake()); err != nil {
			return fmt.Errorf("server: timer: %w", err)
		}
	}
}

// expire handles every deadline that has passed.
func (s *srv) expire(now time.Time) {
	if !s.acceptAt.IsZero() && !now.Before(s.acceptAt) { // the accept back-off is over
		s.acceptAt = time.Time{}
		s.p.Modify(s.lfd, poll.In)
	}
	for c, ok := s.timers.Due(now); ok; c, ok = s.timers.Due(now) {
		c.expire(now)
		s.schedule(c)
	}
}

// nextWake is when the loop must wake up: the earliest deadline of any
// connection, or the end of the accept back-off.
func (s *srv) nextWake() time.Time {
	at := s.timers.Next()
	if !s.acceptAt.IsZero() && (at.IsZero() || s.acceptAt.Before(at)) {
		at = s.acceptAt
	}
	return at
}

// schedule keeps c's place in the timers at its next deadline.
func (s *srv) schedule(c *conn) {
	if c.state == closed {
		return
	}
	s.timers.Set(c, c.nextDeadline())
}

// acceptReady accepts the connections waiting, a bounded number at a time.
func (s *srv) acceptReady(now time.Time) error {
	for range 64 {
		fd, sa, err := unix.Accept4(s.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == unix.EAGAIN:
			return nil
		case err == unix.ECONNABORTED || err == unix.EINTR:
			continue
		case outOfResources(err):
			s.p.Modify(s.lfd, 0)
			s.acceptAt = now.Add(s.backOff(err))
			return nil
		case err != nil:
			return fmt.Errorf("accept: %w", err)
		}
		s.backoff = 0
		s.adopt(fd, peerString(sa), now)
	}
	return nil
}

func peerString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *unix.SockaddrInet6:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	}
	return "?"
}

// fdConn lets package sockopt work on a descriptor the loop owns.
type fdConn int

func (c fdConn) SyscallConn() (syscall.RawConn, error) { return c, nil }
func (c fdConn) Control(f func(fd uintptr)) error      { f(uintptr(c)); return nil }
func (c fdConn) Read(func(fd uintptr) bool) error      { return errors.ErrUnsupported }
func (c fdConn) Write(func(fd uintptr) bool) error     { return errors.ErrUnsupported }

// warnKernel warns, once, of kernel options that combine in a way that
// surprises (see warnOn), reading them back from a socket that is never
// connected, so that the kernel's defaults for what was not given count.
func (s *srv) warnKernel() {
	if !s.cfg.KeepAlive.Enable || s.cfg.UserTimeout == 0 {
		return
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return // each connection's line still says what is in effect
	}
	defer unix.Close(fd)
	s.warnOn(fdConn(fd))
}

// closeAll ends every connection still open, at shutdown.
func (s *srv) closeAll() {
	now := time.Now()
	for _, c := range s.conns {
		if c != nil {
			c.shutdown(&s.fx)
			c.apply(now)
		}
	}
}
