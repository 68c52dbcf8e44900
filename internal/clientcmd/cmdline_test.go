package clientcmd

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/cli/clitest"
)

// checkOnly is hbclient stopping once its command line is checked.
func checkOnly() *cobra.Command { return newCmd(true) }

// bools are the rows of a switch.
var bools = clitest.Rows(clitest.OK("", "true", "false"), clitest.Bad("maybe"))

func TestFlagEdges(t *testing.T) {
	ok, bad, with, rows := clitest.OK, clitest.Bad, clitest.With, clitest.Rows
	ka := []string{"--keepalive"}
	clitest.CheckFlags(t, checkOnly, []string{"127.0.0.1", "9"}, map[string][]clitest.Row{
		"idle": rows(ok("1ms", "0.001", "10", "2562047h"),
			bad("999us", "0", "1ns", "2562048h", "9223372036s", "1e12", "-5ms")),
		"interval": rows(ok("1ms", "3"), bad("999us", "0", "1e12"),
			with([]string{"--probes", "2"}, bad("2562047h"))),
		"probes":          rows(ok("0", "1", "1000000"), bad("9223372036854775807", "9223372036854775808", "1.5")),
		"accept-late":     bools,
		"duration":        rows(ok("0", "1ms", "2562047h"), bad("999us", "1ns", "2562048h")),
		"connect-timeout": rows(ok("0", "1ms", "2562047h"), bad("999us", "1ns", "2562048h")),
		"conns": rows(ok("0", "1", strconv.Itoa(cli.MaxConns())),
			bad(strconv.Itoa(cli.MaxConns()+1), "1.5"), with(ka, bad("5"))),
		"rate":               rows(ok("0", "0.5", "1e6"), bad("1000001")),
		"keepalive":          bools,
		"keepalive-idle":     rows(with(ka, ok("0", "1", "32767")), with(ka, bad("0.5", "1.5", "32768")), bad("5")),
		"keepalive-interval": rows(with(ka, ok("0", "1s", "32767s")), with(ka, bad("999ms", "32768s")), bad("5")),
		"keepalive-count":    rows(with(ka, ok("0", "1", "127")), with(ka, bad("128")), bad("5")),
		"user-timeout": rows(ok("0", "1ms", "0.001", "2147483647ms"),
			bad("1ns", "999us", "1.5ms", "2147483648ms", "1e9")),
		"json":    bools,
		"help":    ok(""),
		"version": ok(""),
	})
}

func TestArgumentEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		args []string
	}{
		{"PORT", 2, []string{"127.0.0.1", "0"}},
		{"PORT", 0, []string{"127.0.0.1", "1"}},
		{"PORT", 0, []string{"127.0.0.1", "65535"}},
		{"PORT", 2, []string{"127.0.0.1", "65536"}},
		{"PORT", 2, []string{"127.0.0.1", "-1"}},
		{"PORT", 2, []string{"127.0.0.1", "-1", "--json"}},
		{"PORT", 2, []string{"--idle", "5", "127.0.0.1", "-9"}},
		{"PORT", 2, []string{"127.0.0.1", "http"}},
		{"PORT", 2, []string{"127.0.0.1", "NaN"}},
		{"PORT", 2, []string{"127.0.0.1", "1e3"}},
		{"PORT", 2, []string{"127.0.0.1", ""}},
		{"PORT", 2, []string{"127.0.0.1", "99999999999999999999999"}},
		{"HOST", 2, []string{"", "9"}},
		{"HOST", 0, []string{"[::1]", "9"}},
		{"HOST", 0, []string{"::1", "9"}},
		{"HOST", 0, []string{"localhost", "9"}},
		{"HOST", 2, []string{"127.0.0.1:9000", "9"}},
		{"HOST", 2, []string{"[::1]:9000", "9"}},
		{"HOST", 2, []string{"a b", "9"}},
		{"HOST and PORT", 2, nil},
		{"HOST and PORT", 2, []string{"127.0.0.1"}},
		{"HOST and PORT", 2, []string{"127.0.0.1", "9", "9"}},
		{"HOST and PORT", 2, []string{"127.0.0.1:9000"}},
	} {
		clitest.Check(t, checkOnly, tc.name, tc.code, tc.args...)
	}
}

func TestHostPortHint(t *testing.T) {
	_, _, stderr := clitest.Run(checkOnly, "127.0.0.1:9000")
	if !strings.HasSuffix(stderr, ": 127.0.0.1:9000 holds both, give them apart (hbclient 127.0.0.1 9000)\n") {
		t.Errorf("no hint for HOST:PORT: %q", stderr)
	}
}

// The kernel subcommand names itself in its errors.
func TestKernelExtraArgument(t *testing.T) {
	code, _, stderr := clitest.Run(NewCmd, "kernel", "extra")
	if code != cli.ExitUsage || !strings.HasPrefix(stderr, "hbclient kernel: takes no arguments, got 1 argument") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A connect failure under --json says so on stdout too, as one error event.
func TestConnectFailureJSON(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // nothing listens there now: connection refused
	code, stdout, stderr := clitest.Run(NewCmd, "127.0.0.1", port, "--json")
	want := `{"t":0,"event":"error","error":"cannot connect to 127.0.0.1:` + port + `: connect: connection refused"}` + "\n"
	if code != cli.ExitError || stdout != want || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, want %q; stderr %q", code, stdout, want, stderr)
	}
}

func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"127.0.0.1\x009", "127.0.0.1\x00-1", "[::1]\x009\x00--idle\x001e12", "kernel\x00--json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { clitest.Fuzz(t, checkOnly, clitest.SplitArgs(s)) })
}
