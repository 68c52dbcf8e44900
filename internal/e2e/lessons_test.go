//go:build linux

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The lessons of scripts/behind-proxy.sh and scripts/sysctl-live.sh, with
// shorter times.

// lessonOutcome is how one hbclient of a lesson ended.
type lessonOutcome struct {
	code         int
	dead         *deadEvent // nil: not declared dead
	kernelProbes int        // kernel_probe events: keep-alive probes unanswered
	out          string
}

// lessonClient is an hbclient --json running in namespace ns.
type lessonClient struct {
	name      string
	connected chan struct{} // closed at its connected event
	done      chan lessonOutcome
}

// startLessonClient runs hbclient --json HOST PORT args in namespace ns,
// until it exits or ctx ends.
func startLessonClient(t *testing.T, ctx context.Context, name, ns, host, port string, args ...string) *lessonClient {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, "hbclient", host, port, "--json"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &lessonClient{name: name, connected: make(chan struct{}), done: make(chan lessonOutcome, 1)}
	go func() {
		var o lessonOutcome
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
				close(c.connected)
			case "dead":
				o.dead = &e
			case "kernel_probe":
				o.kernelProbes++
			}
		}
		cmd.Wait()
		o.code, o.out = cmd.ProcessState.ExitCode(), all.String()
		c.done <- o
	}()
	return c
}

// waitConnected waits for each client's connected event.
func waitConnected(t *testing.T, ctx context.Context, clients ...*lessonClient) {
	t.Helper()
	for _, c := range clients {
		select {
		case <-c.connected:
		case <-ctx.Done():
			t.Fatalf("%s did not connect", c.name)
		}
	}
}

// wait is the client's outcome, logged.
func (c *lessonClient) wait(t *testing.T) lessonOutcome {
	t.Helper()
	o := <-c.done
	t.Logf("%s:\n%s", c.name, o.out)
	return o
}

// checkDead checks that o is a death declared by cause (exit code) at
// want seconds after the last sign of life, no earlier than 50ms before and
// no later than tol after.
func checkDead(t *testing.T, name string, o lessonOutcome, code int, cause string, want, tol float64) {
	t.Helper()
	if o.code != code || o.dead == nil {
		t.Errorf("%s: exit %d, dead event %v; want exit %d, dead (%s)", name, o.code, o.dead, code, cause)
		return
	}
	d := o.dead
	if d.Cause != cause || d.Observed < want-0.05 || d.Observed-want > tol {
		t.Errorf("%s: dead (%s) at %.3fs; want (%s) at %.3fs within %.0fms", name, d.Cause, d.Observed, cause, want, tol*1e3)
	}
	t.Logf("%s: dead (%s) after %.3fs, lesson predicts %.3fs (%+.1fms)", name, d.Cause, d.Observed, want, (d.Observed-want)*1e3)
}

// Behind a layer-4 proxy (HAProxy, TCP mode, timeouts of an hour) the
// client's kernel keep-alive talks to the proxy, which answers its probes:
// when the server hangs (--fault mute) or its host vanishes, keep-alive
// (idle 1s + 2 x 1s) stays content until --duration 5s (exit 0, no
// unanswered probe), and the heartbeat (idle 1s + 2 x 500ms) declares the
// server dead at 2s, within 500ms.
func TestBehindProxy(t *testing.T) {
	needTools(t, "ip", "nft", "haproxy")
	for _, tc := range []struct {
		name  string
		fault []string // hbserver's flags
		// vanish: the server's host drops every packet once the clients
		// are connected
		vanish bool
	}{
		{"hung server", []string{"--fault", "mute"}, false},
		{"vanished host", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newRoutedHosts(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srvPort := h.startServer(t, ctx, tc.fault...)
			port := h.haproxy(t, time.Hour, srvPort)
			hb := startLessonClient(t, ctx, "heartbeat", h.cliNS, h.rtrCliIP, port,
				"--idle", "1", "--interval", "500ms", "--probes", "2", "--duration", "5")
			ka := startLessonClient(t, ctx, "keep-alive", h.cliNS, h.rtrCliIP, port,
				"--probes", "0", "--keepalive", "--keepalive-idle", "1", "--keepalive-interval", "1", "--keepalive-count", "2", "--duration", "5")
			waitConnected(t, ctx, hb, ka)
			if tc.vanish {
				h.vanish(t)
			}
			checkDead(t, "heartbeat", hb.wait(t), 3, "heartbeat", 2, 0.5)
			if o := ka.wait(t); o.code != 0 || o.dead != nil || o.kernelProbes != 0 {
				t.Errorf("keep-alive: exit %d, dead event %v, %d probes unanswered; want exit 0 at --duration, every probe answered by the proxy",
					o.code, o.dead, o.kernelProbes)
			}
		})
	}
}

// keepaliveSysctls sets the keep-alive settings of namespace ns: time and
// intvl in whole seconds, and probes.
func keepaliveSysctls(t *testing.T, ns string, idle, intvl, probes int) {
	t.Helper()
	run(t, "ip", "netns", "exec", ns, "sysctl", "-qw",
		"net.ipv4.tcp_keepalive_time="+strconv.Itoa(idle), "net.ipv4.tcp_keepalive_intvl="+strconv.Itoa(intvl), "net.ipv4.tcp_keepalive_probes="+strconv.Itoa(probes))
}

// The client namespace's keep-alive settings (2s, 1s, 2 probes) change to
// 4s, 2s and 1 probe while two connections with keep-alive on run against
// a vanished host. The one without values of its own follows the new
// settings: dead at 4 + 1 x 2 = 6s, not at 2 + 2 x 1 = 4s (its own
// prediction, read back at connect, says 4s); the one with the old values
// set on its socket keeps them: dead at 4s. Each within 1s (the kernel's
// keep-alive timer, re-armed at each probe, may fire up to a quarter second
// late each time).
func TestSysctlLive(t *testing.T) {
	h := newTestHosts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keepaliveSysctls(t, h.cliNS, 2, 1, 2)
	port := h.startServer(t, ctx)
	ka := []string{"--probes", "0", "--keepalive", "--duration", "15"}
	sys := startLessonClient(t, ctx, "the namespace's settings", h.cliNS, h.srvIP, port, ka...)
	own := startLessonClient(t, ctx, "its own settings", h.cliNS, h.srvIP, port,
		append(ka, "--keepalive-idle", "2", "--keepalive-interval", "1", "--keepalive-count", "2")...)
	waitConnected(t, ctx, sys, own)
	h.vanish(t)
	keepaliveSysctls(t, h.cliNS, 4, 2, 1)
	o := sys.wait(t)
	checkDead(t, sys.name, o, 4, "keepalive", 6, 1)
	if o.dead != nil && math.Abs(o.dead.Predicted-4) > 0.05 {
		t.Errorf("%s: predicted %.3fs; want 4s, from the settings read back at connect", sys.name, o.dead.Predicted)
	}
	if o.kernelProbes != 1 {
		t.Errorf("%s: %d kernel_probe events; want 1 (tcp_keepalive_probes 1)", sys.name, o.kernelProbes)
	}
	checkDead(t, own.name, own.wait(t), 4, "keepalive", 4, 1)
}
