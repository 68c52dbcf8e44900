package probe

import "time"

// MinStall is the least lateness that StallAfter calls a stall, however
// short the Interval: a garbage collection, a busy scheduler or a slow
// write to a terminal can hold a timer back for a few hundred
// milliseconds, and Tick's rule (deadlines stay on the schedule) already
// absorbs that.
const MinStall = time.Second

// StallAfter is how late a wake-up must be, past Deadline, to be a local
// stall rather than a late timer: max(MinStall, Interval). Later than a
// whole Interval, at least one probe's window went by while this process
// was not running (stopped with SIGSTOP, a suspended virtual machine, an
// overloaded host): a PONG that came in it was not read in time, so a
// verdict would blame the peer for time no one watched.
func (c Config) StallAfter() time.Duration { return max(MinStall, c.Interval) }

// Stall checks, at now, whether the wake-up is a local stall: now is more
// than StallAfter past Deadline. If so it returns how late it is and
// restarts the round at now, as at the connect (New): nothing missed, the
// whole Idle before PING #1, and the prediction counted from now; PINGs
// still out are matched and timed as before. Otherwise, and when the
// heartbeat is off or the peer dead, it returns zero and changes nothing.
// A caller calls it before Tick on each wake-up of its timer.
//
// Time the host spent suspended does not count: Go's clock, like Linux's
// CLOCK_MONOTONIC, does not run in suspend, so a suspend is neither a stall
// nor a missed probe.
func (m *Machine) Stall(now time.Time) time.Duration {
	if m.phase != idle && m.phase != probing {
		return 0
	}
	late := now.Sub(m.deadline)
	if late <= m.cfg.StallAfter() {
		return 0
	}
	m.alive(now)
	return late
}
