package event

// This file is what both tools' events share: the events they emit alike,
// the kernel's settings in effect and how times are written; and
// hbclient's first two events.

import (
	"strconv"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// PingSent is hbclient's "ping": PING #Seq was sent.
type PingSent struct {
	Seq uint64 // the PING's sequence number, from 1
	// Due is when its PONG is due by, since the start: said so that the
	// next line's time can be checked against it. 0: not said.
	Due time.Duration
}

func (PingSent) Name() string { return Ping }

func (e PingSent) AppendText(b []byte) []byte {
	b = append(b, "PING #"...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, " sent"...)
	if e.Due > 0 {
		b = append(b, ", its PONG due by "...)
		b = appendAt(b, e.Due)
	}
	return b
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
	return appendSeconds(b, e.Interval)
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

// KernelOptions is the kernel's detection in effect on a socket, as read
// back after it was set. The zero value says nothing: no option was set.
type KernelOptions struct {
	Set         bool          // options were set: the rest is said
	KeepAlive   bool          // keep-alive is on; the next four are its settings
	Idle        time.Duration // silence before the first probe
	Interval    time.Duration // between probes
	Count       int           // probes unanswered before the peer is dead
	DeadAfter   time.Duration // what the settings imply, the user timeout included
	UserTimeout time.Duration // TCP_USER_TIMEOUT; 0: not set
	// Retries2 is Linux's tcp_retries2, which hbclient says when no user
	// timeout is set: unacknowledged data is given up after GiveUp. 0:
	// not read.
	Retries2 int
	GiveUp   time.Duration
}

func (k KernelOptions) fields(f *Fields) {
	if !f.Want(k.Set) {
		return
	}
	f.Bool("keepalive", k.KeepAlive)
	if f.Want(k.KeepAlive) {
		f.Secs("keepalive_idle_s", k.Idle)
		f.Secs("keepalive_interval_s", k.Interval)
		f.Int("keepalive_count", int64(k.Count))
		f.Secs("keepalive_predicted_s", k.DeadAfter)
	}
	if f.Want(k.UserTimeout > 0) {
		f.Secs("user_timeout_s", k.UserTimeout)
	}
}

// appendSeconds appends d in seconds to the millisecond, "19.000 s": every
// time in a text line has this one precision, so that times read alike
// beside each other and beside the lines' own times. From a minute up, Go's
// reading follows ("924.600 s (15m24.6s)"): no one counts that many
// seconds.
func appendSeconds(b []byte, d time.Duration) []byte {
	b = append(strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64), " s"...)
	if d >= time.Minute {
		b = append(append(append(b, " ("...), d.Round(time.Millisecond).String()...), ')')
	}
	return b
}

// appendAt appends a time since the start as a line's time is written,
// "21.000", for a line that names another instant.
func appendAt(b []byte, t time.Duration) []byte {
	return strconv.AppendFloat(b, t.Seconds(), 'f', 3, 64)
}
