package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
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
