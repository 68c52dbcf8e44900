package event

import (
	"fmt"
	"time"

	"github.com/heartbeat/heartbeat/internal/plural"
)

// Names of the events of the idle-timeout measurement (CALL, CALLBACK:
// docs/PROTOCOL.md; hbclient idle-timeout).
const (
	Callback    = "callback"     // hbserver: a CALLBACK went, after the silence a CALL asked for
	IdleTimeout = "idle_timeout" // hbclient idle-timeout: the verdict
	IdleProbe   = "idle_probe"   // hbclient idle-timeout: how one probe ended
	IdleStatus  = "idle_status"  // hbclient idle-timeout: the progress line
)

// CallbackSent is hbserver's "callback": the CALLBACK a CALL asked for
// went, after Delay of silence.
type CallbackSent struct {
	Delay time.Duration // the silence the CALL asked for
	Tag   uint64        // the CALL's tag, echoed
}

func (CallbackSent) Name() string { return Callback }

func (e CallbackSent) AppendText(b []byte) []byte {
	return fmt.Appendf(b, "CALLBACK sent after %s of silence (CALL tag %d)", e.Delay, e.Tag)
}

func (e CallbackSent) Fields(f *Fields) {
	f.Secs("delay_s", e.Delay)
	f.Uint("tag", e.Tag)
}

// IdleProbeEnded is "idle_probe": one connection of the measurement ended.
type IdleProbeEnded struct {
	Kind    string        // gap, keep-alive, pings, outlives
	Dir     string        // client-first, server-first
	Gap     time.Duration // how long it stayed idle (or was watched)
	Every   time.Duration // keep-alive or PING interval; 0 for a plain gap
	Outcome string        // alive, silent-drop, reset, close
	At      time.Duration // the idle time the outcome was seen at
	Why     string        // what was seen, with TCP_INFO's evidence where there is some
}

func (IdleProbeEnded) Name() string { return IdleProbe }

func (e IdleProbeEnded) AppendText(b []byte) []byte {
	b = fmt.Appendf(b, "%s %s %s", e.Dir, e.Kind, e.Gap.Round(time.Millisecond))
	if e.Every > 0 {
		b = fmt.Appendf(b, " (every %s)", e.Every.Round(time.Millisecond))
	}
	b = fmt.Appendf(b, ": %s", e.Outcome)
	if e.At < e.Gap {
		b = fmt.Appendf(b, " at %s", e.At.Round(time.Millisecond))
	}
	if e.Why != "" {
		b = fmt.Appendf(b, " (%s)", e.Why)
	}
	return b
}

func (e IdleProbeEnded) Fields(f *Fields) {
	f.Str("kind", e.Kind)
	f.Str("dir", e.Dir)
	f.Secs("gap_s", e.Gap)
	if f.Want(e.Every > 0) {
		f.Secs("every_s", e.Every)
	}
	f.Str("outcome", e.Outcome)
	f.Secs("at_s", e.At)
	f.Str("why", e.Why)
}

// IdleProgress is "idle_status": where the measurement stands.
type IdleProgress struct {
	Lower, Upper time.Duration // the bracket so far; Upper 0: nothing expired yet
	Running      int           // connections idling
	Left         time.Duration // at most this long to go
}

func (IdleProgress) Name() string { return IdleStatus }

func (e IdleProgress) AppendText(b []byte) []byte {
	if e.Upper > 0 {
		b = fmt.Appendf(b, "open: between %s and %s", e.Lower.Round(time.Millisecond), e.Upper.Round(time.Millisecond))
	} else {
		b = fmt.Appendf(b, "open: above %s, nothing expired yet", e.Lower.Round(time.Millisecond))
	}
	return fmt.Appendf(b, "; %s idling; at most %s left", plural.Count(e.Running, "connection"), e.Left.Round(time.Second))
}

func (e IdleProgress) Fields(f *Fields) {
	f.Secs("lower_s", e.Lower)
	if e.Upper > 0 {
		f.Secs("upper_s", e.Upper)
	} else {
		f.Any("upper_s", nil)
	}
	f.Int("running", int64(e.Running))
	f.Secs("left_s", e.Left)
}

// Setting is a recommended detector setting; Idle 0 means none can be
// given.
type Setting struct {
	Idle, Interval, DeadAfter time.Duration
	Count                     int
}

// IdleVerdict is "idle_timeout": what the measurement found.
type IdleVerdict struct {
	Lower, Upper time.Duration // Upper 0: nothing expired up to Max
	Max          time.Duration
	Expiry       string // silent-drop, reset, close, none
	InboundOnly  bool
	// KeepAlive and Pings: "yes", "no", or "" when not measured.
	KeepAlive, Pings          string
	KeepAliveEvery, PingEvery time.Duration
	Heartbeat, Kernel         Setting
	Probes                    int
}

func (IdleVerdict) Name() string { return IdleTimeout }

var expiryWords = map[string]string{
	"silent-drop": "silent drop: the middlebox forgot the connection and dropped its next packets without a word; the sender retransmits into the void",
	"reset":       "reset: the middlebox forgot the connection and answered its next packet with a RST",
	"close":       "close: the middlebox closed the connection itself (FIN), as a proxy does on its idle timeout",
}

func (e IdleVerdict) AppendText(b []byte) []byte {
	if e.Upper == 0 {
		return fmt.Appendf(b, "idle timeout: none up to %s (--max): every connection outlived its idle gap; no idle setting is needed for the path (%s)",
			e.Max, plural.Count(e.Probes, "probe"))
	}
	b = fmt.Appendf(b, "idle timeout: between %s and %s; expiry %s", e.Lower.Round(time.Millisecond), e.Upper.Round(time.Millisecond), expiryWords[e.Expiry])
	if e.InboundOnly {
		b = append(b, "; inbound only: only packets from the server's side found the connection forgotten"...)
	}
	b = appendRefresh(b, "kernel keep-alive", e.KeepAlive, e.KeepAliveEvery)
	b = appendRefresh(b, "heartbeat round trips", e.Pings, e.PingEvery)
	if h := e.Heartbeat; h.Idle > 0 {
		b = fmt.Appendf(b, "; recommended: hbclient --idle %s --interval %s --probes %d (dead after %s)", h.Idle, h.Interval, h.Count, h.DeadAfter)
	} else {
		b = append(b, "; no heartbeat setting survives it"...)
	}
	if k := e.Kernel; k.Idle > 0 {
		b = fmt.Appendf(b, ", or --keepalive --keepalive-idle %s --keepalive-interval %s --keepalive-count %d (dead after %s)", k.Idle, k.Interval, k.Count, k.DeadAfter)
	} else {
		b = append(b, "; no keep-alive setting (whole seconds) fits under it"...)
	}
	return fmt.Appendf(b, " (%s)", plural.Count(e.Probes, "probe"))
}

func appendRefresh(b []byte, what, answer string, every time.Duration) []byte {
	switch answer {
	case "yes":
		return fmt.Appendf(b, "; %s every %s keep it alive", what, every.Round(time.Millisecond))
	case "no":
		return fmt.Appendf(b, "; %s every %s do not keep it alive", what, every.Round(time.Millisecond))
	}
	return fmt.Appendf(b, "; %s: not measured", what)
}

func (e IdleVerdict) Fields(f *Fields) {
	f.Secs("lower_s", e.Lower)
	if e.Upper > 0 {
		f.Secs("upper_s", e.Upper)
	} else {
		f.Any("upper_s", nil)
	}
	f.Str("expiry", e.Expiry)
	f.Bool("inbound_only", e.InboundOnly)
	refreshField(f, "keepalive_refreshes", e.KeepAlive)
	refreshField(f, "ping_refreshes", e.Pings)
	optSecs(f, "keepalive_every_s", e.KeepAliveEvery)
	optSecs(f, "ping_every_s", e.PingEvery)
	optSecs(f, "heartbeat_idle_s", e.Heartbeat.Idle)
	optSecs(f, "heartbeat_interval_s", e.Heartbeat.Interval)
	optSecs(f, "heartbeat_dead_after_s", e.Heartbeat.DeadAfter)
	optSecs(f, "keepalive_idle_s", e.Kernel.Idle)
	optSecs(f, "keepalive_interval_s", e.Kernel.Interval)
	optSecs(f, "keepalive_dead_after_s", e.Kernel.DeadAfter)
	f.Int("probes", int64(e.Probes))
}

func refreshField(f *Fields, k, answer string) {
	switch answer {
	case "yes":
		f.Bool(k, true)
	case "no":
		f.Bool(k, false)
	default:
		f.Any(k, nil)
	}
}

// optSecs writes d in seconds, or null when it is zero (none).
func optSecs(f *Fields, k string, d time.Duration) {
	if d == 0 {
		f.Any(k, nil)
		return
	}
	f.Secs(k, d)
}
