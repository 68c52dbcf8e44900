package server

import (
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
)

// Over a real socket, on whichever backend this build has: a HELLO is
// reported, an announced interval under --min-ping-interval is told at
// once, and a client silent past its announced window is reaped with the
// reason said, while one that keeps sending is not.
func TestHelloOverTheWire(t *testing.T) {
	h := startWith(t, Config{ReapAfterAnnounced: 1.5, MinPingInterval: 100 * time.Millisecond})
	hello := func(c interface{ Write([]byte) (int, error) }, idle, interval time.Duration) {
		var f msg.Frame
		msg.PutHello(&f, msg.HelloInfo{Idle: idle, Interval: interval, Probes: 2})
		if _, err := c.Write(f[:]); err != nil {
			t.Fatal(err)
		}
	}
	silent := dial(t, h.addr)
	hello(silent, 200*time.Millisecond, 50*time.Millisecond)
	l := h.wait(func(l line) bool { return l["event"] == "hello" })
	if l["window_s"] != 0.2 || l["reap_after_s"] != 0.3 || l["probes"] != 2.0 {
		t.Fatalf("hello event %v, want a window of 0.2s reaped after 0.3s", l)
	}
	if sev, text := readNotice(t, silent); sev != msg.Warning ||
		text != "your PING interval 50ms is under this server's --min-ping-interval 100ms: use --interval 100ms or more" {
		t.Fatalf("notice %v %q", sev, text)
	}
	sev, text := readNotice(t, silent)
	want := "silent past its announced window: nothing for 300ms: 1.5 x the window its HELLO announced, 200ms (the longer of idle 200ms and interval 50ms; --reap-after-announced)"
	if sev != msg.Closing || text != want {
		t.Fatalf("notice %v %q, want closing %q", sev, text, want)
	}
	expectEOF(t, silent)
	h.wait(func(l line) bool {
		return l["event"] == "closed" && l["peer"] == silent.LocalAddr().String() && l["reason"] == ending.AnnouncedSilent.String()
	})

	// One that sends within its window stays: 10 PINGs 150ms apart span
	// 1.5s, five times what reaps a silent one.
	talking := dial(t, h.addr)
	hello(talking, 200*time.Millisecond, 200*time.Millisecond)
	for i := range 10 {
		ping(t, talking, uint64(i+1))
		readPong(t, talking)
		time.Sleep(150 * time.Millisecond) // the client's own pace, not a wait for the server
	}
	last := h.stop()
	if counts := last["closed"].(map[string]any); counts[ending.AnnouncedSilent.String()] != 1.0 || counts[ending.Shutdown.String()] != 1.0 {
		t.Fatalf("closes %v, want one reaped and one at shutdown", counts)
	}
}
