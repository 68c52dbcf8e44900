package server

import (
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// The HELLO rules with exact times: the reaping silence runs from the
// client's last frame, and an announced rate above --min-ping-interval is
// told at once, naming the flag and the value to use.
func TestPolicyHello(t *testing.T) {
	const reap = 15 * sec // 1.5 x the window, max(idle 10s, interval 3s)
	for _, tc := range []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"reported, not reaped without the flag", Config{}, []step{
			{0, "hello 10000 3000 3 0", "HELLO: idle 10s, interval 3s, 3 probes, jitter 0; reap after 0s", -1},
			{time.Hour, "tick", "", -1},
		}},
		{"reaped 1.5 x the window after its last frame", Config{ReapAfterAnnounced: 1.5}, []step{
			{0, "hello 10000 3000 3 0", "HELLO: idle 10s, interval 3s, 3 probes, jitter 0; reap after 15s", reap},
			{10 * sec, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", 10*sec + reap},
			{10*sec + reap - 1, "tick", "", 10*sec + reap},
			{10*sec + reap, "tick", "send closing notice: silent past its announced window: nothing for 15s: 1.5 x the window its HELLO announced, 10s (the longer of idle 10s and interval 3s; --reap-after-announced); " +
				"told: silent past its announced window: nothing for 15s: 1.5 x the window its HELLO announced, 10s (the longer of idle 10s and interval 3s; --reap-after-announced); leave; linger", 10*sec + reap + lingerFor},
			{10*sec + reap + lingerFor, "tick", "end: silent past its announced window (nothing for 15s: 1.5 x the window its HELLO announced, 10s (the longer of idle 10s and interval 3s; --reap-after-announced))", -1},
		}},
		{"the window is the interval when it is the longer", Config{ReapAfterAnnounced: 2}, []step{
			{0, "hello 1000 5000 2 0", "HELLO: idle 1s, interval 5s, 2 probes, jitter 0; reap after 10s", 10 * sec},
			{3 * sec, "type1", "TYPE1 received", 13 * sec}, // any frame restarts the silence
		}},
		{"no heartbeat announced: never reaped", Config{ReapAfterAnnounced: 1.5}, []step{
			{0, "hello 0 0 0 0", "HELLO: idle 0s, interval 0s, 0 probes, jitter 0; reap after 0s", -1},
		}},
		{"a later HELLO replaces the first", Config{ReapAfterAnnounced: 1}, []step{
			{0, "hello 10000 3000 3 0", "HELLO: idle 10s, interval 3s, 3 probes, jitter 0; reap after 10s", 10 * sec},
			{sec, "hello 2000 1000 3 0", "HELLO: idle 2s, interval 1s, 3 probes, jitter 0; reap after 2s", 3 * sec},
		}},
		{"an interval under --min-ping-interval is told at once", Config{MinPingInterval: sec}, []step{
			{0, "hello 10000 100 3 0", "HELLO: idle 10s, interval 100ms, 3 probes, jitter 0; reap after 0s; " +
				"send warning notice: your PING interval 100ms is under this server's --min-ping-interval 1s: use --interval 1s or more; " +
				"told: your PING interval 100ms is under this server's --min-ping-interval 1s: use --interval 1s or more", -1},
		}},
		{"an idle under --min-ping-interval is told too", Config{MinPingInterval: sec}, []step{
			{0, "hello 500 1000 3 0", "HELLO: idle 500ms, interval 1s, 3 probes, jitter 0; reap after 0s; " +
				"send warning notice: your idle time before a PING 500ms is under this server's --min-ping-interval 1s: use --idle 1s or more; " +
				"told: your idle time before a PING 500ms is under this server's --min-ping-interval 1s: use --idle 1s or more", -1},
		}},
		{"jitter that can cut the interval under it is told with the value that cannot", Config{MinPingInterval: sec}, []step{
			{0, "hello 10000 1100 3 20", "HELLO: idle 10s, interval 1.1s, 3 probes, jitter 20; reap after 0s; " +
				"send warning notice: your PING interval 1.1s, less up to 20% of --jitter, is under this server's --min-ping-interval 1s: use --interval 1.25s or more; " +
				"told: your PING interval 1.1s, less up to 20% of --jitter, is under this server's --min-ping-interval 1s: use --interval 1.25s or more", -1},
		}},
		{"jitter on the idle time too; settings that keep the rate are not told", Config{MinPingInterval: sec}, []step{
			{0, "hello 1000 1250 3 20", "HELLO: idle 1s, interval 1.25s, 3 probes, jitter 20; reap after 0s; " +
				"send warning notice: your idle time before a PING 1s, less up to 20% of --jitter, is under this server's --min-ping-interval 1s: use --idle 1.25s or more; " +
				"told: your idle time before a PING 1s, less up to 20% of --jitter, is under this server's --min-ping-interval 1s: use --idle 1.25s or more", -1},
			{sec, "hello 1250 1250 3 20", "HELLO: idle 1.25s, interval 1.25s, 3 probes, jitter 20; reap after 0s", -1},
			{sec, "hello 2000 1000 3 0", "HELLO: idle 2s, interval 1s, 3 probes, jitter 0; reap after 0s", -1},
		}},
		{"a jitter past 50 is taken as 50", Config{MinPingInterval: sec}, []step{
			{0, "hello 10000 1500 3 100", "HELLO: idle 10s, interval 1.5s, 3 probes, jitter 100; reap after 0s; " +
				"send warning notice: your PING interval 1.5s, less up to 50% of --jitter, is under this server's --min-ping-interval 1s: use --interval 2s or more; " +
				"told: your PING interval 1.5s, less up to 50% of --jitter, is under this server's --min-ping-interval 1s: use --interval 2s or more", -1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newSocket(tc.cfg, t0)
			for _, st := range tc.steps {
				k.step(t, st)
			}
		})
	}
}

// Under --quiet only the first HELLO is reported: a client that sends
// them in a loop cannot fill the timeline.
func TestQuietReportsTheFirstHelloOnly(t *testing.T) {
	k := newSocket(Config{Quiet: true, MinPingInterval: 2 * sec}, t0)
	const told = "your PING interval 1s is under this server's --min-ping-interval 2s: use --interval 2s or more"
	k.step(t, step{0, "hello 2000 1000 1 0", "HELLO: idle 2s, interval 1s, 1 probes, jitter 0; reap after 0s; send warning notice: " + told + "; told: " + told, -1})
	// The client is still told; the timeline is not.
	k.step(t, step{sec, "hello 2000 1000 1 0", "send warning notice: " + told, -1})
}

// A HELLO is a sign of life for the server's own heartbeat.
func TestHelloIsLife(t *testing.T) {
	var f msg.Frame
	msg.PutHello(&f, msg.HelloInfo{Idle: sec, Interval: sec, Probes: 1})
	k := newSocket(Config{Probe: probe.Config{Idle: 10 * sec, Interval: sec, Probes: 1}}, t0)
	k.p.frame(&k.fx, &f, t0.Add(5*sec))
	k.apply(t0.Add(5 * sec))
	if d := k.p.deadline().Sub(t0); d != 15*sec {
		t.Fatalf("next deadline %v after a HELLO at 5s, want the server's PING at 15s", d)
	}
}
