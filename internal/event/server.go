package event

// This file is hbserver's events: what it says of itself (listening,
// stats, stopped) and, wrapped in OnConn, of each connection.

import (
	"slices"
	"strconv"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
)

// Conn is the connection an hbserver event is about: its number, from 1
// in the order accepted, and the client's address.
type Conn struct {
	ID   uint64
	Peer string
}

// OnConn is event E about connection Conn: its text starts with the
// connection's tag, "[#3 127.0.0.1:40312] ", and its JSON with the fields
// "conn" and "peer", so that a line can be told from its neighbours' when
// many connections are served at once.
type OnConn[E Event] struct {
	Conn Conn
	E    E
}

// On is e about connection c.
func On[E Event](c Conn, e E) OnConn[E] { return OnConn[E]{c, e} }

// DetailedEvent is an Event with details.
type DetailedEvent interface {
	Event
	Detailer
}

// OnConnDetailed is OnConn for an event with details: they follow the
// tagged summary on lines of their own. (OnConn itself has none, so that
// the Writer never converts a PING's event to find out.)
type OnConnDetailed[E DetailedEvent] struct{ OnConn[E] }

// OnDetailed is e, an event with details, about connection c.
func OnDetailed[E DetailedEvent](c Conn, e E) OnConnDetailed[E] {
	return OnConnDetailed[E]{OnConn[E]{c, e}}
}

func (e OnConnDetailed[E]) AppendDetails(b []byte) []byte { return e.E.AppendDetails(b) }

// typeTone is E's type's own tone, if it has one. It must be defined here:
// the one OnConn would lend reads the embedded field through the nil
// pointer that toneFor asks.
func (*OnConnDetailed[E]) typeTone() (tone, bool) { return typeTone[E]() }

func (e OnConn[E]) Name() string { return e.E.Name() }

func (e OnConn[E]) AppendText(b []byte) []byte {
	b = append(b, "[#"...)
	b = strconv.AppendUint(b, e.Conn.ID, 10)
	b = append(b, ' ')
	b = append(b, e.Conn.Peer...)
	b = append(b, "] "...)
	return e.E.AppendText(b)
}

// typeTone is E's type's own tone, if it has one; else the tone goes by
// the name, which is E's.
func (*OnConn[E]) typeTone() (tone, bool) { return typeTone[E]() }

func (e OnConn[E]) Fields(f *Fields) {
	f.Uint("conn", e.Conn.ID)
	f.Str("peer", e.Conn.Peer)
	e.E.Fields(f)
}

// ServerListening is hbserver's "listening": bound to Addr, answering each PING
// after Sleep, with at most MaxConns connections open (0: no limit).
type ServerListening struct {
	Addr     string
	Sleep    time.Duration
	MaxConns int
	// Like is the preset (--like) and LikeSettings its settings in its
	// system's names; both empty without --like.
	Like, LikeSettings string
}

func (ServerListening) Name() string { return Listening }

func (e ServerListening) AppendText(b []byte) []byte {
	b = append(b, "listening on "...)
	b = append(b, e.Addr...)
	b = append(b, ", each PING answered after "...)
	return appendSeconds(b, e.Sleep)
}

// AppendDetails is the connection limit.
func (e ServerListening) AppendDetails(b []byte) []byte {
	// The limit may come from the open-file limit without the user
	// asking: the first sign of it should not be a client refused.
	if e.MaxConns == 0 {
		b = append(b, "no limit on connections (--max-conns 0)"...)
	} else {
		b = append(b, "at most "...)
		b = append(b, plural.Count(e.MaxConns, "connection")...)
		b = append(b, " open at once (--max-conns)"...)
	}
	return appendLike(b, e.Like, e.LikeSettings)
}

func (e ServerListening) Fields(f *Fields) {
	f.Str("addr", e.Addr)
	f.Secs("sleep_s", e.Sleep)
	f.Int("max_conns", int64(e.MaxConns))
	likeFields(f, e.Like, e.LikeSettings)
}

// ServerStats is hbserver's "stats" (--stats-every): what the process holds.
// OpenFiles and RSSKiB are -1 where the OS does not say.
type ServerStats struct {
	Conns      int64
	Goroutines int
	OpenFiles  int
	RSSKiB     int64
}

func (ServerStats) Name() string { return Stats }

func (e ServerStats) AppendText(b []byte) []byte {
	b = append(b, "stats: "...)
	b = append(b, plural.Count(int(e.Conns), "connection")...)
	b = append(b, " open, "...)
	b = append(b, plural.Count(e.Goroutines, "goroutine")...)
	b = append(b, ", "...)
	b = append(b, plural.Count(e.OpenFiles, "open file")...)
	b = append(b, ", RSS "...)
	b = strconv.AppendInt(b, e.RSSKiB, 10)
	return append(b, " KiB"...)
}

func (e ServerStats) Fields(f *Fields) {
	f.Int("conns", e.Conns)
	f.Int("goroutines", int64(e.Goroutines))
	f.Int("open_files", int64(e.OpenFiles))
	f.Int("rss_kib", e.RSSKiB)
}

// ServerStopped is hbserver's "stopped": the connections it served, and how
// many closed for each reason (by the reason's text).
type ServerStopped struct {
	Closed map[string]int
}

func (ServerStopped) Name() string { return Stopped }

// reasons are the close reasons in the order of their texts, as the JSON
// object's keys are.
func (e ServerStopped) reasons() []string {
	rs := make([]string, 0, len(e.Closed))
	for r := range e.Closed {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

func (e ServerStopped) total() int {
	n := 0
	for _, c := range e.Closed {
		n += c
	}
	return n
}

// AppendText puts each count before its reason ("3 over the connection
// limit"), so that a count is not read as part of the reason.
func (e ServerStopped) AppendText(b []byte) []byte {
	b = append(b, "stopped after serving "...)
	b = append(b, plural.Count(e.total(), "connection")...)
	for i, r := range e.reasons() {
		if i == 0 {
			b = append(b, "; closed: "...)
		} else {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(e.Closed[r]), 10)
		b = append(b, ' ')
		b = append(b, r...)
	}
	return b
}

func (e ServerStopped) Fields(f *Fields) {
	f.Int("connections", int64(e.total()))
	closed := e.Closed
	if closed == nil {
		closed = map[string]int{}
	}
	f.Any("closed", closed)
}

// PingLabel is what hbserver says of a PING it received: "PING #Seq" when
// it carries a client's stamp (Stamped), "PING" when not.
type PingLabel struct {
	Seq     uint64
	Stamped bool
}

func (p PingLabel) appendText(b []byte) []byte {
	if !p.Stamped {
		return append(b, "PING"...)
	}
	b = append(b, "PING #"...)
	return strconv.AppendUint(b, p.Seq, 10)
}

func (p PingLabel) fields(f *Fields) {
	if f.Want(p.Stamped) {
		f.Uint("seq", p.Seq)
	}
}

// PingReceived is hbserver's "ping": a client's PING came.
type PingReceived struct{ Ping PingLabel }

func (PingReceived) Name() string { return Ping }

func (e PingReceived) AppendText(b []byte) []byte {
	return append(e.Ping.appendText(b), " received"...)
}

func (e PingReceived) Fields(f *Fields) { e.Ping.fields(f) }

// PongSent is hbserver's "pong": the PONG for Ping went, Held after the
// PING arrived (SLEEP, and any wait for the socket).
type PongSent struct {
	Ping PingLabel
	Held time.Duration
}

func (PongSent) Name() string { return Pong }

// typeTone is plain: the server answering is not news of the client.
func (*PongSent) typeTone() (tone, bool) { return plain, true }

func (e PongSent) AppendText(b []byte) []byte {
	// Short, so that a line with its connection's tag fits 80 columns.
	b = append(b, "PONG sent for "...)
	b = e.Ping.appendText(b)
	b = append(b, ", held "...)
	return appendSeconds(b, e.Held)
}

func (e PongSent) Fields(f *Fields) {
	e.Ping.fields(f)
	f.Secs("held_s", e.Held)
}

// Muted is hbserver's "note" muted: Ping left unanswered under --fault
// mute.
type Muted struct{ Ping PingLabel }

func (Muted) Name() string { return Note }

func (e Muted) AppendText(b []byte) []byte {
	return append(e.Ping.appendText(b), " not answered (--fault mute)"...)
}

func (e Muted) Fields(f *Fields) {
	e.Ping.fields(f)
	f.Str("note", "muted")
}

// ClientPong is hbserver's "pong", or "late_pong" when Late: the client's
// PONG to the server's own heartbeat, RTT after its PING.
type ClientPong struct {
	Seq  uint64
	RTT  time.Duration
	Late bool
}

func (e ClientPong) Name() string {
	if e.Late {
		return LatePong
	}
	return Pong
}

func (e ClientPong) AppendText(b []byte) []byte {
	if e.Late {
		b = append(b, "late "...)
	}
	b = append(b, "PONG #"...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, " from the client, RTT "...)
	return appendRTT(b, e.RTT)
}

func (e ClientPong) Fields(f *Fields) {
	f.Uint("seq", e.Seq)
	f.Secs("rtt_s", e.RTT)
	f.Bool("received", true)
}

// Told is hbserver's "note" notice: a Notice of Severity with Text was
// sent to the client.
type Told struct {
	Severity msg.Severity
	Text     string
}

func (Told) Name() string { return Note }

func (e Told) AppendText(b []byte) []byte {
	return append(append(b, "told the client: "...), e.Text...)
}

func (e Told) Fields(f *Fields) {
	f.Str("note", "notice")
	f.Int("severity", int64(e.Severity))
	f.Str("text", e.Text)
}

// FaultOn is hbserver's "note" fault: --fault Fault starts on the
// connection.
type FaultOn struct{ Fault string }

func (FaultOn) Name() string { return Note }

func (e FaultOn) AppendText(b []byte) []byte {
	b = append(b, "fault: "...)
	b = append(b, e.Fault...)
	return append(b, ", from now on"...)
}

func (e FaultOn) Fields(f *Fields) {
	f.Str("note", "fault")
	f.Str("fault", e.Fault)
}

// ClientMissed is hbserver's "missed": probe Missed of Probes of the
// server's own heartbeat went unanswered.
type ClientMissed struct{ Missed, Probes int }

func (ClientMissed) Name() string { return Missed }

func (e ClientMissed) AppendText(b []byte) []byte {
	b = appendProbeOf(b, e.Missed, e.Probes)
	return append(b, " of the client missed"...)
}

func (e ClientMissed) Fields(f *Fields) { missedFields(f, e.Missed, e.Probes) }

// ClientDead is hbserver's "dead": its heartbeat reaped the client after
// Probes unanswered probes, Observed after its last sign of life, against
// the Predicted time.
type ClientDead struct {
	Probes              int
	Observed, Predicted time.Duration
}

func (ClientDead) Name() string { return Dead }

func (e ClientDead) AppendText(b []byte) []byte {
	b = append(b, "DEAD (heartbeat): client reaped, "...)
	b = append(b, plural.Count(e.Probes, "probe")...)
	return append(b, " unanswered"...)
}

// AppendDetails is observed against predicted.
func (e ClientDead) AppendDetails(b []byte) []byte {
	b = append(b, "observed "...)
	b = appendSeconds(b, e.Observed)
	b = append(b, " after the client's last sign of life\npredicted "...)
	return appendError(appendSeconds(b, e.Predicted), e.Observed-e.Predicted)
}

func (e ClientDead) Fields(f *Fields) {
	f.Str("cause", "heartbeat")
	f.Secs("observed_s", e.Observed)
	f.Secs("predicted_s", e.Predicted)
}

// ServerPing is hbserver's "ping": its own heartbeat's PING #Seq went to
// the client.
type ServerPing struct{ Seq uint64 }

func (ServerPing) Name() string { return Ping }

func (e ServerPing) AppendText(b []byte) []byte {
	b = append(b, "PING #"...)
	b = strconv.AppendUint(b, e.Seq, 10)
	return append(b, " sent to the client"...)
}

func (e ServerPing) Fields(f *Fields) {
	f.Uint("seq", e.Seq)
	f.Bool("sent", true)
}

// ServerConnected is hbserver's "connected": a client is accepted, with
// the kernel options in effect on its socket, when any were set.
type ServerConnected struct{ Kernel KernelOptions }

func (ServerConnected) Name() string { return Connected }

func (e ServerConnected) AppendText(b []byte) []byte { return append(b, "connected"...) }

// AppendDetails is the kernel options in effect, as hbclient says them.
func (e ServerConnected) AppendDetails(b []byte) []byte { return e.Kernel.appendLines(b, true) }

func (e ServerConnected) Fields(f *Fields) { e.Kernel.fields(f) }

// AcceptRetry is hbserver's "error" when accepting failed for want of
// resources: it tries again after Retry.
type AcceptRetry struct {
	Err   string
	Retry time.Duration
}

func (AcceptRetry) Name() string { return Error }

func (e AcceptRetry) AppendText(b []byte) []byte {
	b = append(b, "accept: "...)
	b = append(b, e.Err...)
	b = append(b, "; retrying in "...)
	return appendSeconds(b, e.Retry)
}

func (e AcceptRetry) Fields(f *Fields) { f.Str("error", e.Err) }
