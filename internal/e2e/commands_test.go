//go:build linux

package e2e

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startPiped starts cmd, killed at the test's end, with its standard input
// given to the caller and each line of its stdout and stderr sent on out
// and errs.
func startPiped(t *testing.T, cmd *exec.Cmd) (in io.WriteCloser, out, errs <-chan string) {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return in, lineChan(stdout), lineChan(stderr)
}

// lineChan sends each line of r, until it ends.
func lineChan(r io.Reader) <-chan string {
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

// waitHas waits (20 s at most) for a line that contains every one of
// want, and returns it.
func waitHas(t *testing.T, lines <-chan string, want ...string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line with %q", want)
			}
			all := true
			for _, w := range want {
				all = all && strings.Contains(l, w)
			}
			if all {
				return l
			}
		case <-timeout:
			t.Fatalf("no line with %q within 20s", want)
		}
	}
}

// A teacher's lesson, through --commands - on a pipe: a client lives
// while SLEEP is 0; "sleep 500ms" (above its 100ms interval) kills it
// 500 ms (idle 200ms + 3 x 100ms) after its last PONG, without a
// restart. A bad command is said on stderr and changes nothing; the end
// of the commands' input ends the commands only: the server still
// answers, after the new SLEEP.
func TestCommandsRaiseSleep(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "addr")
	srv := exec.Command("hbserver", "127.0.0.1", "0", "--addr-file", addrFile, "--commands", "-", "--json")
	stdin, srvOut, srvErr := startPiped(t, srv)
	port := waitPort(t, addrFile)

	io.WriteString(stdin, "sleep never\n")
	waitHas(t, srvErr, `hbserver: sleep never: `)

	cli := exec.Command("hbclient", "127.0.0.1", port, "--idle", "200ms", "--interval", "100ms", "--json")
	_, cliOut, _ := startPiped(t, cli)
	waitHas(t, cliOut, `"event":"pong"`)
	waitHas(t, cliOut, `"event":"pong"`) // alive across two PINGs

	io.WriteString(stdin, "sleep 500ms\n")
	stdin.Close() // EOF: the commands end, the server goes on
	waitHas(t, srvOut, `"event":"command"`, `"command":"sleep 500ms"`, `"sleep_s":0.5`, `"fault":"none"`)
	waitHas(t, srvErr, "hbserver: end of the commands' input; the server goes on")
	dead := waitHas(t, cliOut, `"event":"dead"`)
	if !strings.Contains(dead, `"cause":"heartbeat"`) || !strings.Contains(dead, `"predicted_s":0.5`) {
		t.Errorf("dead event %s, want the heartbeat's verdict predicted at 0.5 s", dead)
	}
	var exit *exec.ExitError
	if err := cli.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Errorf("hbclient: %v, want exit 3 (dead)", err)
	}

	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	pingPong(t, c)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("a PING after sleep 500ms was answered in %v", d)
	}
	srv.Process.Signal(syscall.SIGINT)
	if err := srv.Wait(); err != nil {
		t.Errorf("hbserver after SIGINT: %v, want exit 0", err)
	}
}

// On a terminal, hbserver reads commands from standard input without
// --commands: script(1) gives it a terminal (a pty) whose foreground it
// has, and what is typed there is a command.
func TestCommandsOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("skipped: needs script (Debian package bsdutils) to give hbserver a terminal")
	}
	// timeout bounds the server's life; --foreground keeps it in the
	// terminal's foreground process group.
	term := exec.Command(script, "-qfec", "timeout --foreground 20 hbserver 127.0.0.1 0", "/dev/null")
	in, out, _ := startPiped(t, term)
	waitHas(t, out, "listening on 127.0.0.1:")
	io.WriteString(in, "sleep 2\r")
	waitHas(t, out, `command "sleep 2": from the next PING on, SLEEP 2.000 s, fault none`)
	io.WriteString(in, "\x03") // Ctrl-C, through the terminal
	waitHas(t, out, "stopped after serving 0 connections")
}
