package probe

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

const (
	s  = time.Second
	ms = time.Millisecond
	ns = time.Nanosecond
)

// run ticks the machine at now until it waits, and returns the steps.
func run(m *Machine, now time.Time) []Step {
	var steps []Step
	for {
		st := m.Tick(now)
		if st.Action == Wait {
			return steps
		}
		steps = append(steps, st)
	}
}

func TestDefaultsDieAt19s(t *testing.T) {
	cfg := DefaultConfig()
	if got := cfg.DeadAfter(); got != 19*s {
		t.Fatalf("DeadAfter = %v, want 19s", got)
	}
	m := New(cfg, t0)
	type want struct {
		now    time.Duration
		action Action
		seq    uint64
		missed int
	}
	for _, w := range []want{
		{10*s - ns, Wait, 0, 0},
		{10 * s, Ping, 1, 0},
		{13*s - ns, Wait, 0, 0},
		{13 * s, Ping, 2, 1},
		{16*s - ns, Wait, 0, 0},
		{16 * s, Ping, 3, 2},
		{19*s - ns, Wait, 0, 0},
		{19 * s, Dead, 0, 3},
		{25 * s, Wait, 0, 0},
	} {
		st := m.Tick(at(w.now))
		if st.Action != w.action || st.Seq != w.seq || st.Missed != w.missed {
			t.Fatalf("at %v: %+v, want %v seq %d missed %d", w.now, st, w.action, w.seq, w.missed)
		}
		if st.Action == Dead && st.Silence != 19*s {
			t.Fatalf("silence %v at death, want 19s", st.Silence)
		}
	}
	if !m.Deadline().IsZero() {
		t.Fatalf("a dead machine has deadline %v", m.Deadline())
	}
}

func TestDeadlineReportsNextDue(t *testing.T) {
	m := New(Config{Idle: 300 * ms, Interval: 200 * ms, Probes: 2}, t0)
	if got := m.Deadline(); !got.Equal(at(300 * ms)) {
		t.Fatalf("first deadline %v", got.Sub(t0))
	}
	m.Tick(at(300 * ms))
	if got := m.Deadline(); !got.Equal(at(500 * ms)) {
		t.Fatalf("deadline while probing %v", got.Sub(t0))
	}
	m.Frame(at(420 * ms))
	if got := m.Deadline(); !got.Equal(at(720 * ms)) {
		t.Fatalf("deadline after data %v", got.Sub(t0))
	}
}

// The slow seed server, SLEEP 5 against the defaults: PONG #1 arrives at 15s,
// after its deadline at 13s. Strict: reported late, no rescue, dead at 19s.
// AcceptLate: it is a sign of life, as in the seed C client.
func TestSlowServerStrictVersusAcceptLate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		acceptLate bool
		deadAt     time.Duration // 0: alive at 40s
	}{
		{"strict", false, 19 * s},
		{"accept-late", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.AcceptLate = tc.acceptLate
			m := New(cfg, t0)
			// The server answers PING k 5s after it is free and the PING is
			// there: serially, as the C server does.
			var sends []time.Time
			free := t0
			var pongs []time.Time
			deadAt := time.Duration(0)
			for now := time.Duration(0); now <= 40*s && deadAt == 0; now += ms {
				for len(pongs) > 0 && !pongs[0].After(at(now)) {
					a := m.Pong(pongs[0])
					pongs = pongs[1:]
					if a.Late == (a.RTT < 3*s) || a.RTT < 5*s {
						t.Fatalf("PONG #%d rtt %v late %v", a.Seq, a.RTT, a.Late)
					}
					if a.Alive != tc.acceptLate {
						t.Fatalf("late PONG #%d alive = %v", a.Seq, a.Alive)
					}
				}
				for _, st := range run(m, at(now)) {
					switch st.Action {
					case Ping:
						sends = append(sends, at(now))
						start := at(now)
						if free.After(start) {
							start = free
						}
						free = start.Add(5 * s)
						pongs = append(pongs, free)
					case Dead:
						deadAt = now
					}
				}
			}
			if deadAt != tc.deadAt {
				t.Fatalf("dead at %v, want %v (PINGs at %v)", deadAt, tc.deadAt, sends)
			}
		})
	}
}

func TestOnTimePongBoundary(t *testing.T) {
	for _, tc := range []struct {
		pongAt time.Duration
		late   bool
	}{
		{13*s - ns, false}, // PING #1 at 10s, deadline 13s
		{13 * s, true},
	} {
		m := New(DefaultConfig(), t0)
		if st := m.Tick(at(10 * s)); st.Action != Ping {
			t.Fatalf("no PING at 10s: %+v", st)
		}
		a := m.Pong(at(tc.pongAt))
		if a.Seq != 1 || a.Late != tc.late || a.Alive == tc.late || a.RTT != tc.pongAt-10*s {
			t.Fatalf("PONG at %v: %+v", tc.pongAt, a)
		}
		if tc.late {
			if !m.Probing() {
				t.Fatal("a late PONG ended probing under the strict rule")
			}
			continue
		}
		if m.Probing() || !m.Deadline().Equal(at(tc.pongAt+10*s)) {
			t.Fatalf("on-time PONG: probing %v, deadline %v", m.Probing(), m.Deadline().Sub(t0))
		}
	}
}

// A PONG for PING #3 on time rescues the connection even after two misses;
// the count starts again from 0.
func TestRescueResetsCounter(t *testing.T) {
	m := New(DefaultConfig(), t0)
	run(m, at(16*s)) // PINGs 1, 2, 3; two missed
	if m.Outstanding() != 3 {
		t.Fatalf("outstanding %d, want 3", m.Outstanding())
	}
	// The peer answers all three at 17s: #1 and #2 late, #3 on time.
	for seq, late := range []bool{true, true, false} {
		a := m.Pong(at(17 * s))
		if a.Seq != uint64(seq+1) || a.Late != late {
			t.Fatalf("PONG %d: %+v", seq+1, a)
		}
	}
	steps := run(m, at(27*s))
	if len(steps) != 1 || steps[0].Seq != 4 || steps[0].Missed != 0 {
		t.Fatalf("after rescue at 17s, at 27s: %+v", steps)
	}
	if got := run(m, at(36*s)); len(got) != 3 || got[2].Action != Dead || got[2].Silence != 19*s {
		t.Fatalf("second round: %+v", got)
	}
}

func TestDataDuringProbingIsLife(t *testing.T) {
	for _, acceptLate := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.AcceptLate = acceptLate
		m := New(cfg, t0)
		run(m, at(14*s)) // PING #1 at 10s missed at 13s, PING #2 out
		if !m.Frame(at(14 * s)) {
			t.Fatal("data during probing was not taken as life")
		}
		if m.Probing() || !m.LastLife().Equal(at(14*s)) {
			t.Fatal("data did not return the machine to idle")
		}
		if st := m.Tick(at(24*s - ns)); st.Action != Wait {
			t.Fatalf("before the new idle deadline: %+v", st)
		}
		// PINGs 1 and 2 are still owed: the next PONG answers #1, late.
		if a := m.Pong(at(20 * s)); a.Seq != 1 || !a.Late || a.Alive != acceptLate {
			t.Fatalf("accept-late %v, old PONG after rescue: %+v", acceptLate, a)
		}
		st := m.Tick(at(24 * s))
		switch {
		case !acceptLate && (st.Action != Ping || st.Seq != 3):
			t.Fatalf("strict, idle ended at 24s: %+v, want PING #3", st)
		case acceptLate && st.Action != Wait:
			t.Fatalf("accept-late, the late PONG at 20s was life, yet at 24s: %+v", st)
		}
	}
}

func TestUnsolicitedPong(t *testing.T) {
	m := New(DefaultConfig(), t0)
	a := m.Pong(at(s))
	if a.Seq != 0 || !a.Late || a.Alive {
		t.Fatalf("unsolicited PONG under strict: %+v", a)
	}
	if !m.Deadline().Equal(at(10 * s)) {
		t.Fatal("an unsolicited PONG moved the idle deadline")
	}
	cfg := DefaultConfig()
	cfg.AcceptLate = true
	m = New(cfg, t0)
	if a := m.Pong(at(s)); !a.Alive || !m.Deadline().Equal(at(11*s)) {
		t.Fatalf("unsolicited PONG under accept-late: %+v, deadline %v", a, m.Deadline().Sub(t0))
	}
}

func TestProbesZeroIsOff(t *testing.T) {
	m := New(Config{Probes: 0}, t0)
	if !m.Deadline().IsZero() {
		t.Fatal("heartbeat off but a deadline is set")
	}
	if st := m.Tick(at(1000 * time.Hour)); st.Action != Wait {
		t.Fatalf("heartbeat off ticked %+v", st)
	}
	if m.Frame(at(s)) {
		t.Fatal("heartbeat off took a frame as life")
	}
	if a := m.Pong(at(s)); a.Seq != 0 {
		t.Fatalf("heartbeat off matched a PONG: %+v", a)
	}
	if (Config{}).DeadAfter() != 0 {
		t.Fatal("DeadAfter of an off heartbeat is not 0")
	}
}

func TestLateCallerKeepsSchedule(t *testing.T) {
	m := New(Config{Idle: 300 * ms, Interval: 200 * ms, Probes: 3}, t0)
	steps := run(m, at(2*s)) // the caller slept through everything
	if len(steps) != 4 || steps[3].Action != Dead {
		t.Fatalf("steps %+v", steps)
	}
	// The verdict keeps the schedule: silence is measured to the call, but
	// the machine was due at 900ms.
	if steps[3].Silence != 2*s {
		t.Fatalf("silence %v", steps[3].Silence)
	}
}

func TestManyUnansweredPingsStayBounded(t *testing.T) {
	cfg := Config{Idle: s, Interval: s, Probes: 3}
	m := New(cfg, t0)
	now := time.Duration(0)
	// Data every 2.5s keeps the peer alive while no PONG ever comes.
	for i := 0; i < 1000; i++ {
		now += 2500 * ms
		run(m, at(now))
		m.Frame(at(now))
	}
	if m.Outstanding() < maxRemembered {
		t.Fatalf("only %d PINGs outstanding", m.Outstanding())
	}
	// The oldest is matched, with no RTT (forgotten), and late.
	if a := m.Pong(at(now)); a.Seq != 1 || a.RTT != 0 || !a.Late {
		t.Fatalf("oldest PONG: %+v", a)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want error
	}{
		{DefaultConfig(), nil},
		{Config{Probes: 0}, nil},
		{Config{Probes: -1}, ErrProbes},
		{Config{Probes: 1, Interval: s}, ErrIdle},
		{Config{Probes: 1, Idle: s, Interval: -s}, ErrInterval},
	} {
		if err := tc.cfg.Validate(); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%+v: %v, want %v", tc.cfg, err, tc.want)
		}
	}
}

// A PONG received before its PING was sent answers nothing: a nanosecond
// before the send time it is unsolicited and leaves the PING unanswered; at
// the send time it answers it, with an RTT of zero, never negative.
func TestPongBeforeItsPing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sentAt time.Duration // when the PING left; Tick is at 10s
		pongAt time.Duration
		seq    uint64
	}{
		{"at tick, 1ns before", 10 * s, 10*s - ns, 0},
		{"at tick, at send", 10 * s, 10 * s, 1},
		{"sent late, 1ns before", 11 * s, 11*s - ns, 0},
		{"sent late, at send", 11 * s, 11 * s, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(DefaultConfig(), t0)
			if st := m.Tick(at(10 * s)); st.Action != Ping {
				t.Fatalf("no PING at 10s: %+v", st)
			}
			if tc.sentAt != 10*s {
				m.Sent(1, at(tc.sentAt))
			}
			a := m.Pong(at(tc.pongAt))
			if a.Seq != tc.seq || a.RTT < 0 {
				t.Fatalf("PONG at %v: %+v, want seq %d", tc.pongAt, a, tc.seq)
			}
			if tc.seq == 0 {
				if a.Alive || !m.Probing() || !m.LastLife().Equal(t0) || m.Outstanding() != 1 {
					t.Fatalf("an unsolicited PONG counted: %+v, probing %v, outstanding %d", a, m.Probing(), m.Outstanding())
				}
				// The PING is still owed: the next PONG after the send answers it.
				if b := m.Pong(at(tc.sentAt + ms)); b.Seq != 1 || b.RTT != ms || !b.Alive {
					t.Fatalf("PONG after the send: %+v", b)
				}
				return
			}
			if !a.Alive || a.RTT != 0 || m.Probing() {
				t.Fatalf("PONG at the send time: %+v, probing %v", a, m.Probing())
			}
		})
	}
}

// A stream of PONGs that all come before PING #1 leaves keeps no strict
// machine alive: each answers nothing, and the verdict comes 19s after the
// start, the last sign of life.
func TestUnsolicitedPongStreamDiesOnTime(t *testing.T) {
	m := New(DefaultConfig(), t0)
	var dead time.Duration
	for now := time.Duration(0); now <= 30*s && dead == 0; now += ms {
		for _, st := range run(m, at(now)) {
			switch st.Action {
			case Ping:
				m.Sent(st.Seq, at(40*s)) // queued behind a peer that never reads
			case Dead:
				dead = now
			}
		}
		if a := m.Pong(at(now)); a.Seq != 0 || a.Alive {
			t.Fatalf("PONG at %v: %+v", now, a)
		}
	}
	if dead != 19*s {
		t.Fatalf("dead at %v, want 19s", dead)
	}
}

// A PING that never left is skipped by in-order matching: the peer never
// saw it, so the next PONG answers the PING after it.
func TestDroppedPingIsSkipped(t *testing.T) {
	m := New(DefaultConfig(), t0)
	run(m, at(13*s)) // PING #1 at 10s, missed at 13s, PING #2 out
	m.Dropped(1)
	a := m.Pong(at(14 * s))
	if a.Seq != 2 || a.RTT != s || a.Late || !a.Alive {
		t.Fatalf("PONG after a dropped PING: %+v", a)
	}
	if m.Outstanding() != 0 {
		t.Fatalf("outstanding %d, want 0", m.Outstanding())
	}
}

// A frame the caller learns of late never moves the last sign of life
// backwards.
func TestLastLifeNeverBackwards(t *testing.T) {
	m := New(DefaultConfig(), t0)
	m.Frame(at(5 * s))
	m.Frame(at(4 * s))
	if !m.LastLife().Equal(at(5*s)) || !m.Deadline().Equal(at(15*s)) {
		t.Fatalf("last life %v, deadline %v", m.LastLife().Sub(t0), m.Deadline().Sub(t0))
	}
}

// A PING that leaves after it was due has less than Interval for its PONG:
// the Answer says how late it left, so a late PONG with an RTT under
// Interval can be explained (the client printed "RTT 228µs, over the 1ms
// interval").
func TestAnswerSaysHowLateThePingLeft(t *testing.T) {
	m := New(Config{Idle: 10 * ms, Interval: ms, Probes: 3}, t0)
	if st := m.Tick(at(10*ms + 200*ns)); st.Action != Ping { // due at 10ms, ticked late
		t.Fatalf("step %+v", st)
	}
	m.Sent(1, at(10*ms+800*time.Microsecond)) // the write left later still
	a := m.Pong(at(11 * ms))                  // deadline 11ms: late, RTT 200µs
	if !a.Late || a.RTT != 200*time.Microsecond || a.SentLate != 800*time.Microsecond {
		t.Fatalf("answer %+v, want late, RTT 200µs, sent 800µs late", a)
	}
	m = New(Config{Idle: 10 * ms, Interval: ms, Probes: 3}, t0)
	m.Tick(at(10 * ms))
	if a := m.Pong(at(10*ms + 999*time.Microsecond)); a.Late || a.SentLate != 0 {
		t.Fatalf("on time, sent on time: %+v", a)
	}
}
