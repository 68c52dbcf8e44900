//go:build linux

package e2e

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// startHBServer runs the hbserver binary on loopback port 0 with stdout
// given to the caller; it returns the command, its port and its stdout.
func startHBServer(t *testing.T, args ...string) (*exec.Cmd, string, io.ReadCloser) {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd := exec.Command("hbserver", append([]string{"127.0.0.1", "0", "--addr-file", addrFile}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, waitPort(t, addrFile), stdout
}

func pingPong(t *testing.T, c net.Conn) {
	t.Helper()
	var f msg.Frame
	f.SetType(msg.Ping)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(f[:]); err != nil {
		t.Fatal(err)
	}
	if err := msg.ReadFrame(c, &f); err != nil {
		t.Fatal(err)
	}
}

// SIGINT with thousands of connections open: hbserver stops accepting,
// closes every connection and exits 0 within 2s.
func TestShutdownUnderLoad(t *testing.T) {
	const n = 3000
	cmd, port, stdout := startHBServer(t)
	lines := make(chan string, 16)
	read := make(chan struct{})
	go func() {
		defer close(read)
		// The stopped line and the lines that continue it.
		sc := bufio.NewScanner(stdout)
		stopped := ""
		for sc.Scan() {
			switch {
			case strings.Contains(sc.Text(), "stopped after"):
				stopped = sc.Text()
			case stopped != "" && strings.HasPrefix(sc.Text(), "    "):
				stopped += " " + strings.TrimLeft(sc.Text(), " ")
			}
		}
		if stopped != "" {
			lines <- stopped
		}
		close(lines)
	}()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	pingPong(t, conns[n-1]) // accepted in order: so all are being served
	begun := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	// Wait closes the pipe: the output is read to its end (the exit) first.
	<-read
	err := cmd.Wait()
	took := time.Since(begun)
	limit := 2 * time.Second
	if raceEnabled {
		limit = 10 * time.Second
	}
	if err != nil || took > limit {
		t.Fatalf("exit %v after %v with %d connections, want 0 within %v", err, took, n, limit)
	}
	t.Logf("exit 0 after SIGINT in %v with %d connections open", took.Round(time.Millisecond), n)
	if got := <-lines; !strings.Contains(got, "stopped after serving 3000 connections; closed: 3000 server shutting down") {
		t.Fatalf("final line %q, want all %d closed by the shutdown", got, n)
	}
	// Every client sees its connection closed.
	for _, c := range conns[:10] {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("client after shutdown: %v", err)
		}
	}
}

// "hbserver ... | head -1": a closed stdout does not stop the server.
func TestClosedStdout(t *testing.T) {
	cmd, port, stdout := startHBServer(t)
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.Contains(first, "listening on") {
		t.Fatalf("first line %q, %v", first, err)
	}
	stdout.Close() // as head -1 does after its line
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		pingPong(t, c)
		c.Close()
	}
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hbserver with its stdout closed: %v, want exit 0", err)
	}
}

// Out of file descriptors: the accept loop backs off and retries instead of
// stopping; the connections already open keep being served; once some close,
// waiting ones are accepted.
func TestOutOfFileDescriptors(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("skipped: needs prlimit (Debian package util-linux)")
	}
	addrFile := filepath.Join(t.TempDir(), "addr")
	cmd := exec.Command(prlimit, "--nofile=40", "hbserver", "127.0.0.1", "0", "--addr-file", addrFile, "--max-conns", "0")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	port := waitPort(t, addrFile)

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 60; i++ { // more than 40 files allow
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	pingPong(t, conns[0]) // an early connection is still served
	// The server holds fewer than 40 files (about a dozen are the runtime's
	// and its event loop's), so the last ones wait in the backlog. Close
	// early ones, leaving 20: the waiting ones get accepted and served.
	for _, c := range conns[1:41] {
		c.Close()
	}
	pingPong(t, conns[59])
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hbserver: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "too many open files; retrying") {
		t.Fatalf("the server never ran out of files:\n%s", out.String())
	}
}
