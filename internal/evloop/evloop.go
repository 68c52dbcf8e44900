//go:build linux && !portable

// Package evloop is the Linux event loop that hbserver's epoll backend and
// the load mode run on: one goroutine, one epoll set (package poll) with
// one timer for every deadline, and per connection nothing but its
// descriptor, its place in the deadlines, a frame's first bytes while the
// rest has not arrived, and the output the socket did not take yet.
//
// The loop owns the descriptors and does every read, write, accept,
// connect and close. It reassembles the frames and hands each whole one
// to the connection's Handler, which decides what it means; it keeps what
// the socket did not take and sends it when the socket takes more. A Loop
// and its Conns belong to one goroutine, except Wake.
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

// Readiness bits, as Conn.Ready takes them and Conn.Interest gives them.
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

// ErrWouldBlock is what Accept returns when no connection waits.
var ErrWouldBlock = errors.New("would block")

// ErrHungUp is a connection's failure when the poller reports it hung up
// and the socket holds no error that says why.
var ErrHungUp = errors.New("connection hung up")

// Handler is what a connection's owner does when the loop has news of it.
// now is read once per wake-up, after the wait, for every call it makes;
// Due has its own reading. After each call, unless the owner closed or
// stopped the connection, the loop asks Deadline for its next deadline.
type Handler interface {
	// Frame is one whole frame received. f is in the loop's read buffer,
	// valid (and the owner's to change, to send from) until Frame
	// returns. The loop reads no more frames at a time than Receive
	// allows, and hands over every one it read while the Conn reads.
	Frame(f *msg.Frame, now time.Time)
	// Held is a read that left the first n bytes of a frame waiting for
	// the rest, or (n zero) that completed the frame that waited; fresh
	// says the frame began in this read. A read that leaves nothing
	// waiting, as nothing waited before, does not call it.
	Held(n int, fresh bool, now time.Time)
	// Closed is the peer's FIN: midFrame says part of a frame had come.
	// The Conn is read no more. A draining Conn gets it (midFrame false)
	// when its peer closes or its read fails.
	Closed(midFrame bool, now time.Time)
	// Failed is a read or write that failed, or the poller's report that
	// the connection is broken (ErrHungUp when the socket says no more);
	// the owner is expected to close it.
	Failed(err error, now time.Time)
	// Writable is the socket taking output that waited (Pending says how
	// much still waits), or the handshake of a Dial done.
	Writable(now time.Time)
	// Due is the connection's deadline passing, at now.
	Due(now time.Time)
	// Deadline is the connection's next deadline; zero when none.
	Deadline() time.Time
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
			l.conns[r.FD].Ready(r.Events, now)
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
		c.reschedule()
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

// input is what a Conn does with what its peer sends.
type input uint8

const (
	reading    input = iota // frames, as many as Receive allows, and the FIN
	connecting              // a Dial's handshake is under way
	draining                // what comes is dropped, until the FIN
	shut                    // the FIN came: nothing more to read
	idle                    // StopIO: neither read nor written
	done                    // Stop or Close: the handler hears no more
)

// Conn is one descriptor of the loop's. The owner keeps it, usually in
// the Handler's own struct, so that the loop reaches the handler's state
// without a further pointer; the zero Conn is ready for Adopt or Dial.
type Conn struct {
	l        *Loop
	h        Handler
	fd       int
	mode     input
	room     int // whole frames a read may take; zero: not read
	inSet    bool
	interest uint32
	slot     deadline.Slot
	in       msg.Partial // a frame's first bytes, until the rest arrives
	out      []byte      // output the socket did not take yet; nil when none
	shutWant bool        // shut the write side once out is sent
}

// DeadlineSlot is c's place in the loop's deadlines.
func (c *Conn) DeadlineSlot() *deadline.Slot { return &c.slot }

// Adopt makes fd, a connected socket, one of the loop's connections, kept
// in c and handled by h. It reads nothing until Receive allows; its FIN
// and errors are watched from now on.
func (l *Loop) Adopt(c *Conn, fd int, h Handler) error {
	l.init(c, fd, h, reading)
	return c.watch()
}

func (l *Loop) init(c *Conn, fd int, h Handler, mode input) {
	*c = Conn{l: l, h: h, fd: fd, mode: mode}
	for fd >= len(l.conns) {
		l.conns = append(l.conns, nil)
	}
	l.conns[fd] = c
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

// watch has the poller watch c for what its state asks: frames while
// they are allowed, the FIN until it came, the socket's room while
// output waits. It is where every change of interest goes.
func (c *Conn) watch() error {
	var want uint32
	switch c.mode {
	case reading:
		want = RdHup // a FIN is seen even while c is not read
		if c.room > 0 {
			want |= In
		}
	case connecting:
		want = Out
	case draining:
		want = In
	case idle, done:
		return nil
	}
	if c.out != nil {
		want |= Out
	}
	if c.inSet && want == c.interest {
		return nil
	}
	var err error
	if c.inSet {
		err = c.l.p.Modify(c.fd, want)
	} else {
		err = c.l.p.Add(c.fd, want)
	}
	if err != nil {
		return err
	}
	c.inSet, c.interest = true, want
	return nil
}

// Receive sets how many whole frames one read may take (zero: c is not
// read, and what its peer sends waits in the kernel's buffers). An owner
// that can take only so many frames before it must act says so here, so
// that the loop never reads ahead of it. An error is the poller's, from
// changing what it watches.
func (c *Conn) Receive(frames int) error {
	c.room = frames
	return c.watch()
}

// Drain has the loop read and drop what the peer sends from now on,
// rather than frames, until the peer closes (Handler.Closed).
func (c *Conn) Drain() {
	if c.mode == reading || c.mode == shut {
		c.mode = draining
		c.in.Release(&c.l.frames)
		c.watch()
	}
}

// StopIO stops watching c: it is neither read nor written, and its
// handler hears only of its deadlines.
func (c *Conn) StopIO() {
	if c.inSet {
		c.l.p.Remove(c.fd)
	}
	c.inSet, c.interest, c.mode = false, 0, idle
}

// Stop tells the loop that the owner is done with c, which it closes
// later: its handler hears no more, its deadline, partial frame and
// output are dropped.
func (c *Conn) Stop() {
	c.mode = done
	c.l.due.Set(c, time.Time{})
	c.in.Release(&c.l.frames)
	c.out = nil
}

// SetDeadline sets c's deadline (zero: none). The loop sets it itself
// after each handler call, from Deadline.
func (c *Conn) SetDeadline(at time.Time) { c.l.due.Set(c, at) }

// reschedule sets c's deadline to its handler's, unless c is done.
func (c *Conn) reschedule() {
	if c.mode != done {
		c.l.due.Set(c, c.h.Deadline())
	}
}

// Ready handles the readiness the poller reported for c (In, Out, RdHup,
// Err, Hup), at now: Dispatch calls it; a test may, to drive c at exact
// times.
func (c *Conn) Ready(events uint32, now time.Time) {
	c.ready(events, now)
	c.reschedule()
}

func (c *Conn) ready(events uint32, now time.Time) {
	if c.mode == connecting {
		c.connected(events, now)
		return
	}
	if events&Out != 0 && c.out != nil {
		c.flush(now)
	}
	broken := events&(Err|Hup) != 0
	switch {
	case c.mode == draining && (events&In != 0 || broken):
		c.drop(now)
	case c.mode == reading && c.room > 0 && (events&In != 0 || broken):
		c.read(now) // which sees the FIN, if any, after the frames before it
	case c.mode == reading && events&RdHup != 0:
		// The FIN while c is not read: what the peer sent that was not
		// read yet stays unread.
		c.closed(c.in.Len() > 0, now)
	case (c.mode == reading || c.mode == shut) && broken:
		// Not reading: the error is all there is to learn, and it must be
		// handled, or it is reported again.
		err := c.SocketError()
		if err == nil {
			err = ErrHungUp
		}
		c.h.Failed(err, now)
	}
}

// connected finishes a Dial's handshake: the handler hears that c is
// writable, or why the handshake failed.
func (c *Conn) connected(events uint32, now time.Time) {
	switch err := c.SocketError(); {
	case err != nil:
		c.h.Failed(err, now)
	case events&Out != 0:
		c.mode = reading
		if err := c.watch(); err != nil {
			c.h.Failed(err, now)
			return
		}
		c.h.Writable(now)
	default:
		c.h.Failed(ErrHungUp, now)
	}
}

// read takes what the socket holds, as many whole frames as Receive
// allows, the partial frame kept from before first, and hands the handler
// every whole frame in it; the rest of a frame waits in the loop.
func (c *Conn) read(now time.Time) {
	buf := c.l.rbuf[:min(c.room, ReadFrames)*msg.FrameSize]
	had := c.in.Unread(buf)
	n, err := unix.Read(c.fd, buf[had:])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return
	case err != nil:
		c.h.Failed(err, now)
		return
	case n == 0:
		c.closed(had > 0, now)
		return
	}
	data := buf[:had+n]
	whole := false
	for len(data) >= msg.FrameSize {
		c.h.Frame((*msg.Frame)(data[:msg.FrameSize]), now)
		if c.mode != reading {
			return // the rest is dropped: the owner takes no more
		}
		data = data[msg.FrameSize:]
		whole = true
	}
	if len(data) > 0 || had > 0 {
		c.in.Keep(data, &c.l.frames)
		c.h.Held(len(data), len(data) > 0 && (whole || had == 0), now)
	}
}

// closed is the peer's FIN: c is read no more.
func (c *Conn) closed(midFrame bool, now time.Time) {
	c.mode = shut
	c.watch()
	c.h.Closed(midFrame, now)
}

// drop reads and drops what a draining peer sent, one buffer's worth; its
// close, or a failed read, ends the drain.
func (c *Conn) drop(now time.Time) {
	n, err := unix.Read(c.fd, c.l.rbuf)
	if n == 0 || (err != nil && err != unix.EAGAIN && err != unix.EINTR) {
		c.mode = shut
		c.watch()
		c.h.Closed(false, now)
	}
}

// write writes b; a socket that takes nothing now takes 0 bytes, no error.
func (c *Conn) write(b []byte) (int, error) {
	n, err := unix.Write(c.fd, b)
	if err == unix.EAGAIN || err == unix.EINTR {
		return 0, nil
	}
	return n, err
}

// Send writes b, or what the socket takes of it, and keeps the rest
// (copied) to send when the socket takes more; behind output that waits,
// all of b waits. err is the write's failure.
func (c *Conn) Send(b []byte) error {
	if c.out != nil {
		c.out = append(c.out, b...)
		return nil
	}
	n, err := c.write(b)
	if err != nil {
		return err
	}
	if n < len(b) {
		c.hold(b[n:])
	}
	return nil
}

// Offer writes b unless output waits or the socket takes none of it, and
// reports whether it did; the rest of a b taken in part is kept (copied)
// and sent when the socket takes more. err is the write's failure.
func (c *Conn) Offer(b []byte) (sent bool, err error) {
	if c.out != nil {
		return false, nil
	}
	n, err := c.write(b)
	switch {
	case err != nil || n == 0:
		return false, err
	case n < len(b):
		c.hold(b[n:])
	}
	return true, nil
}

// hold keeps b, copied, as output that waits.
func (c *Conn) hold(b []byte) {
	c.out = append(c.out, b...)
	c.watch()
}

// Pending is how many bytes of output wait.
func (c *Conn) Pending() int { return len(c.out) }

// Waiting is whether output waits.
func (c *Conn) Waiting() bool { return c.out != nil }

// flush writes the output that waits, and the FIN asked for after it;
// the handler hears of it when the socket took any.
func (c *Conn) flush(now time.Time) {
	n, err := c.write(c.out)
	switch {
	case err != nil:
		c.h.Failed(err, now)
		return
	case n == 0:
		return
	case n < len(c.out):
		c.out = c.out[n:]
	default:
		c.out = nil
		if c.shutWant {
			c.shutWant = false
			unix.Shutdown(c.fd, unix.SHUT_WR)
		}
		c.watch()
	}
	c.h.Writable(now)
}

// ShutWrite sends a FIN once the output that waits is out.
func (c *Conn) ShutWrite() {
	if c.out != nil {
		c.shutWant = true
	} else {
		unix.Shutdown(c.fd, unix.SHUT_WR)
	}
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
	c.Stop()
	c.inSet, c.interest = false, 0
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

// ErrInProgress is Dial's error while the handshake is under way: the
// handler hears when it is done (Writable) or how it failed (Failed).
var ErrInProgress = errors.New("connect in progress")

// ErrNoSocket wraps Dial's error when no socket could be made: then c
// is not the loop's.
var ErrNoSocket = errors.New("socket")

// Dial starts a non-blocking handshake with a, kept in c and handled by
// h. err is nil when the handshake is done, ErrInProgress while it goes
// on, or its failure (c is then the loop's, to Stop and Close); an error
// that wraps ErrNoSocket says no socket could be made.
func (l *Loop) Dial(a Addr, c *Conn, h Handler) error {
	fd, err := unix.Socket(a.domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoSocket, err)
	}
	// As Go's net package does: a frame leaves as soon as it is written.
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	l.init(c, fd, h, connecting)
	switch err = unix.Connect(fd, a.sa); err {
	case nil:
		c.mode = reading
	case unix.EINPROGRESS:
		err = ErrInProgress
	default:
		return err
	}
	if werr := c.watch(); werr != nil {
		return werr
	}
	return err
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
