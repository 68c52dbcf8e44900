package event

import (
	"io"
	"testing"
	"time"
)

// The server emits a line per frame under load: these say what one costs.
func benchmarkEmit(b *testing.B, w *Writer) {
	b.ReportAllocs()
	for i := range b.N {
		w.Emit(time.Duration(i)*time.Microsecond, Pong, "#17 PONG sent for PING #4, 1.0001s after the PING arrived",
			F("conn", 17), F("peer", "127.0.0.1:54098"), F("seq", uint64(i)), Secs("held_s", 1000100*time.Microsecond))
	}
}

func BenchmarkEmitText(b *testing.B) { benchmarkEmit(b, NewWriter(io.Discard, false)) }
func BenchmarkEmitJSON(b *testing.B) { benchmarkEmit(b, NewWriter(io.Discard, true)) }
