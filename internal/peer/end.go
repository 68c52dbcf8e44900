package peer

import "fmt"

// End says why a connection ended, in the words both the single connection
// client and the load mode use, so that one ending is counted and named the
// same way by both (as nats-server's ClosedState does for its connections).
type End int

const (
	// Stopped: we stopped, the run's context ended (--duration or a signal).
	Stopped End = iota
	// PeerClosed: the peer closed the connection between frames (FIN).
	PeerClosed
	// MidFrame: the peer closed in the middle of a frame, so a frame was
	// lost; the client reports it as an error.
	MidFrame
	// ClosedByNotice: the server sent a closing NOTICE, with its reason,
	// and closes the connection.
	ClosedByNotice
	// Failed: an I/O error, such as a reset.
	Failed
	// HeartbeatDead: the heartbeat declared the peer dead.
	HeartbeatDead
	// NeverAccepted: the heartbeat found the peer silent, but the server's
	// kernel never took the handshake (its accept queue was full): not a
	// death. Only Linux's TCP_INFO tells it apart from HeartbeatDead.
	NeverAccepted
	// KernelDead: the kernel gave up on the peer (ETIMEDOUT, or the ICMP
	// error it last heard); Cause names the mechanism.
	KernelDead
)

func (e End) String() string {
	switch e {
	case Stopped:
		return "stopped"
	case PeerClosed:
		return "peer closed"
	case MidFrame:
		return "closed mid-frame"
	case ClosedByNotice:
		return "closed by the server"
	case Failed:
		return "failed"
	case HeartbeatDead:
		return "dead"
	case NeverAccepted:
		return "never accepted"
	case KernelDead:
		return "dead (kernel)"
	}
	return fmt.Sprintf("end %d", int(e))
}

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
