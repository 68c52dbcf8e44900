package server

// Behaviour tests over loopback that hold on both backends (the epoll loop
// and, with -tags portable, a goroutine per connection).

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// End to end: a PING, then shutdown(SHUT_WR): the PONG comes after SLEEP,
// then the server closes ("peer closed").
func TestHalfCloseEndToEnd(t *testing.T) {
	const sleep = 50 * time.Millisecond
	h := start(t, sleep)
	c := dial(t, h.addr)
	sent := ping(t, c, 1)
	c.CloseWrite()
	if st, at := readPong(t, c); st.Seq != 1 || at.Sub(sent) < sleep {
		t.Fatalf("PONG %d after %v", st.Seq, at.Sub(sent))
	}
	expectEOF(t, c)
	h.wait(func(l line) bool { return l["event"] == "closed" && l["reason"] == ending.PeerClosed.String() })
}

// Ghosts: clients that send PINGs, more than the queue of 4, and close,
// against SLEEP 1h and --max-conns 2, must not keep a newcomer out. With 8
// PINGs the FIN reaches the server's receive buffer (sockBuf) and the
// ghost is closing; with 100 it is stuck in the client's kernel behind
// PINGs the server has not read, and the ghost looks like a client whose
// queue is full (stalled). A newcomer to a full server ends one of either
// kind, oldest first, and is served.
func TestGhostsDoNotFillMaxConns(t *testing.T) {
	for _, pings := range []int{8, 100} {
		t.Run(fmt.Sprintf("%d PINGs", pings), func(t *testing.T) {
			h := startWith(t, Config{Sleep: time.Hour, MaxConns: 2, EventsAll: true}) // 20 ghosts make 40 lines
			good := dial(t, h.addr)
			ping(t, good, 1)
			h.wait(func(l line) bool { return l["event"] == "ping" })
			var f msg.Frame
			f.SetType(msg.Ping)
			for range 20 {
				c, err := net.Dial("tcp", h.addr)
				if err != nil {
					t.Fatal(err)
				}
				// What the kernels take: the rest is the ghost's loss.
				c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				for range pings {
					if _, err := c.Write(f[:]); err != nil {
						break
					}
				}
				c.Close()
			}
			// A ghost's FIN may take a moment to be seen; until then a
			// newcomer may be told the server is full, so try again until
			// a deadline.
			tries := 0
			for deadline := time.Now().Add(5 * time.Second); ; {
				c := dial(t, h.addr)
				ping(t, c, 2)
				go func() { // a refused client reads the Notice and goes
					var f msg.Frame
					msg.ReadFrame(c, &f)
					c.Close()
				}()
				l := h.wait(func(l line) bool { // served, or refused as over the limit
					return l["peer"] == c.LocalAddr().String() && (l["event"] == "ping" || l["event"] == "closed")
				})
				if l["event"] == "ping" {
					t.Logf("served after %d refusals", tries)
					break
				}
				tries++
				if time.Now().After(deadline) {
					t.Fatalf("a new client is still refused: %v", l)
				}
				time.Sleep(10 * time.Millisecond) // a client's retry, not synchronisation
			}
		})
	}
}

// A newcomer to a full server ends as many as it takes to fit: with a
// refused client still lingering (MaxConns+1 held), ending that one is not
// enough, and the oldest stalled connection goes too.
func TestNewcomerEndsEnoughToFit(t *testing.T) {
	h := startWith(t, Config{Sleep: time.Hour, MaxConns: 2, EventsAll: true}) // 20 ghosts make 40 lines
	good := dial(t, h.addr)
	ping(t, good, 1)
	h.wait(func(l line) bool { return l["event"] == "ping" && l["peer"] == good.LocalAddr().String() })
	ghost := dial(t, h.addr)
	h.wait(func(l line) bool { return l["event"] == "connected" && l["peer"] == ghost.LocalAddr().String() })
	// Full, nothing to end: this one is refused and lingers (it neither
	// reads nor closes).
	refused := dial(t, h.addr)
	if sev, text := readNotice(t, refused); sev != msg.Closing || !strings.Contains(text, "server full") {
		t.Fatalf("notice %d %q", sev, text)
	}
	defer refused.Close() // it lingers for lingerFor while this runs
	// The ghost fills its queue, sends more and closes: stalled.
	var f msg.Frame
	f.SetType(msg.Ping)
	ghost.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	for range 100 {
		if _, err := ghost.Write(f[:]); err != nil {
			break
		}
	}
	for range maxQueued {
		h.wait(func(l line) bool { return l["event"] == "ping" && l["peer"] == ghost.LocalAddr().String() })
	}
	ghost.Close()
	c := dial(t, h.addr)
	ping(t, c, 2)
	l := h.wait(func(l line) bool {
		return l["peer"] == c.LocalAddr().String() && (l["event"] == "ping" || l["event"] == "closed")
	})
	if l["event"] != "ping" {
		t.Fatalf("the newcomer was refused: %v", l)
	}
}

// Three PINGs back to back, then a pause of a whole interval, over and
// over: three times the rate --min-ping-interval allows. The old rule
// forgave every strike after one long gap; this client is closed.
func TestPingBurstsAtThreeTimesTheRate(t *testing.T) {
	const interval = 50 * time.Millisecond
	h := startWith(t, Config{MinPingInterval: interval, Quiet: true})
	c := dial(t, h.addr)
	go func() {
		var f msg.Frame
		f.SetType(msg.Ping)
		for range 5 {
			for range 3 {
				if _, err := c.Write(f[:]); err != nil {
					return
				}
			}
			time.Sleep(interval + 10*time.Millisecond) // the client's pace, not synchronisation
		}
	}()
	for {
		sev, text := readNotice(t, c)
		if sev == msg.Closing {
			if !strings.Contains(text, "ping flood: 3 PINGs ahead") {
				t.Fatalf("closing notice %q", text)
			}
			c.Close() // so that the server's linger ends now
			break
		}
	}
	h.wait(func(l line) bool { return l["event"] == "closed" && l["reason"] == ending.PingFlood.String() })
}

// --quiet leaves out every per-frame event, the server heartbeat's too: a
// client that floods PONGs makes no output. Without it, a client's PONG
// is reported: as data with the heartbeat off (it answers nothing), as a
// pong or late_pong with it on.
func TestPerFrameEvents(t *testing.T) {
	hb := probe.Config{Idle: 20 * time.Millisecond, Interval: time.Hour, Probes: 3}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // the events between connected and closed
	}{
		{"quiet, heartbeat on", Config{Quiet: true, Probe: hb}, nil},
		{"heartbeat on", Config{Probe: hb}, []string{"ping", "pong", "late_pong", "late_pong", "data"}},
		{"heartbeat off", Config{}, []string{"data", "data", "data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startWith(t, tc.cfg)
			c := dial(t, h.addr)
			var f msg.Frame
			if tc.cfg.Probe.Enabled() {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if err := msg.ReadFrame(c, &f); err != nil { // the server's PING
					t.Fatal(err)
				}
				f.SetType(msg.Pong)
				c.Write(f[:]) // its answer
			}
			f.SetType(msg.Pong)
			c.Write(f[:]) // PONGs that answer nothing
			c.Write(f[:])
			f.SetType(msg.Type1)
			c.Write(f[:])
			c.Close()
			h.wait(func(l line) bool { return l["event"] == "connected" })
			var got []string
			for {
				l := h.wait(func(line) bool { return true })
				if l["event"] == "closed" {
					break
				}
				got = append(got, l["event"].(string))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("events %q, want %q", got, tc.want)
			}
		})
	}
}
