package event

import (
	"strconv"
	"time"
)

// Hello is the name of hbserver's event for a client's HELLO.
const Hello = "hello"

// ClientAnnounced is hbserver's "hello": the heartbeat a client announced
// in its HELLO, the window it implies and, under --reap-after-announced,
// the silence that reaps it.
type ClientAnnounced struct {
	Idle, Interval time.Duration
	// Probes is zero when the client runs no heartbeat; the other
	// settings are then not said.
	Probes     int
	AcceptLate bool
	Jitter     int
	// Window is the longest the client goes without sending while it
	// lives: the longer of Idle and Interval. Zero without a heartbeat.
	Window time.Duration
	// ReapAfter is Factor x Window, the silence that reaps it; zero when
	// it is not reaped (no --reap-after-announced, or no heartbeat).
	ReapAfter time.Duration
	Factor    float64
}

func (ClientAnnounced) Name() string { return Hello }

func (e ClientAnnounced) AppendText(b []byte) []byte {
	if e.Probes == 0 {
		return append(b, "HELLO: no heartbeat"...)
	}
	return appendRule(append(b, "HELLO: heartbeat "...), e.Idle, e.Probes, e.Interval)
}

// AppendDetails is what the HELLO implies: how often the client sends,
// its other settings, and when it is reaped.
func (e ClientAnnounced) AppendDetails(b []byte) []byte {
	if e.Probes == 0 {
		return append(b, "it sends nothing unasked"...)
	}
	b = append(b, "it sends at least every "...)
	b = appendSeconds(b, e.Window)
	if e.AcceptLate {
		b = append(b, "\naccept-late: any frame counts as life, however late"...)
	}
	if e.Jitter > 0 {
		b = appendJitterRule(append(b, '\n'), e.Jitter)
		b = append(b, " (--jitter "...)
		b = strconv.AppendInt(b, int64(e.Jitter), 10)
		b = append(b, ')')
	}
	if e.ReapAfter > 0 {
		b = append(b, "\nreaped after "...)
		b = appendSeconds(b, e.ReapAfter)
		b = append(b, " of silence\n  ("...)
		b = strconv.AppendFloat(b, e.Factor, 'g', -1, 64)
		b = append(b, " x "...)
		b = appendSeconds(b, e.Window)
		b = append(b, ", --reap-after-announced)"...)
	}
	return b
}

func (e ClientAnnounced) Fields(f *Fields) {
	f.Int("probes", int64(e.Probes))
	if f.Want(e.Probes > 0) {
		f.Secs("idle_s", e.Idle)
		f.Secs("interval_s", e.Interval)
		f.Bool("accept_late", e.AcceptLate)
		f.Int("jitter", int64(e.Jitter))
		f.Secs("window_s", e.Window)
	}
	if f.Want(e.ReapAfter > 0) {
		f.Secs("reap_after_s", e.ReapAfter)
	}
}
