package peer

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// after is t0 plus d: the exact times of the interpreter's tests.
func after(d time.Duration) time.Time { return t0.Add(d) }

// probing returns an interpreter whose machine, started at t0 with the
// default settings, sent PING #1 at 10s.
func probing(t *testing.T, cfg probe.Config) *Interpreter {
	t.Helper()
	in := &Interpreter{M: probe.New(cfg, t0)}
	if st := in.M.Tick(after(10 * time.Second)); st.Action != probe.Ping || st.Seq != 1 {
		t.Fatalf("tick at 10s: %+v, want PING #1", st)
	}
	return in
}

func pong(stamped bool, seq uint64) *msg.Frame {
	var f msg.Frame
	f.SetType(msg.Pong)
	if stamped {
		msg.Stamp{Seq: seq, Sent: t0}.Put(&f)
	}
	return &f
}

func frameOf(typ msg.Type) *msg.Frame {
	var f msg.Frame
	f.SetType(typ)
	return &f
}

// wanted is an expected event: its name, text and fields.
type wanted struct {
	name, text string
	fields     []field
}

// field is an expected JSON field.
type field struct {
	key   string
	value any
}

func kv(key string, value any) field { return field{key, value} }

// secs is a field of a duration in seconds.
func secs(key string, d time.Duration) field { return field{key, event.Seconds(d)} }

func want(name, text string, fields ...field) wanted { return wanted{name, text, fields} }

// lines are an event's text and JSON lines at 0.
func (w wanted) lines(t *testing.T) (string, string) {
	t.Helper()
	js := `{"t":0,"event":"` + w.name + `"`
	for _, f := range w.fields {
		v, err := json.Marshal(f.value)
		if err != nil {
			t.Fatal(err)
		}
		js += `,"` + f.key + `":` + string(v)
	}
	return "   0.000  " + w.text + "\n", js + "}\n"
}

// lines is what e writes at 0, as text and as JSON: the text as one line,
// as the live page gets it (how a long line goes on under itself on a
// terminal is package event's to test).
func lines(e event.Event) (string, string) {
	var text string
	var js bytes.Buffer
	w := event.NewWriter(io.Discard, false)
	w.Tap(func(_, line []byte) { text = string(line) })
	event.Emit(w, 0, e)
	event.Emit(event.NewWriter(&js, true), 0, e)
	return text, js.String()
}

func check(t *testing.T, in *Interpreter, got Meaning, events []wanted, rearm bool) {
	t.Helper()
	if got.Rearm != rearm {
		t.Errorf("rearm %v, want %v", got.Rearm, rearm)
	}
	checkEvents(t, got.Events(in.M.Config(), t0), events)
}

func checkEvents(t *testing.T, got []event.Event, events []wanted) {
	t.Helper()
	if len(got) != len(events) {
		t.Fatalf("events %+v, want %+v", got, events)
	}
	for i, e := range events {
		gotText, gotJSON := lines(got[i])
		wantText, wantJSON := e.lines(t)
		if gotText != wantText || gotJSON != wantJSON {
			t.Errorf("event %d:\n got %q\n     %s\nwant %q\n     %s", i, gotText, gotJSON, wantText, wantJSON)
		}
	}
}

// A PONG for PING #1 (sent at 10s, due by 13s) is in time until 1ns before
// 13s, and late from 13s on.
func TestPongInTimeOrLate(t *testing.T) {
	cfg := probe.DefaultConfig()
	in := probing(t, cfg)
	mn := in.Frame(pong(true, 1), after(13*time.Second-time.Nanosecond))
	check(t, in, mn, []wanted{want(event.Pong, "PONG #1, RTT 3.000 s, in time: back to idle, PING #2 due at 23.000",
		kv("seq", uint64(1)), secs("rtt_s", 3*time.Second-time.Nanosecond), kv("echo_seq", uint64(1)))}, true)
	if !mn.InTime() {
		t.Fatal("a PONG 1ns before its deadline is not in time")
	}

	in = probing(t, cfg)
	mn = in.Frame(pong(true, 1), after(13*time.Second))
	check(t, in, mn, []wanted{want(event.LatePong, "late PONG #1, RTT 3.000 s: over the 3.000 s a PONG may take; not life",
		kv("seq", uint64(1)), secs("rtt_s", 3*time.Second), kv("echo_seq", uint64(1)), kv("alive", false))}, false)
	if mn.Ends || mn.Reply || mn.InTime() {
		t.Fatalf("a PONG neither ends the run nor is answered: %+v", mn)
	}

	cfg.AcceptLate = true
	in = probing(t, cfg)
	mn = in.Frame(pong(true, 2), after(15*time.Second))
	check(t, in, mn, []wanted{want(event.LatePong, "late PONG #1, RTT 5.000 s (echoes PING #2: out of order), life (--accept-late): PING #2 due at 25.000",
		kv("seq", uint64(1)), secs("rtt_s", 5*time.Second), kv("echo_seq", uint64(2)), kv("alive", true))}, true)
}

// A PONG before any PING answers nothing and is no life under the strict
// rule; with the heartbeat off it says nothing about life.
func TestUnsolicitedPong(t *testing.T) {
	in := &Interpreter{M: probe.New(probe.DefaultConfig(), t0)}
	check(t, in, in.Frame(pong(false, 0), after(time.Second)), []wanted{want(event.LatePong, "PONG received that answers no PING; not life",
		kv("seq", uint64(0)), secs("rtt_s", 0), kv("unsolicited", true), kv("alive", false))}, false)
	if !in.M.Deadline().Equal(after(10 * time.Second)) {
		t.Fatalf("deadline %v: an unsolicited PONG moved it", in.M.Deadline())
	}

	in = &Interpreter{M: probe.New(probe.Config{}, t0)}
	check(t, in, in.Frame(pong(false, 0), after(time.Second)), []wanted{want(event.LatePong, "PONG received that answers no PING",
		kv("seq", uint64(0)), secs("rtt_s", 0), kv("unsolicited", true), kv("alive", false))}, false)
}

// A seed-style PONG (type in host byte order, no echo) gets one note of
// each kind, at the first such PONG only.
func TestSeedPongNotesOnce(t *testing.T) {
	in := probing(t, probe.DefaultConfig())
	seed := func() *msg.Frame {
		var f msg.Frame
		copy(f[:4], []byte{2, 0, 0, 0})
		return &f
	}
	hostOrder := want(event.Note, "peer writes the PONG type in host byte order (02 00 00 00), as the seed C server does; accepted as PONG",
		kv("note", "host_order_pong"))
	noEcho := want(event.Note, "peer does not echo the PING's data (the seed C server does not); PONGs are matched to PINGs in order",
		kv("note", "no_echo"))
	check(t, in, in.Frame(seed(), after(11*time.Second)), []wanted{hostOrder, noEcho,
		want(event.Pong, "PONG #1, RTT 1.000 s, in time: back to idle, PING #2 due at 21.000", kv("seq", uint64(1)), secs("rtt_s", time.Second))}, true)

	if st := in.M.Tick(after(21 * time.Second)); st.Action != probe.Ping || st.Seq != 2 {
		t.Fatalf("tick at 21s: %+v, want PING #2", st)
	}
	check(t, in, in.Frame(seed(), after(21*time.Second+time.Millisecond)), []wanted{
		want(event.Pong, "PONG #2, RTT 1.000 ms, in time: back to idle, PING #3 due at 31.001", kv("seq", uint64(2)), secs("rtt_s", time.Millisecond))}, true)
}

// A server's PING is life and is to be answered with its own data as a
// PONG; whether it could be is said by ServerPing.
func TestServerPing(t *testing.T) {
	in := &Interpreter{M: probe.New(probe.DefaultConfig(), t0)}
	f := frameOf(msg.Ping)
	msg.Stamp{Seq: 7, Sent: t0}.Put(f)
	mn := in.Frame(f, after(4*time.Second))
	check(t, in, mn, nil, true)
	if !mn.Reply || mn.Seq != 7 || mn.Ends {
		t.Fatalf("meaning %+v, want PING #7 to answer", mn)
	}
	if typ, _ := f.Type(); typ != msg.Pong {
		t.Fatalf("answer's type %v, want PONG", typ)
	}
	if s, ok := msg.ReadStamp(f); !ok || s.Seq != 7 {
		t.Fatalf("answer's stamp %+v, %v: want PING #7's echoed", s, ok)
	}
	if !in.M.Deadline().Equal(after(14 * time.Second)) {
		t.Fatalf("deadline %v, want idle restarted to 14s", in.M.Deadline())
	}

	if mn := in.Frame(frameOf(msg.Ping), after(5*time.Second)); !mn.Reply || mn.Seq != 0 {
		t.Fatalf("unstamped PING: %+v, want an answer, seq 0", mn)
	}

	for _, tc := range []struct {
		answered bool
		want     wanted
	}{
		{true, want(event.Data, "PING #7 from the server, answered",
			kv("type", uint32(msg.Ping)), kv("name", "PING"), kv("seq", uint64(7)), kv("answered", true))},
		{false, want(event.Data, "PING #7 from the server, not answered: the server has stopped reading and the send buffer is full",
			kv("type", uint32(msg.Ping)), kv("name", "PING"), kv("seq", uint64(7)), kv("answered", false))},
	} {
		checkEvents(t, []event.Event{event.ServerPingData{Seq: 7, Answered: tc.answered}}, []wanted{tc.want})
	}
}

// A warning NOTICE is a note and the run goes on; a closing one ends it as
// ending.ClosedByNotice, with the server's reason. Both are life.
func TestNotices(t *testing.T) {
	in := probing(t, probe.DefaultConfig())
	f := frameOf(msg.Notice)
	msg.PutNotice(f, msg.Warning, "slow down")
	mn := in.Frame(f, after(11*time.Second))
	check(t, in, mn, []wanted{want(event.Note, "the server warns: slow down", kv("note", "server_warning"), kv("text", "slow down"))}, true)
	if mn.Ends || mn.Text != "slow down" || !mn.Warning() || in.M.Probing() {
		t.Fatalf("after a warning: %+v, probing %v; want the run on, idle", mn, in.M.Probing())
	}

	msg.PutNotice(f, msg.Closing, "bye")
	mn = in.Frame(f, after(12*time.Second))
	check(t, in, mn, []wanted{want(event.Error, "the server closes the connection: bye", kv("error", "bye"), kv("from", "server"))}, true)
	if !mn.Ends || mn.End != ending.ClosedByNotice || mn.Text != "bye" || mn.Warning() {
		t.Fatalf("after a closing notice: %+v", mn)
	}
}

// A data frame, known or not, is life in the probing phase too.
func TestDataFrames(t *testing.T) {
	for _, tc := range []struct {
		typ  msg.Type
		text string
	}{
		{msg.Type1, "TYPE1 frame received"},
		{77, "type 77 frame received, ignored"},
	} {
		in := probing(t, probe.DefaultConfig())
		check(t, in, in.Frame(frameOf(tc.typ), after(12*time.Second)), []wanted{want(event.Data, tc.text,
			kv("type", uint32(tc.typ)), kv("name", tc.typ.String()))}, true)
		if in.M.Probing() || !in.M.Deadline().Equal(after(22*time.Second)) {
			t.Fatalf("%v: probing %v, deadline %v; want idle to 22s", tc.typ, in.M.Probing(), in.M.Deadline())
		}
	}
}

// A late PONG whose RTT is under the interval says why it was late: its
// PING left after it was due (an old line read "RTT 228µs, over the 1ms
// interval").
func TestLateWhy(t *testing.T) {
	cfg := probe.Config{Idle: time.Millisecond, Interval: time.Millisecond, Probes: 3}
	for _, tc := range []struct {
		a    probe.Answer
		want string
	}{
		{probe.Answer{Seq: 34, Late: true, RTT: 228 * time.Microsecond, SentLate: 800 * time.Microsecond},
			"its PING left 0.800 ms late"},
		{probe.Answer{Seq: 1, Late: true, RTT: 5 * time.Millisecond}, "over the 0.001 s a PONG may take"},
		{probe.Answer{Seq: 1, Late: true, RTT: 5 * time.Millisecond, SentLate: time.Microsecond}, "over the 0.001 s a PONG may take"},
	} {
		evs := Meaning{Type: msg.Pong, Answer: tc.a}.Events(cfg, t0)
		if got, _ := lines(evs[0]); !strings.Contains(got, ": "+tc.want+"; not life\n") {
			t.Errorf("%+v: %q, want %q", tc.a, got, tc.want)
		}
	}
}
