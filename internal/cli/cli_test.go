package cli

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/probe"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"5", 5 * time.Second, false},
		{"0.5", 500 * time.Millisecond, false},
		{"0", 0, false},
		{"250ms", 250 * time.Millisecond, false},
		{"1m30s", 90 * time.Second, false},
		{"-1", 0, true},
		{"-5ms", 0, true},
		{"abc", 0, true},
		{"", 0, true},
		{"NaN", 0, true},
		{"1e300", 0, true},
		{"5 s", 0, true},
		// A positive value below 1ns would read as 0 ("off", "no limit").
		{"0.0000000001", 0, true},
		{"1e-999", 0, true},
		{"0.5ns", 0, true},
		{"0e1", 0, false},
		{"0s", 0, false},
		{"1ns", time.Nanosecond, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestParsePort(t *testing.T) {
	for in, ok := range map[string]bool{"0": true, "9000": true, "65535": true, "65536": false, "-1": false, "http": false, "": false} {
		if _, err := ParsePort(in, 0); (err == nil) != ok {
			t.Errorf("ParsePort(%q): %v", in, err)
		}
	}
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("connection refused"), ExitError},
		{Usagef("bad"), ExitUsage},
		{fmt.Errorf("wrapped: %w", Usagef("bad")), ExitUsage},
		{ErrDead, ExitDead},
		{fmt.Errorf("x: %w", ErrDead), ExitDead},
		{fmt.Errorf("x: %w", ErrKernelDead), ExitKernel},
	} {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func testCmd() *cobra.Command {
	var d time.Duration
	c := &cobra.Command{
		Use:  "tool A B",
		Args: Args(2, 2, "A and B"),
		RunE: func(_ *cobra.Command, args []string) error {
			_, err := ParsePort(args[1], 1)
			return err
		},
	}
	DurationVar(c.Flags(), &d, "idle", time.Second, HeartbeatTimes, "idle time")
	return c
}

func TestMainBadInputIsOneLineAndExit2(t *testing.T) {
	for _, args := range [][]string{
		{"a"},
		{"a", "b", "c"},
		{"a", "1", "--idle", "x"},
		{"a", "1", "--idle", "-1"},
		{"a", "1", "--nope"},
		{"a", "b"},
		{"a", "-1"},
	} {
		var out, errb bytes.Buffer
		code := Main(testCmd(), args, &out, &errb)
		msg := errb.String()
		if code != ExitUsage || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "tool: ") || out.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q", args, code, msg, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Main(testCmd(), []string{"a", "1", "--idle", "250ms"}, &out, &errb); code != 0 || errb.Len() != 0 {
		t.Errorf("good arguments: exit %d, stderr %q", code, errb.String())
	}
}

func TestParseHost(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"127.0.0.1", "127.0.0.1", false},
		{"[::1]", "::1", false},
		{"::1", "::1", false},
		{"fe80::1%lo", "fe80::1%lo", false},
		{"localhost", "localhost", false},
		{"", "", true},
		{"[]", "", true},
		{"127.0.0.1:9000", "", true},
		{"[::1]:9000", "", true},
		{"a b", "", true},
		{"a\nb", "", true},
		{"1:2:3", "", true},
	} {
		got, err := ParseHost(tc.in, "")
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("ParseHost(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && Code(err) != ExitUsage {
			t.Errorf("ParseHost(%q): not a usage error: %v", tc.in, err)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"5s": "5s", "": `""`, "a b": `"a b"`, "\x1b[2J": `"\x1b[2J"`, "a\nb": `"a\nb"`, `"`: `"\""`} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// Negative numbers among the positional arguments reach the command as
// arguments; everything else is left as it was.
func TestNegativesAsArgs(t *testing.T) {
	var idle time.Duration
	c := &cobra.Command{Use: "tool"}
	DurationVar(c.Flags(), &idle, "idle", time.Second, HeartbeatTimes, "")
	c.Flags().Bool("json", false, "")
	for _, tc := range []struct{ in, want []string }{
		{[]string{"h", "1"}, []string{"h", "1"}},
		{[]string{"h", "-1"}, []string{"--", "h", "-1"}},
		{[]string{"--idle", "-1", "h", "2"}, []string{"--idle", "-1", "h", "2"}},
		{[]string{"--json", "h", "-1", "--idle", "5"}, []string{"--json", "--idle", "5", "--", "h", "-1"}},
		{[]string{"h", "-.5", "--idle=3"}, []string{"--idle=3", "--", "h", "-.5"}},
		{[]string{"--", "h", "-1"}, []string{"--", "h", "-1"}},
	} {
		if got := negativesAsArgs(c, tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("negativesAsArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDurationsRange(t *testing.T) {
	ut := UserTimeout
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"0", 0, false},
		{"1ms", time.Millisecond, false},
		{"2147483647ms", 2147483647 * time.Millisecond, false},
		{"2147483648ms", 0, true},
		{"999us", 0, true},
		{"1.5ms", 0, true},
		{"-1", 0, true},
		{"1e12", 0, true},
		{"99999999999h", 0, true},
	} {
		got, err := ut.Parse(tc.in)
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("UserTimeout.Parse(%q) = %v, %v", tc.in, got, err)
		}
	}
	// Too large is a range error, not "bad format".
	if _, err := HeartbeatTimes.Parse("1e12"); err == nil || strings.Contains(err.Error(), "give seconds") {
		t.Errorf("1e12: %v", err)
	}
	if _, err := HeartbeatTimes.Parse("soon"); err == nil || !strings.Contains(err.Error(), "give seconds") {
		t.Errorf("soon: %v", err)
	}
}

// Ranges read as a person would say them: no 19-digit or 2562047h bound,
// no wording twice, HOST as typed.
func TestRangeWords(t *testing.T) {
	_, errIdle := HeartbeatTimes.Parse("0")
	_, errProbes := Probes.Parse("1.5")
	_, errHuge := Probes.Parse("99999999999999999999")
	_, errRate := Floats{Min: 0, Max: 1e6}.Parse("x")
	_, errHost := ParseHost("[[::1]]", "")
	errLong := CheckProbe(probe.Config{Idle: time.Second, Interval: time.Second, Probes: math.MaxInt}, nil)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{errIdle, "give a duration from 1ms to about 292 years"},
		{errProbes, "give a whole number from 0 up"},
		{errHuge, "too large, give a whole number from 0 up"},
		{errRate, "give a number from 0 to 1000000"},
		{errHost, "HOST [[::1]]: not an IP address or a host name"},
		{errLong, "--idle 1s + --probes 9223372036854775807 x --interval 1s: longer than about 292 years, the longest wait there is"},
	} {
		if tc.err == nil || tc.err.Error() != tc.want {
			t.Errorf("got %v, want %q", tc.err, tc.want)
		}
	}
}

// A heartbeat setting out of range is named by its flag, from probe's
// RangeError (not from its text), as bad usage.
func TestCheckProbeNamesTheFlag(t *testing.T) {
	given := func(string) bool { return true }
	for _, tc := range []struct {
		cfg  probe.Config
		want string
	}{
		{probe.Config{Probes: 3, Interval: time.Second}, "--idle must be positive (got 0s)"},
		{probe.Config{Probes: 3, Idle: time.Second, Interval: -time.Millisecond}, "--interval must be positive (got -1ms)"},
	} {
		err := CheckProbe(tc.cfg, given)
		var usage *UsageError
		if !errors.As(err, &usage) || err.Error() != tc.want {
			t.Errorf("%+v: %v, want usage error %q", tc.cfg, err, tc.want)
		}
	}
}
