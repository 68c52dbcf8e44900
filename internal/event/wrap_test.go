package event

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCutList(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		line  string
	}{
		{"a, b, c", 10, "a, b, c"},
		{"a, b, c", 5, "a, b,"},   // after the last comma that fits
		{"a, b; c d", 8, "a, b;"}, // or semicolon
		{"a, bb cc dd", 9, "a,"},  // a comma before a later space
		{"aa bb cc", 6, "aa bb"},  // no comma: the last space
		{"abcdef", 3, "abc"},      // no space
		{"abé", 3, "ab"},          // not inside a character
		{"a,b c,d", 6, "a,b"},     // a comma without its space is a word's
	} {
		if n := cutList([]byte(tc.in), tc.width); tc.in[:n] != tc.line {
			t.Errorf("cutList(%q, %d) = %q, want %q", tc.in, tc.width, tc.in[:n], tc.line)
		}
	}
}

// A wrapped event's lines are its text again: the first line, then each
// detail line without its indent, joined by spaces; every line fits.
func TestWrappedLinesAreTheText(t *testing.T) {
	st := ServerStatus{Open: 19968, Connected: 19968, PingsPerS: 99999, PongsPerS: 99999, LatePongs: 123,
		Closed: map[string]int{"peer closed": 5000, "reset by peer": 4000, "frame timeout": 3, "peer does not read": 7, "ping flood": 1}}
	for _, e := range []interface {
		Detailer
		appendAll([]byte) []byte
	}{st, ServerStatus{Open: 1}, LinesCondensed{Limit: 20},
		ServerStopped{map[string]int{"over the connection limit": 500, "peer closed": 1266, "reset by peer": 10, "server shutting down": 224}},
		LoadStatus{Up: 10000, Conns: 10000, Ends: LoadEnds{Alive: 9000, Dead: 1000, NeverAccepted: 10, Failed: 20, Closed: 30, Warnings: 40}, ConnectErrors: 50, Rates: LoadRates{PingsPerS: 9999, HasPPS: true, LatePongs: 60, RTT50: 123456, RTT99: 4567891, HasRTT: true}}} {
		whole := string(e.appendAll(nil))
		first := string(e.(Event).AppendText(nil))
		details := string(e.AppendDetails([]byte("kept ")))
		if !strings.HasPrefix(details, "kept ") {
			t.Fatalf("%T: AppendDetails did not append: %q", e, details)
		}
		details = strings.TrimPrefix(details, "kept ")
		joined := first
		if details != "" {
			for line := range strings.SplitSeq(details, "\n") {
				if !strings.HasPrefix(line, "  ") {
					t.Errorf("%T: detail line %q is not indented", e, line)
				}
				if len(line) > warnWidth {
					t.Errorf("%T: detail line of %d bytes: %q", e, len(line), line)
				}
				joined += " " + strings.TrimPrefix(line, "  ")
			}
		}
		if len(first) > warnWidth {
			t.Errorf("%T: first line of %d bytes: %q", e, len(first), first)
		}
		if joined != whole {
			t.Errorf("%T: lines joined\n\t%q\nwant the text\n\t%q", e, joined, whole)
		}
	}
}

// On the terminal a status line at 20,000 connections fits 80 columns; a
// tap (the live page) gets it as one line, and one that fits has no
// details to join.
func TestStatusLinesFitAndTapAsOne(t *testing.T) {
	st := ServerStatus{Open: 19968, Connected: 19968, PingsPerS: 99999, PongsPerS: 99999, LatePongs: 12,
		Closed: map[string]int{"peer closed": 5000, "reset by peer": 4000}}
	for _, tc := range []struct {
		e   Event
		tap string
	}{
		{st, "   1.500  status: 19968 open, 99999 PINGs/s, 99999 PONGs/s, 19968 connected, 12 late PONGs, 9000 closed (5000 peer closed, 4000 reset by peer)\n"},
		{ServerStatus{Open: 3, PingsPerS: 1, PongsPerS: 1}, "   1.500  status: 3 open, 1 PINGs/s, 1 PONGs/s\n"},
	} {
		var text bytes.Buffer
		w := NewWriter(&text, false)
		var tapped string
		w.Tap(func(_, textLine []byte) { tapped = string(textLine) })
		emitAny(w, 1500*time.Millisecond, tc.e)
		if tapped != tc.tap {
			t.Errorf("tap got %q, want %q", tapped, tc.tap)
		}
		for line := range strings.Lines(text.String()) {
			if len(line) > 81 {
				t.Errorf("line over 80 columns: %q", line)
			}
		}
	}
}
