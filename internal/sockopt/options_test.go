package sockopt

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func pair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := (&net.Dialer{KeepAlive: -1}).Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

func TestKeepAliveSetAndReadBack(t *testing.T) {
	c, _ := pair(t)
	want := KeepAliveConfig{Enable: true, Idle: 7 * time.Second, Interval: 2 * time.Second, Count: 4}
	if err := SetKeepAlive(c, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadKeepAlive(c)
	if err != nil || got != want {
		t.Fatalf("read back %+v, %v; want %+v", got, err, want)
	}
	if got.DeadAfter() != 15*time.Second {
		t.Fatalf("DeadAfter %v", got.DeadAfter())
	}
	if err := SetKeepAlive(c, KeepAliveConfig{}); err != nil {
		t.Fatal(err)
	}
	if on, _ := KeepAlive(c); on {
		t.Fatal("keep-alive still on after turning it off")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		k  KeepAliveConfig
		ok bool
	}{
		{KeepAliveConfig{Enable: true}, true},
		{KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: time.Second, Count: 3}, true},
		{KeepAliveConfig{Enable: true, Idle: 1500 * time.Millisecond}, false},
		{KeepAliveConfig{Enable: true, Interval: 500 * time.Millisecond}, false},
		{KeepAliveConfig{Enable: true, Idle: 40000 * time.Second}, false},
		{KeepAliveConfig{Enable: true, Count: 128}, false},
	} {
		if err := tc.k.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.k, err)
		}
	}
}

func TestReadKernel(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]string{"tcp_keepalive_time": "7200\n", "tcp_keepalive_intvl": "75\n", "tcp_keepalive_probes": "9\n", "tcp_retries2": "15\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k, err := readProc(dir)
	if err != nil {
		t.Fatal(err)
	}
	k.KeepAlive.Enable = true
	if got, want := k.KeepAlive.DeadAfter(), 2*time.Hour+11*time.Minute+15*time.Second; got != want || k.Retries2 != 15 {
		t.Fatalf("defaults imply %v (retries2 %d), want %v", got, k.Retries2, want)
	}
	os.WriteFile(filepath.Join(dir, "tcp_retries2"), []byte("many"), 0o644)
	if _, err := readProc(dir); err == nil {
		t.Fatal("a bad sysctl value was read")
	}
}

func TestRetransmitGiveUp(t *testing.T) {
	// tcp(7): tcp_retries2 15 "corresponds to a hypothetical timeout of
	// 924.6 seconds" with the minimum RTO of 200ms.
	if got := RetransmitGiveUp(15, 200*time.Millisecond); got != 924600*time.Millisecond {
		t.Fatalf("RetransmitGiveUp(15, 200ms) = %v", got)
	}
}

func TestDeadAfterWithUserTimeout(t *testing.T) {
	ka := KeepAliveConfig{Enable: true, Idle: 10 * time.Second, Interval: 2 * time.Second, Count: 3}
	for _, tc := range []struct{ u, want time.Duration }{
		{0, 16 * time.Second},               // 10 + 3 x 2: the count decides
		{5 * time.Second, 12 * time.Second}, // one lost probe
		{12 * time.Second, 12 * time.Second},
		{13 * time.Second, 14 * time.Second},
		{30 * time.Second, 30 * time.Second}, // beyond the count: 10 probes
		{31 * time.Second, 32 * time.Second},
	} {
		if got := ka.DeadAfterWith(tc.u); got != tc.want {
			t.Errorf("user timeout %v: %v, want %v", tc.u, got, tc.want)
		}
	}
}

// The facts both tools word their warning from: which surprise, against
// what, and when keep-alive then gives up.
func TestUserTimeoutEffect(t *testing.T) {
	ka := KeepAliveConfig{Enable: true, Idle: 10 * time.Second, Interval: 2 * time.Second, Count: 3}
	for _, tc := range []struct {
		ka   KeepAliveConfig
		u    time.Duration
		want UserTimeoutEffect
	}{
		{ka, 0, UserTimeoutEffect{}},
		{KeepAliveConfig{Idle: 10 * time.Second, Interval: 2 * time.Second, Count: 3}, 5 * time.Second, UserTimeoutEffect{}}, // keep-alive off
		{ka, 5 * time.Second, UserTimeoutEffect{OneLostProbe, 5 * time.Second, 12 * time.Second, 12 * time.Second}},
		{ka, 12*time.Second - 1, UserTimeoutEffect{OneLostProbe, 12*time.Second - 1, 12 * time.Second, 12 * time.Second}},
		{ka, 12 * time.Second, UserTimeoutEffect{}},
		{ka, 16 * time.Second, UserTimeoutEffect{}},
		{ka, 16*time.Second + 1, UserTimeoutEffect{CountIgnored, 16*time.Second + 1, 16 * time.Second, 18 * time.Second}},
		{ka, 31 * time.Second, UserTimeoutEffect{CountIgnored, 31 * time.Second, 16 * time.Second, 32 * time.Second}},
	} {
		if got := tc.ka.UserTimeoutEffect(tc.u); got != tc.want {
			t.Errorf("%+v, user timeout %v: %+v, want %+v", tc.ka, tc.u, got, tc.want)
		}
	}
}
