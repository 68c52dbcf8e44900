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

Exit codes: 0 peer closed, --duration reached or interrupted; 1 error
(cannot connect, reset); 2 bad usage; 3 peer declared dead by the heartbeat.`,
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
	f.BoolVar(&opts.JSON, "json", false, "print events as JSON lines")
	return cmd
}

func run(ctx context.Context, opts Options, stdout io.Writer) error {
	if err := opts.Probe.Validate(); err != nil {
		// "probe: idle must be positive (got 0s)" -> "--idle must be positive (got 0s)"
		return cli.Usagef("--%s", strings.TrimPrefix(err.Error(), "probe: "))
	}
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
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
	ka, err := sockopt.KeepAlive(conn.(*net.TCPConn))
	if err != nil {
		conn.Close()
		return err
	}
	kernel := "kernel keep-alive: off (SO_KEEPALIVE read back as 0)"
	if ka {
		kernel = "kernel keep-alive: on"
	}
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Duration,
			fmt.Errorf("--duration %s reached", opts.Duration))
		defer cancel()
	}
	res := client.Run(ctx, conn, client.Options{
		Probe:           opts.Probe,
		Events:          event.NewWriter(stdout, opts.JSON),
		ConnectedText:   kernel,
		ConnectedFields: []event.Field{event.F("keepalive", ka)},
	})
	switch res.Outcome {
	case client.Dead:
		return fmt.Errorf("%w after %.3fs of silence (predicted %.3fs)", cli.ErrDead, res.Observed.Seconds(), res.Predicted.Seconds())
	case client.Failed:
		return fmt.Errorf("connection to %s: %w", addr, cli.OpCause(res.Err))
	}
	return nil
}
