package servercmd

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/cli/clitest"
	"github.com/heartbeat/heartbeat/internal/clientcmd"
	"github.com/heartbeat/heartbeat/internal/web"
)

// checkOnly is hbserver stopping once its command line is checked.
func checkOnly() *cobra.Command { return newCmd(true) }

// fifoAndDir makes a named pipe and a directory in a temporary directory.
func fifoAndDir(t *testing.T) (fifo, dir string) {
	tmp := t.TempDir()
	fifo, dir = filepath.Join(tmp, "fifo"), filepath.Join(tmp, "dir")
	if err := mkfifo(fifo); errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no named pipes here")
	} else if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return fifo, dir
}

func TestFlagEdges(t *testing.T) {
	ok, bad, with, rows := clitest.OK, clitest.Bad, clitest.With, clitest.Rows
	fifo, dir := fifoAndDir(t)
	tmp := t.TempDir()
	regular := filepath.Join(tmp, "regular")
	if err := os.WriteFile(regular, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(regular, filepath.Join(tmp, "link")); err != nil {
		t.Fatal(err)
	}
	edges := clitest.SharedRows()
	edges["max-conns"] = rows(ok("0", "1", "2147483647"), bad("2147483648", "1.5"))
	edges["frame-timeout"] = rows(ok("0", "1ms", "2562047h"), bad("999us", "1ns", "2562048h"))
	edges["reap-after-announced"] = rows(ok("0", "1", "1.5", "1000"), bad("0.5", "-1", "1000.5", "NaN", "x"))
	edges["min-ping-interval"] = rows(ok("0", "1ms", "2562047h"), bad("999us", "1ns", "2562048h"))
	edges["fault"] = rows(ok("", "mute", "freeze", "reset", "close"), bad("explode", "MUTE", "mute ", "\x1b[2J"))
	edges["fault-after"] = rows(with([]string{"--fault", "mute"}, ok("0", "1ns", "2562047h")), bad("1", "0", "2562048h"))
	edges["like"] = rows(ok("ssh", "grpc", "mqtt", "keepalive"), bad("", "nats", "bfd", "SSH"),
		with([]string{"--probes", "2"}, bad("grpc")), with([]string{"--idle", "5"}, bad("keepalive")))
	edges["quiet"] = clitest.Bools
	edges["events"] = rows(ok("auto", "all"), bad("", "ALL", "some", "all ", "\x1b[2J"), with([]string{"--quiet"}, rows(ok("auto"), bad("all"))))
	edges["stats-every"] = rows(ok("0", "100ms", "2562047h"), bad("99ms", "1ns", "2562048h"))
	edges["addr-file"] = rows(ok(filepath.Join(tmp, "new"), regular),
		bad("", fifo, dir, filepath.Join(tmp, "link"), filepath.Join(tmp, "missing", "x")))
	edges["commands"] = rows(ok("-", regular, fifo), bad("", dir, filepath.Join(tmp, "missing")))
	edges["web"] = rows(ok("0", ":0", "65535", "127.0.0.1:8080", "[::1]:0"), bad("65536", "", "x:y", "::1"))
	clitest.CheckFlags(t, checkOnly, []string{"127.0.0.1", "0"}, edges)
}

func TestArgumentEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		args []string
	}{
		{"PORT", 0, []string{"127.0.0.1", "0"}},
		{"PORT", 0, []string{"127.0.0.1", "65535"}},
		{"PORT", 2, []string{"127.0.0.1", "65536"}},
		{"PORT", 2, []string{"127.0.0.1", "-1"}},
		{"PORT", 2, []string{"127.0.0.1", "http"}},
		{"PORT", 2, []string{"127.0.0.1", "NaN"}},
		{"PORT", 2, []string{"127.0.0.1", ""}},
		{"SLEEP", 0, []string{"127.0.0.1", "0", "0"}},
		{"SLEEP", 0, []string{"127.0.0.1", "0", "0.5"}},
		{"SLEEP", 0, []string{"127.0.0.1", "0", "2562047h"}},
		{"SLEEP", 2, []string{"127.0.0.1", "0", "2562048h"}},
		{"SLEEP", 2, []string{"127.0.0.1", "0", "-1"}},
		{"SLEEP", 2, []string{"127.0.0.1", "0", "-1", "--json"}},
		{"SLEEP", 2, []string{"127.0.0.1", "0", "NaN"}},
		{"SLEEP", 2, []string{"127.0.0.1", "0", "Inf"}},
		{"SLEEP", 2, []string{"127.0.0.1", "0", "1e300"}},
		{"SLEEP", 2, []string{"127.0.0.1", "0", "five"}},
		{"HOST", 2, []string{"", "0"}},
		{"HOST", 0, []string{"[::1]", "0"}},
		{"HOST", 0, []string{"0.0.0.0", "0"}},
		{"HOST", 0, []string{"::", "0"}},
		{"HOST", 2, []string{"127.0.0.1:9000", "0"}},
		{"HOST PORT [SLEEP]", 2, nil},
		{"HOST PORT [SLEEP]", 2, []string{"127.0.0.1:9000"}},
		{"HOST PORT [SLEEP]", 2, []string{"127.0.0.1", "0", "1", "2"}},
		{"2", 2, []string{"127.0.0.1", "0", "1", "2"}},
	} {
		clitest.Check(t, checkOnly, tc.name, tc.code, tc.args...)
	}
	_, _, stderr := clitest.Run(checkOnly, "", "0")
	if !strings.Contains(stderr, "to listen everywhere give 0.0.0.0 (IPv4) or :: (IPv6)") {
		t.Errorf("empty HOST: %q", stderr)
	}
}

// --addr-file never replaces what is not a regular file, and is checked
// before the server listens.
func TestAddrFileNotRegular(t *testing.T) {
	fifo, dir := fifoAndDir(t)
	for _, path := range []string{fifo, dir} {
		code, stdout, stderr := clitest.Run(NewCmd, "127.0.0.1", "0", "--addr-file", path)
		want := "hbserver: --addr-file " + path + ": exists and is not a regular file"
		if code != cli.ExitUsage || !strings.HasPrefix(stderr, want) || stdout != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q", path, code, stderr, stdout)
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("the named pipe was touched: %v, %v", fi, err)
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the directory was touched: %v, %v", fi, err)
	}
}

// writeAtomic checks again before it renames, and its errors name the
// user's path, never the temporary file beside it, which it removes.
func TestWriteAtomic(t *testing.T) {
	fifo, _ := fifoAndDir(t)
	err := writeAtomic(fifo, "127.0.0.1:1\n")
	if err == nil || !strings.HasPrefix(err.Error(), "--addr-file "+fifo+": exists and is not a regular file") {
		t.Errorf("over a named pipe: %v", err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("the named pipe was touched: %v, %v", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(fifo), ".addr-*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
	missing := filepath.Join(t.TempDir(), "gone", "addr")
	err = writeAtomic(missing, "x\n")
	if err == nil || strings.Contains(err.Error(), ".addr-") || !strings.HasPrefix(err.Error(), "--addr-file "+missing+": ") {
		t.Errorf("in a missing directory: %v", err)
	}
	path := filepath.Join(t.TempDir(), "addr")
	if err := writeAtomic(path, "127.0.0.1:1\n"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "127.0.0.1:1\n" {
		t.Errorf("wrote %q, %v", b, err)
	}
}

// An IPv4 host listens on IPv4 only, an IPv6 one on IPv6 only.
func TestNetwork(t *testing.T) {
	for host, want := range map[string]string{"127.0.0.1": "tcp4", "0.0.0.0": "tcp4", "::1": "tcp6", "::": "tcp6", "localhost": "tcp"} {
		if got := cli.Network(host); got != want {
			t.Errorf("Network(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestConventions(t *testing.T) {
	version := regexp.MustCompile(`^hb(client|server) \S+ go1\.\d+`)
	for _, newCmd := range []func() *cobra.Command{NewCmd, clientcmd.NewCmd} {
		name := newCmd().Name()
		code, stdout, _ := clitest.Run(newCmd, "--version")
		if code != 0 || !version.MatchString(stdout) {
			t.Errorf("%s --version: exit %d, %q", name, code, stdout)
		}
		_, help, _ := clitest.Run(newCmd, "--help")
		if !strings.Contains(help, "Exit codes: 0 ") || !strings.Contains(help, "2 bad usage") {
			t.Errorf("%s --help has no exit codes", name)
		}
		if regexp.MustCompile(`(?m)\(default 0s?\)$`).MatchString(help) {
			t.Errorf("%s --help doubles a default:\n%s", name, help)
		}
		if !regexp.MustCompile(`(?m)^  completion `).MatchString(help) {
			t.Errorf("%s --help does not show the completion command", name)
		}
	}
	if code, stdout, _ := clitest.Run(NewCmd, "help"); code != 0 || !strings.Contains(stdout, "Usage:") {
		t.Errorf("hbserver help: exit %d, %q", code, stdout)
	}
	_, stdout, _ := clitest.Run(NewCmd, "__complete", "127.0.0.1", "0", "--fault", "")
	if got := strings.Fields(stdout); !slices.Equal(got[:4], []string{"mute", "freeze", "reset", "close"}) {
		t.Errorf("--fault completion: %q", stdout)
	}
}

// completion and help refuse what they do not know, as bad usage (exit 2),
// naming it in one line; alone, or with a known topic, they help (exit 0).
func TestCompletionAndHelpUsage(t *testing.T) {
	for _, newCmd := range []func() *cobra.Command{NewCmd, clientcmd.NewCmd} {
		for _, tc := range []struct {
			name string
			code int
			args []string
		}{
			{"ksh", 2, []string{"completion", "ksh"}},
			{"x", 2, []string{"completion", "zsh", "x"}},
			{"extra", 2, []string{"completion", "bash", "extra"}},
			{"bogus", 2, []string{"help", "bogus"}},
			{"", 0, []string{"completion"}},
			{"", 0, []string{"completion", "fish"}},
			{"", 0, []string{"help"}},
			{"", 0, []string{"help", "completion", "bash"}},
		} {
			clitest.Check(t, newCmd, tc.name, tc.code, tc.args...)
		}
		if _, _, stderr := clitest.Run(newCmd, "completion", "ksh"); !strings.Contains(stderr, ": give bash, fish, powershell or zsh\n") {
			t.Errorf("completion ksh does not name the shells: %q", stderr)
		}
	}
}

// A flag's usage says one thing after one colon at most: "server
// heartbeat: the seed client's rule: any frame" read as a chain. What is in
// parentheses ("(0: off)") does not count.
func TestUsageOneColon(t *testing.T) {
	parens := regexp.MustCompile(`\([^)]*\)`)
	for _, newCmd := range []func() *cobra.Command{NewCmd, clientcmd.NewCmd} {
		for _, f := range clitest.Flags(newCmd()) {
			if n := strings.Count(parens.ReplaceAllString(f.Usage, ""), ": "); n > 1 {
				t.Errorf("%s --%s: %d colons in %q", newCmd().Name(), f.Name, n, f.Usage)
			}
		}
	}
}

// hbclient's help gives every exit code's causes that the README's table
// gives.
func TestClientHelpExitCodes(t *testing.T) {
	_, help, _ := clitest.Run(clientcmd.NewCmd, "--help")
	help = strings.Join(strings.Fields(help), " ")
	for _, cause := range []string{"peer closed between frames", "closed in the middle of a frame", "closing NOTICE",
		"unreachable", "user timeout", "retransmissions"} {
		if !strings.Contains(help, cause) {
			t.Errorf("hbclient --help does not give %q among its exit codes", cause)
		}
	}
}

// The flags both tools have come in the same order.
func TestSharedFlagOrder(t *testing.T) {
	names := func(c *cobra.Command) []string {
		var ns []string
		for _, f := range clitest.Flags(c) {
			ns = append(ns, f.Name)
		}
		return ns
	}
	server, client := names(NewCmd()), names(clientcmd.NewCmd())
	shared := func(ns, other []string) []string {
		return slices.DeleteFunc(slices.Clone(ns), func(n string) bool { return !slices.Contains(other, n) })
	}
	if s, c := shared(server, client), shared(client, server); !slices.Equal(s, c) {
		t.Errorf("shared flags in another order:\nhbserver %q\nhbclient %q", s, c)
	}
}

func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"127.0.0.1\x000", "127.0.0.1\x000\x00-1", "\x000", "[::1]\x000\x00--stats-every\x001ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { clitest.Fuzz(t, checkOnly, clitest.SplitArgs(s)) })
}

// With --web the default --max-conns leaves the page's open files, so that
// the heartbeat's own limit, not EMFILE, decides who is let in; a
// --max-conns given is kept.
func TestMaxConnsLeavesThePage(t *testing.T) {
	given := func(flags ...string) func(string) bool {
		return func(name string) bool { return slices.Contains(flags, name) }
	}
	for _, tc := range []struct {
		web   string
		given []string
		conns int
		want  int
	}{
		{"0", []string{"web"}, 1000, 1000 - web.DefaultMaxConns},
		{"0", []string{"web"}, 10, 1},
		{"0", []string{"web", "max-conns"}, 1000, 1000},
		{"", nil, 1000, 1000},
		{"0", []string{"web"}, 0, 0}, // no limit stays none
	} {
		opts := Options{Web: tc.web, MaxConns: tc.conns}
		if got := opts.leavePage(given(tc.given...)).MaxConns; got != tc.want {
			t.Errorf("--web %q, given %v, --max-conns %d: %d, want %d", tc.web, tc.given, tc.conns, got, tc.want)
		}
	}
}
