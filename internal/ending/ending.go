// Package ending names why a connection ended, once for hbserver, hbclient
// and its load mode, so that one ending is one value with one text
// wherever it is counted or reported (as nats-server's ClosedState does for
// its connections), and names the mechanism that found a peer dead.
//
// Example:
//
//	counts[ending.PeerClosed]++
//	fmt.Println(ending.MidFrame) // peer closed mid-frame
package ending

import "fmt"

// Reason says why a connection ended. Its String is the text the events
// and JSON carry ("reason" of "closed", the keys of "stopped"'s "closed"):
// scripts rely on it, so a text, once given, stays.
type Reason uint8

// The reasons, the zero value first: Stopped, which is also what a run
// that has not ended reads as.
const (
	// Stopped: we stopped, the run's context ended (hbclient's --duration
	// or a signal).
	Stopped Reason = iota
	// Shutdown: hbserver was told to stop (SIGINT or SIGTERM) and closes
	// every connection.
	Shutdown
	// PeerClosed: the peer closed the connection between frames (FIN).
	PeerClosed
	// MidFrame: the peer closed in the middle of a frame, so a frame was
	// lost.
	MidFrame
	// ClosedByNotice: the server sent a closing NOTICE, with its reason,
	// and closes the connection (as hbclient sees it).
	ClosedByNotice
	// Reset: the peer reset the connection (RST).
	Reset
	// IOError: any other I/O error.
	IOError
	// WriteStalled: the peer does not read; output waited past the write
	// timeout.
	WriteStalled
	// FrameTimeout: a frame took longer than hbserver's --frame-timeout.
	FrameTimeout
	// PingFlood: PINGs faster than hbserver's --min-ping-interval.
	PingFlood
	// OverLimit: hbserver's --max-conns was reached.
	OverLimit
	// FaultReset: hbserver's --fault reset: we sent a RST.
	FaultReset
	// FaultClose: hbserver's --fault close: we sent a FIN.
	FaultClose
	// HeartbeatDead: the heartbeat declared the peer dead.
	HeartbeatDead
	// NeverAccepted: the heartbeat found the peer silent, but the server's
	// kernel never took the handshake (its accept queue was full): not a
	// death. Only Linux's TCP_INFO tells it apart from HeartbeatDead.
	NeverAccepted
	// KernelDead: the kernel gave up on the peer (ETIMEDOUT, or the ICMP
	// error it last heard); a Cause names the mechanism.
	KernelDead
	// AnnouncedSilent: the client sent nothing for hbserver's
	// --reap-after-announced times the window its HELLO announced.
	AnnouncedSilent
)

var texts = [...]string{
	Stopped:         "stopped",
	Shutdown:        "server shutting down",
	PeerClosed:      "peer closed",
	MidFrame:        "peer closed mid-frame",
	ClosedByNotice:  "closed by the server",
	Reset:           "reset by peer",
	IOError:         "i/o error",
	WriteStalled:    "peer does not read",
	FrameTimeout:    "frame timeout",
	PingFlood:       "ping flood",
	OverLimit:       "over the connection limit",
	FaultReset:      "fault reset",
	FaultClose:      "fault close",
	HeartbeatDead:   "dead by heartbeat",
	NeverAccepted:   "never accepted",
	KernelDead:      "dead by kernel",
	AnnouncedSilent: "silent past its announced window",
}

func (r Reason) String() string {
	if int(r) < len(texts) {
		return texts[r]
	}
	return fmt.Sprintf("reason %d", int(r))
}

// MarshalText gives String, so that a Reason in JSON is its text.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Cause names the mechanism that found a peer dead: the heartbeat, or one
// of the kernel's. Its value is the text the events and JSON carry.
type Cause string

const (
	CauseHeartbeat   Cause = "heartbeat"
	CauseKeepAlive   Cause = "keepalive"
	CauseUserTimeout Cause = "user-timeout"
	// CauseRetransmit is the kernel's limit on retransmissions
	// (tcp_retries2 on Linux).
	CauseRetransmit Cause = "retransmit"
)

// Unacked says whether sent data was unacknowledged when the kernel gave
// up, as far as the caller knows: hbclient reads it from TCP_INFO,
// hbserver does not.
type Unacked uint8

const (
	// UnackedUnknown (zero): not known.
	UnackedUnknown Unacked = iota
	// NoneUnacked: every byte sent was acknowledged.
	NoneUnacked
	// SomeUnacked: data was unacknowledged, or had been retransmitted.
	SomeUnacked
)

// KernelCause names the kernel's detector that gave up (ETIMEDOUT), from
// what is known: whether keep-alive is on, whether a user timeout is set,
// and whether data was unacknowledged. Keep-alive probes only while
// nothing is unacknowledged; a user timeout bounds unacknowledged data,
// and bounds keep-alive too (tcp(7)), so when it is not known whether data
// was unacknowledged, a user timeout is named; with neither, the
// retransmission limit gave up.
func KernelCause(keepAlive, userTimeout bool, unacked Unacked) Cause {
	switch {
	case userTimeout && (unacked != NoneUnacked || !keepAlive):
		return CauseUserTimeout
	case keepAlive && unacked != SomeUnacked:
		return CauseKeepAlive
	}
	return CauseRetransmit
}
