package event

// This file is the events both tools emit alike, and hbclient's first
// two.

import (
	"strconv"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// PingSent is hbclient's "ping": PING #Seq was sent.
type PingSent struct {
	Seq uint64 // the PING's sequence number, from 1
}

func (PingSent) Name() string { return Ping }

func (e PingSent) AppendText(b []byte) []byte {
	b = append(b, "PING #"...)
	b = strconv.AppendUint(b, e.Seq, 10)
	return append(b, " sent"...)
}

func (e PingSent) Fields(f *Fields) { f.Uint("seq", e.Seq) }

// ProbeMissed is hbclient's "missed": probe Missed of Probes went without
// a PONG within Interval.
type ProbeMissed struct {
	Missed, Probes int           // the probes missed in a row, of how many declare the peer dead
	Interval       time.Duration // how long each probe waits for its PONG
}

func (ProbeMissed) Name() string { return Missed }

func (e ProbeMissed) AppendText(b []byte) []byte {
	b = appendProbeOf(b, e.Missed, e.Probes)
	b = append(b, " missed: no PONG within "...)
	return append(b, e.Interval.String()...)
}

func (e ProbeMissed) Fields(f *Fields) { missedFields(f, e.Missed, e.Probes) }

// appendProbeOf appends "probe missed/probes".
func appendProbeOf(b []byte, missed, probes int) []byte {
	b = append(b, "probe "...)
	b = strconv.AppendInt(b, int64(missed), 10)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(probes), 10)
}

// missedFields are a "missed" event's fields.
func missedFields(f *Fields, missed, probes int) {
	f.Int("missed", int64(missed))
	f.Int("probes", int64(probes))
}

// Failed is an "error": Op (when not empty) failed with Err, which is
// the JSON's "error".
type Failed struct{ Op, Err string }

func (Failed) Name() string { return Error }

func (e Failed) AppendText(b []byte) []byte {
	if e.Op != "" {
		b = append(append(b, e.Op...), ": "...)
	}
	return append(b, e.Err...)
}

func (e Failed) Fields(f *Fields) { f.Str("error", e.Err) }

// DataReceived is a "data": a frame of Type that is neither PING nor PONG
// came; one of a type we do not know is ignored.
type DataReceived struct{ Type msg.Type }

func (DataReceived) Name() string { return Data }

func (e DataReceived) AppendText(b []byte) []byte {
	b = append(b, e.Type.String()...)
	b = append(b, " frame received"...)
	if !e.Type.Known() {
		b = append(b, ", ignored"...)
	}
	return b
}

func (e DataReceived) Fields(f *Fields) {
	f.Uint("type", uint64(e.Type))
	f.Str("name", e.Type.String())
}

// ConnClosed is a "closed": the connection ended for Reason, with Detail
// when there is more to say (empty: nothing).
type ConnClosed struct{ Reason, Detail string }

func (ConnClosed) Name() string { return Closed }

func (e ConnClosed) AppendText(b []byte) []byte {
	b = append(append(b, "closed: "...), e.Reason...)
	if e.Detail != "" {
		b = append(append(append(b, " ("...), e.Detail...), ')')
	}
	return b
}

func (e ConnClosed) Fields(f *Fields) { f.Str("reason", e.Reason) }

// Warning is a "note" warning: the settings combine in a way that
// surprises people, in Text's words.
type Warning struct{ Text string }

func (Warning) Name() string { return Note }

func (e Warning) AppendText(b []byte) []byte { return append(append(b, "warning: "...), e.Text...) }

func (e Warning) Fields(f *Fields) {
	f.Str("note", "warning")
	f.Str("warning", e.Text)
}
