package event

import (
	"strconv"
	"time"
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
	b = append(b, "probe "...)
	b = strconv.AppendInt(b, int64(e.Missed), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(e.Probes), 10)
	b = append(b, " missed: no PONG within "...)
	return append(b, e.Interval.String()...)
}

func (e ProbeMissed) Fields(f *Fields) {
	f.Int("missed", int64(e.Missed))
	f.Int("probes", int64(e.Probes))
}
