//go:build !linux

package client

// fdTimer is Go's timer on systems without a timerfd: FineTimer falls back
// to it, and its waits end up to a few milliseconds late.
type fdTimer = goTimer

// newFDTimer returns nil: there is no timerfd here, so Run uses a goTimer.
func newFDTimer() *fdTimer { return nil }
