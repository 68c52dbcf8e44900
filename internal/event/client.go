package event

// This file is hbclient's events, besides PingSent and ProbeMissed
// (events.go): what a frame from the server means, the verdicts, and the
// kernel's probes and retransmissions.

import (
	"strconv"
	"strings"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
)

// ClientConnected is hbclient's "connected": the addresses, the
// heartbeat's settings and, when they were set, the kernel's.
type ClientConnected struct {
	Local, Remote string
	// Heartbeat is false under --probes 0: the settings below are not said.
	Heartbeat      bool
	Idle, Interval time.Duration
	Probes         int
	AcceptLate     bool
	DeadAfter      time.Duration // what the settings imply: Idle + Probes x Interval
	// Jitter is --jitter's percent, zero when off; Seed replays its draws
	// (--seed), and DeadAfterMin is the soonest verdict with every wait cut
	// whole. Neither is said when Jitter is zero.
	Jitter       int
	Seed         uint64
	DeadAfterMin time.Duration
	Kernel       KernelOptions
}

func (ClientConnected) Name() string { return Connected }

func (e ClientConnected) AppendText(b []byte) []byte {
	b = append(b, "connected to "...)
	b = append(b, e.Remote...)
	b = append(b, " from "...)
	b = append(b, e.Local...)
	b = append(b, "; heartbeat: "...)
	if !e.Heartbeat {
		b = append(b, "off (--probes 0)"...)
	} else {
		b = append(b, "dead after "...)
		b = appendDeadRange(b, e.DeadAfterMin, e.DeadAfter, e.Jitter)
		b = append(b, " of silence ("...)
		b = appendRule(b, e.Idle, e.Probes, e.Interval)
		b = appendJitter(b, e.Jitter, e.Seed)
		if e.AcceptLate {
			b = append(b, "; --accept-late: any frame counts, however late)"...)
		} else {
			b = append(b, "; strict: a late PONG does not count)"...)
		}
	}
	return e.Kernel.appendClientText(b)
}

func (e ClientConnected) Fields(f *Fields) {
	f.Str("local", e.Local)
	f.Str("remote", e.Remote)
	f.Bool("heartbeat", e.Heartbeat)
	if f.Want(e.Heartbeat) {
		f.Secs("idle_s", e.Idle)
		f.Secs("interval_s", e.Interval)
		f.Int("probes", int64(e.Probes))
		f.Bool("accept_late", e.AcceptLate)
		f.Secs("predicted_s", e.DeadAfter)
	}
	jitterFields(f, e.Heartbeat, e.Jitter, e.Seed, e.DeadAfterMin)
	e.Kernel.fields(f)
}

// appendDeadRange appends when the heartbeat's verdict comes: "19s", or
// under jitter "15.2s to 19s".
func appendDeadRange(b []byte, soonest, latest time.Duration, jitter int) []byte {
	if jitter > 0 {
		b = append(b, soonest.String()...)
		b = append(b, " to "...)
	}
	return append(b, latest.String()...)
}

// appendJitter appends, under jitter, its rule and the seed that replays
// it: ", each wait cut by 0 to 20% (--jitter 20 --seed 42 replays it)".
func appendJitter(b []byte, jitter int, seed uint64) []byte {
	if jitter == 0 {
		return b
	}
	b = append(b, ", each wait cut by 0 to "...)
	b = strconv.AppendInt(b, int64(jitter), 10)
	b = append(b, "% (--jitter "...)
	b = strconv.AppendInt(b, int64(jitter), 10)
	b = append(b, " --seed "...)
	b = strconv.AppendUint(b, seed, 10)
	return append(b, " replays it)"...)
}

// jitterFields gives the jitter's fields, when the heartbeat is on and
// jitters: "jitter", "seed" and "predicted_min_s", the soonest verdict.
func jitterFields(f *Fields, heartbeat bool, jitter int, seed uint64, soonest time.Duration) {
	if f.Want(heartbeat && jitter > 0) {
		f.Int("jitter", int64(jitter))
		f.Uint("seed", seed)
		f.Secs("predicted_min_s", soonest)
	}
}

// appendRule appends the heartbeat's rule: "idle 10s + 3 x 3s".
func appendRule(b []byte, idle time.Duration, probes int, interval time.Duration) []byte {
	b = append(b, "idle "...)
	b = append(b, idle.String()...)
	b = append(b, " + "...)
	b = strconv.AppendInt(b, int64(probes), 10)
	b = append(b, " x "...)
	return append(b, interval.String()...)
}

// appendClientText is hbclient's account of the kernel's settings: the
// rule each detection follows, for a class to compare with the heartbeat.
func (k KernelOptions) appendClientText(b []byte) []byte {
	if !k.Set {
		return b
	}
	if k.KeepAlive {
		b = append(b, "; kernel keep-alive: dead after "...)
		b = append(b, k.DeadAfter.String()...)
		b = append(b, " of silence (idle "...)
		b = append(b, k.Idle.String()...)
		if k.UserTimeout > 0 {
			b = append(b, " + interval "...)
			b = append(b, k.Interval.String()...)
			b = append(b, " until the "...)
			b = append(b, k.UserTimeout.String()...)
			b = append(b, " user timeout"...)
		} else {
			b = append(b, " + "...)
			b = strconv.AppendInt(b, int64(k.Count), 10)
			b = append(b, " x "...)
			b = append(b, k.Interval.String()...)
		}
		b = append(b, "; read back from the socket)"...)
	} else {
		b = append(b, "; kernel keep-alive: off (SO_KEEPALIVE read back as 0)"...)
	}
	switch {
	case k.UserTimeout > 0:
		b = append(b, "; user timeout: unacknowledged data dropped after "...)
		b = append(b, k.UserTimeout.String()...)
		b = append(b, " (TCP_USER_TIMEOUT, read back)"...)
	case k.Retries2 > 0:
		b = append(b, "; unacknowledged data dropped after about "...)
		b = append(b, k.GiveUp.String()...)
		b = append(b, " (tcp_retries2 "...)
		b = strconv.AppendInt(b, int64(k.Retries2), 10)
		b = append(b, ')')
	}
	return b
}

// HostOrderPong is hbclient's "note" host_order_pong: the server writes
// the PONG type in host byte order, as the seed C server does.
type HostOrderPong struct{}

func (HostOrderPong) Name() string { return Note }

func (HostOrderPong) AppendText(b []byte) []byte {
	return append(b, "peer writes the PONG type in host byte order (02 00 00 00), as the seed C server does; accepted as PONG"...)
}

func (HostOrderPong) Fields(f *Fields) { f.Str("note", "host_order_pong") }

// NoEcho is hbclient's "note" no_echo: the server's PONGs do not echo the
// PING's stamp, so they are matched to PINGs in order.
type NoEcho struct{}

func (NoEcho) Name() string { return Note }

func (NoEcho) AppendText(b []byte) []byte {
	return append(b, "peer does not echo the PING's data (the seed C server does not); PONGs are matched to PINGs in order"...)
}

func (NoEcho) Fields(f *Fields) { f.Str("note", "no_echo") }

// ServerClosing is hbclient's "error" from the server: a closing NOTICE,
// with the server's reason.
type ServerClosing struct{ Text string }

func (ServerClosing) Name() string { return Error }

func (e ServerClosing) AppendText(b []byte) []byte {
	return append(append(b, "the server closes the connection: "...), e.Text...)
}

func (e ServerClosing) Fields(f *Fields) {
	f.Str("error", e.Text)
	f.Str("from", "server")
}

// ServerWarns is hbclient's "note" server_warning: a warning NOTICE.
type ServerWarns struct{ Text string }

func (ServerWarns) Name() string { return Note }

func (e ServerWarns) AppendText(b []byte) []byte {
	return append(append(b, "the server warns: "...), e.Text...)
}

func (e ServerWarns) Fields(f *Fields) {
	f.Str("note", "server_warning")
	f.Str("text", e.Text)
}

// PongReceived is hbclient's "pong", or "late_pong" when it is late or
// answers no PING (Seq 0).
type PongReceived struct {
	Seq    uint64        // the PING it answers; 0: none
	RTT    time.Duration // since that PING was sent
	Echoed bool          // the PONG carries the stamp of PING #Echo
	Echo   uint64
	Late   bool // it came after its PING's deadline
	Alive  bool // it counts as life all the same (--accept-late)
	// SentLate is how late its PING left after it was due; a late PONG
	// whose RTT is under Interval says so, or it would read as a
	// contradiction.
	SentLate  time.Duration
	Interval  time.Duration
	Heartbeat bool // the heartbeat is on: whether a PONG counts as life is said
}

func (e PongReceived) Name() string {
	if e.Seq == 0 || e.Late {
		return LatePong
	}
	return Pong
}

func (e PongReceived) AppendText(b []byte) []byte {
	if e.Seq == 0 {
		return e.appendLife(append(b, "PONG received that answers no PING"...))
	}
	if e.Late {
		b = append(b, "late "...)
	}
	b = append(b, "PONG #"...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, ", RTT "...)
	b = appendRTT(b, e.RTT)
	if e.Late {
		b = append(b, ", "...)
		if e.RTT >= e.Interval || e.SentLate <= 0 {
			b = append(b, "over the "...)
			b = append(b, e.Interval.String()...)
			b = append(b, " interval"...)
		} else {
			b = append(b, "after its deadline: the PING left "...)
			b = appendRTT(b, e.SentLate)
			b = append(b, " after it was due ("...)
			b = append(b, e.Interval.String()...)
			b = append(b, " interval)"...)
		}
	}
	if e.Echoed && e.Echo != e.Seq {
		b = append(b, " (its data echoes PING #"...)
		b = strconv.AppendUint(b, e.Echo, 10)
		b = append(b, ": out of order)"...)
	}
	if e.Late {
		b = e.appendLife(b)
	}
	return b
}

func (e PongReceived) appendLife(b []byte) []byte {
	switch {
	case e.Alive:
		return append(b, "; counts as life (--accept-late)"...)
	case e.Heartbeat:
		return append(b, "; does not count as life"...)
	}
	return b
}

func (e PongReceived) Fields(f *Fields) {
	f.Uint("seq", e.Seq)
	f.Secs("rtt_s", e.RTT)
	if f.Want(e.Echoed) {
		f.Uint("echo_seq", e.Echo)
	}
	if e.Name() == LatePong {
		if f.Want(e.Seq == 0) {
			f.Bool("unsolicited", true)
		}
		f.Bool("alive", e.Alive)
	}
}

// appendRTT appends a measured time to the microsecond below a second and
// to the millisecond above.
func appendRTT(b []byte, d time.Duration) []byte {
	if d >= time.Second {
		return append(b, d.Round(time.Millisecond).String()...)
	}
	return append(b, d.Round(time.Microsecond).String()...)
}

// ServerPingData is hbclient's "data" for the server's PING #Seq: Answered,
// or not because the server stopped reading and the send buffer is full.
type ServerPingData struct {
	Seq      uint64
	Answered bool
}

func (ServerPingData) Name() string { return Data }

func (e ServerPingData) AppendText(b []byte) []byte {
	b = append(b, "PING #"...)
	b = strconv.AppendUint(b, e.Seq, 10)
	if e.Answered {
		return append(b, " from the server, answered"...)
	}
	return append(b, " from the server, not answered: the server has stopped reading and the send buffer is full"...)
}

func (e ServerPingData) Fields(f *Fields) {
	f.Uint("type", uint64(msg.Ping))
	f.Str("name", msg.Ping.String())
	f.Uint("seq", e.Seq)
	f.Bool("answered", e.Answered)
}

// SendStalled is hbclient's "note" send_stalled: PING #Seq could not be
// sent before its deadline.
type SendStalled struct{ Seq uint64 }

func (SendStalled) Name() string { return Note }

func (e SendStalled) AppendText(b []byte) []byte {
	b = append(b, "PING #"...)
	b = strconv.AppendUint(b, e.Seq, 10)
	return append(b, " not sent: the peer has stopped reading and the send buffer is full"...)
}

func (e SendStalled) Fields(f *Fields) {
	f.Str("note", "send_stalled")
	f.Uint("seq", e.Seq)
}

// LocalStall is hbclient's "note" local_stall: its heartbeat's timer fired
// Late after its deadline (see probe.Machine.Stall), so the round started
// again instead of a verdict on time no one watched.
type LocalStall struct{ Late time.Duration }

func (LocalStall) Name() string { return Note }

func (e LocalStall) AppendText(b []byte) []byte {
	b = append(b, "local stall of "...)
	b = strconv.AppendFloat(b, e.Late.Seconds(), 'f', 1, 64)
	return append(b, " s: not blamed on the peer (this process's timer fired that late; the heartbeat starts its round again)"...)
}

func (e LocalStall) Fields(f *Fields) {
	f.Str("note", "local_stall")
	f.Secs("late_s", e.Late)
}

// PeerClosed is hbclient's "closed" when the server closed the
// connection.
type PeerClosed struct{}

func (PeerClosed) Name() string { return Closed }

func (PeerClosed) AppendText(b []byte) []byte { return append(b, "closed by peer"...) }

func (PeerClosed) Fields(f *Fields) { f.Str("reason", "peer closed") }

// HeartbeatDead is hbclient's "dead" by its heartbeat: Probes went
// unanswered, Observed after the last sign of life (at LastLife since the
// connect), against the Predicted time.
type HeartbeatDead struct {
	Probes                        int
	Observed, Predicted, LastLife time.Duration
}

func (HeartbeatDead) Name() string { return Dead }

func (e HeartbeatDead) AppendText(b []byte) []byte {
	b = append(b, "DEAD (heartbeat): "...)
	b = append(b, plural.Count(e.Probes, "probe")...)
	b = append(b, " unanswered; observed "...)
	b = appendSeconds(b, e.Observed)
	b = append(b, " after the last sign of life, predicted "...)
	return appendError(appendSeconds(b, e.Predicted), e.Observed-e.Predicted)
}

func (e HeartbeatDead) Fields(f *Fields) {
	f.Str("cause", "heartbeat")
	f.Secs("observed_s", e.Observed)
	f.Secs("predicted_s", e.Predicted)
	f.Secs("last_life_s", e.LastLife)
}

// appendError appends " (+1.5ms)": how far observed was from predicted,
// as "%+.1fms" would.
func appendError(b []byte, d time.Duration) []byte {
	ms := float64(d) / 1e6
	b = append(b, " ("...)
	if ms >= 0 {
		b = append(b, '+')
	}
	b = strconv.AppendFloat(b, ms, 'f', 1, 64)
	return append(b, "ms)"...)
}

// KernelDead is hbclient's "dead" by the kernel: it gave up on the peer
// (ETIMEDOUT, or EHOSTUNREACH when Unreachable) Observed after the last
// frame received. Predicted is 0 when the cause has no prediction.
type KernelDead struct {
	Cause               string
	Unreachable         bool
	Observed, Predicted time.Duration
	FirstRetransmit     time.Duration // since the last frame; 0: none seen
	Info                TCPInfo       // the last TCP_INFO read before
}

// TCPInfo is what a KernelDead says of the last TCP_INFO: each count only
// where this OS gives it (Has...), never shown as zero when unknown.
type TCPInfo struct {
	Probes, Retransmits, Unacked                     int
	LastDataRecv                                     time.Duration
	HasProbes, HasRetransmits, HasUnacked, HasLastDR bool
}

func (KernelDead) Name() string { return Dead }

func (e KernelDead) AppendText(b []byte) []byte {
	b = append(b, "DEAD ("...)
	b = append(b, e.Cause...)
	b = append(b, "): the kernel gave up ("...)
	if e.Unreachable {
		b = append(b, "host unreachable: the last ICMP error heard"...)
	} else {
		b = append(b, "connection timed out"...)
	}
	b = append(b, "); observed "...)
	b = appendSeconds(b, e.Observed)
	b = append(b, " after the last frame received"...)
	if e.Predicted > 0 {
		b = append(b, ", predicted "...)
		b = appendError(appendSeconds(b, e.Predicted), e.Observed-e.Predicted)
	}
	in := e.Info
	before := []string{"keep-alive probes unknown on this OS"}
	if in.HasProbes {
		before[0] = plural.Count(in.Probes, "keep-alive probe") + " out"
	}
	if in.HasRetransmits {
		before = append(before, plural.Count(in.Retransmits, "retransmit"))
	}
	if in.HasUnacked {
		before = append(before, plural.Count(in.Unacked, "segment")+" unacked")
	}
	b = append(b, "; TCP_INFO before: "...)
	b = append(b, strings.Join(before, ", ")...)
	if in.HasLastDR {
		b = append(b, ", last data received "...)
		b = append(b, in.LastDataRecv.String()...)
		b = append(b, " before"...)
	}
	if e.FirstRetransmit != 0 {
		b = append(b, "; first retransmission seen "...)
		b = appendSeconds(b, e.FirstRetransmit)
		b = append(b, " after the last frame"...)
	}
	return b
}

func (e KernelDead) Fields(f *Fields) {
	f.Str("cause", e.Cause)
	f.Secs("observed_s", e.Observed)
	f.Secs("predicted_s", e.Predicted)
	f.Bool("unreachable", e.Unreachable)
	if f.Want(e.FirstRetransmit != 0) {
		f.Secs("first_retransmit_s", e.FirstRetransmit)
	}
	in := e.Info
	if f.Want(in.HasRetransmits) {
		f.Int("tcpi_retransmits", int64(in.Retransmits))
	}
	if f.Want(in.HasUnacked) {
		f.Int("tcpi_unacked", int64(in.Unacked))
	}
	if f.Want(in.HasProbes) {
		f.Int("tcpi_probes", int64(in.Probes))
	}
	if f.Want(in.HasLastDR) {
		f.Secs("tcpi_last_data_recv_s", in.LastDataRecv)
	}
}

// KernelProbeOut is hbclient's "kernel_probe": keep-alive probe Probe of
// Count went unanswered, no data received for LastDataRecv.
type KernelProbeOut struct {
	Probe, Count int
	LastDataRecv time.Duration
}

func (KernelProbeOut) Name() string { return KernelProbe }

func (e KernelProbeOut) AppendText(b []byte) []byte {
	b = append(b, "kernel keep-alive probe "...)
	b = strconv.AppendInt(b, int64(e.Probe), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(e.Count), 10)
	b = append(b, " unanswered (no data received for "...)
	b = append(b, e.LastDataRecv.String()...)
	return append(b, ')')
}

func (e KernelProbeOut) Fields(f *Fields) {
	f.Int("probe", int64(e.Probe))
	f.Int("count", int64(e.Count))
	f.Secs("last_data_recv_s", e.LastDataRecv)
}

// KernelRetransmitted is hbclient's "kernel_retransmit": the kernel's
// retransmission number Retransmit of unacknowledged data, with the
// segments unacknowledged and the RTO where this OS gives them.
type KernelRetransmitted struct {
	Retransmit, Unacked int
	RTO                 time.Duration
	HasUnacked, HasRTO  bool
}

func (KernelRetransmitted) Name() string { return KernelRetransmit }

func (e KernelRetransmitted) AppendText(b []byte) []byte {
	b = append(b, "kernel retransmission "...)
	b = strconv.AppendInt(b, int64(e.Retransmit), 10)
	b = append(b, " of unacknowledged data"...)
	if e.HasUnacked || e.HasRTO {
		b = append(b, " ("...)
		if e.HasUnacked {
			b = append(b, plural.Count(e.Unacked, "segment")...)
			b = append(b, " unacked"...)
		}
		if e.HasUnacked && e.HasRTO {
			b = append(b, ", "...)
		}
		if e.HasRTO {
			b = append(b, "RTO "...)
			b = append(b, e.RTO.String()...)
		}
		b = append(b, ')')
	}
	return b
}

func (e KernelRetransmitted) Fields(f *Fields) {
	f.Int("retransmit", int64(e.Retransmit))
	if f.Want(e.HasUnacked) {
		f.Int("unacked", int64(e.Unacked))
	}
	if f.Want(e.HasRTO) {
		f.Secs("rto_s", e.RTO)
	}
}

// KernelDefaults is "hbclient kernel --json": the machine's keep-alive
// defaults, what they imply, and, where it was read (Retries2 > 0), the
// retransmission limit.
type KernelDefaults struct {
	Idle, Interval time.Duration
	Count          int
	DeadAfter      time.Duration
	Retries2       int
	GiveUp         time.Duration
}

func (KernelDefaults) Name() string { return Kernel }

// AppendText is a one-line summary; the command's text output is a table
// of its own.
func (e KernelDefaults) AppendText(b []byte) []byte {
	b = append(b, "kernel keep-alive defaults: dead after "...)
	return append(b, e.DeadAfter.String()...)
}

func (e KernelDefaults) Fields(f *Fields) {
	f.Secs("tcp_keepalive_time_s", e.Idle)
	f.Secs("tcp_keepalive_intvl_s", e.Interval)
	f.Int("tcp_keepalive_probes", int64(e.Count))
	f.Secs("keepalive_dead_after_s", e.DeadAfter)
	if f.Want(e.Retries2 > 0) {
		f.Int("tcp_retries2", int64(e.Retries2))
		f.Secs("retransmit_give_up_s", e.GiveUp)
	}
}
