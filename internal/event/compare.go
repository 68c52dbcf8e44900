package event

import (
	"time"
)

// Compare is name of the event of "hbclient compare --json".
const Compare = "compare"

// Verdict is when one failure is found, for Comparison.
type Verdict struct {
	// At is the time from the peer's last sign of life; meaningless when
	// Never.
	At    time.Duration
	Never bool
	// By is the detector: "heartbeat", "keep-alive", "user timeout" or
	// "retransmissions".
	By string
}

// Comparison is one preset's line of "hbclient compare --json": when it
// declares the peer dead in each classic failure, and its formula.
type Comparison struct {
	Preset, Formula, Settings string
	// Sleep is the slow server's SLEEP.
	Sleep                         time.Duration
	Hung, Vanished, Slow, Unacked Verdict
}

func (Comparison) Name() string { return Compare }

func (e Comparison) AppendText(b []byte) []byte {
	b = append(b, e.Preset...)
	b = append(b, ": "...)
	b = append(b, e.Formula...)
	for _, v := range []struct {
		what string
		v    Verdict
	}{{"; hung process ", e.Hung}, {"; vanished host ", e.Vanished}, {"; slow server (SLEEP " + e.Sleep.String() + ") ", e.Slow}, {"; unacknowledged data ", e.Unacked}} {
		b = append(b, v.what...)
		b = v.v.AppendCell(b)
	}
	return b
}

// AppendCell appends the verdict as a cell of the comparison's table:
// "never", "1m0s", or, when the kernel finds it, "20s ut" (the user
// timeout), "2h11m15s ka" (keep-alive) or "15m24.6s rtx"
// (retransmissions).
func (v Verdict) AppendCell(b []byte) []byte {
	if v.Never {
		return append(b, "never"...)
	}
	b = append(b, v.At.String()...)
	switch v.By {
	case "keep-alive":
		b = append(b, " ka"...)
	case "user timeout":
		b = append(b, " ut"...)
	case "retransmissions":
		b = append(b, " rtx"...)
	}
	return b
}

func (v Verdict) fields(f *Fields, name string) {
	if v.Never {
		f.Any(name+"_s", nil)
	} else {
		f.Secs(name+"_s", v.At)
	}
	f.Str(name+"_by", v.By)
}

func (e Comparison) Fields(f *Fields) {
	f.Str("preset", e.Preset)
	f.Str("formula", e.Formula)
	f.Str("settings", e.Settings)
	f.Secs("sleep_s", e.Sleep)
	e.Hung.fields(f, "hung")
	e.Vanished.fields(f, "vanished")
	e.Slow.fields(f, "slow")
	e.Unacked.fields(f, "unacked")
}

// appendLike appends the preset a tool's settings come from, in its
// system's names, as a detail line: "like ssh: ServerAliveInterval 15s,
// ..."; nothing without one.
func appendLike(b []byte, like, settings string) []byte {
	if like == "" {
		return b
	}
	b = append(b, "\nlike "...)
	b = append(b, like...)
	b = append(b, ": "...)
	return append(b, settings...)
}

// likeFields writes like and like_settings when there is a preset.
func likeFields(f *Fields, like, settings string) {
	if f.Want(like != "") {
		f.Str("like", like)
		f.Str("like_settings", settings)
	}
}
