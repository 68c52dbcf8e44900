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
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/plural"
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
var ErrDead = errors.New("dead by the heartbeat")

// ErrKernelDead is returned when the kernel gave up on the peer (keep-alive,
// user timeout or retransmissions): exit code 4.
var ErrKernelDead = errors.New("dead by the kernel")

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
// prints an error as one line on stderr, prefixed with the command's path
// ("hbclient kernel: ..."), and returns the exit code. It never lets cobra
// print usage after an error.
func Main(cmd *cobra.Command, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signalContext()
	defer stop()
	cmd.SetArgs(negativesAsArgs(cmd, args))
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	cmd.SetFlagErrorFunc(flagError)
	// The completion command, visible in help: cobra adds it to a command
	// without subcommands (hbserver) only when it is called. It writes to
	// the output set above, so it is added after SetOut.
	cmd.InitDefaultCompletionCmd("completion")
	cmd.InitDefaultHelpCmd()
	wrapHelp(cmd, Width(stdout))
	for _, c := range cmd.Commands() {
		c.SetFlagErrorFunc(flagError)
		switch c.Name() {
		case "completion":
			strictCompletion(c)
		case "help":
			c.Args = helpTopic
		}
	}
	c, err := cmd.ExecuteContextC(ctx)
	if err != nil {
		if c == nil {
			c = cmd
		}
		// One line, whatever the error holds: a peer's words (a NOTICE's
		// reason) cannot forge a line or drive the terminal.
		fmt.Fprintf(stderr, "%s: %s\n", c.CommandPath(), event.Escape(err.Error()))
	}
	return Code(err)
}

// signalContext returns a context that SIGINT or SIGTERM cancels, its
// cause naming the signal as kill(1) does: "SIGTERM received" (the cause
// is the closing reason a tool prints). signal.NotifyContext would say
// "terminated signal received". The signals stay caught until stop, so a
// second one does not kill the process while it closes; stop also ends the
// goroutine that waits for them.
func signalContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		select {
		case sig := <-signals:
			name := "SIGTERM" // the only other one asked for
			if sig == os.Interrupt {
				name = "SIGINT"
			}
			cancel(fmt.Errorf("%s received", name))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(signals)
		close(done)
		<-ended
		cancel(nil)
	}
}

// strictCompletion makes cobra's completion command refuse what it does not
// know as bad usage (exit 2, one line naming the shells): by itself it
// prints its help and exits 0 for "completion ksh", and exits 1 for an
// argument after the shell. Alone it still prints its help.
func strictCompletion(c *cobra.Command) {
	var shells []string
	for _, sh := range c.Commands() {
		shells = append(shells, sh.Name())
		sh.Args = Args(0, 0, "no arguments")
	}
	c.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return Usagef("no shell %s: give %s", Quote(args[0]), list(shells, "or"))
		}
		return nil
	}
	c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// helpTopic refuses a help topic that is no command (exit 2, naming it):
// cobra's help prints the tool's help for it and exits 0.
func helpTopic(c *cobra.Command, args []string) error {
	if _, rest, err := c.Root().Find(args); err == nil && len(rest) == 0 {
		return nil
	}
	var topics []string
	for _, t := range c.Root().Commands() {
		if t.IsAvailableCommand() {
			topics = append(topics, t.Name())
		}
	}
	return Usagef("no help topic %s: give %s, or nothing for %s itself",
		Quote(strings.Join(args, " ")), list(topics, "or"), c.Root().Name())
}

// list is "a, b or c" with conj "or".
func list(words []string, conj string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}

// flagError turns pflag's `invalid argument "x" for "--flag" flag: why`
// into "--flag x: why", the form of every other error about a value.
func flagError(c *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		why := errors.Unwrap(bad)
		if bad.GetFlag().Value.Type() == "bool" {
			// pflag's own words: strconv.ParseBool: parsing "x": invalid syntax
			why = errors.New("give true or false")
		}
		return Usagef("--%s %s: %v", bad.GetFlag().Name, Quote(bad.GetValue()), why)
	}
	return &UsageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
}

// Quote returns s as it is when it is a plain word, and quoted otherwise,
// so that an error line shows exactly what was given and never carries a
// control character or a line break.
func Quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \"'") || strconv.Quote(s) != `"`+s+`"` {
		return strconv.Quote(s)
	}
	return s
}

// negativesAsArgs moves the positional arguments behind a "--" when one of
// them is a negative number: pflag reads "-1" as a flag, so "hbclient HOST
// -1" would say "unknown shorthand flag" instead of naming PORT. The
// arguments are left alone otherwise, and when a "--" is already there.
func negativesAsArgs(root *cobra.Command, args []string) []string {
	c, _, err := root.Find(args)
	if err != nil {
		c = root
	}
	var flags, pos []string
	negative := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return args
		case len(a) > 1 && a[0] == '-' && (a[1] == '.' || a[1] >= '0' && a[1] <= '9'):
			negative = true
			pos = append(pos, a)
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := c.Flags().Lookup(name)
			if f == nil && len(name) == 1 {
				f = c.Flags().ShorthandLookup(name)
			}
			if f != nil && f.NoOptDefVal == "" && i+1 < len(args) {
				i++
				flags = append(flags, args[i]) // the flag's value
			}
		case c != root && len(pos) == 0 && a == c.Name():
			flags = append(flags, a) // the subcommand's name
		default:
			pos = append(pos, a)
		}
	}
	if !negative {
		return args
	}
	return append(append(flags, "--"), pos...)
}

// Args checks the number of positional arguments and names them in the
// error: "takes HOST and PORT, got 1 argument". Arguments beyond max are
// quoted ("; one too many: s", as "--idle 5 s" gives), and one argument
// that reads as HOST:PORT gets a hint.
func Args(min, max int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= min && len(args) <= max {
			return nil
		}
		hint := fmt.Sprintf(" (see %s --help)", cmd.CommandPath())
		if extra := len(args) - max; extra > 0 {
			stray := make([]string, extra)
			for i, a := range args[max:] {
				stray[i] = Quote(a)
			}
			many := strconv.Itoa(extra)
			if extra == 1 {
				many = "one"
			}
			hint = fmt.Sprintf("; %s too many: %s%s", many, strings.Join(stray, " "), hint)
		}
		for _, a := range args {
			if host, port, err := net.SplitHostPort(a); err == nil && port != "" {
				hint = fmt.Sprintf(": %s holds both, give them apart (%s %s %s)", Quote(a), cmd.CommandPath(), Quote(host), Quote(port))
				break
			}
		}
		return Usagef("takes %s, got %s%s", names, plural.Count(len(args), "argument"), hint)
	}
}

// Errors of ParseDuration: errFormat for what is not a duration at all,
// errRange for one below zero or too large for a time.Duration.
var (
	errFormat = errors.New("give seconds (5, 0.5) or a Go duration (250ms, 1m30s)")
	errRange  = errors.New("out of range")
	// errTooSmall is a positive duration below a nanosecond.
	errTooSmall = errors.New("positive but below 1ns, which would read as 0")
)

// ParseDuration reads a bare number of seconds ("5", "0.5") or a Go
// duration ("250ms", "1m30s"). Negative values are rejected: no setting of
// these tools means anything below zero. The error wraps errFormat for
// what is not a duration, errRange for a value below zero or beyond a
// time.Duration (about 292 years).
func ParseDuration(s string) (time.Duration, error) {
	negative := fmt.Errorf("%w: must not be negative", errRange)
	tooLarge := fmt.Errorf("%w: at most %s", errRange, showMax(MaxDuration))
	// Below a nanosecond a duration is 0, which for most flags means "off"
	// or "no limit": a positive value must not quietly turn into that.
	tooSmall := fmt.Errorf("%w: %w", errRange, errTooSmall)
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0) && err == nil:
			return 0, errFormat
		case f < 0:
			return 0, negative
		case f >= float64(MaxDuration)/float64(time.Second):
			return 0, tooLarge
		}
		d = time.Duration(f * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		// time.ParseDuration says "invalid duration" for overflow as well
		// as for some bad forms; numbers and units alone mean overflow.
		overflow := strings.Contains(err.Error(), "invalid duration") &&
			strings.Trim(s, "0123456789.hmsuµn") == "" && strings.ContainsAny(s, "0123456789")
		if !overflow {
			return 0, errFormat
		}
		return 0, tooLarge
	}
	if d == 0 && nonzero(s) {
		return 0, tooSmall // "1e-10", "1e-999", "0.5ns"
	}
	if d < 0 {
		return 0, negative
	}
	return d, nil
}

// nonzero reports whether s, a number of seconds or a Go duration, has a
// digit other than 0 before any exponent: it asks for more than nothing.
func nonzero(s string) bool {
	if i := strings.IndexAny(s, "eE"); i >= 0 && !strings.ContainsAny(s, "hmsuµn") {
		s = s[:i]
	}
	return strings.ContainsAny(s, "123456789")
}

// ParsePort reads the PORT argument, min to 65535: a client needs a real
// port (1), a server may ask for any free one (0). Its error is a
// UsageError.
func ParsePort(s string, min int) (int, error) {
	n, err := Ints{Min: min, Max: 65535}.Parse(s)
	if err != nil {
		return 0, Usagef("PORT %s: give a number from %d to 65535", Quote(s), min)
	}
	return n, nil
}

// ParseHost reads the HOST argument: an address or a name, IPv6 with or
// without brackets ("[::1]" as in a URL). An empty HOST, or one that reads
// as HOST:PORT, is refused with a line saying what to give. everywhere is
// the hint for an empty HOST: how to listen everywhere, for a server.
func ParseHost(s, everywhere string) (string, error) {
	if s == "" {
		return "", Usagef("HOST is empty: give an address or a name%s", everywhere)
	}
	given := s // named in errors as the user typed it
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	if strings.Contains(s, ":") && net.ParseIP(strings.SplitN(s, "%", 2)[0]) == nil {
		if host, port, err := net.SplitHostPort(s); err == nil {
			return "", Usagef("HOST %s holds a port: give the two apart (%s %s)", Quote(given), Quote(host), Quote(port))
		}
		return "", Usagef("HOST %s: not an IP address or a host name", Quote(given))
	}
	if strings.ContainsAny(s, "[]/ ") || strconv.Quote(s) != `"`+s+`"` {
		return "", Usagef("HOST %s: not an IP address or a host name", Quote(given))
	}
	return s, nil
}

// Network is the network to listen on or dial for host: "tcp4" for an
// IPv4 address, so that 0.0.0.0 does not also take IPv6, "tcp6" for an
// IPv6 one, and "tcp" for a name.
func Network(host string) string {
	ip := net.ParseIP(strings.SplitN(host, "%", 2)[0])
	switch {
	case ip == nil:
		return "tcp"
	case ip.To4() != nil:
		return "tcp4"
	}
	return "tcp6"
}

// Version is the tool's version from the module's build info: the module
// version, or the VCS revision of a build from a clone, and the Go
// version that built it.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v, dirty := "(devel)", ""
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				v = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "+dirty"
			}
		}
		return v + dirty + " " + bi.GoVersion
	}
	return v + " " + bi.GoVersion
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
