package probe

import (
	"errors"
	"testing"
	"time"
)

// schedule ticks a machine that never hears from its peer until it dies
// and returns the time of each step.
func schedule(t *testing.T, cfg Config) []time.Duration {
	t.Helper()
	m := New(cfg, t0)
	var times []time.Duration
	for !m.Deadline().IsZero() {
		now := m.Deadline()
		if st := m.Tick(now.Add(-ns)); st.Action != Wait {
			t.Fatalf("step %+v 1ns before the deadline", st)
		}
		run(m, now)
		times = append(times, now.Sub(t0))
	}
	return times
}

func TestJitterCutsEachWaitWithinItsRange(t *testing.T) {
	cfg := Config{Idle: 10 * s, Interval: 3 * s, Probes: 3, Jitter: 20, Seed: 7}
	times := schedule(t, cfg)
	if len(times) != 4 {
		t.Fatalf("%d steps, want PINGs 1-3 and the verdict: %v", len(times), times)
	}
	prev, waits := time.Duration(0), []time.Duration{10 * s, 3 * s, 3 * s, 3 * s}
	for i, at := range times {
		w := at - prev
		if w > waits[i] || w < waits[i]*8/10 {
			t.Fatalf("wait %d is %v, want 80%% to 100%% of %v (steps at %v)", i, w, waits[i], times)
		}
		prev = at
	}
	dead := times[len(times)-1]
	if dead < cfg.DeadAfterMin() || dead > cfg.DeadAfter() {
		t.Fatalf("dead at %v, outside %v to %v", dead, cfg.DeadAfterMin(), cfg.DeadAfter())
	}
	if dead == cfg.DeadAfter() {
		t.Fatalf("dead at %v: jitter cut nothing", dead)
	}
}

// The same seed replays the same schedule, to the nanosecond; this one is
// pinned so that a change to the draws is seen.
func TestJitterSeedReplaysExactly(t *testing.T) {
	cfg := Config{Idle: 10 * s, Interval: 3 * s, Probes: 3, Jitter: 20, Seed: 7}
	a, b := schedule(t, cfg), schedule(t, cfg)
	pinned := []time.Duration{9394978962 * ns, 12066986164 * ns, 15059123569 * ns, 17581052089 * ns}
	for i := range pinned {
		if a[i] != pinned[i] {
			t.Fatalf("seed 7 gave %v, want %v as before", a, pinned)
		}
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("seed 7 gave %v then %v", a, b)
		}
	}
	cfg.Seed = 8
	c := schedule(t, cfg)
	same := true
	for i := range a {
		same = same && a[i] == c[i]
	}
	if same {
		t.Fatalf("seeds 7 and 8 gave the same schedule %v", a)
	}
}

func TestJitterOffKeepsTheExactSchedule(t *testing.T) {
	got := schedule(t, Config{Idle: 10 * s, Interval: 3 * s, Probes: 3, Seed: 7})
	want := []time.Duration{10 * s, 13 * s, 16 * s, 19 * s}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("steps at %v, want %v", got, want)
		}
	}
}

// A sign of life draws a new idle wait; a PONG in time still counts.
func TestJitterAfterLife(t *testing.T) {
	cfg := Config{Idle: 1000 * ms, Interval: 100 * ms, Probes: 2, Jitter: 50, Seed: 1}
	m := New(cfg, t0)
	first := m.Deadline().Sub(t0)
	if first < 500*ms || first > 1000*ms {
		t.Fatalf("first PING due at %v, want 500ms to 1s", first)
	}
	run(m, m.Deadline())
	pong := m.Deadline().Add(-ns)
	if a := m.Pong(pong); !a.Alive || a.Late {
		t.Fatalf("a PONG before the jittered deadline: %+v", a)
	}
	if next := m.Deadline().Sub(pong); next < 500*ms || next > 1000*ms {
		t.Fatalf("idle wait after life %v, want 500ms to 1s", next)
	}
}

func TestDeadAfterMin(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{Idle: 10 * s, Interval: 3 * s, Probes: 3}, 19 * s},
		{Config{Idle: 10 * s, Interval: 3 * s, Probes: 3, Jitter: 20}, 15200 * ms},
		{Config{Idle: 10 * s, Interval: 3 * s, Probes: 3, Jitter: 50}, 9500 * ms},
		{Config{Idle: 199 * ns, Interval: 3 * ns, Probes: 1, Jitter: 50}, 102 * ns}, // 199 - 99 - 1: cuts round down,
		{Config{Probes: 0, Jitter: 20}, 0},
	} {
		if got := c.cfg.DeadAfterMin(); got != c.want {
			t.Errorf("%+v: DeadAfterMin %v, want %v", c.cfg, got, c.want)
		}
	}
}

func TestJitterOutOfRange(t *testing.T) {
	for _, j := range []int{-1, 51} {
		err := Config{Idle: s, Interval: s, Probes: 1, Jitter: j}.Validate()
		if !errors.Is(err, ErrJitter) {
			t.Errorf("jitter %d: %v, want ErrJitter", j, err)
		}
	}
	if err := (Config{Idle: s, Interval: s, Probes: 1, Jitter: 50}).Validate(); err != nil {
		t.Errorf("jitter 50: %v", err)
	}
}

// The verdict says when it was due by the draws, so that a caller can
// tell its own lateness from the jitter.
func TestDeadStepSaysWhenItWasDue(t *testing.T) {
	for _, j := range []int{0, 30} {
		m := New(Config{Idle: 10 * s, Interval: 3 * s, Probes: 2, Jitter: j, Seed: 3}, t0)
		var last Step
		for m.Deadline() != (time.Time{}) {
			due := m.Deadline()
			for _, st := range run(m, due.Add(5*ms)) {
				last = st
			}
			if last.Action == Dead {
				if last.Due != due.Sub(t0) || last.Silence != last.Due+5*ms {
					t.Errorf("jitter %d: due %v, silence %v; want due %v and 5ms more", j, last.Due, last.Silence, due.Sub(t0))
				}
				if j == 0 && last.Due != 16*s {
					t.Errorf("no jitter: due %v, want 16s", last.Due)
				}
			}
		}
	}
}

// A missed probe says how long its PING waited, to the nanosecond:
// Interval, or what the jitter left of it.
func TestMissedSaysHowLongItWaited(t *testing.T) {
	for _, j := range []int{0, 40} {
		m := New(Config{Idle: 10 * s, Interval: 3 * s, Probes: 2, Jitter: j, Seed: 11}, t0)
		pinged := m.Deadline()
		run(m, pinged) // PING #1
		for {
			due := m.Deadline()
			steps := run(m, due)
			if len(steps) == 0 || steps[0].Missed == 0 {
				t.Fatalf("jitter %d: no missed probe at the deadline: %+v", j, steps)
			}
			if want := due.Sub(pinged); steps[0].Waited != want || j == 0 && want != 3*s {
				t.Fatalf("jitter %d: missed %d waited %v, want %v", j, steps[0].Missed, steps[0].Waited, want)
			}
			if steps[0].Action == Dead {
				break
			}
			pinged = due
		}
	}
}
