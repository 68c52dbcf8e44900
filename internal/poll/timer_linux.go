//go:build linux

package poll

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fdTimer is a timerfd read through Go's poller: the poller wakes when the
// descriptor becomes readable, which the kernel does to the microsecond.
// One goroutine reads it and sends each expiry on ch.
type fdTimer struct {
	fd   int
	f    *os.File
	ch   chan time.Time
	done sync.WaitGroup
}

// newFineTimer makes an fdTimer, or returns nil when the system has none.
func newFineTimer() Timer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK)
	if err != nil {
		return nil
	}
	t := &fdTimer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd"), ch: make(chan time.Time, 1)}
	t.done.Add(1)
	go func() {
		defer t.done.Done()
		var buf [8]byte
		for {
			if _, err := t.f.Read(buf[:]); err != nil {
				return // closed by Stop
			}
			select {
			case t.ch <- time.Now():
			default: // one fire waiting is enough
			}
		}
	}()
	return t
}

func (t *fdTimer) Set(at time.Time) {
	var spec unix.ItimerSpec
	if !at.IsZero() {
		// Relative: the monotonic clock is what time.Time measures with;
		// zero would disarm instead.
		spec.Value = unix.NsecToTimespec(max(int64(time.Until(at)), 1))
	}
	// It fails only on a bad descriptor or a bad spec, neither possible
	// here while its owner holds the timer.
	unix.TimerfdSettime(t.fd, 0, &spec, nil)
}
func (t *fdTimer) C() <-chan time.Time { return t.ch }

// stop closes the timerfd and waits for its reader to end.
func (t *fdTimer) Stop() {
	t.f.Close()
	t.done.Wait()
}
