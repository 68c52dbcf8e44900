package msg

import (
	"bytes"
	"testing"
	"time"
)

func BenchmarkReadFrame(b *testing.B) {
	var f Frame
	f.SetType(Ping)
	stream := bytes.Repeat(f[:], 64)
	r := bytes.NewReader(stream)
	b.SetBytes(FrameSize)
	b.ReportAllocs()
	for b.Loop() {
		if r.Len() == 0 {
			r.Reset(stream)
		}
		if err := ReadFrame(r, &f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStampPutRead(b *testing.B) {
	var f Frame
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		Stamp{Seq: 1, Sent: now}.Put(&f)
		if _, ok := ReadStamp(&f); !ok {
			b.Fatal("no stamp")
		}
	}
}
