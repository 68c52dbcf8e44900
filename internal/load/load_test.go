package load

import (
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
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/procstat"
)

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if p50, p99 := percentiles(d); p50 != 50*time.Millisecond || p99 != 99*time.Millisecond {
		t.Fatalf("1..100ms: p50 %v p99 %v", p50, p99)
	}
	if p50, p99 := percentiles([]time.Duration{7}); p50 != 7 || p99 != 7 {
		t.Fatalf("one sample: %v %v", p50, p99)
	}
	if p50, p99 := percentiles(nil); p50 != 0 || p99 != 0 {
		t.Fatalf("no samples: %v %v", p50, p99)
	}
}

// noLeaks checks, when the test ends, that no goroutine is left and every
// file descriptor is back. Call it first, so that it runs last.
func noLeaks(t *testing.T) {
	fds := procstat.Read().OpenFiles
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		goleak.VerifyNone(t, before)
		if now := procstat.Read().OpenFiles; now > fds {
			t.Errorf("open files: %d before, %d after", fds, now)
		}
	})
}

// fakePeer listens on loopback and runs handle on every connection, each in its
// own goroutine; everything is closed when the test ends.
func fakePeer(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echo answers every PING with a PONG that echoes it, as hbserver does.
func echo(c net.Conn) {
	var f msg.Frame
	for msg.ReadFrame(c, &f) == nil {
		f.SetType(msg.Pong)
		if _, err := c.Write(f[:]); err != nil {
			return
		}
	}
}

// hold leaves the connection open and never reads or writes it: a frozen
// server (the kernel still acknowledges what arrives).
func hold(net.Conn) {}

func run(t *testing.T, addr string, conns int, cfg probe.Config, d time.Duration) (Summary, error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	sum, err := Run(ctx, Config{Addr: addr, Conns: conns, Rate: 0, Probe: cfg}, event.Discard())
	return sum, err, time.Since(start)
}

// 200 connections to a server that answers: every one alive at the end,
// PINGs sent and their round trips measured.
func TestAllAlive(t *testing.T) {
	noLeaks(t)
	addr := fakePeer(t, echo)
	cfg := probe.Config{Idle: 20 * time.Millisecond, Interval: 200 * time.Millisecond, Probes: 3}
	sum, err, _ := run(t, addr, 200, cfg, 600*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum)
	if sum.Connected != 200 || sum.Alive != 200 || sum.Dead+sum.Failed+sum.Closed+sum.ConnectErrors+sum.NeverAccepted != 0 {
		t.Fatalf("summary %+v, want all 200 alive", sum)
	}
	// A PING every 20 ms or so for 600 ms: far more than one each.
	if sum.Pings < 200*5 {
		t.Fatalf("%d PINGs from 200 connections in 600ms with idle 20ms", sum.Pings)
	}
	if sum.RTT50 <= 0 || sum.RTT99 < sum.RTT50 || sum.RTT99 > 200*time.Millisecond {
		t.Fatalf("RTT p50 %v p99 %v", sum.RTT50, sum.RTT99)
	}
}

// A server that accepts and then says nothing: every connection is declared
// dead near its predicted instant, and the run ends with the last verdict,
// not at its duration.
func TestFrozenServerAllDead(t *testing.T) {
	noLeaks(t)
	addr := fakePeer(t, hold)
	cfg := probe.Config{Idle: 50 * time.Millisecond, Interval: 30 * time.Millisecond, Probes: 2}
	sum, err, took := run(t, addr, 300, cfg, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum)
	// Its kernel acknowledged the PINGs: deaths, not connections it never
	// accepted.
	if sum.Dead != 300 || sum.NeverAccepted != 0 || sum.Alive != 0 || sum.Pings != 600 {
		t.Fatalf("summary %+v, want 300 dead after 2 PINGs each", sum)
	}
	if took > 5*time.Second {
		t.Fatalf("the run went on %v after every connection was dead", took)
	}
	// Never early; late by far less than the 110 ms a verdict takes here
	// (the bound leaves room for -race on a loaded machine).
	if sum.DetectErr50 < 0 || sum.DetectErrMax > 50*time.Millisecond {
		t.Fatalf("detection error p50 %v max %v", sum.DetectErr50, sum.DetectErrMax)
	}
}

// A server that closes at once and one that resets: closed and failed are
// told apart.
func TestClosedAndReset(t *testing.T) {
	noLeaks(t)
	cfg := probe.Config{Idle: time.Second, Interval: time.Second, Probes: 3}
	closer := fakePeer(t, func(c net.Conn) { c.Close() })
	sum, err, _ := run(t, closer, 50, cfg, 5*time.Second)
	checkCounts(t, sum)
	if err != nil || sum.Closed != 50 || sum.Alive != 0 || sum.Failed != 0 {
		t.Fatalf("closing server: %+v %v", sum, err)
	}
	resetter := fakePeer(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	sum, err, _ = run(t, resetter, 50, cfg, 5*time.Second)
	checkCounts(t, sum)
	if err != nil || sum.Failed != 50 || sum.Alive != 0 {
		t.Fatalf("resetting server: %+v %v", sum, err)
	}
}

// The server's own PINGs are answered with an echo, and count as life; a
// closing NOTICE ends the connection as a failure.
func TestServerPingAndNotice(t *testing.T) {
	noLeaks(t)
	echoed := make(chan bool, 1)
	addr := fakePeer(t, func(c net.Conn) {
		var f msg.Frame
		f.SetType(msg.Ping)
		msg.Stamp{Seq: 7, Sent: time.Now()}.Put(&f)
		c.Write(f[:])
		// The client's own PINGs may come first; its PONG echoes ours.
		for msg.ReadFrame(c, &f) == nil {
			if typ, _ := f.Type(); typ == msg.Pong {
				st, ok := msg.ReadStamp(&f)
				echoed <- ok && st.Seq == 7
				break
			}
		}
		msg.PutNotice(&f, msg.Warning, "slow down")
		c.Write(f[:])
		msg.PutNotice(&f, msg.Closing, "enough")
		c.Write(f[:])
		io.Copy(io.Discard, c)
	})
	cfg := probe.Config{Idle: time.Second, Interval: time.Second, Probes: 3}
	sum, err, took := run(t, addr, 1, cfg, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !<-echoed {
		t.Fatal("the PONG to the server's PING did not echo it")
	}
	checkCounts(t, sum)
	if sum.Closed != 1 || sum.ClosedNotices != 1 || sum.FirstCloseReason != "enough" || sum.Warnings != 1 ||
		sum.Failed != 0 || sum.Dead != 0 || took > 5*time.Second {
		t.Fatalf("after a warning and a closing NOTICE: %+v in %v", sum, took)
	}
}

// Nothing listening: every handshake fails, the first error is kept, and the
// run ends at once.
func TestRefused(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sum, err, took := run(t, addr, 20, probe.DefaultConfig(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum)
	if sum.ConnectErrors != 20 || sum.Connected != 0 || !strings.Contains(sum.FirstConnectError, "refused") {
		t.Fatalf("summary %+v", sum)
	}
	if took > 5*time.Second {
		t.Fatalf("took %v with nothing to drive", took)
	}
}

func TestBadAddress(t *testing.T) {
	noLeaks(t)
	_, err, _ := run(t, "127.0.0.1:notaport", 1, probe.DefaultConfig(), time.Second)
	var ae *net.AddrError
	if err == nil || (!errors.As(err, &ae) && !strings.Contains(err.Error(), "port")) {
		t.Fatalf("err %v, want an address error", err)
	}
}

// Under jitter each connection draws its own waits: with one seed for all,
// connections opened together would stay in step.
func TestEachConnectionDrawsItsOwnJitter(t *testing.T) {
	cfg := Config{Probe: probe.Config{Idle: time.Second, Interval: time.Second, Probes: 1, Jitter: 50, Seed: 9}}
	now := time.Now()
	first := map[time.Time]int{}
	for i := range 10 {
		first[probe.New(cfg.probe(i), now).Deadline()]++
	}
	if len(first) < 10 {
		t.Fatalf("10 connections drew %d different first PING times", len(first))
	}
	if cfg.probe(3).Seed != 12 {
		t.Fatalf("connection 3 seeded %d, want 9 + 3", cfg.probe(3).Seed)
	}
}
