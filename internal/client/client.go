// Package client drives one heartbeat connection: it reads whole frames,
// feeds them to the probe state machine, sends the PINGs the machine asks
// for, and reports every step as an event. One goroutine owns the machine
// and one timer; a second goroutine only reads frames.
//
// Example:
//
//	res := client.Run(ctx, conn, client.Options{Probe: probe.DefaultConfig(), Events: w})
//	if res.Outcome == client.Dead { os.Exit(3) }
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// Options configures Run.
type Options struct {
	// Probe is the heartbeat's settings; it must be valid.
	Probe probe.Config
	// Events receives the timeline. Nil discards it.
	Events *event.Writer
	// Connected holds extra fields and text for the "connected" event, such
	// as the kernel's settings. Empty adds nothing.
	ConnectedText   string
	ConnectedFields []event.Field
	// Warnings are printed as notes right after the "connected" line.
	Warnings []string
	// Kernel is the kernel's liveness settings in effect on conn, as read
	// back from the socket. They name the cause when the kernel gives up on
	// the peer; when either is on and conn is a real socket, TCP_INFO is
	// watched so that unanswered keep-alive probes and retransmissions
	// appear in the timeline. The zero value means both are off.
	Kernel Kernel
	// WatchEvery is how often TCP_INFO is read while Kernel has something
	// on. Zero means DefaultWatchEvery.
	WatchEvery time.Duration
	// FineTimer waits for the heartbeat's deadlines on a timerfd, which
	// ends to the microsecond, instead of Go's timers, which end in the
	// runtime's poller, whose timeout counts whole milliseconds (a verdict
	// 19 s out came 2.5-3 ms late). Off, Run uses Go's timers, the only
	// ones testing/synctest's fake clock moves.
	FineTimer bool
}

// Kernel is the kernel's liveness settings on one socket.
type Kernel struct {
	KeepAlive   sockopt.KeepAliveConfig
	UserTimeout time.Duration // TCP_USER_TIMEOUT; zero: none
}

func (k Kernel) on() bool { return k.KeepAlive.Enable || k.UserTimeout > 0 }

// DefaultWatchEvery is how often TCP_INFO is read by default: often enough
// to place a keep-alive probe within a tenth of a second, rarely enough to
// cost nothing.
const DefaultWatchEvery = 100 * time.Millisecond

// Outcome says how a connection ended.
type Outcome int

const (
	PeerClosed Outcome = iota // the peer closed the connection (FIN)
	Stopped                   // the context ended: --duration or a signal
	Dead                      // the heartbeat declared the peer dead
	Failed                    // an I/O error: reset, unreachable, or the like
	KernelDead                // the kernel gave up on the peer (ETIMEDOUT)
)

func (o Outcome) String() string {
	switch o {
	case PeerClosed:
		return "peer closed"
	case Stopped:
		return "stopped"
	case Dead:
		return "dead"
	case Failed:
		return "failed"
	case KernelDead:
		return "dead (kernel)"
	}
	return fmt.Sprintf("outcome %d", int(o))
}

// Result is what Run returns.
type Result struct {
	Outcome Outcome
	// Err is the I/O error when Outcome is Failed.
	Err error
	// Observed and Predicted are, when Outcome is Dead or KernelDead, the
	// silence at the verdict and the silence the settings imply, both
	// measured from the last sign of life (Dead) or the last frame received
	// (KernelDead).
	Observed, Predicted time.Duration
	// Cause names the mechanism that fired: "heartbeat", "keepalive",
	// "user-timeout" or "retransmit" (the kernel's tcp_retries2 rule).
	Cause string
}

type received struct {
	f   msg.Frame
	at  time.Time
	err error
}

// Run drives conn until the peer closes it, the heartbeat declares it dead,
// an I/O error happens or ctx ends. It closes conn before it returns and
// leaves no goroutine behind. context.Cause(ctx) is named in the "closed"
// event when ctx ends.
func Run(ctx context.Context, conn net.Conn, opts Options) Result {
	ev := opts.Events
	if ev == nil {
		ev = event.Discard()
	}
	start := time.Now()
	since := func(t time.Time) time.Duration { return t.Sub(start) }
	cfg := opts.Probe
	m := probe.New(cfg, start)

	fields := []event.Field{
		event.F("local", conn.LocalAddr().String()),
		event.F("remote", conn.RemoteAddr().String()),
		event.F("heartbeat", cfg.Enabled()),
	}
	text := fmt.Sprintf("connected to %s from %s; ", conn.RemoteAddr(), conn.LocalAddr())
	if cfg.Enabled() {
		rule := "strict: a late PONG does not count"
		if cfg.AcceptLate {
			rule = "--accept-late: any frame counts, however late"
		}
		text += fmt.Sprintf("heartbeat: dead after %s of silence (idle %s + %d x %s; %s)",
			fmtDur(cfg.DeadAfter()), fmtDur(cfg.Idle), cfg.Probes, fmtDur(cfg.Interval), rule)
		fields = append(fields,
			event.Secs("idle_s", cfg.Idle), event.Secs("interval_s", cfg.Interval),
			event.F("probes", cfg.Probes), event.F("accept_late", cfg.AcceptLate),
			event.Secs("predicted_s", cfg.DeadAfter()))
	} else {
		text += "heartbeat: off (--probes 0)"
	}
	if opts.ConnectedText != "" {
		text += "; " + opts.ConnectedText
	}
	ev.Emit(0, event.Connected, text, append(fields, opts.ConnectedFields...)...)
	for _, w := range opts.Warnings {
		ev.Emit(0, event.Note, "warning: "+w, event.F("note", "warning"), event.F("warning", w))
	}

	// Every event's time comes from one clock that never goes backwards:
	// a frame is stamped by the reader when it arrives and may reach the
	// loop after a later event, so its event takes the later time while
	// the machine is given the true one.
	last := start
	clock := func(t time.Time) time.Duration {
		if t.After(last) {
			last = t
		}
		return last.Sub(start)
	}

	frames := make(chan received)
	done := make(chan struct{})
	readerDone, writerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(readerDone)
		in := &countingReader{r: conn}
		for {
			var r received
			r.err = msg.ReadFrame(in, &r.f)
			r.at = time.Now()
			if errors.Is(r.err, msg.ErrShortFrame) {
				r.err = fmt.Errorf("%w: %d of %d bytes", ErrMidFrame, in.n%msg.FrameSize, msg.FrameSize)
			}
			select {
			case frames <- r:
			case <-done:
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	out := newSender(conn, done, writerDone)
	defer func() {
		close(done)
		conn.Close()
		<-readerDone
		<-writerDone
	}()

	var timer timer
	if opts.FineTimer {
		if t := newFDTimer(); t != nil {
			timer = t
		}
	}
	if timer == nil {
		timer = newGoTimer()
	}
	defer timer.stop()
	rearm := func() { timer.set(m.Deadline()) }
	rearm()

	// The kernel's side: TCP_INFO read every WatchEvery while keep-alive or
	// a user timeout is on.
	var watch <-chan time.Time
	sc, isSock := conn.(syscall.Conn)
	var info sockopt.Info // the last TCP_INFO read
	if isSock && opts.Kernel.on() {
		every := opts.WatchEvery
		if every <= 0 {
			every = DefaultWatchEvery
		}
		t := time.NewTicker(every)
		defer t.Stop()
		watch = t.C
	}
	lastFrame := start         // last frame received (or the connect)
	var firstWrite time.Time   // first write since lastFrame; zero: none
	var firstRetrans time.Time // when TCP_INFO first showed a retransmission since lastFrame
	// failed ends the run on an I/O error at at: the kernel's verdict when
	// it gave up on the peer, otherwise an error.
	failed := func(at time.Time, err error) Result {
		// The kernel gave up: ETIMEDOUT, or the ICMP error it last heard
		// (an established connection keeps ICMP unreachable as a soft
		// error and reports it only when it gives up).
		unreachable := errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
		if errors.Is(err, syscall.ETIMEDOUT) || unreachable {
			return kernelDead(ev, clock(at), at, opts.Kernel, info, lastFrame, firstWrite, firstRetrans, unreachable)
		}
		return fail(ev, clock(at), err)
	}

	var ping outFrame
	ping.f.SetType(msg.Ping)
	saidHostOrder, saidNoEcho := false, false

	// frame handles one frame received; it returns true when the run ends.
	frame := func(r received) (Result, bool) {
		if r.err != nil {
			if errors.Is(r.err, io.EOF) {
				ev.Emit(clock(r.at), event.Closed, "closed by peer", event.F("reason", "peer closed"))
				return Result{Outcome: PeerClosed}, true
			}
			return failed(r.at, r.err), true
		}
		lastFrame, firstWrite, firstRetrans = r.at, time.Time{}, time.Time{}
		t := clock(r.at)
		typ, hostOrder := r.f.Type()
		if hostOrder && !saidHostOrder {
			saidHostOrder = true
			ev.Emit(t, event.Note,
				"peer writes the PONG type in host byte order (02 00 00 00), as the seed C server does; accepted as PONG",
				event.F("note", "host_order_pong"))
		}
		if typ != msg.Pong && m.Frame(r.at) {
			rearm()
		}
		switch typ {
		case msg.Ping:
			// The server's own heartbeat: answer at once, echoing.
			seq := uint64(0)
			if st, ok := msg.ReadStamp(&r.f); ok {
				seq = st.Seq
			}
			r.f.SetType(msg.Pong)
			if out.trySend(outFrame{f: r.f}) {
				ev.Emit(t, event.Data, fmt.Sprintf("PING #%d from the server, answered", seq),
					event.F("type", uint32(typ)), event.F("name", typ.String()), event.F("seq", seq), event.F("answered", true))
			} else {
				ev.Emit(t, event.Data, fmt.Sprintf("PING #%d from the server, not answered: the server has stopped reading and the send buffer is full", seq),
					event.F("type", uint32(typ)), event.F("name", typ.String()), event.F("seq", seq), event.F("answered", false))
			}
			return Result{}, false
		case msg.Notice:
			sev, text := msg.ReadNotice(&r.f)
			if sev == msg.Closing {
				ev.Emit(t, event.Error, "the server closes the connection: "+text,
					event.F("error", text), event.F("from", "server"))
				return Result{Outcome: Failed, Err: fmt.Errorf("closed by the server: %s", text)}, true
			}
			ev.Emit(t, event.Note, "the server warns: "+text, event.F("note", "server_warning"), event.F("text", text))
			return Result{}, false
		case msg.Pong:
		default:
			ev.Emit(t, event.Data, fmt.Sprintf("%v frame received%s", typ, ignored(typ)),
				event.F("type", uint32(typ)), event.F("name", typ.String()))
			return Result{}, false
		}
		a := m.Pong(r.at)
		if a.Alive {
			rearm()
		}
		fields := []event.Field{event.F("seq", a.Seq), event.Secs("rtt_s", a.RTT)}
		echo := ""
		if s, ok := msg.ReadStamp(&r.f); ok {
			fields = append(fields, event.F("echo_seq", s.Seq))
			if s.Seq != a.Seq {
				echo = fmt.Sprintf(" (its data echoes PING #%d: out of order)", s.Seq)
			}
		} else if !saidNoEcho && a.Seq != 0 {
			saidNoEcho = true
			ev.Emit(t, event.Note,
				"peer does not echo the PING's data (the seed C server does not); PONGs are matched to PINGs in order",
				event.F("note", "no_echo"))
		}
		switch {
		case a.Seq == 0:
			ev.Emit(t, event.LatePong, "PONG received that answers no PING"+lifeNote(a, cfg),
				append(fields, event.F("unsolicited", true), event.F("alive", a.Alive))...)
		case a.Late:
			ev.Emit(t, event.LatePong,
				fmt.Sprintf("late PONG #%d, RTT %s, %s%s%s", a.Seq, fmtRTT(a.RTT), lateWhy(a, cfg), echo, lifeNote(a, cfg)),
				append(fields, event.F("alive", a.Alive))...)
		default:
			ev.Emit(t, event.Pong, fmt.Sprintf("PONG #%d, RTT %s%s", a.Seq, fmtRTT(a.RTT), echo), fields...)
		}
		return Result{}, false
	}

	// A PONG that comes while one of our PINGs is with the writer waits
	// until the writer says when that PING left: only then can the machine
	// tell an answer from a PONG sent before the PING was. Frames are
	// handled in order, so reading waits too; a peer that never reads a
	// PING while it sends PONGs is found dead on time.
	in := frames
	var held *received

	for {
		select {
		case <-ctx.Done():
			reason := "stopped"
			if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
				reason = cause.Error()
			}
			ev.Emit(clock(time.Now()), event.Closed, "closed: "+reason, event.F("reason", reason))
			return Result{Outcome: Stopped}

		case <-timer.c():
			now := time.Now()
			t := clock(now)
			for st := m.Tick(now); st.Action != probe.Wait; st = m.Tick(now) {
				if st.Missed > 0 {
					ev.Emit(t, event.Missed,
						fmt.Sprintf("probe %d/%d missed: no PONG within %s", st.Missed, cfg.Probes, fmtDur(cfg.Interval)),
						event.F("missed", st.Missed), event.F("probes", cfg.Probes))
				}
				if st.Action == probe.Dead {
					pred := cfg.DeadAfter()
					ev.Emit(t, event.Dead,
						fmt.Sprintf("DEAD (heartbeat): %s unanswered; observed %.3fs after the last sign of life, predicted %.3fs (%+.1fms)",
							plural.Count(cfg.Probes, "probe"), st.Silence.Seconds(), pred.Seconds(), float64(st.Silence-pred)/1e6),
						event.F("cause", "heartbeat"), event.Secs("observed_s", st.Silence), event.Secs("predicted_s", pred),
						event.Secs("last_life_s", since(m.LastLife())))
					return Result{Outcome: Dead, Observed: st.Silence, Predicted: pred, Cause: "heartbeat"}
				}
				msg.Stamp{Seq: st.Seq, Sent: now}.Put(&ping.f)
				ping.seq = st.Seq
				if !out.trySend(ping) {
					// Never sent, so never answered: the probe runs out on
					// its schedule and the verdict comes on time.
					m.Dropped(st.Seq)
					ev.Emit(t, event.Note,
						fmt.Sprintf("PING #%d not sent: the peer has stopped reading and the send buffer is full", st.Seq),
						event.F("note", "send_stalled"), event.F("seq", st.Seq))
					continue
				}
				ev.Emit(t, event.Ping, fmt.Sprintf("PING #%d sent", st.Seq), event.F("seq", st.Seq))
			}
			rearm()

		case s := <-out.reports:
			out.done(s)
			if s.err != nil {
				what := "answering the server's PING"
				if s.seq != 0 {
					what = fmt.Sprintf("sending PING #%d", s.seq)
				}
				return failed(time.Now(), fmt.Errorf("%s: %w", what, s.err))
			}
			if s.seq != 0 {
				m.Sent(s.seq, s.at)
			}
			if firstWrite.IsZero() {
				firstWrite = s.at
			}
			if held != nil && out.pings == 0 {
				r := *held
				held, in = nil, frames
				if res, end := frame(r); end {
					return res
				}
			}

		case <-watch:
			now, before := time.Now(), info
			var err error
			if info, err = sockopt.TCPInfo(sc); err != nil {
				watch = nil // the socket is gone; the reader reports why
				continue
			}
			reportKernel(ev, clock(now), opts.Kernel, before, info)
			if info.Retransmits > 0 && firstRetrans.IsZero() {
				firstRetrans = now
			}

		case r := <-in:
			if typ, _ := r.f.Type(); r.err == nil && typ == msg.Pong && out.pings > 0 {
				held, in = &r, nil
				continue
			}
			if res, end := frame(r); end {
				return res
			}
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

func lifeNote(a probe.Answer, cfg probe.Config) string {
	switch {
	case a.Alive:
		return "; counts as life (--accept-late)"
	case cfg.Enabled():
		return "; does not count as life"
	}
	return ""
}

func ignored(t msg.Type) string {
	if t.Known() {
		return ""
	}
	return ", ignored"
}

func fail(ev *event.Writer, t time.Duration, err error) Result {
	what := err.Error()
	if errors.Is(err, syscall.ECONNRESET) {
		what = "connection reset by peer"
	}
	ev.Emit(t, event.Error, "error: "+what, event.F("error", what))
	return Result{Outcome: Failed, Err: err}
}

// lateWhy says why a PONG was late. Its deadline runs from the PING's
// scheduled time, so when the PING left late the RTT can be under the
// interval: that would read as a contradiction without the reason.
func lateWhy(a probe.Answer, cfg probe.Config) string {
	if a.RTT >= cfg.Interval || a.SentLate <= 0 {
		return fmt.Sprintf("over the %s interval", fmtDur(cfg.Interval))
	}
	return fmt.Sprintf("after its deadline: the PING left %s after it was due (%s interval)", fmtRTT(a.SentLate), fmtDur(cfg.Interval))
}

// fmtDur prints a setting as the user would type it: 10s, 300ms, 1m30s.
func fmtDur(d time.Duration) string { return d.String() }

// fmtRTT prints a measured time to the microsecond below a second and to
// the millisecond above.
func fmtRTT(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
