package poll

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The timerfd timer fires at its instant, never before, moves when set
// again, and leaves nothing behind when stopped.
func TestFineTimer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tm := newFineTimer()
	if tm == nil {
		t.Skip("no timerfd here")
	}
	testTimer(t, tm)
}

// Go's timer, NewTimer's fallback, keeps the same promises.
func TestGoTimer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	testTimer(t, NewTimer(false))
}

func testTimer(t *testing.T, tm Timer) {
	defer tm.Stop()
	var lates []time.Duration
	for range 20 {
		tm.Set(time.Now().Add(time.Hour)) // moved from far away...
		at := time.Now().Add(5 * time.Millisecond)
		tm.Set(at) // ...to near
		fired := <-tm.C()
		if fired.Before(at) {
			t.Fatalf("fired %v before its instant", at.Sub(fired))
		}
		lates = append(lates, fired.Sub(at))
	}
	// Loose enough for -race on a loaded machine; the point is that it
	// fires, in order, after its instant. bench.sh measures how closely.
	for _, l := range lates {
		if l > 100*time.Millisecond {
			t.Fatalf("fired %v late", l)
		}
	}
	t.Logf("late by %v", lates)
}
