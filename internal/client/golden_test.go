package client

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/probe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from this run")

// readmeConn is a connection with the README demo's addresses, so that the
// golden files show what a reader of the README sees.
type readmeConn struct{ net.Conn }

func (readmeConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 54098}
}

func (readmeConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000}
}

// sgr matches the escape sequences of a tone: they take no column.
var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// The README demo's terminal output, run with exact times against a
// server that answers after SLEEP, matches its golden file, and no line
// of it is wider than 80 columns: on a projector's terminal no line
// wraps. With colour, the verdict lines carry their tones and the rest
// is the same text.
func TestTerminalGolden(t *testing.T) {
	// What Linux's defaults give hbclient: keep-alive off, tcp_retries2 15.
	kernel := event.KernelOptions{Set: true, Retries2: 15, GiveUp: 924600 * time.Millisecond}
	late := probe.DefaultConfig()
	late.AcceptLate = true
	for _, tc := range []struct {
		file  string
		cfg   probe.Config
		sleep time.Duration
		color bool
	}{
		{"demo-dead.txt", probe.DefaultConfig(), 5 * time.Second, false},
		{"demo-dead-color.txt", probe.DefaultConfig(), 5 * time.Second, true},
		{"demo-alive.txt", probe.DefaultConfig(), time.Second, false},
		{"demo-alive-color.txt", probe.DefaultConfig(), time.Second, true},
		{"demo-accept-late.txt", late, 5 * time.Second, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var out bytes.Buffer
			synctest.Test(t, func(t *testing.T) {
				c, s := net.Pipe()
				served := make(chan struct{})
				go func() { fakeServer(s, tc.sleep, false); close(served) }()
				ev := event.NewWriter(&out, false)
				ev.SetStyle(event.Style{Color: tc.color})
				// 25 s: the README's ALIVE run, past the verdict at 19 s.
				ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
				defer cancel()
				Run(ctx, readmeConn{c}, Options{Probe: tc.cfg, Events: ev, KernelInEffect: kernel})
				<-served
			})
			golden := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run TestTerminalGolden -update writes it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n%s\nwant:\n%s", golden, out.Bytes(), want)
			}
			for _, l := range bytes.Split(out.Bytes(), []byte("\n")) {
				plain := sgr.ReplaceAll(l, nil)
				if n := utf8.RuneCount(plain); n > 80 {
					t.Errorf("%d columns, more than 80: %q", n, l)
				}
				if !tc.color && len(plain) != len(l) {
					t.Errorf("colour without colour on: %q", l)
				}
			}
			if tc.color && !sgr.Match(out.Bytes()) {
				t.Errorf("no colour with colour on:\n%s", out.Bytes())
			}
		})
	}
}
