package gate

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	ping Kind = iota
	closed
)

// pass asks n lines of kind k and returns the verdicts, counted.
func pass(g *Gate, k Kind, n int) (shown, switched, hidden int) {
	for range n {
		switch g.Pass(k) {
		case Show:
			shown++
		case Switch:
			switched++
		case Hide:
			hidden++
		}
	}
	return
}

// Rate lines in a window show; the next one switches, once; the rest are
// hidden; a window whose lines all show gives no status line.
func TestRateLinesShowThenOneSwitch(t *testing.T) {
	g := New(t0)
	if s, sw, h := pass(g, ping, Rate); s != Rate || sw != 0 || h != 0 {
		t.Fatalf("first %d lines: %d shown, %d switched, %d hidden", Rate, s, sw, h)
	}
	if _, ok := g.Tick(t0.Add(Window)); ok {
		t.Fatal("a status line after a window of Rate lines")
	}
	// A new window: Rate more show again, then one switches.
	if s, sw, h := pass(g, ping, Rate+5); s != Rate || sw != 1 || h != 4 {
		t.Fatalf("second window, %d lines: %d shown, %d switched, %d hidden", Rate+5, s, sw, h)
	}
	if !g.Condensing() {
		t.Fatal("not condensing after the switch")
	}
}

// Condensed, each Tick gives the window's counts by kind and its length,
// the lines shown before the switch included; a window of more than Rate a
// second keeps condensing, one of at most Rate a second resumes.
func TestStatusLinesUntilTheRateFalls(t *testing.T) {
	g := New(t0)
	pass(g, ping, 30)
	pass(g, closed, 2)
	st, ok := g.Tick(t0.Add(Window))
	if !ok || st.Counts[ping] != 30 || st.Counts[closed] != 2 || st.Over != Window || st.Resume || st.Lines() != 32 {
		t.Fatalf("first status: %+v, %v", st, ok)
	}
	if got := st.PerSecond(st.Counts[ping]); got != 30 {
		t.Fatalf("PINGs a second: %v, want 30", got)
	}
	// Rate+1 lines in a whole window: still too many.
	pass(g, ping, Rate+1)
	if st, ok := g.Tick(t0.Add(2 * Window)); !ok || st.Resume || st.Lines() != Rate+1 {
		t.Fatalf("window of Rate+1: %+v, %v", st, ok)
	}
	// Exactly Rate: the status line, then the lines resume.
	if s, sw, h := pass(g, ping, Rate); s != 0 || sw != 0 || h != Rate {
		t.Fatalf("condensed: %d shown, %d switched, %d hidden", s, sw, h)
	}
	if st, ok := g.Tick(t0.Add(3 * Window)); !ok || !st.Resume || st.Lines() != Rate {
		t.Fatalf("window of Rate: %+v, %v", st, ok)
	}
	if g.Condensing() || g.Pass(ping) != Show {
		t.Fatal("lines do not show after the resume")
	}
	if _, ok := g.Tick(t0.Add(4 * Window)); ok {
		t.Fatal("a status line after the resume")
	}
}

// The rate is over the window's real length: a late Tick (1.5 s) with 30
// lines is 20 a second, which resumes; an early one (0.5 s) with 11 lines
// is 22 a second, which does not.
func TestRateOverTheWindowsLength(t *testing.T) {
	g := New(t0)
	pass(g, ping, Rate+1)
	g.Tick(t0.Add(Window))
	pass(g, ping, 11)
	at := t0.Add(Window + Window/2)
	if st, ok := g.Tick(at); !ok || st.Resume || st.Over != Window/2 {
		t.Fatalf("11 lines in 0.5s: %+v, %v", st, ok)
	}
	pass(g, ping, 30)
	if st, ok := g.Tick(at.Add(Window + Window/2)); !ok || !st.Resume {
		t.Fatalf("30 lines in 1.5s: %+v, %v", st, ok)
	}
	// A window of no length counts no rate.
	if (&Status{Counts: [Kinds]int{5}}).PerSecond(5) != 0 {
		t.Fatal("a rate over no time")
	}
}

// Pass allocates nothing: it is called for every frame.
func TestPassAllocatesNothing(t *testing.T) {
	g := New(t0)
	if n := testing.AllocsPerRun(1000, func() { g.Pass(ping) }); n != 0 {
		t.Fatalf("%v allocations per Pass", n)
	}
}
