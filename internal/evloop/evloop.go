//go:build linux && !portable

// Package evloop is the Linux event loop that hbserver's epoll backend and
// the load mode run on: one goroutine, one epoll set (package poll) with
// one timer for every deadline, and per connection nothing but its
// descriptor, its place in the deadlines, a frame's first bytes while the
// rest has not arrived, and the output the socket did not take yet.
//
// The loop owns the descriptors and does every read, write, accept,
// connect and close; its owner decides what the bytes mean. A Loop and its
// Conns belong to one goroutine, except Wake.
package evloop

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/deadline"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/poll"
)

// Readiness bits, as Handler.Ready receives them and Conn.Watch takes them.
const (
	In    = poll.In
	Out   = poll.Out
	RdHup = poll.RdHup
	Err   = poll.Err
	Hup   = poll.Hup
)

// ReadFrames is the size of the buffer every read lands in, in frames:
// a read takes no more than that, so that one busy connection does not
// starve the others.
const ReadFrames = 16

// ErrWouldBlock is what a read or an accept returns when there is nothing
// to take now.
var ErrWouldBlock = errors.New("would block")

// Handler is what a connection's owner does when the loop has news of it.
type Handler interface {
	// Ready is the readiness the poller reported (In, Out, RdHup, Err,
	// Hup), at now, read once after the wait.
	Ready(events uint32, now time.Time)
	// Due is the connection's deadline passing; now is read once for it.
	Due(now time.Time)
}

// Loop is an epoll set with its descriptors, their deadlines and the
// buffer every read lands in.
type Loop struct {
	p     *poll.Poller
	conns []*Conn // by file descriptor
	due   deadline.Queue[*Conn]
	rbuf  []byte
	// frames lends the partial frames their buffers.
	frames msg.Pool
	ready  []poll.Ready

	lfd      int // the listening descriptor; -1 when none
	accepter func(now time.Time)
}

// New makes a Loop.
func New() (*Loop, error) {
	p, err := poll.New()
	if err != nil {
		return nil, err
	}
	return &Loop{p: p, rbuf: make([]byte, ReadFrames*msg.FrameSize), lfd: -1}, nil
}

// Close releases the loop's own descriptors; the connections' stay open
// (CloseAll closes them).
func (l *Loop) Close() error { return l.p.Close() }

// Wake makes the current or next Wait return with woke set. Any goroutine
// may call it.
func (l *Loop) Wake() { l.p.Wake() }

// Wait blocks until a descriptor is ready, the timer fires or Wake is
// called; Dispatch then hands what is ready to the handlers.
func (l *Loop) Wait() (woke bool, err error) {
	ready, woke, _, err := l.p.Wait()
	l.ready = ready
	return woke, err
}

// Dispatch hands what the last Wait found ready to the handlers, at now.
func (l *Loop) Dispatch(now time.Time) {
	for _, r := range l.ready {
		switch {
		case r.FD == l.lfd:
			l.accepter(now)
		case r.FD < len(l.conns) && l.conns[r.FD] != nil:
			l.conns[r.FD].h.Ready(r.Events, now)
		}
	}
	l.ready = nil
}

// Expire hands every deadline that has passed to its handler, each with
// its own reading of the clock.
func (l *Loop) Expire() {
	for {
		now := time.Now()
		c, ok := l.due.Due(now)
		if !ok {
			return
		}
		c.h.Due(now)
	}
}

// Next is the earliest deadline of any connection; zero when none.
func (l *Loop) Next() time.Time { return l.due.Next() }

// SetTimer makes Wait return at the earliest of the connections'
// deadlines and also (zero: none).
func (l *Loop) SetTimer(also time.Time) error {
	at := l.due.Next()
	if !also.IsZero() && (at.IsZero() || also.Before(at)) {
		at = also
	}
	return l.p.SetTimer(at)
}

// Conn is one descriptor of the loop's.
type Conn struct {
	l        *Loop
	fd       int
	h        Handler
	slot     deadline.Slot
	interest uint32
	in       msg.Partial // a frame's first bytes, until the rest arrives
	out      []byte      // output the socket did not take yet; nil when none
	shutWant bool        // shut the write side once out is sent
}

// DeadlineSlot is c's place in the loop's deadlines.
func (c *Conn) DeadlineSlot() *deadline.Slot { return &c.slot }

// Adopt makes fd one of the loop's connections, handled by h. It is not
// watched until Watch says for what.
func (l *Loop) Adopt(fd int, h Handler) *Conn {
	c := &Conn{l: l, fd: fd, h: h}
	for fd >= len(l.conns) {
		l.conns = append(l.conns, nil)
	}
	l.conns[fd] = c
	return c
}

// FD is c's descriptor, for socket options.
func (c *Conn) FD() int { return c.fd }

// SyscallConn lets package sockopt work on c's descriptor.
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return FDConn(c.fd), nil }

// FDConn lets package sockopt work on a descriptor the loop owns.
type FDConn int

// SyscallConn is the descriptor itself.
func (c FDConn) SyscallConn() (syscall.RawConn, error) { return c, nil }

// Control calls f with the descriptor.
func (c FDConn) Control(f func(fd uintptr)) error { f(uintptr(c)); return nil }

// Read is not supported: the loop reads.
func (c FDConn) Read(func(fd uintptr) bool) error { return errors.ErrUnsupported }

// Write is not supported: the loop writes.
func (c FDConn) Write(func(fd uintptr) bool) error { return errors.ErrUnsupported }

// Interest is what the poller watches c for now.
func (c *Conn) Interest() uint32 { return c.interest }

// Watch sets what the poller watches c for (zero: only Err and Hup).
func (c *Conn) Watch(want uint32) error {
	if want == c.interest {
		return nil
	}
	var err error
	if c.interest == 0 {
		err = c.l.p.Add(c.fd, want)
	} else {
		err = c.l.p.Modify(c.fd, want)
	}
	if err != nil {
		return err
	}
	c.interest = want
	return nil
}

// StopIO stops watching c: it is neither read nor written.
func (c *Conn) StopIO() {
	c.l.p.Remove(c.fd)
	c.interest = 0
}

// SetDeadline sets c's deadline (zero: none).
func (c *Conn) SetDeadline(at time.Time) { c.l.due.Set(c, at) }

// Read reads into the loop's buffer, limit bytes at most, the partial
// frame kept from before (had bytes) first. data is that partial frame and
// what was read; eof reports that the peer has closed (data is then the
// partial frame alone); err is ErrWouldBlock when nothing was there, or
// the read's error. data is valid until the next read on any Conn: Keep
// saves its tail.
func (c *Conn) Read(limit int) (data []byte, had int, eof bool, err error) {
	buf := c.l.rbuf[:min(limit, len(c.l.rbuf))]
	had = c.in.Unread(buf)
	n, err := unix.Read(c.fd, buf[had:])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return nil, had, false, ErrWouldBlock
	case err != nil:
		return nil, had, false, err
	case n == 0:
		return buf[:had], had, true, nil
	}
	return buf[:had+n], had, false, nil
}

// Keep holds rest, the start of a frame, until the next Read.
func (c *Conn) Keep(rest []byte) { c.in.Keep(rest, &c.l.frames) }

// Release gives up the partial frame.
func (c *Conn) Release() { c.in.Release(&c.l.frames) }

// Write writes b; a socket that takes nothing now takes 0 bytes, no error.
func (c *Conn) Write(b []byte) (int, error) {
	n, err := unix.Write(c.fd, b)
	if err == unix.EAGAIN || err == unix.EINTR {
		return 0, nil
	}
	return n, err
}

// Hold keeps b (copied) as output for Flush to send.
func (c *Conn) Hold(b []byte) { c.out = append(c.out, b...) }

// Pending is how many bytes of output wait.
func (c *Conn) Pending() int { return len(c.out) }

// Waiting is whether output waits.
func (c *Conn) Waiting() bool { return c.out != nil }

// Flush writes the output that waits, when the socket takes it, and the
// FIN asked for after it; moved reports whether any was taken.
func (c *Conn) Flush() (moved bool, err error) {
	n, err := unix.Write(c.fd, c.out)
	if err == unix.EAGAIN || err == unix.EINTR {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if n < len(c.out) {
		c.out = c.out[n:]
		return true, nil
	}
	c.out = nil
	if c.shutWant {
		c.shutWant = false
		unix.Shutdown(c.fd, unix.SHUT_WR)
	}
	return true, nil
}

// ShutWrite sends a FIN once the output that waits is out.
func (c *Conn) ShutWrite() {
	if c.out != nil {
		c.shutWant = true
	} else {
		unix.Shutdown(c.fd, unix.SHUT_WR)
	}
}

// Drop reads and drops what the peer sent, one buffer's worth; closed
// reports that the peer has closed or the read failed.
func (c *Conn) Drop() (closed bool) {
	n, err := unix.Read(c.fd, c.l.rbuf)
	return n == 0 || (err != nil && err != unix.EAGAIN && err != unix.EINTR)
}

// Discard reads and drops, up to a bound, what the peer sent that was
// never read, so that closing sends a FIN: closing with bytes unread sends
// a RST, which can destroy what is still on its way to the peer.
func (c *Conn) Discard() {
	for range 64 {
		if n, err := unix.Read(c.fd, c.l.rbuf); n <= 0 || err != nil {
			return
		}
	}
}

// SocketError is the socket's pending error (SO_ERROR), or the error of
// reading it; nil when none.
func (c *Conn) SocketError() error {
	n, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if n != 0 {
		return unix.Errno(n)
	}
	return nil
}

// Close closes c's descriptor, with a RST when reset (SO_LINGER 0), and
// forgets it: its deadline, its partial frame, its output.
func (c *Conn) Close(reset bool) {
	if reset {
		unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	unix.Close(c.fd) // which takes it out of the epoll set
	if c.fd < len(c.l.conns) && c.l.conns[c.fd] == c {
		c.l.conns[c.fd] = nil
	}
	c.l.due.Set(c, time.Time{})
	c.Release()
	c.out = nil
}

// Each calls f with the handler of every connection still open.
func (l *Loop) Each(f func(h Handler)) {
	for _, c := range l.conns {
		if c != nil {
			f(c.h)
		}
	}
}

// CloseAll closes every connection still open, telling no handler.
func (l *Loop) CloseAll() {
	for _, c := range l.conns {
		if c != nil {
			c.Close(false)
		}
	}
}

// Listen accepts on lfd, a listening socket: accept is called at each
// readiness, and calls Accept until it has nothing more.
func (l *Loop) Listen(lfd int, accept func(now time.Time)) error {
	if err := l.p.Add(lfd, poll.In); err != nil {
		return err
	}
	l.lfd, l.accepter = lfd, accept
	return nil
}

// StopListening stops watching the listening socket.
func (l *Loop) StopListening() {
	if l.lfd >= 0 {
		l.p.Remove(l.lfd)
		l.lfd = -1
	}
}

// PauseAccepting stops (pause) or resumes watching the listening socket.
func (l *Loop) PauseAccepting(pause bool) {
	var want uint32 = poll.In
	if pause {
		want = 0
	}
	l.p.Modify(l.lfd, want)
}

// Accept takes one waiting connection: its descriptor, non-blocking, with
// TCP_NODELAY, and its peer's address. err is ErrWouldBlock when none
// waits.
func (l *Loop) Accept() (fd int, peer string, err error) {
	for {
		fd, sa, err := unix.Accept4(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == unix.EAGAIN:
			return -1, "", ErrWouldBlock
		case err == unix.ECONNABORTED || err == unix.EINTR:
			continue
		case err != nil:
			return -1, "", err
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		return fd, peerString(sa), nil
	}
}

func peerString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *unix.SockaddrInet6:
		return (&net.TCPAddr{IP: a.Addr[:], Port: a.Port}).String()
	}
	return "?"
}

// Addr is an address to dial, as the socket calls take it.
type Addr struct {
	sa     unix.Sockaddr
	domain int
}

// Resolve is addr ("host:port") as Dial takes it.
func Resolve(addr string) (Addr, error) {
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return Addr{}, err
	}
	if ip4 := a.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: a.Port}
		copy(sa.Addr[:], ip4)
		return Addr{sa, unix.AF_INET}, nil
	}
	sa := &unix.SockaddrInet6{Port: a.Port}
	copy(sa.Addr[:], a.IP.To16())
	if a.Zone != "" {
		ifi, err := net.InterfaceByName(a.Zone)
		if err != nil {
			return Addr{}, fmt.Errorf("address %s: %w", addr, err)
		}
		sa.ZoneId = uint32(ifi.Index)
	}
	return Addr{sa, unix.AF_INET6}, nil
}

// ErrInProgress is Dial's error while the handshake is under way: Out
// readiness (Watch) tells when it is done, and ConnectError how.
var ErrInProgress = errors.New("connect in progress")

// Dial starts a non-blocking handshake with a, handled by h. c is nil
// when no socket could be made (err says why); otherwise err is nil when
// the handshake is done, ErrInProgress while it goes on, or its failure.
func (l *Loop) Dial(a Addr, h Handler) (c *Conn, err error) {
	fd, err := unix.Socket(a.domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	// As Go's net package does: a frame leaves as soon as it is written.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	c = l.Adopt(fd, h)
	err = unix.Connect(fd, a.sa)
	if err == unix.EINPROGRESS {
		return c, ErrInProgress
	}
	return c, err
}

// ErrReset is the error of a connection the peer reset.
var ErrReset error = unix.ECONNRESET

// Handler is the handler of descriptor fd; nil when fd is not one of the
// loop's connections.
func (l *Loop) Handler(fd int) Handler {
	if fd < 0 || fd >= len(l.conns) || l.conns[fd] == nil {
		return nil
	}
	return l.conns[fd].h
}
