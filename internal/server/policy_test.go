package server

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// socket is a fake event loop for a policy: it does what the policy asks,
// as conn.apply does, over a socket that takes every write, none, or fails
// them, and writes down what came out.
type socket struct {
	p       policy
	fx      effects
	cfg     Config
	blocked bool // writes are not taken: output waits
	broken  bool // writes fail, as to a peer that has gone
	pending int
	out     []string
}

func newSocket(cfg Config, now time.Time) *socket {
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	k := &socket{cfg: cfg}
	k.p.cfg = &k.cfg
	k.p.start(now)
	return k
}

// apply does what the policy asked for, and returns it said in order.
func (k *socket) apply(now time.Time) string {
	for i := 0; i < len(k.fx.todo); i++ {
		t := k.fx.todo[i]
		switch t.kind {
		case sendPong:
			st, _ := msg.ReadStamp(t.f)
			k.write(fmt.Sprintf("send PONG #%d", st.Seq), i, now)
		case sendNotice:
			k.write(fmt.Sprintf("send %s notice: %s", map[msg.Severity]string{msg.Warning: "warning", msg.Closing: "closing"}[t.sev], t.text), i, now)
		case sendPing:
			k.write(fmt.Sprintf("send PING #%d at %v", t.seq, t.at.Sub(t0)), i, now)
		case sendCallback:
			k.write(fmt.Sprintf("send CALLBACK %v tag %d", t.call.Delay, t.call.Tag), i, now)
		case report:
			k.out = append(k.out, said(&t.what))
		case leave:
			k.out = append(k.out, "leave")
		case startLinger:
			k.out = append(k.out, "linger")
		case freeze:
			k.out = append(k.out, "freeze")
		case discardIn:
			k.out = append(k.out, "discard")
		case end:
			e := "end: " + t.reason.String()
			if t.detail != "" {
				e += " (" + t.detail + ")"
			}
			k.out = append(k.out, e)
		}
	}
	k.fx.todo = k.fx.todo[:0]
	s := strings.Join(k.out, "; ")
	k.out = k.out[:0]
	return s
}

// write sends one frame, as conn.send does.
func (k *socket) write(what string, i int, now time.Time) {
	k.out = append(k.out, what)
	switch {
	case k.pending > 0:
		k.pending += msg.FrameSize
		k.p.sent(&k.fx, k.pending, true, false, now)
	case k.broken:
		k.fx.todo = k.fx.todo[:i+1]
		k.p.fail(&k.fx, ending.Reset, "")
	case k.blocked:
		k.pending = msg.FrameSize
		k.p.sent(&k.fx, k.pending, true, true, now)
	default:
		k.p.sent(&k.fx, 0, true, true, now)
	}
}

// said is a happening in a few words.
func said(h *happening) string {
	switch h.what {
	case pingReceived:
		return fmt.Sprintf("PING #%d received", h.ping.seq)
	case pongSent:
		return fmt.Sprintf("PONG #%d sent, held %v", h.ping.seq, h.dur)
	case muted:
		return fmt.Sprintf("PING #%d muted", h.ping.seq)
	case dataReceived:
		return fmt.Sprintf("%v received", h.typ)
	case clientPong:
		return fmt.Sprintf("client PONG #%d, RTT %v, late %v", h.seq, h.dur, h.late)
	case told:
		return "told: " + h.text
	case faultOn:
		return "fault"
	case missed:
		return fmt.Sprintf("missed %d", h.n)
	case deadByHeartbeat:
		return fmt.Sprintf("dead after %v", h.dur)
	case pingSent:
		return fmt.Sprintf("PING #%d sent", h.seq)
	case calledBack:
		return fmt.Sprintf("CALLBACK sent after %v, tag %d", h.dur, h.seq)
	case announced:
		return fmt.Sprintf("HELLO: idle %v, interval %v, %d probes, jitter %d; reap after %v", h.hello.Idle, h.hello.Interval, h.hello.Probes, h.hello.Jitter, h.dur)
	}
	return "?"
}

// t0 is when each connection in these tests is accepted.
var t0 = time.Unix(1000, 0)

// step is one thing that happens to a connection at t0+at, and all that
// the policy makes of it. do is one of:
//
//	ping N      a PING stamped N, whole
//	pong N      the client's PONG to the server heartbeat's PING N
//	type1       a TYPE1 frame
//	call N      a CALL asking for a CALLBACK after N ms of silence, tag 9
//	hello I V P J  a HELLO announcing idle I ms, interval V ms, P probes,
//	            jitter J percent
//	bytes N +   N bytes of a frame held, + when it began in this read
//	fin         the peer's FIN
//	tick        the connection's deadline, or any time
//	take        the socket takes all the output that waits
//	block       the socket takes no more writes
//	break       writes fail from now on
//	shutdown    the server stops
//	live D F    a command sets SLEEP D and fault F ("-" for none)
type step struct {
	at   time.Duration
	do   string
	want string
	// next is the deadline after the step, from t0; -1 for none.
	next time.Duration
}

func (k *socket) step(t *testing.T, st step) {
	t.Helper()
	now := t0.Add(st.at)
	f := strings.Fields(st.do)
	arg := 0
	if len(f) > 1 {
		arg, _ = strconv.Atoi(f[1])
	}
	switch f[0] {
	case "ping", "pong":
		var fr msg.Frame
		fr.SetType(map[string]msg.Type{"ping": msg.Ping, "pong": msg.Pong}[f[0]])
		msg.Stamp{Seq: uint64(arg), Sent: t0}.Put(&fr)
		k.p.frame(&k.fx, &fr, now)
	case "type1":
		var fr msg.Frame
		fr.SetType(msg.Type1)
		k.p.frame(&k.fx, &fr, now)
	case "call":
		var fr msg.Frame
		msg.PutCall(&fr, msg.Call, msg.CallInfo{Delay: time.Duration(arg) * ms, Tag: 9})
		k.p.frame(&k.fx, &fr, now)
	case "hello":
		n := make([]int, 4)
		for i := range n {
			n[i], _ = strconv.Atoi(f[1+i])
		}
		var fr msg.Frame
		msg.PutHello(&fr, msg.HelloInfo{Idle: time.Duration(n[0]) * ms, Interval: time.Duration(n[1]) * ms, Probes: n[2], Jitter: n[3]})
		k.p.frame(&k.fx, &fr, now)
	case "bytes":
		k.p.partial(arg, len(f) > 2, now)
	case "fin":
		k.p.peerClosed(&k.fx, now)
	case "tick":
		k.p.expire(&k.fx, now)
	case "take":
		k.pending = 0
		k.p.sent(&k.fx, 0, false, true, now)
	case "block":
		k.blocked = true
	case "break":
		k.broken = true
	case "shutdown":
		k.p.shutdown(&k.fx)
	case "live":
		d, _ := time.ParseDuration(f[1])
		l := &Live{Sleep: d, Fault: Fault(strings.Trim(f[2], "-"))}
		k.cfg.live.Store(l)
	default:
		t.Fatalf("step %q", st.do)
	}
	if got := k.apply(now); got != st.want {
		t.Fatalf("at %v, %s:\n got %s\nwant %s", st.at, st.do, got, st.want)
	}
	next := time.Duration(-1)
	if d := k.p.deadline(); !d.IsZero() {
		next = d.Sub(t0)
	}
	if next != st.next {
		t.Fatalf("at %v, %s: next deadline %v, want %v", st.at, st.do, next, st.next)
	}
}

const (
	sec = time.Second
	ms  = time.Millisecond
)

// Each policy with exact times: at its deadline - 1ns nothing happens; at
// the deadline it does.
func TestPolicy(t *testing.T) {
	heartbeat := probe.Config{Idle: 10 * sec, Interval: 3 * sec, Probes: 3}
	for _, tc := range []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"SLEEP 0 answers at once", Config{}, []step{
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", -1},
			{sec, "type1", "TYPE1 received", -1},
			{sec, "pong 7", "PONG received", -1}, // the heartbeat is off: a PONG answers nothing
		}},
		// The C server's recv, sleep, send: SLEEP after the PING arrived
		// or after the previous answer, whichever is later.
		{"the SLEEP queue", Config{Sleep: 5 * sec}, []step{
			{0, "ping 1", "PING #1 received", 5 * sec},
			{0, "ping 2", "PING #2 received", 5 * sec},
			{sec, "ping 3", "PING #3 received", 5 * sec},
			{5*sec - 1, "tick", "", 5 * sec},
			{5 * sec, "tick", "send PONG #1; PONG #1 sent, held 5s", 10 * sec},
			{10*sec - 1, "tick", "", 10 * sec},
			{10 * sec, "tick", "send PONG #2; PONG #2 sent, held 10s", 15 * sec},
			{12 * sec, "ping 4", "PING #4 received", 15 * sec}, // during a SLEEP: after #3's
			{15 * sec, "tick", "send PONG #3; PONG #3 sent, held 14s", 20 * sec},
			{20 * sec, "tick", "send PONG #4; PONG #4 sent, held 8s", -1},
			{30 * sec, "ping 5", "PING #5 received", 35 * sec}, // the queue was empty: SLEEP from now
		}},
		{"a late tick answers every PONG due, in order", Config{Sleep: sec}, []step{
			{0, "ping 1", "PING #1 received", sec},
			{0, "ping 2", "PING #2 received", sec},
			{5 * sec, "tick", "send PONG #1; PONG #1 sent, held 5s; send PONG #2; PONG #2 sent, held 5s", -1},
		}},
		{"a frame's timeout runs from its first byte", Config{FrameTimeout: 10 * sec}, []step{
			{2 * sec, "bytes 500 +", "", 12 * sec},
			{5 * sec, "bytes 800", "", 12 * sec},
			{12*sec - 1, "tick", "", 12 * sec},
			{12 * sec, "tick", "end: frame timeout (frame not finished in time: 800 of 1028 bytes in 10s (--frame-timeout))", -1},
		}},
		{"a finished frame stops the frame timeout", Config{FrameTimeout: 10 * sec}, []step{
			{2 * sec, "bytes 500 +", "", 12 * sec},
			{3 * sec, "bytes 0", "", -1},
			{20 * sec, "bytes 10 +", "", 30 * sec},
		}},
		{"the write timeout", Config{WriteTimeout: 10 * sec}, []step{
			{0, "block", "", -1},
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", 10 * sec},
			{sec, "ping 2", "PING #2 received", 10 * sec}, // behind output, a PONG waits
			{10*sec - 1, "tick", "", 10 * sec},
			{10 * sec, "tick", "end: peer does not read (a write waited 10s)", -1},
		}},
		{"output that moves gets the write timeout again", Config{WriteTimeout: 10 * sec}, []step{
			{0, "block", "", -1},
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", 10 * sec},
			{sec, "ping 2", "PING #2 received", 10 * sec},
			{9 * sec, "take", "send PONG #2; PONG #2 sent, held 8s", 19 * sec},
			{19 * sec, "take", "", -1},
		}},
		{"the output bound", Config{Probe: probe.Config{Idle: sec, Interval: sec, Probes: 100}}, []step{
			{0, "block", "", sec},
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", sec},
			{sec, "tick", "send PING #1 at 1s; PING #1 sent", 2 * sec},
			{2 * sec, "tick", "missed 1; send PING #2 at 2s; PING #2 sent", 3 * sec},
			{3 * sec, "tick", "missed 2; send PING #3 at 3s; PING #3 sent", 4 * sec},
			{4 * sec, "tick", "missed 3; end: peer does not read (5140 bytes wait to be sent, more than the 4112 a connection may hold)", -1},
		}},
		{"ping rate: warnings, then a flood", Config{MinPingInterval: sec}, []step{
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", -1},
			{0, "ping 2", "PING #2 received; send warning notice: too many pings: 1 PING ahead of the rate, this one in the same read as the one before; --min-ping-interval allows one per 1s; 3 ahead closes the connection; " +
				"told: too many pings: 1 PING ahead of the rate, this one in the same read as the one before; --min-ping-interval allows one per 1s; 3 ahead closes the connection; " +
				"send PONG #2; PONG #2 sent, held 0s", -1},
			{10 * ms, "ping 3", "PING #3 received; send warning notice: too many pings: 2 PINGs ahead of the rate, this one 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s; 3 ahead closes the connection; " +
				"told: too many pings: 2 PINGs ahead of the rate, this one 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s; 3 ahead closes the connection; " +
				"send PONG #3; PONG #3 sent, held 0s", -1},
			{20 * ms, "ping 4", "PING #4 received; send closing notice: ping flood: 3 PINGs ahead of the rate, the last 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s; " +
				"told: ping flood: 3 PINGs ahead of the rate, the last 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s; leave; linger", 20*ms + lingerFor},
			{20*ms + lingerFor - 1, "tick", "", 20*ms + lingerFor},
			{20*ms + lingerFor, "tick", "end: ping flood (3 PINGs ahead of the rate, the last 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s)", -1},
		}},
		{"a PING on schedule is no strike", Config{MinPingInterval: sec}, []step{
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", -1},
			{sec, "ping 2", "PING #2 received; send PONG #2; PONG #2 sent, held 0s", -1},
		}},
		{"fault mute", Config{Sleep: 2 * sec, Fault: Mute, FaultAfter: 5 * sec}, []step{
			{0, "tick", "", 5 * sec},
			{4 * sec, "ping 1", "PING #1 received", 5 * sec},
			{5*sec - 1, "tick", "", 5 * sec},
			{5 * sec, "tick", "fault", 6 * sec},
			{6 * sec, "tick", "PING #1 muted", -1}, // queued before the fault, unanswered
			{7 * sec, "ping 2", "PING #2 received; PING #2 muted", -1},
		}},
		{"fault freeze", Config{Sleep: 2 * sec, Fault: Freeze, FaultAfter: 5 * sec}, []step{
			{4 * sec, "ping 1", "PING #1 received", 5 * sec},
			{5*sec - 1, "tick", "", 5 * sec},
			{5 * sec, "tick", "fault; freeze", -1},
			{6 * sec, "tick", "", -1},
			{7 * sec, "shutdown", "end: server shutting down (frozen by --fault freeze)", -1},
		}},
		{"fault reset", Config{Fault: ResetConn, FaultAfter: 5 * sec}, []step{
			{5*sec - 1, "tick", "", 5 * sec},
			{5 * sec, "tick", "fault; end: fault reset", -1},
		}},
		{"fault close", Config{Fault: CloseConn, FaultAfter: 5 * sec}, []step{
			{5*sec - 1, "tick", "", 5 * sec},
			{5 * sec, "tick", "fault; leave; linger", 5*sec + lingerFor},
			{5*sec + lingerFor, "tick", "end: fault close", -1},
		}},
		{"the heartbeat: PINGs, misses, death at 19s", Config{Probe: heartbeat}, []step{
			{10*sec - 1, "tick", "", 10 * sec},
			{10 * sec, "tick", "send PING #1 at 10s; PING #1 sent", 13 * sec},
			{13*sec - 1, "tick", "", 13 * sec},
			{13 * sec, "tick", "missed 1; send PING #2 at 13s; PING #2 sent", 16 * sec},
			{16 * sec, "tick", "missed 2; send PING #3 at 16s; PING #3 sent", 19 * sec},
			{19*sec - 1, "tick", "", 19 * sec},
			{19 * sec, "tick", "missed 3; dead after 19s; end: dead by heartbeat (3 probes unanswered)", -1},
		}},
		{"the heartbeat: a PONG in time is life", Config{Probe: heartbeat}, []step{
			{10 * sec, "tick", "send PING #1 at 10s; PING #1 sent", 13 * sec},
			{11 * sec, "pong 1", "client PONG #1, RTT 1s, late false", 21 * sec},
			{12 * sec, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", 22 * sec},
		}},
		// --life sent (MQTT's rule): the PONG sent at 6s restarts the idle
		// timer, so PING #1 is due 10s later.
		{"the heartbeat under --life sent: a PONG sent restarts idle", Config{Sleep: 2 * sec, Probe: probe.Config{Idle: 10 * sec, Interval: 3 * sec, Probes: 3, Life: probe.LifeSent}}, []step{
			{4 * sec, "ping 1", "PING #1 received", 6 * sec},
			{6 * sec, "tick", "send PONG #1; PONG #1 sent, held 2s", 16 * sec},
		}},
		{"half-close: the queue answered, then the end", Config{Sleep: 5 * sec}, []step{
			{0, "ping 1", "PING #1 received", 5 * sec},
			{0, "ping 2", "PING #2 received", 5 * sec},
			{sec, "fin", "leave", 5 * sec},
			{5*sec - 1, "tick", "", 5 * sec},
			{5 * sec, "tick", "send PONG #1; PONG #1 sent, held 5s", 10 * sec},
			{10*sec - 1, "tick", "", 10 * sec},
			{10 * sec, "tick", "send PONG #2; PONG #2 sent, held 10s; discard; end: peer closed", -1},
		}},
		{"a gone peer's RST ends it at the first PONG", Config{Sleep: 5 * sec}, []step{
			{0, "ping 1", "PING #1 received", 5 * sec},
			{0, "ping 2", "PING #2 received", 5 * sec},
			{sec, "fin", "leave", 5 * sec},
			{sec, "break", "", 5 * sec},
			{5 * sec, "tick", "send PONG #1; end: reset by peer", -1},
		}},
		{"FIN between frames, nothing queued", Config{Sleep: 5 * sec}, []step{
			{sec, "fin", "end: peer closed", -1},
		}},
		{"FIN inside a frame", Config{}, []step{
			{0, "bytes 500 +", "", -1},
			{sec, "fin", "end: peer closed mid-frame (stream ended in the middle of a frame (500 of 1028 bytes))", -1},
		}},
		{"shutdown while closing", Config{Sleep: 5 * sec}, []step{
			{0, "ping 1", "PING #1 received", 5 * sec},
			{0, "ping 2", "PING #2 received", 5 * sec},
			{sec, "fin", "leave", 5 * sec},
			{2 * sec, "shutdown", "end: peer closed (2 PINGs unanswered)", -1},
		}},
		{"quiet leaves out every per-frame event", Config{Quiet: true, Sleep: sec, MinPingInterval: time.Hour, Probe: heartbeat}, []step{
			{0, "ping 1", "", sec},
			{0, "ping 2", "send warning notice: too many pings: 1 PING ahead of the rate, this one in the same read as the one before; --min-ping-interval allows one per 1h0m0s; 3 ahead closes the connection", sec},
			{sec, "tick", "send PONG #1", 2 * sec},
			{2 * sec, "tick", "send PONG #2", 10 * sec},
			{10 * sec, "tick", "send PING #1 at 10s", 13 * sec},
			{11 * sec, "pong 1", "", 21 * sec},
			{12 * sec, "type1", "", 22 * sec},
		}},
		// CALL (call.go): the CALLBACK comes after the silence asked for,
		// counted from the client's last frame; once.
		{"a CALLBACK after the silence a CALL asks for", Config{}, []step{
			{sec, "call 1500", "CALL received", 2500 * ms},
			{2500*ms - 1, "tick", "", 2500 * ms},
			{2500 * ms, "tick", "send CALLBACK 1.5s tag 9; CALLBACK sent after 1.5s, tag 9", -1},
			{10 * sec, "tick", "", -1}, // once
		}},
		{"a frame from the client restarts the silence", Config{}, []step{
			{0, "call 2000", "CALL received", 2 * sec},
			{sec, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", 3 * sec},
			{2 * sec, "type1", "TYPE1 received", 4 * sec},
			{4*sec - 1, "tick", "", 4 * sec},
			{4 * sec, "tick", "send CALLBACK 2s tag 9; CALLBACK sent after 2s, tag 9", -1},
		}},
		{"a new CALL replaces the pending one; 0 cancels", Config{}, []step{
			{0, "call 5000", "CALL received", 5 * sec},
			{sec, "call 1000", "CALL received", 2 * sec},
			{1500 * ms, "call 0", "CALL received", -1},
			{10 * sec, "tick", "", -1},
		}},
		{"a CALL out of range is refused with a warning; the pending one stays", Config{}, []step{
			{0, "call 1000", "CALL received", sec},
			{500 * ms, "call 7200001", "CALL received; send warning notice: call refused: a delay of 7200001ms is out of range, 1ms to 7200000ms; told: call refused: a delay of 7200001ms is out of range, 1ms to 7200000ms", 1500 * ms},
			{1500 * ms, "tick", "send CALLBACK 1s tag 9; CALLBACK sent after 1s, tag 9", -1},
		}},
		{"the longest CALL is taken", Config{}, []step{
			{0, "call 7200000", "CALL received", 2 * time.Hour},
		}},
		{"a CALLBACK waits behind output, and counts toward the output bound", Config{WriteTimeout: time.Minute}, []step{
			{0, "block", "", -1},
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", time.Minute},
			{0, "call 100", "CALL received", 100 * ms},
			{100 * ms, "tick", "send CALLBACK 100ms tag 9; CALLBACK sent after 100ms, tag 9", time.Minute},
		}},
		{"no CALLBACK once the peer has closed", Config{Sleep: sec}, []step{
			{0, "ping 1", "PING #1 received", sec},
			{0, "call 500", "CALL received", 500 * ms},
			{100 * ms, "fin", "leave", sec},
			{sec, "tick", "send PONG #1; PONG #1 sent, held 1s; discard; end: peer closed", -1},
		}},
		{"quiet sends the CALLBACK without reporting it", Config{Quiet: true}, []step{
			{0, "call 100", "", 100 * ms},
			{100 * ms, "tick", "send CALLBACK 100ms tag 9", -1},
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

// A full queue stops reading; the first PONG out makes room again.
// A command's SLEEP and fault are taken at each connection's next PING:
// the PINGs that wait keep the SLEEP they came under, the next one gets
// the new one; a fault starts at that PING, and ends at the PING after
// "fault none".
func TestPolicyTakesCommands(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		before *Live // a command before the connection came
		steps  []step
	}{
		{"a new connection starts with the last command's settings", Config{Fault: Mute}, &Live{Sleep: sec, Fault: NoFault}, []step{
			{0, "ping 1", "PING #1 received", sec},
			{sec, "tick", "send PONG #1; PONG #1 sent, held 1s", -1},
		}},
		{"a commanded fault starts after --fault-after on a new connection", Config{FaultAfter: 5 * sec}, &Live{Fault: Mute}, []step{
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", 5 * sec},
			{5 * sec, "tick", "fault", -1},
			{6 * sec, "ping 2", "PING #2 received; PING #2 muted", -1},
		}},
		{"SLEEP raised and lowered", Config{Sleep: sec}, nil, []step{
			{0, "ping 1", "PING #1 received", sec},
			{0, "live 5s -", "", sec}, // nothing happens until a PING
			{sec - 1, "tick", "", sec},
			{sec, "tick", "send PONG #1; PONG #1 sent, held 1s", -1}, // #1 keeps its SLEEP 1s
			{2 * sec, "ping 2", "PING #2 received", 7 * sec},         // the next gets 5s
			{3 * sec, "live 200ms -", "", 7 * sec},
			{4 * sec, "ping 3", "PING #3 received", 7 * sec}, // 200ms after #2's PONG, in its turn
			{7*sec - 1, "tick", "", 7 * sec},
			{7 * sec, "tick", "send PONG #2; PONG #2 sent, held 5s", 7*sec + 200*ms},
			{7*sec + 200*ms - 1, "tick", "", 7*sec + 200*ms},
			{7*sec + 200*ms, "tick", "send PONG #3; PONG #3 sent, held 3.2s", -1},
			{9 * sec, "ping 4", "PING #4 received", 9*sec + 200*ms},
		}},
		{"fault mute, then none", Config{}, nil, []step{
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", -1},
			{sec, "live 0s mute", "", -1},
			{2 * sec, "ping 2", "PING #2 received; fault; PING #2 muted", -1},
			{3 * sec, "ping 3", "PING #3 received; PING #3 muted", -1},
			{4 * sec, "live 0s -", "", -1},
			{5 * sec, "ping 4", "PING #4 received; send PONG #4; PONG #4 sent, held 0s", -1},
		}},
		{"fault mute leaves the PINGs waiting unanswered", Config{Sleep: 2 * sec}, nil, []step{
			{0, "ping 1", "PING #1 received", 2 * sec},
			{0, "live 2s mute", "", 2 * sec},
			{sec, "ping 2", "PING #2 received; fault; PING #2 muted", 2 * sec},
			{2 * sec, "tick", "PING #1 muted", -1},
		}},
		{"fault reset at the next PING", Config{}, nil, []step{
			{0, "live 0s reset", "", -1},
			{sec, "ping 1", "PING #1 received; fault; end: fault reset", -1},
		}},
		{"a command ends a --fault before its --fault-after", Config{Fault: Mute, FaultAfter: 10 * sec}, nil, []step{
			{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", 10 * sec},
			{sec, "live 0s -", "", 10 * sec},
			{2 * sec, "ping 2", "PING #2 received; send PONG #2; PONG #2 sent, held 0s", -1},
			{20 * sec, "ping 3", "PING #3 received; send PONG #3; PONG #3 sent, held 0s", -1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.live = new(liveCell)
			if tc.before != nil {
				tc.cfg.live.Store(tc.before)
			}
			k := newSocket(tc.cfg, t0)
			for _, st := range tc.steps {
				k.step(t, st)
			}
		})
	}
}

func TestPolicyQueueFullStopsReading(t *testing.T) {
	k := newSocket(Config{Sleep: sec}, t0)
	for i := 1; i <= maxQueued; i++ {
		if !k.p.reads() || k.p.room() != maxQueued-i+1 {
			t.Fatalf("before PING %d: reads %v, room %d", i, k.p.reads(), k.p.room())
		}
		k.step(t, step{0, "ping " + strconv.Itoa(i), fmt.Sprintf("PING #%d received", i), sec})
	}
	if k.p.reads() || k.p.room() != 0 {
		t.Fatalf("queue full: reads %v, room %d", k.p.reads(), k.p.room())
	}
	k.step(t, step{sec - 1, "tick", "", sec})
	if k.p.reads() {
		t.Fatal("reads at 1s - 1ns")
	}
	k.step(t, step{sec, "tick", "send PONG #1; PONG #1 sent, held 1s", 2 * sec})
	if !k.p.reads() || k.p.room() != 1 {
		t.Fatalf("after the first PONG: reads %v, room %d", k.p.reads(), k.p.room())
	}
}

// Output that waits stops reading, until the socket takes it.
func TestPolicyOutputStopsReading(t *testing.T) {
	k := newSocket(Config{}, t0)
	k.step(t, step{0, "block", "", -1})
	k.step(t, step{0, "ping 1", "PING #1 received; send PONG #1; PONG #1 sent, held 0s", DefaultWriteTimeout})
	if k.p.reads() {
		t.Fatal("reads while output waits")
	}
	k.step(t, step{sec, "take", "", -1})
	if !k.p.reads() {
		t.Fatal("does not read once the output is out")
	}
}

// A newcomer over the limit is told so and lingers; it ends for that
// reason when it goes later, but as the failure when the telling fails.
func TestPolicyRefused(t *testing.T) {
	const text = "server full: 1 connection open, the limit (--max-conns); try again later"
	k := newSocket(Config{MaxConns: 1}, t0)
	k.p.refuse(&k.fx, text, t0)
	if got := k.apply(t0); got != "send closing notice: "+text+"; leave; linger" {
		t.Fatalf("refused: %s", got)
	}
	k.p.drained(&k.fx)
	if got, want := k.apply(t0), "end: over the connection limit ("+text+")"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}

	k = newSocket(Config{MaxConns: 1}, t0)
	k.step(t, step{0, "break", "", -1})
	k.p.refuse(&k.fx, text, t0)
	if got := k.apply(t0); got != "send closing notice: "+text+"; end: reset by peer" {
		t.Fatalf("refused, gone: %s", got)
	}
}

// Eviction for a newcomer: a closing conn ends with its PINGs unanswered,
// a lingering one for what it was told.
func TestPolicyEvict(t *testing.T) {
	k := newSocket(Config{Sleep: time.Hour}, t0)
	k.step(t, step{0, "ping 1", "PING #1 received", time.Hour})
	k.step(t, step{0, "fin", "leave", time.Hour})
	k.p.evict(&k.fx)
	if got := k.apply(t0); got != "discard; end: over the connection limit (its peer had closed; ended early for a newcomer)" {
		t.Fatalf("closing, evicted: %s", got)
	}
	k = newSocket(Config{Fault: CloseConn}, t0)
	k.step(t, step{0, "tick", "fault; leave; linger", lingerFor})
	k.p.evict(&k.fx)
	if got := k.apply(t0); got != "discard; end: fault close" {
		t.Fatalf("lingering, evicted: %s", got)
	}
	// Stalled: a full queue, the rest unread.
	k = newSocket(Config{Sleep: time.Hour}, t0)
	for i := 1; i <= maxQueued; i++ {
		k.step(t, step{0, fmt.Sprintf("ping %d", i), fmt.Sprintf("PING #%d received", i), time.Hour})
	}
	if k.p.reads() {
		t.Fatal("a full queue still reads")
	}
	k.p.evict(&k.fx)
	if got := k.apply(t0); got != "discard; end: over the connection limit (4 PINGs waited and it sent more; ended early for a newcomer)" {
		t.Fatalf("stalled, evicted: %s", got)
	}
}

// The policy is pure: policy.go, queue.go, pingrate.go, call.go and
// announce.go import nothing that does I/O or reads the clock, so that
// their rules are tested with exact times and run on every operating
// system.
func TestPolicyIsPure(t *testing.T) {
	allowed := map[string]bool{"fmt": true, "math": true, "strings": true, "time": true,
		"github.com/heartbeat/heartbeat/internal/msg": true, "github.com/heartbeat/heartbeat/internal/plural": true,
		"github.com/heartbeat/heartbeat/internal/probe": true, "github.com/heartbeat/heartbeat/internal/ending": true}
	for _, name := range []string{"policy.go", "queue.go", "pingrate.go", "call.go", "announce.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); !allowed[p] {
				t.Errorf("%s imports %s", name, p)
			}
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range []string{"time.Now(", "time.Since(", "time.Sleep(", "time.After", "time.NewTimer(", "go func"} {
			if strings.Contains(string(b), call) {
				t.Errorf("%s calls %s", name, call)
			}
		}
	}
}
