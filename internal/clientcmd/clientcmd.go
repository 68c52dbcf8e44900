// Package clientcmd is the hbclient command: it connects to HOST PORT, runs
// the heartbeat on the connection and prints its timeline.
package clientcmd

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/client"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/load"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// DefaultConnectTimeout bounds the TCP handshake.
const DefaultConnectTimeout = 5 * time.Second

// Options are hbclient's settings, one field per flag or argument.
type Options struct {
	Host string
	Port int
	// Probe holds --idle, --interval, --probes and --accept-late.
	Probe probe.Config
	// Duration stops the client, exit 0, after this long connected. Zero
	// runs until the peer closes or dies.
	Duration time.Duration
	// ConnectTimeout bounds the TCP handshake. Zero means no bound but the
	// kernel's.
	ConnectTimeout time.Duration
	// JSON prints events as JSON lines instead of text.
	JSON bool
	// KeepAlive is the kernel keep-alive to set on the socket (--keepalive
	// and friends); fields left zero keep the machine's sysctl values.
	KeepAlive sockopt.KeepAliveConfig
	// UserTimeout sets TCP_USER_TIMEOUT. Zero leaves it unset.
	UserTimeout time.Duration
	// Conns, when positive, is the load mode: this many connections, each
	// with the heartbeat, opened Rate a second (zero or less: at once).
	Conns int
	Rate  float64
}

// NewCmd returns the hbclient command.
func NewCmd() *cobra.Command {
	opts := Options{Probe: probe.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "hbclient HOST PORT",
		Short: "Connect to a heartbeat server and watch the connection live or die",
		Long: `hbclient connects to HOST PORT and runs the application heartbeat of the
seed C client: after --idle of silence it sends a PING, then one every
--interval while no PONG comes back in time, and after --probes missed probes
it declares the server dead (by default 10s + 3 x 3s = 19s after the last
sign of life). Every event is printed with the time since connect.

Durations take seconds (5, 0.5) or Go durations (250ms, 1m30s).

The kernel's own detectors can run beside it: --keepalive (SO_KEEPALIVE,
with --keepalive-idle/-interval/-count; unset values are the machine's
sysctls) and --user-timeout (TCP_USER_TIMEOUT). The values in effect are read
back from the socket and printed with the detection time each implies; while
they are on, the kernel's unanswered probes appear in the timeline.
"hbclient kernel" prints the machine's defaults.

Exit codes: 0 peer closed, --duration reached or interrupted; 1 error
(cannot connect, reset, unreachable); 2 bad usage; 3 peer declared dead by
the heartbeat; 4 peer declared dead by the kernel (keep-alive, user timeout).`,
		Example: `  hbclient 127.0.0.1 9000
  hbclient 127.0.0.1 9000 --idle 2 --interval 1 --probes 2
  hbclient 127.0.0.1 9000 --accept-late --duration 1m --json`,
		Args: cli.Args(2, 2, "HOST and PORT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Host = args[0]
			var err error
			if opts.Port, err = cli.ParsePort(args[1]); err != nil {
				return err
			}
			return run(cmd.Context(), opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	cli.DurationVar(f, &opts.Probe.Idle, "idle", probe.DefaultIdle, "silence before the first PING")
	cli.DurationVar(f, &opts.Probe.Interval, "interval", probe.DefaultInterval, "time each PING waits for its PONG before the next PING")
	f.IntVar(&opts.Probe.Probes, "probes", probe.DefaultProbes, "missed probes in a row that declare the peer dead (0: no heartbeat)")
	f.BoolVar(&opts.Probe.AcceptLate, "accept-late", false, "the seed client's rule: any frame, however late, counts as life")
	cli.DurationVar(f, &opts.Duration, "duration", 0, "stop after this long, exit 0 (0: no limit)")
	cli.DurationVar(f, &opts.ConnectTimeout, "connect-timeout", DefaultConnectTimeout, "give up connecting after this long")
	f.IntVar(&opts.Conns, "conns", 0, "load mode: open this many connections, each with the heartbeat; print a status line a second")
	f.Float64Var(&opts.Rate, "rate", 1000, "load mode: new connections a second (0: as fast as they connect)")
	f.BoolVar(&opts.KeepAlive.Enable, "keepalive", false, "turn kernel keep-alive (SO_KEEPALIVE) on")
	cli.DurationVar(f, &opts.KeepAlive.Idle, "keepalive-idle", 0, "TCP_KEEPIDLE, whole seconds (0: the machine's tcp_keepalive_time)")
	cli.DurationVar(f, &opts.KeepAlive.Interval, "keepalive-interval", 0, "TCP_KEEPINTVL, whole seconds (0: tcp_keepalive_intvl)")
	f.IntVar(&opts.KeepAlive.Count, "keepalive-count", 0, "TCP_KEEPCNT (0: tcp_keepalive_probes)")
	cli.DurationVar(f, &opts.UserTimeout, "user-timeout", 0, "TCP_USER_TIMEOUT: drop the connection when sent data stays unacknowledged this long (0: unset)")
	f.BoolVar(&opts.JSON, "json", false, "print events as JSON lines")
	cmd.AddCommand(newKernelCmd())
	return cmd
}

func run(ctx context.Context, opts Options, stdout io.Writer) error {
	if err := opts.Probe.Validate(); err != nil {
		// "probe: idle must be positive (got 0s)" -> "--idle must be positive (got 0s)"
		return cli.Usagef("--%s", strings.TrimPrefix(err.Error(), "probe: "))
	}
	if err := cli.CheckKeepAlive(opts.KeepAlive); err != nil {
		return err
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	if opts.Conns < 0 {
		return cli.Usagef("--conns %d: give a positive number of connections", opts.Conns)
	}
	if opts.Conns > 0 {
		if opts.KeepAlive.Enable || opts.UserTimeout > 0 {
			return cli.Usagef("--conns runs the heartbeat only: drop --keepalive and --user-timeout")
		}
		return runLoad(ctx, opts, addr, stdout)
	}
	// KeepAlive -1: Go would turn kernel keep-alive on (15s); the tools
	// show the kernel's real default, which is off.
	d := net.Dialer{KeepAlive: -1, Timeout: opts.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while connecting
		}
		return fmt.Errorf("cannot connect to %s: %w", addr, cli.OpCause(err))
	}
	kernel, err := setKernel(conn.(*net.TCPConn), opts)
	if err != nil {
		conn.Close()
		return err
	}
	retries2 := 0
	if k, err := sockopt.ReadKernel(procRoot); err == nil {
		retries2 = k.Retries2
	}
	text, fields, warnings := describeKernel(kernel, opts.Probe, retries2)
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Duration,
			fmt.Errorf("--duration %s reached", opts.Duration))
		defer cancel()
	}
	events := event.NewBuffered(stdout, opts.JSON)
	defer events.Close()
	res := client.Run(ctx, conn, client.Options{
		Probe:           opts.Probe,
		Events:          events,
		ConnectedText:   text,
		ConnectedFields: fields,
		Warnings:        warnings,
		Kernel:          kernel,
		FineTimer:       true,
	})
	switch res.Outcome {
	case client.Dead:
		return fmt.Errorf("%w after %.3fs of silence (predicted %.3fs)", cli.ErrDead, res.Observed.Seconds(), res.Predicted.Seconds())
	case client.KernelDead:
		return fmt.Errorf("%w (%s) after %.3fs", cli.ErrKernelDead, res.Cause, res.Observed.Seconds())
	case client.Failed:
		return fmt.Errorf("connection to %s: %w", addr, cli.OpCause(res.Err))
	}
	return nil
}

// setKernel applies the kernel options asked for and reads back what is in
// effect.
func setKernel(c *net.TCPConn, opts Options) (client.Kernel, error) {
	var k client.Kernel
	if opts.KeepAlive.Enable {
		if err := sockopt.SetKeepAlive(c, opts.KeepAlive); err != nil {
			return k, fmt.Errorf("--keepalive: %w", err)
		}
	}
	if opts.UserTimeout > 0 {
		if err := sockopt.SetUserTimeout(c, opts.UserTimeout); err != nil {
			return k, fmt.Errorf("--user-timeout: %w", err)
		}
	}
	var err error
	if k.KeepAlive, err = sockopt.ReadKeepAlive(c); err != nil {
		return k, err
	}
	if k.UserTimeout, err = sockopt.UserTimeout(c); err != nil {
		return k, err
	}
	return k, nil
}

// runLoad is the load mode.
func runLoad(ctx context.Context, opts Options, addr string, stdout io.Writer) error {
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	events := event.NewBuffered(stdout, opts.JSON)
	defer events.Close()
	sum, err := load.Run(ctx, load.Config{
		Addr: addr, Conns: opts.Conns, Rate: opts.Rate, Probe: opts.Probe, ConnectTimeout: opts.ConnectTimeout,
	}, events)
	switch {
	case err != nil:
		return err
	case sum.Dead > 0:
		return fmt.Errorf("%w: %d of %d connections", cli.ErrDead, sum.Dead, sum.Connected)
	case sum.Connected == 0 && sum.ConnectErrors > 0:
		return fmt.Errorf("cannot connect to %s: all %d connections failed (first: %s)", addr, sum.ConnectErrors, sum.FirstConnectError)
	}
	return nil
}
