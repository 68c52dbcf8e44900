package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

type line map[string]any

// harness runs Serve on a loopback port 0 and streams its JSON events.
type harness struct {
	t      *testing.T
	addr   string
	events chan line
	cancel context.CancelFunc
	done   chan error
	// listening is the server's first event.
	listening line
}

func start(t *testing.T, sleep time.Duration) *harness {
	t.Helper()
	return startWith(t, Config{Sleep: sleep})
}

func startWith(t *testing.T, cfg Config) *harness {
	t.Helper()
	return startOn(t, net.ListenConfig{}, cfg)
}

// startOn is startWith on a listener made by lc.
func startOn(t *testing.T, lc net.ListenConfig, cfg Config) *harness {
	t.Helper()
	// Registered first, so it runs last: after the server has stopped,
	// no goroutine of its is left and every file descriptor is back. The
	// runtime's own poller opens its descriptors at the first use of the
	// network and keeps them; they are not the server's.
	netpollOnce.Do(func() {
		if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
			ln.Close()
		}
	})
	fds := openFiles(t)
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, before)
		if now := openFiles(t); now > fds {
			t.Errorf("open files: %d before the server, %d after", fds, now)
		}
	})
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	h := &harness{t: t, addr: ln.Addr().String(), events: make(chan line, 1000), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var l line
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				panic(err)
			}
			h.events <- l
		}
		close(h.events)
	}()
	go func() {
		cfg.Events = event.NewWriter(pw, true)
		h.done <- Serve(ctx, ln, cfg)
		pw.Close()
	}()
	h.listening = h.wait(func(l line) bool { return l["event"] == "listening" })
	t.Cleanup(func() { h.stop() })
	return h
}

// netpollOnce starts the runtime's network poller before the first count
// of open files.
var netpollOnce sync.Once

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(fds)
}

// wait returns the first event that satisfies ok, failing after 10s.
func (h *harness) wait(ok func(line) bool) line {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, open := <-h.events:
			if !open {
				h.t.Fatal("event stream ended")
			}
			if ok(l) {
				return l
			}
		case <-deadline:
			h.t.Fatal("timed out waiting for an event")
		}
	}
}

// stop shuts the server down and returns its final "stopped" event.
func (h *harness) stop() line {
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	h.cancel = nil
	var last line
	for l := range h.events {
		if l["event"] == "stopped" {
			last = l
		}
	}
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatal("Serve did not return after cancel")
	}
	return last
}

func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func ping(t *testing.T, c net.Conn, seq uint64) time.Time {
	t.Helper()
	var f msg.Frame
	f.SetType(msg.Ping)
	sent := time.Now()
	msg.Stamp{Seq: seq, Sent: sent}.Put(&f)
	if _, err := c.Write(f[:]); err != nil {
		t.Fatal(err)
	}
	return sent
}

func readPong(t *testing.T, c net.Conn) (msg.Stamp, time.Time) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f msg.Frame
	if err := msg.ReadFrame(c, &f); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if typ, hostOrder := f.Type(); typ != msg.Pong || hostOrder {
		t.Fatalf("reply type %v (host order %v)", typ, hostOrder)
	}
	st, ok := msg.ReadStamp(&f)
	if !ok {
		t.Fatal("PONG does not echo the PING's stamp")
	}
	return st, at
}

func TestPongEchoesAfterSleepSerially(t *testing.T) {
	const sleep = 100 * time.Millisecond
	h := start(t, sleep)
	c := dial(t, h.addr)
	sent := ping(t, c, 1)
	ping(t, c, 2) // arrives during the first delay: waits its turn
	st1, at1 := readPong(t, c)
	st2, at2 := readPong(t, c)
	if st1.Seq != 1 || st2.Seq != 2 || !st1.Sent.Equal(sent.Round(0)) {
		t.Fatalf("echoes %+v %+v", st1, st2)
	}
	if d := at1.Sub(sent); d < sleep {
		t.Fatalf("first PONG after %v, before SLEEP %v", d, sleep)
	}
	if d := at2.Sub(sent); d < 2*sleep {
		t.Fatalf("second PONG after %v: not serial (want >= %v)", d, 2*sleep)
	}
}

// Hostile clients come and go while a well-behaved one keeps getting its
// PONGs on time; every close is counted under its reason.
func TestHostileClientsDoNotHurtOthers(t *testing.T) {
	h := startWith(t, Config{EventsAll: true}) // it waits for lines about each client
	good := dial(t, h.addr)
	check := func(seq uint64) {
		t.Helper()
		sent := ping(t, good, seq)
		st, at := readPong(t, good)
		if st.Seq != seq || at.Sub(sent) > time.Second {
			t.Fatalf("good client: PONG %d after %v", st.Seq, at.Sub(sent))
		}
	}
	check(1)
	closed := func(reason string) {
		t.Helper()
		h.wait(func(l line) bool { return l["event"] == "closed" && l["reason"] == reason })
		check(uint64(rand.IntN(1000) + 2))
	}

	garbage := dial(t, h.addr)
	junk := make([]byte, 3000) // not a whole number of frames
	for i := range junk {
		junk[i] = byte(rand.IntN(256))
	}
	garbage.Write(junk)
	garbage.Close()
	closed(ending.MidFrame.String())

	unknown := dial(t, h.addr)
	var f msg.Frame
	f.SetType(99)
	unknown.Write(f[:])
	f.SetType(msg.Type1)
	unknown.Write(f[:])
	h.wait(func(l line) bool { return l["event"] == "data" && l["name"] == "TYPE1" })
	unknown.Close()
	closed(ending.PeerClosed.String())

	reset := dial(t, h.addr)
	reset.Write(f[:600])
	h.wait(func(l line) bool { return l["event"] == "connected" && l["peer"] == reset.LocalAddr().String() })
	reset.SetLinger(0)
	reset.Close()
	closed(ending.Reset.String())

	split := dial(t, h.addr) // a PING one byte at a time is still a PING
	ping1 := make([]byte, msg.FrameSize)
	ping1[3] = byte(msg.Ping)
	for _, b := range ping1 {
		if _, err := split.Write([]byte{b}); err != nil {
			t.Fatal(err)
		}
	}
	split.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := msg.ReadFrame(split, &f); err != nil {
		t.Fatalf("split PING: %v", err)
	}

	hang := dial(t, h.addr) // half a frame, then silence
	hang.Write(make([]byte, 500))
	// Accepted before the shutdown, or it is not served at all.
	h.wait(func(l line) bool { return l["event"] == "connected" && l["peer"] == hang.LocalAddr().String() })
	check(500)

	last := h.stop()
	counts, _ := last["closed"].(map[string]any)
	want := map[string]float64{ending.MidFrame.String(): 1, ending.PeerClosed.String(): 1, ending.Reset.String(): 1, ending.Shutdown.String(): 3}
	for r, n := range want {
		if counts[r] != n {
			t.Errorf("closes for %q: %v, want %v (all: %v)", r, counts[r], n, counts)
		}
	}
	if last["connections"] != 6.0 {
		t.Errorf("connections served %v, want 6", last["connections"])
	}
}

func TestShutdownWakesSleepingConnections(t *testing.T) {
	h := start(t, time.Hour)
	c := dial(t, h.addr)
	ping(t, c, 1)
	h.wait(func(l line) bool { return l["event"] == "ping" })
	begun := time.Now()
	last := h.stop()
	if d := time.Since(begun); d > 2*time.Second {
		t.Fatalf("shutdown took %v with a connection asleep", d)
	}
	if counts := last["closed"].(map[string]any); counts[ending.Shutdown.String()] != 1.0 {
		t.Fatalf("closes %v", counts)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read after shutdown: %v, want EOF", err)
	}
}

// With its own heartbeat on, the server PINGs a silent client, keeps one
// that answers and reaps one that does not, at idle + probes x interval.
func TestServerHeartbeatReapsSilentClient(t *testing.T) {
	cfg := probe.Config{Idle: 200 * time.Millisecond, Interval: 100 * time.Millisecond, Probes: 2}
	h := startWith(t, Config{Probe: cfg})
	silent := dial(t, h.addr)
	answering := dial(t, h.addr)
	go func() { // answers every PING, as hbclient does
		var f msg.Frame
		for msg.ReadFrame(answering, &f) == nil {
			f.SetType(msg.Pong)
			if _, err := answering.Write(f[:]); err != nil {
				return
			}
		}
	}()
	dead := h.wait(func(l line) bool { return l["event"] == "dead" })
	if dead["peer"] != silent.LocalAddr().String() || dead["cause"] != "heartbeat" || dead["predicted_s"] != 0.4 {
		t.Fatalf("dead event %v, want the silent client at 0.4s", dead)
	}
	if obs := dead["observed_s"].(float64); obs < 0.4 || obs > 0.5 {
		t.Fatalf("reaped after %vs, predicted 0.4s", obs)
	}
	h.wait(func(l line) bool {
		return l["event"] == "closed" && l["peer"] == silent.LocalAddr().String() && l["reason"] == ending.HeartbeatDead.String()
	})
	// The silent client sees its connection closed.
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f msg.Frame
	for msg.ReadFrame(silent, &f) == nil { // the PINGs it did not answer
	}
	h.wait(func(l line) bool {
		return l["event"] == "pong" && l["peer"] == answering.LocalAddr().String() && l["received"] == true
	})
	last := h.stop()
	if counts := last["closed"].(map[string]any); counts[ending.HeartbeatDead.String()] != 1.0 || counts[ending.Shutdown.String()] != 1.0 {
		t.Fatalf("closes %v", counts)
	}
}

// Kernel options are set on each accepted connection and read back into its
// "connected" event.
func TestServerKernelOptionsReadBack(t *testing.T) {
	h := startWith(t, Config{
		KeepAlive:   sockopt.KeepAliveConfig{Enable: true, Idle: 4 * time.Second, Interval: 2 * time.Second, Count: 3},
		UserTimeout: 1500 * time.Millisecond,
		UserTimeoutWarning: func(e sockopt.UserTimeoutEffect) string {
			return fmt.Sprintf("%d %v %v %v", e.Kind, e.UserTimeout, e.Bound, e.DeadAfter)
		},
	})
	// The pairing surprises, and is said once at the start, as hbclient
	// says it (the old server said nothing).
	w := h.wait(func(l line) bool { return l["event"] != "listening" })
	if w["note"] != "warning" || asString(w["warning"]) != "1 1.5s 6s 6s" {
		t.Fatalf("first event after listening %v, want the warning", w)
	}
	dial(t, h.addr)
	c := h.wait(func(l line) bool { return l["event"] == "connected" })
	for k, want := range map[string]any{
		"keepalive": true, "keepalive_idle_s": 4.0, "keepalive_interval_s": 2.0, "keepalive_count": 3.0,
		"user_timeout_s": 1.5, "keepalive_predicted_s": 6.0, // 4 + 1 x 2: the user timeout bounds keep-alive
	} {
		if c[k] != want {
			t.Errorf("connected %s = %v, want %v (event %v)", k, c[k], want, c)
		}
	}
}

// readNotice reads frames until a Notice and returns it.
func readNotice(t *testing.T, c net.Conn) (msg.Severity, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f msg.Frame
	for {
		if err := msg.ReadFrame(c, &f); err != nil {
			t.Fatalf("no notice: %v", err)
		}
		if typ, _ := f.Type(); typ == msg.Notice {
			return msg.ReadNotice(&f)
		}
	}
}

func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f msg.Frame
	for {
		err := msg.ReadFrame(c, &f)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("want the server to close: %v", err)
		}
	}
}

func TestMaxConns(t *testing.T) {
	h := startWith(t, Config{MaxConns: 2})
	// The limit in effect is said from the start: hbserver may have
	// derived it from the open-file limit, unasked.
	if h.listening["max_conns"] != 2.0 {
		t.Fatalf("listening %v, want max_conns 2", h.listening)
	}
	a := dial(t, h.addr)
	b := dial(t, h.addr)
	ping(t, a, 1) // both are being served
	readPong(t, a)
	ping(t, b, 1)
	readPong(t, b)
	over := dial(t, h.addr)
	sev, text := readNotice(t, over)
	if sev != msg.Closing || !strings.Contains(text, "server full: 2 connections open") {
		t.Fatalf("notice %v %q", sev, text)
	}
	expectEOF(t, over)
	ping(t, a, 2) // the others are untouched
	if st, _ := readPong(t, a); st.Seq != 2 {
		t.Fatalf("PONG %d", st.Seq)
	}
	b.Close() // room again
	h.wait(func(l line) bool { return l["event"] == "closed" && l["reason"] == ending.PeerClosed.String() })
	c := dial(t, h.addr)
	ping(t, c, 1)
	readPong(t, c)
	last := h.stop()
	if counts := last["closed"].(map[string]any); counts[ending.OverLimit.String()] != 1.0 {
		t.Fatalf("closes %v", counts)
	}
}

// A frame sent a byte at a time more slowly than --frame-timeout allows is
// cut off; so is half a frame followed by silence. A good client goes on.
func TestFrameTimeout(t *testing.T) {
	h := startWith(t, Config{FrameTimeout: 300 * time.Millisecond})
	good := dial(t, h.addr)
	slow := dial(t, h.addr)
	half := dial(t, h.addr)
	half.Write(make([]byte, 500))
	go func() {
		for i := 0; i < msg.FrameSize; i++ {
			if _, err := slow.Write([]byte{0}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond) // a slow peer, not synchronisation
		}
	}()
	cut := map[string]bool{}
	for len(cut) < 2 {
		l := h.wait(func(l line) bool { return l["event"] == "closed" })
		if l["reason"] != ending.FrameTimeout.String() {
			t.Fatalf("closed for %v, want a frame timeout", l["reason"])
		}
		cut[l["peer"].(string)] = true
	}
	if !cut[half.LocalAddr().String()] || !cut[slow.LocalAddr().String()] {
		t.Fatalf("cut off: %v", cut)
	}
	ping(t, good, 7)
	if st, _ := readPong(t, good); st.Seq != 7 {
		t.Fatalf("PONG %d", st.Seq)
	}
}

func TestPingFlood(t *testing.T) {
	h := startWith(t, Config{MinPingInterval: time.Hour}) // every PING after the first is too soon
	good := dial(t, h.addr)
	ping(t, good, 1) // one PING an hour: within the limit
	readPong(t, good)
	flood := dial(t, h.addr)
	go func() {
		for i := uint64(1); i <= 10; i++ {
			var f msg.Frame
			f.SetType(msg.Ping)
			if _, err := flood.Write(f[:]); err != nil {
				return
			}
		}
	}()
	var notices []string
	for {
		sev, text := readNotice(t, flood)
		notices = append(notices, text)
		if sev == msg.Closing {
			break
		}
	}
	if len(notices) != PingStrikes || !strings.Contains(notices[0], "1 PING ahead of the rate") ||
		!strings.Contains(notices[2], "ping flood") || !strings.Contains(notices[2], "allows one per 1h0m0s") {
		t.Fatalf("notices %q", notices)
	}
	expectEOF(t, flood)
	h.wait(func(l line) bool { return l["event"] == "closed" && l["reason"] == ending.PingFlood.String() })
	var f msg.Frame // the good client is still there, unwarned
	f.SetType(msg.Type1)
	if _, err := good.Write(f[:]); err != nil {
		t.Fatalf("good client after the flood: %v", err)
	}
	h.wait(func(l line) bool { return l["event"] == "data" && l["peer"] == good.LocalAddr().String() })
	// A client that keeps to the interval is never warned. It sends 25
	// times slower than allowed: a PING is judged by when the server reads
	// it, and on a loaded machine one can be read a few milliseconds late
	// and the next on time.
	h2 := startWith(t, Config{MinPingInterval: time.Millisecond})
	calm := dial(t, h2.addr)
	for i := uint64(1); i <= 3; i++ {
		sent := ping(t, calm, i)
		readPong(t, calm)
		for time.Since(sent) < 25*time.Millisecond {
			time.Sleep(time.Millisecond) // keep to the allowed rate
		}
	}
	last := h2.stop()
	if counts := last["closed"].(map[string]any); counts[ending.PingFlood.String()] != nil {
		t.Fatalf("a calm client was closed: %v", counts)
	}
}

// A client that sends PINGs and never reads their PONGs cannot hold the
// server: once its buffers are full, the PONG write waits WriteTimeout and
// the client is closed. A good client is served all along.
func TestPeerThatNeverReads(t *testing.T) {
	h := startWith(t, Config{WriteTimeout: 300 * time.Millisecond, EventsAll: true}) // the closed line is the test
	good := dial(t, h.addr)
	deaf := dial(t, h.addr)
	deaf.SetReadBuffer(4096) // small, so that it fills soon
	go func() {
		// A PING a millisecond, not as fast as it can: a client that
		// floods the server's receive buffer (8 KiB) with a backlog of
		// megabytes while its own is full can leave both sides' windows
		// shut, in the kernel's retransmission back-off for seconds,
		// with the server's PONGs all taken by its kernel and none
		// waiting in the server (seen under load: ss showed the client
		// limited by the server's window 100% of 5 s, the server's
		// socket with nothing unread). A PING a millisecond fills the
		// client's buffers all the same, in about 25 ms.
		var f msg.Frame
		f.SetType(msg.Ping)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for range 20000 { // 20 s at most
			if _, err := deaf.Write(f[:]); err != nil {
				return // the server closed it
			}
			<-tick.C
		}
	}()
	l := h.wait(func(l line) bool { return l["event"] == "closed" && l["peer"] == deaf.LocalAddr().String() })
	if l["reason"] != ending.WriteStalled.String() {
		t.Fatalf("the deaf client was closed for %v", l["reason"])
	}
	ping(t, good, 3)
	if st, _ := readPong(t, good); st.Seq != 3 {
		t.Fatalf("PONG %d", st.Seq)
	}
}

func TestStatsEvents(t *testing.T) {
	h := startWith(t, Config{StatsEvery: 50 * time.Millisecond})
	dial(t, h.addr)
	dial(t, h.addr)
	l := h.wait(func(l line) bool { return l["event"] == "stats" && l["conns"] == 2.0 })
	if l["goroutines"].(float64) < 4 || l["open_files"].(float64) < 4 || l["rss_kib"].(float64) <= 0 {
		t.Fatalf("stats %v", l)
	}
}

// asString is v if it is a string, else "".
func asString(v any) string {
	s, _ := v.(string)
	return s
}
