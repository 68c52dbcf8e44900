// Package poll is the Linux timers and readiness the event loops wait on.
//
// A Poller (Linux) is a thin epoll set for one event loop: file
// descriptors with the readiness they wait for, one timer with nanosecond
// resolution (a timerfd: epoll_wait's own timeout counts whole
// milliseconds, too coarse to keep a 2 ms promise) and a wake-up any
// goroutine may ring (an eventfd). A Poller belongs to one goroutine,
// except Wake, which any goroutine may call. Readiness is level-triggered:
// a descriptor that is still readable is reported again by the next Wait.
//
// A Timer is the same nanosecond timer for a goroutine that waits on a
// channel (hbclient's single connection): a timerfd on Linux, Go's own
// timer elsewhere.
package poll
