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
		{"aaaa, bbbb, cccc", 30, "aaaa, bbbb, cccc"},
		{"aaaaaaaaaa, bbbbbbbbbb, cccc", 25, "aaaaaaaaaa, bbbbbbbbbb,"},         // after the last comma that fits
		{"aaaaaaaaaa; bbbbbbbbbb, cc dd", 22, "aaaaaaaaaa;"},                    // or semicolon
		{"aaaaa, bbbbbbbbbbbbbbbbbb cc dd", 28, "aaaaa, bbbbbbbbbbbbbbbbbb cc"}, // a comma in the first half: the last space
		{"aaaaaaaaaa bbbbbbbbbb cccc", 22, "aaaaaaaaaa bbbbbbbbbb"},             // no comma: the last space
		{"abcdefghijklmnopqrstuvwxyz", 20, "abcdefghijklmnopqrst"},              // no space
		{"abcdefghijklmnopqrsé", 20, "abcdefghijklmnopqrs"},                     // not inside a character
		{"aaaaaaaaaaaaaaaa,b c,d", 20, "aaaaaaaaaaaaaaaa,b"},                    // a comma without its space is a word's
		{"aaaa bbbb cccc dddd eeee ffff", 3, "aaaa bbbb cccc dddd"},             // never narrower than 20
	} {
		if n := cutList([]byte(tc.in), tc.width); tc.in[:n] != tc.line {
			t.Errorf("cutList(%q, %d) = %q, want %q", tc.in, tc.width, tc.in[:n], tc.line)
		}
	}
}

// A line too long for 80 columns goes on under itself: every line fits,
// in either clock, and its lines are its text again (joined by a space,
// without their indent); a tap gets the text whole.
func TestLongLinesWrap(t *testing.T) {
	long := []Event{
		ServerStatus{Open: 19968, Connected: 19968, PingsPerS: 99999, PongsPerS: 99999, LatePongs: 123,
			Closed: map[string]int{"peer closed": 5000, "reset by peer": 4000, "frame timeout": 3, "peer does not read": 7, "ping flood": 1}},
		LinesCondensed{Limit: 20},
		ServerStopped{map[string]int{"over the connection limit": 500, "peer closed": 1266, "reset by peer": 10, "server shutting down": 224}},
		LoadStatus{Up: 10000, Conns: 10000, Ends: LoadEnds{Alive: 9000, Dead: 1000, NeverAccepted: 10, Failed: 20, Closed: 30, Warnings: 40},
			ConnectErrors: 50, Rates: LoadRates{PingsPerS: 9999, HasPPS: true, LatePongs: 60, RTT50: 123456, RTT99: 4567891, HasRTT: true}},
		Warning{longWarning},
		PongReceived{Seq: 123, RTT: 350123456 * time.Nanosecond, Late: true, Interval: 300 * time.Millisecond, Heartbeat: true},
	}
	for _, wall := range []bool{false, true} {
		for _, e := range long {
			var text bytes.Buffer
			w := NewWriter(&text, false)
			w.SetStyle(Style{Wall: wall})
			var tapped string
			w.Tap(func(_, textLine []byte) { tapped = string(textLine) })
			emitAny(w, 1500*time.Millisecond, e)
			whole := string(e.AppendText(nil))
			lines := strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n")
			joined := ""
			for i, line := range lines {
				if len([]rune(line)) > 80 {
					t.Errorf("%T (wall %v): line over 80 columns: %q", e, wall, line)
				}
				if i == 0 {
					joined = line[w.clockWidth()+2:]
				} else {
					joined += " " + strings.TrimLeft(line, " ")
				}
			}
			if len(lines) < 2 && len(whole) > 80-w.clockWidth()-2 {
				t.Errorf("%T (wall %v): not wrapped: %q", e, wall, text.String())
			}
			if joined != whole {
				t.Errorf("%T (wall %v): lines joined\n\t%q\nwant\n\t%q", e, wall, joined, whole)
			}
			if !strings.HasSuffix(tapped, "  "+whole+"\n") {
				t.Errorf("%T (wall %v): tap got %q", e, wall, tapped)
			}
		}
	}
}
