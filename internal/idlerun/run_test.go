package idlerun

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/idle"
	"github.com/heartbeat/heartbeat/internal/idlerun/idletest"
	"github.com/heartbeat/heartbeat/internal/server"
)

// Every probe's goroutine and connection ends with Run, whatever ended it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A proxy that closes connections idle for 300ms: found within the
// resolution, each connection's end seen during its gap, at the timeout.
func TestRunFindsClose(t *testing.T) {
	px := idletest.Start(t, idletest.Server(t, server.Config{}), 300*time.Millisecond, idletest.Close)
	var out bytes.Buffer
	ev := event.NewWriter(&out, true)
	r, err := Run(context.Background(), Config{Addr: px.Addr, Wait: 200 * time.Millisecond,
		Plan: idle.Config{Max: time.Second, Resolution: 50 * time.Millisecond, Conns: 8}}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if r.Expiry != idle.Close || !(r.Lower < 300*time.Millisecond+50*time.Millisecond && 300*time.Millisecond <= r.Upper) || r.Upper-r.Lower > 50*time.Millisecond {
		t.Fatalf("%+v\n%s", r, out.String())
	}
	if !strings.Contains(out.String(), `"outcome":"close"`) || !strings.Contains(out.String(), `"event":"idle_timeout"`) {
		t.Fatalf("events:\n%s", out.String())
	}
}

// Cancelled part way, Run returns at once with ctx's error.
func TestRunCancelled(t *testing.T) {
	addr := idletest.Server(t, server.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Config{Addr: addr, Plan: idle.Config{Max: time.Minute, Conns: 8}}, event.NewWriter(&bytes.Buffer{}, false))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

// A server that closes the probes' connections with a NOTICE makes the
// measurement meaningless: an error that quotes it.
func TestRunServerFull(t *testing.T) {
	addr := idletest.Server(t, server.Config{MaxConns: 1})
	_, err := Run(context.Background(), Config{Addr: addr, Plan: idle.Config{Max: 10 * time.Second, Conns: 4}}, event.NewWriter(&bytes.Buffer{}, false))
	if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), "server full") {
		t.Fatalf("err %v", err)
	}
}

// A server that answers no CALL (the seed server, or no hbserver at all)
// stops the measurement at once with an error that says so, rather than
// making every probe a silent drop and the verdict a timeout below the
// first gap.
func TestRunServerWithoutCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() { ln.Close(); wg.Wait() }()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { io.Copy(io.Discard, c); c.Close() }) // reads all, answers nothing
		}
	})
	var out bytes.Buffer
	_, err = Run(context.Background(), Config{Addr: ln.Addr().String(), ConnectTimeout: 300 * time.Millisecond, Wait: 200 * time.Millisecond,
		Plan: idle.Config{Max: time.Second, Conns: 4}}, event.NewWriter(&out, false))
	if !errors.Is(err, ErrProbe) || !strings.Contains(err.Error(), "answered no CALL (no CALLBACK within 300ms of the CALL)") {
		t.Fatalf("err %v; events:\n%s", err, out.String())
	}
}
