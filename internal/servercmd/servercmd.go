// Package servercmd is the hbserver command: it listens on HOST PORT and
// answers every client's PINGs after SLEEP, until SIGINT or SIGTERM.
package servercmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/server"
	"github.com/heartbeat/heartbeat/internal/sockopt"
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
	// Probe is the server's own heartbeat towards each client (--idle,
	// --interval, --probes, --accept-late); Probes 0, the default, is off.
	Probe probe.Config
	// KeepAlive and UserTimeout are set on every accepted connection.
	KeepAlive   sockopt.KeepAliveConfig
	UserTimeout time.Duration
	// MaxConns, FrameTimeout and MinPingInterval are the server's limits
	// (see server.Config). MaxConns -1 means the default: what the open-file
	// limit allows.
	MaxConns        int
	FrameTimeout    time.Duration
	MinPingInterval time.Duration
	// Quiet leaves out the per-frame events.
	Quiet bool
	// StatsEvery emits a stats event this often (0: never).
	StatsEvery time.Duration
	// Fault and FaultAfter make every connection fail on purpose (see
	// server.Fault); empty Fault behaves.
	Fault      string
	FaultAfter time.Duration
}

// NewCmd returns the hbserver command.
func NewCmd() *cobra.Command {
	var opts Options
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

SLEEP takes seconds (5, 0.5) or a Go duration (250ms). PORT 0 picks a free
port; --addr-file tells which. SIGINT or SIGTERM closes every connection and
exits 0.`,
		Example: `  hbserver 127.0.0.1 9000 5
  hbserver 127.0.0.1 0 1 --addr-file /tmp/hb.addr --json`,
		Args: cli.Args(2, 3, "HOST PORT [SLEEP]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Host = args[0]
			var err error
			if opts.Port, err = cli.ParsePort(args[1]); err != nil {
				return err
			}
			if len(args) == 3 {
				if opts.Sleep, err = cli.ParseDuration(args[2]); err != nil {
					return &cli.UsageError{Err: fmt.Errorf("SLEEP: %w", err)}
				}
			}
			return run(cmd.Context(), opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.AddrFile, "addr-file", "", "write the address bound to this file (for PORT 0)")
	f.BoolVar(&opts.JSON, "json", false, "print events as JSON lines")
	opts.Probe = probe.DefaultConfig()
	opts.Probe.Probes = 0
	cli.DurationVar(f, &opts.Probe.Idle, "idle", probe.DefaultIdle, "server heartbeat: a client's silence before the server PINGs it")
	cli.DurationVar(f, &opts.Probe.Interval, "interval", probe.DefaultInterval, "server heartbeat: time each PING waits for the client's PONG")
	f.IntVar(&opts.Probe.Probes, "probes", 0, "server heartbeat: missed probes that reap a client (0: off)")
	f.BoolVar(&opts.Probe.AcceptLate, "accept-late", false, "server heartbeat: any frame, however late, counts as life")
	f.IntVar(&opts.MaxConns, "max-conns", -1, "connections open at once, 0 for no limit; one more is told why and closed")
	cli.DurationVar(f, &opts.FrameTimeout, "frame-timeout", server.DefaultFrameTimeout, "a frame once started must arrive whole within this (0: no limit)")
	cli.DurationVar(f, &opts.MinPingInterval, "min-ping-interval", 0, "shortest gap allowed between a client's PINGs; "+strconv.Itoa(server.PingStrikes)+" strikes in a row close it (0: off)")
	f.BoolVar(&opts.Quiet, "quiet", false, "leave out the per-frame events (PING, PONG, data), for load; connections, closes and totals remain")
	cli.DurationVar(f, &opts.StatsEvery, "stats-every", 0, "print connections, goroutines, open files and memory this often (0: never)")
	f.Lookup("max-conns").DefValue = "open-file limit less " + strconv.Itoa(reservedFiles)
	f.BoolVar(&opts.KeepAlive.Enable, "keepalive", false, "turn kernel keep-alive (SO_KEEPALIVE) on for every client")
	cli.DurationVar(f, &opts.KeepAlive.Idle, "keepalive-idle", 0, "TCP_KEEPIDLE, whole seconds (0: the machine's tcp_keepalive_time)")
	cli.DurationVar(f, &opts.KeepAlive.Interval, "keepalive-interval", 0, "TCP_KEEPINTVL, whole seconds (0: tcp_keepalive_intvl)")
	f.IntVar(&opts.KeepAlive.Count, "keepalive-count", 0, "TCP_KEEPCNT (0: tcp_keepalive_probes)")
	cli.DurationVar(f, &opts.UserTimeout, "user-timeout", 0, "TCP_USER_TIMEOUT on every client (0: unset)")
	f.StringVar(&opts.Fault, "fault", "", "misbehave on every connection: mute (never answer), freeze (stop reading and writing, like a hung process), reset (RST), close (FIN)")
	cli.DurationVar(f, &opts.FaultAfter, "fault-after", 0, "when the --fault starts, after each connection is accepted")
	return cmd
}

func run(ctx context.Context, opts Options, stdout io.Writer) error {
	fault := server.Fault(opts.Fault)
	if fault != server.NoFault && !slices.Contains(server.Faults, fault) {
		return cli.Usagef("--fault %q: choose mute, freeze, reset or close", opts.Fault)
	}
	if err := cli.CheckKeepAlive(opts.KeepAlive); err != nil {
		return err
	}
	maxConns := opts.MaxConns
	switch {
	case maxConns < -1:
		return cli.Usagef("--max-conns %d: give a positive number, or 0 for no limit", maxConns)
	case maxConns == -1:
		maxConns = defaultMaxConns()
	}
	if err := opts.Probe.Validate(); err != nil {
		return cli.Usagef("--%s", strings.TrimPrefix(err.Error(), "probe: "))
	}
	if opts.FaultAfter > 0 && fault == server.NoFault {
		return cli.Usagef("--fault-after needs --fault")
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	// KeepAlive -1: accepted connections keep the kernel's default, off.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", addr, cli.OpCause(err))
	}
	if opts.AddrFile != "" {
		if err := writeAtomic(opts.AddrFile, ln.Addr().String()+"\n"); err != nil {
			ln.Close()
			return fmt.Errorf("--addr-file: %w", err)
		}
	}
	events := event.NewBuffered(stdout, opts.JSON)
	defer events.Close()
	return server.Serve(ctx, ln, server.Config{
		Sleep:           opts.Sleep,
		Events:          events,
		Probe:           opts.Probe,
		MaxConns:        maxConns,
		StatsEvery:      opts.StatsEvery,
		Quiet:           opts.Quiet,
		FrameTimeout:    opts.FrameTimeout,
		MinPingInterval: opts.MinPingInterval,
		KeepAlive:       opts.KeepAlive,
		UserTimeout:     opts.UserTimeout,
		Fault:           fault,
		FaultAfter:      opts.FaultAfter,
	})
}

// writeAtomic writes the file whole or not at all, so a reader polling for
// it never sees half an address.
func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addr-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// reservedFiles are the file descriptors kept back from --max-conns' default
// for the listener, stdio, the runtime's poller and an --addr-file.
const reservedFiles = 32

// defaultMaxConns is what the process's open-file limit allows. Go raises
// the soft limit to the hard one at start-up on Linux, so this is the hard
// limit, less reservedFiles. Zero (no limit) when the limit is unknown.
func defaultMaxConns() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY {
		return 0
	}
	return max(int(lim.Cur)-reservedFiles, 1)
}
