package client

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The timerfd timer fires at its instant, never before, moves when set
// again, and leaves nothing behind when stopped.
func TestFDTimer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tm := newFDTimer()
	if tm == nil {
		t.Skip("no timerfd here")
	}
	defer tm.stop()
	var lates []time.Duration
	for range 20 {
		tm.set(time.Now().Add(time.Hour)) // moved from far away...
		at := time.Now().Add(5 * time.Millisecond)
		tm.set(at) // ...to near
		fired := <-tm.c()
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
