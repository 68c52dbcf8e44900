package client

import (
	"sync"
	"sync/atomic"
	"time"
)

// Tally adds up what many connections' heartbeats do, for the load mode. It
// is safe for concurrent use; one Tally serves every connection of a run.
// The zero value is ready to use.
type Tally struct {
	Pings atomic.Int64 // PINGs sent
	Pongs atomic.Int64 // PONGs in time
	Late  atomic.Int64 // late or unsolicited PONGs

	mu   sync.Mutex
	rtts []time.Duration // since the last Drain
}

// maxSamples bounds the RTT samples kept between two Drains, so that a huge
// load cannot grow memory without bound; beyond it samples are dropped.
const maxSamples = 1 << 20

func (t *Tally) rtt(d time.Duration) {
	t.mu.Lock()
	if len(t.rtts) < maxSamples {
		t.rtts = append(t.rtts, d)
	}
	t.mu.Unlock()
}

// Drain returns the RTT samples recorded since the last Drain.
func (t *Tally) Drain() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.rtts
	t.rtts = nil
	return out
}
