// Package client drives one heartbeat connection: it reads whole frames,
// feeds them to the probe state machine, sends the PINGs the machine asks
// for, and reports every step as an event. One goroutine owns the machine
// and one timer; a second goroutine only reads frames.
//
// Example:
//
//	res := client.Run(ctx, conn, client.Options{Probe: probe.DefaultConfig(), Events: w})
//	if res.Outcome == client.HeartbeatDead { os.Exit(3) }
package client

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// Options configures Run.
type Options struct {
	// Probe is the heartbeat's settings; it must be valid.
	Probe probe.Config
	// Events receives the timeline. Nil discards it.
	Events *event.Writer
	// KernelInEffect is the kernel's settings that the "connected" event
	// says. The zero value says nothing of them.
	KernelInEffect event.KernelOptions
	// Like is the preset the settings come from (--like) and LikeSettings
	// its account of them in its system's names, for the "connected"
	// line; empty without one.
	Like, LikeSettings string
	// Warnings are printed as notes right after the "connected" line.
	Warnings []string
	// Kernel is the kernel's liveness settings in effect on conn, as read
	// back from the socket. They name the cause when the kernel gives up on
	// the peer; when either is on and conn is a real socket, TCP_INFO is
	// watched so that unanswered keep-alive probes and retransmissions
	// appear in the timeline. The zero value means both are off.
	Kernel KernelSettings
	// WatchEvery is how often TCP_INFO is read while Kernel has something
	// on. Zero means DefaultWatchEvery.
	WatchEvery time.Duration
	// FineTimer waits for the heartbeat's deadlines on a timerfd, which
	// ends to the microsecond, instead of Go's timers, which end in the
	// runtime's poller, whose timeout counts whole milliseconds (a verdict
	// 19 s out came 2.5-3 ms late). Off, Run uses Go's timers, the only
	// ones testing/synctest's fake clock moves.
	FineTimer bool
	// Announce sends a HELLO with Probe's settings first thing, so that a
	// server can hold the client to them (hbserver's
	// --reap-after-announced and --min-ping-interval). Off, nothing is
	// sent unasked but the heartbeat's PINGs.
	Announce bool
}

// KernelSettings is the kernel's liveness settings on one socket.
type KernelSettings struct {
	KeepAlive   sockopt.KeepAliveConfig
	UserTimeout time.Duration // TCP_USER_TIMEOUT; zero: none
}

func (k KernelSettings) on() bool { return k.KeepAlive.Enable || k.UserTimeout > 0 }

// DefaultWatchEvery is how often TCP_INFO is read by default: often enough
// to place a keep-alive probe within a tenth of a second, rarely enough to
// cost nothing.
const DefaultWatchEvery = 100 * time.Millisecond

// Outcome says how a connection ended: the load mode's words too.
type Outcome = ending.Reason

// The outcomes Run returns.
const (
	PeerClosed     = ending.PeerClosed     // the peer closed the connection (FIN)
	MidFrame       = ending.MidFrame       // the peer closed in the middle of a frame: Err says how much came
	ClosedByNotice = ending.ClosedByNotice // the server closed with a closing NOTICE: Err carries its reason
	Stopped        = ending.Stopped        // the context ended: --duration or a signal
	HeartbeatDead  = ending.HeartbeatDead  // the heartbeat declared the peer dead
	Failed         = ending.IOError        // an I/O error: reset, unreachable, or the like
	KernelDead     = ending.KernelDead     // the kernel gave up on the peer (ETIMEDOUT)
)

// Result is what Run returns.
type Result struct {
	Outcome Outcome
	// Err is the I/O error when Outcome is Failed, and what the server
	// said when it is MidFrame or ClosedByNotice.
	Err error
	// Observed and Predicted are, when Outcome is HeartbeatDead or KernelDead, the
	// silence at the verdict and the silence the settings imply, both
	// measured from the last sign of life (HeartbeatDead) or the last frame received
	// (KernelDead).
	Observed, Predicted time.Duration
	// Cause names the mechanism that fired when Outcome is HeartbeatDead
	// or KernelDead.
	Cause ending.Cause
}

// Run drives conn until the peer closes it, the heartbeat declares it dead,
// an I/O error happens or ctx ends. It closes conn before it returns and
// leaves no goroutine behind. context.Cause(ctx) is named in the "closed"
// event when ctx ends.
func Run(ctx context.Context, conn net.Conn, opts Options) Result {
	s := newSession(conn, opts)

	frames := make(chan received)
	done := make(chan struct{})
	readerDone, writerDone := make(chan struct{}), make(chan struct{})
	go readFrames(conn, frames, done, readerDone)
	s.out = newSender(conn, done, writerDone)
	if opts.Announce {
		hello := outFrame{hello: true}
		msg.PutHello(&hello.f, announcement(opts.Probe))
		s.out.trySend(hello) // the queue is empty: it cannot be full
	}
	defer func() {
		close(done)
		conn.Close()
		<-readerDone
		<-writerDone
	}()

	s.timer = poll.NewTimer(opts.FineTimer)
	defer s.timer.Stop()
	s.rearm()

	// The kernel's side: TCP_INFO read every WatchEvery while keep-alive or
	// a user timeout is on.
	var watch <-chan time.Time
	sc, isSock := conn.(syscall.Conn)
	if isSock && opts.Kernel.on() {
		every := opts.WatchEvery
		if every <= 0 {
			every = DefaultWatchEvery
		}
		t := time.NewTicker(every)
		defer t.Stop()
		watch = t.C
	}

	for {
		in := frames
		if s.held != nil {
			in = nil // reading waits for the held PONG: see session.held
		}
		var res Result
		var end bool
		select {
		case <-ctx.Done():
			return s.stopped(ctx, time.Now())
		case <-s.timer.C():
			res, end = s.due(time.Now())
		case r := <-s.out.reports:
			res, end = s.sent(r)
		case <-watch:
			now := time.Now()
			info, err := sockopt.TCPInfo(sc)
			if err != nil {
				watch = nil // the socket is gone; the reader reports why
				continue
			}
			s.tcpInfo(now, info)
		case r := <-in:
			res, end = s.received(r)
		}
		if end {
			return res
		}
	}
}

// ErrMidFrame says the server closed the connection part way through a
// frame: an error, unlike a close between frames, because a frame was lost.
var ErrMidFrame = errors.New("closed by the server in the middle of a frame")

// countingReader counts the bytes read, so that a close mid-frame can say
// how much of the frame came.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fail reports err, which ends the run as end.
func fail(ev *event.Writer, t time.Duration, end Outcome, err error) Result {
	what := err.Error()
	if errors.Is(err, syscall.ECONNRESET) {
		what = "connection reset by peer"
	}
	event.Emit(ev, t, event.Failed{Op: "error", Err: what})
	return Result{Outcome: end, Err: err}
}

// announcement is what a HELLO announces of the heartbeat cfg.
func announcement(cfg probe.Config) msg.HelloInfo {
	if !cfg.Enabled() {
		return msg.HelloInfo{}
	}
	return msg.HelloInfo{Idle: cfg.Idle, Interval: cfg.Interval, Probes: cfg.Probes, AcceptLate: cfg.AcceptLate, Jitter: cfg.Jitter}
}
