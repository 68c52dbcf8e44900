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
		{IdleProbeEnded{Kind: "gap", Dir: "client-first", Gap: 2 * time.Second, Outcome: "close", At: 1500 * time.Millisecond, Why: "FIN"},
			"   1.500  client-first gap 2s: close at 1.5s (FIN)\n",
			`{"t":1.5,"event":"idle_probe","kind":"gap","dir":"client-first","gap_s":2,"outcome":"close","at_s":1.5,"why":"FIN"}` + "\n"},
		{IdleProgress{Lower: time.Second, Running: 1, Left: 3 * time.Second},
			"   1.500  open: above 1s, nothing expired yet; 1 connection idling; at most 3s left\n",
			`{"t":1.5,"event":"idle_status","lower_s":1,"upper_s":null,"running":1,"left_s":3}` + "\n"},
		{IdleVerdict{Lower: time.Second, Max: 3 * time.Second, Expiry: "none", Probes: 4},
			"   1.500  idle timeout: none up to 3s (--max): every connection outlived its idle gap; no idle setting is needed for the path (4 probes)\n",
			`{"t":1.5,"event":"idle_timeout","lower_s":1,"upper_s":null,"expiry":"none","inbound_only":false,"keepalive_refreshes":null,"ping_refreshes":null,"keepalive_every_s":null,"ping_every_s":null,"heartbeat_idle_s":null,"heartbeat_interval_s":null,"heartbeat_dead_after_s":null,"keepalive_idle_s":null,"keepalive_interval_s":null,"keepalive_dead_after_s":null,"probes":4}` + "\n"},
		{IdleVerdict{Lower: 59 * time.Second, Upper: 60 * time.Second, Expiry: "reset", InboundOnly: true, KeepAlive: "no", Pings: "yes",
			KeepAliveEvery: 29 * time.Second, PingEvery: 29500 * time.Millisecond, Probes: 30,
			Heartbeat: Setting{Idle: 47200 * time.Millisecond, Interval: 3 * time.Second, Count: 3, DeadAfter: 56200 * time.Millisecond},
			Kernel:    Setting{Idle: 47 * time.Second, Interval: 3 * time.Second, Count: 3, DeadAfter: 56 * time.Second}},
			"   1.500  idle timeout: between 59s and 1m0s; expiry reset: the middlebox forgot the connection and answered its next packet with a RST; inbound only: only packets from the server's side found the connection forgotten; kernel keep-alive every 29s do not keep it alive; heartbeat round trips every 29.5s keep it alive; recommended: hbclient --idle 47.2s --interval 3s --probes 3 (dead after 56.2s), or --keepalive --keepalive-idle 47s --keepalive-interval 3s --keepalive-count 3 (dead after 56s) (30 probes)\n",
			`{"t":1.5,"event":"idle_timeout","lower_s":59,"upper_s":60,"expiry":"reset","inbound_only":true,"keepalive_refreshes":false,"ping_refreshes":true,"keepalive_every_s":29,"ping_every_s":29.5,"heartbeat_idle_s":47.2,"heartbeat_interval_s":3,"heartbeat_dead_after_s":56.2,"keepalive_idle_s":47,"keepalive_interval_s":3,"keepalive_dead_after_s":56,"probes":30}` + "\n"},
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
