package sockopt

import (
	"net"
	"testing"
	"time"
)

func TestKeepAliveReadBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		keepAlive time.Duration
		want      bool
	}{
		{-1, false},         // off, as the tools dial
		{0, true},           // Go's default: on, 15s
		{time.Minute, true}, // on
	} {
		c, err := (&net.Dialer{KeepAlive: tc.keepAlive}).Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		got, err := KeepAlive(c.(*net.TCPConn))
		c.Close()
		if err != nil || got != tc.want {
			t.Errorf("Dialer.KeepAlive %v: SO_KEEPALIVE read back %v, %v; want %v", tc.keepAlive, got, err, tc.want)
		}
	}
}

// hbserver listens with KeepAlive -1: the connections it accepts keep the
// kernel's default, off. Go's default listener would turn it on.
func TestKeepAliveOffOnAcceptedConns(t *testing.T) {
	for _, tc := range []struct {
		keepAlive time.Duration
		want      bool
	}{{-1, false}, {0, true}} {
		ln, err := (&net.ListenConfig{KeepAlive: tc.keepAlive}).Listen(t.Context(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		got, err := KeepAlive(s.(*net.TCPConn))
		s.Close()
		c.Close()
		ln.Close()
		if err != nil || got != tc.want {
			t.Errorf("ListenConfig.KeepAlive %v: accepted conn's SO_KEEPALIVE %v, %v; want %v", tc.keepAlive, got, err, tc.want)
		}
	}
}
