package clientcmd

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/cli/clitest"
)

// checkOnly is hbclient stopping once its command line is checked.
func checkOnly() *cobra.Command { return newCmd(true) }

func TestFlagEdges(t *testing.T) {
	ok, bad, with, rows := clitest.OK, clitest.Bad, clitest.With, clitest.Rows
	edges := clitest.SharedRows()
	edges["duration"] = rows(ok("0", "1ms", "2562047h"), bad("999us", "1ns", "2562048h"))
	edges["connect-timeout"] = rows(ok("0", "1ms", "2562047h"), bad("999us", "1ns", "2562048h"))
	edges["conns"] = rows(ok("0", "1", strconv.Itoa(cli.MaxConns())),
		bad(strconv.Itoa(cli.MaxConns()+1), "1.5"), with([]string{"--keepalive"}, bad("5")))
	edges["rate"] = rows(with([]string{"--conns", "2"}, ok("0", "0.5", "1e6", "1000")), with([]string{"--conns", "2"}, bad("1000001")),
		bad("5", "1000"), with([]string{"--conns", "0"}, bad("5")))
	edges["web"] = rows(ok("0", ":0", "65535", "127.0.0.1:8080", "[::1]:0"), bad("65536", "", "x:y", "::1"), with([]string{"--conns", "2"}, bad("0")))
	edges["like"] = rows(ok("ssh", "grpc", "nats", "mqtt", "zmtp", "websocket", "bfd", "keepalive"), bad("", "SSH", "x", "ssh,grpc"),
		with([]string{"--probes", "2"}, bad("grpc")), with([]string{"--idle", "5"}, bad("keepalive")),
		with([]string{"--conns", "2"}, ok("grpc", "keepalive")))
	edges["jitter"] = rows(ok("0", "1", "50"), bad("-1", "51", "2.5"), with([]string{"--probes", "0"}, bad("10")))
	edges["seed"] = rows(with([]string{"--jitter", "10"}, ok("0", "18446744073709551615")),
		with([]string{"--jitter", "10"}, bad("-1", "18446744073709551616", "x")), bad("5"))
	dir := t.TempDir()
	edges["svg"] = rows(ok("", filepath.Join(dir, "run.svg")), bad(dir, filepath.Join(dir, "no", "run.svg")),
		with([]string{"--conns", "2"}, bad(filepath.Join(dir, "run.svg"))))
	clitest.CheckFlags(t, checkOnly, []string{"127.0.0.1", "9"}, edges)
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
		{"s", 2, []string{"127.0.0.1", "9", "--idle", "5", "s"}},
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

// A bad value for a switch says what to give, not strconv's words.
func TestBoolFlagMessage(t *testing.T) {
	for _, flag := range []string{"--json", "--accept-late", "--keepalive"} {
		_, _, stderr := clitest.Run(checkOnly, "127.0.0.1", "9", flag+"=maybe")
		if want := "hbclient: " + flag + " maybe: give true or false\n"; stderr != want {
			t.Errorf("%s=maybe: %q, want %q", flag, stderr, want)
		}
	}
}

// Every command's help fits 80 columns, the width when stdout is not a
// terminal: a classroom's projector shows it whole.
func TestHelpFits80Columns(t *testing.T) {
	for _, sub := range []string{"", "compare", "draw", "idle-timeout", "kernel", "lessons"} {
		args := []string{"--help"}
		if sub != "" {
			args = []string{sub, "--help"}
		}
		_, stdout, _ := clitest.Run(checkOnly, args...)
		if stdout == "" {
			t.Fatalf("hbclient %s --help printed nothing", sub)
		}
		for _, l := range strings.Split(stdout, "\n") {
			if len([]rune(l)) > 80 {
				t.Errorf("hbclient %s --help: %d columns: %q", sub, len([]rune(l)), l)
			}
		}
	}
}
