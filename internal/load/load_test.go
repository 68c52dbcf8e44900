package load

import (
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if p50, p99 := percentiles(d); p50 != 50*time.Millisecond || p99 != 99*time.Millisecond {
		t.Fatalf("1..100ms: p50 %v p99 %v", p50, p99)
	}
	if p50, p99 := percentiles([]time.Duration{7}); p50 != 7 || p99 != 7 {
		t.Fatalf("one sample: %v %v", p50, p99)
	}
	if p50, p99 := percentiles(nil); p50 != 0 || p99 != 0 {
		t.Fatalf("no samples: %v %v", p50, p99)
	}
}
