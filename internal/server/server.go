//go:build linux

// Package server is hbserver's core: it accepts any number of clients and
// answers each PING with a PONG after a fixed delay, as the seed C server
// does, but for every client at once.
//
// One goroutine serves every connection: an event loop over an epoll set
// (package poll) with one timer for all deadlines. A connection costs a few
// hundred bytes while it is quiet, not a goroutine stack and a frame
// buffer, and a PING costs one read and one write, as in a C epoll server.
//
// Per connection the PINGs are answered serially, like the C server's loop
// of recv, sleep, send: a PING that arrives during a delay waits its turn.
// The PONG echoes the PING's data, so a client can check which PING it
// answers. TYPE1, TYPE2 and unknown types are reported and otherwise ignored.
//
// Example:
//
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	err := server.Serve(ctx, ln, server.Config{Sleep: 5 * time.Second, Events: w})
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/deadline"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/procstat"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// Serve accepts connections on ln until ctx ends, then closes every
// connection and ln and returns nil. It returns an error only when
// accepting or polling fails for good. ln must be a TCP listener.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	defer ln.Close()
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return fmt.Errorf("server: needs a TCP listener, not %T", ln)
	}
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
	s.ev.Emit(0, event.Listening,
		fmt.Sprintf("listening on %s; each PING is answered after %s; %s", ln.Addr(), cfg.Sleep, limitText(cfg.MaxConns)),
		event.F("addr", ln.Addr().String()), event.Secs("sleep_s", cfg.Sleep), event.F("max_conns", cfg.MaxConns))
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

// limitText says the connection limit in effect, which hbserver may have
// derived from the open-file limit without the user asking: the first
// sign of it should not be a client refused.
func limitText(maxConns int) string {
	if maxConns == 0 {
		return "no limit on connections (--max-conns 0)"
	}
	return fmt.Sprintf("at most %s open at once (--max-conns)", plural.Count(maxConns, "connection"))
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

func (s *srv) since() time.Duration { return time.Since(s.start) }

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
		case err == unix.EMFILE || err == unix.ENFILE || err == unix.ENOBUFS || err == unix.ENOMEM:
			// Out of file descriptors and the like pass: wait and retry,
			// as net/http does, rather than stop serving.
			s.backoff = min(max(2*s.backoff, 5*time.Millisecond), time.Second)
			s.ev.Emit(s.since(), event.Error, "accept: "+err.Error()+"; retrying in "+s.backoff.String(),
				event.F("error", err.Error()))
			s.p.Modify(s.lfd, 0)
			s.acceptAt = now.Add(s.backoff)
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

// stats emits a "stats" event every StatsEvery until ctx ends.
func (s *srv) stats(ctx context.Context) {
	t := time.NewTicker(s.cfg.StatsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		open := s.open.Load()
		p := procstat.Read()
		g := runtime.NumGoroutine()
		s.ev.Emit(s.since(), event.Stats,
			fmt.Sprintf("stats: %s open, %s, %s, RSS %d KiB", plural.Count(int(open), "connection"), plural.Count(g, "goroutine"), plural.Count(int(p.OpenFiles), "open file"), p.RSSKiB),
			event.F("conns", open), event.F("goroutines", g), event.F("open_files", p.OpenFiles), event.F("rss_kib", p.RSSKiB))
	}
}

// fdConn lets package sockopt work on a descriptor the loop owns.
type fdConn int

func (c fdConn) SyscallConn() (syscall.RawConn, error) { return c, nil }
func (c fdConn) Control(f func(fd uintptr)) error      { f(uintptr(c)); return nil }
func (c fdConn) Read(func(fd uintptr) bool) error      { return errors.ErrUnsupported }
func (c fdConn) Write(func(fd uintptr) bool) error     { return errors.ErrUnsupported }

// applyKernel sets the kernel options on fd and reads back what is in
// effect (the kernel's defaults fill what was not given).
func (s *srv) applyKernel(fd int) (sockopt.KeepAliveConfig, time.Duration, error) {
	c := fdConn(fd)
	if err := sockopt.SetKeepAlive(c, s.cfg.KeepAlive); err != nil {
		return sockopt.KeepAliveConfig{}, 0, err
	}
	if s.cfg.UserTimeout > 0 {
		if err := sockopt.SetUserTimeout(c, s.cfg.UserTimeout); err != nil {
			return sockopt.KeepAliveConfig{}, 0, err
		}
	}
	ka, err := sockopt.ReadKeepAlive(c)
	if err != nil {
		return ka, 0, err
	}
	ut, err := sockopt.UserTimeout(c)
	return ka, ut, err
}

// warnKernel says once, at the start, when the kernel options combine in a
// way that surprises (the rule is sockopt's, which hbclient warns with
// too). It reads the options back from a socket that is never connected,
// so the kernel's defaults for what was not given count.
func (s *srv) warnKernel() {
	if !s.cfg.KeepAlive.Enable || s.cfg.UserTimeout == 0 {
		return
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return // each connection's line still says what is in effect
	}
	defer unix.Close(fd)
	ka, ut, err := s.applyKernel(fd)
	if w := ka.UserTimeoutWarning(ut); err == nil && w != "" {
		s.ev.Emit(s.since(), event.Note, "warning: "+w, event.F("note", "warning"), event.F("warning", w))
	}
}

// setKernel applies the kernel options to an accepted connection and reads
// back what is in effect, for the "connected" event.
func (s *srv) setKernel(fd int) (string, []event.Field, error) {
	if !s.cfg.KeepAlive.Enable && s.cfg.UserTimeout == 0 {
		return "", nil, nil
	}
	ka, ut, err := s.applyKernel(fd)
	if err != nil {
		return "", nil, err
	}
	var text string
	fields := []event.Field{event.F("keepalive", ka.Enable)}
	if ka.Enable {
		text += fmt.Sprintf("; kernel keep-alive: dead after %s of silence (idle %s, interval %s, count %d; read back)",
			ka.DeadAfterWith(ut), ka.Idle, ka.Interval, ka.Count)
		fields = append(fields, event.Secs("keepalive_idle_s", ka.Idle), event.Secs("keepalive_interval_s", ka.Interval),
			event.F("keepalive_count", ka.Count), event.Secs("keepalive_predicted_s", ka.DeadAfterWith(ut)))
	}
	if ut > 0 {
		text += fmt.Sprintf("; user timeout %s (read back)", ut)
		fields = append(fields, event.Secs("user_timeout_s", ut))
	}
	return text, fields, nil
}

// kernelCause names the kernel's detector that gave up: with keep-alive on
// and no user timeout, keep-alive; with a user timeout, it (it also bounds
// keep-alive); otherwise the retransmission limit.
func (s *srv) kernelCause(err error) string {
	cause := "retransmit"
	switch {
	case s.cfg.UserTimeout > 0:
		cause = "user-timeout"
	case s.cfg.KeepAlive.Enable:
		cause = "keepalive"
	}
	return cause + ": " + err.Error()
}

// classify names why a read or write failed.
func (s *srv) classify(err error) (Reason, string) {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Reset, ""
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return KernelDead, s.kernelCause(err)
	}
	return IOError, err.Error()
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

// report emits the totals: connections served and closes per reason,
// each count before its reason ("3 over the connection limit"), so that a
// count is not read as part of the reason.
func (s *srv) report() {
	total := 0
	reasons := make([]Reason, 0, len(s.counts))
	byReason := map[string]int{}
	for r, n := range s.counts {
		total += n
		reasons = append(reasons, r)
		byReason[string(r)] = n
	}
	slices.Sort(reasons)
	text := fmt.Sprintf("stopped after serving %s", plural.Count(total, "connection"))
	for i, r := range reasons {
		sep := ", "
		if i == 0 {
			sep = "; closed: "
		}
		text += fmt.Sprintf("%s%d %s", sep, s.counts[r], r)
	}
	s.ev.Emit(s.since(), event.Stopped, text, event.F("connections", total), event.F("closed", byReason))
}

func ignored(t msg.Type) string {
	if t.Known() {
		return ""
	}
	return ", ignored"
}
