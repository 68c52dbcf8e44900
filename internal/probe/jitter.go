package probe

import "time"

// MaxJitter is the largest Jitter. BFD cuts by 0 to 25% (RFC 5880, 6.8.7);
// 50 lets a class see a wider spread, and a wait cut by more than half
// would leave little of the Interval a PONG is given.
const MaxJitter = 50

// ErrJitter is the sentinel of a Jitter out of range.
var ErrJitter = &RangeError{Setting: "jitter", Rule: "must be from 0 to 50 (percent)"}

// wait is d cut by Jitter: d less a draw from 0 to d x Jitter / 100,
// uniform to the nanosecond. Without jitter it is d.
func (m *Machine) wait(d time.Duration) time.Duration {
	if m.cfg.Jitter == 0 {
		return d
	}
	return d - time.Duration(m.rng.Uint64()%(uint64(cut(d, m.cfg.Jitter))+1))
}

// cut is the most Jitter percent takes off d. It is computed as d/100 x
// percent plus the rest, so that it cannot overflow for any duration.
func cut(d time.Duration, percent int) time.Duration {
	p := time.Duration(percent)
	return d/100*p + d%100*p/100
}

// DeadAfterMin is the soonest the peer can be declared dead after the last
// sign of life: DeadAfter with every wait cut by the whole Jitter. It is
// DeadAfter without jitter, and zero when the heartbeat is off.
func (c Config) DeadAfterMin() time.Duration {
	if !c.Enabled() {
		return 0
	}
	if c.Timeout > 0 {
		// The reply timeout is not jittered, only the idle wait before it.
		return c.DeadAfter() - cut(c.Idle, c.Jitter)
	}
	return c.DeadAfter() - cut(c.Idle, c.Jitter) - time.Duration(c.Probes)*cut(c.Interval, c.Jitter)
}

// Shortest is the shortest that jitter percent can cut a wait of d to.
func Shortest(d time.Duration, jitter int) time.Duration { return d - cut(d, jitter) }
