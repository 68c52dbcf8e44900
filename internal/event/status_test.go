package event

import (
	"bytes"
	"testing"
	"time"
)

// hbserver's condensed timeline: the switch, a status line (closes by
// reason in the reasons' order, rates to the tenth, counts said when not
// zero, wrapped to fit 80 columns) and the resume, as text and JSON.
func TestStatusEvents(t *testing.T) {
	st := ServerStatus{Open: 3, Over: 1500 * time.Millisecond, Connected: 40, PingsPerS: 26.66666, PongsPerS: 26, LatePongs: 1,
		Closed: map[string]int{"peer closed": 35, "frame timeout": 2}, LinesPerS: 80.04}
	for _, tc := range []struct {
		e          Event
		text, json string
	}{
		{LinesCondensed{Limit: 20}, "   2.000  more than 20 events a second: one status line a second from now;\n" +
			"              --events all shows every line\n",
			`{"t":2,"event":"status_on","limit":20}` + "\n"},
		{st, "   2.000  status: 3 open, 27 PINGs/s, 26 PONGs/s, 40 connected, 1 late PONG,\n" +
			"              37 closed (2 frame timeout, 35 peer closed)\n",
			`{"t":2,"event":"status","conns":3,"connected":40,"pings_per_s":26.7,"pongs_per_s":26,"late_pongs":1,"closed_by":{"frame timeout":2,"peer closed":35},"lines_per_s":80,"window_s":1.5}` + "\n"},
		{ServerStatus{Open: 1, Over: time.Second, PingsPerS: 0.26, PongsPerS: 9.96}, "   2.000  status: 1 open, 0.3 PINGs/s, 10 PONGs/s\n",
			`{"t":2,"event":"status","conns":1,"connected":0,"pings_per_s":0.3,"pongs_per_s":10,"late_pongs":0,"closed_by":{},"lines_per_s":0,"window_s":1}` + "\n"},
		{LinesResumed{Limit: 20}, "   2.000  at most 20 events a second again: every line from now\n",
			`{"t":2,"event":"status_off","limit":20}` + "\n"},
	} {
		var text, js bytes.Buffer
		emitAny(NewWriter(&text, false), 2*time.Second, tc.e)
		emitAny(NewWriter(&js, true), 2*time.Second, tc.e)
		if text.String() != tc.text || js.String() != tc.json {
			t.Errorf("%T: got\n\t%q\n\t%q\nwant\n\t%q\n\t%q", tc.e, text.String(), js.String(), tc.text, tc.json)
		}
	}
}
