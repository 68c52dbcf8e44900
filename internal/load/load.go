// Package load is hbclient's load mode: many connections to one server, each
// running the heartbeat, paced as they open, with one status line a second
// and a summary at the end.
//
// Example:
//
//	sum := load.Run(ctx, load.Config{Addr: "127.0.0.1:9000", Conns: 200, Rate: 100, Probe: cfg}, w)
//	if sum.Dead > 0 { os.Exit(3) }
package load

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heartbeat/heartbeat/internal/client"
	"github.com/heartbeat/heartbeat/internal/event"
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
}

// maxTotalSamples bounds the RTT samples kept for the summary's percentiles.
const maxTotalSamples = 1 << 22

// Run opens the connections and drives them until ctx ends, printing status
// lines and the summary to ev.
func Run(ctx context.Context, cfg Config, ev *event.Writer) Summary {
	every := cfg.Every
	if every <= 0 {
		every = time.Second
	}
	var (
		tally                           client.Tally
		up, alive, dead, failed, closed atomic.Int64
		connErrs                        atomic.Int64
		mu                              sync.Mutex
		detectErrs                      []time.Duration
		wg                              sync.WaitGroup
	)
	start := time.Now()
	ev.Emit(0, "load", fmt.Sprintf("load: %d connections to %s at %s, heartbeat dead after %s (idle %s + %d x %s)",
		cfg.Conns, cfg.Addr, rateText(cfg.Rate), cfg.Probe.DeadAfter(), cfg.Probe.Idle, cfg.Probe.Probes, cfg.Probe.Interval),
		event.F("conns", cfg.Conns), event.F("addr", cfg.Addr), event.F("rate", cfg.Rate),
		event.Secs("predicted_s", cfg.Probe.DeadAfter()))

	open := func() {
		defer wg.Done()
		d := net.Dialer{KeepAlive: -1, Timeout: cfg.ConnectTimeout}
		c, err := d.DialContext(ctx, "tcp", cfg.Addr)
		if err != nil {
			if ctx.Err() == nil {
				connErrs.Add(1)
			}
			return
		}
		up.Add(1)
		alive.Add(1)
		res := client.Run(ctx, c, client.Options{Probe: cfg.Probe, Tally: &tally})
		if res.Outcome != client.Stopped {
			alive.Add(-1)
		}
		switch res.Outcome {
		case client.Dead:
			dead.Add(1)
			mu.Lock()
			detectErrs = append(detectErrs, res.Observed-res.Predicted)
			mu.Unlock()
		case client.Failed, client.KernelDead:
			failed.Add(1)
		case client.PeerClosed:
			closed.Add(1)
		}
	}

	// Open the connections at the rate asked for, in the background.
	wg.Add(1)
	go func() {
		defer wg.Done()
		var pace *time.Ticker
		if cfg.Rate > 0 {
			pace = time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
			defer pace.Stop()
		}
		for i := 0; i < cfg.Conns; i++ {
			if pace != nil && i > 0 {
				select {
				case <-pace.C:
				case <-ctx.Done():
					return
				}
			} else if ctx.Err() != nil {
				return
			}
			wg.Add(1)
			go open()
		}
	}()

	var all []time.Duration
	status := time.NewTicker(every)
	defer status.Stop()
	lastPings, last := int64(0), start
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case now := <-status.C:
			rtts := tally.Drain()
			if len(all) < maxTotalSamples {
				all = append(all, rtts[:min(len(rtts), maxTotalSamples-len(all))]...)
			}
			pings := tally.Pings.Load()
			rate := float64(pings-lastPings) / now.Sub(last).Seconds()
			lastPings, last = pings, now
			p50, p99 := percentiles(rtts)
			ev.Emit(now.Sub(start), "status",
				fmt.Sprintf("up %d/%d, alive %d, dead %d, failed %d, connect errors %d, %.0f PINGs/s, RTT p50 %s p99 %s",
					up.Load(), cfg.Conns, alive.Load(), dead.Load(), failed.Load(), connErrs.Load(), rate, fmtDur(p50), fmtDur(p99)),
				event.F("up", up.Load()), event.F("alive", alive.Load()), event.F("dead", dead.Load()),
				event.F("failed", failed.Load()), event.F("connect_errors", connErrs.Load()),
				event.F("pings_per_s", rate), event.Secs("rtt_p50_s", p50), event.Secs("rtt_p99_s", p99))
		}
	}
	wg.Wait()
	all = append(all, tally.Drain()...)
	s := Summary{
		Conns: cfg.Conns, Connected: int(up.Load()), ConnectErrors: int(connErrs.Load()),
		Alive: int(alive.Load()), Dead: int(dead.Load()), Failed: int(failed.Load()), Closed: int(closed.Load()),
		Pings: tally.Pings.Load(), Elapsed: time.Since(start),
	}
	s.RTT50, s.RTT99 = percentiles(all)
	s.DetectErr50, s.DetectErr99 = percentiles(detectErrs)
	if len(detectErrs) > 0 {
		s.DetectErrMax = slices.Max(detectErrs)
	}
	ev.Emit(s.Elapsed, "summary",
		fmt.Sprintf("summary: %d connections, %d connected, %d connect errors; alive %d, dead %d, failed %d, closed by server %d; %d PINGs (%.0f/s); RTT p50 %s p99 %s; detection error p50 %s p99 %s max %s",
			s.Conns, s.Connected, s.ConnectErrors, s.Alive, s.Dead, s.Failed, s.Closed, s.Pings,
			float64(s.Pings)/s.Elapsed.Seconds(), fmtDur(s.RTT50), fmtDur(s.RTT99),
			fmtDur(s.DetectErr50), fmtDur(s.DetectErr99), fmtDur(s.DetectErrMax)),
		event.F("conns", s.Conns), event.F("connected", s.Connected), event.F("connect_errors", s.ConnectErrors),
		event.F("alive", s.Alive), event.F("dead", s.Dead), event.F("failed", s.Failed), event.F("closed", s.Closed),
		event.F("pings", s.Pings), event.F("pings_per_s", float64(s.Pings)/s.Elapsed.Seconds()),
		event.Secs("rtt_p50_s", s.RTT50), event.Secs("rtt_p99_s", s.RTT99),
		event.Secs("detect_err_p50_s", s.DetectErr50), event.Secs("detect_err_p99_s", s.DetectErr99),
		event.Secs("detect_err_max_s", s.DetectErrMax))
	return s
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
