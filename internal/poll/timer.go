package client

import "time"

// timer is what Run waits on for the heartbeat's next deadline.
type timer interface {
	// set arms the timer for at, or disarms it (at zero). An expiry
	// already on its way may still arrive after set: Run treats a fire
	// before the deadline as nothing due.
	set(at time.Time)
	c() <-chan time.Time
	stop()
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

func (g *goTimer) set(at time.Time) {
	g.t.Stop() // since Go 1.23, this leaves no stale value in the channel
	if !at.IsZero() {
		g.t.Reset(time.Until(at))
	}
}
func (g *goTimer) c() <-chan time.Time { return g.t.C }
func (g *goTimer) stop()               { g.t.Stop() }
