//go:build linux

package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
)

// blockedStdout is the writing end of a pipe that is full and that nobody
// reads, as "hbserver ... | sleep 60" gives: the first write to it blocks.
func blockedStdout(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	size, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	return w
}

// noRaceExitSleep stops a binary built with -race from sleeping 1s at exit
// (to let other threads report), which would hide how long the exit takes.
const noRaceExitSleep = "GORACE=atexit_sleep_ms=0"

// startBlocked starts PROG with its stdout blocked; stderr is kept.
func startBlocked(t *testing.T, prog string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), noRaceExitSleep)
	cmd.Stdout = blockedStdout(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &stderr
}

// exitWithin waits for cmd, which must exit within d; it returns the exit
// code and how long the wait took.
func exitWithin(t *testing.T, cmd *exec.Cmd, d time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), time.Since(start)
	case <-time.After(d):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("%s still running after %v", filepath.Base(cmd.Path), d)
		return 0, 0
	}
}

// exchange sends n PINGs on c, each of which must be answered within 2s.
func exchange(t *testing.T, c net.Conn, n int) {
	t.Helper()
	var f msg.Frame
	for i := range n {
		f.SetType(msg.Ping)
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(f[:]); err != nil {
			t.Fatalf("PING %d: %v", i, err)
		}
		if err := msg.ReadFrame(c, &f); err != nil {
			t.Fatalf("PONG %d: %v", i, err)
		}
	}
}

func dial(t *testing.T, port string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hbserver with its stdout blocked keeps answering and accepting, and exits
// 0 promptly on SIGTERM: the heartbeat never waits on the log. With --quiet,
// connection churn alone would fill the pipe.
func TestServerBlockedStdout(t *testing.T) {
	for _, args := range [][]string{{"--json"}, {"--quiet"}} {
		t.Run(args[0], func(t *testing.T) {
			addrFile := filepath.Join(t.TempDir(), "addr")
			cmd, stderr := startBlocked(t, "hbserver", append([]string{"127.0.0.1", "0", "--addr-file", addrFile}, args...)...)
			port := waitPort(t, addrFile)
			good := dial(t, port)
			defer good.Close()
			exchange(t, good, 20)
			for range 300 { // churn: a connected and a closed line each
				dial(t, port).Close()
			}
			exchange(t, dial(t, port), 1) // accepted after the churn
			exchange(t, good, 20)
			cmd.Process.Signal(syscall.SIGTERM)
			code, took := exitWithin(t, cmd, 2*time.Second)
			if code != 0 || !blockedLine.MatchString(stderr.String()) {
				t.Fatalf("exit %d after SIGTERM, stderr %q; want 0 and how many lines were lost", code, stderr)
			}
			t.Logf("exit 0 %v after SIGTERM", took.Round(time.Millisecond))
		})
	}
}

// silentServer accepts connections and reads them, never answering: a hung
// server for hbclient. It returns its port and a channel of accepts.
func silentServer(t *testing.T) (string, <-chan net.Conn) {
	port, accepted, _ := listeningServer(t)
	return port, accepted
}

// listeningServer is silentServer that also says, on heard, when a
// connection's first bytes have come: the client is connected and running.
func listeningServer(t *testing.T) (string, <-chan net.Conn, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 100)
	heard := make(chan struct{}, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
			go func() {
				var b [1]byte
				if n, _ := c.Read(b[:]); n > 0 {
					heard <- struct{}{}
				}
				io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for len(accepted) > 0 {
			(<-accepted).Close()
		}
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, accepted, heard
}

var deadLine = regexp.MustCompile(`^(?:hbclient: output blocked: .*\n)?hbclient: dead by the heartbeat after ([0-9.]+) s of silence \(predicted ([0-9.]+) s\)\n$`)

// blockedLine is what a tool says on stderr when its stdout took no more
// lines at exit: how many were lost (it used to say nothing).
var blockedLine = regexp.MustCompile(`^hb(client|server): output blocked: [1-9]\d* event lines not written within 500ms(, \d+ dropped before)?\n$`)

// hbclient with its stdout blocked gives its verdict at the predicted time
// (exit 3, on stderr), and exits promptly after it.
func TestClientBlockedStdoutVerdict(t *testing.T) {
	port, _ := silentServer(t)
	cmd, stderr := startBlocked(t, "hbclient", "127.0.0.1", port, "--idle", "200ms", "--interval", "100ms", "--probes", "2", "--json")
	code, took := exitWithin(t, cmd, 400*time.Millisecond+event.CloseWait+2*time.Second)
	m := deadLine.FindStringSubmatch(stderr.String())
	if code != 3 || m == nil {
		t.Fatalf("exit %d, stderr %q; want 3 and the verdict", code, stderr)
	}
	observed, _ := strconv.ParseFloat(m[1], 64)
	if predicted, _ := strconv.ParseFloat(m[2], 64); predicted != 0.4 || observed < predicted || observed > predicted+0.2 {
		t.Fatalf("dead after %vs, predicted %vs; want 0.4s, within 200ms", observed, predicted)
	}
	t.Logf("dead after %vs, exited after %v", observed, took.Round(time.Millisecond))
}

// --duration and SIGTERM are honoured with stdout blocked, in single and in
// load mode (whose status line comes every second).
func TestClientBlockedStdoutStops(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"duration", []string{"--duration", "300ms"}},
		{"duration-load", []string{"--duration", "1500ms", "--conns", "5"}},
		{"sigterm", nil},
		{"sigterm-load", []string{"--conns", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port, _, heard := listeningServer(t)
			// --idle 10ms: the first PING says the client is past its
			// connect (a signal during the connect ends it with nothing
			// to print, which is right, but not this test's case).
			cmd, stderr := startBlocked(t, "hbclient", append([]string{"127.0.0.1", port, "--idle", "10ms", "--interval", "1h"}, tc.args...)...)
			select {
			case <-heard:
			case <-time.After(10 * time.Second):
				t.Fatal("hbclient sent nothing")
			}
			limit := 1500*time.Millisecond + event.CloseWait + 1500*time.Millisecond
			if strings.HasPrefix(tc.name, "sigterm") {
				cmd.Process.Signal(syscall.SIGTERM)
				limit = event.CloseWait + time.Second
			}
			code, took := exitWithin(t, cmd, limit)
			if code != 0 || !blockedLine.MatchString(stderr.String()) {
				t.Fatalf("exit %d, stderr %q; want 0 and how many lines were lost", code, stderr)
			}
			t.Logf("exit 0 after %v", took.Round(time.Millisecond))
		})
	}
}

// noticeServer sends each connection a warning NOTICE and then a closing
// one, both saying text, and closes.
func noticeServer(t *testing.T, text string) string {
	t.Helper()
	port, accepted := silentServer(t)
	go func() {
		for c := range accepted {
			var f msg.Frame
			msg.PutNotice(&f, msg.Warning, text)
			c.Write(f[:])
			msg.PutNotice(&f, msg.Closing, text)
			c.Write(f[:])
			c.Close()
		}
	}()
	return port
}

// A server's NOTICE cannot forge a line of the timeline or drive the
// terminal: its words come out on one line each, escaped, in text and on
// stderr; in JSON they decode to what was sent, with no raw control byte.
func TestHostileNotice(t *testing.T) {
	const forged = "bye\n  19.000  DEAD (heartbeat): forged\x1b[2J\x1b]0;owned\x07\u009b31m\xff"
	port := noticeServer(t, forged)
	for _, jsonOut := range []bool{false, true} {
		args := []string{"127.0.0.1", port}
		if jsonOut {
			args = append(args, "--json")
		}
		cmd := exec.Command("hbclient", args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("exit %v, want 1 (closed by the server)", err)
		}
		all := stdout.String() + stderr.String()
		if strings.ContainsAny(all, "\x1b\x07\u009b") || !strings.Contains(all, "forged") {
			t.Fatalf("control characters through, or the NOTICE missing:\n%q", all)
		}
		if strings.Count(stderr.String(), "\n") != 1 {
			t.Fatalf("stderr is not one line: %q", stderr.String())
		}
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		if !jsonOut {
			for _, l := range lines {
				if strings.Contains(l, "DEAD") && !strings.Contains(l, "the server") {
					t.Fatalf("forged line %q in\n%s", l, stdout.String())
				}
			}
			continue
		}
		var notes int
		for _, l := range lines {
			var e struct{ Event, Note, Text, Error string }
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			if e.Text+e.Error != "" {
				notes++
				if want := strings.ToValidUTF8(forged, "\ufffd"); e.Text+e.Error != want {
					t.Fatalf("%s: %q, want %q", e.Event, e.Text+e.Error, want)
				}
			}
		}
		if notes != 2 {
			t.Fatalf("%d events with the NOTICE's text, want 2:\n%s", notes, stdout.String())
		}
	}
}

// tNeverDecreases checks a stream of JSON lines: t never goes back.
func tNeverDecreases(t *testing.T, stream string) {
	t.Helper()
	last := 0.0
	for i, l := range strings.Split(strings.TrimSpace(stream), "\n") {
		var e struct{ T float64 }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d %q: %v", i+1, l, err)
		}
		if e.T < last {
			t.Fatalf("line %d: t %v after %v", i+1, e.T, last)
		}
		last = e.T
	}
}

// t never decreases, with tiny intervals on the client and the server's
// stats goroutine emitting beside its loop.
func TestTimeNeverDecreases(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "addr")
	srv := exec.Command("hbserver", "127.0.0.1", "0", "--addr-file", addrFile, "--json", "--stats-every", "100ms")
	srv.Env = append(os.Environ(), noRaceExitSleep)
	var srvOut bytes.Buffer
	srv.Stdout = &srvOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	port := waitPort(t, addrFile)
	cli := exec.Command("hbclient", "127.0.0.1", port, "--json", "--idle", "1ms", "--interval", "1ms", "--duration", "300ms")
	out, err := cli.Output()
	if err != nil && cli.ProcessState.ExitCode() != 3 {
		t.Fatalf("hbclient: %v", err)
	}
	srv.Process.Signal(syscall.SIGTERM)
	if code, _ := exitWithin(t, srv, 2*time.Second); code != 0 {
		t.Fatalf("hbserver exit %d", code)
	}
	tNeverDecreases(t, string(out))
	tNeverDecreases(t, srvOut.String())
}
