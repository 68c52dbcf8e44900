package probe

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Defaults of the seed C client (KEEP_ALIVE_TIME, KEEP_ALIVE_INTERVAL and
// KEEP_ALIVE_PROBETIMES).
const (
	DefaultIdle     = 10 * time.Second
	DefaultInterval = 3 * time.Second
	DefaultProbes   = 3
)

// Config is the heartbeat's settings.
type Config struct {
	// Idle is how long the peer may stay silent before PING #1 is sent.
	// It must be positive when Probes > 0.
	Idle time.Duration
	// Interval is how long each PING waits for its PONG before the probe
	// counts as missed and the next PING goes out. It must be positive when
	// Probes > 0.
	Interval time.Duration
	// Probes is how many missed probes in a row declare the peer dead.
	// Zero turns the heartbeat off; negative is invalid.
	Probes int
	// AcceptLate applies the seed C client's rule: any frame, even a PONG
	// after its probe's deadline, is a sign of life. False is the strict rule.
	AcceptLate bool

	// The rules below tell other systems' heartbeats apart (package preset
	// sets them); each zero value is the seed client's rule.

	// Life is what counts as life. Zero (LifeReceived) is any frame
	// received.
	Life Life
	// FixedRate sends a PING every Interval after PING #1, whatever the
	// traffic (NATS, ZMTP, gorilla/websocket's ticker), instead of only
	// after Idle of silence (SSH, gRPC). PING #1 still goes Idle after the
	// start. False is idle-gated.
	FixedRate bool
	// Timeout, when positive, replaces counted probes by one PING with a
	// reply timeout (gRPC's Time + Timeout, ZMTP's HEARTBEAT_TIMEOUT): the
	// peer is dead Timeout after the round's first PING unless life came
	// back. Probes must then be 1; further PINGs still follow Interval
	// (see MaxOutstanding). Zero is counted probes: dead after Probes
	// missed probes of Interval each.
	Timeout time.Duration
	// MaxOutstanding, when positive, is how many PINGs of a round may wait
	// for their PONG at once: a PING due beyond it is not sent (gRPC sends
	// one and waits). Life ends a round, so PINGs of earlier rounds never
	// hold a new one back. It needs Timeout, since a counted probe must be
	// sent to be counted. Zero is no limit.
	MaxOutstanding int

	// Jitter is BFD's rule (RFC 5880, 6.8.7): each wait, Idle and every
	// Interval, is cut by a random 0 to Jitter percent, so that heartbeats
	// started together do not stay in step. Zero is off; at most MaxJitter.
	Jitter int
	// Seed seeds the draws of Jitter: the same Seed gives the same waits,
	// so a run can be replayed. Unused when Jitter is zero.
	Seed uint64
}

// Life is what counts as a sign of life: what ends a round of probes and
// restarts the idle timer.
type Life uint8

const (
	// LifeReceived: any frame received is life (SSH's "any packet", gRPC's
	// "any frame read", ZMTP's "any traffic"); a PONG only when on time,
	// or always under AcceptLate.
	LifeReceived Life = iota
	// LifePong: only a PONG is life, data is not (NATS resets its count
	// of PINGs out only on a PONG; gorilla/websocket's read deadline moves
	// only in the pong handler).
	LifePong
	// LifeSent: the idle timer runs from the last frame sent, as MQTT's
	// client's Keep Alive does ("between the point at which the Client
	// finishes transmitting one Control Packet and the point it starts
	// sending the next"); a frame received still ends a round of probes.
	LifeSent
	lifeRules // how many rules there are
)

func (l Life) String() string {
	switch l {
	case LifeReceived:
		return "any frame received"
	case LifePong:
		return "only a PONG"
	case LifeSent:
		return "any frame sent"
	}
	return fmt.Sprintf("life rule %d", uint8(l))
}

// DefaultConfig returns the seed C client's settings with the strict rule.
func DefaultConfig() Config {
	return Config{Idle: DefaultIdle, Interval: DefaultInterval, Probes: DefaultProbes}
}

// A RangeError is a setting of Config out of its range. errors.Is matches
// it to the sentinel of its setting (ErrProbes, ErrIdle, ErrInterval), and
// its fields let a caller say it in its own words: the tools name the flag
// ("--idle must be positive (got 0s)"), which probe does not know.
type RangeError struct {
	// Setting is the Config field, in lower case: "probes", "idle" or
	// "interval".
	Setting string
	// Rule is what the setting must be: "must be positive".
	Rule string
	// Got is the value given; nil in the sentinels, which stand for every
	// value that breaks the rule.
	Got any
}

func (e *RangeError) Error() string {
	if e.Got == nil {
		return "probe: " + e.Setting + " " + e.Rule
	}
	return fmt.Sprintf("probe: %s %s (got %v)", e.Setting, e.Rule, e.Got)
}

// Is reports whether target is the sentinel of e's setting and rule, so
// that errors.Is(err, ErrIdle) holds for every idle out of range.
func (e *RangeError) Is(target error) bool {
	t, ok := target.(*RangeError)
	return ok && t.Got == nil && t.Setting == e.Setting && t.Rule == e.Rule
}

// with returns the error of sentinel e for the value got.
func (e *RangeError) with(got any) error {
	err := *e
	err.Got = got
	return &err
}

// Errors from Validate. Those of one setting are RangeErrors; their Got is
// nil here.
var (
	ErrProbes   = &RangeError{Setting: "probes", Rule: "must not be negative"}
	ErrIdle     = &RangeError{Setting: "idle", Rule: "must be positive"}
	ErrInterval = &RangeError{Setting: "interval", Rule: "must be positive"}
	// ErrTimeout: Timeout is negative.
	ErrTimeout = &RangeError{Setting: "timeout", Rule: "must not be negative"}
	// ErrMaxOutstanding: MaxOutstanding is negative.
	ErrMaxOutstanding = &RangeError{Setting: "max-outstanding", Rule: "must not be negative"}
	// ErrLife: Life is none of the rules.
	ErrLife = &RangeError{Setting: "life", Rule: "must be one of the rules"}
	// ErrTimeoutProbes: a reply timeout is one PING's; it cannot be
	// counted several times.
	ErrTimeoutProbes = errors.New("probe: a reply timeout needs probes 1")
	// ErrOutstandingNeedsTimeout: with counted probes every probe is a
	// PING sent, so their number cannot be capped.
	ErrOutstandingNeedsTimeout = errors.New("probe: max-outstanding needs a reply timeout")
	// ErrTooLong: Idle + Probes x Interval, the time to a verdict, does not
	// fit a time.Duration (about 292 years), so DeadAfter would wrap.
	ErrTooLong = errors.New("probe: idle + probes x interval is longer than the longest duration")
)

// Validate reports the first setting that makes no sense.
func (c Config) Validate() error {
	switch {
	case c.Probes < 0:
		return ErrProbes.with(c.Probes)
	case c.Probes == 0:
		return nil // the heartbeat is off; its times do not matter
	case c.Idle <= 0:
		return ErrIdle.with(c.Idle)
	case c.Interval <= 0:
		return ErrInterval.with(c.Interval)
	case c.Timeout < 0:
		return ErrTimeout.with(c.Timeout)
	case c.MaxOutstanding < 0:
		return ErrMaxOutstanding.with(c.MaxOutstanding)
	case c.Life >= lifeRules:
		return ErrLife.with(c.Life)
	case c.Timeout > 0 && c.Probes != 1:
		return fmt.Errorf("%w (got probes %d)", ErrTimeoutProbes, c.Probes)
	case c.MaxOutstanding > 0 && c.Timeout == 0:
		return ErrOutstandingNeedsTimeout
	case c.Jitter < 0 || c.Jitter > MaxJitter:
		return ErrJitter.with(c.Jitter)
	case c.Timeout > 0 && c.Timeout > math.MaxInt64-c.Idle:
		return fmt.Errorf("%w (got %v + %v)", ErrTooLong, c.Idle, c.Timeout)
	case time.Duration(c.Probes) > (math.MaxInt64-c.Idle)/c.Interval:
		return fmt.Errorf("%w (got %v + %d x %v)", ErrTooLong, c.Idle, c.Probes, c.Interval)
	}
	return nil
}

// Enabled reports whether the heartbeat sends PINGs at all.
func (c Config) Enabled() bool { return c.Probes > 0 }

// DeadAfter is how long after the last sign of life the peer is declared
// dead: Idle + Probes*Interval, or Idle + Timeout with a reply timeout.
// Under FixedRate it is counted from the start, or from life that comes
// as a PING is sent (a PONG at once) when Idle is Interval: life between
// two PINGs waits for the next one. Zero when the heartbeat is off.
func (c Config) DeadAfter() time.Duration {
	if !c.Enabled() {
		return 0
	}
	return c.Idle + c.wait()
}

// PongWait is how long each PING waits for its PONG before it is late:
// Timeout with a reply timeout, Interval with counted probes.
func (c Config) PongWait() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return c.Interval
}

// wait is how long a round of probes lasts before the verdict.
func (c Config) wait() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return time.Duration(c.Probes) * c.Interval
}

// Action is what the caller must do after Tick. Each value names the
// caller's next step, nothing else: the frame it sends is msg.Ping, and the
// events that report the steps are event.Ping and event.Dead.
type Action uint8

const (
	Wait Action = iota // nothing is due before Deadline
	Ping               // send PING number Step.Seq now
	Dead               // the peer is declared dead: stop and report it
)

func (a Action) String() string {
	switch a {
	case Wait:
		return "wait"
	case Ping:
		return "ping"
	case Dead:
		return "dead"
	}
	return fmt.Sprintf("action %d", uint8(a))
}

// Step is the result of Tick.
type Step struct {
	Action Action
	// Seq is the PING's sequence number (1 for the first) when Action is Ping.
	Seq uint64
	// Missed, when non-zero, says that probe number Missed of Probes in this
	// round has just gone unanswered (it comes with Ping or Dead), after
	// waiting Waited for its PONG: Interval, or less under Jitter.
	Missed int
	Waited time.Duration
	// Silence is, when Action is Dead, how long the peer has been without a
	// sign of life at now.
	Silence time.Duration
	// Due is, when Action is Dead, how long after the last sign of life the
	// verdict was due: DeadAfter, or less by Jitter's draws. Silence - Due
	// is how late the caller ticked.
	Due time.Duration
}

// Answer describes a PONG given to Pong.
type Answer struct {
	// Seq is the PING this PONG answers, in order; zero when it answers none.
	Seq uint64
	// RTT is now minus the PING's send time. Zero when Seq is zero or the
	// PING is too old to be remembered (see maxRemembered).
	RTT time.Duration
	// Late is true when the PONG came after its probe's deadline (or answers
	// no PING). Under the strict rule a late PONG is no sign of life.
	Late bool
	// SentLate is how long after its scheduled time the PING left: the
	// deadline runs from the schedule, so a PING that left late has less
	// than Interval for its PONG, and a late PONG can have an RTT under
	// Interval. Zero when Seq is zero or the PING is not remembered.
	SentLate time.Duration
	// Alive is true when the PONG counted as a sign of life.
	Alive bool
}

// maxRemembered bounds how many unanswered PINGs keep their send times, so
// that a peer that never answers cannot grow the machine. Older PINGs are
// still counted, so matching in order stays right; only their RTT is lost.
const maxRemembered = 64

type phase uint8

const (
	idle phase = iota
	probing
	dead
	off
)

// Machine is one connection's heartbeat. The zero value is not usable; make
// one with New. It is not safe for concurrent use.
type Machine struct {
	cfg      Config
	phase    phase
	lastLife time.Time // last sign of life (or the start)
	idleFrom time.Time // when the idle timer last restarted: lastLife, or the last send under LifeSent
	nextPing time.Time // when the next PING is due
	verdict  time.Time // with a Timeout, when the round ends in death
	deadline time.Time // next thing due: the earlier of nextPing and, when probing with a Timeout, verdict
	missed   int       // probes missed in this round
	// roundSeq is the first PING of this round (or of the next, while
	// idle): those before it belong to rounds life has ended.
	roundSeq uint64

	rng    rand.PCG      // Jitter's draws, seeded with Seed
	waited time.Duration // while probing, the wait the last PING was given (Interval less jitter)

	nextSeq  uint64 // sequence number of the next PING
	answered uint64 // PINGs answered so far, in order
	sent     [maxRemembered]sentPing
}

type sentPing struct {
	at       time.Time // actual send time, for the RTT; a PONG before it answers nothing
	due      time.Time // scheduled send time: deadline - Interval
	deadline time.Time // when its PONG becomes late
	dropped  bool      // never sent (see Dropped): no PONG answers it
}

// New starts a machine at now, which counts as a sign of life (the connection
// was just made). cfg must be valid (see Validate).
func New(cfg Config, now time.Time) *Machine {
	m := &Machine{cfg: cfg, nextSeq: 1}
	if !cfg.Enabled() {
		m.phase = off
		return m
	}
	m.rng.Seed(cfg.Seed, 0)
	m.nextPing = now.Add(cfg.Idle) // FixedRate's schedule starts here too
	m.alive(now)
	return m
}

// Config returns the machine's settings.
func (m *Machine) Config() Config { return m.cfg }

// LastLife returns the time of the last sign of life.
func (m *Machine) LastLife() time.Time { return m.lastLife }

// Deadline returns when Tick next has something to do. It is the zero time
// when nothing ever will: the heartbeat is off or the peer is dead.
func (m *Machine) Deadline() time.Time {
	if m.phase == off || m.phase == dead {
		return time.Time{}
	}
	return m.deadline
}

// Probing reports whether PINGs are out and the idle timer is stopped.
func (m *Machine) Probing() bool { return m.phase == probing }

// alive records a sign of life: back to the idle phase, counter at 0.
func (m *Machine) alive(now time.Time) {
	m.lastLife = now
	m.phase = idle
	m.missed = 0
	m.roundSeq = m.nextSeq
	if m.cfg.Life != LifeSent || m.idleFrom.IsZero() {
		m.idleFrom = now
	}
	m.schedule()
}

// schedule sets nextPing, when it follows the idle timer, and deadline.
func (m *Machine) schedule() {
	if m.phase == idle && !m.cfg.FixedRate {
		m.nextPing = m.idleFrom.Add(m.wait(m.cfg.Idle))
	}
	m.setDeadline()
}

// setDeadline sets deadline from nextPing and, when probing with a
// Timeout, the verdict.
func (m *Machine) setDeadline() {
	m.deadline = m.nextPing
	if m.phase == probing && m.cfg.Timeout > 0 && m.verdict.Before(m.deadline) {
		m.deadline = m.verdict
	}
}

// Tick does what is due at now: nothing before Deadline; at or after it,
// send a PING (after recording a missed probe when probing) or declare the
// peer dead. Deadlines are kept on the schedule, not on the time Tick is
// called, so a caller that runs late does not push the verdict later; such a
// caller calls Tick until it returns Wait.
func (m *Machine) Tick(now time.Time) Step {
	for (m.phase == idle || m.phase == probing) && !now.Before(m.deadline) {
		step := Step{}
		due := m.deadline
		if m.phase == probing {
			if m.cfg.Timeout > 0 {
				if !due.Before(m.verdict) {
					step = m.die(now, due, 1)
					step.Waited = m.cfg.Timeout
					return step
				}
			} else {
				m.missed++
				if m.missed >= m.cfg.Probes {
					step = m.die(now, due, m.missed)
					step.Waited = m.waited
					return step
				}
				step.Missed, step.Waited = m.missed, m.waited
			}
		}
		// due is nextPing: a PING is due.
		m.waited = m.wait(m.cfg.Interval)
		m.nextPing = due.Add(m.waited)
		if m.cfg.MaxOutstanding > 0 && m.waiting() >= uint64(m.cfg.MaxOutstanding) {
			// Not sent: as many as may be are out. The deadline moves on
			// by Interval, so the loop ends.
			m.setDeadline()
			continue
		}
		if m.phase == idle {
			m.phase = probing
			m.verdict = due.Add(m.cfg.Timeout)
		}
		if m.cfg.Life == LifeSent {
			m.idleFrom = due
		}
		m.schedule()
		step.Action = Ping
		step.Seq = m.nextSeq
		pongBy := due.Add(m.waited) // a counted probe's PONG is due by the next PING
		if m.cfg.Timeout > 0 {
			pongBy = due.Add(m.cfg.Timeout)
		}
		m.sent[m.nextSeq%maxRemembered] = sentPing{at: now, due: due, deadline: pongBy}
		m.nextSeq++
		return step
	}
	return Step{Action: Wait}
}

// die declares the peer dead at now, after the round's missed-th probe,
// the verdict having been due at due.
func (m *Machine) die(now, due time.Time, missed int) Step {
	m.phase = dead
	return Step{Action: Dead, Missed: missed, Silence: now.Sub(m.lastLife), Due: due.Sub(m.lastLife)}
}

// SentFrame records a frame other than a PING sent at now: under LifeSent
// it restarts the idle timer (a PING does so by itself); otherwise it
// changes nothing.
func (m *Machine) SentFrame(now time.Time) {
	if m.cfg.Life != LifeSent || m.phase != idle && m.phase != probing || now.Before(m.idleFrom) {
		return
	}
	m.idleFrom = now
	m.schedule()
}

// Sent records that PING seq actually left at at, for a caller that writes
// after Tick returns (Tick counts it as sent at the tick): its RTT is
// measured from at, and a PONG received before at answers nothing. A PING
// too old to be remembered is left alone.
func (m *Machine) Sent(seq uint64, at time.Time) {
	if p := m.remembered(seq); p != nil {
		p.at = at
	}
}

// Dropped records that PING seq was never sent (the peer stopped reading
// and the caller's queue was full). The peer cannot answer it, so PONGs,
// matched in order, skip it; the probe still counts as missed if nothing
// else answers.
func (m *Machine) Dropped(seq uint64) {
	if p := m.remembered(seq); p != nil {
		p.dropped = true
	}
}

// remembered returns the record of an unanswered PING still remembered, or
// nil.
func (m *Machine) remembered(seq uint64) *sentPing {
	if seq <= m.answered || seq >= m.nextSeq || m.nextSeq-seq > maxRemembered {
		return nil
	}
	return &m.sent[seq%maxRemembered]
}

// Pong records a PONG received at now, matched in order to the oldest
// unanswered PING that was sent, and says whether it was on time. A PONG
// received before that PING was sent answers nothing: it cannot be its
// answer, and matching it would give a negative RTT. A dead or disabled
// machine still matches and times PONGs, for the report.
func (m *Machine) Pong(now time.Time) Answer {
	var a Answer
	for p := m.remembered(m.answered + 1); p != nil && p.dropped; p = m.remembered(m.answered + 1) {
		m.answered++
	}
	switch p := m.remembered(m.answered + 1); {
	case m.answered+1 >= m.nextSeq || p != nil && now.Before(p.at):
		a.Late = true // answers no PING
	case p == nil:
		m.answered++
		a.Seq = m.answered
		a.Late = true // too old to be remembered: its deadline is long gone
	default:
		m.answered++
		a.Seq = m.answered
		a.RTT = now.Sub(p.at)
		a.SentLate = p.at.Sub(p.due)
		a.Late = !now.Before(p.deadline)
	}
	if !a.Late || m.cfg.AcceptLate {
		a.Alive = m.life(now)
	}
	return a
}

// Frame records a frame other than a PONG received at now. It is a sign of
// life in either phase, except under LifePong. It reports whether the
// machine took it as one (false once the peer is dead or when the
// heartbeat is off).
func (m *Machine) Frame(now time.Time) bool {
	if m.cfg.Life == LifePong {
		return false
	}
	return m.life(now)
}

func (m *Machine) life(now time.Time) bool {
	if m.phase != idle && m.phase != probing {
		return false
	}
	// A caller may learn of a frame after it has fed the machine a later
	// time; the last sign of life never moves backwards.
	if now.Before(m.lastLife) {
		now = m.lastLife
	}
	m.alive(now)
	return true
}

// NextSeq is the sequence number the next PING will have.
func (m *Machine) NextSeq() uint64 { return m.nextSeq }

// waiting is how many PINGs of this round wait for their PONG: those of
// earlier rounds do not count, since life ended their round (gRPC pings
// again after Time once anything was read, answered or not).
func (m *Machine) waiting() uint64 {
	return m.nextSeq - max(m.answered+1, m.roundSeq)
}

// Outstanding is how many PINGs have been sent and not yet answered.
func (m *Machine) Outstanding() uint64 { return m.nextSeq - 1 - m.answered }
