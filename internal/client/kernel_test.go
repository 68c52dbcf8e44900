package client

import (
	"bytes"
	"strings"
	"testing"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// Keep-alive probes are reported only where the OS counts them (Linux's
// TCP_INFO): elsewhere Probes is unknown, not zero, and says nothing.
func TestReportKernelProbesOnlyWhereCounted(t *testing.T) {
	k := KernelSettings{KeepAlive: sockopt.KeepAliveConfig{Enable: true, Count: 3}}
	for _, tc := range []struct {
		has  bool
		want int
	}{{false, 0}, {true, 2}} {
		var out bytes.Buffer
		reportKernel(event.NewWriter(&out, true), 0, k, sockopt.Info{HasProbes: tc.has}, sockopt.Info{Probes: 2, HasProbes: tc.has})
		if got := strings.Count(out.String(), `"event":"kernel_probe"`); got != tc.want {
			t.Errorf("HasProbes %v: %d kernel_probe events, want %d:\n%s", tc.has, got, tc.want, out.String())
		}
	}
}
