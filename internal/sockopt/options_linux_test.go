package sockopt

import (
	"testing"
	"time"
)

// Fields left zero keep the machine's sysctl values, not Go's 15s.
func TestKeepAliveUnsetFieldsAreTheMachines(t *testing.T) {
	k, err := ReadDefaults()
	if err != nil {
		t.Skipf("no /proc/sys here: %v", err)
	}
	c, _ := pair(t)
	if err := SetKeepAlive(c, KeepAliveConfig{Enable: true, Count: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadKeepAlive(c)
	if err != nil {
		t.Fatal(err)
	}
	want := k.KeepAlive
	want.Enable, want.Count = true, 2
	if got != want {
		t.Fatalf("read back %+v, want the machine's %+v with count 2", got, want)
	}
}

func TestUserTimeoutSetAndReadBack(t *testing.T) {
	c, _ := pair(t)
	if got, err := UserTimeout(c); err != nil || got != 0 {
		t.Fatalf("default user timeout %v, %v", got, err)
	}
	if err := SetUserTimeout(c, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got, err := UserTimeout(c); err != nil || got != 1500*time.Millisecond {
		t.Fatalf("read back %v, %v", got, err)
	}
	if err := SetUserTimeout(c, 1500*time.Microsecond); err == nil {
		t.Fatal("a sub-millisecond user timeout was accepted")
	}
}

func TestTCPInfo(t *testing.T) {
	c, s := pair(t)
	if _, err := s.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	info, err := TCPInfo(c)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != 1 || info.Probes != 0 || info.Unacked != 0 || info.RTO <= 0 {
		t.Fatalf("TCP_INFO of an established idle connection: %+v", info)
	}
	// Linux gives every field: a zero here is a zero, not an unknown.
	if !info.Has(FieldState | FieldProbes | FieldRetransmits | FieldUnacked | FieldBackoff | FieldRTO |
		FieldLastDataRecv | FieldLastAckRecv | FieldTotalRetrans) {
		t.Fatalf("Linux's TCP_INFO marks fields unknown: %+v", info)
	}
}
