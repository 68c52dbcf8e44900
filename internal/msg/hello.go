package msg

import (
	"encoding/binary"
	"math"
	"time"
)

// A Hello frame's data, the client's heartbeat as it runs it:
//
//	data[0:8]   idle, big-endian uint64 nanoseconds
//	data[8:16]  interval, big-endian uint64 nanoseconds
//	data[16:20] probes, big-endian uint32; 0: no heartbeat
//	data[20]    flags: bit 0 (0x01) accept-late; the other bits zero
//	data[21]    jitter, percent, 0 to 50
//	data[22:]   zero
const helloSize = 22

// HelloInfo is what a Hello announces.
type HelloInfo struct {
	Idle, Interval time.Duration
	// Probes is zero when the client runs no heartbeat: it sends nothing
	// unasked, and Idle and Interval mean nothing.
	Probes     int
	AcceptLate bool
	Jitter     int // percent
}

const helloAcceptLate = 0x01

// PutHello makes f a Hello carrying h. A value out of its field's range
// is sent as the nearest one in it (negative as 0, probes over 2^32-1 as
// that, jitter over 255 as 255).
func PutHello(f *Frame, h HelloInfo) {
	f.SetType(Hello)
	d := f.Data()
	binary.BigEndian.PutUint64(d[0:8], uint64(max(h.Idle, 0)))
	binary.BigEndian.PutUint64(d[8:16], uint64(max(h.Interval, 0)))
	binary.BigEndian.PutUint32(d[16:20], uint32(min(max(h.Probes, 0), math.MaxUint32)))
	d[20] = 0
	if h.AcceptLate {
		d[20] = helloAcceptLate
	}
	d[21] = byte(min(max(h.Jitter, 0), math.MaxUint8))
	clear(d[helloSize:])
}

// ReadHello returns what a Hello announces. A duration over the largest
// time.Duration reads as the largest.
func ReadHello(f *Frame) HelloInfo {
	d := f.Data()
	dur := func(b []byte) time.Duration {
		return time.Duration(min(binary.BigEndian.Uint64(b), math.MaxInt64))
	}
	return HelloInfo{
		Idle:       dur(d[0:8]),
		Interval:   dur(d[8:16]),
		Probes:     int(binary.BigEndian.Uint32(d[16:20])),
		AcceptLate: d[20]&helloAcceptLate != 0,
		Jitter:     int(d[21]),
	}
}
