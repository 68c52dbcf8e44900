package clientcmd

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/cli/clitest"
	"github.com/heartbeat/heartbeat/internal/idlerun/idletest"
	"github.com/heartbeat/heartbeat/internal/server"
)

// verdict runs hbclient idle-timeout against addr with --json and returns
// its exit code and the idle_timeout event.
func verdict(t *testing.T, addr string, flags ...string) (int, map[string]any, string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	code, stdout, stderr := clitest.Run(NewCmd, append([]string{"idle-timeout", host, port, "--json"}, flags...)...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var v map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &v); err != nil || v["event"] != "idle_timeout" {
		t.Fatalf("exit %d, last line %q (%v); stderr %q", code, lines[len(lines)-1], err, stderr)
	}
	return code, v, stdout
}

// Through a middlebox with a 1s idle timeout, the measurement finds it
// within the resolution and names how it expires.
func TestIdleTimeoutThroughProxy(t *testing.T) {
	const T = time.Second
	srv := idletest.Server(t, server.Config{Sleep: time.Minute}) // a SLEEP longer than the test: the measurement must not depend on it
	for _, tc := range []struct {
		name        string
		expiry      idletest.Expiry
		want        string
		inboundOnly bool
	}{
		{"FIN", idletest.Close, "close", false},
		{"RST", idletest.Reset, "reset", false},
		{"silent", idletest.Drop, "silent-drop", false},
		{"inbound only", idletest.InboundDrop, "silent-drop", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			px := idletest.Start(t, srv, T, tc.expiry)
			code, v, stdout := verdict(t, px.Addr, "--max", "3s", "--resolution", "200ms")
			lo, _ := v["lower_s"].(float64)
			hi, _ := v["upper_s"].(float64)
			// The proxy's timer fires a little after T, and its idle clock
			// starts a little before the client's (at the last byte it
			// forwarded, before the client saw it): allow 50ms each way.
			const slack = 0.05
			if code != 0 || !(lo < T.Seconds()+slack && T.Seconds() <= hi+slack) || hi-lo > 0.2+1e-9 {
				t.Fatalf("exit %d, bounds [%v, %v] for %v:\n%s", code, lo, hi, T, stdout)
			}
			if v["expiry"] != tc.want || v["inbound_only"] != tc.inboundOnly {
				t.Fatalf("expiry %v, inbound only %v; want %s, %v:\n%s", v["expiry"], v["inbound_only"], tc.want, tc.inboundOnly, stdout)
			}
			// PINGs at half the lower bound keep it (they pass the proxy);
			// keep-alive cannot be checked under a 2s timeout (whole seconds).
			if v["ping_refreshes"] != true || v["keepalive_refreshes"] != nil {
				t.Fatalf("refreshes: pings %v, keep-alive %v:\n%s", v["ping_refreshes"], v["keepalive_refreshes"], stdout)
			}
			if h, _ := v["heartbeat_idle_s"].(float64); h <= 0 || h > 0.8*lo+0.001 {
				t.Fatalf("heartbeat idle %v for a lower bound of %v", v["heartbeat_idle_s"], lo)
			}
		})
	}
}

// On loopback with no middlebox nothing expires: "none", exit 0.
func TestIdleTimeoutNone(t *testing.T) {
	code, v, _ := verdict(t, idletest.Server(t, server.Config{Sleep: time.Minute}), "--max", "500ms", "--resolution", "100ms", "--conns", "4")
	if code != 0 || v["expiry"] != "none" || v["upper_s"] != nil || v["lower_s"] != 0.5 || v["ping_refreshes"] != nil {
		t.Fatalf("exit %d, %v", code, v)
	}
}

// A server that is not there: one line, exit 1.
func TestIdleTimeoutRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	code, _, stderr := clitest.Run(NewCmd, "idle-timeout", "127.0.0.1", port)
	// One line, the command named once.
	want := "hbclient idle-timeout: the measurement stopped: cannot connect to 127.0.0.1:" + port + ": "
	if code != cli.ExitError || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, want) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func idleCheckOnly() *cobra.Command { return newIdleCmd(true) }

func TestIdleTimeoutFlagEdges(t *testing.T) {
	ok, bad, with, rows := clitest.OK, clitest.Bad, clitest.With, clitest.Rows
	edges := map[string][]clitest.Row{
		"max": rows(ok("100ms", "2h", "15m"), bad("99ms", "2h0m0.001s", "0", "-1", "NaN", "x")),
		"resolution": rows(ok("0", "10ms", "7m30s"), bad("9ms", "-1", "x"), with([]string{"--max", "1s"}, ok("500ms")),
			with([]string{"--max", "1s"}, bad("501ms"))),
		"conns": rows(ok("2", "1000", "32"), bad("1", "0", "1001", "1.5", "-2")),
		"json":  clitest.Bools,
		"help":  ok(""),
	}
	clitest.CheckFlags(t, idleCheckOnly, []string{"127.0.0.1", "9"}, edges)
	for _, args := range [][]string{{}, {"127.0.0.1"}, {"127.0.0.1", "0"}, {"127.0.0.1", "65536"}, {"", "9"}, {"127.0.0.1", "9", "9"}} {
		if code, _, stderr := clitest.Run(idleCheckOnly, args...); code != cli.ExitUsage || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}
