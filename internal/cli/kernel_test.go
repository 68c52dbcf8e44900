package cli

import (
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// Both tools word sockopt's facts the same way, in their flags' names.
func TestUserTimeoutWarning(t *testing.T) {
	ka := sockopt.KeepAliveConfig{Enable: true, Idle: 4 * time.Second, Interval: 2 * time.Second, Count: 3}
	for _, tc := range []struct {
		u    time.Duration
		want string
	}{
		{1500 * time.Millisecond, "--user-timeout 1.5s is shorter than keep-alive idle + interval (6s): one lost keep-alive probe kills the connection, at 6s"},
		{8 * time.Second, ""},
		{11 * time.Second, "--user-timeout 11s is longer than keep-alive's 10s: the kernel then ignores --keepalive-count and keeps probing until 12s"},
	} {
		if got := UserTimeoutWarning(ka.UserTimeoutEffect(tc.u)); got != tc.want {
			t.Errorf("user timeout %v: %q, want %q", tc.u, got, tc.want)
		}
	}
}
