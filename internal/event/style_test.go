package event

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// peerDetails is an event with details that carry a peer's words.
type peerDetails struct{ Words string }

func (peerDetails) Name() string               { return Closed }
func (peerDetails) AppendText(b []byte) []byte { return append(b, "closed"...) }
func (e peerDetails) Fields(f *Fields)         { f.Str("reason", e.Words) }
func (e peerDetails) AppendDetails(b []byte) []byte {
	return append(append(append(b, "reason: "...), e.Words...), "\n  more"...)
}

// Details go under the summary, indented past the time column, each line
// escaped: an ESC in them drives no terminal. The JSON line is the same as
// without details, and a tap gets them on the summary's line.
func TestDetails(t *testing.T) {
	var text, js strings.Builder
	var tapped string
	w := NewWriter(&text, false)
	w.Tap(func(_, textLine []byte) { tapped = string(textLine) })
	e := peerDetails{"bye\x1b[2J\u202e"}
	Emit(w, 1500*time.Millisecond, e)
	Emit(NewWriter(&js, true), 1500*time.Millisecond, e)
	want := "   1.500  closed\n" +
		`            reason: bye\x1b[2J\u202e` + "\n" +
		"              more\n"
	if text.String() != want {
		t.Errorf("text %q, want %q", text.String(), want)
	}
	if want := `{"t":1.5,"event":"closed","reason":"bye\u001b[2J\u202e"}` + "\n"; js.String() != want {
		t.Errorf("json %q, want %q", js.String(), want)
	}
	if want := `   1.500  closed; reason: bye\x1b[2J\u202e more` + "\n"; tapped != want {
		t.Errorf("tapped %q, want %q", tapped, want)
	}
}

// In colour, each line of an event is in its tone: bold red DEAD (its
// details too), yellow missed and late, green in time, the rest (a PONG
// the server sent) plain;
// the time is never coloured. A peer's ESC stays escaped inside a tone.
// Without colour no escape sequence is written.
func TestColorTones(t *testing.T) {
	for _, tc := range []struct {
		e    static
		want string
	}{
		{as(HeartbeatDead{Probes: 3, Observed: 19 * time.Second, Predicted: 19 * time.Second}),
			"  19.000  \x1b[1;31mDEAD (heartbeat): 3 probes unanswered\x1b[0m\n" +
				"            \x1b[1;31mobserved 19.000 s after the last sign of life (at 0.000)\x1b[0m\n" +
				"            \x1b[1;31mpredicted 19.000 s (+0.0 ms)\x1b[0m\n"},
		{as(ProbeMissed{Missed: 1, Probes: 3, Interval: 3 * time.Second}), "  19.000  \x1b[33mprobe 1/3 missed: no PONG within 3.000 s\x1b[0m\n"},
		{as(PongReceived{Seq: 1, RTT: 5 * time.Second, Late: true, Interval: 3 * time.Second, Heartbeat: true}),
			"  19.000  \x1b[33mlate PONG #1, RTT 5.000 s: over the 3.000 s a PONG may take; not life\x1b[0m\n"},
		{as(PongReceived{Seq: 1, RTT: time.Second, Interval: 3 * time.Second, Heartbeat: true, NextSeq: 2, NextAt: 21 * time.Second}),
			"  19.000  \x1b[32mPONG #1, RTT 1.000 s, in time: back to idle, PING #2 due at 21.000\x1b[0m\n"},
		{as(PingSent{Seq: 2, Due: 22 * time.Second}), "  19.000  PING #2 sent, its PONG due by 22.000\n"},
		// hbserver's own answer is not news of the client: plain, with its tag or without.
		{as(PongSent{Ping: PingLabel{1, true}, Held: 5 * time.Second}), "  19.000  PONG sent for PING #1, held 5.000 s\n"},
		{as(On(Conn{1, "127.0.0.1:5"}, PongSent{Ping: PingLabel{1, true}})), "  19.000  [#1 127.0.0.1:5] PONG sent for PING #1, held 0.000 s\n"},
		// A late one is yellow, tagged too: the tone goes by the event's value.
		{as(On(Conn{1, "127.0.0.1:5"}, ClientPong{Seq: 2, RTT: time.Second, Late: true})), "  19.000  \x1b[33m[#1 127.0.0.1:5] late PONG #2 from the client, RTT 1.000 s\x1b[0m\n"},
		// The client's PONG to hbserver's own heartbeat is: green.
		{as(On(Conn{1, "127.0.0.1:5"}, ClientPong{Seq: 2, RTT: time.Millisecond})), "  19.000  \x1b[32m[#1 127.0.0.1:5] PONG #2 from the client, RTT 1.000 ms\x1b[0m\n"},
		{as(ServerWarns{"\x1b[2J"}), `  19.000  the server warns: \x1b[2J` + "\n"},
		// Events with details about a connection: hbserver's connected
		// line and a HELLO, plain (once a nil-pointer crash of hbserver in
		// colour).
		{as(OnDetailed(Conn{1, "127.0.0.1:5"}, ServerConnected{KernelOptions{Set: true}})),
			"  19.000  [#1 127.0.0.1:5] connected\n            kernel keep-alive: off (SO_KEEPALIVE read back as 0)\n"},
		{as(OnDetailed(Conn{1, "127.0.0.1:5"}, ClientAnnounced{})),
			"  19.000  [#1 127.0.0.1:5] HELLO: no heartbeat\n            it sends nothing unasked\n"},
	} {
		var col, plain strings.Builder
		w := NewWriter(&col, false)
		w.SetStyle(Style{Color: true})
		tc.e.emit(w, 19*time.Second)
		if col.String() != tc.want {
			t.Errorf("%v in colour:\n got %q\nwant %q", tc.e, col.String(), tc.want)
		}
		tc.e.emit(NewWriter(&plain, false), 19*time.Second)
		if strings.Contains(plain.String(), "\x1b") {
			t.Errorf("%v without colour: %q", tc.e, plain.String())
		}
		if stripped := strings.NewReplacer("\x1b[1;31m", "", "\x1b[33m", "", "\x1b[32m", "", "\x1b[0m", "").Replace(col.String()); stripped != plain.String() {
			t.Errorf("%v: colour changes the text: %q against %q", tc.e, stripped, plain.String())
		}
	}
}

// static is an event to emit as its own type, as the tools emit every
// event: a tone can belong to the type (toner).
type static interface {
	emit(w *Writer, t time.Duration)
}

type staticEvent[E Event] struct{ e E }

func (s staticEvent[E]) emit(w *Writer, t time.Duration) { Emit(w, t, s.e) }

func (s staticEvent[E]) String() string { return fmt.Sprintf("%T", s.e) }

// as is e, to be emitted as its own type E.
func as[E Event](e E) static { return staticEvent[E]{e} }

// Under Style.Wall a line's time is the time of day to the millisecond,
// counted from Start, and details are indented past it.
func TestWallClock(t *testing.T) {
	var out strings.Builder
	w := NewWriter(&out, false)
	w.SetStyle(Style{Wall: true})
	w.Start(time.Date(2026, 3, 1, 9, 59, 50, 500_000_000, time.Local))
	Emit(w, 10*time.Second, PingSent{Seq: 1})
	Emit(w, 19*time.Second, ClientDead{Probes: 3, Observed: 19 * time.Second, Predicted: 19 * time.Second})
	want := "10:00:00.500  PING #1 sent\n" +
		"10:00:09.500  DEAD (heartbeat): client reaped, 3 probes unanswered\n" +
		"                observed 19.000 s after the client's last sign of life\n" +
		"                predicted 19.000 s (+0.0 ms)\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
