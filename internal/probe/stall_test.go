package probe

import (
	"testing"
	"time"
)

func TestStallAfter(t *testing.T) {
	if got := (Config{Interval: 100 * ms}).StallAfter(); got != s {
		t.Errorf("interval 100ms: StallAfter %v, want 1s", got)
	}
	if got := (Config{Interval: 3 * s}).StallAfter(); got != 3*s {
		t.Errorf("interval 3s: StallAfter %v, want 3s", got)
	}
}

// A wake-up later than StallAfter past the deadline restarts the round;
// one just within it is a late timer and Tick catches up on the schedule.
func TestStall(t *testing.T) {
	cfg := Config{Idle: 10 * s, Interval: 3 * s, Probes: 3}
	for _, c := range []struct {
		name  string
		ping1 bool          // PING #1 went out at 10s before the wake-up
		wake  time.Duration // the wake-up
		late  time.Duration // Stall's answer
	}{
		{"idle, on time", false, 10 * s, 0},
		{"idle, late by the interval", false, 13 * s, 0},
		{"idle, 1ns later", false, 13*s + ns, 3*s + ns},
		{"probing, late by the interval", true, 16 * s, 0},
		{"probing, 1ns later", true, 16*s + ns, 3*s + ns},
		{"probing, 12.3s late", true, 25300 * ms, 12300 * ms},
	} {
		m := New(cfg, t0)
		if c.ping1 {
			run(m, at(10*s))
		}
		if got := m.Stall(at(c.wake)); got != c.late {
			t.Errorf("%s: Stall at %v = %v, want %v", c.name, c.wake, got, c.late)
			continue
		}
		if c.late == 0 {
			if m.LastLife() != t0 {
				t.Errorf("%s: no stall moved the last life to %v", c.name, m.LastLife().Sub(t0))
			}
			continue
		}
		// The round starts again at the wake-up: Idle, then the probes,
		// dead DeadAfter later unless the peer answers.
		w := c.wake
		for _, want := range []struct {
			d      time.Duration
			action Action
			missed int
		}{{10*s - ns, Wait, 0}, {10 * s, Ping, 0}, {13 * s, Ping, 1}, {16 * s, Ping, 2}, {19*s - ns, Wait, 0}, {19 * s, Dead, 3}} {
			st := m.Tick(at(w + want.d))
			if st.Action != want.action || st.Missed != want.missed {
				t.Fatalf("%s: at wake-up + %v: %+v, want %v missed %d", c.name, want.d, st, want.action, want.missed)
			}
			if st.Action == Dead && st.Silence != 19*s {
				t.Fatalf("%s: silence %v at the verdict, want 19s from the wake-up", c.name, st.Silence)
			}
		}
	}
}

func TestNoStallOnceDeadOrOff(t *testing.T) {
	m := New(Config{Idle: s, Interval: s, Probes: 1}, t0)
	run(m, at(2*s))
	if m.Deadline() != (time.Time{}) {
		t.Fatal("not dead at 2s")
	}
	if got := m.Stall(at(time.Hour)); got != 0 {
		t.Fatalf("a dead machine's stall %v", got)
	}
	if got := New(Config{}, t0).Stall(at(time.Hour)); got != 0 {
		t.Fatalf("a machine without heartbeat stalled %v", got)
	}
}
