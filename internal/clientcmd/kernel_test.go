package clientcmd

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/client"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

func TestPrintKernelDefaults(t *testing.T) {
	k := sockopt.Defaults{
		KeepAlive: sockopt.KeepAliveConfig{Idle: 7200 * time.Second, Interval: 75 * time.Second, Count: 9},
		Retries2:  15,
		Names:     [3]string{"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"},
		Source:    "/proc/sys/net/ipv4",
	}
	var b bytes.Buffer
	printKernel(&b, k, false)
	for _, want := range []string{
		"net.ipv4.tcp_keepalive_time    7200 s",
		"dead after 2h11m15s of silence = 7200 + 9 x 75 s",
		"given up after about 15m24.6s (15 retransmissions",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	printKernel(&b, k, true)
	if !strings.Contains(b.String(), `"keepalive_dead_after_s":7875`) {
		t.Errorf("JSON: %s", b.String())
	}
}

func TestDescribeKernelWarnings(t *testing.T) {
	ka := sockopt.KeepAliveConfig{Enable: true, Idle: 10 * time.Second, Interval: 5 * time.Second, Count: 3}
	for _, tc := range []struct {
		name string
		k    client.KernelSettings
		hb   probe.Config
		want []string // substrings of the warnings, in order
	}{
		{"nothing on", client.KernelSettings{}, probe.Config{}, nil},
		{"keep-alive with heartbeat", client.KernelSettings{KeepAlive: ka}, probe.DefaultConfig(), []string{"cannot fire while sent data is unacknowledged"}},
		{"short user timeout", client.KernelSettings{KeepAlive: ka, UserTimeout: 12 * time.Second}, probe.Config{}, []string{"one lost keep-alive probe kills the connection, at 15s"}},
		{"long user timeout", client.KernelSettings{KeepAlive: ka, UserTimeout: time.Minute}, probe.Config{}, []string{"ignores --keepalive-count and keeps probing until 1m0s"}},
		{"in between", client.KernelSettings{KeepAlive: ka, UserTimeout: 20 * time.Second}, probe.Config{}, nil},
	} {
		_, warnings := describeKernel(tc.k, tc.hb, 15)
		if len(warnings) != len(tc.want) {
			t.Errorf("%s: warnings %q, want %d", tc.name, warnings, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(warnings[i], w) {
				t.Errorf("%s: warning %q lacks %q", tc.name, warnings[i], w)
			}
		}
	}
}

// Another OS's defaults: its own names and source, times that need not be
// whole seconds, and no tcp_retries2 give-up, which is Linux's rule.
func TestPrintKernelOtherOS(t *testing.T) {
	k := sockopt.Defaults{
		KeepAlive: sockopt.KeepAliveConfig{Idle: 2 * time.Hour, Interval: 1500 * time.Millisecond, Count: 10},
		Names:     [3]string{"KeepAliveTime", "KeepAliveInterval", "probes (fixed)"},
		Source:    "the registry",
	}
	var b bytes.Buffer
	printKernel(&b, k, false)
	for _, want := range []string{
		"KeepAliveTime                  7200 s\n",
		"KeepAliveInterval              1.5s\n",
		"(read from the registry)",
		"dead after 2h0m15s of silence = 2h0m0s + 10 x 1.5s",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "retransmission") {
		t.Errorf("a retransmission give-up without tcp_retries2:\n%s", b.String())
	}
	b.Reset()
	printKernel(&b, k, true)
	if strings.Contains(b.String(), "tcp_retries2") || !strings.Contains(b.String(), `"keepalive_dead_after_s":7215`) {
		t.Errorf("JSON: %s", b.String())
	}
}
