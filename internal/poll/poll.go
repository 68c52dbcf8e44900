//go:build linux

package poll

import (
	"errors"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Readiness bits, as epoll reports them.
const (
	In  = unix.EPOLLIN
	Out = unix.EPOLLOUT
	// RdHup: the peer has shut down its sending side (its FIN came), seen
	// even while In is not asked for.
	RdHup = unix.EPOLLRDHUP
	// Err and Hup are always reported, whatever was asked for.
	Err = unix.EPOLLERR
	Hup = unix.EPOLLHUP
)

// Ready is one descriptor's readiness.
type Ready struct {
	FD     int
	Events uint32
}

// Poller is an epoll set with a timer and a wake-up.
type Poller struct {
	ep, wake, timer int
	raw             []unix.EpollEvent
	ready           []Ready
	armed           time.Time // when the timer is set to fire; zero: disarmed
	yielded         time.Time // when Wait last yielded the processor
	scratch         [8]byte   // for reading the eventfd and the timerfd
}

// one is what Wake writes to the eventfd.
var one = [8]byte{1}

// batch is how many readiness reports one Wait returns at most; the rest
// wait for the next Wait, so no descriptor starves.
const batch = 256

// yieldEvery is how often Wait yields its processor to the scheduler. A
// goroutine that goes from epoll_wait to epoll_wait without ever being
// rescheduled looks to the runtime as if it had run for 10 ms straight: from
// then on, the runtime's monitor (sysmon) takes its processor away during
// each epoll_wait and hands it to another thread, so every wake-up comes back
// through the scheduler's slow path (a lock, and a futex call to wake the
// monitor) before the loop can read, and the monitor polls every 20
// microseconds. A yield well within the 10 ms keeps that from starting. It
// is not free (the runtime wakes a second thread, which looks for work and
// goes back to sleep), so not every wake-up: at most one every yieldEvery,
// after the frame that woke the loop has been answered.
//
// Measured on one connection with a PING 1 ms after each PONG (2 cores, AMD
// EPYC). Yielding only while busy (10 readiness reports in 5 ms), as the
// loop did before, left the monitor retaking the processor at each PING:
// perf stat over 5 s counted 3.9 futex calls and 4.8 thread switches a PING
// (0.4 and 1.9 with this yield). In six 5 s rounds alternating with pongd,
// before: RTT p50 68-91 us, p99 191-217 us, 35-40 ticks of CPU a round;
// yielding every 5 ms at any load: p50 55-75 us, p99 121-177 us, 14-18
// ticks; pongd: p50 54-71 us, p99 116-151 us, 11-14 ticks.
const yieldEvery = 5 * time.Millisecond

// New makes a Poller.
func New() (*Poller, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	p := &Poller{ep: ep, wake: -1, timer: -1, raw: make([]unix.EpollEvent, batch), ready: make([]Ready, 0, batch)}
	if p.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		p.Close()
		return nil, err
	}
	if p.timer, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK); err != nil {
		p.Close()
		return nil, err
	}
	for _, fd := range []int{p.wake, p.timer} {
		if err := p.Add(fd, In); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// Close releases the Poller's own descriptors; those added stay open.
func (p *Poller) Close() error {
	var errs []error
	for _, fd := range []int{p.timer, p.wake, p.ep} {
		if fd >= 0 {
			errs = append(errs, unix.Close(fd))
		}
	}
	return errors.Join(errs...)
}

// Add watches fd for events (In, Out or both; zero for only Err and Hup).
func (p *Poller) Add(fd int, events uint32) error {
	return unix.EpollCtl(p.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

// Modify changes what fd is watched for.
func (p *Poller) Modify(fd int, events uint32) error {
	return unix.EpollCtl(p.ep, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
}

// Remove stops watching fd. Closing fd removes it too.
func (p *Poller) Remove(fd int) error {
	return unix.EpollCtl(p.ep, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wake makes the Poller's current or next Wait return with woke set. Any
// goroutine may call it.
func (p *Poller) Wake() {
	unix.Write(p.wake, one[:]) // EAGAIN: a wake-up is already pending
}

// SetTimer makes Wait return with timedOut set at the instant at (zero:
// never). Setting the instant it is already set to costs nothing.
func (p *Poller) SetTimer(at time.Time) error {
	if at.Equal(p.armed) {
		return nil
	}
	p.armed = at
	var spec unix.ItimerSpec
	if !at.IsZero() {
		// A relative time: the monotonic clock is what time.Time measures
		// with, and a zero value would disarm the timer instead.
		spec.Value = unix.NsecToTimespec(max(int64(time.Until(at)), 1))
	}
	return unix.TimerfdSettime(p.timer, 0, &spec, nil)
}

// Wait blocks until a watched descriptor is ready, the timer fires or Wake
// is called. The slice it returns is valid until the next Wait.
func (p *Poller) Wait() (ready []Ready, woke, timedOut bool, err error) {
	if now := time.Now(); now.Sub(p.yielded) >= yieldEvery {
		runtime.Gosched()
		p.yielded = now
	}
	var n int
	for {
		n, err = unix.EpollWait(p.ep, p.raw, -1)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, false, false, err
	}
	p.ready = p.ready[:0]
	buf := p.scratch[:]
	for _, e := range p.raw[:n] {
		switch int(e.Fd) {
		case p.wake:
			unix.Read(p.wake, buf)
			woke = true
		case p.timer:
			unix.Read(p.timer, buf)
			p.armed = time.Time{}
			timedOut = true
		default:
			p.ready = append(p.ready, Ready{FD: int(e.Fd), Events: e.Events})
		}
	}
	return p.ready, woke, timedOut, nil
}
