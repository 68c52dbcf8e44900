package load

import (
	"time"

	"github.com/heartbeat/heartbeat/internal/probe"
)

// Config is a load run's settings.
type Config struct {
	Addr string
	// Conns is how many connections to open.
	Conns int
	// Rate is how many new connections a second; zero, negative, NaN or
	// +Inf opens them as fast as they connect.
	Rate float64
	// Probe is each connection's heartbeat. Under Jitter, connection i
	// draws from Seed + i (see probe), so that no two draw alike.
	Probe probe.Config
	// ConnectTimeout bounds each handshake; zero: the kernel's.
	ConnectTimeout time.Duration
	// Every is how often a status line is printed; zero means a second.
	Every time.Duration
}

// Summary is what a run did. At the end, Connected = Alive + Dead +
// NeverAccepted + Failed + Closed.
type Summary struct {
	Conns         int // asked for
	Connected     int // handshakes that succeeded
	ConnectErrors int // handshakes that failed
	// Pending is how many handshakes were under way, or not yet begun, when
	// the run stopped: Conns = Connected + ConnectErrors + Pending.
	Pending int
	Alive   int // still alive when the run stopped
	Dead    int // declared dead by the heartbeat
	// NeverAccepted is how many the heartbeat found silent whose handshake
	// the server's kernel never completed (its accept queue was full; see
	// neverAccepted): not deaths, and not in Dead.
	NeverAccepted int
	Failed        int // ended by an I/O error (reset, ...)
	// Closed is how many the server closed: between frames, in the middle
	// of one (ClosedMidFrame of them) or with a closing NOTICE
	// (ClosedNotices of them; the first one's reason is FirstCloseReason).
	Closed, ClosedMidFrame, ClosedNotices int
	FirstCloseReason                      string
	Warnings                              int64         // warning NOTICEs received
	Pings                                 int64         // PINGs sent
	Pongs                                 int64         // PONGs in time
	Elapsed                               time.Duration // from the first connect to the end
	// LatePongs is how many PONGs came after their probe's deadline or
	// answered no PING (a server that floods PONGs sends millions): they
	// are neither signs of life nor RTT samples, so that they are said.
	LatePongs int64
	// RTT50 and RTT99 are of the PONGs in time; zero, and null in JSON,
	// when there were none.
	RTT50, RTT99 time.Duration
	// DetectErr50, DetectErr99 and DetectErrMax are the verdicts' distance
	// from the predicted instant (observed - predicted), for the dead ones;
	// zero, and null in JSON, when none died.
	DetectErr50, DetectErr99, DetectErrMax time.Duration
	// FirstConnectError is the first connect error's text; empty when
	// every handshake succeeded.
	FirstConnectError string
}

// probe is connection number i's heartbeat: Probe with its own Seed, so
// that jitter spreads the connections rather than moving them in step.
func (c Config) probe(i int) probe.Config {
	p := c.Probe
	p.Seed += uint64(i)
	return p
}
