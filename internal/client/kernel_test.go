package client

import (
	"bytes"
	"strings"
	"testing"
	"time"

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
		var filled sockopt.Fields
		if tc.has {
			filled = sockopt.FieldProbes
		}
		reportKernel(event.NewWriter(&out, true), 0, k, sockopt.Info{Filled: filled}, sockopt.Info{Probes: 2, Filled: filled})
		if got := strings.Count(out.String(), `"event":"kernel_probe"`); got != tc.want {
			t.Errorf("probes counted %v: %d kernel_probe events, want %d:\n%s", tc.has, got, tc.want, out.String())
		}
	}
}

// What an OS's TCP_INFO does not give (Filled) is left out of the
// retransmission events and the post-mortem, never shown as zero: FreeBSD
// has no unacknowledged-segment count, Windows no retransmission count.
func TestKernelReportsOnlyFilledFields(t *testing.T) {
	const linux = sockopt.FieldState | sockopt.FieldRetransmits | sockopt.FieldUnacked | sockopt.FieldRTO
	const freebsd = sockopt.FieldState | sockopt.FieldRetransmits | sockopt.FieldRTO | sockopt.FieldLastDataRecv
	const windows = sockopt.FieldState | sockopt.FieldUnacked
	for _, tc := range []struct {
		name          string
		filled        sockopt.Fields
		event, absent []string
	}{
		{"linux", linux, []string{"kernel retransmission 1 of unacknowledged data (2 segments unacked, RTO 0.204 s)",
			`"unacked":2`, `"rto_s":0.204`, "1 retransmit, 2 segments unacked", `"tcpi_retransmits":1`, `"tcpi_unacked":2`}, nil},
		{"freebsd", freebsd, []string{"kernel retransmission 1 of unacknowledged data (RTO 0.204 s)", `"rto_s":0.204`,
			"keep-alive probes unknown on this OS, 1 retransmit\n", "last data received 3.000 s before\n", `"tcpi_retransmits":1`, `"tcpi_last_data_recv_s":3`},
			[]string{`"unacked"`, "segments unacked", `"tcpi_unacked"`}},
		{"windows", windows, []string{"keep-alive probes unknown on this OS, 2 segments unacked\n", `"tcpi_unacked":2`},
			[]string{"kernel_retransmit", "retransmit,", `"tcpi_retransmits"`, "last data received", `"tcpi_last_data_recv_s"`}},
	} {
		info := sockopt.Info{Unacked: 2, RTO: 204 * time.Millisecond, LastDataRecv: 3 * time.Second, Filled: tc.filled}
		if tc.filled&sockopt.FieldRetransmits != 0 {
			info.Retransmits = 1
		}
		k := KernelSettings{UserTimeout: 5 * time.Second}
		var text, js bytes.Buffer
		for _, out := range []*bytes.Buffer{&text, &js} {
			ev := event.NewWriter(out, out == &js)
			reportKernel(ev, 0, k, sockopt.Info{Filled: tc.filled}, info)
			at := time.Unix(100, 0)
			kernelVerdict(ev, 0, at, k, info, at.Add(-6*time.Second), at.Add(-5*time.Second), time.Time{}, false)
		}
		all := text.String() + js.String()
		for _, s := range tc.event {
			if !strings.Contains(all, s) {
				t.Errorf("%s: no %q in\n%s", tc.name, s, all)
			}
		}
		for _, s := range tc.absent {
			if strings.Contains(all, s) {
				t.Errorf("%s: %q reported, which this OS does not give:\n%s", tc.name, s, all)
			}
		}
	}
}
