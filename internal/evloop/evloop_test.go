//go:build linux && !portable

package evloop

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// recorder is a Handler that keeps what the loop told it.
type recorder struct {
	ready []uint32
	due   []time.Time
}

func (r *recorder) Ready(events uint32, _ time.Time) { r.ready = append(r.ready, events) }
func (r *recorder) Due(now time.Time)                { r.due = append(r.due, now) }

// pair is a loop with one end of a socketpair adopted and watched for In;
// the other end is the test's.
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
	c := l.Adopt(fds[0], r)
	t.Cleanup(func() {
		l.CloseAll()
		l.Close()
		unix.Close(fds[1])
	})
	if err := c.Watch(In); err != nil {
		t.Fatal(err)
	}
	return l, c, r, fds[1]
}

// A frame that arrives in two parts is read whole: its first bytes wait
// in the loop until the rest comes.
func TestPartialFrameKeptUntilWhole(t *testing.T) {
	l, c, r, peer := pair(t)
	var f msg.Frame
	f.SetType(msg.Ping)
	unix.Write(peer, f[:100])
	if _, err := l.Wait(); err != nil {
		t.Fatal(err)
	}
	l.Dispatch(time.Now())
	if len(r.ready) != 1 || r.ready[0]&In == 0 {
		t.Fatalf("ready %v: want In once", r.ready)
	}
	data, had, eof, err := c.Read(ReadFrames * msg.FrameSize)
	if err != nil || eof || had != 0 || len(data) != 100 {
		t.Fatalf("first read: %d bytes, had %d, eof %v, %v", len(data), had, eof, err)
	}
	c.Keep(data)
	if _, _, _, err := c.Read(msg.FrameSize); err != ErrWouldBlock {
		t.Fatalf("read of nothing: %v, want ErrWouldBlock", err)
	}
	unix.Write(peer, f[100:])
	data, had, _, err = c.Read(msg.FrameSize)
	if err != nil || had != 100 || len(data) != msg.FrameSize || !ping(data) {
		t.Fatalf("second read: %d bytes, had %d, %v", len(data), had, err)
	}
	unix.Shutdown(peer, unix.SHUT_WR)
	if _, _, eof, err := c.Read(msg.FrameSize); !eof || err != nil {
		t.Fatalf("after the FIN: eof %v, %v", eof, err)
	}
}

// Output the socket does not take waits, in order, for Flush; the FIN
// asked for meanwhile follows it.
func TestHeldOutputFlushedThenFIN(t *testing.T) {
	_, c, _, peer := pair(t)
	c.Hold([]byte("ab"))
	c.Hold([]byte("cd"))
	c.ShutWrite()
	if c.Pending() != 4 {
		t.Fatalf("%d bytes pending, want 4", c.Pending())
	}
	if moved, err := c.Flush(); !moved || err != nil || c.Waiting() {
		t.Fatalf("flush: moved %v, %v, still waiting %v", moved, err, c.Waiting())
	}
	buf := make([]byte, 8)
	n, _ := unix.Read(peer, buf)
	if string(buf[:n]) != "abcd" {
		t.Fatalf("peer read %q", buf[:n])
	}
	if n, err := unix.Read(peer, buf); n != 0 || err != nil {
		t.Fatalf("after the output: %d bytes, %v; want the FIN", n, err)
	}
}

// Every deadline due is handed to its handler; one not yet due, and one
// cleared, are not; a closed conn is forgotten.
func TestExpireHandsDueDeadlines(t *testing.T) {
	l, c, r, _ := pair(t)
	past := time.Now().Add(-time.Second)
	c.SetDeadline(past)
	l.Expire()
	if len(r.due) != 1 || r.due[0].Before(past) {
		t.Fatalf("due %v: want one call at or after %v", r.due, past)
	}
	c.SetDeadline(time.Now().Add(time.Hour))
	l.Expire()
	if len(r.due) != 1 {
		t.Fatalf("%d calls: a deadline an hour away was handed over", len(r.due))
	}
	fd := c.FD()
	c.Close(false)
	if l.Handler(fd) != nil || !l.Next().IsZero() {
		t.Fatalf("after Close: handler %v, next deadline %v", l.Handler(fd), l.Next())
	}
}

// ping reports whether data is one whole PING.
func ping(data []byte) bool {
	typ, _ := (*msg.Frame)(data).Type()
	return typ == msg.Ping
}
