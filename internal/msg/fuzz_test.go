package msg

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// chunked hands out its bytes in two reads, split at cut, to catch code
// that takes one read for one frame.
type chunked struct {
	b   []byte
	cut int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := len(c.b)
	if c.cut > 0 && c.cut < n {
		n = c.cut
	}
	n = copy(p, c.b[:n])
	c.b = c.b[n:]
	c.cut = 0
	return n, nil
}

func seedFrame(t Type) []byte {
	var f Frame
	f.SetType(t)
	if t == Ping || t == Pong {
		Stamp{Seq: 7, Sent: time.Unix(1700000000, 0)}.Put(&f)
	}
	return f[:]
}

func FuzzReadFrame(f *testing.F) {
	for _, t := range []Type{Ping, Pong, Type1, Type2, 99} {
		f.Add(seedFrame(t), uint16(100))
	}
	f.Add(append(seedFrame(Ping), seedFrame(Pong)...), uint16(1028))
	f.Add([]byte{0x02, 0, 0, 0}, uint16(2)) // the seed C server's PONG type, truncated
	f.Add(seedFrame(Ping)[:700], uint16(3)) // half a frame
	f.Add(append(seedFrame(Type1), 1, 2, 3), uint16(1030))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16) {
		r := &chunked{b: append([]byte(nil), b...), cut: int(cut)}
		var fr Frame
		frames := 0
		for {
			err := ReadFrame(r, &fr)
			if err != nil {
				whole := len(b)%FrameSize == 0
				if whole && err != io.EOF {
					t.Fatalf("%d bytes (whole frames): %v, want io.EOF", len(b), err)
				}
				if !whole && !errors.Is(err, ErrShortFrame) {
					t.Fatalf("%d bytes (a partial frame): %v, want ErrShortFrame", len(b), err)
				}
				break
			}
			in := b[frames*FrameSize : (frames+1)*FrameSize]
			if !bytes.Equal(fr[:], in) {
				t.Fatalf("frame %d differs from its input bytes", frames)
			}
			// Encoding the decoded type gives the input back, except for
			// the seed server's host-order PONG, which we write big-endian.
			typ, hostOrder := fr.Type()
			var out Frame
			out.SetType(typ)
			copy(out.Data(), fr.Data())
			if hostOrder {
				if typ != Pong || !bytes.Equal(in[:4], []byte{2, 0, 0, 0}) {
					t.Fatalf("host order reported for type bytes % x", in[:4])
				}
			} else if out != fr {
				t.Fatalf("Encode(Decode(b)) != b for type bytes % x", in[:4])
			}
			if s, ok := ReadStamp(&fr); ok {
				var again Frame
				again.SetType(typ)
				copy(again.Data(), fr.Data())
				s.Put(&again)
				if !bytes.Equal(again[TypeSize:TypeSize+stampSize], in[TypeSize:TypeSize+stampSize]) {
					t.Fatal("a stamp does not encode back to its bytes")
				}
			}
			frames++
		}
		if frames != len(b)/FrameSize {
			t.Fatalf("read %d frames from %d bytes", frames, len(b))
		}
	})
}
