package server

// This file is what both backends share of the gate on the lines about
// single connections (package gate): which lines it counts, the switch
// to status lines and back, and the status line itself. The backends
// each call statusTick from a timer of their own, never from a frame.

import (
	"maps"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/gate"
)

// The kinds of per-connection line the status line counts apart. Every
// line about one connection goes through the gate: a PING, a PONG, a data
// frame, a Notice, a probe missed, a verdict, and the connection's
// connected and closed lines too, since many short connections flood the
// timeline as surely as many PINGs do. What the server says of itself
// (listening, stats, dropped, stopped) always shows.
const (
	lineConnected gate.Kind = iota // connected
	linePing                       // a PING received
	linePong                       // a PONG sent
	lineLate                       // a client's late PONG to the server's heartbeat
	lineClosed                     // closed
	lineOther                      // any other line about a connection
)

// lines is the gate's state in a server; the zero value lets every line
// show.
type lines struct {
	g  *gate.Gate // nil: every line shows (--events all, --quiet)
	at time.Time  // when the next window ends; zero when g is nil
	// closedBefore is the server's closes by reason when the window began,
	// so that a status line says those of its window.
	closedBefore map[ending.Reason]int
}

// startLines turns the gate on at now, unless the configuration keeps
// every line (EventsAll) or leaves out the per-frame ones (Quiet, which
// stays as it was before the gate: connections and closes all show).
func (s *srv) startLines(now time.Time) {
	if s.cfg.EventsAll || s.cfg.Quiet {
		return
	}
	s.lines = lines{g: gate.New(now), at: now.Add(gate.Window), closedBefore: map[ending.Reason]int{}}
}

// shows says whether a line of kind k about one connection is written:
// it costs a counter increment, so that a line left out costs next to
// nothing. The line the gate switches at is replaced by the one that says
// so.
func (s *srv) shows(k gate.Kind) bool {
	if s.lines.g == nil {
		return true
	}
	switch s.lines.g.Pass(k) {
	case gate.Show:
		return true
	case gate.Switch:
		event.Emit(s.ev, s.since(), event.LinesCondensed{Limit: gate.Rate})
	}
	return false
}

// lineKind is the kind of line a happening makes.
func (h *happening) lineKind() gate.Kind {
	switch {
	case h.what == pingReceived:
		return linePing
	case h.what == pongSent:
		return linePong
	case h.what == clientPong && h.late:
		return lineLate
	}
	return lineOther
}

// statusTick ends the gate's window at now: while lines are condensed it
// emits the status line, and, when the window was calm, the line that
// says they show again.
func (s *srv) statusTick(now time.Time) {
	st, ok := s.lines.g.Tick(now)
	before := s.lines.closedBefore
	s.lines.closedBefore = maps.Clone(s.counts)
	s.lines.at = now.Add(gate.Window)
	if !ok {
		return
	}
	var closed map[string]int
	for r, n := range s.counts {
		if d := n - before[r]; d > 0 {
			if closed == nil {
				closed = map[string]int{}
			}
			closed[r.String()] = d
		}
	}
	t := s.since()
	event.Emit(s.ev, t, event.ServerStatus{
		Open:      s.open.Load(),
		Over:      st.Over,
		Connected: st.Counts[lineConnected],
		PingsPerS: st.PerSecond(st.Counts[linePing]),
		PongsPerS: st.PerSecond(st.Counts[linePong]),
		LinesPerS: st.PerSecond(st.Lines()),
		LatePongs: st.Counts[lineLate],
		Closed:    closed,
	})
	if st.Resume {
		event.Emit(s.ev, t, event.LinesResumed{Limit: gate.Rate})
	}
}

// statusDue is the earlier of at and the end of the gate's window, for
// the event loop's timer; zero when neither is set.
func (l *lines) statusDue(at time.Time) time.Time {
	if at.IsZero() || (!l.at.IsZero() && l.at.Before(at)) {
		return l.at
	}
	return at
}
