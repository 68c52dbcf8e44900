// Package servercmd is the hbserver command: it listens on HOST PORT and
// answers every client's PINGs after SLEEP, until SIGINT or SIGTERM.
package servercmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/gate"
	"github.com/heartbeat/heartbeat/internal/preset"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/server"
	"github.com/heartbeat/heartbeat/internal/sockopt"
	"github.com/heartbeat/heartbeat/internal/web"
)

// Options are hbserver's settings, one field per flag or argument.
type Options struct {
	Host string
	Port int
	// Sleep is the delay before each PONG. Zero answers at once.
	Sleep time.Duration
	// AddrFile, when set, receives the address bound (host:port and a
	// newline) once the server listens, so that PORT 0 can be used.
	AddrFile string
	// JSON prints events as JSON lines instead of text.
	JSON bool
	// Output is --color and --clock: how the text lines are written.
	Output cli.Output
	// Probe is the server's own heartbeat towards each client (--idle,
	// --interval, --probes, --accept-late and the rule flags); Probes 0,
	// the default, is off.
	Probe probe.Config
	// Like is the preset (--like) whose values the flags not given take;
	// empty: none.
	Like string
	// KeepAlive and UserTimeout are set on every accepted connection.
	KeepAlive   sockopt.KeepAliveConfig
	UserTimeout time.Duration
	// MaxConns, FrameTimeout and MinPingInterval are the server's limits
	// (see server.Config). MaxConns is what the open-file limit allows
	// unless --max-conns says otherwise; 0 means no limit.
	MaxConns        int
	FrameTimeout    time.Duration
	MinPingInterval time.Duration
	// ReapAfterAnnounced reaps a client silent for this many times the
	// window its HELLO announced; zero is off (see server.Config).
	ReapAfterAnnounced float64
	// Quiet leaves out the per-frame events.
	Quiet bool
	// StatsEvery emits a stats event this often (0: never).
	StatsEvery time.Duration
	// Events is "all" to keep every line about a connection however many
	// a second; "auto", the default, puts a status line a second in their
	// place while more than gate.Rate a second come (server.Config.EventsAll).
	Events string
	// Fault and FaultAfter make every connection fail on purpose (see
	// server.Fault); empty Fault behaves.
	Fault      string
	FaultAfter time.Duration
	// Commands is where commands (sleep D, fault KIND, help) are read:
	// "" standard input when it is a terminal, "-" standard input, else a
	// file or named pipe.
	Commands string
	// Web, when set, is the address of the live page of every connection.
	Web string
}

// NewCmd returns the hbserver command.
func NewCmd() *cobra.Command { return newCmd(false) }

// Main runs hbserver with args (os.Args[1:]) and returns its exit code: it
// is the whole program, which cmd/hbserver and the end-to-end tests both
// run. A closed stdout (hbserver | head -1) must not kill the server: with
// SIGPIPE ignored, writes fail with EPIPE and the timeline stops instead.
func Main(args []string, stdout, stderr io.Writer) int {
	signal.Ignore(syscall.SIGPIPE)
	return cli.Main(NewCmd(), args, stdout, stderr)
}

// Ranges of hbserver's own arguments and flags.
var (
	sleepRange = cli.Durations{Max: cli.MaxDuration}
	// maxConnsRange is --max-conns': a limit beyond what any process can
	// hold open means nothing.
	maxConnsRange = cli.Ints{Min: 1, Max: math.MaxInt32, Zero: "no limit"}
	// frameTimeoutRange is --frame-timeout's: a well-behaved client's frame
	// split over two segments takes microseconds, but less than a
	// millisecond cuts off clients on a busy machine.
	frameTimeoutRange = cli.Durations{Min: time.Millisecond, Max: cli.MaxDuration, Zero: "no limit"}
	// minPingIntervalRange is --min-ping-interval's: a gap below a
	// millisecond allows more PINGs than the server can answer, so it
	// limits nothing.
	minPingIntervalRange = cli.Durations{Min: time.Millisecond, Max: cli.MaxDuration, Zero: "off"}
	// reapRange is --reap-after-announced's: 0 is off; a factor under 1
	// is refused apart (it would reap clients that keep their word), and
	// over 1000 a client is never reaped in practice.
	reapRange = cli.Floats{Min: 0, Max: 1000}
	// statsEveryRange is --stats-every's: each stats event reads /proc, so
	// more than ten a second costs a core and floods the timeline.
	statsEveryRange = cli.Durations{Min: 100 * time.Millisecond, Max: cli.MaxDuration, Zero: "never"}
	faultAfterRange = cli.Durations{Max: cli.MaxDuration}
)

// newCmd returns the hbserver command; with validateOnly, it stops once
// every argument and flag is checked, before any socket is opened or file
// written (for the tests of the command line).
func newCmd(validateOnly bool) *cobra.Command {
	opts := Options{MaxConns: cli.MaxConns()}
	rate := strconv.Itoa(gate.Rate)
	cmd := &cobra.Command{
		Use:   "hbserver HOST PORT [SLEEP]",
		Short: "Answer heartbeat PINGs with PONGs after SLEEP",
		Long: `hbserver listens on HOST PORT and answers each PING with a PONG after SLEEP
(default 0), as the seed C server does, for any number of clients at once.
A client's PINGs are answered one after the other: a PING that arrives
during a SLEEP waits its turn. Each PONG echoes its PING's data.

With --probes N the server runs its own heartbeat towards each client, with
the same rules as hbclient's (--idle, --interval, --accept-late), and reaps
the clients that stop answering. hbclient answers the server's PINGs.
--like SYSTEM sets the server side of another system (flags given win):
` + cli.PresetHelp(preset.Servers()) + `

While it runs, commands change SLEEP or the fault for every connection from
its next PING on, without a restart: sleep D, fault KIND (none ends it),
help. They are read from standard input when it is a terminal, or from
--commands (- for standard input). --web serves a page of every connection
with the same controls.

Lines about connections show while at most ` + rate + ` come a second; past that, one
status line a second takes their place until a second has at most ` + rate + ` again
(--events all shows every line).

HOST is an address or a name: an IPv4 address listens on IPv4 only, an IPv6
one (::1 or [::1]) on IPv6 only; 0.0.0.0 or :: listen everywhere. SLEEP
takes seconds (5, 0.5) or a Go duration (250ms). PORT 0 picks a free port;
--addr-file tells which. SIGINT or SIGTERM closes every connection and
exits 0.

Exit codes: 0 after SIGINT or SIGTERM; 1 error (cannot listen, cannot write
--addr-file); 2 bad usage.`,
		Example: `  hbserver 127.0.0.1 9000 5
  hbserver 127.0.0.1 0 1 --addr-file /tmp/hb.addr --json`,
		Version: cli.Version(),
		Args:    cli.Args(2, 3, "HOST PORT [SLEEP]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Host, err = cli.ParseHost(args[0], "; to listen everywhere give 0.0.0.0 (IPv4) or :: (IPv6)"); err != nil {
				return err
			}
			if opts.Port, err = cli.ParsePort(args[1], 0); err != nil {
				return err
			}
			if len(args) == 3 {
				if opts.Sleep, err = sleepRange.Parse(args[2]); err != nil {
					return cli.Usagef("SLEEP %s: %w", cli.Quote(args[2]), err)
				}
			}
			if opts.Like != "" {
				opts.applyLike(cmd.Flags().Changed)
			}
			if err := opts.validate(cmd.Flags().Changed); err != nil || validateOnly {
				return err
			}
			opts = opts.leavePage(cmd.Flags().Changed)
			return run(cmd.Context(), opts, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	f := cmd.Flags()
	f.SortFlags = false
	opts.Probe = probe.DefaultConfig()
	opts.Probe.Probes = 0
	cli.LikeFlag(f, &opts.Like, preset.Servers(), "apply this system's server-side rules: its heartbeat, its ping enforcement (--min-ping-interval) and its names in the listening line")
	cli.HeartbeatFlags(f, &opts.Probe, "server heartbeat: ", "missed probes that reap a client (0: off)")
	cli.RuleFlags(f, &opts.Probe, "server heartbeat: ")
	cli.IntVar(f, &opts.MaxConns, "max-conns", opts.MaxConns, maxConnsRange, "connections held at once, closing ones included (0: no limit); a newcomer past it ends the oldest closing or stalled one, or is told why and closed")
	f.Lookup("max-conns").DefValue = "open-file limit less " + strconv.Itoa(cli.ReservedFiles) +
		", less " + strconv.Itoa(cli.ReservedFiles+web.DefaultMaxConns) + " with --web"
	cli.DurationVar(f, &opts.FrameTimeout, "frame-timeout", server.DefaultFrameTimeout, frameTimeoutRange, "a frame once started must arrive whole within this (0: no limit)")
	cli.DurationVar(f, &opts.MinPingInterval, "min-ping-interval", 0, minPingIntervalRange, "a client may send one PING per this on average; "+strconv.Itoa(server.PingStrikes)+" PINGs ahead of that rate close it (0: off)")
	cli.FloatVar(f, &opts.ReapAfterAnnounced, "reap-after-announced", 0, reapRange, "reap a client silent for this many times the window its HELLO announced, the longer of its idle and interval (MQTT's rule: 1.5; 0: off)")
	f.StringVar(&opts.Fault, "fault", "", "misbehave on every connection: mute (never answer), freeze (stop reading and writing, like a hung process), reset (RST), close (FIN)")
	cli.DurationVar(f, &opts.FaultAfter, "fault-after", 0, faultAfterRange, "when the --fault starts, after each connection is accepted")
	cli.KernelFlags(f, &opts.KeepAlive.Enable, &opts.KeepAlive.Idle, &opts.KeepAlive.Interval, &opts.KeepAlive.Count, &opts.UserTimeout)
	f.BoolVar(&opts.JSON, "json", false, "print events as JSON lines")
	cli.OutputFlags(f, &opts.Output)
	f.BoolVar(&opts.Quiet, "quiet", false, "leave out every per-frame event (PINGs, PONGs, data, rate warnings), for load; connections, closes and totals remain")
	cli.DurationVar(f, &opts.StatsEvery, "stats-every", 0, statsEveryRange, "print connections, goroutines, open files and memory this often (0: never)")
	f.StringVar(&opts.AddrFile, "addr-file", "", "write the address bound to this file (for PORT 0)")
	// The classroom's flags (see commands.go, page.go).
	f.StringVar(&opts.Commands, "commands", "", "read commands (sleep D, fault KIND, help) from this file, or - for standard input (default: standard input when it is a terminal)")
	f.StringVar(&opts.Web, "web", "", "serve a live page of every connection on ADDR (PORT or :PORT: on 127.0.0.1; HOST:PORT), with the commands as controls")

	// How many lines about connections show.
	f.StringVar(&opts.Events, "events", eventsAuto, "which lines about connections show: auto (every one while at most "+rate+" a second come, else one status line a second) or all (every one)")
	_ = cmd.RegisterFlagCompletionFunc("events", cobra.FixedCompletions([]string{eventsAuto, eventsAll}, cobra.ShellCompDirectiveNoFileComp))
	faults := make([]string, len(server.Faults))
	for i, k := range server.Faults {
		faults[i] = string(k)
	}
	_ = cmd.RegisterFlagCompletionFunc("fault", cobra.FixedCompletions(faults, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// leavePage lowers the default --max-conns by the open files the live
// page may hold (web.DefaultMaxConns) when there is one: else a page with
// its connections held made the heartbeat's accept fail with EMFILE
// below --max-conns, and a newcomer waited unanswered instead of being
// let in past a stalled one or told the server is full. A --max-conns
// given is kept.
func (opts Options) leavePage(given func(name string) bool) Options {
	if opts.Web != "" && !given("max-conns") && opts.MaxConns > 0 {
		opts.MaxConns = max(opts.MaxConns-web.DefaultMaxConns, 1)
	}
	return opts
}

// The values of --events.
const (
	eventsAuto = "auto"
	eventsAll  = "all"
)

// validate checks the settings together, once each is in range, and the
// --addr-file path, before anything is opened; given reports whether a
// flag was on the command line.
func (opts Options) validate(given func(name string) bool) error {
	if fault := server.Fault(opts.Fault); fault != server.NoFault && !slices.Contains(server.Faults, fault) {
		return cli.Usagef("--fault %s: choose mute, freeze, reset or close", cli.Quote(opts.Fault))
	}
	switch {
	case opts.Events != eventsAuto && opts.Events != eventsAll:
		return cli.Usagef("--events %s: choose auto or all", cli.Quote(opts.Events))
	case opts.Events == eventsAll && opts.Quiet:
		return cli.Usagef("--events all keeps every line that --quiet leaves out: give one of them")
	}
	if opts.Fault == "" {
		if err := cli.Needs(given, []string{"fault-after"}, "--fault"); err != nil {
			return err
		}
	}
	if err := cli.CheckProbe(opts.Probe, given); err != nil {
		return cli.LikeSaid(opts.Like, err)
	}
	if f := opts.ReapAfterAnnounced; f > 0 && f < 1 {
		return cli.Usagef("--reap-after-announced %g: give 0 (off) or a factor from 1 to %g; below 1 reaps clients that keep to what they announced", f, reapRange.Max)
	}
	if err := cli.CheckKeepAlive(opts.KeepAlive.Enable, given); err != nil {
		return cli.LikeSaid(opts.Like, err)
	}
	if opts.AddrFile != "" {
		if err := checkAddrFile(opts.AddrFile); err != nil {
			return &cli.UsageError{Err: err}
		}
	} else if given("addr-file") {
		return cli.Usagef("--addr-file: empty path (give the file to write the address to)")
	}
	return checkClassroom(opts, given)
}

// applyLike gives the options the values of the preset --like names,
// except those whose flag was given: explicit flags win.
func (opts *Options) applyLike(given func(name string) bool) {
	p := cli.ApplyLike(preset.Servers(), opts.Like, &opts.Probe, &opts.KeepAlive.Enable, &opts.UserTimeout, true, given)
	if p.MinPingInterval > 0 && !given("min-ping-interval") {
		opts.MinPingInterval = p.MinPingInterval
	}
}

// likeSettings is the preset's account of the settings in effect, or "".
func likeSettings(opts Options) string {
	if p, ok := preset.Find(preset.Servers(), opts.Like); ok {
		return p.Settings(opts.Probe)
	}
	return ""
}

func run(ctx context.Context, opts Options, stdin io.Reader, stdout, stderr io.Writer) error {
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	// KeepAlive -1: accepted connections keep the kernel's default, off.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(ctx, cli.Network(opts.Host), addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", addr, cli.OpCause(err))
	}
	if opts.AddrFile != "" {
		if err := writeAtomic(opts.AddrFile, ln.Addr().String()+"\n"); err != nil {
			ln.Close()
			return err
		}
	}
	fault := server.Fault(opts.Fault)
	events := event.NewBuffered(stdout, opts.JSON)
	defer events.CloseReporting(stderr, "hbserver")
	ctx, cancel := context.WithCancel(ctx) // the commands end with the server
	defer cancel()
	commands := startCommands(ctx, opts.Commands, stdin, stderr)
	if opts.Web != "" {
		page, err := startPage(opts, ln.Addr().String(), commands, events, stderr)
		if err != nil {
			ln.Close()
			return err
		}
		defer page.Close()
	}
	// The wall clock counts from here, as the server's times do (within
	// microseconds).
	events.SetStyle(opts.Output.Style(stdout))
	err = server.Serve(ctx, ln, server.Config{
		Sleep:              opts.Sleep,
		Events:             events,
		Probe:              opts.Probe,
		Like:               opts.Like,
		LikeSettings:       likeSettings(opts),
		MaxConns:           opts.MaxConns,
		StatsEvery:         opts.StatsEvery,
		Quiet:              opts.Quiet,
		EventsAll:          opts.Events == eventsAll,
		FrameTimeout:       opts.FrameTimeout,
		MinPingInterval:    opts.MinPingInterval,
		ReapAfterAnnounced: opts.ReapAfterAnnounced,
		KeepAlive:          opts.KeepAlive,
		UserTimeout:        opts.UserTimeout,
		UserTimeoutWarning: cli.UserTimeoutWarning,
		Fault:              fault,
		FaultAfter:         opts.FaultAfter,
		Commands:           commands.out,
	})
	return err
}

// errNotRegular: --addr-file names something that is not a regular file.
// Renaming over it would replace a device, a pipe or a directory's entry
// (as root, /dev/null became a regular file and broke other programs).
var errNotRegular = errors.New("exists and is not a regular file: give a new file or a regular one to replace")

// checkAddrFile refuses an --addr-file path that exists and is not a
// regular file (a link included: renaming would replace the link), or
// whose directory is missing. Its error begins with the flag and path.
func checkAddrFile(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		err = errNotRegular
	case errors.Is(err, fs.ErrNotExist):
		if fi, derr := os.Stat(filepath.Dir(path)); derr != nil || !fi.IsDir() {
			err = errors.New("no such directory")
		} else {
			err = nil
		}
	}
	return addrFileError(path, err)
}

// addrFileError names the flag and the user's path, and drops an
// *fs.PathError's operation and path ("open /dir/.addr-123:"), which would
// name a temporary file beside it. Nil stays nil.
func addrFileError(path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("--addr-file %s: %w", cli.Quote(path), err)
}

// writeAtomic writes the file whole or not at all, so a reader polling for
// it never sees half an address. It checks path again just before the
// rename, so that what appeared there since the start is left alone.
func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addr-*")
	if err != nil {
		return addrFileError(path, err)
	}
	defer os.Remove(tmp.Name()) // fails, harmlessly, once renamed
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return addrFileError(path, err)
	}
	if err := tmp.Close(); err != nil {
		return addrFileError(path, err)
	}
	if err := checkAddrFile(path); err != nil {
		return err
	}
	return addrFileError(path, os.Rename(tmp.Name(), path))
}
