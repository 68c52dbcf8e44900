package idle

import (
	"testing"
	"time"
)

// box is a simulated middlebox: it forgets a connection idle for its
// timeout (0: never) in each direction, and then drops, resets or closes;
// a proxy closes at the timeout itself, the others answer the next packet.
// Keep-alive and PINGs refresh it or not.
type box struct {
	out, in   time.Duration
	expiry    Outcome
	keepalive bool // kernel keep-alive refreshes its state
	pings     bool // PINGs refresh it
}

// wait is how long the simulated driver waits for an answer that does not
// come.
const wait = 2 * time.Second

// fate is how pr ends through b: its outcome, the idle time it is seen
// at, and how long the probe takes.
func (b box) fate(pr Probe) (Outcome, time.Duration, time.Duration) {
	t := b.out
	if pr.Dir == In {
		t = b.in
	}
	if pr.Kind == Outlives {
		t = b.out
	}
	kept := t == 0 || pr.Gap < t ||
		(pr.Kind == KeepAlive && b.keepalive) || (pr.Kind == Pings && b.pings)
	switch {
	case kept:
		return Alive, pr.Gap, pr.Gap
	case b.expiry == Close:
		return Close, t, t
	case b.expiry == Drop:
		return Drop, pr.Gap, pr.Gap + wait
	}
	return b.expiry, pr.Gap, pr.Gap
}

type running struct {
	pr       Probe
	end      time.Duration
	out      Outcome
	at       time.Duration
	canceled bool
}

// simulate runs a measurement through b on a virtual clock and returns
// its result, how long it took and how many probes it started.
func simulate(t *testing.T, cfg Config, b box) (Result, time.Duration, int) {
	t.Helper()
	p := New(cfg)
	var now time.Duration
	var run []*running
	started := 0
	for !p.Finished() {
		for pr, ok := p.Next(); ok; pr, ok = p.Next() {
			out, at, took := b.fate(pr)
			run = append(run, &running{pr: pr, end: now + took, out: out, at: at})
			started++
		}
		if len(run) == 0 {
			t.Fatalf("at %v: nothing runs and the plan is not finished: %+v", now, p.Status())
		}
		first := 0
		for i, r := range run {
			if r.end < run[first].end {
				first = i
			}
		}
		r := run[first]
		run = append(run[:first], run[first+1:]...)
		now = r.end
		p.Done(r.pr, r.out, r.at)
		kept := run[:0]
		for _, r := range run {
			if p.Useless(r.pr) {
				p.Cancel(r.pr)
				continue
			}
			kept = append(kept, r)
		}
		run = kept
		if started > 10000 {
			t.Fatal("no end in sight")
		}
	}
	return p.Result(), now, started
}

// The plan brackets the timeout within the resolution, names the expiry,
// and takes a small multiple of the timeout: the first round finds a gap
// that fails (at most the ratio between round one's gaps past T), the
// next narrows it (about T again), the refresh checks watch 1.5 x T.
func TestPlanConverges(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		box  box
	}{
		{"NLB 350s, silent drop, defaults", Config{}, box{out: 350 * time.Second, in: 350 * time.Second, expiry: Drop}},
		{"nginx 60s, close", Config{}, box{out: time.Minute, in: time.Minute, expiry: Close, pings: true}},
		{"Azure 4min, reset", Config{}, box{out: 4 * time.Minute, in: 4 * time.Minute, expiry: Reset, keepalive: true, pings: true}},
		{"IPVS 900s at the edge of max", Config{}, box{out: 900 * time.Second, in: 900 * time.Second, expiry: Drop}},
		{"1s NAT, 200ms resolution, 3s max", Config{Max: 3 * time.Second, Resolution: 200 * time.Millisecond},
			box{out: time.Second, in: time.Second, expiry: Drop}},
		{"a timeout shorter than the resolution", Config{Max: 3 * time.Second, Resolution: 200 * time.Millisecond},
			box{out: 50 * time.Millisecond, in: 50 * time.Millisecond, expiry: Reset}},
		{"two connections only", Config{Conns: 2, Max: time.Hour}, box{out: 100 * time.Second, in: 100 * time.Second, expiry: Reset}},
		{"an odd timeout", Config{Max: time.Hour, Resolution: 10 * time.Millisecond, Conns: 8},
			box{out: 1234567 * time.Microsecond, in: 1234567 * time.Microsecond, expiry: Close}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, took, started := simulate(t, tc.cfg, tc.box)
			T := tc.box.out
			res := tc.cfg.Resolution
			if res == 0 {
				res = max(time.Second, T/50)
			}
			if !(r.Lower < T && T <= r.Upper) || r.Upper-r.Lower > res {
				t.Fatalf("bounds [%v, %v] for a timeout of %v, resolution %v", r.Lower, r.Upper, T, res)
			}
			if r.Expiry != tc.box.expiry || r.InboundOnly {
				t.Fatalf("expiry %v, inbound only %v; want %v, false", r.Expiry, r.InboundOnly, tc.box.expiry)
			}
			// The bound: round one ends by the first gap past T (its
			// gaps are at most a factor 2 apart with 16 pairs over
			// [1s, 15m]; fewer pairs, larger factors), a round per
			// halving after that, each at most T, and the refresh check.
			rounds := 4 * time.Duration(1)
			if tc.cfg.Conns == 2 {
				rounds = 12
			}
			bound := rounds*(T+wait) + time.Duration(RefreshFactor*float64(r.Upper)) + wait
			if tc.cfg.Conns == 8 {
				bound += tc.cfg.Max // round one waits for its longest gap, as far as Max, when few start
			}
			if took > bound {
				t.Fatalf("took %v, over the bound %v (%d probes)", took, bound, started)
			}
			if started > 200 {
				t.Fatalf("%d probes started", started)
			}
			t.Logf("[%v, %v] in %v (%.1f x T), %d probes", r.Lower, r.Upper, took, float64(took)/float64(T), started)
		})
	}
}

// Nothing expires up to Max: the answer is "none", Lower is Max, and the
// run takes Max (the longest gap must be waited out), not more.
func TestPlanNoExpiry(t *testing.T) {
	r, took, _ := simulate(t, Config{Max: 3 * time.Second, Resolution: 200 * time.Millisecond}, box{})
	if r.Upper != 0 || r.Lower != 3*time.Second || r.Expiry != Alive || r.Expiry.String() != "none" {
		t.Fatalf("got %+v", r)
	}
	if took != 3*time.Second {
		t.Fatalf("took %v, want 3s", took)
	}
	if r.KeepAlive != NotMeasured || r.Pings != NotMeasured {
		t.Fatalf("refresh checked with nothing to refresh: %+v", r)
	}
}

// A NAT that forgets mappings for inbound packets only: the server-first
// probes fail, the client-first ones do not.
func TestPlanInboundOnly(t *testing.T) {
	r, _, _ := simulate(t, Config{Max: 10 * time.Minute}, box{in: 30 * time.Second, expiry: Drop})
	if !r.InboundOnly || r.Expiry != Drop || !(r.Lower < 30*time.Second && 30*time.Second <= r.Upper) {
		t.Fatalf("got %+v", r)
	}
	// Both directions failing is not inbound only.
	r, _, _ = simulate(t, Config{Max: 10 * time.Minute}, box{in: 30 * time.Second, out: 40 * time.Second, expiry: Drop})
	if r.InboundOnly {
		t.Fatalf("outbound failures too, yet inbound only: %+v", r)
	}
}

// The refresh checks tell keep-alive that refreshes from keep-alive that
// a middlebox ignores (an L7 proxy sees no keep-alive), at half the lower
// bound, for 1.5 x the upper; a timeout under 2s cannot be checked with
// keep-alive's whole seconds.
func TestPlanRefresh(t *testing.T) {
	for _, tc := range []struct {
		name          string
		box           box
		cfg           Config
		ka, pings     Refresh
		kaEvery, pEvy time.Duration
	}{
		{"keep-alive refreshes", box{out: time.Minute, in: time.Minute, expiry: Drop, keepalive: true, pings: true}, Config{},
			Refreshes, Refreshes, 29 * time.Second, 0},
		{"keep-alive ignored", box{out: time.Minute, in: time.Minute, expiry: Close, pings: true}, Config{},
			DoesNot, Refreshes, 29 * time.Second, 0},
		{"nothing refreshes", box{out: time.Minute, in: time.Minute, expiry: Reset}, Config{},
			DoesNot, DoesNot, 29 * time.Second, 0},
		{"too short for keep-alive", box{out: time.Second, in: time.Second, expiry: Drop, keepalive: true, pings: true},
			Config{Max: 3 * time.Second, Resolution: 200 * time.Millisecond}, NotMeasured, Refreshes, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, _ := simulate(t, tc.cfg, tc.box)
			if r.KeepAlive != tc.ka || r.Pings != tc.pings {
				t.Fatalf("keep-alive %v, pings %v; want %v, %v (%+v)", r.KeepAlive, r.Pings, tc.ka, tc.pings, r)
			}
			if r.KeepAliveEvery != tc.kaEvery.Truncate(time.Second) && tc.kaEvery != 0 {
				t.Fatalf("keep-alive every %v, want %v", r.KeepAliveEvery, tc.kaEvery)
			}
			if r.PingEvery != r.Lower/2 || r.RefreshFor != time.Duration(RefreshFactor*float64(r.Upper)) {
				t.Fatalf("pings every %v for %v, bounds [%v, %v]", r.PingEvery, r.RefreshFor, r.Lower, r.Upper)
			}
		})
	}
}

// Useless probes: a gap past a failure or below a survivor tells nothing.
func TestPlanUseless(t *testing.T) {
	p := New(Config{Max: 10 * time.Second, Resolution: 100 * time.Millisecond, Conns: 4})
	a, _ := p.Next() // 100ms out
	b, _ := p.Next() // 100ms in
	c, _ := p.Next() // 10s out
	d, _ := p.Next() // 10s in
	if _, ok := p.Next(); ok {
		t.Fatal("a fifth probe with 4 connections")
	}
	if a.Gap != 100*time.Millisecond || c.Gap != 10*time.Second || a.Dir != Out || b.Dir != In {
		t.Fatalf("round one: %+v %+v %+v %+v", a, b, c, d)
	}
	p.Done(c, Reset, 5*time.Second) // seen during the gap, at 5s
	if !p.Useless(d) || p.Useless(a) {
		t.Fatalf("after a failure at 5s: useless 10s %v, 100ms %v", p.Useless(d), p.Useless(a))
	}
	p.Cancel(d)
	p.Done(a, Alive, a.Gap)
	p.Done(b, Alive, b.Gap)
	e, ok := p.Next()
	if !ok || e.Gap != 100*time.Millisecond+(5*time.Second-100*time.Millisecond)/2 {
		t.Fatalf("next %+v %v, want the middle of [100ms, 5s]", e, ok)
	}
	if s := p.Status(); s.Lower != 100*time.Millisecond || s.Upper != 5*time.Second || s.Running != 1 {
		t.Fatalf("status %+v", s)
	}
}

func TestRecommend(t *testing.T) {
	hb, ka := Recommend(350 * time.Second)
	if hb != (Settings{Idle: 280 * time.Second, Interval: 3 * time.Second, Probes: 3, DeadAfter: 289 * time.Second}) ||
		ka != (Settings{Idle: 280 * time.Second, Interval: 3 * time.Second, Probes: 3, DeadAfter: 289 * time.Second}) {
		t.Fatalf("350s: %+v %+v", hb, ka)
	}
	hb, ka = Recommend(time.Second)
	if hb.Idle != 800*time.Millisecond || hb.Interval != 800*time.Millisecond || hb.DeadAfter != 3200*time.Millisecond || ka.Idle != 0 {
		t.Fatalf("1s: %+v %+v", hb, ka)
	}
	if hb, ka = Recommend(0); hb.Idle != 0 || ka.Idle != 0 {
		t.Fatalf("0: %+v %+v", hb, ka)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{Max: MinMax}, true},
		{Config{Max: MinMax - 1}, false},
		{Config{Max: MaxMax}, true},
		{Config{Max: MaxMax + 1}, false},
		{Config{Max: time.Second, Resolution: 500 * time.Millisecond}, true},
		{Config{Max: time.Second, Resolution: 500*time.Millisecond + 1}, false},
		{Config{Resolution: MinRes - 1}, false},
		{Config{Conns: 1}, false},
		{Config{Conns: 2}, true},
		{Config{Conns: MaxConns + 1}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
	}
}
