package server

// Behaviour over loopback in which the portable backend (-tags portable)
// must agree with the event loop, where a review found it did not.

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
)

// A client pipelines 7 PINGs and half-closes: the server, whose queue is
// full at maxQueued, sees the FIN without reading further (the portable
// backend used to see it only after answering every PING), answers the
// PINGs queued and drops the rest, then closes.
func TestHalfCloseBehindAFullQueue(t *testing.T) {
	h := start(t, 30*time.Millisecond)
	c := dial(t, h.addr)
	// Seven, not more: the 3 the server does not read must fit its
	// receive buffer (capped at 8 KiB), or the FIN waits behind them
	// until the first PONG makes room, and a fifth PING is read before
	// the FIN comes, rightly.
	for i := range maxQueued + 3 {
		ping(t, c, uint64(i+1))
	}
	c.CloseWrite()
	for i := range maxQueued {
		if st, _ := readPong(t, c); st.Seq != uint64(i+1) {
			t.Fatalf("PONG %d, want %d", st.Seq, i+1)
		}
	}
	if n := framesUntilEOF(t, c); n != 0 {
		t.Fatalf("%d more frames after the %d PINGs queued were answered", n, maxQueued)
	}
	l := h.wait(func(l line) bool { return l["event"] == "closed" })
	if l["reason"] != ending.PeerClosed.String() {
		t.Fatalf("closed for %v", l["reason"])
	}
}

// framesUntilEOF reads frames until the server closes, and counts them.
func framesUntilEOF(t *testing.T, c net.Conn) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f msg.Frame
	for n := 0; ; n++ {
		if err := msg.ReadFrame(c, &f); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatalf("want the server to close: %v", err)
		}
	}
}

// Refused clients (the server is full) that sent PINGs wait for the
// "server full" Notice; each newcomer ends the one refused before it,
// which lingers. Every one of them gets its Notice and then a clean
// close: a close with the PINGs unread, or while a read of them was under
// way, would send a RST, which destroys the Notice or turns the close
// into "reset by peer".
func TestEvictedRefusedClientsGetTheirNotice(t *testing.T) {
	const clients = 200
	h := startWith(t, Config{MaxConns: 1, Quiet: true})
	dial(t, h.addr) // holds the one place
	h.wait(func(l line) bool { return l["event"] == "connected" })
	var f msg.Frame
	f.SetType(msg.Ping)
	burst := strings.Repeat(string(f[:]), 8)
	notices, clean := 0, 0
	var prev *harnessConn
	for range clients {
		c := dial(t, h.addr) // which ends prev, the client refused before
		if prev != nil {
			notices += prev.notice
			if err := prev.end(); err == nil {
				clean++
			} else {
				t.Logf("a refused client's end: %v", err)
			}
		}
		prev = &harnessConn{c: c}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := msg.ReadFrame(c, &f); err == nil {
			if typ, _ := f.Type(); typ != msg.Notice {
				t.Fatalf("a refused client got a %v", typ)
			}
			if sev, text := msg.ReadNotice(&f); sev == msg.Closing && strings.Contains(text, "server full") {
				prev.notice = 1
			}
		}
		// PINGs the lingering server reads and drops, as the next
		// newcomer ends this one.
		if _, err := io.WriteString(c, burst); err != nil {
			t.Fatal(err)
		}
	}
	if notices != clients-1 || clean != clients-1 {
		t.Fatalf("of %d refused clients ended by a newcomer, %d got the Notice, %d a clean close", clients-1, notices, clean)
	}
}

// harnessConn is a refused client: whether it got its Notice.
type harnessConn struct {
	c      net.Conn
	notice int
}

// end reads until the server's close: nil for a clean one (EOF).
func (hc *harnessConn) end() error {
	hc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [64]byte
	for {
		if _, err := hc.c.Read(b[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// SIGTERM ends a connection whose PONGs wait behind a client that does
// not read at once, not after a write has waited (the portable backend
// took up to a second).
func TestShutdownWithAWriteBlocked(t *testing.T) {
	h := start(t, 0)
	deaf := dial(t, h.addr)
	deaf.SetReadBuffer(4096)
	var f msg.Frame
	f.SetType(msg.Ping)
	for i := 0; ; i++ { // until the server stops reading: its output waits
		deaf.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := deaf.Write(f[:]); err != nil {
			break
		}
		if i == 10000 {
			t.Fatal("the server never stopped reading")
		}
	}
	begun := time.Now()
	last := h.stop()
	if d := time.Since(begun); d > 250*time.Millisecond {
		t.Fatalf("shutdown took %v with a write blocked", d)
	}
	if counts := last["closed"].(map[string]any); counts[ending.Shutdown.String()] != 1.0 {
		t.Fatalf("closes %v", counts)
	}
}
