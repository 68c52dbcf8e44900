package clientcmd

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// closingPeer listens on loopback and closes every connection with a
// closing NOTICE but the first keep, which it reads and never answers until
// the client closes them; everything is closed when the test ends.
func closingPeer(t *testing.T, keep int) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if n < keep {
				wg.Add(1)
				go func() { defer wg.Done(); io.Copy(io.Discard, c); c.Close() }()
				continue
			}
			var f msg.Frame
			msg.PutNotice(&f, msg.Closing, "server full")
			c.Write(f[:])
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	a := ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// Load mode exits as one connection does: 1 when the server closed every
// connection that came up with a NOTICE (the reason named), 0 when any was
// still alive at the end.
func TestLoadAllClosedByNoticeExits1(t *testing.T) {
	for _, tc := range []struct {
		keep, code int
	}{
		{0, cli.ExitError},
		{1, cli.ExitOK},
	} {
		host, port := closingPeer(t, tc.keep)
		opts := Options{Host: host, Port: port, Conns: 5, Duration: 300 * time.Millisecond,
			Probe: probe.Config{Idle: 10 * time.Second, Interval: time.Second, Probes: 3}}
		var out bytes.Buffer
		err := run(context.Background(), opts, &out, io.Discard)
		if got := cli.Code(err); got != tc.code {
			t.Fatalf("%d kept: exit %d (%v), want %d; output:\n%s", tc.keep, got, err, tc.code, out.String())
		}
		if tc.code == cli.ExitError {
			want := "5 connections to " + net.JoinHostPort(host, strconv.Itoa(port)) + ` closed by the server with a NOTICE, every one that came up (the first: "server full")`
			if err.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
		}
	}
}
