package sockopt

import (
	"net"
	"testing"
	"time"
)

// A zero field keeps the socket's value, which net.KeepAliveConfig says
// with -1: its own zero would set Go's 15 s.
func TestNetConfigKeepsUnsetFields(t *testing.T) {
	for _, tc := range []struct {
		k    KeepAliveConfig
		want net.KeepAliveConfig
	}{
		{KeepAliveConfig{}, net.KeepAliveConfig{Idle: -1, Interval: -1, Count: -1}},
		{KeepAliveConfig{Enable: true, Count: 2}, net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: 2}},
		{KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 2 * time.Second, Count: 4},
			net.KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 2 * time.Second, Count: 4}},
	} {
		if got := tc.k.netConfig(); got != tc.want {
			t.Errorf("%+v: %+v, want %+v", tc.k, got, tc.want)
		}
	}
}

// macOS's and FreeBSD's sysctls keep idle and interval in milliseconds.
func TestBSDDefaultsInMilliseconds(t *testing.T) {
	d := millisDefaults(7200000, 75000, 8, bsdNames, "sysctl")
	d.KeepAlive.Enable = true
	if d.KeepAlive.Idle != 2*time.Hour || d.KeepAlive.Interval != 75*time.Second || d.Retries2 != 0 {
		t.Fatalf("%+v", d)
	}
	if got, want := d.KeepAlive.DeadAfter(), 2*time.Hour+10*time.Minute; got != want {
		t.Fatalf("macOS's defaults imply %v, want %v", got, want)
	}
}

func TestWindowsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name               string
		idle, interval     uint32
		idleOK, intervalOK bool
		dead               time.Duration
		source             string
	}{
		{"documented", 0, 0, false, false, 2*time.Hour + 10*time.Second, "Windows' documented defaults (not set in the registry)"},
		{"registry", 60000, 5000, true, true, time.Minute + 50*time.Second, "the registry (Tcpip\\Parameters)"},
		{"registry idle only", 60000, 0, true, false, time.Minute + 10*time.Second, "the registry (Tcpip\\Parameters) and Windows' documented defaults"},
	} {
		d := windowsDefaults(tc.idle, tc.idleOK, tc.interval, tc.intervalOK)
		d.KeepAlive.Enable = true
		if got := d.KeepAlive.DeadAfter(); got != tc.dead || d.Source != tc.source || d.KeepAlive.Count != 10 {
			t.Errorf("%s: dead after %v from %q (count %d), want %v from %q", tc.name, got, d.Source, d.KeepAlive.Count, tc.dead, tc.source)
		}
	}
}

func TestBSDState(t *testing.T) {
	for bsd, linux := range map[uint8]uint8{0: 7, 1: 10, 4: 1, 5: 8, 10: 6, 11: 0, 255: 0} {
		if got := bsdState(bsd); got != linux {
			t.Errorf("BSD state %d: %d, want %d", bsd, got, linux)
		}
	}
}

func TestSegments(t *testing.T) {
	for _, tc := range []struct{ bytes, mss, want int }{{0, 1448, 0}, {1, 1448, 1}, {1448, 1448, 1}, {1449, 1448, 2}, {100, 0, 0}} {
		if got := segments(tc.bytes, tc.mss); got != tc.want {
			t.Errorf("segments(%d, %d) = %d, want %d", tc.bytes, tc.mss, got, tc.want)
		}
	}
}
