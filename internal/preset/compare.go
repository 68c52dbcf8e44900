package preset

import (
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// Kernel is the kernel's detectors beside the heartbeat, for Compare.
type Kernel struct {
	// KeepAlive is on when Enable; zero times are Linux's defaults.
	KeepAlive sockopt.KeepAliveConfig
	// UserTimeout is TCP_USER_TIMEOUT; zero: unset.
	UserTimeout time.Duration
	// GiveUp is how long unacknowledged data is retransmitted without a
	// user timeout: tcp_retries2's (sockopt.RetransmitGiveUp).
	GiveUp time.Duration
}

// minRTO is Linux's lowest retransmission timeout (TCP_RTO_MIN).
const minRTO = 200 * time.Millisecond

// LinuxKernel is Linux's defaults, keep-alive off: what the comparison
// assumes unless flags say otherwise.
func LinuxKernel() Kernel {
	return Kernel{GiveUp: sockopt.RetransmitGiveUp(LinuxRetries2, minRTO)}
}

// Verdict is when a failure is found, from the peer's last sign of life
// (the connection's start), and by what (event.Verdict: the comparison's
// lines carry it as it is).
type Verdict = event.Verdict

// earlier returns the earlier of v and a kernel's verdict at at.
func earlier(v Verdict, at time.Duration, by string) Verdict {
	if v.Never || at < v.At {
		return Verdict{At: at, By: by}
	}
	return v
}

var never = Verdict{Never: true}

// Verdicts is when one heartbeat finds each of the classic failures.
type Verdicts struct {
	// Hung: the peer's process never answers, its kernel ACKs everything.
	Hung Verdict
	// Vanished: nothing comes back at all; the heartbeat's own PINGs are
	// then unacknowledged data, which stops keep-alive.
	Vanished Verdict
	// Slow: the peer answers each PING Sleep after it arrived or after
	// its previous answer, whichever is later (hbserver's SLEEP).
	Slow Verdict
	// Unacked: the peer vanished just as data was sent, so data is
	// unacknowledged from the start: keep-alive cannot run, only
	// retransmissions or the user timeout and the heartbeat act.
	Unacked Verdict
}

// maxPings bounds a simulation: a heartbeat that has not found the peer
// dead after this many PINGs against a steady peer never will.
const maxPings = 1000

// Compare drives the probe machine c with simulated peers and the kernel
// k's rules, and says when each failure is found. c must be valid.
func Compare(c probe.Config, k Kernel, sleep time.Duration) Verdicts {
	var v Verdicts
	start := time.Unix(0, 0)
	silent, firstPing := simulate(c, start, -1, false)
	v.Hung = silent

	v.Vanished = silent
	switch {
	case c.Enabled() && !firstPing.Never:
		// The first PING is never ACKed: retransmissions run, and
		// keep-alive does not.
		v.Vanished = earlier(v.Vanished, firstPing.At+k.unacked(), k.unackedBy())
	case k.KeepAlive.Enable:
		ka := withLinuxDefaults(k.KeepAlive)
		v.Vanished = earlier(v.Vanished, ka.DeadAfterWith(k.UserTimeout), "keep-alive")
	}

	v.Slow, _ = simulate(c, start, sleep, false)

	v.Unacked, _ = simulate(c, start, -1, true)
	v.Unacked = earlier(v.Unacked, k.unacked(), k.unackedBy())
	return v
}

// unacked is how long unacknowledged data lives: the user timeout when
// set, or the retransmissions' give-up.
func (k Kernel) unacked() time.Duration {
	if k.UserTimeout > 0 {
		return k.UserTimeout
	}
	return k.GiveUp
}

func (k Kernel) unackedBy() string {
	if k.UserTimeout > 0 {
		return "user timeout"
	}
	return "retransmissions"
}

// withLinuxDefaults fills the times left zero with Linux's.
func withLinuxDefaults(ka sockopt.KeepAliveConfig) sockopt.KeepAliveConfig {
	if ka.Idle == 0 {
		ka.Idle = LinuxKeepIdle
	}
	if ka.Interval == 0 {
		ka.Interval = LinuxKeepInterval
	}
	if ka.Count == 0 {
		ka.Count = LinuxKeepCount
	}
	return ka
}

// simulate runs the machine c from start against a peer that never
// answers (sleep < 0) or answers each PING sleep after it arrived or
// after its previous answer, whichever is later, with no network delay.
// sent says a frame was sent at start (data in flight). It returns the
// heartbeat's verdict and when the first PING went.
func simulate(c probe.Config, start time.Time, sleep time.Duration, sent bool) (dead, firstPing Verdict) {
	dead, firstPing = never, never
	if !c.Enabled() {
		return dead, firstPing
	}
	m := probe.New(c, start)
	if sent {
		m.SentFrame(start)
	}
	var pongs []time.Time // answers on their way, in order
	var lastAnswer time.Time
	for pings := 0; pings <= maxPings; {
		now := m.Deadline()
		if now.IsZero() {
			return dead, firstPing
		}
		if len(pongs) > 0 && !pongs[0].After(now) {
			// A PONG before (or with) the deadline is taken first, as a
			// frame read before the timer.
			m.Pong(pongs[0])
			pongs = pongs[1:]
			continue
		}
		for st := m.Tick(now); st.Action != probe.Wait; st = m.Tick(now) {
			if st.Action == probe.Dead {
				return Verdict{At: now.Sub(start), By: "heartbeat"}, firstPing
			}
			pings++
			if firstPing.Never {
				firstPing = Verdict{At: now.Sub(start)}
			}
			if sleep >= 0 {
				lastAnswer = later(now, lastAnswer).Add(sleep)
				pongs = append(pongs, lastAnswer)
			}
		}
	}
	return dead, firstPing
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
