package server

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
)

// roundTrips sends a PING frame and reads its 1028-byte answer, b.N times.
func roundTrips(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var f msg.Frame
	f.SetType(msg.Ping)
	b.SetBytes(2 * msg.FrameSize)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(f[:]); err != nil {
			b.Fatal(err)
		}
		if err := msg.ReadFrame(c, &f); err != nil {
			b.Fatal(err)
		}
		f.SetType(msg.Ping)
	}
}

// BenchmarkPingPong: one connection's PING -> PONG round trip through
// hbserver's handler (SLEEP 0, --quiet) over loopback. Compare with
// BenchmarkRawEcho.
func BenchmarkPingPong(b *testing.B) {
	addr, stop := serveQuiet(b)
	roundTrips(b, addr)
	b.StopTimer()
	stop()
}

// BenchmarkPingPongCondensed is BenchmarkPingPong with hbserver's default
// timeline (text, to nowhere): past the first lines a second its lines
// give way to status lines, so a PING costs the gate's count.
func BenchmarkPingPongCondensed(b *testing.B) {
	addr, stop := serveOn(b, Config{Events: event.NewWriter(io.Discard, false)})
	roundTrips(b, addr)
	b.StopTimer()
	stop()
}

// serveQuiet runs hbserver's Serve (SLEEP 0, --quiet) on a loopback port;
// stop ends it and waits until it has.
func serveQuiet(tb testing.TB) (addr string, stop func()) {
	tb.Helper()
	return serveOn(tb, Config{Quiet: true})
}

// serveOn runs Serve with cfg on a loopback port; stop ends it and waits
// until it has.
func serveOn(tb testing.TB, cfg Config) (addr string, stop func()) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, cfg) }()
	return ln.Addr().String(), func() { cancel(); <-done }
}

// BenchmarkRawEcho is the baseline: a bare goroutine that echoes whole
// 1028-byte frames, the least a Go server can do for the same exchange.
func BenchmarkRawEcho(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, msg.FrameSize)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	roundTrips(b, ln.Addr().String())
	b.StopTimer()
	ln.Close()
}

// The PING -> PONG path allocates nothing in steady state (SLEEP 0, quiet):
// a heap allocation per PING would be paid ten thousand times a second
// under load.
func TestPingPongAllocatesNothing(t *testing.T) {
	pingPongAllocatesNothing(t, Config{Quiet: true})
}

// So does a PING whose lines the gate leaves out (the default timeline,
// past 20 lines a second): what is left out is not formatted.
func TestCondensedPingPongAllocatesNothing(t *testing.T) {
	pingPongAllocatesNothing(t, Config{Events: event.NewWriter(io.Discard, false)})
}

func pingPongAllocatesNothing(t *testing.T, cfg Config) {
	if testing.Short() {
		t.Skip("measures allocations")
	}
	addr, stop := serveOn(t, cfg)
	defer stop()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var f msg.Frame
	exchange := func() {
		f.SetType(msg.Ping)
		if _, err := c.Write(f[:]); err != nil {
			t.Fatal(err)
		}
		if err := msg.ReadFrame(c, &f); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ { // warm up: the connection's goroutines and buffers
		exchange()
	}
	if avg := testing.AllocsPerRun(2000, exchange); avg > 0.01 {
		t.Fatalf("%.3f allocations per PING, want 0", avg)
	}
}
