package msg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Sizes of a frame and its parts. Every frame on the wire is exactly
// FrameSize bytes, whatever its type.
const (
	TypeSize  = 4                   // the big-endian type
	DataSize  = 1024                // the payload, opaque except for PING/PONG stamps
	FrameSize = TypeSize + DataSize // 1028
)

// Type is a frame's message type.
type Type uint32

// The message types of the seed programs. A peer ignores types it does not
// know, as the seed C server does (its switch has an empty default).
const (
	Ping Type = 1 // asks the peer for a Pong
	Pong Type = 2 // answers a Ping; our server echoes the Ping's data
	// Notice is ours, not the seed's: a short human-readable message from
	// the server, a warning or the reason it is about to close the
	// connection (see Notice and PutNotice). Peers that do not know it
	// ignore it, as the seed C programs do.
	Notice Type = 3
	// Call is ours: a client asks the server to speak first, with a
	// Callback, after the connection has been silent for the delay the
	// Call carries (see PutCall). It exists to find how long a middlebox
	// keeps an idle connection for packets coming in from the server's
	// side. The seed programs never send it, and the seed C server
	// ignores it.
	Call Type = 4
	// Callback is ours: the server's answer to a Call, sent once after the
	// silence the Call asked for. The seed C client counts it as life, as
	// it does any bytes.
	Callback Type = 5
	// Hello is ours: the client announces its heartbeat's settings once
	// it is connected (see PutHello), so that the server can hold it to
	// them. The seed C server ignores it; the seed C client never sends it.
	Hello Type = 6
	Type1 Type = 11 // application data, reported and otherwise ignored
	Type2 Type = 21 // application data, reported and otherwise ignored
)

// String names the type, or gives its number when it is not one we know.
func (t Type) String() string {
	switch t {
	case Ping:
		return "PING"
	case Pong:
		return "PONG"
	case Notice:
		return "NOTICE"
	case Call:
		return "CALL"
	case Callback:
		return "CALLBACK"
	case Hello:
		return "HELLO"
	case Type1:
		return "TYPE1"
	case Type2:
		return "TYPE2"
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// Known reports whether t is one of the types above.
func (t Type) Known() bool {
	switch t {
	case Ping, Pong, Notice, Call, Callback, Hello, Type1, Type2:
		return true
	}
	return false
}

// hostOrderPong is the type field of the seed C server's PONG read as
// big-endian: it assigns MSG_PONG without htonl, so on little-endian hosts
// the bytes are 02 00 00 00.
const hostOrderPong = 0x02000000

// Frame is one whole frame as it travels on the wire.
type Frame [FrameSize]byte

// Type returns the frame's type. hostOrder is true when the type bytes are
// the seed C server's PONG written in little-endian host order (02 00 00 00);
// the frame is then reported as a Pong so that the seed server interoperates.
func (f *Frame) Type() (t Type, hostOrder bool) {
	raw := binary.BigEndian.Uint32(f[:TypeSize])
	if raw == hostOrderPong {
		return Pong, true
	}
	return Type(raw), false
}

// SetType writes t, big-endian, into the frame's type field.
func (f *Frame) SetType(t Type) {
	binary.BigEndian.PutUint32(f[:TypeSize], uint32(t))
}

// Data returns the frame's 1024 data bytes (a slice of f, not a copy).
func (f *Frame) Data() []byte { return f[TypeSize:] }

// ErrShortFrame means the stream ended part way through a frame: the peer
// closed (or reset) the connection after sending only some of its bytes.
var ErrShortFrame = errors.New("msg: stream ended in the middle of a frame")

// ReadFrame reads exactly one frame from r into f. It returns io.EOF when r
// ends cleanly between frames and an error wrapping ErrShortFrame when r ends
// inside one; other errors from r are returned as they are.
func ReadFrame(r io.Reader, f *Frame) error {
	n, err := io.ReadFull(r, f[:])
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w (%d of %d bytes)", ErrShortFrame, n, FrameSize)
	default:
		return err
	}
}

// Stamp is what our PINGs carry in their data, and what our server's PONGs
// echo back:
//
//	data[0:4]   magic "HBT1", so that a stamp is told apart from other bytes
//	data[4:12]  sequence number, big-endian uint64, 1 for the first PING
//	data[12:20] send time, big-endian int64 nanoseconds since the Unix epoch
//	data[20:]   zero
type Stamp struct {
	Seq  uint64
	Sent time.Time
}

// StampMagic opens every stamp.
const StampMagic = "HBT1"

const stampSize = 20

// Put writes s into f's data and zeroes the rest of the data.
func (s Stamp) Put(f *Frame) {
	d := f.Data()
	copy(d, StampMagic)
	binary.BigEndian.PutUint64(d[4:12], s.Seq)
	binary.BigEndian.PutUint64(d[12:20], uint64(s.Sent.UnixNano()))
	clear(d[stampSize:])
}

// ReadStamp returns the stamp in f's data; ok is false when the data does
// not start with StampMagic (a peer that does not echo, such as the seed C
// server, whose PONG data is uninitialised memory).
func ReadStamp(f *Frame) (s Stamp, ok bool) {
	d := f.Data()
	if string(d[:4]) != StampMagic {
		return Stamp{}, false
	}
	s.Seq = binary.BigEndian.Uint64(d[4:12])
	s.Sent = time.Unix(0, int64(binary.BigEndian.Uint64(d[12:20])))
	return s, true
}

// Severity says what a Notice means for the connection.
type Severity uint8

const (
	Warning Severity = 1 // the connection goes on; the peer should change what it does
	Closing Severity = 2 // the sender closes the connection right after this frame
)

// A Notice frame's data:
//
//	data[0]     severity: 1 warning, 2 closing
//	data[1:]    the message, UTF-8, ended by the first zero byte or the frame's end
//
// Messages longer than 1023 bytes are cut.

// PutNotice makes f a Notice with severity and text.
func PutNotice(f *Frame, sev Severity, text string) {
	f.SetType(Notice)
	d := f.Data()
	d[0] = byte(sev)
	n := copy(d[1:], text)
	clear(d[1+n:])
}

// ReadNotice returns a Notice's severity and text.
func ReadNotice(f *Frame) (Severity, string) {
	d := f.Data()
	text := d[1:]
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	return Severity(d[0]), string(text)
}

// A Call frame's data, which its Callback echoes:
//
//	data[0:4]   delay, big-endian uint32 milliseconds: the silence after
//	            which the server sends the Callback (0 cancels a Call)
//	data[4:12]  tag, big-endian uint64, the client's to choose
//	data[12:]   zero
const callSize = 12

// MaxCallDelay is the longest delay a Call may ask for. A longer one is
// answered with a warning Notice: a server holding a deadline for days
// for anyone who asks is not worth it, and 2 h is longer than the idle
// timeouts of NATs and load balancers people meet (AWS NLB 350 s, Azure
// LB 4 min, IPVS 900 s), though not Linux conntrack's 5 days.
const MaxCallDelay = 2 * time.Hour

// CallInfo is what a Call asks for and its Callback echoes.
type CallInfo struct {
	Delay time.Duration // whole milliseconds on the wire; 0 cancels
	Tag   uint64
}

// PutCall makes f a frame of type t (Call or Callback) carrying c. The
// delay is cut to whole milliseconds; one over the uint32 range is sent as
// the largest value, which a server refuses.
func PutCall(f *Frame, t Type, c CallInfo) {
	f.SetType(t)
	d := f.Data()
	ms := c.Delay.Milliseconds()
	if ms > math.MaxUint32 {
		ms = math.MaxUint32
	}
	binary.BigEndian.PutUint32(d[0:4], uint32(max(ms, 0)))
	binary.BigEndian.PutUint64(d[4:12], c.Tag)
	clear(d[callSize:])
}

// ReadCall returns what a Call or a Callback carries.
func ReadCall(f *Frame) CallInfo {
	d := f.Data()
	return CallInfo{
		Delay: time.Duration(binary.BigEndian.Uint32(d[0:4])) * time.Millisecond,
		Tag:   binary.BigEndian.Uint64(d[4:12]),
	}
}
