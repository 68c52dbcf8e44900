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
	"math"
	"slices"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
)

// maxTotalSamples bounds the RTT samples kept for the summary's percentiles.
const maxTotalSamples = 1 << 22

// Run opens the connections and drives them until ctx ends, printing status
// lines and the summary to ev. The connections are driven by one event loop
// on Linux (loop.go), by a goroutine per connection elsewhere or with the
// build tag portable (portable.go); this goroutine only prints. The error is
// one that stops the whole run: an address that does not resolve, or the
// loop's own failure.
func Run(ctx context.Context, cfg Config, ev *event.Writer) (Summary, error) {
	every := cfg.Every
	if every <= 0 {
		every = time.Second
	}
	var t tally
	start := time.Now()
	loopDone, detect, err := drive(ctx, cfg, &t, start)
	if err != nil {
		return Summary{}, err
	}
	event.Emit(ev, 0, event.LoadStart{Conns: cfg.Conns, Addr: cfg.Addr, Rate: cfg.rate(), Heartbeat: cfg.Probe.Enabled(),
		Idle: cfg.Probe.Idle, Interval: cfg.Probe.Interval, Probes: cfg.Probe.Probes, DeadAfter: cfg.Probe.DeadAfter(),
		Jitter: cfg.Probe.Jitter, Seed: cfg.Probe.Seed, DeadAfterMin: cfg.Probe.DeadAfterMin()})

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
			c := t.counts()
			pps, ppsOK := perSecond(c.Pings-lastPings, now.Sub(last))
			lastPings, last = c.Pings, now
			p50, p99 := percentiles(rtts)
			event.Emit(ev, now.Sub(start), event.LoadStatus{Up: c.Connected, Conns: cfg.Conns, Ends: ends(c),
				ConnectErrors: c.ConnectErrors, Rates: event.LoadRates{PingsPerS: pps, HasPPS: ppsOK,
					LatePongs: c.LatePongs, RTT50: p50, RTT99: p99, HasRTT: len(rtts) > 0}})
		}
	}
	all = append(all, t.drain()...)
	s := t.counts()
	s.Conns, s.Elapsed = cfg.Conns, time.Since(start)
	s.Pending = s.Conns - s.Connected - s.ConnectErrors
	s.RTT50, s.RTT99 = percentiles(all)
	d := detect()
	s.DetectErr50, s.DetectErr99 = percentiles(d)
	if len(d) > 0 {
		s.DetectErrMax = slices.Max(d)
	}
	emitSummary(ev, s, len(all) > 0, len(d) > 0)
	return s, err
}

// emitSummary prints the summary; rttOK and detectOK say whether there
// were PONGs in time and verdicts, whose figures are otherwise "-" (null).
func emitSummary(ev *event.Writer, s Summary, rttOK, detectOK bool) {
	pps, ppsOK := perSecond(s.Pings, s.Elapsed)
	event.Emit(ev, s.Elapsed, event.LoadSummary{Conns: s.Conns, Connected: s.Connected, ConnectErrors: s.ConnectErrors,
		FirstConnectError: s.FirstConnectError, Pending: s.Pending, Ends: ends(s), Pings: s.Pings,
		Rates:       event.LoadRates{PingsPerS: pps, HasPPS: ppsOK, LatePongs: s.LatePongs, RTT50: s.RTT50, RTT99: s.RTT99, HasRTT: rttOK},
		DetectErr50: s.DetectErr50, DetectErr99: s.DetectErr99, DetectErrMax: s.DetectErrMax, HasDetect: detectOK})
}

// ends is how the connections that came up stand, for the status and
// summary lines.
func ends(s Summary) event.LoadEnds {
	return event.LoadEnds{Alive: s.Alive, Dead: s.Dead, NeverAccepted: s.NeverAccepted, Failed: s.Failed,
		Closed: s.Closed, ClosedMidFrame: s.ClosedMidFrame, ClosedNotices: s.ClosedNotices,
		FirstCloseReason: s.FirstCloseReason, Warnings: s.Warnings}
}

// perSecond is n over d, to the tenth; not ok when d is not positive.
func perSecond(n int64, d time.Duration) (float64, bool) {
	if d <= 0 {
		return 0, false
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10, true
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

// openAt is when connection i (from zero) of a run that started at start
// is due to open.
func (c Config) openAt(start time.Time, i int) time.Time {
	r := c.rate()
	if r == 0 {
		return start
	}
	at := float64(i) / r * float64(time.Second)
	if at >= math.MaxInt64 {
		return start.Add(math.MaxInt64) // centuries away: never, in effect
	}
	return start.Add(time.Duration(at))
}

// rate is how many connections open a second; zero: as fast as they
// connect, which is also what a rate that is not a positive finite number
// means (so that none is printed as NaN, Inf or negative). It is not
// rounded: it is what the user asked for.
func (c Config) rate() float64 {
	if !(c.Rate > 0) || math.IsInf(c.Rate, 1) {
		return 0
	}
	return c.Rate
}
