// Package probe is the heartbeat's state machine: when to send a PING, which
// PONG answers which PING, and when the peer is declared dead. It has no
// clock, no goroutines and no I/O: every method takes the current time, and
// the caller owns one timer, set to [Machine.Deadline] after every call.
//
// The rules, with the seed C client's defaults (idle 10s, interval 3s,
// probes 3):
//
//   - Idle phase: every sign of life restarts the idle timer. When Idle passes
//     with none, PING #1 is sent and the probing phase starts.
//   - Probing phase, strict rule (the default): a PING is answered only by its
//     own PONG arriving within Interval of the PING's scheduled send time. If
//     it is, the machine returns to the idle phase with the counter at 0. If
//     not, the probe is missed and the next PING is sent. After Probes missed
//     probes the peer is dead, Idle + Probes*Interval after the last sign of
//     life (19s with the defaults).
//   - A PONG that arrives after its probe's deadline is late: it is reported,
//     with its round-trip time, but it is no sign of life, so a server that
//     always answers slower than Interval is found dead. Neither is a PONG
//     that answers no PING. Every other frame (data, or an on-time PONG) is a
//     sign of life, in either phase: a peer that sends data is not hung.
//   - AcceptLate is the seed C client's rule: any frame received, whenever it
//     arrives, is a sign of life. A server slower than Interval then lives; it
//     dies only when it is slower than Probes*Interval.
//   - Probes 0 turns the heartbeat off: no PING is ever sent.
//
// Other systems' rules are fields of Config, each zero as above (package
// preset combines them as SSH, gRPC, NATS, MQTT, ZMTP, WebSocket and BFD
// do): Life says what restarts the idle timer (any frame received, only a
// PONG, or any frame sent); FixedRate sends a PING every Interval whatever
// the traffic; Timeout replaces counted probes by one PING with a reply
// timeout; MaxOutstanding caps the PINGs waiting for their PONG.
//
// PONGs are matched to PINGs in order, because the seed C server does not
// echo the PING's data: the k-th PONG answers the k-th PING.
//
// Example, as a connection's driver loop uses it:
//
//	m := probe.New(cfg, now)
//	for {
//		// wait for a frame or for m.Deadline()
//		switch {
//		case timerFired:
//			for s := m.Tick(now); s.Action != probe.Wait; s = m.Tick(now) {
//				// report s.Missed; send PING s.Seq; or give up if Dead
//			}
//		case frame is a PONG:
//			a := m.Pong(now) // report a.Seq, a.RTT, a.Late
//		default:
//			m.Frame(now)
//		}
//	}
package probe
