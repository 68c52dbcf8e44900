// Package diagram draws a heartbeat run as an SVG sequence diagram: the
// events hbclient or hbserver print with --json, fed one JSON line at a
// time, become a picture for a slide, a handout or a live page. It has no
// clock and does no I/O but the io.Writer it draws to.
//
// hbclient's run is one sequence diagram: client and server lifelines, time
// running down; each PING and PONG an arrow with its number (and the PONG's
// round-trip time); a late PONG dashed and called late; a missed probe a
// PING arrow that ends in a cross, with "missed 1/3" where its interval ran
// out; the server's hold (its SLEEP) as a bar on its lifeline between a
// PING and its PONG; the kernel's keep-alive probes and retransmissions on
// a lane of their own; DEAD as a bar that says DEAD, its cause and the
// observed against the predicted time; closes, notes and errors as notes.
// hbserver's run is one such diagram per connection, side by side on one
// time axis, at most Options.MaxConns of them; the picture says how many
// were left out.
//
// The scale fits the run: a probe interval (hbclient) or the server's SLEEP
// (hbserver) is PixelsPerUnit tall, events closer than a line of text are
// set a line apart, and a stretch without events longer than BreakAfter
// is drawn as a break of fixed height that says how long it lasted
// ("1.000 s idle"). Times are printed in seconds to the millisecond.
//
// The picture is for a projector: large type, high contrast, a light theme
// set by CSS classes in its own <style> (every rule under the class
// "hb-diagram", so a page can restyle it, a dark theme say), and colour is
// never the only carrier of meaning: DEAD says DEAD, late says late, a
// missed probe has a cross.
//
// # Live timers
//
// With Options.Live, the picture also shows, for the state at the last
// event, the timers running then, for a page to animate. Each is an SVG
// element
//
//	<g class="timer" data-timer="KIND" data-from-s="FROM" data-to-s="TO" data-label="LABEL">
//
// where FROM and TO are seconds since the run's start (connect for
// hbclient), as the events' "t" counts them, and LABEL says what happens at
// TO. KIND is "idle" (the idle timer: the next PING goes out at TO),
// "interval" (the PING in flight counts as missed at TO without its PONG),
// "heartbeat" or "keepalive" (that detection layer declares the peer dead
// at TO if nothing more is heard: the connected event's predicted_s and
// keepalive_predicted_s from the last sign of life, or for keep-alive the
// last frame received). Inside the group, a rect of class "timer-bar" has
// the full width for the whole timer in its data-width attribute and a
// text of class "timer-count" says the time left: a page shrinks the bar to
// data-width x (TO - now) / (TO - FROM) and rewrites the count, both
// clamped at zero, against the run's clock. As drawn, both show the time
// left at the last event. Timers end with the run (DEAD, a close, an error)
// and hbserver's runs have none.
//
// Example:
//
//	d := diagram.New(diagram.Options{})
//	for each line of a --json run { if err := d.Add(line); err != nil { ... } }
//	err := d.SVG(w)
package diagram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Options change what is drawn. The zero Options draw the whole run,
// without timers, at most DefaultMaxConns connections.
type Options struct {
	// Live adds the timers running at the last event (see the package
	// doc), for a page that animates them.
	Live bool
	// MaxConns is how many connections of an hbserver run are drawn, the
	// first ones to connect; the others are counted and said. Zero means
	// DefaultMaxConns: more panels side by side are too small to read on
	// a projector.
	MaxConns int
}

// DefaultMaxConns is the number of connections of a server run drawn when
// Options.MaxConns is zero.
const DefaultMaxConns = 3

// MaxItems bounds what one connection keeps: beyond it the earliest
// arrows and marks are dropped (and counted) so a long run's picture stays
// bounded in memory and size, and its end, where the verdict is, is kept.
const MaxItems = 400

// Kind says whose run the events are: a Diagram tells them apart by the
// events.
type Kind int

const (
	// None: no event yet that either tool's run has.
	None Kind = iota
	// Client is hbclient's run (a connected event without conn).
	Client
	// Server is hbserver's run (listening, or events with conn).
	Server
)

// Diagram is the model of one run, built from its events.
type Diagram struct {
	opts  Options
	lines int // lines given to Add, for errors naming one
	kind  Kind
	last  float64 // t of the last event

	title string   // the run's one-line description
	wide  []*item  // notes across the whole picture (hbserver's own)
	conns []*panel // one for hbclient; the drawn connections of hbserver
	byID  map[int64]*panel
	left  int // hbserver's connections not drawn
	unit  float64

	hb heartbeat // hbclient's heartbeat, for the live timers
}

// New returns an empty Diagram.
func New(opts Options) *Diagram {
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	return &Diagram{opts: opts, byID: map[int64]*panel{}}
}

// Kind is whose run the events so far are.
func (d *Diagram) Kind() Kind { return d.kind }

// line is what a Diagram reads of an event's JSON line; other fields are
// ignored.
type line struct {
	T     *float64 `json:"t"`
	Event *string  `json:"event"`

	Conn *int64 `json:"conn"`
	Peer string `json:"peer"`

	Local, Remote string
	Addr          string  `json:"addr"`
	Sleep         float64 `json:"sleep_s"`
	Heartbeat     bool    `json:"heartbeat"`
	Idle          float64 `json:"idle_s"`
	Interval      float64 `json:"interval_s"`
	Probes        int64   `json:"probes"`
	AcceptLate    bool    `json:"accept_late"`
	Predicted     float64 `json:"predicted_s"`
	KeepAlive     bool    `json:"keepalive"`
	KAPredicted   float64 `json:"keepalive_predicted_s"`

	Seq         *int64  `json:"seq"`
	Sent        bool    `json:"sent"`
	Received    bool    `json:"received"`
	RTT         float64 `json:"rtt_s"`
	Held        float64 `json:"held_s"`
	Unsolicited bool    `json:"unsolicited"`
	Alive       bool    `json:"alive"`
	Missed      int64   `json:"missed"`
	Name        string  `json:"name"`
	Answered    *bool   `json:"answered"`

	Cause    string  `json:"cause"`
	Observed float64 `json:"observed_s"`
	LastLife float64 `json:"last_life_s"`

	Probe      int64   `json:"probe"`
	Count      int64   `json:"count"`
	Retransmit int64   `json:"retransmit"`
	RTO        float64 `json:"rto_s"`

	Reason   string `json:"reason"`
	Note     string `json:"note"`
	Warning  string `json:"warning"`
	Text     string `json:"text"`
	Severity string `json:"severity"`
	Fault    string `json:"fault"`
	Error    string `json:"error"`
	From     string `json:"from"`

	Connections int64 `json:"connections"`
	Lines       int64 `json:"lines"`
}

// ErrNotEvent is wrapped by Add's error for a line that is JSON but not an
// event (no "t" or no "event").
var ErrNotEvent = errors.New("not an event")

// Add reads one event's JSON line, as event.Writer writes it and its Tap
// delivers it (the trailing newline optional). A blank line is skipped;
// unknown events and fields are ignored. A line that is not a JSON object
// with "t" and "event" is an error that names the line by its number among
// those given to Add, and changes nothing. Add keeps no reference to line.
func (d *Diagram) Add(b []byte) error {
	d.lines++
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	var l line
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("line %d: not a JSON event: %w", d.lines, err)
	}
	if l.T == nil || l.Event == nil {
		return fmt.Errorf("line %d: %w (no \"t\" or no \"event\")", d.lines, ErrNotEvent)
	}
	if math.IsNaN(*l.T) || math.IsInf(*l.T, 0) || *l.T < 0 || *l.T > maxT {
		return fmt.Errorf("line %d: %w (t %v out of range)", d.lines, ErrNotEvent, *l.T)
	}
	d.add(&l)
	return nil
}

// maxT is the latest t read: a run of 292 years, the longest a
// time.Duration holds.
const maxT = 9.2e9
