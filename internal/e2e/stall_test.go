//go:build linux

package e2e

import (
	"bufio"
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
	stdout, err := cli.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Process.Signal(syscall.SIGCONT); cli.Process.Kill() })
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var out []string
	// Stop it once a PONG shows the heartbeat running.
	for timeout := time.After(10 * time.Second); len(out) == 0 || !strings.Contains(out[len(out)-1], `"event":"pong"`); {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("hbclient ended before a PONG: %s", strings.Join(out, "\n"))
			}
			out = append(out, l)
		case <-timeout:
			t.Fatalf("no PONG within 10s: %s", strings.Join(out, "\n"))
		}
	}
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
	err = cli.Wait()
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
