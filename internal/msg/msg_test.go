package msg

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestFrameSize(t *testing.T) {
	var f Frame
	if len(f) != 1028 {
		t.Fatalf("frame is %d bytes, the seed programs send 1028", len(f))
	}
}

func TestTypeBytesGolden(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		want string
	}{
		{Ping, "00000001"},
		{Pong, "00000002"},
		{Call, "00000004"},
		{Callback, "00000005"},
		{Hello, "00000006"},
		{Type1, "0000000b"},
		{Type2, "00000015"},
	} {
		var f Frame
		f.SetType(tc.typ)
		if got := hex.EncodeToString(f[:4]); got != tc.want {
			t.Errorf("%v: type bytes %s, want %s", tc.typ, got, tc.want)
		}
		got, hostOrder := f.Type()
		if got != tc.typ || hostOrder {
			t.Errorf("%v: decoded as %v (host order %v)", tc.typ, got, hostOrder)
		}
	}
}

// The seed C server writes pong_msg.type = MSG_PONG without htonl, so a
// little-endian host puts 02 00 00 00 on the wire.
func TestSeedServerPongBytes(t *testing.T) {
	var f Frame
	copy(f[:], []byte{0x02, 0x00, 0x00, 0x00})
	typ, hostOrder := f.Type()
	if typ != Pong || !hostOrder {
		t.Fatalf("02 00 00 00 decoded as %v (host order %v), want PONG in host order", typ, hostOrder)
	}
	// The same value in the other order is only a PONG in network order.
	copy(f[:], []byte{0x00, 0x00, 0x00, 0x02})
	if typ, hostOrder = f.Type(); typ != Pong || hostOrder {
		t.Fatalf("00 00 00 02 decoded as %v (host order %v)", typ, hostOrder)
	}
	// A little-endian PING is not special: it is an unknown type.
	copy(f[:], []byte{0x01, 0x00, 0x00, 0x00})
	if typ, _ = f.Type(); typ.Known() {
		t.Fatalf("01 00 00 00 decoded as known type %v", typ)
	}
}

func TestStampGolden(t *testing.T) {
	var f Frame
	for i := range f {
		f[i] = 0xff // Put must clear what it does not write
	}
	f.SetType(Ping)
	Stamp{Seq: 258, Sent: time.Unix(0, 0x0102030405060708)}.Put(&f)
	want := "00000001" + hex.EncodeToString([]byte("HBT1")) +
		"0000000000000102" + "0102030405060708" + strings.Repeat("00", DataSize-20)
	if got := hex.EncodeToString(f[:]); got != want {
		t.Fatalf("frame bytes\n got %s\nwant %s", got, want)
	}
	s, ok := ReadStamp(&f)
	if !ok || s.Seq != 258 || s.Sent.UnixNano() != 0x0102030405060708 {
		t.Fatalf("ReadStamp = %+v, %v", s, ok)
	}
}

func TestReadStampRejectsForeignData(t *testing.T) {
	var f Frame
	copy(f.Data(), "HBT0garbage")
	if _, ok := ReadStamp(&f); ok {
		t.Fatal("data without the magic was read as a stamp")
	}
}

func TestReadFrameWholeFramesFromShortReads(t *testing.T) {
	var a, b Frame
	a.SetType(Ping)
	Stamp{Seq: 1, Sent: time.Unix(5, 0)}.Put(&a)
	b.SetType(Type2)
	stream := append(append([]byte{}, a[:]...), b[:]...)
	// OneByteReader returns a single byte per Read: the worst a stream can do.
	r := iotest.OneByteReader(bytes.NewReader(stream))
	var got Frame
	if err := ReadFrame(r, &got); err != nil || got != a {
		t.Fatalf("first frame: err %v, equal %v", err, got == a)
	}
	if err := ReadFrame(r, &got); err != nil || got != b {
		t.Fatalf("second frame: err %v, equal %v", err, got == b)
	}
	if err := ReadFrame(r, &got); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestReadFrameShort(t *testing.T) {
	var f Frame
	err := ReadFrame(bytes.NewReader(make([]byte, 500)), &f)
	if !errors.Is(err, ErrShortFrame) {
		t.Fatalf("500 bytes then EOF: %v, want ErrShortFrame", err)
	}
	if !strings.Contains(err.Error(), "500 of 1028") {
		t.Fatalf("error %q does not say how much arrived", err)
	}
}

func TestTypeString(t *testing.T) {
	if got := Type(99).String(); got != "type 99" {
		t.Fatalf("Type(99).String() = %q", got)
	}
	if Type(99).Known() || !Type1.Known() {
		t.Fatal("Known is wrong")
	}
}

func TestNoticeGolden(t *testing.T) {
	var f Frame
	for i := range f {
		f[i] = 0xff
	}
	PutNotice(&f, Closing, "bye")
	want := "00000003" + "02" + hex.EncodeToString([]byte("bye")) + strings.Repeat("00", DataSize-4)
	if got := hex.EncodeToString(f[:]); got != want {
		t.Fatalf("notice bytes\n got %s\nwant %s", got, want)
	}
	if sev, text := ReadNotice(&f); sev != Closing || text != "bye" {
		t.Fatalf("ReadNotice = %v %q", sev, text)
	}
	PutNotice(&f, Warning, strings.Repeat("x", 2000))
	if _, text := ReadNotice(&f); len(text) != DataSize-1 {
		t.Fatalf("a long notice is %d bytes, want it cut to %d", len(text), DataSize-1)
	}
}

// A Call's bytes, as docs/PROTOCOL.md gives them: type 4, the delay in
// milliseconds, the tag, zeros; a Callback echoes them under type 5.
func TestCallBytesGolden(t *testing.T) {
	var f Frame
	for i := range f {
		f[i] = 0xff // PutCall clears what it does not set
	}
	PutCall(&f, Call, CallInfo{Delay: 90*time.Second + 500*time.Microsecond, Tag: 0x0102030405060708})
	want := "00000004" + "00015f90" + "0102030405060708"
	if got := hex.EncodeToString(f[:16]); got != want {
		t.Fatalf("call bytes %s, want %s", got, want)
	}
	if !bytes.Equal(f[16:], make([]byte, FrameSize-16)) {
		t.Fatal("call padding is not zero")
	}
	if c := ReadCall(&f); c.Delay != 90*time.Second || c.Tag != 0x0102030405060708 {
		t.Fatalf("read back %+v", c)
	}
	PutCall(&f, Callback, CallInfo{Delay: 2000 * time.Hour})
	if got := hex.EncodeToString(f[:8]); got != "00000005ffffffff" {
		t.Fatalf("a delay over uint32 ms: %s, want the largest value", got)
	}
	PutCall(&f, Call, CallInfo{Delay: -time.Second})
	if c := ReadCall(&f); c.Delay != 0 {
		t.Fatalf("a negative delay reads back as %v, want 0", c.Delay)
	}
}

// A Hello's bytes, as docs/PROTOCOL.md gives them: type 6, idle and
// interval in nanoseconds, probes, the flags, the jitter, zeros.
func TestHelloBytesGolden(t *testing.T) {
	var f Frame
	for i := range f {
		f[i] = 0xff // PutHello clears what it does not set
	}
	h := HelloInfo{Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: 3, AcceptLate: true, Jitter: 20}
	PutHello(&f, h)
	want := "00000006" + "00000002540be400" + "00000000b2d05e00" + "00000003" + "01" + "14"
	if got := hex.EncodeToString(f[:26]); got != want {
		t.Fatalf("hello bytes %s, want %s", got, want)
	}
	if !bytes.Equal(f[26:], make([]byte, FrameSize-26)) {
		t.Fatal("hello padding is not zero")
	}
	if got := ReadHello(&f); got != h {
		t.Fatalf("read back %+v, want %+v", got, h)
	}
	PutHello(&f, HelloInfo{Idle: -time.Second, Probes: math.MaxInt, Jitter: 300})
	if got := ReadHello(&f); got.Idle != 0 || got.Probes != math.MaxUint32 || got.Jitter != 255 || got.AcceptLate {
		t.Fatalf("out of range values read back as %+v", got)
	}
	copy(f.Data()[8:16], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if got := ReadHello(&f); got.Interval != math.MaxInt64 {
		t.Fatalf("an interval over the largest duration reads as %v", got.Interval)
	}
}
