package probe

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// feed is one input to a machine at a time from t0: a frame received
// ("data", "pong"), a frame sent ("sent"), or a tick ("tick").
type feed struct {
	at   time.Duration
	what string
}

// script runs the inputs in order and returns the steps of the ticks,
// each with the time it was taken, as "1s ping 1" or "3s dead".
func script(m *Machine, in []feed) []string {
	var out []string
	for _, f := range in {
		now := at(f.at)
		switch f.what {
		case "data":
			m.Frame(now)
		case "pong":
			m.Pong(now)
		case "sent":
			m.SentFrame(now)
		case "tick":
			for _, st := range run(m, now) {
				s := f.at.String() + " " + st.Action.String()
				if st.Action == Ping {
					s += " " + strconv.FormatUint(st.Seq, 10)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// ticks returns a tick every step from step to end.
func ticks(step, end time.Duration) []feed {
	var f []feed
	for d := step; d <= end; d += step {
		f = append(f, feed{d, "tick"})
	}
	return f
}

// merge puts inputs in time order, frames before a tick at the same time.
func merge(a, b []feed) []feed {
	out := make([]feed, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].at <= b[0].at {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		in   []feed // frames; ticks every 500ms to 20s are added
		want []string
	}{
		{
			// Today's rule: data at 5s restarts the idle timer.
			"received data is life",
			Config{Idle: 4 * s, Interval: 2 * s, Probes: 2},
			[]feed{{5 * s, "data"}},
			[]string{"4s ping 1", "9s ping 2", "11s ping 3", "13s dead"},
		},
		{
			// Only a PONG is life: data at 5s changes nothing.
			"LifePong ignores data",
			Config{Idle: 4 * s, Interval: 2 * s, Probes: 2, Life: LifePong},
			[]feed{{5 * s, "data"}},
			[]string{"4s ping 1", "6s ping 2", "8s dead"},
		},
		{
			// A PONG at 5s ends the round; the idle timer ran from the
			// PING sent at 4s, so PING #2 goes at 8s, not 9s.
			"LifeSent times idle from the last PING",
			Config{Idle: 4 * s, Interval: 2 * s, Probes: 2, Life: LifeSent},
			[]feed{{5 * s, "pong"}},
			[]string{"4s ping 1", "8s ping 2", "10s ping 3", "12s dead"},
		},
		{
			// A frame sent at 3s moves PING #1 to 7s.
			"LifeSent restarts idle on a frame sent",
			Config{Idle: 4 * s, Interval: 2 * s, Probes: 2, Life: LifeSent},
			[]feed{{3 * s, "sent"}},
			[]string{"7s ping 1", "9s ping 2", "11s dead"},
		},
		{
			// Data at 5s and 9s is life but does not move the PINGs.
			"FixedRate pings whatever the traffic",
			Config{Idle: 2 * s, Interval: 2 * s, Probes: 2, FixedRate: true},
			[]feed{{3 * s, "pong"}, {5 * s, "data"}, {9 * s, "data"}},
			[]string{"2s ping 1", "4s ping 2", "6s ping 3", "8s ping 4", "10s ping 5", "12s ping 6", "14s dead"},
		},
		{
			// One PING, dead Timeout after it; no other PING while it waits.
			"Timeout with one outstanding (gRPC)",
			Config{Idle: 4 * s, Interval: 1 * s, Probes: 1, Timeout: 3 * s, MaxOutstanding: 1},
			nil,
			[]string{"4s ping 1", "7s dead"},
		},
		{
			// Data at 5s ends the round though PING #1 is unanswered: the
			// next round sends its own PING, and dies Timeout after it.
			"Timeout: an earlier round's PING does not hold a new one back",
			Config{Idle: 4 * s, Interval: 1 * s, Probes: 1, Timeout: 3 * s, MaxOutstanding: 1},
			[]feed{{5 * s, "data"}},
			[]string{"4s ping 1", "9s ping 2", "12s dead"},
		},
		{
			// Without a cap the PINGs go on every Interval until the verdict.
			"Timeout without a cap",
			Config{Idle: 4 * s, Interval: 1 * s, Probes: 1, Timeout: 3 * s},
			nil,
			[]string{"4s ping 1", "5s ping 2", "6s ping 3", "7s dead"},
		},
		{
			// ZMTP: a PING every 2s; its timeout 3s runs from the first
			// unanswered PING; a PONG at 5s ends the round from 4s.
			"FixedRate with Timeout (ZMTP)",
			Config{Idle: 2 * s, Interval: 2 * s, Probes: 1, Timeout: 3 * s, FixedRate: true},
			[]feed{{3 * s, "pong"}, {5 * s, "data"}},
			[]string{"2s ping 1", "4s ping 2", "6s ping 3", "8s ping 4", "9s dead"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			got := script(New(tc.cfg, t0), merge(tc.in, ticks(500*ms, 20*s)))
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

// The verdict falls exactly Timeout after the round's first PING: 1ns
// before it nothing happens.
func TestTimeoutBoundary(t *testing.T) {
	m := New(Config{Idle: 10 * s, Interval: 20 * s, Probes: 1, Timeout: 20 * s, MaxOutstanding: 1}, t0)
	if st := m.Tick(at(10 * s)); st.Action != Ping {
		t.Fatalf("at 10s: %+v", st)
	}
	if !m.Deadline().Equal(at(30 * s)) {
		t.Fatalf("deadline %v, want 30s", m.Deadline().Sub(t0))
	}
	if st := m.Tick(at(30*s - ns)); st.Action != Wait {
		t.Fatalf("at 30s-1ns: %+v", st)
	}
	if st := m.Tick(at(30 * s)); st.Action != Dead || st.Silence != 30*s || st.Missed != 1 {
		t.Fatalf("at 30s: %+v", st)
	}
}

// Under a Timeout a PONG is late after Timeout, not after Interval.
func TestTimeoutSetsThePongDeadline(t *testing.T) {
	m := New(Config{Idle: 1 * s, Interval: 1 * s, Probes: 1, Timeout: 3 * s, MaxOutstanding: 1}, t0)
	m.Tick(at(1 * s))
	if a := m.Pong(at(3 * s)); a.Late || !a.Alive {
		t.Fatalf("PONG 2s after its PING, timeout 3s: %+v", a)
	}
	if w := m.Config().PongWait(); w != 3*s {
		t.Fatalf("PongWait %v, want the timeout 3s", w)
	}
}

func TestValidateRules(t *testing.T) {
	ok := Config{Idle: s, Interval: s, Probes: 1}
	for _, tc := range []struct {
		change func(*Config)
		want   error
	}{
		{func(c *Config) { c.Timeout = -1 }, ErrTimeout},
		{func(c *Config) { c.MaxOutstanding = -1 }, ErrMaxOutstanding},
		{func(c *Config) { c.Life = lifeRules }, ErrLife},
		{func(c *Config) { c.Timeout = s; c.Probes = 2 }, ErrTimeoutProbes},
		{func(c *Config) { c.MaxOutstanding = 1 }, ErrOutstandingNeedsTimeout},
		{func(c *Config) { c.Timeout = 1<<63 - 1 }, ErrTooLong},
		{func(c *Config) { c.Timeout = s; c.MaxOutstanding = 1; c.Life = LifeSent; c.FixedRate = true }, nil},
	} {
		c := ok
		tc.change(&c)
		if err := c.Validate(); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%+v: Validate() = %v, want %v", c, err, tc.want)
		}
	}
	if got := (Config{Idle: 5 * s, Interval: s, Probes: 1, Timeout: 20 * s}).DeadAfter(); got != 25*s {
		t.Errorf("DeadAfter with a timeout = %v, want 25s", got)
	}
}
