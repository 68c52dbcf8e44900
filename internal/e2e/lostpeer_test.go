//go:build linux

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The lessons of scripts/vanished-client.sh, rebooted-host.sh and
// unreachable-host.sh, with short timings: who declared what, with which
// error, and when.

// lessonEvent is what these tests read of a JSON event of either tool.
type lessonEvent struct {
	T           float64 `json:"t"`
	Event       string  `json:"event"`
	Reason      string  `json:"reason"`
	Cause       string  `json:"cause"`
	Error       string  `json:"error"`
	Observed    float64 `json:"observed_s"`
	Predicted   float64 `json:"predicted_s"`
	Unreachable bool    `json:"unreachable"`
	Probe       int     `json:"probe"`
}

// nsProc is hbserver or hbclient run with --json in a namespace until the
// test ends: its events as they come, then, once events is closed, its
// exit code and whole output.
type nsProc struct {
	cmd    *exec.Cmd
	events chan lessonEvent
	out    strings.Builder
	code   int
}

// startInNS runs args (the tool and its arguments) with --json in
// namespace ns; it is killed when the test ends, and its output logged.
func startInNS(t *testing.T, ctx context.Context, ns string, args ...string) *nsProc {
	t.Helper()
	tl := &nsProc{events: make(chan lessonEvent, 1000)}
	tl.cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, append(args, "--json")...)...)
	stdout, err := tl.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(tl.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			tl.out.WriteString(sc.Text() + "\n")
			var e lessonEvent
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				tl.events <- e
			}
		}
		tl.cmd.Wait()
		tl.code = tl.cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		tl.cmd.Process.Kill()
		for range tl.events { // what the test did not read
		}
		<-done
		t.Logf("%s:\n%s", strings.Join(args, " "), tl.out.String())
	})
	return tl
}

// next waits (until ctx ends) for the tool's next event named name; it
// fails the test if the tool ends first.
func (tl *nsProc) next(t *testing.T, ctx context.Context, name string) lessonEvent {
	t.Helper()
	for {
		select {
		case e, ok := <-tl.events:
			if !ok {
				t.Fatalf("%s ended (exit %d) without a %q event", tl.cmd.Args[3], tl.code, name)
			}
			if e.Event == name {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %q event from %s", name, tl.cmd.Args[3])
		}
	}
}

// end waits for the tool to exit and returns its exit code and the events
// it printed that were not read yet.
func (tl *nsProc) end(t *testing.T, ctx context.Context) (int, []lessonEvent) {
	t.Helper()
	var rest []lessonEvent
	for {
		select {
		case e, ok := <-tl.events:
			if !ok {
				return tl.code, rest
			}
			rest = append(rest, e)
		case <-ctx.Done():
			t.Fatalf("%s did not exit", tl.cmd.Args[3])
		}
	}
}

// inTolerance says whether observed is at most 50ms early and tol late.
func inTolerance(observed, predicted, tol float64) bool {
	return observed >= predicted-0.05 && observed-predicted <= tol
}

// A client's host vanishes (it drops every packet: no FIN, no RST reaches
// the server). The server with kernel keep-alive closes the connection at
// idle + count x interval ("dead by kernel"), the one with its own
// heartbeat at idle + probes x interval ("dead by heartbeat"), each within
// 500ms; the one with neither still holds it when the others are done, and
// ends it only at shutdown ("server shutting down").
func TestVanishedClient(t *testing.T) {
	t.Parallel()
	h := newTestHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type server struct {
		name   string
		args   []string
		reason string
		pred   float64
		srv    *nsProc
		conn   lessonEvent
	}
	servers := []*server{
		{name: "keep-alive", args: []string{"--keepalive", "--keepalive-idle", "1", "--keepalive-interval", "1", "--keepalive-count", "2"}, reason: "dead by kernel", pred: 3},
		{name: "heartbeat", args: []string{"--probes", "2", "--idle", "1", "--interval", "500ms"}, reason: "dead by heartbeat", pred: 2},
		{name: "no detector", reason: "server shutting down"},
	}
	for _, s := range servers {
		addrFile := filepath.Join(t.TempDir(), "addr")
		s.srv = startInNS(t, ctx, h.srvNS, append([]string{"hbserver", h.srvIP, "0", "--addr-file", addrFile}, s.args...)...)
		port := waitPort(t, addrFile)
		// A client with no heartbeat: it sends nothing, so the server's
		// last sign of life is the connect.
		startInNS(t, ctx, h.cliNS, "hbclient", h.srvIP, port, "--probes", "0")
		s.conn = s.srv.next(t, ctx, "connected")
	}
	// vanish, on the client's host instead of the server's
	(&testHosts{srvNS: h.cliNS}).vanish(t)

	for _, s := range servers[:2] {
		if s.name == "heartbeat" {
			d := s.srv.next(t, ctx, "dead")
			if d.Cause != "heartbeat" || !inTolerance(d.Observed, s.pred, 0.5) {
				t.Errorf("heartbeat server: dead (%s) observed %.3fs; want heartbeat at %.3fs within 500ms", d.Cause, d.Observed, s.pred)
			}
		}
		c := s.srv.next(t, ctx, "closed")
		if after := c.T - s.conn.T; c.Reason != s.reason || !inTolerance(after, s.pred, 0.5) {
			t.Errorf("%s server: closed (%s) %.3fs after connect; want %q at %.3fs within 500ms", s.name, c.Reason, after, s.reason, s.pred)
		} else {
			t.Logf("%s server: closed (%s) %.3fs after connect, predicted %.3fs", s.name, c.Reason, after, s.pred)
		}
	}

	plain := servers[2].srv
	plain.cmd.Process.Signal(syscall.SIGINT)
	code, rest := plain.end(t, ctx)
	var reasons []string
	for _, e := range rest {
		if e.Event == "closed" {
			reasons = append(reasons, e.Reason)
		}
	}
	if code != 0 || len(reasons) != 1 || reasons[0] != "server shutting down" {
		t.Errorf("server without a detector: exit %d, closed %q; want exit 0, one close, at shutdown", code, reasons)
	}
}

// The server's host crashes (drops every packet, its hbserver killed, its
// FIN lost) and comes back without the connection (its sockets destroyed,
// as a reboot does). The client's next keep-alive probe meets a RST: it
// reports "connection reset" at that probe (idle + 1 x interval here),
// exit 1, long before the probe count (idle + 5 x interval) would run out.
func TestRebootedHost(t *testing.T) {
	t.Parallel()
	h := newTestHosts(t)
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("skipped: needs ss (Debian package iproute2)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addrFile := filepath.Join(t.TempDir(), "addr")
	srv := startInNS(t, ctx, h.srvNS, "hbserver", h.srvIP, "0", "--addr-file", addrFile)
	port := waitPort(t, addrFile)
	cli := startInNS(t, ctx, h.cliNS, "hbclient", h.srvIP, port, "--probes", "0",
		"--keepalive", "--keepalive-idle", "1", "--keepalive-interval", "1", "--keepalive-count", "5")
	cli.next(t, ctx, "connected")
	srv.next(t, ctx, "connected")

	// The crash: nothing in or out, the process gone, its kernel then
	// forgets the connection (FIN-WAIT-1 destroyed).
	h.vanish(t)
	srv.cmd.Process.Kill()
	srv.end(t, ctx)
	out, err := exec.Command("ip", "netns", "exec", h.srvNS, "ss", "-K", "-tn", "dst", h.cliIP).CombinedOutput()
	left, _ := exec.Command("ip", "netns", "exec", h.srvNS, "ss", "-Htn", "state", "all").Output()
	if err != nil || strings.TrimSpace(string(left)) != "" {
		t.Skipf("skipped: ss -K cannot destroy sockets here (kernel without CONFIG_INET_DIAG_DESTROY?): %v %s; left: %s", err, out, left)
	}

	// Back up after the first probe went unanswered: the second meets a
	// host that does not know the connection.
	p := cli.next(t, ctx, "kernel_probe")
	run(t, "ip", "netns", "exec", h.srvNS, "nft", "delete table inet hbvanish")
	const pred = 2.0 // idle 1s + 1 x interval 1s
	e := cli.next(t, ctx, "error")
	code, rest := cli.end(t, ctx)
	for _, r := range rest {
		if r.Event == "dead" {
			t.Errorf("a dead event (%s) after the reset", r.Cause)
		}
	}
	if p.Probe != 1 || code != 1 || !strings.Contains(e.Error, "connection reset") || !inTolerance(e.T, pred, 0.5) {
		t.Errorf("probe %d unanswered before the reboot; then exit %d, error %q at %.3fs; want probe 1, exit 1, connection reset at %.3fs within 500ms",
			p.Probe, code, e.Error, e.T, pred)
	}
	t.Logf("connection reset at %.3fs, predicted %.3fs (the probe count would give up at 6s)", e.T, pred)
}

// routerHosts is newTestHosts' two hosts with a router put between them:
// the server's end of the veth pair moves into the router's namespace, and
// the server gets a link of its own behind it (the next /30), each host
// routing through the router.
type routerHosts struct {
	*testHosts
	rtrNS string
}

func newRouterHosts(t *testing.T) *routerHosts {
	t.Helper()
	h := &routerHosts{testHosts: newTestHosts(t)}
	id := strings.TrimSuffix(strings.TrimPrefix(h.srvNS, "hb-"), "-s")
	h.rtrNS = "hb-" + id + "-r"
	t.Cleanup(func() { exec.Command("ip", "netns", "del", h.rtrNS).Run() })
	// The pair's /30 is base+0..3, with the server at base+1; the
	// server's new link is the other /30 of the same /29.
	prefix := h.srvIP[:strings.LastIndexByte(h.srvIP, '.')+1]
	last, _ := strconv.Atoi(h.srvIP[len(prefix):])
	base, other := last-1, (last-1)^4
	addr := func(i int) string { return prefix + strconv.Itoa(i) }
	moved, vs, vr := "hb"+id+"s", "hb"+id+"r", "hb"+id+"t"
	run(t, "ip", "netns", "add", h.rtrNS)
	run(t, "ip", "-n", h.srvNS, "link", "set", moved, "netns", h.rtrNS)
	run(t, "ip", "-n", h.rtrNS, "addr", "add", addr(base+1)+"/30", "dev", moved)
	run(t, "ip", "-n", h.rtrNS, "link", "set", moved, "up")
	h.srvIP = addr(other + 2)
	run(t, "ip", "link", "add", vr, "netns", h.rtrNS, "type", "veth", "peer", "name", vs, "netns", h.srvNS)
	run(t, "ip", "-n", h.rtrNS, "addr", "add", addr(other+1)+"/30", "dev", vr)
	run(t, "ip", "-n", h.srvNS, "addr", "add", h.srvIP+"/30", "dev", vs)
	run(t, "ip", "-n", h.rtrNS, "link", "set", vr, "up")
	run(t, "ip", "-n", h.srvNS, "link", "set", vs, "up")
	run(t, "ip", "-n", h.cliNS, "route", "add", "default", "via", addr(base+1))
	run(t, "ip", "-n", h.srvNS, "route", "add", "default", "via", addr(other+1))
	// No rate limit on the router's ICMP errors (1 a second per peer by
	// default), so that every packet for the server is answered.
	run(t, "ip", "netns", "exec", h.rtrNS, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0")
	return h
}

// rejectAtRouter makes the router answer every packet for the server with
// ICMP host unreachable, as a router does when the host behind it is gone.
func (h *routerHosts) rejectAtRouter(t *testing.T) {
	run(t, "ip", "netns", "exec", h.rtrNS, "nft",
		"add table inet hbunreach; "+
			"add chain inet hbunreach relay { type filter hook forward priority 0; policy accept; }; "+
			"add rule inet hbunreach relay ip daddr "+h.srvIP+" reject with icmp type host-unreachable")
}

// A router answers "host unreachable" for the server. A new connection
// fails at once with EHOSTUNREACH ("no route to host"), exit 1. On an
// established one the ICMP error is soft: the heartbeat still declares the
// server dead at idle + probes x interval (exit 3), and the user timeout
// drops the unanswered PING's connection saying the host is unreachable
// (exit 4). Kernel keep-alive never hears it: the ICMP quotes the probe's
// sequence number, one below the unacknowledged data, which the kernel
// takes as out of window and ignores; so keep-alive gives up at idle +
// count x interval with ETIMEDOUT, not EHOSTUNREACH.
func TestUnreachableRouter(t *testing.T) {
	t.Parallel()
	h := newRouterHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addrFile := filepath.Join(t.TempDir(), "addr")
	startInNS(t, ctx, h.srvNS, "hbserver", h.srvIP, "0", "--addr-file", addrFile)
	port := waitPort(t, addrFile)
	type client struct {
		name        string
		args        []string
		code        int
		cause       string
		unreachable bool
		pred, tol   float64 // seconds
		cli         *nsProc
	}
	clients := []*client{
		{name: "keep-alive", args: []string{"--probes", "0", "--keepalive", "--keepalive-idle", "1", "--keepalive-interval", "1", "--keepalive-count", "2"}, code: 4, cause: "keepalive", pred: 3, tol: 0.5},
		{name: "heartbeat", args: []string{"--idle", "1", "--interval", "500ms", "--probes", "2"}, code: 3, cause: "heartbeat", pred: 2, tol: 0.5},
		// The kernel counts the user timeout from its first
		// retransmission, a few hundred ms after the PING: hence 1s.
		{name: "user timeout", args: []string{"--idle", "1", "--interval", "10", "--probes", "1", "--user-timeout", "2"}, code: 4, cause: "user-timeout", unreachable: true, pred: 3, tol: 1},
	}
	for _, c := range clients {
		c.cli = startInNS(t, ctx, h.cliNS, append([]string{"hbclient", h.srvIP, port}, c.args...)...)
		c.cli.next(t, ctx, "connected")
	}
	ignored := outOfWindowICMP(t, h.cliNS)
	h.rejectAtRouter(t)

	start := time.Now()
	late := startInNS(t, ctx, h.cliNS, "hbclient", h.srvIP, port)
	e := late.next(t, ctx, "error")
	code, _ := late.end(t, ctx)
	if took := time.Since(start); code != 1 || !strings.Contains(e.Error, "no route to host") || took > 2*time.Second {
		t.Errorf("a new connection: exit %d after %v, error %q; want exit 1 at once, no route to host", code, took, e.Error)
	}

	for _, c := range clients {
		d := c.cli.next(t, ctx, "dead")
		code, _ := c.cli.end(t, ctx)
		if code != c.code || d.Cause != c.cause || d.Unreachable != c.unreachable || !inTolerance(d.Observed, c.pred, c.tol) {
			t.Errorf("%s: exit %d, dead (%s, unreachable %v) at %.3fs; want exit %d, %s, unreachable %v, at %.3fs within %.0fms",
				c.name, code, d.Cause, d.Unreachable, d.Observed, c.code, c.cause, c.unreachable, c.pred, c.tol*1e3)
		}
		t.Logf("%s: dead (%s, unreachable %v) after %.3fs, predicted %.3fs", c.name, d.Cause, d.Unreachable, d.Observed, d.Predicted)
	}
	// Each of keep-alive's 2 probes drew an ICMP error that the kernel
	// dropped as out of window.
	if n := outOfWindowICMP(t, h.cliNS) - ignored; n < 2 {
		t.Errorf("%d ICMP errors dropped as out of window; want at least keep-alive's 2 probes", n)
	}
}

// outOfWindowICMP is the count of ICMP errors the kernel dropped in
// namespace ns because they quote a sequence number outside the window
// (TcpExtOutOfWindowIcmps, read with nstat).
func outOfWindowICMP(t *testing.T, ns string) int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nstat", "-saz", "TcpExtOutOfWindowIcmps").Output()
	if err != nil {
		t.Fatalf("nstat: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "TcpExtOutOfWindowIcmps" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("nstat: %q", line)
			}
			return n
		}
	}
	t.Fatalf("nstat gives no TcpExtOutOfWindowIcmps:\n%s", out)
	return 0
}
