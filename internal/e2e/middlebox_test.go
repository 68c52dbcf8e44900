//go:build linux

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The middleboxes of issue 13, built for real in network namespaces: a
// client, a router and a server namespace joined by two veth pairs, the
// router forwarding between them through a NAT (nftables masquerade with a
// short conntrack timeout) or a proxy (HAProxy in TCP mode).

// mbPrefix starts the name of every namespace this harness makes, followed
// by the test process's pid, so that a sweep can remove the leftovers of a
// run that was killed, and only those.
const mbPrefix = "hbmb-"

// debPackage names the Debian package of each tool the harness runs.
var debPackage = map[string]string{
	"ip": "iproute2", "nft": "nftables", "conntrack": "conntrack", "haproxy": "haproxy",
}

// missingTool says what the harness lacks to run tools: root, or one of
// them (with its Debian package); "" when nothing.
func missingTool(tools ...string) string {
	if os.Geteuid() != 0 {
		return "network namespaces need root"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("needs %s (Debian package %s)", tool, debPackage[tool])
		}
	}
	return ""
}

// needTools skips the test, saying what is missing, without root or any of
// tools.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	if why := missingTool(tools...); why != "" {
		t.Skip("skipped: " + why)
	}
}

// routedHosts is a client and a server namespace, each joined to a router
// namespace by a veth pair, with addresses from 198.18.0.0/15: a /30 for
// each link, the router at .1 of the client's and at .5 of the server's.
// The client and the server route everything through the router.
type routedHosts struct {
	testHosts            // the client and server namespaces and addresses
	rtrNS                string
	rtrCliIP, rtrSrvIP   string // the router's address on each link
	rtrCliDev, rtrSrvDev string // the router's interface on each link

	mu      sync.Mutex
	tagged  map[byte]*net.TCPConn // the echo server's connections, by their first byte
	accepts []net.Conn            // all the echo server's connections
}

var sweepOnce sync.Once

// sweepMiddleboxes removes the namespaces a killed run of this harness left
// behind (their pid is gone), ending what still runs in them.
func sweepMiddleboxes() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), mbPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(name, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		if out, err := exec.Command("ip", "netns", "pids", e.Name()).Output(); err == nil {
			for _, p := range strings.Fields(string(out)) {
				if n, err := strconv.Atoi(p); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", e.Name()).Run()
	}
}

// newRoutedHosts makes the three namespaces, removed when the test ends. It
// needs root, ip and nft, and skips the test, saying which is missing,
// without them.
func newRoutedHosts(t *testing.T) *routedHosts {
	t.Helper()
	needTools(t, "ip", "nft")
	sweepOnce.Do(sweepMiddleboxes)
	b := make([]byte, 3)
	rand.Read(b)
	id := hex.EncodeToString(b)
	// A /29 somewhere in 198.18.0.0/15, so that parallel runs do not meet.
	prefix := fmt.Sprintf("198.%d.%d.", 18+int(b[0]&1), b[1])
	base := int(b[2] &^ 7)
	addr := func(i int) string { return prefix + strconv.Itoa(base+i) }
	ns := fmt.Sprintf("%s%d-%s-", mbPrefix, os.Getpid(), id)
	h := &routedHosts{
		testHosts: testHosts{cliNS: ns + "c", srvNS: ns + "s", cliIP: addr(2), srvIP: addr(6)},
		rtrNS:     ns + "r", rtrCliIP: addr(1), rtrSrvIP: addr(5),
		rtrCliDev: "mb" + id + "rc", rtrSrvDev: "mb" + id + "rs",
	}
	t.Cleanup(func() {
		// Deleting a namespace deletes its ends of the veths, and so the pairs.
		for _, n := range []string{h.cliNS, h.rtrNS, h.srvNS} {
			exec.Command("ip", "netns", "del", n).Run()
		}
	})
	cliDev, srvDev := "mb"+id+"c", "mb"+id+"s"
	for _, n := range []string{h.cliNS, h.rtrNS, h.srvNS} {
		run(t, "ip", "netns", "add", n)
		run(t, "ip", "-n", n, "link", "set", "lo", "up")
	}
	link := func(ns, dev, ip, rtrDev, rtrIP string) {
		// Made in place: the veths never appear in this host's namespace.
		run(t, "ip", "link", "add", dev, "netns", ns, "type", "veth", "peer", "name", rtrDev, "netns", h.rtrNS)
		run(t, "ip", "-n", ns, "addr", "add", ip+"/30", "dev", dev)
		run(t, "ip", "-n", h.rtrNS, "addr", "add", rtrIP+"/30", "dev", rtrDev)
		run(t, "ip", "-n", ns, "link", "set", dev, "up")
		run(t, "ip", "-n", h.rtrNS, "link", "set", rtrDev, "up")
		run(t, "ip", "-n", ns, "route", "add", "default", "via", rtrIP)
	}
	link(h.cliNS, cliDev, h.cliIP, h.rtrCliDev, h.rtrCliIP)
	link(h.srvNS, srvDev, h.srvIP, h.rtrSrvDev, h.rtrSrvIP)
	run(t, "ip", "netns", "exec", h.rtrNS, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	return h
}

// expiry is how a middlebox ends a connection it forgot, as the client sees
// it when it next sends.
type expiry string

// The kinds of expiry, named as the idle_timeout event names them.
const (
	expiryNone       expiry = "none"        // the connection is alive
	expirySilentDrop expiry = "silent-drop" // no answer: the client retransmits
	expiryReset      expiry = "reset"       // a TCP reset
	expiryClose      expiry = "close"       // a FIN: end of file
)

// nat makes the router a NAT: nftables masquerade towards the server, and
// a conntrack timeout of established connections of timeout (whole
// seconds). Once it has forgotten a connection, it does not pick it up again
// midway (nf_conntrack_tcp_loose=0): its packets, the client's (forwarded)
// and the server's (addressed to the router), are invalid, and dropped, or
// answered with a TCP reset when reset is set. With inboundOnly it picks the
// client's up again (loose=1, Linux's default), and the router drops every
// packet addressed to itself, as the server's are.
func (h *routedHosts) nat(t *testing.T, timeout time.Duration, reset, inboundOnly bool) {
	t.Helper()
	verdict, loose := "drop", 0
	if reset {
		verdict = "ip protocol tcp reject with tcp reset"
	}
	toRouter := []string{
		"add chain ip hbmb to_router { type filter hook input priority filter; }",
		"add rule ip hbmb to_router ct state invalid " + verdict,
		"add rule ip hbmb to_router ct state invalid drop",
	}
	if inboundOnly {
		loose = 1
		toRouter = []string{"add chain ip hbmb to_router { type filter hook input priority filter; policy drop; }"}
	}
	run(t, "ip", "netns", "exec", h.rtrNS, "nft", strings.Join(append([]string{
		"add table ip hbmb",
		"add chain ip hbmb nat_out { type nat hook postrouting priority srcnat; }",
		fmt.Sprintf("add rule ip hbmb nat_out oifname %q masquerade", h.rtrSrvDev),
		"add chain ip hbmb forwarded { type filter hook forward priority filter; }",
		"add rule ip hbmb forwarded ct state invalid " + verdict,
		"add rule ip hbmb forwarded ct state invalid drop",
	}, toRouter...), "; "))
	// After the rules: conntrack's settings exist once it is loaded.
	run(t, "ip", "netns", "exec", h.rtrNS, "sysctl", "-qw",
		fmt.Sprintf("net.netfilter.nf_conntrack_tcp_timeout_established=%d", int(timeout/time.Second)),
		fmt.Sprintf("net.netfilter.nf_conntrack_tcp_loose=%d", loose))
}

// haproxy runs HAProxy in the router's namespace, in TCP mode, forwarding
// the port it returns on the router's client-side address to the server's
// srvPort, with client and server timeouts of timeout. It is stopped when
// the test ends.
func (h *routedHosts) haproxy(t *testing.T, timeout time.Duration, srvPort string) string {
	t.Helper()
	needTools(t, "haproxy")
	port := h.freePort(t, h.rtrNS, h.rtrCliIP)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "haproxy.cfg")
	ms := timeout.Milliseconds()
	err := os.WriteFile(cfg, fmt.Appendf(nil, `global
	maxconn 100
defaults
	mode tcp
	timeout connect 2s
	timeout client %dms
	timeout server %dms
listen hb
	bind %s:%s
	server hbserver %s:%s
`, ms, ms, h.rtrCliIP, port, h.srvIP, srvPort), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command("ip", "netns", "exec", h.rtrNS, "haproxy", "-db", "-f", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy:\n%s", out.String())
		}
	})
	// Ready when it accepts: connect from the client's host until it does.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := h.dial(h.rtrCliIP, port)
		if err == nil {
			c.Close()
			return port
		}
		select {
		case <-exited:
			t.Fatalf("haproxy exited: %v\n%s", cmd.ProcessState, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not accept on %s:%s in 10s: %v", h.rtrCliIP, port, err)
		}
	}
}

// inNetns runs f in network namespace ns, on an OS thread of its own: the
// sockets f makes belong to ns for their whole life, wherever they are used
// afterwards. The thread is never unlocked, so it ends with f's goroutine
// instead of going back to the runtime in the wrong namespace.
func inNetns(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open namespace %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// dial connects from the client's namespace to host:port, in 5s at most.
func (h *routedHosts) dial(host, port string) (*net.TCPConn, error) {
	var c net.Conn
	err := inNetns(h.cliNS, func() error {
		var err error
		c, err = net.DialTimeout("tcp", net.JoinHostPort(host, port), 5*time.Second)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// freePort is a port free on ip in namespace ns, found by listening on port
// 0 there. Nothing else runs in the test's namespaces, so it stays free.
func (h *routedHosts) freePort(t *testing.T, ns, ip string) string {
	t.Helper()
	var port string
	err := inNetns(ns, func() error {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return err
		}
		defer l.Close()
		_, port, err = net.SplitHostPort(l.Addr().String())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// echoServer listens in the server's namespace and sends back every byte it
// receives, until the test ends; it returns the port. It keeps each
// connection under its first byte, for serverConn.
func (h *routedHosts) echoServer(t *testing.T) string {
	t.Helper()
	var l net.Listener
	err := inNetns(h.srvNS, func() error {
		var err error
		l, err = net.Listen("tcp", net.JoinHostPort(h.srvIP, "0"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.tagged = map[byte]*net.TCPConn{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.accepts = append(h.accepts, c)
			h.mu.Unlock()
			wg.Go(func() {
				buf := make([]byte, 64)
				for first := true; ; first = false {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if first { // before the echo: the client knows it is kept once answered
						h.mu.Lock()
						h.tagged[buf[0]] = c.(*net.TCPConn)
						h.mu.Unlock()
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		h.mu.Lock()
		for _, c := range h.accepts {
			c.Close()
		}
		h.mu.Unlock()
		wg.Wait()
	})
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// serverConn is the echo server's connection whose first byte was tag.
func (h *routedHosts) serverConn(tag byte) *net.TCPConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tagged[tag]
}

// idleCase is one connection from the client's host to host:port through
// a middlebox: idle for idle (with kernel keep-alive every second when
// keepalive is set), then one byte sent, by the client or, when inbound is
// set, by the server, and how the connection answers it.
type idleCase struct {
	name       string
	h          *routedHosts
	host, port string
	idle       time.Duration
	keepalive  bool
	inbound    bool
	want       expiry
}

// tcpClose is Linux's TCP_CLOSE (include/net/tcp_states.h), the state of a
// connection that was reset.
const tcpClose = 7

// probe sends byte b from sender, the client (to be echoed) or the server,
// and tells how the client received it within wait: the byte (alive), end of
// file, a reset, or nothing. Nothing is a silent drop when the sender's
// TCP_INFO shows the byte unacknowledged and retransmitted, and a reset
// when the sender's connection is closed: the middlebox reset it.
func probe(client, sender *net.TCPConn, b byte, wait time.Duration) (expiry, error) {
	// A write that fails (the middlebox ended the sender's side already)
	// still leaves the client to read how its side ended.
	_, werr := sender.Write([]byte{b})
	client.SetReadDeadline(time.Now().Add(wait))
	got := make([]byte, 1)
	_, err := client.Read(got)
	switch {
	case err == nil && got[0] == b:
		return expiryNone, nil
	case err == nil:
		return "", fmt.Errorf("read %q; want %q", got, b)
	case errors.Is(err, io.EOF):
		return expiryClose, nil
	case errors.Is(err, syscall.ECONNRESET):
		return expiryReset, nil
	case !errors.Is(err, os.ErrDeadlineExceeded):
		return "", fmt.Errorf("read: %w", err)
	case werr != nil:
		return "", fmt.Errorf("write: %w; then nothing in %v", werr, wait)
	}
	raw, err := sender.SyscallConn()
	if err != nil {
		return "", err
	}
	var info *unix.TCPInfo
	var ierr error
	raw.Control(func(fd uintptr) { info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
	switch {
	case ierr != nil:
		return "", fmt.Errorf("tcp_info: %w", ierr)
	case info.State == tcpClose:
		return expiryReset, nil
	case info.Unacked > 0 && info.Total_retrans > 0:
		return expirySilentDrop, nil
	}
	return "", fmt.Errorf("no answer in %v, yet the sender has %d segments unacknowledged, %d retransmissions", wait, info.Unacked, info.Total_retrans)
}

// checkIdle runs cases in parallel, each on its own connection: one
// exchange, the idle time, the probe.
func checkIdle(t *testing.T, cases []idleCase) {
	t.Helper()
	type result struct {
		got expiry
		err error
	}
	results := make([]chan result, len(cases))
	for i, c := range cases {
		results[i] = make(chan result, 1)
		conn, err := c.h.dial(c.host, c.port)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		defer conn.Close()
		if c.keepalive {
			err := conn.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 30})
			if err != nil {
				t.Fatal(err)
			}
		}
		tag := byte(i) // the echo server keeps the connection under it
		go func() {
			if got, err := probe(conn, conn, tag, 2*time.Second); got != expiryNone || err != nil {
				results[i] <- result{got, fmt.Errorf("first exchange: %v %v", got, err)}
				return
			}
			sender := conn
			if c.inbound {
				sender = c.h.serverConn(tag)
			}
			time.Sleep(c.idle) // the idle time is what the middlebox is tested on
			got, err := probe(conn, sender, 'y', 1500*time.Millisecond)
			results[i] <- result{got, err}
		}()
	}
	for i, c := range cases {
		r := <-results[i]
		if r.err != nil || r.got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, r.got, r.err, c.want)
		} else {
			t.Logf("%s: %s", c.name, r.got)
		}
	}
}

// middlebox is one of the middleboxes the tests build in the router's
// namespace, and what it does to an idle connection.
type middlebox struct {
	name        string
	expiry      expiry   // how it ends a connection idle too long
	inboundOnly bool     // it forgets only for the server's packets: the client's make a new mapping
	keepalive   bool     // whether kernel keep-alive refreshes its state
	tools       []string // what it needs beyond ip and nft
	conntracked bool     // a NAT, whose state conntrack lists
}

var middleboxes = []middlebox{
	{"nat-silent-drop", expirySilentDrop, false, true, []string{"conntrack"}, true},
	// The client sees the reset; the server's packets are reset too.
	{"nat-reset", expiryReset, false, true, []string{"conntrack"}, true},
	// Linux's own default (nf_conntrack_tcp_loose=1) picks the client's
	// packets of a forgotten connection up again, under the same port; the
	// server's, addressed to the router, find nothing and are dropped.
	{"nat-inbound-only", expirySilentDrop, true, true, []string{"conntrack"}, true},
	// Keep-alive probes stop at HAProxy's kernel: its timers never see them.
	{"haproxy", expiryClose, false, false, []string{"haproxy"}, false},
}

// put makes m the router, with idle timeout timeout, in front of the
// server's srvPort, and returns the address the client connects to.
func (h *routedHosts) put(t *testing.T, m middlebox, timeout time.Duration, srvPort string) (host, port string) {
	t.Helper()
	if m.expiry == expiryClose {
		return h.rtrCliIP, h.haproxy(t, timeout, srvPort)
	}
	h.nat(t, timeout, m.expiry == expiryReset, m.inboundOnly)
	return h.srvIP, srvPort
}

// routedMiddleboxes makes client, router and server hosts for each
// middlebox whose tools are here and calls f with the two, which puts the
// middlebox on the router and a server on the server's host. The others are
// skipped, saying why; the test too when none is left.
func routedMiddleboxes(t *testing.T, f func(m middlebox, h *routedHosts)) {
	t.Helper()
	needTools(t, "ip", "nft")
	n := 0
	for _, m := range middleboxes {
		if why := missingTool(m.tools...); why != "" {
			t.Logf("%s: skipped: %s", m.name, why)
			continue
		}
		f(m, newRoutedHosts(t))
		n++
	}
	if n == 0 {
		t.Skip("skipped: no middlebox can be built here")
	}
}

// expiryTimeout is the middleboxes' timeout in the tests of their
// behaviour: whole seconds (conntrack's unit), and short, so that they
// take seconds.
const expiryTimeout = 2 * time.Second

// Each middlebox forgets a connection idle longer than its timeout: a NAT
// drops its next packet (no answer: the sender retransmits) or answers it
// with a reset, HAProxy closes it (FIN); the inbound-only NAT, for the
// server's packets only. One idle less long lives. Kernel keep-alive every
// second keeps a NAT's conntrack entry, not HAProxy's connection. The
// middleboxes run at once, on connections of their own.
func TestMiddleboxExpiry(t *testing.T) {
	t.Parallel()
	var cases []idleCase
	routedMiddleboxes(t, func(m middlebox, h *routedHosts) {
		host, port := h.put(t, m, expiryTimeout, h.echoServer(t))
		if m.conntracked {
			h.checkConntrackTimeout(t, port, expiryTimeout)
		}
		outbound := m.expiry
		if m.inboundOnly {
			outbound = expiryNone
		}
		withKeepalive := outbound
		if m.keepalive {
			withKeepalive = expiryNone
		}
		below, above := expiryTimeout-time.Second, expiryTimeout+1500*time.Millisecond
		cases = append(cases,
			idleCase{m.name + ", below the timeout", h, host, port, below, false, false, expiryNone},
			idleCase{m.name + ", above the timeout", h, host, port, above, false, false, outbound},
			idleCase{m.name + ", keep-alive every 1s", h, host, port, 2*expiryTimeout + time.Second, true, false, withKeepalive},
			idleCase{m.name + ", server first, below the timeout", h, host, port, below, false, true, expiryNone},
			idleCase{m.name + ", server first, above the timeout", h, host, port, above, false, true, m.expiry})
	})
	checkIdle(t, cases)
}

// checkConntrackTimeout checks that the router's conntrack entry of a new
// connection to the server's port carries timeout (the seconds left,
// rounded down: just under it).
func (h *routedHosts) checkConntrackTimeout(t *testing.T, port string, timeout time.Duration) {
	t.Helper()
	c, err := h.dial(h.srvIP, port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, err := exec.Command("ip", "netns", "exec", h.rtrNS, "conntrack", "-L", "-p", "tcp",
		"--src", h.cliIP, "--sport", strconv.Itoa(c.LocalAddr().(*net.TCPAddr).Port)).Output()
	if err != nil {
		t.Fatalf("conntrack -L: %v", err)
	}
	entries := strings.Split(strings.TrimSpace(string(out)), "\n")
	secs := int(timeout / time.Second)
	f := strings.Fields(entries[0])
	if len(entries) != 1 || len(f) < 4 || f[3] != "ESTABLISHED" || (f[2] != strconv.Itoa(secs) && f[2] != strconv.Itoa(secs-1)) {
		t.Fatalf("conntrack entries of a new connection: %q; want one, ESTABLISHED, %d or %d seconds left", entries, secs-1, secs)
	}
}

// needIdleTimeout skips the test while hbclient has no idle-timeout
// subcommand. Without one, `hbclient idle-timeout --help` still exits 0 (the
// root command's help, taking idle-timeout for HOST), so its output must
// also be the subcommand's own.
func needIdleTimeout(t *testing.T) {
	t.Helper()
	out, err := exec.Command("hbclient", "idle-timeout", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "hbclient idle-timeout") {
		t.Skip("skipped: hbclient idle-timeout is not built yet")
	}
}

// idleTimeoutEvent is the event that ends `hbclient idle-timeout --json`.
type idleTimeoutEvent struct {
	Event              string   `json:"event"`
	Lower              *float64 `json:"lower_s"`
	Upper              *float64 `json:"upper_s"` // nil: nothing expired
	Expiry             string   `json:"expiry"`
	InboundOnly        bool     `json:"inbound_only"`
	KeepaliveRefreshes *bool    `json:"keepalive_refreshes"` // nil: not measured
	PingRefreshes      *bool    `json:"ping_refreshes"`
}

// measuredTimeout is the middleboxes' timeout in the tests of the
// measurement: whole seconds for conntrack, short, and a few resolutions
// above the shortest gaps the measurement may try.
const measuredTimeout = 3 * time.Second

// hbclient idle-timeout, run from the client's host against hbserver behind
// each middlebox, finds the configured timeout within its resolution (and
// conntrack's granularity: the jiffies of its timer and the packet that
// last refreshed it), the kind of expiry, whether only the server's packets
// find the state gone (inbound_only), and whether kernel keep-alive
// refreshes the state: it does a NAT's conntrack entry, not HAProxy's
// connection. The middleboxes are measured at once.
func TestIdleTimeoutMeasured(t *testing.T) {
	t.Parallel()
	needTools(t, "ip", "nft")
	needIdleTimeout(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	type run struct {
		m        middlebox
		out, err []byte
		code     int
	}
	var runs []chan run
	routedMiddleboxes(t, func(m middlebox, h *routedHosts) {
		host, port := h.put(t, m, measuredTimeout, h.startServer(t, ctx))
		cmd := exec.CommandContext(ctx, "ip", "netns", "exec", h.cliNS, "hbclient", "idle-timeout", host, port,
			"--max", "10s", "--resolution", "500ms", "--json")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := make(chan run, 1)
		runs = append(runs, c)
		go func() {
			cmd.Wait()
			c <- run{m, stdout.Bytes(), stderr.Bytes(), cmd.ProcessState.ExitCode()}
		}()
	})
	for _, c := range runs {
		r := <-c
		t.Run(r.m.name, func(t *testing.T) {
			t.Logf("hbclient idle-timeout: exit %d\n%s%s", r.code, r.out, r.err)
			checkMeasured(t, r.m, r.code, r.out)
		})
	}
}

// checkMeasured checks what hbclient idle-timeout --json printed, and its
// exit code, against m with measuredTimeout.
func checkMeasured(t *testing.T, m middlebox, code int, out []byte) {
	t.Helper()
	const resolution, slack = 0.5, 0.25 // seconds
	if code != 0 {
		t.Fatalf("exit %d; want 0", code)
	}
	var ev *idleTimeoutEvent
	for _, l := range bytes.Split(out, []byte("\n")) {
		var e idleTimeoutEvent
		if json.Unmarshal(l, &e) == nil && e.Event == "idle_timeout" {
			ev = &e
		}
	}
	if ev == nil {
		t.Fatal("no idle_timeout event")
	}
	T := measuredTimeout.Seconds()
	if ev.Lower == nil || ev.Upper == nil {
		t.Fatalf("lower_s %s, upper_s %s; want both, around %.1fs", jsonText(ev.Lower), jsonText(ev.Upper), T)
	}
	lo, hi := *ev.Lower, *ev.Upper
	if lo > T+slack || hi < T-slack || hi-lo > resolution+slack || lo > hi {
		t.Errorf("measured between %.3fs and %.3fs; want %.1fs between them, %.1fs apart at most", lo, hi, T, resolution)
	}
	if ev.Expiry != string(m.expiry) {
		t.Errorf("expiry %q; want %q", ev.Expiry, m.expiry)
	}
	if ev.InboundOnly != m.inboundOnly {
		t.Errorf("inbound_only %v; want %v", ev.InboundOnly, m.inboundOnly)
	}
	if ev.KeepaliveRefreshes == nil || *ev.KeepaliveRefreshes != m.keepalive {
		t.Errorf("keepalive_refreshes %s; want %v", jsonText(ev.KeepaliveRefreshes), m.keepalive)
	}
	if ev.PingRefreshes == nil || !*ev.PingRefreshes {
		t.Errorf("ping_refreshes %s; want true", jsonText(ev.PingRefreshes))
	}
}

// jsonText is an optional field of an event as JSON has it: null when nil.
func jsonText[T any](v *T) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprint(*v)
}

// The sweep removes the namespaces of a run of this harness whose process is
// gone, ending what still runs in them, and leaves those of a live one.
func TestSweepMiddleboxes(t *testing.T) {
	t.Parallel()
	needTools(t, "ip")
	sweepOnce.Do(sweepMiddleboxes) // this process's own sweep, out of the way
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Process.Kill(); live.Wait() })
	b := make([]byte, 3)
	rand.Read(b)
	id := hex.EncodeToString(b)
	goneNS := fmt.Sprintf("%s%d-%s-c", mbPrefix, gone.Process.Pid, id)
	liveNS := fmt.Sprintf("%s%d-%s-c", mbPrefix, live.Process.Pid, id)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", goneNS).Run()
		exec.Command("ip", "netns", "del", liveNS).Run()
	})
	run(t, "ip", "netns", "add", goneNS)
	run(t, "ip", "netns", "add", liveNS)
	left := exec.Command("ip", "netns", "exec", goneNS, "sleep", "60")
	if err := left.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- left.Wait() }()
	// The sweep finds the processes a namespace holds: wait until ip has
	// entered it, or the sweep may run first and find none.
	in := strconv.Itoa(left.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, _ := exec.Command("ip", "netns", "pids", goneNS).Output()
		if slices.Contains(strings.Fields(string(out)), in) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %s not in %s after 10s", in, goneNS)
		}
	}

	sweepMiddleboxes()
	select {
	case <-ended:
		if ws := left.ProcessState.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGKILL {
			t.Errorf("the process left in %s: %v; want killed", goneNS, left.ProcessState)
		}
	case <-time.After(10 * time.Second):
		left.Process.Kill()
		<-ended
		t.Errorf("the process left in %s still ran 10s after the sweep", goneNS)
	}
	if _, err := os.Stat("/run/netns/" + goneNS); err == nil {
		t.Errorf("%s (pid gone) is still there", goneNS)
	}
	if _, err := os.Stat("/run/netns/" + liveNS); err != nil {
		t.Errorf("%s (pid alive) was swept: %v", liveNS, err)
	}
}
