//go:build linux && !portable

package evloop

import (
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// recorder is a Handler that keeps, in order, what the loop told it.
type recorder struct {
	calls []string
	types []msg.Type // of the frames received
	held  []int
	err   error
	at    time.Time // its deadline
	onDue func()
}

func (r *recorder) Frame(f *msg.Frame, _ time.Time) {
	typ, _ := f.Type()
	r.types = append(r.types, typ)
	r.calls = append(r.calls, "frame")
}

func (r *recorder) Held(n int, fresh bool, _ time.Time) {
	r.held = append(r.held, n)
	if fresh {
		r.calls = append(r.calls, "held fresh")
	} else {
		r.calls = append(r.calls, "held")
	}
}

func (r *recorder) Closed(midFrame bool, _ time.Time) {
	if midFrame {
		r.calls = append(r.calls, "closed mid-frame")
	} else {
		r.calls = append(r.calls, "closed")
	}
}

func (r *recorder) Failed(err error, _ time.Time) {
	r.err = err
	r.calls = append(r.calls, "failed")
}

func (r *recorder) Writable(time.Time) { r.calls = append(r.calls, "writable") }

func (r *recorder) Due(time.Time) {
	r.calls = append(r.calls, "due")
	if r.onDue != nil {
		r.onDue()
	}
}

func (r *recorder) Deadline() time.Time { return r.at }

// take returns the calls so far and forgets them.
func (r *recorder) take() []string {
	c := r.calls
	r.calls = nil
	return c
}

// pair is a loop with one end of a socketpair adopted; the other end is
// the test's.
func pair(t *testing.T) (*Loop, *Conn, *recorder, int) {
	t.Helper()
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	c := new(Conn)
	if err := l.Adopt(c, fds[0], r); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.CloseAll()
		l.Close()
		unix.Close(fds[1])
	})
	return l, c, r, fds[1]
}

// step waits for readiness and hands it over.
func step(t *testing.T, l *Loop) {
	t.Helper()
	if err := l.SetTimer(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Wait(); err != nil {
		t.Fatal(err)
	}
	l.Dispatch(time.Now())
}

func ping() msg.Frame {
	var f msg.Frame
	f.SetType(msg.Ping)
	return f
}

// pings writes n PINGs on fd.
func pings(fd, n int) {
	f := ping()
	for range n {
		unix.Write(fd, f[:])
	}
}

func want(t *testing.T, what string, got []string, w ...string) {
	t.Helper()
	if !slices.Equal(got, w) {
		t.Fatalf("%s: calls %q, want %q", what, got, w)
	}
}

// A frame that arrives in parts is handed over whole, once: its first
// bytes wait in the loop, and the handler hears when a frame starts and
// when it is complete.
func TestFrameHandedOverWhole(t *testing.T) {
	l, c, r, peer := pair(t)
	c.Receive(ReadFrames)
	f := ping()
	unix.Write(peer, f[:100])
	step(t, l)
	want(t, "100 bytes", r.take(), "held fresh")
	unix.Write(peer, f[100:600])
	step(t, l)
	want(t, "600 bytes", r.take(), "held")
	unix.Write(peer, f[600:])
	unix.Write(peer, f[:10]) // and the next frame's start
	step(t, l)
	want(t, "the rest", r.take(), "frame", "held fresh")
	if !slices.Equal(r.held, []int{100, 600, 10}) || !slices.Equal(r.types, []msg.Type{msg.Ping}) {
		t.Fatalf("held %v, frames %v", r.held, r.types)
	}
	unix.Write(peer, f[10:])
	step(t, l)
	want(t, "whole again", r.take(), "frame", "held")
	if r.held[len(r.held)-1] != 0 {
		t.Fatalf("held %v: want 0 at the end", r.held)
	}
	unix.Shutdown(peer, unix.SHUT_WR)
	step(t, l)
	want(t, "FIN", r.take(), "closed")
	if c.Interest()&(In|RdHup) != 0 {
		t.Fatalf("interest %#x after the FIN: still reading", c.Interest())
	}
}

// A FIN inside a frame says so.
func TestFINMidFrame(t *testing.T) {
	l, c, r, peer := pair(t)
	c.Receive(1)
	f := ping()
	unix.Write(peer, f[:5])
	unix.Shutdown(peer, unix.SHUT_WR)
	for range 3 {
		step(t, l)
		if len(r.calls) > 0 && r.calls[len(r.calls)-1] == "closed mid-frame" {
			return
		}
	}
	t.Fatalf("calls %q: want closed mid-frame", r.calls)
}

// A read takes no more frames than Receive allows, and none at all while
// it allows none: the rest waits in the kernel. The FIN is still seen
// then, with what it interrupted.
func TestReceiveBoundsTheRead(t *testing.T) {
	l, c, r, peer := pair(t)
	pings(peer, 10)
	f := ping()
	unix.Write(peer, f[:7])
	c.Receive(3)
	c.Ready(In, time.Now())
	if len(r.types) != 3 {
		t.Fatalf("%d frames in a read allowed 3", len(r.types))
	}
	c.Receive(0)
	if c.Interest()&In != 0 || c.Interest()&RdHup == 0 {
		t.Fatalf("interest %#x: want only the FIN watched", c.Interest())
	}
	c.Ready(In, time.Now())
	if len(r.types) != 3 {
		t.Fatalf("%d frames read while none were allowed", len(r.types))
	}
	c.Receive(ReadFrames)
	c.Ready(In, time.Now())
	if len(r.types) != 10 || r.held[0] != 7 {
		t.Fatalf("%d frames, held %v: want 10 and 7 bytes", len(r.types), r.held)
	}
	c.Receive(0)
	r.take()
	unix.Shutdown(peer, unix.SHUT_WR)
	step(t, l)
	want(t, "FIN while not read", r.take(), "closed mid-frame")
	c.Ready(Hup, time.Now()) // the peer gone: no error on the socket
	want(t, "hung up after the FIN", r.take(), "failed")
	if !errors.Is(r.err, ErrHungUp) {
		t.Fatalf("failed with %v, want ErrHungUp", r.err)
	}
}

// A frame whose handler stops reading ends the read: the frames after it
// are not handed over.
func TestStopEndsTheRead(t *testing.T) {
	_, c, r, peer := pair(t)
	pings(peer, 4)
	c.Receive(4)
	h := &stopper{recorder: r, c: c}
	c.h = h
	c.Ready(In, time.Now())
	if len(r.types) != 1 {
		t.Fatalf("%d frames after Stop: want 1", len(r.types))
	}
}

type stopper struct {
	*recorder
	c *Conn
}

func (s *stopper) Frame(f *msg.Frame, now time.Time) {
	s.recorder.Frame(f, now)
	s.c.Stop()
}

// Output the socket does not take waits, in order, behind the output
// before it; the socket's room is watched while it waits, the handler
// hears each time it moves, and the FIN asked for meanwhile follows it.
// Offer sends nothing while output waits.
func TestOutputWaitsThenFIN(t *testing.T) {
	_, c, r, peer := pair(t)
	f := ping()
	sent := 0
	for !c.Waiting() {
		if err := c.Send(f[:]); err != nil {
			t.Fatal(err)
		}
		sent += len(f)
	}
	c.Send([]byte("tail"))
	sent += 4
	if ok, err := c.Offer(f[:]); ok || err != nil {
		t.Fatalf("Offer behind waiting output: %v, %v", ok, err)
	}
	c.ShutWrite()
	if c.Interest()&Out == 0 {
		t.Fatalf("interest %#x while output waits: want Out", c.Interest())
	}
	got, buf := 0, make([]byte, 64<<10)
	for range 1000 {
		n, err := unix.Read(peer, buf)
		if n == 0 && err == nil {
			break // the FIN
		}
		if n > 0 {
			got += n
			if got == sent && string(buf[n-4:n]) != "tail" {
				t.Fatalf("last bytes %q, want the tail", buf[n-4:n])
			}
		}
		c.Ready(Out, time.Now())
	}
	if got != sent || c.Waiting() || c.Interest()&Out != 0 {
		t.Fatalf("peer read %d of %d bytes; waiting %v, interest %#x", got, sent, c.Waiting(), c.Interest())
	}
	if !slices.Contains(r.calls, "writable") {
		t.Fatalf("calls %q: the handler never heard the output move", r.calls)
	}
}

// A draining Conn drops what comes and tells of the peer's close.
func TestDrainDropsUntilClose(t *testing.T) {
	l, c, r, peer := pair(t)
	c.Receive(ReadFrames)
	c.Drain()
	f := ping()
	unix.Write(peer, f[:])
	step(t, l)
	unix.Shutdown(peer, unix.SHUT_WR)
	step(t, l)
	want(t, "drain", r.take(), "closed")
	if len(r.types) != 0 {
		t.Fatalf("%d frames handed over while draining", len(r.types))
	}
}

// Every deadline due is handed to its handler, which then gives its next;
// one not yet due is not; a stopped or closed conn is forgotten.
func TestExpireHandsDueDeadlines(t *testing.T) {
	l, c, r, _ := pair(t)
	r.at = time.Now().Add(time.Hour)
	c.SetDeadline(time.Now().Add(-time.Second))
	l.Expire()
	want(t, "due", r.take(), "due")
	if !l.Next().Equal(r.at) {
		t.Fatalf("next %v, want the handler's %v", l.Next(), r.at)
	}
	l.Expire()
	want(t, "an hour away", r.take())
	r.onDue = c.Stop
	c.SetDeadline(time.Now().Add(-time.Second))
	l.Expire()
	if !l.Next().IsZero() {
		t.Fatalf("after Stop: next deadline %v", l.Next())
	}
	fd := c.FD()
	c.Close(false)
	if l.Handler(fd) != nil {
		t.Fatalf("after Close: handler %v", l.Handler(fd))
	}
}

// A dial to a listener completes (Writable); one to a port nobody
// listens on fails.
func TestDial(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer l.CloseAll()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	for _, tc := range []struct {
		addr string
		call string
	}{{ln.Addr().String(), "writable"}, {closed.Addr().String(), "failed"}} {
		a, err := Resolve(tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		r, c := &recorder{}, new(Conn)
		err = l.Dial(a, c, r)
		switch {
		case err == ErrInProgress:
			for i := 0; len(r.calls) == 0 && i < 10; i++ {
				step(t, l)
			}
		case err == nil:
			r.calls = append(r.calls, "writable")
		default:
			r.calls = append(r.calls, "failed")
		}
		want(t, tc.addr, r.take(), tc.call)
	}
}
