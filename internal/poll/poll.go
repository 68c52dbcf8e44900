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
	pace            pacer     // when Wait yields the processor (pace.go)
	scratch         [8]byte   // for reading the eventfd and the timerfd
}

// one is what Wake writes to the eventfd.
var one = [8]byte{1}

// batch is how many readiness reports one Wait returns at most; the rest
// wait for the next Wait, so no descriptor starves.
const batch = 256

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
	var n int
	for {
		now := time.Now()
		yield, timeout := p.pace.before(now)
		if yield {
			runtime.Gosched()
		}
		n, err = unix.EpollWait(p.ep, p.raw, timeout)
		if err == nil && n > 0 {
			p.pace.ready()
			break
		}
		if err != nil && err != unix.EINTR {
			return nil, false, false, err
		}
		// Interrupted, or the pacer's bound: wait again.
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
