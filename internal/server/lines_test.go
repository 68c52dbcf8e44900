package server

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/gate"
)

// shortClients opens n connections one after another, each sending one
// PING, reading its PONG and closing: four lines about each.
func shortClients(t *testing.T, addr string, n int) {
	t.Helper()
	for i := range n {
		c := dial(t, addr)
		ping(t, c, uint64(i+1))
		readPong(t, c)
		c.Close()
	}
}

// aboutAConn reports whether a line is about one connection.
func aboutAConn(l line) bool { _, ok := l["conn"]; return ok }

// Many short connections make more lines than a person can read: the server
// says so once, then gives a status line a second (connections open,
// connected, PINGs and PONGs a second, closes by reason) and no line about a
// connection; a calm second later it says the lines show again, and they
// do.
func TestManyLinesGiveWayToStatusLines(t *testing.T) {
	h := startWith(t, Config{})
	const n = 3 * gate.Rate
	shortClients(t, h.addr, n)
	shown := map[string]int{}
	for {
		l := h.wait(func(line) bool { return true })
		if l["event"] == "status_on" {
			if l["limit"] != float64(gate.Rate) {
				t.Fatalf("status_on: %v", l)
			}
			break
		}
		shown[l["event"].(string)]++
	}
	if total := shown["connected"] + shown["ping"] + shown["pong"] + shown["closed"]; total != gate.Rate {
		t.Errorf("%d lines about connections before status_on (%v), want %d", total, shown, gate.Rate)
	}
	// Status lines until the lines show again, each over about a second;
	// between them nothing about a connection.
	statuses, closes, connects := 0, 0, 0
	for {
		l := h.wait(func(line) bool { return true })
		if aboutAConn(l) {
			t.Fatalf("a line about a connection while condensed: %v", l)
		}
		if l["event"] == "status_off" {
			break
		}
		if l["event"] != "status" {
			continue
		}
		statuses++
		if w := l["window_s"].(float64); w < 0.5 || w > 2 {
			t.Errorf("status over %vs, want about a second", w)
		}
		if l["conns"] != float64(0) {
			t.Errorf("status: %v connections open, want 0", l["conns"])
		}
		for reason, c := range l["closed_by"].(map[string]any) {
			if reason != "peer closed" {
				t.Errorf("status: closed for %q", reason)
			}
			closes += int(c.(float64))
		}
		connects += int(l["connected"].(float64))
		if statuses == 1 && (l["pings_per_s"].(float64) <= 0 || l["pongs_per_s"].(float64) <= 0 || l["lines_per_s"].(float64) <= gate.Rate) {
			t.Errorf("first status: %v", l)
		}
	}
	// The first status line counts its whole window, the lines shown
	// before the switch included.
	if statuses < 2 || closes < n-shown["closed"] || closes > n || connects < n-shown["connected"] || connects > n {
		t.Errorf("%d status lines counting %d connected and %d closed, of %d", statuses, connects, closes, n)
	}
	// And the lines about a connection show again.
	c := dial(t, h.addr)
	h.wait(func(l line) bool { return l["event"] == "connected" && l["peer"] == c.LocalAddr().String() })
}

// --events all keeps every line, and --quiet leaves the gate off too (its
// connected and closed lines all show, as before the gate).
func TestEveryLineWithEventsAllOrQuiet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		lines int // per connection
	}{
		{"events all", Config{EventsAll: true}, 4},
		{"quiet", Config{Quiet: true}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startWith(t, tc.cfg)
			const n = 2 * gate.Rate
			shortClients(t, h.addr, n)
			got := 0
			for closed := 0; closed < n; {
				l := h.wait(func(line) bool { return true })
				switch {
				case l["event"] == "status_on" || l["event"] == "status":
					t.Fatalf("%v", l)
				case l["event"] == "closed":
					closed++
				}
				if aboutAConn(l) {
					got++
				}
			}
			if got != n*tc.lines {
				t.Errorf("%d lines about connections, want %d", got, n*tc.lines)
			}
		})
	}
}

// The event loop's timer is the earlier of its other deadline and the end
// of the gate's window; either may be unset (zero).
func TestStatusDue(t *testing.T) {
	t0 := time.Unix(100, 0)
	for _, tc := range []struct{ window, other, want time.Time }{
		{time.Time{}, time.Time{}, time.Time{}},
		{t0, time.Time{}, t0},
		{time.Time{}, t0, t0},
		{t0, t0.Add(time.Second), t0},
		{t0.Add(time.Second), t0, t0},
	} {
		l := lines{at: tc.window}
		if got := l.statusDue(tc.other); !got.Equal(tc.want) {
			t.Errorf("window %v, other %v: %v, want %v", tc.window, tc.other, got, tc.want)
		}
	}
}

// The lines the gate leaves out of the output still reach the taps: a live
// page draws every connection's row from them, however many there are.
func TestTapsGetTheLinesLeftOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	w := event.NewWriter(&out, true)
	var mu sync.Mutex
	tapped := 0
	w.Tap(func(jsonLine, _ []byte) {
		if bytes.Contains(jsonLine, []byte(`"event":"closed"`)) {
			mu.Lock()
			tapped++
			mu.Unlock()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, Config{Events: w}) }()
	const n = 3 * gate.Rate
	shortClients(t, ln.Addr().String(), n)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		got := tapped
		mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the taps saw %d closed lines of %d", got, n)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if shown := strings.Count(out.String(), `"event":"closed"`); shown >= n {
		t.Errorf("the output has %d closed lines of %d: the gate left none out, so the test proves nothing", shown, n)
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
