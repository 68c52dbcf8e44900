package server

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// loop is the event loop's state without its goroutine: tests drive a
// conn's handlers with exact times over a socketpair.
func loop(t *testing.T, cfg Config) *srv {
	t.Helper()
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	p, err := poll.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &srv{cfg: cfg, ev: event.Discard(), start: time.Now(), p: p,
		rbuf: make([]byte, readFrames*msg.FrameSize), counts: map[Reason]int{}}
	t.Cleanup(func() {
		s.closeAll()
		p.Close()
	})
	return s
}

// pair adopts one end of a socketpair as a client's connection at now and
// returns it with the other end, the client's, which the test owns.
func pair(t *testing.T, s *srv, now time.Time) (*conn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer := fds[1]
	t.Cleanup(func() { unix.Close(peer) })
	s.adopt(fds[0], "pair", now)
	return s.conns[fds[0]], peer
}

// pings writes n PINGs on the client's end, each with its number in the
// stamp.
func pings(t *testing.T, fd int, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		var f msg.Frame
		f.SetType(msg.Ping)
		msg.Stamp{Seq: uint64(i), Sent: time.Unix(0, 0)}.Put(&f)
		if _, err := unix.Write(fd, f[:]); err != nil {
			t.Fatalf("PING %d: %v", i, err)
		}
	}
}

// readable lets the conn read what its socket holds, at now, until it
// stops reading or the socket is empty (a read that finds nothing changes
// nothing).
func (c *conn) readable(now time.Time) {
	for range 100 {
		if c.state == closed || c.interest&poll.In == 0 {
			return
		}
		c.ready(poll.In, now)
		c.s.schedule(c)
	}
}

// A send that fails because the client has gone ends the connection and
// nothing more, wherever it happens: nothing after it touches the
// finished connection's state. (The old code sliced a queue of due PONGs
// that the failed send had dropped, and the whole server crashed.)
func TestSendToAGoneClient(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name  string
		cfg   Config
		pings int
		// read: the conn reads the PINGs after the client has gone, so
		// the send fails inside the frame loop.
		read bool
	}{
		{"due PONGs", Config{Sleep: time.Microsecond}, 20, false},
		{"PONGs at once in the frame loop", Config{}, 20, true},
		{"a warning Notice in the frame loop", Config{MinPingInterval: time.Hour}, 5, true},
		{"the heartbeat's PING", Config{Probe: probe.Config{Idle: time.Second, Interval: time.Second, Probes: 3}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loop(t, tc.cfg)
			c, peer := pair(t, s, t0)
			pings(t, peer, tc.pings)
			if !tc.read {
				c.readable(t0)
			}
			unix.Close(peer) // gone: the next send fails with EPIPE
			if tc.read {
				c.readable(t0)
			}
			for _, at := range []time.Duration{time.Second, 2 * time.Second, time.Hour} {
				c.expire(t0.Add(at))
				c.ready(poll.Out|poll.Err|poll.Hup, t0.Add(at))
			}
			if c.state != closed || s.counts[Reset] != 1 || len(s.counts) != 1 {
				t.Fatalf("state %v, closes %v; want closed once, as reset", c.state, s.counts)
			}
		})
	}
}

// The crash end to end: clients that send 20 PINGs and close, at SLEEP
// 1us, and clients that reset just before their PONG is due, at SLEEP
// 20ms; a well-behaved client gets its PONGs all along.
func TestGoneClientsDoNotCrashTheServer(t *testing.T) {
	for _, sleep := range []time.Duration{time.Microsecond, 20 * time.Millisecond} {
		h := start(t, sleep)
		good := dial(t, h.addr)
		for i := range 20 {
			c, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			var f msg.Frame
			f.SetType(msg.Ping)
			for range 20 {
				c.Write(f[:])
			}
			if sleep > time.Millisecond {
				// Its PONG is due 20ms after the PINGs arrived: reset
				// just before.
				for deadline := time.Now().Add(sleep - 2*time.Millisecond); time.Now().Before(deadline); {
					time.Sleep(time.Millisecond) // a peer's timing, not synchronisation
				}
				c.(*net.TCPConn).SetLinger(0)
			}
			c.Close()
			sent := ping(t, good, uint64(i+1))
			if st, at := readPong(t, good); st.Seq != uint64(i+1) || at.Sub(sent) > sleep+time.Second {
				t.Fatalf("good client: PONG %d after %v", st.Seq, at.Sub(sent))
			}
		}
		h.stop()
	}
}
