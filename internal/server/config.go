package server

import (
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// DefaultWriteTimeout bounds how long a frame may wait for a client that
// does not read: past it the client is closed, so that it cannot hold a
// buffer forever.
const DefaultWriteTimeout = 10 * time.Second

// Config configures Serve.
type Config struct {
	// Sleep is the delay before each PONG (the seed server's SLEEP
	// argument). Zero answers at once; negative is invalid.
	Sleep time.Duration
	// Events receives the timeline. Nil discards it.
	Events *event.Writer
	// Probe is the server's own heartbeat towards each client. The zero
	// value (Probes 0) turns it off, as in the seed C server.
	Probe probe.Config
	// Like is the preset the settings come from (hbserver --like) and
	// LikeSettings its account of them in its system's names, said in the
	// "listening" line; empty without one.
	Like, LikeSettings string
	// KeepAlive and UserTimeout are the kernel's detectors, set on every
	// accepted connection and read back. The zero values leave keep-alive
	// off and no user timeout, the kernel's defaults.
	KeepAlive   sockopt.KeepAliveConfig
	UserTimeout time.Duration
	// UserTimeoutWarning words how UserTimeout changes keep-alive's
	// verdict when it surprises, for the warning said once at the start
	// ("" says nothing); the words name the tool's flags, so they are the
	// tool's. Nil leaves the warning out.
	UserTimeoutWarning func(sockopt.UserTimeoutEffect) string
	// Quiet leaves out every per-frame event (PING received, PONG sent,
	// data, the server heartbeat's PINGs and the client's PONGs, PINGs
	// muted by --fault mute, the warning Notices of --min-ping-interval),
	// which cost more than the frames themselves under load and which a
	// client controls; connections, closes, notes and totals are still
	// reported.
	Quiet bool
	// EventsAll keeps every line about a connection, however many a
	// second (--events all). False, with Quiet false, lets them show while
	// at most gate.Rate come a second, then puts one "status" line a
	// second in their place until a second has at most gate.Rate again:
	// past what a person can read, writing them cost more than the frames
	// (see package gate).
	EventsAll bool
	// WriteTimeout is how long output may wait for a client that does not
	// read (no byte of it taken) before the client is closed. Zero means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// StatsEvery, when positive, emits a "stats" event this often: open
	// connections, goroutines, open files and resident memory.
	StatsEvery time.Duration
	// MaxConns is how many connections the server may hold at once. Every
	// connection that holds a descriptor counts, whatever its state, so
	// that MaxConns bounds the descriptors too. A newcomer that finds the
	// server full first ends the oldest connection on its way out (its
	// peer has sent its FIN, or it was told why it ends), or else the
	// oldest stalled one (4 PINGs wait and it sent more: no heartbeat does,
	// and a client that has gone with its FIN behind unread PINGs looks
	// just so), and takes its place, so clients that have gone never keep
	// a new one out; only when there is none of either is the newcomer
	// sent a closing Notice that says so and closed. Being on its way out
	// itself, the refused newcomer makes the server hold at most
	// MaxConns+1. Zero means no limit (hbserver's default is what the
	// open-file limit allows).
	MaxConns int
	// FrameTimeout is how long a client may take to finish a frame it has
	// started; past it the connection is closed, so that one byte at a time
	// does not hold a connection. Zero means no limit.
	FrameTimeout time.Duration
	// MinPingInterval is the rate a client's PINGs must keep: one per
	// MinPingInterval on average. Each PING moves the client's schedule on
	// by one interval, from its arrival or from where the schedule stood,
	// whichever is later. A PING before its place in the schedule is a
	// strike, warned about with a Notice; its number is how many intervals
	// (rounded up) the client is ahead. PingStrikes intervals ahead closes
	// the connection. So a client may slip (a PING early now and then, even
	// two in a row) and is never closed while it keeps to the rate, but any
	// sustained rate above it is closed, sooner the faster it is; a pause
	// earns no credit for a later burst. Zero turns the check off.
	MinPingInterval time.Duration
	// ReapAfterAnnounced reaps a client that sends nothing for this many
	// times the window its HELLO announced (see announce.go), as an MQTT
	// server closes a client silent for 1.5 x its Keep Alive. Zero turns
	// it off; below 1 would reap clients that keep to their word.
	ReapAfterAnnounced float64
	// Fault makes every connection misbehave, FaultAfter after it was
	// accepted, for demonstrations. The zero value (NoFault) behaves.
	Fault      Fault
	FaultAfter time.Duration
	// Commands, when not nil, changes Sleep and Fault while the server
	// runs (hbserver's commands): each connection takes a change at its
	// next PING, and each is said in the timeline ("command"). The server
	// reads it until it stops or the channel closes.
	Commands <-chan Command

	// live is where Commands' settings reach the connections; nil without
	// Commands.
	live *liveCell
}

// Fault is a way for the server to fail on purpose.
type Fault string

// The faults. Each one shows a different detector at work.
const (
	NoFault Fault = ""
	// Mute reads PINGs and never answers: alive for the kernel (it ACKs),
	// dead for the heartbeat.
	Mute Fault = "mute"
	// Freeze stops reading and writing the connection, like a hung
	// process: the kernel still ACKs until the receive buffer fills.
	Freeze Fault = "freeze"
	// ResetConn closes the connection with a RST (SO_LINGER 0).
	ResetConn Fault = "reset"
	// CloseConn closes the connection with a FIN.
	CloseConn Fault = "close"
)

// Faults lists the valid faults, for flags and errors.
var Faults = []Fault{Mute, Freeze, ResetConn, CloseConn}

// DefaultFrameTimeout is hbserver's --frame-timeout: ten seconds for 1028
// bytes is generous for any client that is really sending.
const DefaultFrameTimeout = 10 * time.Second

// PingStrikes is how many intervals ahead of MinPingInterval's schedule a
// client is closed at: a client that slips (a delayed timer, a retry) is
// warned, not dropped.
const PingStrikes = 3

// sockBuf is the send and receive buffer asked for each accepted socket
// (set once on the listener on Linux, on each connection elsewhere);
// the kernel doubles it for its bookkeeping, so each holds about 16 KiB,
// room for several frames. Left to itself the kernel grows a buffer to
// megabytes (tcp_wmem, tcp_rmem) for a client that sends PINGs and never
// reads its PONGs, and that memory is the kernel's, outside the server's
// bounds: 200 such clients pinned 1.5 GB. A heartbeat needs one frame each
// way at a time.
const sockBuf = 8 << 10
