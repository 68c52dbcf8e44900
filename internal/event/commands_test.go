package event

import (
	"bytes"
	"testing"
	"time"
)

// A command's event: its text fits 80 columns for a short command and
// says "none" for no fault, as its JSON does.
func TestCommandTaken(t *testing.T) {
	for _, tc := range []struct {
		e          CommandTaken
		text, json string
	}{
		{CommandTaken{Command: "sleep 5", Sleep: 5 * time.Second},
			"  30.000  command \"sleep 5\": from the next PING on, SLEEP 5s, fault none\n",
			`{"t":30,"event":"command","command":"sleep 5","sleep_s":5,"fault":"none"}` + "\n"},
		{CommandTaken{Command: "fault mute", Sleep: 200 * time.Millisecond, Fault: "mute"},
			"  30.000  command \"fault mute\": from the next PING on, SLEEP 200ms, fault mute\n",
			`{"t":30,"event":"command","command":"fault mute","sleep_s":0.2,"fault":"mute"}` + "\n"},
	} {
		var text, js bytes.Buffer
		Emit(NewWriter(&text, false), 30*time.Second, tc.e)
		Emit(NewWriter(&js, true), 30*time.Second, tc.e)
		if text.String() != tc.text || js.String() != tc.json {
			t.Errorf("got\n\t%q\n\t%q\nwant\n\t%q\n\t%q", text.String(), js.String(), tc.text, tc.json)
		}
		if n := len(text.String()) - 1; n > 80 {
			t.Errorf("%q: %d columns", text.String(), n)
		}
	}
}
