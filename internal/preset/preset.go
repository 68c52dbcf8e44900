// Package preset is other systems' heartbeats in hbclient's and hbserver's
// terms: each preset sets the probe machine's rules (probe.Config) and the
// system's own defaults, names them as the system does, and gives its
// formula. The numbers and rules come from each system's source and
// documentation (../shared/research/heartbeat-systems.md, sections 1.1 to
// 1.9); package preset's tests check every formula on the machine itself.
package preset

import (
	"fmt"
	"strings"
	"time"

	"github.com/heartbeat/heartbeat/internal/probe"
)

// Linux's keep-alive defaults (tcp_keepalive_time, _intvl, _probes), for
// the keepalive preset's formula and the comparison, which must not depend
// on the machine they run on.
const (
	LinuxKeepIdle     = 7200 * time.Second
	LinuxKeepInterval = 75 * time.Second
	LinuxKeepCount    = 9
	// LinuxRetries2 is tcp_retries2's default: about 924.6s of
	// retransmissions with a 200ms RTO.
	LinuxRetries2 = 15
)

// Preset is one system's heartbeat.
type Preset struct {
	// Name is what --like takes: "ssh".
	Name string
	// System is who does it this way, in a few words for the help.
	System string
	// Probe is the heartbeat's rules and the system's defaults; Probes 0
	// (the keepalive preset) turns the heartbeat off.
	Probe probe.Config
	// IdleIsInterval: the system has one period, so --interval alone sets
	// --idle too.
	IdleIsInterval bool
	// IntervalIsHalfIdle: --idle alone sets the interval to half of it
	// (MQTT's server reaps at 1.5 x Keep Alive).
	IntervalIsHalfIdle bool
	// KeepAlive turns kernel keep-alive on, with the machine's times
	// unless flags give them.
	KeepAlive bool
	// UserTimeoutIsTimeout sets TCP_USER_TIMEOUT to the reply timeout, as
	// grpc-go does whenever keepalive is on.
	UserTimeoutIsTimeout bool
	// MinPingInterval is the server's ping enforcement (hbserver's
	// --min-ping-interval); zero: none.
	MinPingInterval time.Duration
	// Formula is when the peer is declared dead, in the system's names.
	Formula string
	// Flags says which of the tool's flags sets which of the system's
	// settings, for the help.
	Flags string
	// settings words the settings in the system's names with the verdict
	// they imply, from the config in effect (flags may have changed it).
	settings func(c probe.Config) string
}

// Settings is the connected line's account of c in the system's names:
// "ServerAliveInterval 15s, ServerAliveCountMax 3: dead 60s after the last
// packet".
func (p Preset) Settings(c probe.Config) string { return p.settings(c) }

// The client presets, in the order the comparison prints them.
var clients = []Preset{
	{
		// ssh_config(5); clientloop.c: any packet resets the count, a
		// probe every ServerAliveInterval of silence, dead when the count
		// passes ServerAliveCountMax: (N+1) x I after the last packet.
		Name: "ssh", System: "OpenSSH's ssh, ServerAliveInterval 15 and ServerAliveCountMax 3 (the default count)",
		Probe:          probe.Config{Idle: 15 * time.Second, Interval: 15 * time.Second, Probes: 3, AcceptLate: true},
		IdleIsInterval: true,
		Formula:        "(ServerAliveCountMax + 1) x ServerAliveInterval",
		Flags:          "--interval is ServerAliveInterval, --probes ServerAliveCountMax",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("ServerAliveInterval %v, ServerAliveCountMax %d: dead %v after the last packet", c.Interval, c.Probes, c.DeadAfter())
		},
	},
	{
		// keepalive.ClientParameters: a PING after Time without a frame
		// read (10s is grpc-go's minimum), one outstanding, closed
		// Timeout (default 20s) later; TCP_USER_TIMEOUT = Timeout.
		Name: "grpc", System: "grpc-go's keepalive, Time 10s (its minimum) and Timeout 20s (its default)",
		Probe:                probe.Config{Idle: 10 * time.Second, Interval: 20 * time.Second, Probes: 1, Timeout: 20 * time.Second, MaxOutstanding: 1},
		UserTimeoutIsTimeout: true,
		Formula:              "Time + Timeout",
		Flags:                "--idle is Time, --timeout Timeout (and TCP_USER_TIMEOUT)",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("Time %v, Timeout %v: dead %v after the last frame read", c.Idle, c.Timeout, c.DeadAfter())
		},
	},
	{
		// nats.go: a PING every PingInterval whatever the traffic, only a
		// PONG resets the count, stale when it passes MaxPingsOut.
		Name: "nats", System: "nats.go, PingInterval 2m and MaxPingsOut 2 (its defaults)",
		Probe:          probe.Config{Idle: 2 * time.Minute, Interval: 2 * time.Minute, Probes: 2, FixedRate: true, Life: probe.LifePong, AcceptLate: true},
		IdleIsInterval: true,
		Formula:        "(MaxPingsOut + 1) x PingInterval",
		Flags:          "--interval is PingInterval, --probes MaxPingsOut",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("PingInterval %v, MaxPingsOut %d: dead %v after the last PONG", c.Interval, c.Probes, c.DeadAfter())
		},
	},
	{
		// MQTT 3.1.1 3.1.2.10: PINGREQ after Keep Alive without sending;
		// the PINGRESP timeout is left to the library ("a reasonable
		// amount of time"): one more Keep Alive here.
		Name: "mqtt", System: "an MQTT client, Keep Alive 60s, PINGRESP timeout 60s (MQTT leaves it open)",
		Probe:          probe.Config{Idle: 60 * time.Second, Interval: 60 * time.Second, Probes: 1, Timeout: 60 * time.Second, MaxOutstanding: 1, Life: probe.LifeSent},
		IdleIsInterval: true,
		Formula:        "Keep Alive + PINGRESP timeout, from the last packet sent",
		Flags:          "--interval is Keep Alive, --timeout the PINGRESP timeout",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("Keep Alive %v, PINGRESP timeout %v: dead %v after the last packet sent", c.Idle, c.Timeout, c.DeadAfter())
		},
	},
	{
		// ZMTP 3.1 / libzmq: a PING every HEARTBEAT_IVL whatever the
		// traffic; HEARTBEAT_TIMEOUT (default: IVL) starts with a PING
		// and any message stops it.
		Name: "zmtp", System: "libzmq, ZMQ_HEARTBEAT_IVL 1s and ZMQ_HEARTBEAT_TIMEOUT = IVL (its default)",
		Probe:          probe.Config{Idle: time.Second, Interval: time.Second, Probes: 1, Timeout: time.Second, FixedRate: true},
		IdleIsInterval: true,
		Formula:        "HEARTBEAT_IVL + HEARTBEAT_TIMEOUT (at most)",
		Flags:          "--interval is HEARTBEAT_IVL, --timeout HEARTBEAT_TIMEOUT",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("HEARTBEAT_IVL %v, HEARTBEAT_TIMEOUT %v: dead at most %v after the last message", c.Interval, c.Timeout, c.DeadAfter())
		},
	},
	{
		// gorilla/websocket's chat example: a ping every pingPeriod (a
		// ticker), the read deadline pongWait moved only by a pong;
		// pingPeriod = pongWait x 9/10.
		Name: "websocket", System: "gorilla/websocket's example, pingPeriod 54s and pongWait 60s",
		Probe:          probe.Config{Idle: 54 * time.Second, Interval: 54 * time.Second, Probes: 1, Timeout: 6 * time.Second, FixedRate: true, Life: probe.LifePong, AcceptLate: true},
		IdleIsInterval: true,
		Formula:        "pongWait after the last pong (pingPeriod + the pong's 6s margin)",
		Flags:          "--interval is pingPeriod, --timeout pongWait - pingPeriod",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("pingPeriod %v, pongWait %v: dead %v after the last pong", c.Interval, c.Interval+c.Timeout, c.DeadAfter())
		},
	},
	{
		// RFC 5880 6.8.4: dead when nothing came for DetectMult x the
		// interval; packets go at a fixed rate. FRRouting's defaults.
		Name: "bfd", System: "BFD (RFC 5880), interval 300ms and DetectMult 3 (FRRouting's defaults)",
		Probe:          probe.Config{Idle: 300 * time.Millisecond, Interval: 300 * time.Millisecond, Probes: 2, FixedRate: true, AcceptLate: true},
		IdleIsInterval: true,
		Formula:        "DetectMult x interval",
		Flags:          "--interval is the interval, --probes DetectMult - 1",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("interval %v, DetectMult %d: dead %v after the last packet", c.Interval, c.Probes+1, c.DeadAfter())
		},
	},
	{
		// tcp(7), tcp_keepalive_timer: the kernel probes after IDLE of
		// silence, every INTVL, gives up after CNT; the peer's kernel
		// answers, so a hung process is never found.
		Name: "keepalive", System: "kernel keep-alive alone, the heartbeat off (the machine's times; Linux: 7200s, 75s, 9)",
		KeepAlive: true,
		Formula:   "TCP_KEEPIDLE + TCP_KEEPCNT x TCP_KEEPINTVL, only while no data waits",
		Flags:     "--keepalive-idle, --keepalive-interval, --keepalive-count",
		settings: func(probe.Config) string {
			return "kernel keep-alive alone, heartbeat off"
		},
	},
}

// Servers are hbserver's presets: the systems whose server side has a
// rule of its own.
var servers = []Preset{
	{
		// sshd_config(5): ClientAliveInterval, ClientAliveCountMax, as
		// the client's rule.
		Name: "ssh", System: "OpenSSH's sshd, ClientAliveInterval 15 and ClientAliveCountMax 3 (the default count)",
		Probe:          probe.Config{Idle: 15 * time.Second, Interval: 15 * time.Second, Probes: 3, AcceptLate: true},
		IdleIsInterval: true,
		Formula:        "(ClientAliveCountMax + 1) x ClientAliveInterval",
		Flags:          "--interval is ClientAliveInterval, --probes ClientAliveCountMax",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("ClientAliveInterval %v, ClientAliveCountMax %d: reaped %v after the last packet", c.Interval, c.Probes, c.DeadAfter())
		},
	},
	{
		// keepalive.ServerParameters (Time 2h, Timeout 20s, defaults)
		// and EnforcementPolicy.MinTime 5m: a client pinging faster
		// gets GOAWAY "too_many_pings" in gRPC, NOTICEs here.
		Name: "grpc", System: "grpc-go's server, Time 2h, Timeout 20s and EnforcementPolicy.MinTime 5m (its defaults)",
		Probe:                probe.Config{Idle: 2 * time.Hour, Interval: 20 * time.Second, Probes: 1, Timeout: 20 * time.Second, MaxOutstanding: 1},
		UserTimeoutIsTimeout: true,
		MinPingInterval:      5 * time.Minute,
		Formula:              "Time + Timeout; a PING sooner than MinTime after the last is a strike",
		Flags:                "--idle is Time, --timeout Timeout, --min-ping-interval MinTime",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("Time %v, Timeout %v: reaped %v after the last frame read", c.Idle, c.Timeout, c.DeadAfter())
		},
	},
	{
		// MQTT 3.1.1 [MQTT-3.1.2-24]: the server disconnects a client
		// silent for 1.5 x Keep Alive. An MQTT server sends no PING;
		// hbserver's heartbeat sends one at Keep Alive, then waits half.
		Name: "mqtt", System: "an MQTT server, reaping at 1.5 x Keep Alive 60s (hbserver PINGs once at Keep Alive; MQTT's server only waits)",
		Probe:              probe.Config{Idle: 60 * time.Second, Interval: 30 * time.Second, Probes: 1, AcceptLate: true},
		IntervalIsHalfIdle: true,
		Formula:            "1.5 x Keep Alive",
		Flags:              "--idle is Keep Alive, --interval half of it",
		settings: func(c probe.Config) string {
			return fmt.Sprintf("Keep Alive %v: reaped %v after the last packet", c.Idle, c.DeadAfter())
		},
	},
	{
		Name: "keepalive", System: "kernel keep-alive alone, the server's heartbeat off",
		KeepAlive: true,
		Formula:   "TCP_KEEPIDLE + TCP_KEEPCNT x TCP_KEEPINTVL, only while no data waits",
		Flags:     "--keepalive-idle, --keepalive-interval, --keepalive-count",
		settings: func(probe.Config) string {
			return "kernel keep-alive alone, heartbeat off"
		},
	},
}

// Clients returns hbclient's presets, in order.
func Clients() []Preset { return clients }

// Servers returns hbserver's presets, in order.
func Servers() []Preset { return servers }

// Names lists the presets' names, "ssh|grpc|...", for help and errors.
func Names(ps []Preset) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, "|")
}

// Find returns the preset called name among ps.
func Find(ps []Preset, name string) (Preset, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

// Apply gives c the preset's rules and values, except those whose flag
// was given (given is pflag's Changed): explicit flags win. Under
// IdleIsInterval, --interval alone sets the idle time too; under
// IntervalIsHalfIdle, --idle alone sets the interval to half of it. The flags are
// the probe settings' own names (cli.HeartbeatFlags, cli.RuleFlags).
func (p Preset) Apply(c *probe.Config, given func(flag string) bool) {
	set := p.Probe
	if !given("idle") {
		c.Idle = set.Idle
		if p.IdleIsInterval && given("interval") {
			c.Idle = c.Interval
		}
	}
	if !given("interval") {
		c.Interval = set.Interval
		if p.IntervalIsHalfIdle && given("idle") {
			c.Interval = c.Idle / 2
		}
	}
	if !given("probes") {
		c.Probes = set.Probes
	}
	if !given("accept-late") {
		c.AcceptLate = set.AcceptLate
	}
	if !given("life") {
		c.Life = set.Life
	}
	if !given("fixed-rate") {
		c.FixedRate = set.FixedRate
	}
	if !given("timeout") {
		c.Timeout = set.Timeout
	}
	if !given("max-outstanding") {
		c.MaxOutstanding = set.MaxOutstanding
	}
}
