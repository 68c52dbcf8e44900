package msg

import (
	"bytes"
	"testing"
)

// A frame that arrives in pieces is put back together; the buffer is lent
// only while a piece waits, and reused.
func TestPartialReassembles(t *testing.T) {
	var pool Pool
	var p Partial
	var want Frame
	want.SetType(Pong)
	copy(want[4:], "hello")
	buf := make([]byte, 2*FrameSize)

	for _, cut := range []int{1, 4, 500, FrameSize - 1} {
		// First piece.
		had := p.Unread(buf)
		n := copy(buf[had:], want[:cut])
		data := buf[:had+n]
		if len(data) >= FrameSize {
			t.Fatalf("cut %d: a whole frame after the first piece", cut)
		}
		p.Keep(data, &pool)
		if p.Len() != cut {
			t.Fatalf("cut %d: holds %d", cut, p.Len())
		}
		// The rest.
		had = p.Unread(buf)
		n = copy(buf[had:], want[cut:])
		data = buf[:had+n]
		if !bytes.Equal(data[:FrameSize], want[:]) {
			t.Fatalf("cut %d: the frame put back together differs", cut)
		}
		p.Keep(data[FrameSize:], &pool)
		if p.Len() != 0 || p.f != nil {
			t.Fatalf("cut %d: still holds %d bytes (buffer %v) between frames", cut, p.Len(), p.f != nil)
		}
	}
	if len(pool.spare) != 1 {
		t.Fatalf("%d buffers in the pool after one at a time was lent", len(pool.spare))
	}
	p.Keep(want[:3], &pool)
	p.Release(&pool)
	if p.Len() != 0 || len(pool.spare) != 1 {
		t.Fatalf("after Release: holds %d, pool %d", p.Len(), len(pool.spare))
	}
}
