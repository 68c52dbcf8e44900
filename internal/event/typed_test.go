package event

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// Each typed event gives its text line and its JSON line from one value;
// its JSON holds only declared fields, each once, and its text is not
// empty.
func TestTypedEvents(t *testing.T) {
	for _, tc := range []struct {
		e          Event
		text, json string
	}{
		{PingSent{Seq: 7}, "   1.500  PING #7 sent\n", `{"t":1.5,"event":"ping","seq":7}` + "\n"},
		{ProbeMissed{Missed: 2, Probes: 3, Interval: 1500 * time.Millisecond},
			"   1.500  probe 2/3 missed: no PONG within 1.5s\n", `{"t":1.5,"event":"missed","missed":2,"probes":3}` + "\n"},
		{CommandTaken{Command: "sleep 5", Sleep: 5 * time.Second},
			"   1.500  command \"sleep 5\": from the next PING on, SLEEP 5s, fault none\n",
			`{"t":1.5,"event":"command","command":"sleep 5","sleep_s":5,"fault":"none"}` + "\n"},
		{CommandTaken{Command: "fault mute", Sleep: 200 * time.Millisecond, Fault: "mute"},
			"   1.500  command \"fault mute\": from the next PING on, SLEEP 200ms, fault mute\n",
			`{"t":1.5,"event":"command","command":"fault mute","sleep_s":0.2,"fault":"mute"}` + "\n"},
	} {
		var text, js bytes.Buffer
		emitAny(NewWriter(&text, false), 1500*time.Millisecond, tc.e)
		emitAny(NewWriter(&js, true), 1500*time.Millisecond, tc.e)
		if text.String() != tc.text || js.String() != tc.json {
			t.Errorf("%T: got\n\t%q\n\t%q\nwant\n\t%q\n\t%q", tc.e, text.String(), js.String(), tc.text, tc.json)
		}
		var f Fields
		f.check = true
		tc.e.Fields(&f)
		seen := map[string]bool{}
		for _, k := range f.keys {
			if !declared[tc.e.Name()][k] || seen[k] {
				t.Errorf("%T: field %q undeclared or twice", tc.e, k)
			}
			seen[k] = true
		}
		var m map[string]any
		if err := json.Unmarshal(js.Bytes(), &m); err != nil || len(m) != 2+len(f.keys) {
			t.Errorf("%T: %s: %v, %d fields", tc.e, js.Bytes(), err, len(m))
		}
		if len(tc.e.AppendText(nil)) == 0 {
			t.Errorf("%T: no text", tc.e)
		}
	}
}

// emitAny emits an Event held in an interface, as a test table holds it.
func emitAny(w *Writer, t time.Duration, e Event) { Emit(w, t, e) }

// A typed PING costs no allocation, in text or JSON.
func TestTypedEmitAllocatesNothing(t *testing.T) {
	defer func(on bool) { checkEmits = on }(checkEmits)
	checkEmits = false
	for _, js := range []bool{false, true} {
		w := NewBuffered(discardWriter{}, js)
		if n := testing.AllocsPerRun(1000, func() { Emit(w, time.Second, PingSent{Seq: 9}) }); n != 0 {
			t.Errorf("json %v: %v allocations per PING", js, n)
		}
		w.Close()
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
