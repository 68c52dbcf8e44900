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
	DeadAfter      time.Duration // what the settings imply: Idle + Probes x Interval, or Idle + Timeout
	// The probe machine's rules (probe.Config): Timeout zero is counted
	// probes; Life empty is any frame received.
	Timeout   time.Duration
	FixedRate bool
	Life      string
	// Like is the preset (--like) and LikeSettings its settings in its
	// system's names; both empty without --like.
	Like, LikeSettings string
	// Jitter is --jitter's percent, zero when off; Seed replays its draws
	// (--seed), and DeadAfterMin is the soonest verdict with every wait cut
	// whole. Neither is said when Jitter is zero.
	Jitter       int
	Seed         uint64
	DeadAfterMin time.Duration
	Kernel       KernelOptions
}

func (ClientConnected) Name() string { return Connected }

// AppendText is the summary, short enough for a projector's terminal;
// the settings and what they imply are the details.
func (e ClientConnected) AppendText(b []byte) []byte {
	b = append(b, "connected to "...)
	b = append(b, e.Remote...)
	b = append(b, " from "...)
	return append(b, e.Local...)
}

// AppendDetails is the detection each layer implies, one layer a line.
func (e ClientConnected) AppendDetails(b []byte) []byte {
	b = append(b, "heartbeat: "...)
	if !e.Heartbeat {
		b = append(b, "off (--probes 0)"...)
	} else {
		b = append(b, "dead after "...)
		b = appendDeadRange(b, e.DeadAfterMin, e.DeadAfter, e.Jitter)
		b = append(b, " of silence\n  ("...)
		if e.Timeout > 0 {
			b = append(b, "idle "...)
			b = appendSeconds(b, e.Idle)
			b = append(b, " + timeout "...)
			b = appendSeconds(b, e.Timeout)
		} else {
			b = appendRule(b, e.Idle, e.Probes, e.Interval)
		}
		b = append(b, ')')
		b = appendJitter(b, "\n  ", "\n    ", e.Jitter, e.Seed)
		if e.FixedRate {
			b = append(b, "\n  a PING every "...)
			b = appendSeconds(b, e.Interval)
			b = append(b, " whatever the traffic"...)
		}
		if e.Life != "" {
			b = append(b, "\n  life: "...)
			b = append(b, e.Life...)
		}
		if e.AcceptLate {
			b = append(b, "\n  --accept-late: any frame counts as life, however late"...)
		} else {
			b = append(b, "\n  strict: a late PONG does not count as life"...)
		}
	}
	b = appendLike(b, e.Like, e.LikeSettings)
	return e.Kernel.appendLines(b, false)
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
		optSecs(f, "timeout_s", e.Timeout)
		f.Bool("fixed_rate", e.FixedRate)
		f.Str("life", e.Life)
	}
	jitterFields(f, e.Heartbeat, e.Jitter, e.Seed, e.DeadAfterMin)
	likeFields(f, e.Like, e.LikeSettings)
	e.Kernel.fields(f)
}

// appendDeadRange appends when the verdict comes: latest, or under jitter
// "soonest to latest".
func appendDeadRange(b []byte, soonest, latest time.Duration, jitter int) []byte {
	if jitter > 0 {
		b = appendSeconds(b, soonest)
		b = append(b, " to "...)
	}
	return appendSeconds(b, latest)
}

// appendJitter appends, under jitter, sep, then its rule, then replaySep
// and the seed that replays it: "each wait cut by 0 to 20% (--jitter 20
// --seed 42 replays it)". A seed has up to 20 digits: on a detail line the
// replay goes on a line of its own.
func appendJitter(b []byte, sep, replaySep string, jitter int, seed uint64) []byte {
	if jitter == 0 {
		return b
	}
	b = appendJitterRule(append(b, sep...), jitter)
	b = append(b, replaySep...)
	b = append(b, "(--jitter "...)
	b = strconv.AppendInt(b, int64(jitter), 10)
	b = append(b, " --seed "...)
	b = strconv.AppendUint(b, seed, 10)
	return append(b, " replays it)"...)
}

// appendJitterRule appends --jitter's rule: "each wait cut by 0 to 20%"
// (BFD's: a random part of each wait, new for each).
func appendJitterRule(b []byte, jitter int) []byte {
	b = append(b, "each wait cut by 0 to "...)
	b = strconv.AppendInt(b, int64(jitter), 10)
	return append(b, '%')
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

// appendRule appends the heartbeat's rule: "idle 10.000 s + 3 x 3.000 s".
func appendRule(b []byte, idle time.Duration, probes int, interval time.Duration) []byte {
	b = append(b, "idle "...)
	b = appendSeconds(b, idle)
	b = append(b, " + "...)
	b = strconv.AppendInt(b, int64(probes), 10)
	b = append(b, " x "...)
	return appendSeconds(b, interval)
}

// appendLines is both tools' account of the kernel's settings, as detail
// lines: the rule each detection follows, for a class to compare with the
// heartbeat. Each line starts with '\n' but the first when first (the
// details begin with it).
func (k KernelOptions) appendLines(b []byte, first bool) []byte {
	if !k.Set {
		return b
	}
	if !first {
		b = append(b, '\n')
	}
	if k.KeepAlive {
		b = append(b, "kernel keep-alive: dead after "...)
		b = appendSeconds(b, k.DeadAfter)
		b = append(b, " of silence\n  (idle "...)
		b = appendSeconds(b, k.Idle)
		if k.UserTimeout > 0 {
			b = append(b, " + interval "...)
			b = appendSeconds(b, k.Interval)
			b = append(b, "\n   until the "...)
			b = appendSeconds(b, k.UserTimeout)
			b = append(b, " user timeout"...)
		} else {
			b = append(b, " + "...)
			b = strconv.AppendInt(b, int64(k.Count), 10)
			b = append(b, " x "...)
			b = appendSeconds(b, k.Interval)
		}
		b = append(b, ")\n  read back from the socket"...)
	} else {
		b = append(b, "kernel keep-alive: off (SO_KEEPALIVE read back as 0)"...)
	}
	switch {
	case k.UserTimeout > 0:
		b = append(b, "\nuser timeout: unacknowledged data dropped after "...)
		b = appendSeconds(b, k.UserTimeout)
		b = append(b, "\n  (TCP_USER_TIMEOUT, read back)"...)
	case k.Retries2 > 0:
		b = append(b, "\nunacknowledged data: dropped after about "...)
		b = appendSeconds(b, k.GiveUp)
		b = append(b, "\n  (tcp_retries2 "...)
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
	// NextSeq and NextAt, when NextSeq is not 0, are the PING due next
	// and when (since the start), said after a PONG that was life: why
	// nothing happens until then. 0: not said.
	NextSeq uint64
	NextAt  time.Duration
}

func (e PongReceived) Name() string {
	if e.Seq == 0 || e.Late {
		return LatePong
	}
	return Pong
}

// AppendText says what the PONG did to the heartbeat, in a line that fits
// 80 columns: in time or not, and when it was life, the PING due next.
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
	if e.Echoed && e.Echo != e.Seq {
		b = append(b, " (echoes PING #"...)
		b = strconv.AppendUint(b, e.Echo, 10)
		b = append(b, ": out of order)"...)
	}
	switch {
	case !e.Late && e.Heartbeat:
		return e.appendNext(append(b, ", in time"...))
	case !e.Late:
		return b
	case e.Alive:
	case e.RTT >= e.Interval || e.SentLate <= 0:
		// "Over the 3.000 s a PONG may take", not "over the 3s
		// interval": an RTT of 3.001 s against 3 s would read as the
		// same number twice.
		b = append(b, ": over the "...)
		b = appendSeconds(b, e.Interval)
		b = append(b, " a PONG may take"...)
	default:
		b = append(b, ": its PING left "...)
		b = appendRTT(b, e.SentLate)
		b = append(b, " late"...)
	}
	return e.appendLife(b)
}

// appendLife says whether a late PONG counted as life, and if it did, when
// the next PING is due: the reason none is due before.
func (e PongReceived) appendLife(b []byte) []byte {
	switch {
	case e.Alive:
		return e.appendNext(append(b, ", life (--accept-late)"...))
	case e.Heartbeat:
		return append(b, "; not life"...)
	}
	return b
}

// appendNext says where the rule goes from a PONG that was life: back to
// the idle phase, and when the next PING is due.
func (e PongReceived) appendNext(b []byte) []byte {
	if e.NextSeq == 0 {
		return b
	}
	if e.Late {
		b = append(b, ": PING #"...)
	} else {
		b = append(b, ": back to idle, PING #"...)
	}
	b = strconv.AppendUint(b, e.NextSeq, 10)
	b = append(b, " due at "...)
	return appendAt(b, e.NextAt)
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

// appendRTT appends a round trip: in seconds to the millisecond, as every
// time is, or below a second in milliseconds to the microsecond, so that
// a loopback RTT of 80 µs is not "0.000 s".
func appendRTT(b []byte, d time.Duration) []byte {
	if d >= time.Second {
		return appendSeconds(b, d)
	}
	b = strconv.AppendFloat(b, float64(d.Round(time.Microsecond))/float64(time.Millisecond), 'f', 3, 64)
	return append(b, " ms"...)
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
	return append(b, " unanswered"...)
}

// AppendDetails is observed against predicted.
func (e HeartbeatDead) AppendDetails(b []byte) []byte {
	b = append(b, "observed "...)
	b = appendSeconds(b, e.Observed)
	b = append(b, " after the last sign of life (at "...)
	b = appendAt(b, e.LastLife)
	b = append(b, ")\npredicted "...)
	return appendError(appendSeconds(b, e.Predicted), e.Observed-e.Predicted)
}

func (e HeartbeatDead) Fields(f *Fields) {
	f.Str("cause", "heartbeat")
	f.Secs("observed_s", e.Observed)
	f.Secs("predicted_s", e.Predicted)
	f.Secs("last_life_s", e.LastLife)
}

// appendError appends " (+1.5 ms)": how far observed was from predicted,
// as "%+.1fms" would.
func appendError(b []byte, d time.Duration) []byte {
	ms := float64(d) / 1e6
	b = append(b, " ("...)
	if ms >= 0 {
		b = append(b, '+')
	}
	b = strconv.AppendFloat(b, ms, 'f', 1, 64)
	return append(b, " ms)"...)
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
		b = append(b, "host unreachable"...)
	} else {
		b = append(b, "connection timed out"...)
	}
	return append(b, ')')
}

// AppendDetails is observed against predicted and what TCP_INFO said.
func (e KernelDead) AppendDetails(b []byte) []byte {
	if e.Unreachable {
		b = append(b, "host unreachable: the last ICMP error heard\n"...)
	}
	b = append(b, "observed "...)
	b = appendSeconds(b, e.Observed)
	b = append(b, " after the last frame received"...)
	if e.Predicted > 0 {
		b = append(b, "\npredicted "...)
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
	b = append(b, "\nTCP_INFO before: "...)
	b = append(b, strings.Join(before, ", ")...)
	if in.HasLastDR {
		b = append(b, "\n  last data received "...)
		b = appendSeconds(b, in.LastDataRecv)
		b = append(b, " before"...)
	}
	if e.FirstRetransmit != 0 {
		b = append(b, "\nfirst retransmission seen "...)
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
	b = appendSeconds(b, e.LastDataRecv)
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
			b = appendSeconds(b, e.RTO)
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
	return appendSeconds(b, e.DeadAfter)
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

// LocalStall is hbclient's "note" local_stall: its heartbeat's timer fired
// Late after its deadline (see probe.Machine.Stall), so the round started
// again instead of a verdict on time no one watched.
type LocalStall struct{ Late time.Duration }

func (LocalStall) Name() string { return Note }

func (e LocalStall) AppendText(b []byte) []byte {
	b = append(b, "local stall of "...)
	b = appendSeconds(b, e.Late)
	return append(b, ": not blamed on the peer"...)
}

// AppendDetails says why.
func (e LocalStall) AppendDetails(b []byte) []byte {
	return append(b, "this process's timer fired that late\nthe heartbeat starts its round again"...)
}

func (e LocalStall) Fields(f *Fields) {
	f.Str("note", "local_stall")
	f.Secs("late_s", e.Late)
}
