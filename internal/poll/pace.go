//go:build linux

package poll

import "time"

// The Go runtime's monitor (sysmon) counts a goroutine that has not been
// rescheduled for 10 ms as running too long. A loop goroutine goes from
// epoll_wait to epoll_wait and is never rescheduled on its own, so from
// then on the monitor takes its processor away during each epoll_wait and
// hands it to another thread: every wake-up comes back through the
// scheduler's slow path (a lock, a futex call) before the loop can read,
// and each time the monitor takes a processor it goes back to polling
// every 20 microseconds. So the loop yields (runtime.Gosched) before a
// wait once yieldEvery has passed since the last yield, and a wait that
// may run past boundAt after it, judged by how far apart the last two
// wake-ups with readiness were, is bounded there, so that the loop wakes
// and yields in time.
//
// Neither is free. A yield makes the runtime wake a second thread, which
// looks for work and sleeps again, and a yield just after a PONG is
// written delays the next wait, which on loopback is the client's turn to
// run. A bounded wait arms and cancels a kernel timer, which on this
// virtual machine cost a PING a millisecond 3 us of round trip (p50 45 us
// against 42 us without bounds, ten alternating rounds). So waits are
// bounded only where the wake-ups are far apart, and an idle loop's not
// at all.
//
// Measured on one connection (2 cores, AMD EPYC). A PING 1 ms after each
// PONG, yielding only while busy (10 readiness reports in 5 ms), left the
// monitor retaking the processor at each PING: perf stat over 5 s counted
// 3.9 futex calls and 4.8 thread switches a PING (0.4 and 1.9 with a yield
// every 5 ms). A PING 20 ms after each PONG, with a yield every 5 ms but
// no bound on waits, kept the monitor polling every 20 microseconds (2,800
// sleeps a second): 34-42 ticks of CPU in 5 s (7-8% of a core) for 50
// PINGs a second, and a round trip p50 of 205-258 us against a C server's
// 148-186 us; with the bound, 6-9 ticks (1.2-1.8%) and 175-212 us.

// yieldEvery is how often the loop yields while in use.
const yieldEvery = 5 * time.Millisecond

// boundAt is where a wait that may run long ends, after the last yield:
// within the monitor's 10 ms with room for epoll_wait's rounding to the
// millisecond above and for the work of one wake-up.
const boundAt = 7 * time.Millisecond

// idleAfter is how long after its last readiness, or how far apart its
// last two, the loop stops bounding its waits: a loop that is idle, or
// woken seldom, sleeps until something happens, rather than waking to
// yield every 7 ms, and each wake-up after pays the slow path once. A
// bound costs a wake-up per 7 ms of quiet; a processor taken back costs
// the monitor's polling for a millisecond or two. Past 50 ms apart the
// bound costs more: with a PING every 500 ms and a bound for up to a
// second after each, hbserver woke about 140 times a second, 10-12 CPU
// ticks in 8 s against 2-3 without the bound.
const idleAfter = 50 * time.Millisecond

// pacer is the rule above as a pure function of the clock: Wait asks it
// before each epoll_wait whether to yield and how long the wait may
// block, and tells it when a wait returned readiness. The zero value
// yields at the first wait and does not bound it.
type pacer struct {
	yielded time.Time // the last yield
	// handled is when the last readiness was handled: the start of the
	// wait after it, read there so that no clock is read for it; spacing
	// is how far apart the last two were.
	handled time.Time
	spacing time.Duration
	woke    bool // the last wait returned readiness
}

// before says, at now, whether to yield first and the longest the wait
// may block, in whole milliseconds as epoll_wait takes it, rounded up (a
// wait that ends before its bound would only wait again): -1 for no bound.
func (p *pacer) before(now time.Time) (yield bool, timeoutMs int) {
	if p.woke {
		if !p.handled.IsZero() {
			p.spacing = now.Sub(p.handled)
		}
		p.handled, p.woke = now, false
	}
	if now.Sub(p.yielded) >= yieldEvery {
		yield = true
		p.yielded = now
	}
	since := now.Sub(p.yielded)
	if p.handled.IsZero() || now.Sub(p.handled) >= idleAfter || p.spacing >= idleAfter || since+p.spacing < boundAt {
		return yield, -1
	}
	left := boundAt - since
	return yield, int((left + time.Millisecond - 1) / time.Millisecond)
}

// ready records that the last wait returned readiness.
func (p *pacer) ready() { p.woke = true }
