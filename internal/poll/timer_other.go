//go:build !linux

package poll

// newFineTimer returns nil: there is no timerfd here, so NewTimer falls
// back to Go's timer, whose waits end up to a few milliseconds late.
func newFineTimer() Timer { return nil }
