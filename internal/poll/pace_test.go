//go:build linux

package poll

import (
	"testing"
	"time"
)

// TestPacer follows the yield rule at exact times: each step is a wait
// that begins at ms (milliseconds from the start) and whether it
// returned readiness.
func TestPacer(t *testing.T) {
	type wait struct {
		ms        float64
		ready     bool
		yield     bool
		timeoutMs int
	}
	for _, tc := range []struct {
		name  string
		waits []wait
	}{
		{"the first wait yields and has no bound", []wait{
			{0, false, true, -1},
		}},
		{"a PING a millisecond: a yield every 5 ms, no wait bounded", []wait{
			{0, true, true, -1},
			{1, true, false, -1},
			{2, true, false, -1}, // 1 ms apart: 2 + 1 < 7
			{4, true, false, -1}, // 4 + 2 < 7
			{5, true, true, -1},
			{6, true, false, -1},
		}},
		{"a PING every 20 ms: each wait bounded at 7 ms after the last yield", []wait{
			{0.1, true, true, -1},
			{20.1, true, true, -1}, // one readiness so far: no spacing yet
			{40.1, false, true, 7}, // 20 ms apart
			{47.1, false, true, 7}, // ran to its bound: yield, bound again
			{54.1, true, true, 7},
			{60.1, false, true, 7},
			{61, false, false, 7}, // 0.9 ms after the yield: 6.1 ms left, rounded up
		}},
		{"a PING every 4 ms: waits bounded only where one may run past 7 ms", []wait{
			{0, true, true, -1},
			{4, true, false, -1},
			{8, true, true, -1},   // 0 + 4 < 7
			{12, false, false, 3}, // 4 + 4 >= 7: bounded at 7
			{15, true, true, -1},
			{16.1, true, false, -1}, // 1.1 + 4.1 < 7
		}},
		{"quiet for 50 ms: no bound until readiness again", []wait{
			{0, true, true, -1},
			{20, true, true, -1},
			{40, false, true, 7},
			{47, false, true, 7},
			{89.9, false, true, 7},    // 49.9 ms after the last readiness: bounded still
			{90.1, false, false, -1},  // 50.1 ms: idle, unbounded
			{300, true, true, -1},     // readiness again: 260 ms after the one before
			{300.5, false, false, -1}, // woken seldom: unbounded
		}},
		{"a PING every 500 ms: no wait bounded", []wait{
			{0, true, true, -1},
			{500, true, true, -1},
			{1000, false, true, -1}, // 500 ms apart: woken seldom
			{1000.5, false, false, -1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p pacer
			start := time.Unix(1000, 0)
			for i, w := range tc.waits {
				now := start.Add(time.Duration(w.ms * float64(time.Millisecond)))
				yield, timeout := p.before(now)
				if yield != w.yield || timeout != w.timeoutMs {
					t.Fatalf("wait %d at %v ms: yield %v, timeout %d ms; want %v, %d", i, w.ms, yield, timeout, w.yield, w.timeoutMs)
				}
				if w.ready {
					p.ready()
				}
			}
		})
	}
}
