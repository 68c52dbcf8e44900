// Package gate decides whether a timeline's lines about single
// connections can be read as they scroll by, or should give way to one
// status line a second.
//
// It is a pure state machine, as package probe is: no clock, no I/O, no
// goroutines. The caller asks Pass for every line, which costs a counter
// increment (two while lines show) and no allocation, and calls Tick about
// once a Window from a timer of its own, with the time; Tick says when a
// status line is due and what it counts.
//
// Example:
//
//	g := gate.New(start)
//	switch g.Pass(kindPing) { // for each line
//	case gate.Show: // write the line
//	case gate.Switch: // say that lines give way to status lines
//	case gate.Hide: // nothing: the next status line counts it
//	}
//	if st, ok := g.Tick(now); ok { ... } // once a second
package gate

import "time"

// Rate is how many lines a second show before they give way to status
// lines: about what a person can read while they scroll by. Past it a
// terminal shows a blur, and writing it costs more than the frames the
// lines are about (10,000 clients sending a PING a second made 20,000 lines
// a second).
const Rate = 20

// Window is how often the lines are counted, and how often a status line
// comes while they are condensed.
const Window = time.Second

// Kinds bounds the kinds of line a Gate counts apart: a Kind is below it.
const Kinds = 8

// Kind is a kind of line, counted apart for the status line; its meaning
// is the caller's.
type Kind uint8

// Verdict is what Pass says of a line.
type Verdict uint8

const (
	// Show: the line shows.
	Show Verdict = iota
	// Switch: this line is one too many for the window; it does not show,
	// and from now on lines give way to one status line a Window. The
	// caller says so, once.
	Switch
	// Hide: lines are condensed; the next status line counts this one.
	Hide
)

// Gate counts lines in windows of about a Window, from one Tick to the
// next. In a window, the first Rate lines show; the line after them
// switches to status lines. From then on every line is only counted, and
// each Tick gives a status line, until one whose window had at most Rate
// lines a second: that status line ends the condensing (Status.Resume),
// and lines show again. The zero value is not usable; call New.
type Gate struct {
	shown      int // lines shown in this window, while not condensing
	condensing bool
	counts     [Kinds]int // lines of each kind in this window
	from       time.Time  // when this window began
}

// New returns a Gate whose first window begins at now.
func New(now time.Time) *Gate { return &Gate{from: now} }

// Pass says whether a line of kind k shows. It is called for every line,
// so it does no more than count: while lines are condensed, one increment.
func (g *Gate) Pass(k Kind) Verdict {
	g.counts[k]++
	if g.condensing {
		return Hide
	}
	g.shown++
	if g.shown <= Rate {
		return Show
	}
	g.condensing = true
	return Switch
}

// Condensing reports whether lines give way to status lines now.
func (g *Gate) Condensing() bool { return g.condensing }

// Status is what a status line says: the lines of each kind in a window,
// and how long it was.
type Status struct {
	Counts [Kinds]int
	Over   time.Duration // the window's length
	// Resume says this window had at most Rate lines a second: lines show
	// again from now on, and the caller says so after the status line.
	Resume bool
}

// Lines is how many lines the window counted, of every kind.
func (st *Status) Lines() int {
	n := 0
	for _, c := range st.Counts {
		n += c
	}
	return n
}

// PerSecond is n a second over the window (0 for a window of no length).
func (st *Status) PerSecond(n int) float64 {
	if st.Over <= 0 {
		return 0
	}
	return float64(n) / st.Over.Seconds()
}

// Tick ends the window at now and begins the next. While lines are
// condensed it returns the window's Status and true: the window in which
// they switched counts every line of it, those shown before the switch
// too. Otherwise it returns false: no status line is due.
func (g *Gate) Tick(now time.Time) (Status, bool) {
	st := Status{Counts: g.counts, Over: now.Sub(g.from)}
	g.from, g.counts, g.shown = now, [Kinds]int{}, 0
	if !g.condensing {
		return Status{}, false
	}
	// At most Rate a second over the window, in integers: lines x Window
	// <= Rate x length.
	if int64(st.Lines())*int64(Window) <= Rate*int64(st.Over) {
		st.Resume = true
		g.condensing = false
	}
	return st, true
}
