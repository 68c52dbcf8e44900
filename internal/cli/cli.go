// Package cli holds what hbclient and hbserver share on the command line:
// the one place where errors become exit codes, argument parsers that give
// one clear line for bad input, and Main, which runs a cobra command under
// a context that SIGINT and SIGTERM cancel.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/sockopt"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes of both tools (README.md, "Exit codes").
const (
	ExitOK     = 0 // normal end: peer closed, --duration reached, interrupted
	ExitError  = 1 // cannot connect, connection reset, I/O error
	ExitUsage  = 2 // bad arguments or flags
	ExitDead   = 3 // the heartbeat declared the peer dead
	ExitKernel = 4 // the kernel declared the peer dead (keep-alive or user timeout)
)

// UsageError marks an error in the command line: exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// ErrDead is returned when the heartbeat declared the peer dead: exit code 3.
var ErrDead = errors.New("peer declared dead by the heartbeat")

// ErrKernelDead is returned when the kernel gave up on the peer (keep-alive,
// user timeout or retransmissions): exit code 4.
var ErrKernelDead = errors.New("peer declared dead by the kernel")

// Code maps an error from a command to its exit code.
func Code(err error) int {
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.Is(err, ErrDead):
		return ExitDead
	case errors.Is(err, ErrKernelDead):
		return ExitKernel
	}
	return ExitError
}

// Main runs cmd with args under a context that SIGINT and SIGTERM cancel,
// prints an error as one line on stderr, prefixed with the tool's name, and
// returns the exit code. It never lets cobra print usage after an error.
func Main(cmd *cobra.Command, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// "-1" as an argument reads as a flag to pflag; say what it is.
		for _, a := range args {
			if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' && strings.Contains(err.Error(), a) {
				return Usagef("bad argument %q: must not be negative", a)
			}
		}
		return &UsageError{fmt.Errorf("%w (see %s --help)", err, c.Name())}
	})
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		// One line, whatever the error holds: a peer's words (a NOTICE's
		// reason) cannot forge a line or drive the terminal.
		fmt.Fprintf(stderr, "%s: %s\n", cmd.Name(), event.Escape(err.Error()))
	}
	return Code(err)
}

// Args checks the number of positional arguments and names them in the
// error: "needs HOST and PORT".
func Args(min, max int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			return Usagef("takes %s, got %d argument%s (see %s --help)", names, len(args), plural(len(args)), cmd.CommandPath())
		}
		return nil
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ParseDuration reads a bare number of seconds ("5", "0.5") or a Go
// duration ("250ms", "1m30s"). Negative values are rejected: no setting of
// these tools means anything below zero.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad duration %q: give seconds (5, 0.5) or a Go duration (250ms, 1m30s)", s)
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/float64(time.Second) {
			return 0, bad
		}
		d = time.Duration(f * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, bad
	}
	if d < 0 {
		return 0, fmt.Errorf("bad duration %q: must not be negative", s)
	}
	return d, nil
}

// durationValue is a pflag.Value for ParseDuration.
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		// pflag prefixes `invalid argument "x" for "--flag" flag:`; keep ours short.
		return errors.New(strings.TrimPrefix(err.Error(), fmt.Sprintf("bad duration %q: ", s)))
	}
	*d = durationValue(v)
	return nil
}
func (d *durationValue) String() string { return time.Duration(*d).String() }
func (d *durationValue) Type() string   { return "duration" }

// DurationVar defines a flag that takes ParseDuration's forms.
func DurationVar(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

// ParsePort reads a TCP port number, 0 to 65535 (0: any free port, for a
// server). Its error is a UsageError.
func ParsePort(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, Usagef("bad port %q: give a number from 0 to 65535", s)
	}
	return int(n), nil
}

// OpCause drops net.OpError's "dial tcp 127.0.0.1:1:" prefix, which the
// caller's own message already says, and keeps the cause.
func OpCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// CheckKeepAlive checks the --keepalive flags of either tool.
func CheckKeepAlive(ka sockopt.KeepAliveConfig) error {
	if (ka.Idle > 0 || ka.Interval > 0 || ka.Count > 0) && !ka.Enable {
		return Usagef("--keepalive-idle, --keepalive-interval and --keepalive-count need --keepalive")
	}
	if err := ka.Validate(); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}
