//go:build linux && !portable

// This file is the epoll backend, hbserver's on Linux:
// one goroutine serves every connection: an event loop over an epoll set
// (package poll) with one timer for all deadlines. A connection costs a few
// hundred bytes while it is quiet, not a goroutine stack and a frame
// buffer, and a PING costs one read and one write, as in a C epoll server.

package server

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/evloop"
)

// serve is Serve on the epoll loop.
func serve(ctx context.Context, tl *net.TCPListener, cfg Config) error {
	lfd, err := rawFD(tl)
	if err != nil {
		return err
	}
	if err := capBuffers(lfd); err != nil {
		return err
	}
	p, err := evloop.New()
	if err != nil {
		return fmt.Errorf("server: epoll: %w", err)
	}
	defer p.Close()
	s := &srv{cfg: cfg, ev: cfg.Events, start: time.Now(), p: p, counts: map[ending.Reason]int{}}
	s.fx.todo = make([]todo, 0, 16)
	s.startLines(s.start)
	if err := p.Listen(lfd, s.acceptReady); err != nil {
		return fmt.Errorf("server: epoll: %w", err)
	}
	defer p.StopListening()
	s.listening(tl.Addr())
	s.warnKernel()

	stop := context.AfterFunc(ctx, p.Wake)
	defer stop()
	var wg sync.WaitGroup
	if cfg.StatsEvery > 0 {
		wg.Go(func() { s.stats(ctx) })
	}
	stopCommands := s.takeCommands(ctx, &wg)
	err = s.run(ctx)
	stopCommands()
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

// srv is the event loop's state. Only the loop's goroutine touches it,
// except open, which the stats goroutine reads.
type srv struct {
	cfg   Config
	ev    *event.Writer
	start time.Time
	p     *evloop.Loop // the descriptors, their deadlines and their I/O

	// open is how many connections hold a descriptor, whatever their
	// state: what MaxConns bounds.
	open    atomic.Int64
	leaving connList // the connections on their way out, oldest first
	// stalled is the serving connections whose PING queue is full, oldest
	// first: a client with more PINGs outstanding than any heartbeat
	// sends, or one that has gone with its FIN behind PINGs not read yet.
	stalled connList
	nextID  uint64
	counts  map[ending.Reason]int
	// fx is what a conn's policy asks for, done before the next call
	// into any policy; it also keeps the spare PING queues.
	fx      effects
	backoff time.Duration
	// acceptAt is when accepting resumes after running out of file
	// descriptors; zero while accepting.
	acceptAt time.Time
	// acceptErr is an accept's failure, which ends the loop.
	acceptErr error
	// lines is the gate on the per-connection lines; its window ends at
	// the loop's timer.
	lines lines
}

// run is the event loop: it waits for readiness or a deadline, handles
// them and sets the timer for the next deadline, until ctx ends.
func (s *srv) run(ctx context.Context) error {
	for {
		woke, err := s.p.Wait()
		if err != nil {
			return fmt.Errorf("server: epoll: %w", err)
		}
		if woke && ctx.Err() != nil {
			return nil
		}
		s.p.Dispatch(time.Now())
		if s.acceptErr != nil {
			return s.acceptErr
		}
		s.expire()
		if err := s.p.SetTimer(s.lines.statusDue(s.acceptAt)); err != nil {
			return fmt.Errorf("server: timer: %w", err)
		}
	}
}

// expire handles every deadline that has passed, each at its own reading
// of the clock: handling a full batch can take long enough for a deadline
// to pass meanwhile.
func (s *srv) expire() {
	if !s.acceptAt.IsZero() && !time.Now().Before(s.acceptAt) { // the accept back-off is over
		s.acceptAt = time.Time{}
		s.p.PauseAccepting(false)
	}
	s.p.Expire()
	if !s.lines.at.IsZero() {
		if now := time.Now(); !now.Before(s.lines.at) {
			s.statusTick(now)
		}
	}
}

// schedule keeps c's place in the loop's deadlines at its next deadline.
func (s *srv) schedule(c *conn) {
	if c.state == closed {
		return
	}
	c.io.SetDeadline(c.Deadline())
}

// acceptReady accepts the connections waiting, a bounded number at a time.
func (s *srv) acceptReady(now time.Time) {
	for range 64 {
		fd, peer, err := s.p.Accept()
		switch {
		case err == evloop.ErrWouldBlock:
			return
		case outOfResources(err):
			s.p.PauseAccepting(true)
			s.acceptAt = now.Add(s.backOff(err))
			return
		case err != nil:
			s.acceptErr = fmt.Errorf("accept: %w", err)
			return
		}
		s.backoff = 0
		s.adopt(fd, peer, now)
	}
}

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
	s.warnOn(evloop.FDConn(fd))
}

// closeAll ends every connection still open, at shutdown.
func (s *srv) closeAll() {
	now := time.Now()
	s.p.Each(func(h evloop.Handler) {
		c := h.(*conn)
		c.shutdown(&s.fx)
		c.apply(now)
	})
}
