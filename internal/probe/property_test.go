package probe

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Whatever the rules and whatever came before, a peer that falls silent is
// declared dead, no later than the next PING (Idle after the last life, or
// after the last frame sent under LifeSent, or the next Interval of a fixed
// rate) plus the round's wait, and Tick always returns.
func TestSilentPeerAlwaysDies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		cfg := Config{
			Idle:       time.Duration(1+r.IntN(5)) * s,
			Interval:   time.Duration(1+r.IntN(5)) * s,
			Probes:     1 + r.IntN(3),
			AcceptLate: r.IntN(2) == 0,
			Life:       Life(r.IntN(int(lifeRules))),
			FixedRate:  r.IntN(2) == 0,
		}
		if r.IntN(2) == 0 {
			cfg.Probes = 1
			cfg.Timeout = time.Duration(1+r.IntN(5)) * s
			cfg.MaxOutstanding = r.IntN(3)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		m := New(cfg, t0)
		now := t0
		// A while of traffic: frames received and sent, PONGs, ticks.
		for j := 0; j < 20 && m.Deadline() != (time.Time{}); j++ {
			now = now.Add(time.Duration(r.IntN(3000)) * ms)
			switch r.IntN(4) {
			case 0:
				m.Frame(now)
			case 1:
				m.Pong(now)
			case 2:
				m.SentFrame(now)
			}
			for k := 0; m.Tick(now).Action != Wait; k++ {
				if k > 1000 {
					t.Fatalf("%+v: Tick does not return at %v", cfg, now.Sub(t0))
				}
			}
		}
		if m.Deadline().IsZero() {
			continue // died in the traffic
		}
		// Then silence. Under LifeSent a frame sent after the last life
		// restarts the idle timer, as MQTT's (a link still writing hides
		// a dead peer longer).
		from := m.LastLife()
		if cfg.Life == LifeSent && m.idleFrom.After(from) {
			from = m.idleFrom
		}
		bound := from.Add(max(cfg.Idle, cfg.Interval) + cfg.wait())
		for k := 0; ; k++ {
			d := m.Deadline()
			if k > 1000 || d.IsZero() {
				t.Fatalf("%+v: no verdict against silence", cfg)
			}
			st := m.Tick(d)
			if st.Action == Dead {
				if d.After(bound) {
					t.Fatalf("%+v: dead at %v, after the bound %v", cfg, d.Sub(t0), bound.Sub(t0))
				}
				if st.Silence != d.Sub(m.LastLife()) {
					t.Fatalf("%+v: silence %v, want %v", cfg, st.Silence, d.Sub(m.LastLife()))
				}
				break
			}
		}
	}
}
