package client

import (
	"bytes"
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// A server that sends its own PINGs and never reads: the answers fill what
// the pipe and the writer's queue hold, the rest are dropped and said, and
// the client's PINGs cannot leave. None of it is an I/O error, and the loop
// never waits on a write: the verdict comes exactly 19s after the server's
// last PING, its last sign of life.
func TestServerStopsReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stop := make(chan struct{})
		c, served := pipePeer(func(s net.Conn) {
			var f msg.Frame
			for seq := uint64(1); seq <= 10; seq++ {
				time.Sleep(time.Second)
				f.SetType(msg.Ping)
				msg.Stamp{Seq: seq, Sent: time.Now()}.Put(&f)
				if _, err := s.Write(f[:]); err != nil {
					return
				}
			}
			<-stop // silent, and still never reading
		})
		var out bytes.Buffer
		res := Run(context.Background(), c, Options{Probe: probe.DefaultConfig(), Events: event.NewWriter(&out, true)})
		close(stop)
		served()
		lines := parse(t, &out)
		if res.Outcome != HeartbeatDead || res.Observed != 19*time.Second {
			t.Fatalf("result %+v, want dead 19s after the last PING (events %v)", res, lines)
		}
		if d := find(lines, "dead"); d["t"] != 29.0 {
			t.Fatalf("dead event %v, want at 29s", d)
		}
		// One answer in the pipe's write, sendQueue waiting, the rest dropped.
		answered, dropped := 0, 0
		for _, l := range lines {
			switch {
			case l["event"] == "data" && l["answered"] == true:
				answered++
			case l["event"] == "data" && l["answered"] == false:
				dropped++
			}
		}
		if answered != 1+sendQueue || dropped != 10-1-sendQueue {
			t.Fatalf("%d answered and %d dropped, want %d and %d", answered, dropped, 1+sendQueue, 10-1-sendQueue)
		}
		if n, p := count(lines, "note"), count(lines, "ping"); n != 3 || p != 0 {
			t.Fatalf("%d send_stalled notes and %d PINGs sent, want 3 and 0", n, p)
		}
	})
}

// The same over loopback with small socket buffers: a raw server floods
// PINGs, never reads, then goes quiet. The client is declared dead (not
// failed) at its predicted time after the last frame.
func TestServerStopsReadingLoopback(t *testing.T) {
	quiet := make(chan struct{}) // closed when the server has sent its last frame
	stop := make(chan struct{})
	c := loopbackPeer(t, func(s net.Conn) {
		s.(*net.TCPConn).SetReadBuffer(4096)
		var f msg.Frame
		f.SetType(msg.Ping)
		for range 2000 {
			if _, err := s.Write(f[:]); err != nil {
				break
			}
		}
		close(quiet)
		<-stop // quiet, still never reading
	})
	defer close(stop)
	c.(*net.TCPConn).SetWriteBuffer(4096)
	cfg := probe.Config{Idle: 100 * time.Millisecond, Interval: 50 * time.Millisecond, Probes: 2}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := Run(ctx, c, Options{Probe: cfg, Events: event.NewWriter(&out, true), FineTimer: true})
	<-quiet
	lines := parse(t, &out)
	if res.Outcome != HeartbeatDead {
		t.Fatalf("result %+v, want dead; last events %v", res, lines[max(0, len(lines)-5):])
	}
	// Loose for -race on a loaded machine; the point is a verdict, on
	// the schedule, rather than an error.
	if late := res.Observed - res.Predicted; late < 0 || late > 100*time.Millisecond {
		t.Fatalf("observed %v, predicted %v", res.Observed, res.Predicted)
	}
	dropped := 0
	for _, l := range lines {
		if l["event"] == "data" && l["answered"] == false {
			dropped++
		}
	}
	if dropped == 0 {
		t.Fatal("no answer was dropped: the buffers never filled, so the test proves nothing")
	}
}

// A server that never reads and streams PONGs: none can answer a PING that
// never left, so no RTT is negative and no PONG counts; a strict client is
// dead at 19s exactly.
func TestPongFloodFromServerThatNeverReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, lines := runPeer(t, probe.DefaultConfig(), func(s net.Conn) {
			var f msg.Frame
			f.SetType(msg.Pong)
			for range 4000 { // one every 10ms for 40s
				if _, err := s.Write(f[:]); err != nil {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
		if res.Outcome != HeartbeatDead || res.Observed != 19*time.Second {
			t.Fatalf("result %+v, want dead at 19s", res)
		}
		if count(lines, "pong") != 0 {
			t.Fatalf("a PONG counted: %v", find(lines, "pong"))
		}
		for _, l := range lines {
			if l["event"] == "late_pong" && (l["seq"] != 0.0 || l["rtt_s"] != 0.0) {
				t.Fatalf("a PONG answered a PING that never left: %v", l)
			}
		}
	})
}

// Tiny intervals against a peer that reads: every PING goes out (nothing
// says the peer stopped reading), every PONG is late, and the stream of
// events stays in time order (parse checks it).
func TestTinyIntervals(t *testing.T) {
	c := loopbackPeer(t, func(s net.Conn) { fakeServer(s, 0, false) })
	var out bytes.Buffer
	res := Run(context.Background(), c, Options{Probe: probe.Config{Idle: 1, Interval: 1, Probes: 3}, Events: event.NewWriter(&out, true)})
	lines := parse(t, &out)
	if res.Outcome != HeartbeatDead || count(lines, "note") != 0 || count(lines, "ping") != 3 {
		t.Fatalf("result %+v, events %v", res, lines)
	}
}

// pipePeer runs serve on the far end of a net.Pipe, closing it when serve
// returns; wait waits for that.
func pipePeer(serve func(s net.Conn)) (c net.Conn, wait func()) {
	c, s := net.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		defer s.Close()
		serve(s)
	}()
	return c, func() { <-served }
}

// loopbackPeer runs serve on one connection accepted on a loopback port and
// returns the client's end. At the test's end it waits for serve and checks
// that no goroutine is left.
func loopbackPeer(t *testing.T, serve func(s net.Conn)) net.Conn {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-served })
	go func() {
		defer close(served)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		serve(s)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runPeer runs the client against serve over a net.Pipe until either ends,
// and returns the result and the parsed JSON events.
func runPeer(t *testing.T, cfg probe.Config, serve func(s net.Conn)) (Result, []line) {
	t.Helper()
	c, served := pipePeer(serve)
	var out bytes.Buffer
	res := Run(context.Background(), c, Options{Probe: cfg, Events: event.NewWriter(&out, true)})
	served()
	return res, parse(t, &out)
}
