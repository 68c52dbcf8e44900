package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// On a terminal (script(1)'s pty) hbclient colours a PONG in time green
// by itself (--color auto); with NO_COLOR set it writes no escape
// sequence; into a pipe, none either.
func TestColorOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("skipped: needs script (Debian package bsdutils) to give hbclient a terminal")
	}
	addrFile := filepath.Join(t.TempDir(), "addr")
	srv := exec.Command("hbserver", "127.0.0.1", "0", "0", "--addr-file", addrFile)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(addrFile)
		addr = strings.TrimSpace(string(b))
	}
	if addr == "" {
		t.Fatal("hbserver wrote no --addr-file within 10s")
	}
	host, port, _ := strings.Cut(addr, ":")
	client := "hbclient " + host + " " + port + " --idle 50ms --duration 200ms"
	for _, tc := range []struct {
		noColor string
		want    bool
	}{{"", true}, {"1", false}} {
		cmd := exec.Command(script, "-qfec", client, "/dev/null")
		cmd.Env = append(os.Environ(), "NO_COLOR="+tc.noColor)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("NO_COLOR=%q: %v\n%s", tc.noColor, err, out)
		}
		green := strings.Contains(string(out), "\x1b[32mPONG #1, RTT ")
		if green != tc.want || !tc.want && strings.Contains(string(out), "\x1b[") {
			t.Errorf("NO_COLOR=%q on a terminal: colour %v, want %v:\n%q", tc.noColor, green, tc.want, out)
		}
	}
	piped, err := exec.Command("sh", "-c", client).Output()
	if err != nil || strings.Contains(string(piped), "\x1b") || !strings.Contains(string(piped), "PONG #1") {
		t.Errorf("into a pipe: %v\n%q", err, piped)
	}
}
