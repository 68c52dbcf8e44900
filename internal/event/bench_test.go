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
		Emit(w, time.Duration(i)*time.Microsecond, On(Conn{17, "127.0.0.1:54098"},
			PongSent{PingLabel{uint64(i), true}, 1000100 * time.Microsecond}))
	}
	b.StopTimer()
	w.Close()
}

func BenchmarkEmitText(b *testing.B) { benchmarkEmit(b, NewWriter(io.Discard, false)) }
func BenchmarkEmitJSON(b *testing.B) { benchmarkEmit(b, NewWriter(io.Discard, true)) }

func BenchmarkEmitBufferedText(b *testing.B) { benchmarkEmit(b, NewBuffered(io.Discard, false)) }
func BenchmarkEmitBufferedJSON(b *testing.B) { benchmarkEmit(b, NewBuffered(io.Discard, true)) }
