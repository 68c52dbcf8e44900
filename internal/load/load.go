// Package load is hbclient's load mode: many connections to one server, each
// running the heartbeat, paced as they open, with one status line a second
// and a summary at the end.
//
// Example:
//
//	sum, err := load.Run(ctx, load.Config{Addr: "127.0.0.1:9000", Conns: 200, Rate: 100, Probe: cfg}, w)
//	if err == nil && sum.Dead > 0 { os.Exit(3) }
package load

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// Config is a load run's settings.
type Config struct {
	Addr string
	// Conns is how many connections to open.
	Conns int
	// Rate is how many new connections a second; zero or negative opens them
	// as fast as they connect.
	Rate float64
	// Probe is each connection's heartbeat.
	Probe probe.Config
	// ConnectTimeout bounds each handshake; zero: the kernel's.
	ConnectTimeout time.Duration
	// Every is how often a status line is printed; zero means a second.
	Every time.Duration
}

// Summary is what a run did.
type Summary struct {
	Conns         int           // asked for
	Connected     int           // handshakes that succeeded
	ConnectErrors int           // handshakes that failed
	Alive         int           // still alive when the run stopped
	Dead          int           // declared dead by the heartbeat
	Failed        int           // ended by an I/O error (reset, ...)
	Closed        int           // closed by the server
	Pings         int64         // PINGs sent
	Elapsed       time.Duration // from the first connect to the end
	RTT50, RTT99  time.Duration // of PONGs in time
	// DetectErr50, DetectErr99 and DetectErrMax are the verdicts' distance
	// from the predicted instant (observed - predicted), for the dead ones.
	DetectErr50, DetectErr99, DetectErrMax time.Duration
	// FirstConnectError is the first connect error's text; empty when
	// every handshake succeeded.
	FirstConnectError string
}

// maxTotalSamples bounds the RTT samples kept for the summary's percentiles.
const maxTotalSamples = 1 << 22

// Run opens the connections and drives them until ctx ends, printing status
// lines and the summary to ev. The connections are driven by one event loop
// (see loop); this goroutine only prints. The error is one that stops the
// whole run: an address that does not resolve, or the loop's own failure.
func Run(ctx context.Context, cfg Config, ev *event.Writer) (Summary, error) {
	every := cfg.Every
	if every <= 0 {
		every = time.Second
	}
	sa, domain, err := sockaddr(cfg.Addr)
	if err != nil {
		return Summary{}, err
	}
	p, err := poll.New()
	if err != nil {
		return Summary{}, fmt.Errorf("load: %w", err)
	}
	defer p.Close()

	var t tally
	start := time.Now()
	ev.Emit(0, "load", fmt.Sprintf("load: %d connections to %s at %s, heartbeat dead after %s (idle %s + %d x %s)",
		cfg.Conns, cfg.Addr, rateText(cfg.Rate), cfg.Probe.DeadAfter(), cfg.Probe.Idle, cfg.Probe.Probes, cfg.Probe.Interval),
		event.F("conns", cfg.Conns), event.F("addr", cfg.Addr), event.F("rate", cfg.Rate),
		event.Secs("predicted_s", cfg.Probe.DeadAfter()))

	l := &loop{cfg: cfg, sa: sa, domain: domain, p: p, tally: &t, start: start,
		rbuf: make([]byte, readFrames*msg.FrameSize)}
	l.ping.SetType(msg.Ping)
	woken := make(chan struct{})
	stopWake := context.AfterFunc(ctx, func() { p.Wake(); close(woken) })
	loopDone := make(chan error, 1)
	go func() { loopDone <- l.run(func() bool { return ctx.Err() != nil }) }()

	var all []time.Duration
	status := time.NewTicker(every)
	defer status.Stop()
	lastPings, last := int64(0), start
	for done := false; !done; {
		select {
		case err = <-loopDone:
			done = true
			continue
		case now := <-status.C:
			rtts := t.drain()
			if len(all) < maxTotalSamples {
				all = append(all, rtts[:min(len(rtts), maxTotalSamples-len(all))]...)
			}
			pings := t.pings.Load()
			rate := float64(pings-lastPings) / now.Sub(last).Seconds()
			lastPings, last = pings, now
			p50, p99 := percentiles(rtts)
			ev.Emit(now.Sub(start), "status",
				fmt.Sprintf("up %d/%d, alive %d, dead %d, failed %d, connect errors %d, %.0f PINGs/s, RTT p50 %s p99 %s",
					t.up.Load(), cfg.Conns, t.alive.Load(), t.dead.Load(), t.failed.Load(), t.connectErrors.Load(), rate, fmtDur(p50), fmtDur(p99)),
				event.F("up", t.up.Load()), event.F("alive", t.alive.Load()), event.F("dead", t.dead.Load()),
				event.F("failed", t.failed.Load()), event.F("connect_errors", t.connectErrors.Load()),
				event.F("pings_per_s", rate), event.Secs("rtt_p50_s", p50), event.Secs("rtt_p99_s", p99))
		}
	}
	if !stopWake() && ctx.Err() != nil {
		<-woken // the wake-up is under way; p stays open until it is done
	}
	all = append(all, t.drain()...)
	s := Summary{
		Conns: cfg.Conns, Connected: int(t.up.Load()), ConnectErrors: int(t.connectErrors.Load()),
		Alive: int(t.alive.Load()), Dead: int(t.dead.Load()), Failed: int(t.failed.Load()), Closed: int(t.closed.Load()),
		Pings: t.pings.Load(), Elapsed: time.Since(start), FirstConnectError: t.firstConnectError(),
	}
	s.RTT50, s.RTT99 = percentiles(all)
	s.DetectErr50, s.DetectErr99 = percentiles(l.detect)
	if len(l.detect) > 0 {
		s.DetectErrMax = slices.Max(l.detect)
	}
	connErr := ""
	if s.FirstConnectError != "" {
		connErr = " (first: " + s.FirstConnectError + ")"
	}
	ev.Emit(s.Elapsed, "summary",
		fmt.Sprintf("summary: %d connections, %d connected, %d connect errors%s; alive %d, dead %d, failed %d, closed by server %d; %d PINGs (%.0f/s); RTT p50 %s p99 %s; detection error p50 %s p99 %s max %s",
			s.Conns, s.Connected, s.ConnectErrors, connErr, s.Alive, s.Dead, s.Failed, s.Closed, s.Pings,
			float64(s.Pings)/s.Elapsed.Seconds(), fmtDur(s.RTT50), fmtDur(s.RTT99),
			fmtDur(s.DetectErr50), fmtDur(s.DetectErr99), fmtDur(s.DetectErrMax)),
		event.F("conns", s.Conns), event.F("connected", s.Connected), event.F("connect_errors", s.ConnectErrors),
		event.F("first_connect_error", s.FirstConnectError), event.F("alive", s.Alive), event.F("dead", s.Dead), event.F("failed", s.Failed), event.F("closed", s.Closed),
		event.F("pings", s.Pings), event.F("pings_per_s", float64(s.Pings)/s.Elapsed.Seconds()),
		event.Secs("rtt_p50_s", s.RTT50), event.Secs("rtt_p99_s", s.RTT99),
		event.Secs("detect_err_p50_s", s.DetectErr50), event.Secs("detect_err_p99_s", s.DetectErr99),
		event.Secs("detect_err_max_s", s.DetectErrMax))
	return s, err
}

// percentiles returns the 50th and 99th percentiles (nearest rank); zero
// for no samples. It sorts d.
func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	rank := func(p int) time.Duration { return d[min(len(d)-1, (len(d)*p+99)/100-1)] }
	return rank(50), rank(99)
}

func rateText(r float64) string {
	if r <= 0 {
		return "full speed"
	}
	return fmt.Sprintf("%g/s", r)
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Microsecond).String()
}
