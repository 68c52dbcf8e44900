//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hbclient stopped (SIGSTOP) for longer than its whole detection window,
// against a healthy server, says its timer fired late and does not declare
// the peer dead when it runs again: the time was its own, not the peer's.
func TestLocalStallIsNotBlamedOnThePeer(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "addr")
	srv := exec.Command("hbserver", "127.0.0.1", "0", "--addr-file", addrFile)
	srv.Env = append(os.Environ(), noRaceExitSleep)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	port := waitPort(t, addrFile)

	// Dead 400ms after the last sign of life; stopped for 1.5s, the
	// timer wakes at least 1.3s late, past StallAfter (1s).
	cli := exec.Command("hbclient", "127.0.0.1", port, "--json", "--idle", "200ms", "--interval", "100ms", "--probes", "2", "--duration", "3s")
	cli.Env = append(os.Environ(), noRaceExitSleep)
	lines := startLines(t, cli)
	out := waitFor(t, lines, nil, `"event":"pong"`) // the heartbeat runs
	if err := cli.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the stall itself
	if err := cli.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		out = append(out, l)
	}
	err := cli.Wait()
	all := strings.Join(out, "\n")
	if err != nil {
		t.Fatalf("hbclient: %v (want exit 0 at --duration):\n%s", err, all)
	}
	if strings.Contains(all, `"event":"dead"`) {
		t.Fatalf("the peer was declared dead after the stall:\n%s", all)
	}
	if !strings.Contains(all, `"note":"local_stall"`) {
		t.Fatalf("no local_stall note:\n%s", all)
	}
	if !strings.Contains(all[strings.Index(all, "local_stall"):], `"event":"pong"`) {
		t.Fatalf("no PONG after the stall: the heartbeat did not resume:\n%s", all)
	}
}

// startLines starts cmd and hands over its stdout line by line; the
// channel closes when stdout does. A stopped cmd is continued and killed
// at the end of the test.
func startLines(t *testing.T, cmd *exec.Cmd) <-chan string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGCONT); cmd.Process.Kill(); cmd.Wait() })
	return lineChan(stdout)
}

// waitFor reads lines, appending them to out, until one contains want;
// it fails after 10s or when the lines end first.
func waitFor(t *testing.T, lines <-chan string, out []string, want string) []string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before %s:\n%s", want, strings.Join(out, "\n"))
			}
			out = append(out, l)
			if strings.Contains(l, want) {
				return out
			}
		case <-timeout:
			t.Fatalf("no %s within 10s:\n%s", want, strings.Join(out, "\n"))
		}
	}
}

// hbserver --reap-after-announced reaps an hbclient that went silent (it
// was stopped) for 1.5 x the window its HELLO announced, and says why:
// in its closed line, and to the client, which reads it when it runs again.
func TestServerReapsAClientSilentPastItsWindow(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "addr")
	srv := exec.Command("hbserver", "127.0.0.1", "0", "--addr-file", addrFile, "--json", "--reap-after-announced", "1.5")
	srv.Env = append(os.Environ(), noRaceExitSleep)
	srvLines := startLines(t, srv)
	port := waitPort(t, addrFile)

	// The window is 200ms (the longer of idle and interval): reaped 300ms
	// after its last frame.
	cli := exec.Command("hbclient", "127.0.0.1", port, "--json", "--idle", "200ms", "--interval", "100ms", "--probes", "2", "--duration", "10s")
	cli.Env = append(os.Environ(), noRaceExitSleep)
	var stderr strings.Builder
	cli.Stderr = &stderr
	lines := startLines(t, cli)
	waitFor(t, lines, nil, `"event":"pong"`)
	srvOut := waitFor(t, srvLines, nil, `"event":"hello"`)
	if !strings.Contains(srvOut[len(srvOut)-1], `"window_s":0.2,"reap_after_s":0.3`) {
		t.Fatalf("hello event %s, want a window of 0.2s reaped after 0.3s", srvOut[len(srvOut)-1])
	}
	if err := cli.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	srvOut = waitFor(t, srvLines, srvOut, `"reason":"silent past its announced window"`)
	if err := cli.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	err := cli.Wait()
	if code := cli.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("hbclient exit %d (%v), want 1, closed by the server:\n%s\n%s", code, err, strings.Join(out, "\n"), stderr.String())
	}
	if !strings.Contains(stderr.String(), "closed by the server: silent past its announced window: nothing for 300ms: 1.5 x the window its HELLO announced, 200ms") {
		t.Fatalf("hbclient's stderr %q does not say why", stderr.String())
	}
}
