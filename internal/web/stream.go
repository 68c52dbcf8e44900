package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// stateMessage is the data of a "state" message: all a page shows, so that
// one message brings a page opened late, or one that missed some, up to
// date.
type stateMessage struct {
	T        float64  `json:"t"`        // the run clock when drawn, seconds
	Title    string   `json:"title"`    // Options.Title
	Status   string   `json:"status"`   // the last event, in words
	SVG      string   `json:"svg"`      // the picture; empty without Options.Picture
	Error    string   `json:"error"`    // why the picture could not be drawn
	Ended    bool     `json:"ended"`    // Finished was called
	Verdict  string   `json:"verdict"`  // Finished's verdict
	Controls bool     `json:"controls"` // POST /command is served
	Buttons  []string `json:"buttons"`  // Options.Buttons, when controls are
}

// draw is the goroutine that turns event lines into pictures: it takes
// what Tap queued, adds it to the picture, draws, and then waits
// Options.Interval before the next drawing, so a burst of events costs one.
func (s *Server) draw() {
	var lines []byte
	status := "waiting for the first event"
	var pause *time.Timer
	for {
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
		s.mu.Lock()
		lines, s.pending = s.pending, lines[:0]
		dropped := s.dropped
		s.dropped = 0
		// Read with the lines: a run's last events are tapped before
		// Finished, so a page told the run ended has them all drawn.
		ended, verdict := s.ended, s.verdict
		s.mu.Unlock()

		var err error
		for len(lines) > 0 {
			var text, line []byte
			text, lines = cutLine(lines)
			line, lines = cutLine(lines)
			status = string(bytes.TrimSpace(text))
			if e := s.add(text, line); e != nil && err == nil {
				err = e
			}
		}
		if dropped > 0 {
			err = fmt.Errorf("%d events were left out of the picture: it could not keep up", dropped)
		}
		msg := s.render(&drawn{status: status, err: err, ended: ended, verdict: verdict})
		s.mu.Lock()
		s.state = msg
		s.version++
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()

		if pause == nil {
			pause = time.NewTimer(s.opts.Interval)
		} else {
			pause.Reset(s.opts.Interval)
		}
		select {
		case <-pause.C:
		case <-s.done:
			pause.Stop()
			return
		}
	}
}

// cutLine cuts the first line, its newline included, from b.
func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1], b[i+1:]
	}
	return b, nil
}

// add gives one event to the picture, if any: its text line to a
// TextPicture, then its JSON line.
func (s *Server) add(text, jsonLine []byte) error {
	if s.opts.Picture == nil {
		return nil
	}
	if tp, ok := s.opts.Picture.(TextPicture); ok {
		if err := tp.AddText(text); err != nil {
			return err
		}
	}
	return s.opts.Picture.Add(jsonLine)
}

// drawn is what draw knows of the events so far.
type drawn struct {
	status  string
	err     error
	ended   bool   // Finished was called before these events were taken
	verdict string // its verdict
}

// render makes the "state" message, whole, of what d says and the picture
// (nil d: before any event).
func (s *Server) render(d *drawn) []byte {
	m := stateMessage{Title: s.opts.Title, Status: "waiting for the first event", Controls: s.opts.Command != nil}
	if m.Controls {
		m.Buttons = s.opts.Buttons
	}
	if d != nil {
		m.Status = d.status
		if d.err != nil {
			m.Error = d.err.Error()
		}
	}
	if s.opts.Picture != nil {
		var b bytes.Buffer
		if err := s.opts.Picture.SVG(&b); err != nil {
			m.Error = "the picture could not be drawn: " + err.Error()
		} else {
			m.SVG = b.String()
		}
	}
	if d != nil {
		m.Ended, m.Verdict = d.ended, d.verdict
	}
	m.T = s.clock()
	data, err := json.Marshal(m)
	if err != nil {
		// A struct of strings and numbers always marshals.
		panic(err)
	}
	return sseMessage("state", data)
}

// sseMessage frames one server-sent event; data must hold no newline
// (JSON from encoding/json never does).
func sseMessage(name string, data []byte) []byte {
	b := make([]byte, 0, len(name)+len(data)+16)
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// events is GET /events: the current state at once, then every new state
// (at most one per Options.Interval) and the run clock every clockEvery,
// until the page goes, the server closes or a write takes longer than
// writeTimeout.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	select {
	case s.clients <- struct{}{}:
		defer func() { <-s.clients }()
	default:
		http.Error(w, fmt.Sprintf("too many pages open (at most %d)", cap(s.clients)), http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	send := func(msg []byte) bool {
		if rc.SetWriteDeadline(time.Now().Add(writeTimeout)) != nil {
			return false
		}
		if _, err := w.Write(msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	tick := time.NewTicker(clockEvery)
	defer tick.Stop()
	sent := -1
	for {
		s.mu.Lock()
		msg, version, changed := s.state, s.version, s.changed
		s.mu.Unlock()
		if version != sent {
			if !send(msg) {
				return
			}
			sent = version
		}
		select {
		case <-changed:
		case <-tick.C:
			if !send(sseMessage("clock", fmt.Appendf(nil, `{"t":%.3f}`, s.clock()))) {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}
