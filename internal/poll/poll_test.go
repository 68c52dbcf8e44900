//go:build linux

package poll

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestReadiness(t *testing.T) {
	p := newPoller(t)
	fds := socketpair(t)
	if err := p.Add(fds[0], In); err != nil {
		t.Fatal(err)
	}
	unix.Write(fds[1], []byte("x"))
	ready, woke, timedOut, err := p.Wait()
	if err != nil || woke || timedOut || len(ready) != 1 || ready[0].FD != fds[0] || ready[0].Events&In == 0 {
		t.Fatalf("Wait = %v, %v, %v, %v; want fd %d readable", ready, woke, timedOut, err, fds[0])
	}
	// Level-triggered: unread, it is reported again.
	if ready, _, _, _ := p.Wait(); len(ready) != 1 {
		t.Fatalf("second Wait = %v, want the same fd again", ready)
	}
	// Watched for nothing but errors, a readable fd is not reported.
	if err := p.Modify(fds[0], 0); err != nil {
		t.Fatal(err)
	}
	p.SetTimer(time.Now().Add(time.Millisecond))
	if ready, _, timedOut, _ := p.Wait(); len(ready) != 0 || !timedOut {
		t.Fatalf("Wait after Modify(0) = %v, timed out %v; want only the timer", ready, timedOut)
	}
}

func TestTimerFiresNotBefore(t *testing.T) {
	p := newPoller(t)
	for _, d := range []time.Duration{0, time.Microsecond, 3 * time.Millisecond} {
		at := time.Now().Add(d)
		if err := p.SetTimer(at); err != nil {
			t.Fatal(err)
		}
		_, _, timedOut, err := p.Wait()
		if err != nil || !timedOut {
			t.Fatalf("Wait = %v, %v; want the timer", timedOut, err)
		}
		if now := time.Now(); now.Before(at) {
			t.Fatalf("timer for %v fired %v early", d, at.Sub(now))
		}
	}
}

func TestDisarm(t *testing.T) {
	p := newPoller(t)
	p.SetTimer(time.Now().Add(time.Millisecond))
	p.SetTimer(time.Time{})
	p.Wake()
	_, woke, timedOut, err := p.Wait()
	if err != nil || !woke || timedOut {
		t.Fatalf("Wait = woke %v, timed out %v, %v; want only the wake-up", woke, timedOut, err)
	}
}

func TestWakeFromAnotherGoroutine(t *testing.T) {
	p := newPoller(t)
	go p.Wake()
	_, woke, _, err := p.Wait()
	if err != nil || !woke {
		t.Fatalf("Wait = woke %v, %v", woke, err)
	}
}

// A peer's FIN is reported as RdHup to a descriptor that watches for it
// and not for In, with unread data still waiting.
func TestRdHupWithoutIn(t *testing.T) {
	p := newPoller(t)
	fds := socketpair(t)
	if err := p.Add(fds[0], RdHup); err != nil {
		t.Fatal(err)
	}
	unix.Write(fds[1], []byte("x"))
	p.SetTimer(time.Now().Add(time.Millisecond))
	if ready, _, timedOut, _ := p.Wait(); len(ready) != 0 || !timedOut {
		t.Fatalf("Wait = %v, timed out %v; want data alone not reported", ready, timedOut)
	}
	unix.Shutdown(fds[1], unix.SHUT_WR)
	ready, _, _, err := p.Wait()
	if err != nil || len(ready) != 1 || ready[0].Events&RdHup == 0 || ready[0].Events&Hup != 0 {
		t.Fatalf("Wait = %v, %v; want RdHup (and not Hup) after the peer's FIN", ready, err)
	}
}

// socketpair is a connected pair of non-blocking sockets, closed when the
// test ends.
func socketpair(t *testing.T) [2]int {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds
}
