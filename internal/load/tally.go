package load

import (
	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/peer"
	"sync"
	"sync/atomic"
	"time"
)

// tally is what a run's connections have done so far. The loop writes it;
// the status lines read it from another goroutine.
type tally struct {
	up, alive, dead, failed, closed atomic.Int64
	neverAccepted                   atomic.Int64 // see neverAccepted in loop.go
	closedMidFrame, closedNotices   atomic.Int64 // of closed: in the middle of a frame; after a closing NOTICE
	warnings                        atomic.Int64 // warning NOTICEs received
	connectErrors                   atomic.Int64
	pings, pongs, late              atomic.Int64 // PINGs sent; PONGs in time; late or unsolicited PONGs

	mu               sync.Mutex
	rtts             []time.Duration // since the last drain
	firstConnErr     string          // the first connect error's text
	firstCloseReason string          // the first closing NOTICE's reason
}

// maxSamples bounds the RTT samples kept between two drains, so that a huge
// load cannot grow memory without bound; beyond it samples are dropped.
const maxSamples = 1 << 20

func (t *tally) rtt(d time.Duration) {
	t.mu.Lock()
	if len(t.rtts) < maxSamples {
		t.rtts = append(t.rtts, d)
	}
	t.mu.Unlock()
}

func (t *tally) connectError(err error) {
	t.connectErrors.Add(1)
	t.mu.Lock()
	if t.firstConnErr == "" {
		t.firstConnErr = err.Error()
	}
	t.mu.Unlock()
}

// connected counts a handshake that succeeded: the connection is up and
// alive.
func (t *tally) connected() {
	t.up.Add(1)
	t.alive.Add(1)
}

// ended counts a connection that was up and has ended as end; reason is a
// closing NOTICE's. Each ending has one count: the server closed it
// (between frames, mid-frame or with a NOTICE), the heartbeat found it dead
// or never accepted, or an I/O error ended it.
func (t *tally) ended(end ending.Reason, reason string) {
	t.alive.Add(-1)
	switch end {
	case ending.PeerClosed, ending.MidFrame, ending.ClosedByNotice:
		t.closed.Add(1)
	case ending.HeartbeatDead:
		t.dead.Add(1)
	case ending.NeverAccepted:
		t.neverAccepted.Add(1)
	default: // Failed; the kernel's verdicts are errors here too
		t.failed.Add(1)
	}
	switch end {
	case ending.MidFrame:
		t.closedMidFrame.Add(1)
	case ending.ClosedByNotice:
		t.closedNotices.Add(1)
		t.mu.Lock()
		if t.firstCloseReason == "" {
			t.firstCloseReason = reason
		}
		t.mu.Unlock()
	}
}

// frame counts what one received frame meant: a PONG in time, with its
// RTT, a late or unsolicited PONG, or a warning NOTICE.
func (t *tally) frame(mn peer.Meaning) {
	switch {
	case mn.InTime():
		t.pongs.Add(1)
		t.rtt(mn.Answer.RTT)
	case mn.Type == msg.Pong:
		t.late.Add(1)
	case mn.Warning():
		t.warnings.Add(1)
	}
}

// counts is what the connections have done so far, as a Summary's counts
// (its other fields are zero). While the loop runs, the counts are read one
// after the other and may not add up to the last connection.
func (t *tally) counts() Summary {
	s := Summary{
		Connected: int(t.up.Load()), ConnectErrors: int(t.connectErrors.Load()),
		Alive: int(t.alive.Load()), Dead: int(t.dead.Load()), NeverAccepted: int(t.neverAccepted.Load()),
		Failed: int(t.failed.Load()), Closed: int(t.closed.Load()),
		ClosedMidFrame: int(t.closedMidFrame.Load()), ClosedNotices: int(t.closedNotices.Load()),
		Warnings: t.warnings.Load(), Pings: t.pings.Load(), Pongs: t.pongs.Load(), LatePongs: t.late.Load(),
	}
	t.mu.Lock()
	s.FirstConnectError, s.FirstCloseReason = t.firstConnErr, t.firstCloseReason
	t.mu.Unlock()
	return s
}

// drain returns the RTT samples recorded since the last drain.
func (t *tally) drain() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.rtts
	t.rtts = nil
	return out
}
