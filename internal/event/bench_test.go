package event

import (
	"io"
	"testing"
	"time"
)

// The server emits a line per frame under load: these say what one costs,
// as the tools run it (without the declaration check of test binaries).
func benchmarkEmit(b *testing.B, w *Writer) {
	defer func(on bool) { checkEmits = on }(checkEmits)
	checkEmits = false
	b.ReportAllocs()
	for i := range b.N {
		w.Emit(time.Duration(i)*time.Microsecond, Pong, "#17 PONG sent for PING #4, 1.0001s after the PING arrived",
			F("conn", 17), F("peer", "127.0.0.1:54098"), F("seq", uint64(i)), Secs("held_s", 1000100*time.Microsecond))
	}
	b.StopTimer()
	w.Close()
}

func BenchmarkEmitText(b *testing.B) { benchmarkEmit(b, NewWriter(io.Discard, false)) }
func BenchmarkEmitJSON(b *testing.B) { benchmarkEmit(b, NewWriter(io.Discard, true)) }

func BenchmarkEmitBufferedText(b *testing.B) { benchmarkEmit(b, NewBuffered(io.Discard, false)) }
func BenchmarkEmitBufferedJSON(b *testing.B) { benchmarkEmit(b, NewBuffered(io.Discard, true)) }
