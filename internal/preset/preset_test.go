package preset

import (
	"github.com/heartbeat/heartbeat/internal/probe"
	"testing"
	"time"
)

const (
	s  = time.Second
	ms = time.Millisecond
	m  = time.Minute
)

// never is a verdict that does not come.
const no = time.Duration(-1)

// Each preset's verdict against a silent peer and a slow one (hbserver's
// SLEEP) is its system's formula, on the probe machine itself.
func TestPresetFormulas(t *testing.T) {
	for _, tc := range []struct {
		preset  string
		sleep   time.Duration // -1: silent
		want    time.Duration // no: never dead
		formula string
	}{
		// SSH: probes at I, 2I, 3I after the last packet; dead at (N+1) x I.
		{"ssh", -1, (3 + 1) * 15 * s, "(ServerAliveCountMax 3 + 1) x ServerAliveInterval 15s"},
		// Any reply is life: slower than N x I = 45s dies, faster lives.
		{"ssh", 44 * s, no, "SLEEP 44s < 3 x 15s: every reply resets the count"},
		{"ssh", 46 * s, (3 + 1) * 15 * s, "SLEEP 46s > 3 x 15s: dead at (3 + 1) x 15s"},
		// gRPC: one PING after Time, dead Timeout later.
		{"grpc", -1, 10*s + 20*s, "Time 10s + Timeout 20s"},
		{"grpc", 19 * s, no, "SLEEP 19s < Timeout 20s"},
		{"grpc", 21 * s, 10*s + 20*s, "SLEEP 21s > Timeout 20s: Time + Timeout"},
		// NATS: a PING every PingInterval; stale when a PING would make
		// more than MaxPingsOut out.
		{"nats", -1, (2 + 1) * 2 * m, "(MaxPingsOut 2 + 1) x PingInterval 2m"},
		{"nats", 3 * m, no, "SLEEP 3m < MaxPingsOut 2 x 2m: a PONG comes before the third tick"},
		{"nats", 5 * m, (2 + 1) * 2 * m, "SLEEP 5m > 2 x 2m: the first PONG comes after 6m"},
		// MQTT client: PINGREQ at Keep Alive after the last packet sent,
		// dead a PINGRESP timeout (one Keep Alive) later.
		{"mqtt", -1, 60*s + 60*s, "Keep Alive 60s + PINGRESP timeout 60s"},
		{"mqtt", 59 * s, no, "SLEEP 59s < the PINGRESP timeout 60s"},
		{"mqtt", 61 * s, 60*s + 60*s, "SLEEP 61s > 60s: Keep Alive + timeout"},
		// ZMTP: a PING every IVL, dead TIMEOUT after an unanswered one.
		{"zmtp", -1, 1*s + 1*s, "HEARTBEAT_IVL 1s + HEARTBEAT_TIMEOUT 1s"},
		{"zmtp", 999 * ms, no, "SLEEP 999ms < TIMEOUT 1s"},
		{"zmtp", 1001 * ms, 1*s + 1*s, "SLEEP 1.001s > TIMEOUT 1s: IVL + TIMEOUT"},
		// gorilla/websocket: pongWait after the last pong.
		{"websocket", -1, 60 * s, "pongWait 60s (pingPeriod 54s + 6s)"},
		{"websocket", 5 * s, no, "SLEEP 5s < pongWait - pingPeriod 6s"},
		{"websocket", 7 * s, 60 * s, "SLEEP 7s > 6s: pongWait 60s"},
		// BFD: nothing for DetectMult x interval.
		{"bfd", -1, 3 * 300 * ms, "DetectMult 3 x interval 300ms"},
		{"bfd", 500 * ms, no, "SLEEP 500ms: a packet at least every 500ms < 900ms"},
		{"bfd", 700 * ms, 3 * 300 * ms, "SLEEP 700ms: the first answer at 1s > 3 x 300ms"},
		// Kernel keep-alive alone: the peer's kernel answers, the
		// heartbeat is off: neither a hung nor a slow process is found.
		{"keepalive", -1, no, "the heartbeat is off"},
		{"keepalive", 10 * s, no, "the heartbeat is off"},
	} {
		p, ok := Find(Clients(), tc.preset)
		if !ok {
			t.Fatalf("no preset %q", tc.preset)
		}
		if err := p.Probe.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.preset, err)
		}
		got, _ := simulate(p.Probe, time.Unix(0, 0), tc.sleep, false)
		if tc.want == no {
			if !got.Never {
				t.Errorf("%s, sleep %v: dead at %v, want never (%s)", tc.preset, tc.sleep, got.At, tc.formula)
			}
			continue
		}
		if got.Never || got.At != tc.want || got.By != "heartbeat" {
			t.Errorf("%s, sleep %v: %+v, want dead at %v (%s)", tc.preset, tc.sleep, got, tc.want, tc.formula)
		}
		if tc.sleep < 0 && p.Probe.DeadAfter() != tc.want {
			t.Errorf("%s: DeadAfter %v, want %v (%s)", tc.preset, p.Probe.DeadAfter(), tc.want, tc.formula)
		}
	}
}

// The kernel's part of the comparison: keep-alive for an idle vanished
// host, retransmissions or the user timeout once data waits, nothing for a
// hung process.
func TestCompareKernel(t *testing.T) {
	ka, _ := Find(Clients(), "keepalive")
	k := LinuxKernel()
	k.KeepAlive.Enable = ka.KeepAlive
	v := Compare(ka.Probe, k, 5*s)
	if !v.Hung.Never || !v.Slow.Never {
		t.Errorf("keepalive: hung %+v, slow %+v: the peer's kernel answers, want never", v.Hung, v.Slow)
	}
	if want := 7200*s + 9*75*s; v.Vanished.At != want || v.Vanished.By != "keep-alive" {
		t.Errorf("keepalive, vanished: %+v, want %v (7200s + 9 x 75s) by keep-alive", v.Vanished, want)
	}
	if want := 924600 * ms; v.Unacked.At != want || v.Unacked.By != "retransmissions" {
		t.Errorf("keepalive, unacked: %+v, want %v (tcp_retries2 15, RTO 200ms)", v.Unacked, want)
	}

	// gRPC sets TCP_USER_TIMEOUT = Timeout: unacknowledged data dies at
	// 20s, before the heartbeat's 30s; the vanished host's first PING at
	// 10s is unacknowledged until the same 30s.
	g, _ := Find(Clients(), "grpc")
	k = LinuxKernel()
	k.UserTimeout = g.Probe.Timeout
	v = Compare(g.Probe, k, 0)
	if v.Unacked.At != 20*s || v.Unacked.By != "user timeout" {
		t.Errorf("grpc, unacked: %+v, want 20s by the user timeout", v.Unacked)
	}
	if v.Vanished.At != 30*s || !v.Slow.Never || v.Hung.At != 30*s {
		t.Errorf("grpc: %+v", v)
	}

	// Without a user timeout, a heartbeat beats retransmissions.
	v = Compare(g.Probe, LinuxKernel(), 0)
	if v.Unacked.At != 30*s || v.Unacked.By != "heartbeat" {
		t.Errorf("grpc without the user timeout, unacked: %+v, want 30s by the heartbeat", v.Unacked)
	}
}

func TestFindAndNames(t *testing.T) {
	if got := Names(Clients()); got != "ssh|grpc|nats|mqtt|zmtp|websocket|bfd|keepalive" {
		t.Errorf("client presets %q", got)
	}
	if got := Names(Servers()); got != "ssh|grpc|mqtt|keepalive" {
		t.Errorf("server presets %q", got)
	}
	if _, ok := Find(Servers(), "nats"); ok {
		t.Error("hbserver has no nats preset")
	}
	for _, p := range append(Clients(), Servers()...) {
		if err := p.Probe.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	ssh, _ := Find(Clients(), "ssh")
	if got := ssh.Settings(ssh.Probe); got != "ServerAliveInterval 15s, ServerAliveCountMax 3: dead 1m0s after the last packet" {
		t.Errorf("ssh says %q", got)
	}
}

// Explicit flags win over the preset; --interval alone sets the idle time
// of a system with one period.
func TestApplyFlagsWin(t *testing.T) {
	p, _ := Find(Clients(), "ssh")
	c := p.Probe
	c.Interval, c.Probes = 2*s, 5 // as the flags set them
	given := map[string]bool{"interval": true, "probes": true}
	p.Apply(&c, func(f string) bool { return given[f] })
	if c.Interval != 2*s || c.Idle != 2*s || c.Probes != 5 || !c.AcceptLate {
		t.Errorf("ssh with --interval 2s --probes 5: %+v", c)
	}
	g, _ := Find(Clients(), "grpc")
	c = probeDefaults()
	c.Timeout = 3 * s
	given = map[string]bool{"timeout": true}
	g.Apply(&c, func(f string) bool { return given[f] })
	if c.Idle != 10*s || c.Timeout != 3*s || c.MaxOutstanding != 1 || c.Probes != 1 {
		t.Errorf("grpc with --timeout 3s: %+v", c)
	}
	mq, _ := Find(Servers(), "mqtt")
	c = probeDefaults()
	c.Idle = 2 * s
	mq.Apply(&c, func(f string) bool { return f == "idle" })
	if c.DeadAfter() != 3*s {
		t.Errorf("mqtt server with --idle 2s (Keep Alive): reaps after %v, want 1.5 x 2s", c.DeadAfter())
	}
}

func probeDefaults() probe.Config { return probe.DefaultConfig() }
