package event

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/heartbeat/heartbeat/internal/plural"
)

// Names of hbserver's condensed timeline (package gate): the switch to
// status lines and back. The status lines themselves are "status" events.
const (
	StatusOn  = "status_on"  // hbserver: too many lines a second; a status line a second from now
	StatusOff = "status_off" // hbserver: few enough again; every line from now
)

// LinesCondensed is hbserver's "status_on": per-connection lines came
// faster than Limit a second, so one status line a second takes their
// place.
type LinesCondensed struct {
	Limit int // the lines a second that show (gate.Rate)
}

func (LinesCondensed) Name() string { return StatusOn }

func (e LinesCondensed) AppendText(b []byte) []byte {
	b = append(b, "more than "...)
	b = strconv.AppendInt(b, int64(e.Limit), 10)
	return append(b, " events a second: one status line a second from now; --events all shows every line"...)
}

func (e LinesCondensed) Fields(f *Fields) { f.Int("limit", int64(e.Limit)) }

// LinesResumed is hbserver's "status_off": a whole second had at most
// Limit per-connection lines, which show again from now.
type LinesResumed struct {
	Limit int // the lines a second that show (gate.Rate)
}

func (LinesResumed) Name() string { return StatusOff }

func (e LinesResumed) AppendText(b []byte) []byte {
	b = append(b, "at most "...)
	b = strconv.AppendInt(b, int64(e.Limit), 10)
	return append(b, " events a second again: every line from now"...)
}

func (e LinesResumed) Fields(f *Fields) { f.Int("limit", int64(e.Limit)) }

// ServerStatus is hbserver's "status": while its per-connection lines are
// condensed, what they would have said, once a second.
type ServerStatus struct {
	Open      int64         // connections open now
	Over      time.Duration // the time the counts cover, since the last status line
	Connected int           // connections accepted over it
	// PingsPerS and PongsPerS are PINGs received and PONGs sent a second,
	// LinesPerS the per-connection lines a second, all over Over.
	PingsPerS, PongsPerS, LinesPerS float64
	LatePongs                       int            // the clients' late PONGs to the server's heartbeat
	Closed                          map[string]int // connections closed over Over, by reason; nil when none
}

func (ServerStatus) Name() string { return Status }

// AppendText says what the condensed lines would have: connections open,
// PINGs and PONGs a second, and the counts that are not zero since the
// last status line (connections accepted, late PONGs, closes by reason).
// The window and the lines condensed are in the JSON.
func (e ServerStatus) AppendText(b []byte) []byte {
	b = append(b, "status: "...)
	b = strconv.AppendInt(b, e.Open, 10)
	b = append(b, " open, "...)
	b = appendPersonRate(b, e.PingsPerS)
	b = append(b, " PINGs/s, "...)
	b = appendPersonRate(b, e.PongsPerS)
	b = append(b, " PONGs/s"...)
	if e.Connected > 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(e.Connected), 10)
		b = append(b, " connected"...)
	}
	if e.LatePongs > 0 {
		b = append(b, ", "...)
		b = append(b, plural.Count(e.LatePongs, "late PONG")...)
	}
	n := 0
	for _, c := range e.Closed {
		n += c
	}
	if n == 0 {
		return b
	}
	b = append(b, ", "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, " closed"...)
	// Each count before its reason, in the order of the reasons' texts,
	// as the JSON object's keys are.
	for i, r := range slices.Sorted(maps.Keys(e.Closed)) {
		if i == 0 {
			b = append(b, " ("...)
		} else {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(e.Closed[r]), 10)
		b = append(b, ' ')
		b = append(b, r...)
	}
	return append(b, ')')
}

func (e ServerStatus) Fields(f *Fields) {
	f.Int("conns", e.Open)
	f.Int("connected", int64(e.Connected))
	f.Any("pings_per_s", tenth(e.PingsPerS))
	f.Any("pongs_per_s", tenth(e.PongsPerS))
	f.Int("late_pongs", int64(e.LatePongs))
	closed := e.Closed
	if closed == nil {
		closed = map[string]int{}
	}
	f.Any("closed_by", closed)
	f.Any("lines_per_s", tenth(e.LinesPerS))
	f.Secs("window_s", e.Over)
}

// tenth rounds a rate to a tenth, which is all a rate over a second says.
func tenth(x float64) float64 { return math.Round(x*10) / 10 }

// appendPersonRate appends a rate for a person: whole, but for one under 10,
// to a tenth ("799.9/s" over a window of 1.0001s is 800).
func appendPersonRate(b []byte, x float64) []byte {
	if x >= 10 {
		return strconv.AppendFloat(b, math.Round(x), 'f', 0, 64)
	}
	return strconv.AppendFloat(b, tenth(x), 'f', -1, 64)
}
