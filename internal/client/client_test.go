package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// fakeServer behaves like hbserver (or, with seedStyle, like the seed C
// server): it answers each PING, serially, after sleep. It returns when the
// connection ends.
func fakeServer(conn net.Conn, sleep time.Duration, seedStyle bool) {
	defer conn.Close()
	var f msg.Frame
	for msg.ReadFrame(conn, &f) == nil {
		if typ, _ := f.Type(); typ != msg.Ping {
			continue
		}
		time.Sleep(sleep)
		if seedStyle {
			copy(f[:4], []byte{2, 0, 0, 0}) // MSG_PONG without htonl
			copy(f.Data(), "uninitialised bytes, not an echo")
		} else {
			f.SetType(msg.Pong)
		}
		if _, err := conn.Write(f[:]); err != nil {
			return
		}
	}
}

type line map[string]any

func parse(t *testing.T, b *bytes.Buffer) []line {
	t.Helper()
	var out []line
	sc := bufio.NewScanner(b)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		if n := len(out); n > 0 && l["t"].(float64) < out[n-1]["t"].(float64) {
			t.Fatalf("t goes backwards: %v after %v", l, out[n-1])
		}
		out = append(out, l)
	}
	return out
}

func count(lines []line, name string) int {
	n := 0
	for _, l := range lines {
		if l["event"] == name {
			n++
		}
	}
	return n
}

func find(lines []line, name string) line {
	for _, l := range lines {
		if l["event"] == name {
			return l
		}
	}
	return nil
}

// runAgainst runs the client against a fake server for at most limit of
// bubble time and returns the result and the parsed JSON events.
func runAgainst(t *testing.T, cfg probe.Config, sleep, limit time.Duration, seedStyle bool) (Result, []line) {
	t.Helper()
	c, s := net.Pipe()
	served := make(chan struct{})
	go func() { fakeServer(s, sleep, seedStyle); close(served) }()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	res := Run(ctx, c, Options{Probe: cfg, Events: event.NewWriter(&out, true)})
	<-served // a server asleep in a PONG's delay finishes it first
	return res, parse(t, &out)
}

func TestSlowServerDiesAt19s(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, lines := runAgainst(t, probe.DefaultConfig(), 5*time.Second, time.Minute, false)
		if res.Outcome != HeartbeatDead || res.Observed != 19*time.Second || res.Predicted != 19*time.Second {
			t.Fatalf("result %+v, want dead at exactly 19s", res)
		}
		if n := count(lines, "ping"); n != 3 {
			t.Fatalf("%d PINGs, want 3", n)
		}
		if n := count(lines, "missed"); n != 3 {
			t.Fatalf("%d missed probes, want 3", n)
		}
		late := find(lines, "late_pong")
		if late == nil || late["t"] != 15.0 || late["rtt_s"] != 5.0 || late["seq"] != 1.0 || late["echo_seq"] != 1.0 {
			t.Fatalf("late PONG: %v", late)
		}
		dead := find(lines, "dead")
		if dead["t"] != 19.0 || dead["cause"] != "heartbeat" || dead["observed_s"] != 19.0 || dead["predicted_s"] != 19.0 {
			t.Fatalf("dead event: %v", dead)
		}
	})
}

func TestFastServerLives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, lines := runAgainst(t, probe.DefaultConfig(), time.Second, time.Minute, false)
		if res.Outcome != Stopped {
			t.Fatalf("result %+v, want stopped at the limit", res)
		}
		// PINGs at 10s, 21s, 32s, 43s, 54s, each answered 1s later.
		if p, q := count(lines, "ping"), count(lines, "pong"); p != 5 || q != 5 {
			t.Fatalf("%d PINGs and %d PONGs, want 5 and 5", p, q)
		}
		if count(lines, "missed")+count(lines, "late_pong")+count(lines, "dead") != 0 {
			t.Fatalf("a fast server had trouble: %v", lines)
		}
		if l := find(lines, "pong"); l["t"] != 11.0 || l["rtt_s"] != 1.0 {
			t.Fatalf("first PONG %v", l)
		}
	})
}

func TestAcceptLate(t *testing.T) {
	cfg := probe.DefaultConfig()
	cfg.AcceptLate = true
	t.Run("sleep 5 lives", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			res, lines := runAgainst(t, cfg, 5*time.Second, time.Minute, false)
			if res.Outcome != Stopped || count(lines, "late_pong") == 0 {
				t.Fatalf("result %+v, %d late PONGs", res, count(lines, "late_pong"))
			}
		})
	})
	t.Run("sleep 10 dies", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			res, _ := runAgainst(t, cfg, 10*time.Second, time.Minute, false)
			if res.Outcome != HeartbeatDead || res.Observed != 19*time.Second {
				t.Fatalf("result %+v, want dead at 19s", res)
			}
		})
	})
}

func TestSeedServerPongs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, lines := runAgainst(t, probe.DefaultConfig(), 0, 15*time.Second, true)
		if res.Outcome != Stopped {
			t.Fatalf("result %+v", res)
		}
		pong := find(lines, "pong")
		if pong == nil || pong["seq"] != 1.0 || pong["echo_seq"] != nil {
			t.Fatalf("PONG from a seed-style server: %v", pong)
		}
		if count(lines, "note") != 2 {
			t.Fatalf("want one note on byte order and one on the echo: %v", lines)
		}
	})
}

// A clean close between frames ends the run normally; a close in the
// middle of a frame is an error that says how much of the frame came.
func TestPeerCloses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		send    int // bytes the peer sends before closing
		outcome Outcome
		event   string
		field   string
		want    string
	}{
		{"clean", 0, PeerClosed, "closed", "reason", "peer closed"},
		{"mid-frame", 500, MidFrame, "error", "error", "closed by the server in the middle of a frame: 500 of 1028 bytes"},
		{"a frame and a half", msg.FrameSize + 600, MidFrame, "error", "error", "closed by the server in the middle of a frame: 600 of 1028 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, s := net.Pipe()
				go func() {
					time.Sleep(2 * time.Second)
					s.Write(make([]byte, tc.send))
					s.Close()
				}()
				var out bytes.Buffer
				res := Run(context.Background(), c, Options{Probe: probe.DefaultConfig(), Events: event.NewWriter(&out, true)})
				lines := parse(t, &out)
				l := find(lines, tc.event)
				if res.Outcome != tc.outcome || l[tc.field] != tc.want || l["t"] != 2.0 {
					t.Fatalf("result %+v, %s event %v", res, tc.event, l)
				}
				if tc.outcome == MidFrame && (res.Err == nil || res.Err.Error() != tc.want || !errors.Is(res.Err, ErrMidFrame)) {
					t.Fatalf("error %v, want %q", res.Err, tc.want)
				}
			})
		})
	}
}

// Data frames are life in either phase: a peer that sends TYPE1 every 12s
// while never answering PINGs is never declared dead. Without the data, it
// would be dead at 19s. The peer closes after its fifth frame, at 60s.
func TestDataKeepsAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := net.Pipe()
		go func() {
			defer s.Close()
			go func() { // read and drop PINGs, as a peer that never answers
				var f msg.Frame
				for msg.ReadFrame(s, &f) == nil {
				}
			}()
			var f msg.Frame
			f.SetType(msg.Type1)
			for i := 0; i < 5; i++ {
				time.Sleep(12 * time.Second) // PING #1 at 10s, data during probing at 12s
				if _, err := s.Write(f[:]); err != nil {
					return
				}
			}
		}()
		var out bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 61*time.Second)
		defer cancel()
		res := Run(ctx, c, Options{Probe: probe.DefaultConfig(), Events: event.NewWriter(&out, true)})
		lines := parse(t, &out)
		if res.Outcome != PeerClosed || count(lines, "data") != 5 || count(lines, "dead") != 0 {
			t.Fatalf("result %+v, events %v", res, lines)
		}
		synctest.Wait()
	})
}

func TestHeartbeatOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, lines := runAgainst(t, probe.Config{}, 0, time.Hour, false)
		if res.Outcome != Stopped || count(lines, "ping") != 0 {
			t.Fatalf("result %+v, %d PINGs", res, count(lines, "ping"))
		}
		if c := find(lines, "connected"); c["heartbeat"] != false {
			t.Fatalf("connected event %v", c)
		}
	})
}

// A server's warning is shown and the connection goes on; its closing
// notice ends the run as a failure that carries the server's reason.
func TestServerNotices(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := net.Pipe()
		go func() {
			defer s.Close()
			var f msg.Frame
			msg.PutNotice(&f, msg.Warning, "slow down")
			s.Write(f[:])
			time.Sleep(time.Second)
			msg.PutNotice(&f, msg.Closing, "ping flood: allowed one per 100ms")
			s.Write(f[:])
		}()
		var out bytes.Buffer
		res := Run(context.Background(), c, Options{Probe: probe.DefaultConfig(), Events: event.NewWriter(&out, true)})
		lines := parse(t, &out)
		if res.Outcome != ClosedByNotice || res.Err == nil || res.Err.Error() != "closed by the server: ping flood: allowed one per 100ms" {
			t.Fatalf("result %+v", res)
		}
		if n := find(lines, "note"); n["text"] != "slow down" || n["t"] != 0.0 {
			t.Fatalf("warning event %v", n)
		}
		if count(lines, "note") != 1 || count(lines, "data") != 0 {
			t.Fatalf("a warning is one event, a note: %v", lines)
		}
		if e := find(lines, "error"); e["t"] != 1.0 || e["from"] != "server" {
			t.Fatalf("error event %v", e)
		}
	})
}

// A bad server: garbage, unknown types, a flood of PONGs nobody asked for,
// then a close in the middle of a frame. Each is reported and classified;
// the heartbeat is not fooled by the unsolicited PONGs.
func TestBadServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, lines := runPeer(t, probe.DefaultConfig(), func(s net.Conn) {
			go io.Copy(io.Discard, s) // take the PINGs
			junk := make([]byte, 3*msg.FrameSize)
			for i := range junk {
				junk[i] = byte(i * 7)
			}
			s.Write(junk) // three frames of garbage types
			var f msg.Frame
			f.SetType(77)
			s.Write(f[:])
			f.SetType(msg.Pong)
			for i := 0; i < 1000; i++ {
				s.Write(f[:])
			}
			time.Sleep(30 * time.Second) // long enough for the heartbeat to give up
			s.Write(f[:100])
		})
		// 1000 unsolicited PONGs at t=0 are no sign of life under the strict
		// rule: the server is dead 19s after the garbage, its last data.
		if res.Outcome != HeartbeatDead || res.Observed != 19*time.Second {
			t.Fatalf("result %+v", res)
		}
		if n := count(lines, "late_pong"); n != 1000 {
			t.Fatalf("%d unsolicited PONGs reported, want 1000", n)
		}
		if n := count(lines, "data"); n != 4 {
			t.Fatalf("%d data frames reported, want 4 (3 garbage, 1 unknown)", n)
		}
	})
}

// Under probe.LifeSent (MQTT's client) the answer to the server's PING is
// a frame sent: it restarts the idle timer, so PING #1 goes 10s after it.
func TestLifeSentCountsTheAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := net.Pipe()
		go func() {
			defer s.Close()
			time.Sleep(5 * time.Second)
			var f msg.Frame
			f.SetType(msg.Ping)
			if _, err := s.Write(f[:]); err != nil {
				return
			}
			for msg.ReadFrame(s, &f) == nil { // the answer, then PINGs, never answered
			}
		}()
		var out bytes.Buffer
		cfg := probe.Config{Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: 1, Life: probe.LifeSent}
		res := Run(context.Background(), c, Options{Probe: cfg, Events: event.NewWriter(&out, true)})
		lines := parse(t, &out)
		// The server's PING at 5s is life; the answer sent then restarts
		// the idle timer: PING #1 at 5s + 10s, dead 3s later, 13s after
		// the last life.
		if p := find(lines, "ping"); p == nil || p["t"].(float64) != 15 {
			t.Fatalf("PING #1 %v, want at 15s; events %v", p, lines)
		}
		if res.Outcome != HeartbeatDead || res.Observed != 13*time.Second {
			t.Fatalf("result %+v, want dead 13s after the server's PING", res)
		}
		c.Close()
		synctest.Wait()
	})
}

// With Announce, the first frame is a HELLO with the heartbeat's settings;
// a server that ignores it, as the seed C server does, changes nothing.
func TestAnnounceSendsHelloFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := net.Pipe()
		cfg := probe.Config{Idle: 2 * time.Second, Interval: time.Second, Probes: 3, AcceptLate: true, Jitter: 10, Seed: 1}
		first := make(chan msg.Frame, 1)
		go func() {
			var f msg.Frame
			if msg.ReadFrame(s, &f) == nil {
				first <- f
			}
			close(first)
			fakeServer(s, 0, true)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res := Run(ctx, c, Options{Probe: cfg, Announce: true})
		if res.Outcome != Stopped {
			t.Fatalf("result %+v, want alive until stopped", res)
		}
		f, ok := <-first
		if typ, _ := f.Type(); !ok || typ != msg.Hello {
			t.Fatalf("first frame %v, want a HELLO", typ)
		}
		want := msg.HelloInfo{Idle: 2 * time.Second, Interval: time.Second, Probes: 3, AcceptLate: true, Jitter: 10}
		if got := msg.ReadHello(&f); got != want {
			t.Fatalf("HELLO announces %+v, want %+v", got, want)
		}
	})
}

// Under jitter the verdict is predicted from the draws, so that observed
// and predicted agree to the nanosecond on a fake clock.
func TestJitteredVerdictIsPredictedFromTheDraws(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := probe.Config{Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: 3, Jitter: 20, Seed: 7}
		res, _ := runAgainst(t, cfg, time.Hour, time.Minute, false)
		if res.Outcome != HeartbeatDead || res.Observed != res.Predicted {
			t.Fatalf("result %+v, want dead when its draws said", res)
		}
		if res.Predicted < cfg.DeadAfterMin() || res.Predicted >= cfg.DeadAfter() {
			t.Fatalf("predicted %v, want within %v to %v", res.Predicted, cfg.DeadAfterMin(), cfg.DeadAfter())
		}
	})
}
