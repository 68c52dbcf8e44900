package poll

import "time"

// Timer is a one-shot timer a goroutine waits on, for a deadline that
// moves.
type Timer interface {
	// Set arms the timer for at, or disarms it (at zero). An expiry
	// already on its way may still arrive after Set: the waiter treats a
	// fire before its deadline as nothing due.
	Set(at time.Time)
	// C delivers the time of each expiry.
	C() <-chan time.Time
	// Stop disarms the timer and releases what it holds.
	Stop()
}

// NewTimer is a timerfd when fine is true and the system has one, and Go's
// timer otherwise.
func NewTimer(fine bool) Timer {
	if fine {
		if t := newFineTimer(); t != nil {
			return t
		}
	}
	return newGoTimer()
}

// goTimer is Go's timer: the one testing/synctest's fake clock drives.
// Its waits end in the runtime's poller, whose timeout counts whole
// milliseconds, so it fires up to a few milliseconds late.
type goTimer struct{ t *time.Timer }

func newGoTimer() *goTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &goTimer{t: t}
}

func (g *goTimer) Set(at time.Time) {
	g.t.Stop() // since Go 1.23, this leaves no stale value in the channel
	if !at.IsZero() {
		g.t.Reset(time.Until(at))
	}
}
func (g *goTimer) C() <-chan time.Time { return g.t.C }
func (g *goTimer) Stop()               { g.t.Stop() }
