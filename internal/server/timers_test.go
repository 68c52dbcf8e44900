package server

import (
	"math/rand/v2"
	"testing"
	"time"
)

// However often deadlines move, each connection holds one place in the
// timers, and they come due in order, at or after their instant.
func TestTimersOneEntryPerConnInOrder(t *testing.T) {
	t0 := time.Now()
	var tm timers
	conns := make([]*conn, 50)
	for i := range conns {
		conns[i] = &conn{heapIdx: -1}
	}
	r := rand.New(rand.NewPCG(1, 2))
	want := map[*conn]time.Time{}
	for range 10000 {
		c := conns[r.IntN(len(conns))]
		at := t0.Add(time.Duration(r.IntN(1000)) * time.Millisecond)
		if r.IntN(10) == 0 {
			at = time.Time{} // no deadline any more
			delete(want, c)
		} else {
			want[c] = at
		}
		tm.set(c, at)
		if tm.len() != len(want) {
			t.Fatalf("%d entries for %d connections with a deadline", tm.len(), len(want))
		}
	}
	if c := tm.due(t0.Add(-time.Nanosecond)); c != nil {
		t.Fatalf("a deadline came due before its instant")
	}
	last := time.Time{}
	for c := tm.due(t0.Add(time.Hour)); c != nil; c = tm.due(t0.Add(time.Hour)) {
		at, ok := want[c]
		if !ok {
			t.Fatal("a connection whose deadline was taken away came due")
		}
		if at.Before(last) {
			t.Fatalf("came due out of order: %v after %v", at.Sub(t0), last.Sub(t0))
		}
		last = at
		delete(want, c)
	}
	if len(want) != 0 {
		t.Fatalf("%d deadlines never came due", len(want))
	}
}
