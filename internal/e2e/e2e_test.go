//go:build linux

// Package e2e runs the real hbserver and hbclient binaries against each
// other over loopback, from the scripts in testdata/ (testscript format).
package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/heartbeat/heartbeat/internal/clientcmd"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/servercmd"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hbclient": func() { os.Exit(clientcmd.Main(os.Args[1:], os.Stdout, os.Stderr)) },
		"hbserver": func() { os.Exit(servercmd.Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitaddr":  waitAddr,
			"status":    status,
			"dead":      dead,
			"hostile":   hostile,
			"interrupt": interrupt,
			"freeport":  freePort,
			"width":     width,
		},
	})
}

// width N: no line of the last command's stdout and stderr is over N
// columns (the lines are ASCII: one byte, one column).
func width(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: width N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	for _, name := range []string{"stdout", "stderr"} {
		for i, line := range strings.Split(ts.ReadFile(name), "\n") {
			if len(line) > n {
				ts.Fatalf("%s line %d is %d columns, over %d: %q", name, i+1, len(line), n, line)
			}
		}
	}
}

// waitaddr FILE: wait (10s at most) for hbserver's --addr-file, then set
// $HOST and $PORT from it.
func waitAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitaddr FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			host, port, err := net.SplitHostPort(strings.TrimSpace(string(b)))
			ts.Check(err)
			ts.Setenv("HOST", host)
			ts.Setenv("PORT", port)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no address in %s after 10s", args[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status N PROG ARGS...: run PROG, which must exit with code N; its output
// is then checked with stdout and stderr, as after exec.
func status(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		got = exitErr.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// dead CAUSE PREDICTED TOLERANCE: stdout (JSON lines) has one "dead" event
// with that cause and predicted_s, and observed_s within TOLERANCE seconds of
// it (and never before it: the verdict cannot come early).
func dead(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: dead CAUSE PREDICTED_S TOLERANCE_S")
	}
	pred, err := strconv.ParseFloat(args[1], 64)
	ts.Check(err)
	tol, err := strconv.ParseFloat(args[2], 64)
	ts.Check(err)
	n := 0
	for _, l := range strings.Split(ts.ReadFile("stdout"), "\n") {
		var e struct {
			Event     string  `json:"event"`
			T         float64 `json:"t"`
			Cause     string  `json:"cause"`
			Observed  float64 `json:"observed_s"`
			Predicted float64 `json:"predicted_s"`
		}
		if l == "" || json.Unmarshal([]byte(l), &e) != nil || e.Event != "dead" {
			continue
		}
		n++
		if e.Cause != args[0] || math.Abs(e.Predicted-pred) > 1e-9 {
			ts.Fatalf("dead: cause %q predicted %v, want %q %v", e.Cause, e.Predicted, args[0], pred)
		}
		if e.Observed < pred || e.Observed-pred > tol {
			ts.Fatalf("dead after %.6fs, predicted %.6fs: off by more than %vs", e.Observed, pred, tol)
		}
		ts.Logf("dead after %.6fs, predicted %.6fs (%+.3fms)", e.Observed, pred, (e.Observed-pred)*1e3)
	}
	if n != 1 {
		ts.Fatalf("%d dead events in stdout, want 1", n)
	}
}

// hostile HOST PORT KIND...: misbehave against the server, once per KIND:
//
//	garbage   3000 random bytes (not a whole number of frames), then close
//	unknown   two frames of type 99, then close
//	split     a PING one byte at a time; its PONG must come back
//	halfclose half a frame, then close
//	reset     half a frame, then a reset (RST)
//	hang      half a frame, then silence until the script ends
//	silent    connect, never answer; wait (10s at most) for the server to
//	          close the connection (its heartbeat reaping the client)
func hostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: hostile HOST PORT KIND...")
	}
	addr := net.JoinHostPort(args[0], args[1])
	for _, kind := range args[2:] {
		c, err := net.Dial("tcp", addr)
		ts.Check(err)
		tc := c.(*net.TCPConn)
		var f msg.Frame
		switch kind {
		case "garbage":
			junk := make([]byte, 3000)
			for i := range junk {
				junk[i] = byte(rand.IntN(256))
			}
			_, err = c.Write(junk)
		case "unknown":
			f.SetType(99)
			if _, err = c.Write(f[:]); err == nil {
				_, err = c.Write(f[:])
			}
		case "split":
			f.SetType(msg.Ping)
			for i := 0; i < len(f) && err == nil; i++ {
				_, err = c.Write(f[i : i+1])
			}
			if err == nil {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if err = msg.ReadFrame(c, &f); err == nil {
					if typ, _ := f.Type(); typ != msg.Pong {
						err = fmt.Errorf("split PING answered with %v", typ)
					}
				}
			}
		case "halfclose":
			_, err = c.Write(f[:500])
		case "reset":
			if _, err = c.Write(f[:500]); err == nil {
				err = tc.SetLinger(0)
			}
		case "silent":
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = io.Copy(io.Discard, c)
		case "hang":
			_, err = c.Write(f[:500])
			ts.Defer(func() { c.Close() })
			ts.Check(err)
			continue
		default:
			ts.Fatalf("hostile: unknown kind %q", kind)
		}
		ts.Check(err)
		c.Close()
	}
}

// interrupt REGEXP PROG ARGS...: start PROG, wait (10s at most) for a line
// of its stdout matching REGEXP, send it SIGINT; it must exit 0 within 2s.
// Its whole stdout is then in the file interrupt.stdout.
func interrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: interrupt REGEXP PROG [ARGS...]")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	path, err := exec.LookPath(args[1])
	ts.Check(err)
	cmd := exec.Command(path, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = os.Environ()
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
	}
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	var all strings.Builder
	seen := make(chan struct{})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(out)
		matched := false
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if !matched && re.MatchString(sc.Text()) {
				matched = true
				close(seen)
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case <-seen:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		ts.Fatalf("%s: no line matching %q within 10s", args[1], args[0])
	}
	sent := time.Now()
	ts.Check(cmd.Process.Signal(os.Interrupt))
	exited := make(chan error, 1)
	go func() { <-copied; exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(2 * time.Second):
		cmd.Process.Kill()
		<-exited
		ts.Fatalf("%s still running 2s after SIGINT", args[1])
	}
	ts.Logf("%s exited %v after SIGINT, in %v", args[1], err, time.Since(sent).Round(time.Millisecond))
	ts.Check(os.WriteFile(ts.MkAbs("interrupt.stdout"), []byte(all.String()), 0o644))
	if err != nil {
		ts.Fatalf("%s after SIGINT: %v, want exit 0", args[1], err)
	}
}

// freeport: set $FREEPORT to a loopback port where nothing listens.
func freePort(ts *testscript.TestScript, neg bool, args []string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	ts.Setenv("FREEPORT", port)
}
