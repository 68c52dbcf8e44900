// Package idlerun runs an idle-timeout measurement (package idle's plan)
// against an hbserver: one connection per probe, left idle for the
// probe's gap, then made to carry a PING (client-first) or a CALLBACK the
// server was asked for with a CALL (server-first, docs/PROTOCOL.md). It
// tells how each ended, with TCP_INFO's evidence where the OS gives it,
// and reports the verdict and the settings that survive the timeout.
//
// Example:
//
//	r, err := idlerun.Run(ctx, idlerun.Config{Addr: "127.0.0.1:9000", Plan: idle.Config{Max: time.Minute}}, events)
package idlerun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/idle"
)

// Defaults.
const (
	DefaultConnectTimeout = 5 * time.Second
	// MinWait is the least time an answer is waited for before the probe
	// is called a silent drop; longer on a path whose handshake took
	// long (WaitRTTs round trips).
	MinWait  = time.Second
	WaitRTTs = 10
	// statusEvery is how often the progress line may come; it comes when
	// something changed, and at least every statusQuiet.
	statusEvery = time.Second
	statusQuiet = 10 * time.Second
)

// Config is a measurement's settings.
type Config struct {
	Network, Addr string
	Plan          idle.Config
	// ConnectTimeout bounds each handshake; zero means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Wait is how long an answer may take before the probe is a silent
	// drop. Zero means the larger of MinWait and WaitRTTs x the first
	// handshake's time.
	Wait time.Duration
}

// ErrProbe is wrapped by the error of a probe that could not run (a
// connect that failed, a server that closed with a NOTICE): the
// measurement stops, as its answers would mean nothing. Its text does not
// name the command: the tool's error line does ("hbclient idle-timeout:
// the measurement stopped: cannot connect to ...").
var ErrProbe = errors.New("the measurement stopped")

// done is a probe's end, as its goroutine sends it.
type done struct {
	pr  idle.Probe
	out idle.Outcome
	at  time.Duration
	why string
	err error
}

// Run measures through cfg.Addr and emits each probe's end, the progress
// and the verdict to ev. It returns the plan's result; an error when a
// probe could not run or ctx ended first.
func Run(ctx context.Context, cfg Config, ev *event.Writer) (idle.Result, error) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Network == "" {
		cfg.Network = "tcp"
	}
	start := time.Now()
	since := func() time.Duration { return time.Since(start) }
	// One connection first, to learn the path's round trip from its
	// handshake, and that the server is there and answers a CALL: one that
	// does not (the seed server, a service that is not hbserver) would
	// make every probe a silent drop, and the verdict a timeout below the
	// first gap.
	t := time.Now()
	c, err := dial(ctx, cfg)
	if err != nil {
		return idle.Result{}, err
	}
	rtt := time.Since(t)
	err = checkCall(ctx, c, cfg.Addr, cfg.ConnectTimeout)
	c.Close()
	if err != nil {
		return idle.Result{}, err
	}
	if cfg.Wait == 0 {
		cfg.Wait = max(MinWait, WaitRTTs*rtt)
	}
	p := idle.New(cfg.Plan)

	ctx, cancelAll := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancelAll(); wg.Wait() }() // every probe's goroutine ends before Run returns
	results := make(chan done)
	type runningProbe struct {
		pr     idle.Probe
		cancel context.CancelFunc
		ends   time.Time // at the latest
	}
	running := map[int]runningProbe{}
	tick := time.NewTicker(statusEvery)
	defer tick.Stop()
	var last event.IdleProgress
	var lastAt time.Time

	for !p.Finished() {
		for pr, ok := p.Next(); ok; pr, ok = p.Next() {
			pctx, cancel := context.WithCancel(ctx)
			running[pr.ID] = runningProbe{pr, cancel, time.Now().Add(pr.Gap + cfg.Wait)}
			wg.Go(func() {
				d := runProbe(pctx, cfg, pr)
				select {
				case results <- d:
				case <-ctx.Done():
				}
			})
		}
		select {
		case <-ctx.Done():
			return p.Result(), ctx.Err()
		case d := <-results:
			rp, ok := running[d.pr.ID]
			if !ok {
				continue // cancelled meanwhile
			}
			rp.cancel()
			delete(running, d.pr.ID)
			if d.err != nil {
				if p.Useless(d.pr) {
					p.Cancel(d.pr)
					continue
				}
				return p.Result(), d.err
			}
			p.Done(d.pr, d.out, d.at)
			event.Emit(ev, since(), event.IdleProbeEnded{Kind: d.pr.Kind.String(), Dir: d.pr.Dir.String(), Gap: d.pr.Gap,
				Every: d.pr.Every, Outcome: outcomeWord(d.out), At: d.at, Why: d.why})
			for id, rp := range running {
				if p.Useless(rp.pr) {
					rp.cancel()
					p.Cancel(rp.pr)
					delete(running, id)
				}
			}
		case now := <-tick.C:
			st := p.Status()
			var left time.Duration
			for _, rp := range running {
				left = max(left, rp.ends.Sub(now))
			}
			if !st.Refreshing && st.Upper > 0 {
				left += time.Duration(idle.RefreshFactor*float64(st.Upper)) + cfg.Wait
			}
			pr := event.IdleProgress{Lower: st.Lower, Upper: st.Upper, Running: st.Running, Left: left}
			changed := pr.Lower != last.Lower || pr.Upper != last.Upper || pr.Running != last.Running
			if changed || now.Sub(lastAt) >= statusQuiet {
				event.Emit(ev, since(), pr)
				last, lastAt = pr, now
			}
		}
	}
	r := p.Result()
	event.Emit(ev, since(), Verdict(r, cfg.Plan))
	return r, nil
}

// Verdict is the idle_timeout event of r, with the settings recommended.
func Verdict(r idle.Result, cfg idle.Config) event.IdleVerdict {
	v := event.IdleVerdict{Lower: r.Lower, Upper: r.Upper, Max: cfg.Max, Expiry: r.Expiry.String(), InboundOnly: r.InboundOnly,
		KeepAlive: refreshWord(r.KeepAlive), Pings: refreshWord(r.Pings), KeepAliveEvery: r.KeepAliveEvery, PingEvery: r.PingEvery,
		Probes: r.Probes}
	if v.Max == 0 {
		v.Max = idle.DefaultMax
	}
	if r.Upper > 0 {
		hb, ka := idle.Recommend(r.Lower)
		v.Heartbeat = event.Setting{Idle: hb.Idle, Interval: hb.Interval, DeadAfter: hb.DeadAfter, Count: hb.Probes}
		v.Kernel = event.Setting{Idle: ka.Idle, Interval: ka.Interval, DeadAfter: ka.DeadAfter, Count: ka.Probes}
	}
	return v
}

func refreshWord(r idle.Refresh) string {
	switch r {
	case idle.Refreshes:
		return "yes"
	case idle.DoesNot:
		return "no"
	}
	return ""
}

// outcomeWord is a probe's outcome in the idle_probe event: "alive" for
// one that survived (the verdict's "none" would read oddly there).
func outcomeWord(o idle.Outcome) string {
	if o == idle.Alive {
		return "alive"
	}
	return o.String()
}

func dial(ctx context.Context, cfg Config) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: -1} // keep-alive off unless a probe asks
	c, err := d.DialContext(ctx, cfg.Network, cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot connect to %s: %w", ErrProbe, cfg.Addr, cli.OpCause(err))
	}
	return c.(*net.TCPConn), nil
}
