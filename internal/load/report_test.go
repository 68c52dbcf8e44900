package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// checkCounts asserts that a run's counts add up: every connection that
// came up ended in exactly one way or is still alive.
func checkCounts(t *testing.T, s Summary) {
	t.Helper()
	if s.Connected != s.Alive+s.Dead+s.NeverAccepted+s.Failed+s.Closed {
		t.Errorf("connected %d != alive %d + dead %d + never accepted %d + failed %d + closed %d",
			s.Connected, s.Alive, s.Dead, s.NeverAccepted, s.Failed, s.Closed)
	}
	if s.Conns != s.Connected+s.ConnectErrors+s.Pending {
		t.Errorf("conns %d != connected %d + connect errors %d + pending %d", s.Conns, s.Connected, s.ConnectErrors, s.Pending)
	}
	if s.ClosedMidFrame+s.ClosedNotices > s.Closed || s.Pending < 0 {
		t.Errorf("counts do not add up: %+v", s)
	}
}

// runOut runs a load with cfg until every connection ends or d passes, and
// returns the summary and the events printed, text or JSON lines.
func runOut(t *testing.T, cfg Config, d time.Duration, jsonLines bool) (Summary, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out bytes.Buffer
	sum, err := Run(ctx, cfg, event.NewWriter(&out, jsonLines))
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, sum)
	return sum, out.String()
}

// jsonEvent is the last JSON line of the event named name in out.
func jsonEvent(t *testing.T, out, name string) map[string]any {
	t.Helper()
	var last map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		if m["event"] == name {
			last = m
		}
	}
	if last == nil {
		t.Fatalf("no %s event in:\n%s", name, out)
	}
	return last
}

// A server that is full (hbserver --max-conns 5) says so in a closing
// NOTICE and closes: each connection over the limit is closed by the
// server, not failed, and the reason is counted and shown in the status and
// the summary, quoted so that it cannot forge a line.
func TestServerFullNotice(t *testing.T) {
	noLeaks(t)
	const reason = "server full\n   9.999  DEAD"
	var accepted atomic.Int32
	addr := fakePeer(t, func(c net.Conn) {
		if accepted.Add(1) <= 5 {
			echo(c)
			return
		}
		var f msg.Frame
		msg.PutNotice(&f, msg.Closing, reason)
		c.Write(f[:])
		c.Close()
	})
	cfg := Config{Addr: addr, Conns: 20, Every: 50 * time.Millisecond,
		Probe: probe.Config{Idle: time.Second, Interval: time.Second, Probes: 3}}
	sum, out := runOut(t, cfg, 400*time.Millisecond, true)
	if sum.Alive != 5 || sum.Closed != 15 || sum.ClosedNotices != 15 || sum.Failed != 0 || sum.FirstCloseReason != reason {
		t.Fatalf("summary %+v", sum)
	}
	for _, name := range []string{"status", "summary"} {
		e := jsonEvent(t, out, name)
		if e["closed"] != 15.0 || e["closed_notices"] != 15.0 || e["first_close_reason"] != reason || e["failed"] != 0.0 {
			t.Fatalf("%s event %v", name, e)
		}
	}
	accepted.Store(0)
	_, text := runOut(t, cfg, 400*time.Millisecond, false)
	want := `(closed by server: 15 with a NOTICE, the first: "server full\n   9.999  DEAD")`
	if !strings.Contains(text, "closed by server 15") || !strings.Contains(text, want) || strings.Contains(text, "\n   9.999  DEAD") {
		t.Fatalf("text, want the reason quoted in the summary:\n%s", text)
	}
}

// A server that closes in the middle of a frame: closed by the server, and
// said to be mid-frame.
func TestClosedMidFrame(t *testing.T) {
	noLeaks(t)
	addr := fakePeer(t, func(c net.Conn) {
		c.Write(make([]byte, 100))
		c.Close()
	})
	cfg := Config{Addr: addr, Conns: 10, Probe: probe.Config{Idle: time.Second, Interval: time.Second, Probes: 3}}
	sum, out := runOut(t, cfg, 5*time.Second, false)
	if sum.Closed != 10 || sum.ClosedMidFrame != 10 || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(out, "closed by server 10") || !strings.Contains(out, "(closed by server: 10 mid-frame)") {
		t.Fatalf("text:\n%s", out)
	}
}

// A server that sends nothing but warning NOTICEs, more often than the
// heartbeat's idle time: each is a sign of life and none is a PONG.
func TestWarningIsLifeNotPong(t *testing.T) {
	noLeaks(t)
	addr := fakePeer(t, func(c net.Conn) {
		go io.Copy(io.Discard, c)
		var f msg.Frame
		msg.PutNotice(&f, msg.Warning, "slow down")
		pace := time.NewTicker(20 * time.Millisecond)
		defer pace.Stop()
		for i := 0; i < 100; i++ { // bounded: 2 s at most
			if _, err := c.Write(f[:]); err != nil {
				return
			}
			<-pace.C
		}
	})
	// Dead after 40ms + 2 x 30ms = 100 ms without a sign of life.
	pc := probe.Config{Idle: 40 * time.Millisecond, Interval: 30 * time.Millisecond, Probes: 2}
	sum, out := runOut(t, Config{Addr: addr, Conns: 5, Probe: pc}, 500*time.Millisecond, true)
	if sum.Alive != 5 || sum.Dead != 0 || sum.Pongs != 0 || sum.Warnings < 5*10 {
		t.Fatalf("summary %+v", sum)
	}
	if s := jsonEvent(t, out, "summary"); s["warnings"] != float64(sum.Warnings) {
		t.Fatalf("summary event %v", s)
	}
}

// With no verdict and no PONG, the detection error and the RTT are null
// (text "-"), never a perfect zero; every rate is a finite number to the
// tenth.
func TestNoFigureIsNull(t *testing.T) {
	noLeaks(t)
	addr := fakePeer(t, hold)
	// The heartbeat is slower than the run: no PONG, no verdict.
	pc := probe.Config{Idle: 10 * time.Second, Interval: time.Second, Probes: 3}
	cfg := Config{Addr: addr, Conns: 3, Rate: math.NaN(), Probe: pc, Every: 50 * time.Millisecond}
	sum, out := runOut(t, cfg, 300*time.Millisecond, true)
	if sum.Alive != 3 {
		t.Fatalf("summary %+v", sum)
	}
	if l := jsonEvent(t, out, "load"); l["rate"] != 0.0 {
		t.Fatalf("load event %v: a NaN rate is full speed, 0", l)
	}
	s := jsonEvent(t, out, "summary")
	for _, k := range []string{"rtt_p50_s", "rtt_p99_s", "detect_err_p50_s", "detect_err_p99_s", "detect_err_max_s"} {
		if v, ok := s[k]; !ok || v != nil {
			t.Errorf("summary %s = %v, want null", k, v)
		}
	}
	st := jsonEvent(t, out, "status")
	if v, ok := st["rtt_p50_s"]; !ok || v != nil {
		t.Errorf("status rtt_p50_s = %v, want null", v)
	}
	for _, e := range []map[string]any{s, st} {
		r, ok := e["pings_per_s"].(float64)
		if !ok || r < 0 || math.Abs(r*10-math.Round(r*10)) > 1e-6 {
			t.Errorf("%v pings_per_s = %v, want a number to the tenth", e["event"], e["pings_per_s"])
		}
	}
	_, text := runOut(t, cfg, 200*time.Millisecond, false)
	if !strings.Contains(text, "at full speed") || !strings.Contains(text, "RTT p50 - p99 -\n") || !strings.Contains(text, " detection error p50 - p99 - max -\n") {
		t.Fatalf("text:\n%s", text)
	}
}

// With the heartbeat off there is no prediction: the load line says so and
// predicted_s is null, not 0.
func TestHeartbeatOff(t *testing.T) {
	noLeaks(t)
	addr := fakePeer(t, hold)
	cfg := Config{Addr: addr, Conns: 2, Probe: probe.Config{Probes: 0}}
	sum, out := runOut(t, cfg, 100*time.Millisecond, true)
	if sum.Alive != 2 || sum.Pings != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if l := jsonEvent(t, out, "load"); l["predicted_s"] != nil || !strings.Contains(out, `"predicted_s":null`) {
		t.Fatalf("load event %v", l)
	}
	if _, text := runOut(t, cfg, 100*time.Millisecond, false); !strings.Contains(text, "  heartbeat: off (--probes 0)\n") {
		t.Fatalf("text:\n%s", text)
	}
}

// A run that stops before every connection is opened says how many were
// pending, so that the summary's counts add up to the connections asked for.
func TestPending(t *testing.T) {
	noLeaks(t)
	addr := fakePeer(t, echo)
	cfg := Config{Addr: addr, Conns: 100, Rate: 20, Probe: probe.Config{Idle: time.Second, Interval: time.Second, Probes: 3}}
	sum, out := runOut(t, cfg, 200*time.Millisecond, false)
	// 20 a second for 0.2 s: 4 or 5 opened, the rest pending.
	if sum.Pending < 90 || sum.Connected+sum.ConnectErrors < 1 {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(out, ", "+strconv.Itoa(sum.Pending)+" pending\n") {
		t.Fatalf("text:\n%s", out)
	}
}

func TestPerSecond(t *testing.T) {
	for _, c := range []struct {
		n    int64
		d    time.Duration
		want float64
		ok   bool
	}{
		{1720, 3 * time.Second, 573.3, true},
		{1, 3 * time.Second, 0.3, true},
		{0, time.Second, 0, true},
		{5, 0, 0, false},
		{5, -time.Second, 0, false},
	} {
		if got, ok := perSecond(c.n, c.d); got != c.want || ok != c.ok {
			t.Errorf("perSecond(%d, %v) = %v %v, want %v %v", c.n, c.d, got, ok, c.want, c.ok)
		}
	}
}

// A server that sends PONGs no PING asked for (one that floods them): they
// are not RTT samples, and the status and summary lines count them, so that
// the flood is not hidden behind "alive".
func TestUnsolicitedPongsCounted(t *testing.T) {
	noLeaks(t)
	const conns, pongs = 3, 100
	addr := fakePeer(t, func(c net.Conn) {
		var f msg.Frame
		f.SetType(msg.Pong)
		for i := 0; i < pongs; i++ {
			if _, err := c.Write(f[:]); err != nil {
				return
			}
		}
		io.Copy(io.Discard, c)
	})
	// No PING within the run: every PONG is unsolicited.
	pc := probe.Config{Idle: 10 * time.Second, Interval: time.Second, Probes: 3}
	cfg := Config{Addr: addr, Conns: conns, Probe: pc, Every: 50 * time.Millisecond}
	sum, out := runOut(t, cfg, 400*time.Millisecond, true)
	if sum.Alive != conns || sum.Pongs != 0 || sum.LatePongs != conns*pongs {
		t.Fatalf("summary %+v, want %d late PONGs", sum, conns*pongs)
	}
	for _, name := range []string{"status", "summary"} {
		if e := jsonEvent(t, out, name); e["late_pongs"] != float64(conns*pongs) {
			t.Fatalf("%s event %v, want late_pongs %d", name, e, conns*pongs)
		}
	}
	_, text := runOut(t, cfg, 400*time.Millisecond, false)
	if want := "late or unsolicited PONGs 300"; strings.Count(text, want) < 2 {
		t.Fatalf("text, want %q in the last status line and the summary:\n%s", want, text)
	}
}
