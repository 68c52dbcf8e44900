//go:build linux

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testHosts is a pair of network namespaces joined by a veth pair, with
// addresses from 198.18.0.0/15 (RFC 2544's benchmarking range), made by the
// test and removed by it.
type testHosts struct {
	srvNS, cliNS string
	srvIP, cliIP string
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newTestHosts needs root, ip (iproute2) and nft (nftables); it skips the
// test, saying which is missing, when any is not there.
func newTestHosts(t *testing.T) *testHosts {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: network namespaces need root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: needs %s (Debian package %s)", tool, map[string]string{"ip": "iproute2", "nft": "nftables"}[tool])
		}
	}
	b := make([]byte, 3)
	rand.Read(b)
	id := hex.EncodeToString(b)
	h := &testHosts{
		srvNS: "hb-" + id + "-s", cliNS: "hb-" + id + "-c",
		// a /30 somewhere in 198.18.0.0/15, so that parallel runs do not meet
		srvIP: fmt.Sprintf("198.%d.%d.%d", 18+int(b[0]&1), b[1], b[2]&^3+1),
	}
	h.cliIP = fmt.Sprintf("198.%d.%d.%d", 18+int(b[0]&1), b[1], b[2]&^3+2)
	t.Cleanup(func() {
		// Deleting a namespace deletes its end of the veth, and so the pair.
		exec.Command("ip", "netns", "del", h.srvNS).Run()
		exec.Command("ip", "netns", "del", h.cliNS).Run()
	})
	vs, vc := "hb"+id+"s", "hb"+id+"c"
	run(t, "ip", "netns", "add", h.srvNS)
	run(t, "ip", "netns", "add", h.cliNS)
	run(t, "ip", "link", "add", vs, "type", "veth", "peer", "name", vc)
	run(t, "ip", "link", "set", vs, "netns", h.srvNS)
	run(t, "ip", "link", "set", vc, "netns", h.cliNS)
	run(t, "ip", "-n", h.srvNS, "addr", "add", h.srvIP+"/30", "dev", vs)
	run(t, "ip", "-n", h.cliNS, "addr", "add", h.cliIP+"/30", "dev", vc)
	run(t, "ip", "-n", h.srvNS, "link", "set", vs, "up")
	run(t, "ip", "-n", h.cliNS, "link", "set", vc, "up")
	return h
}

// vanish makes the server's host drop every packet, in and out, as a host
// that lost power would.
func (h *testHosts) vanish(t *testing.T) {
	run(t, "ip", "netns", "exec", h.srvNS, "nft",
		"add table inet hbvanish; "+
			"add chain inet hbvanish in { type filter hook input priority 0; policy drop; }; "+
			"add chain inet hbvanish out { type filter hook output priority 0; policy drop; }")
}

// unreachable makes the server's host answer every packet with ICMP host
// unreachable, as a router does when the host behind it is gone.
func (h *testHosts) unreachable(t *testing.T) {
	run(t, "ip", "netns", "exec", h.srvNS, "nft",
		"add table inet hbvanish; "+
			"add chain inet hbvanish in { type filter hook input priority 0; policy accept; }; "+
			"add rule inet hbvanish in ip protocol tcp reject with icmp type host-unreachable")
}

type deadEvent struct {
	Event       string  `json:"event"`
	Unreachable bool    `json:"unreachable"`
	Cause       string  `json:"cause"`
	Observed    float64 `json:"observed_s"`
	Predicted   float64 `json:"predicted_s"`
	TCPIProbes  int     `json:"tcpi_probes"`
	KernelProbe int     `json:"probe"`
}

// A vanished host: kernel keep-alive alone finds it (exit 4, cause
// keepalive) at idle + count x interval; the heartbeat alone finds it
// (exit 3) at idle + probes x interval; a user timeout drops the unanswered
// PING's connection (exit 4, cause user-timeout). Each within 500ms of its
// prediction.
func TestVanishedHost(t *testing.T) {
	h := newTestHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	port := h.startServer(t, ctx)

	type client struct {
		name  string
		args  []string
		code  int
		cause string
		pred  float64
		tol   float64 // seconds
	}
	clients := []client{
		{"keep-alive", []string{"--probes", "0", "--keepalive", "--keepalive-idle", "1", "--keepalive-interval", "1", "--keepalive-count", "2"}, 4, "keepalive", 3, 0.5},
		{"heartbeat", []string{"--idle", "1", "--interval", "500ms", "--probes", "2"}, 3, "heartbeat", 2, 0.5},
		// PING #1 at 1s is never acknowledged: the user timeout drops the
		// connection about 2s later, long before the heartbeat's 11s. The
		// kernel counts from its first retransmission, which comes a few
		// hundred ms after the write (RTO, tail loss probe), hence the
		// wider tolerance.
		{"user timeout", []string{"--idle", "1", "--interval", "10", "--probes", "1", "--user-timeout", "2"}, 4, "user-timeout", 3, 1},
	}
	type outcome struct {
		code int
		dead *deadEvent
		out  string
	}
	results := make([]chan outcome, len(clients))
	connected := make(chan struct{}, len(clients))
	for i, c := range clients {
		results[i] = make(chan outcome, 1)
		args := append([]string{"netns", "exec", h.cliNS, "hbclient", h.srvIP, port, "--json"}, c.args...)
		cmd := exec.CommandContext(ctx, "ip", args...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			var o outcome
			var all strings.Builder
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				all.WriteString(sc.Text() + "\n")
				var e deadEvent
				if json.Unmarshal(sc.Bytes(), &e) != nil {
					continue
				}
				switch e.Event {
				case "connected":
					connected <- struct{}{}
				case "dead":
					o.dead = &e
				}
			}
			cmd.Wait()
			o.code, o.out = cmd.ProcessState.ExitCode(), all.String()
			results[i] <- o
		}()
	}
	for range clients {
		select {
		case <-connected:
		case <-ctx.Done():
			t.Fatal("clients did not connect")
		}
	}
	h.vanish(t)

	for i, c := range clients {
		o := <-results[i]
		t.Logf("%s:\n%s", c.name, o.out)
		if o.code != c.code || o.dead == nil {
			t.Errorf("%s: exit %d, dead event %v; want exit %d", c.name, o.code, o.dead, c.code)
			continue
		}
		d := o.dead
		if d.Cause != c.cause || math.Abs(d.Predicted-c.pred) > 0.05 || d.Observed < d.Predicted-0.05 || d.Observed-d.Predicted > c.tol {
			t.Errorf("%s: cause %q, observed %.3fs, predicted %.3fs; want %q at %.3fs within %.0fms",
				c.name, d.Cause, d.Observed, d.Predicted, c.cause, c.pred, c.tol*1e3)
		}
		t.Logf("%s: dead (%s) after %.3fs, predicted %.3fs (%+.1fms)", c.name, d.Cause, d.Observed, d.Predicted, (d.Observed-d.Predicted)*1e3)
	}
}

// An unreachable host: ICMP host unreachable answers the client's PING. The
// kernel keeps it as a soft error until its user timeout gives up; hbclient
// then says the host is unreachable and exits 4.
func TestUnreachableHost(t *testing.T) {
	h := newTestHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	port := h.startServer(t, ctx)
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", h.cliNS, "hbclient", h.srvIP, port, "--json",
		"--idle", "1", "--interval", "10", "--probes", "1", "--user-timeout", "2")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var out strings.Builder
	var dead *deadEvent
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		var e deadEvent
		json.Unmarshal(sc.Bytes(), &e)
		switch e.Event {
		case "connected":
			h.unreachable(t)
		case "dead":
			dead = &e
		}
	}
	cmd.Wait()
	t.Logf("%s", out.String())
	if code := cmd.ProcessState.ExitCode(); code != 4 || dead == nil || !dead.Unreachable || dead.Cause != "user-timeout" {
		t.Fatalf("exit %d, dead event %+v; want exit 4, user-timeout, unreachable", code, dead)
	}
}

// startServer runs hbserver on the server's host until the test ends and
// returns its port.
func (h *testHosts) startServer(t *testing.T, ctx context.Context) string {
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	srv := exec.CommandContext(ctx, "ip", "netns", "exec", h.srvNS, "hbserver", h.srvIP, "0", "--addr-file", addrFile)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	return waitPort(t, addrFile)
}

// waitPort waits (10s at most) for hbserver's --addr-file and returns the
// port in it.
func waitPort(t *testing.T, addrFile string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil {
			s := strings.TrimSpace(string(b))
			return s[strings.LastIndexByte(s, ':')+1:]
		}
		if time.Now().After(deadline) {
			t.Fatal("hbserver did not write its address")
		}
	}
}
