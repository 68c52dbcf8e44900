// Package clitest checks a tool's command line in tests: every flag at its
// edges, and any argument list from a fuzzer. The commands it is given must
// stop once their arguments are checked, before any socket is opened or
// file written.
package clitest

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/heartbeat/heartbeat/internal/cli"
)

// Run runs the command made by newCmd with args through cli.Main.
func Run(newCmd func() *cobra.Command, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Main(newCmd(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// Row is one value of a flag or one argument list, and the exit code it
// must give: 0 accepted, 2 refused with one line naming Name.
type Row struct {
	Value string
	Code  int
	// With are other arguments the value needs ("--keepalive").
	With []string
}

// OK returns rows of values that must be accepted.
func OK(values ...string) []Row { return rows(0, values) }

// Bad returns rows of values that must be refused (exit 2).
func Bad(values ...string) []Row { return rows(2, values) }

func rows(code int, values []string) []Row {
	rs := make([]Row, len(values))
	for i, v := range values {
		rs[i] = Row{Value: v, Code: code}
	}
	return rs
}

// Rows joins row lists.
func Rows(lists ...[]Row) []Row {
	var all []Row
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

// With returns rows, each with the other arguments it needs.
func With(with []string, rows []Row) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		r.With = with
		out[i] = r
	}
	return out
}

// Numeric are the values every numeric flag must refuse, whatever its
// range: negative, NaN, infinite, huge, garbage, empty.
var Numeric = Bad("-1", "-0.5", "NaN", "nan", "Inf", "-Inf", "+Inf",
	"1e400", "99999999999999999999999", "garbage", "", "1 2", "0x")

// Flags lists the flags of cmd, cobra's own --help and --version
// included, in the order help shows them.
func Flags(cmd *cobra.Command) []*pflag.Flag {
	cmd.InitDefaultHelpFlag()
	cmd.InitDefaultVersionFlag()
	var fs []*pflag.Flag
	cmd.Flags().VisitAll(func(f *pflag.Flag) { fs = append(fs, f) })
	return fs
}

// CheckFlags runs, for every flag of the command made by newCmd, each of
// its rows after base (the positional arguments, valid), and fails for a
// flag without rows: a new flag must come with its edges. Numeric flags
// also get the Numeric rows.
func CheckFlags(t *testing.T, newCmd func() *cobra.Command, base []string, rows map[string][]Row) {
	t.Helper()
	for _, f := range Flags(newCmd()) {
		rs, ok := rows[f.Name]
		if !ok {
			t.Errorf("--%s has no rows: give its edges (below the minimum, the minimum, the maximum, above it)", f.Name)
			continue
		}
		if t := f.Value.Type(); t == "duration" || t == "int" || t == "float" {
			rs = append(rs, Numeric...)
		}
		for _, r := range rs {
			args := append(append(append([]string{}, base...), r.With...), "--"+f.Name+"="+r.Value)
			if f.Value.Type() == "bool" && r.Value == "" {
				args[len(args)-1] = "--" + f.Name
			}
			Check(t, newCmd, "--"+f.Name, r.Code, args...)
		}
	}
	for name := range rows {
		if newCmd().Flags().Lookup(name) == nil && name != "help" && name != "version" {
			t.Errorf("rows for --%s, which the command does not have", name)
		}
	}
}

// Check runs args and asserts the exit code; a refusal (code 2) must be
// exactly one line on stderr, prefixed with the command's path, naming
// name exactly once, and nothing on stdout. Name is a flag ("--idle") or
// an argument ("PORT").
func Check(t *testing.T, newCmd func() *cobra.Command, name string, want int, args ...string) {
	t.Helper()
	code, stdout, stderr := Run(newCmd, args...)
	if code != want {
		t.Errorf("%q: exit %d, want %d; stderr %q", args, code, want, stderr)
		return
	}
	if want == 0 {
		if stderr != "" {
			t.Errorf("%q: exit 0 with stderr %q", args, stderr)
		}
		return
	}
	named := regexp.MustCompile(`(^|[^-\w])` + regexp.QuoteMeta(name) + `($|[^-\w])`)
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || stdout != "" ||
		len(named.FindAllString(stderr, -1)) != 1 || !strings.HasPrefix(stderr, newCmd().Name()) {
		t.Errorf("%q: want one line on stderr naming %s once, got stderr %q, stdout %q", args, name, stderr, stdout)
	}
	if goInternals.MatchString(stderr) {
		t.Errorf("%q: a Go internal error reaches the user: %q", args, stderr)
	}
	if strings.Contains(stderr, cli.MaxDuration.String()) {
		t.Errorf("%q: the longest duration in Go's digits (say about 292 years): %q", args, stderr)
	}
}

// goInternals matches what Go's packages say about a value ("strconv.ParseBool:
// parsing \"x\": invalid syntax"), which names a function, not the problem.
var goInternals = regexp.MustCompile(`strconv\.|invalid syntax|parsing "`)

// Fuzz runs one argument list and fails on an exit code outside 0-4, or on
// an error that is not exactly one line on stderr or that quotes a Go
// package's own words. A panic fails it too.
// (Exit 0 may write to stderr: cobra's shell completion does.)
func Fuzz(t *testing.T, newCmd func() *cobra.Command, args []string) {
	code, _, stderr := Run(newCmd, args...)
	switch {
	case code < 0 || code > 4:
		t.Fatalf("%q: exit %d", args, code)
	case code != 0 && (strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n")):
		t.Fatalf("%q: exit %d, stderr not one line: %q", args, code, stderr)
	case code != 0 && goInternals.MatchString(stderr):
		t.Fatalf("%q: a Go internal error reaches the user: %q", args, stderr)
	}
}

// SplitArgs turns a fuzzer's string into an argument list: NUL separates
// arguments, as in /proc/PID/cmdline.
func SplitArgs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

// SharedRows are the rows of the flags both tools define through cli
// (HeartbeatFlags, KernelFlags, --json) and cobra's --help and --version.
// A tool's test adds the rows of its own flags.
func SharedRows() map[string][]Row {
	ka := []string{"--keepalive"}
	// The heartbeat's flags need it on: the server's is off by default.
	on, off := []string{"--probes", "3"}, []string{"--probes", "0"}
	// A reply timeout is one PING's: it needs --probes 1.
	one, timed := []string{"--probes", "1"}, []string{"--probes", "1", "--timeout", "1s"}
	bools := Bools
	return map[string][]Row{
		"idle": Rows(With(on, OK("1ms", "0.001", "10", "2562047h")),
			Bad("999us", "0", "1ns", "2562048h", "1e12", "-5ms"), With(on, Bad("9223372036s")), With(off, Bad("5"))),
		"interval": Rows(With(on, OK("1ms", "3")), Bad("999us", "0", "1e12"),
			With([]string{"--probes", "2"}, Bad("2562047h")), With(off, Bad("5"))),
		"probes":             Rows(OK("0", "1", "1000000"), Bad("9223372036854775807", "9223372036854775808", "1.5")),
		"accept-late":        Rows(With(on, bools), With(off, Bad("", "true"))),
		"life":               Rows(With(on, OK("received", "pong", "sent")), Bad("", "x", "PONG"), With(off, Bad("pong"))),
		"fixed-rate":         Rows(With(on, bools), With(off, Bad("", "true"))),
		"timeout":            Rows(With(one, OK("0", "1ms", "20s")), Bad("999us", "1ns", "-1s"), With(on, Bad("1s")), With(off, Bad("1s"))),
		"max-outstanding":    Rows(With(timed, OK("0", "1", "1000")), Bad("-1", "1.5"), With(on, Bad("1"))),
		"keepalive":          bools,
		"keepalive-idle":     Rows(With(ka, OK("0", "1", "32767")), With(ka, Bad("0.5", "1.5", "32768")), Bad("5", "0")),
		"keepalive-interval": Rows(With(ka, OK("0", "1s", "32767s")), With(ka, Bad("999ms", "32768s")), Bad("5")),
		"keepalive-count":    Rows(With(ka, OK("0", "1", "127")), With(ka, Bad("128")), Bad("5")),
		"user-timeout": Rows(OK("0", "1ms", "0.001", "2147483647ms"),
			Bad("1ns", "999us", "1.5ms", "2147483648ms", "1e9")),
		"json":    bools,
		"color":   Rows(OK("auto", "always", "never"), Bad("", "yes", "Always", "auto ")),
		"clock":   Rows(OK("start", "wall"), Bad("", "local", "WALL")),
		"help":    OK(""),
		"version": OK(""),
	}
}

// Bools are the rows of a switch.
var Bools = Rows(OK("", "true", "false"), Bad("maybe"))
