package probe

import (
	"testing"
	"time"
)

// One heartbeat round: idle passes, PING, its PONG in time.
func BenchmarkRound(b *testing.B) {
	now := time.Unix(0, 0)
	m := New(DefaultConfig(), now)
	b.ReportAllocs()
	for b.Loop() {
		now = m.Deadline()
		if st := m.Tick(now); st.Action != Ping {
			b.Fatalf("%+v", st)
		}
		now = now.Add(time.Millisecond)
		if a := m.Pong(now); !a.Alive {
			b.Fatalf("%+v", a)
		}
	}
}
