// Package clientcmd is the hbclient command: it connects to HOST PORT, runs
// the heartbeat on the connection and prints its timeline.
package clientcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/client"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/load"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/preset"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
	"github.com/heartbeat/heartbeat/internal/web"
)

// DefaultConnectTimeout bounds the TCP handshake.
const DefaultConnectTimeout = 5 * time.Second

// Options are hbclient's settings, one field per flag or argument.
type Options struct {
	Host string
	Port int
	// Probe holds --idle, --interval, --probes, --accept-late, the rules
	// (--life, --fixed-rate, --timeout, --max-outstanding), --jitter and
	// --seed (random when not given).
	Probe probe.Config
	// Like is the preset (--like) whose rules and values the flags not
	// given take; empty: none.
	Like string
	// Duration stops the client, exit 0, after this long connected. Zero
	// runs until the peer closes or dies.
	Duration time.Duration
	// ConnectTimeout bounds the TCP handshake. Zero means no bound but the
	// kernel's.
	ConnectTimeout time.Duration
	// JSON prints events as JSON lines instead of text.
	JSON bool
	// Output is --color and --clock: how the text lines are written.
	Output cli.Output
	// KeepAlive is the kernel keep-alive to set on the socket (--keepalive
	// and friends); fields left zero keep the machine's sysctl values.
	KeepAlive sockopt.KeepAliveConfig
	// UserTimeout sets TCP_USER_TIMEOUT. Zero leaves it unset.
	UserTimeout time.Duration
	// Conns, when positive, is the load mode: this many connections, each
	// with the heartbeat, opened Rate a second (zero: as fast as they
	// connect).
	Conns int
	Rate  float64
	// Web, when set, is the address of a live page of the run (--web):
	// PORT or :PORT on loopback, HOST:PORT elsewhere.
	Web string
	// SVG, when set, is the file the run's sequence diagram is written to
	// when the run ends. Empty means no picture.
	SVG string
}

// NewCmd returns the hbclient command.
func NewCmd() *cobra.Command { return newCmd(false) }

// Main runs hbclient with args (os.Args[1:]) and returns its exit code: it
// is the whole program, which cmd/hbclient and the end-to-end tests both
// run.
func Main(args []string, stdout, stderr io.Writer) int {
	return cli.Main(NewCmd(), args, stdout, stderr)
}

// Ranges of hbclient's own flags.
var (
	// durationRange is --duration's: below a millisecond the run ends
	// before the connection can say anything.
	durationRange = cli.Durations{Min: time.Millisecond, Max: cli.MaxDuration, Zero: "no limit"}
	// connectTimeoutRange is --connect-timeout's: a handshake takes tens of
	// microseconds even on loopback, so less than a millisecond always
	// fails.
	connectTimeoutRange = cli.Durations{Min: time.Millisecond, Max: cli.MaxDuration, Zero: "the kernel's bound only"}
	// rateRange is --rate's: a million connects a second is far beyond
	// what one process can make; above that the pacing means nothing.
	rateRange = cli.Floats{Min: 0, Max: 1e6}
)

// newCmd returns the hbclient command; with validateOnly, it stops once
// every argument and flag is checked, before any socket is opened (for the
// tests of the command line).
func newCmd(validateOnly bool) *cobra.Command {
	opts := Options{Probe: probe.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "hbclient HOST PORT",
		Short: "Connect to a heartbeat server and watch the connection live or die",
		Long: `hbclient connects to HOST PORT and runs the application heartbeat of the
seed C client: after --idle of silence it sends a PING, then one every
--interval while no PONG comes back in time, and after --probes missed probes
it declares the server dead (by default 10s + 3 x 3s = 19s after the last
sign of life). Every event is printed with the time since connect.

HOST is an address (127.0.0.1, ::1 or [::1]) or a name. Durations take
seconds (5, 0.5) or Go durations (250ms, 1m30s).

The kernel's own detectors can run beside it: --keepalive (SO_KEEPALIVE,
with --keepalive-idle/-interval/-count; unset values are the machine's
sysctls) and --user-timeout (TCP_USER_TIMEOUT). The values in effect are read
back from the socket and printed with the detection time each implies; while
they are on, the kernel's unanswered probes appear in the timeline.
"hbclient kernel" prints the machine's defaults.

--like SYSTEM runs another system's heartbeat: its rules (what counts as
life, idle-gated or fixed-rate PINGs, counted probes or one reply timeout)
and its defaults, named as it names them in the connected line; flags
given win. "hbclient compare" prints when each one finds a dead peer.
The presets:
` + cli.PresetHelp(preset.Clients()) + `

Exit codes: 0 peer closed between frames, --duration reached or
interrupted; 1 error (cannot connect, reset, unreachable, closed in the
middle of a frame or with a closing NOTICE); 2 bad usage; 3 peer declared
dead by the heartbeat; 4 peer declared dead by the kernel (keep-alive, user
timeout, retransmissions).`,
		Example: `  hbclient 127.0.0.1 9000
  hbclient 127.0.0.1 9000 --idle 2 --interval 1 --probes 2
  hbclient 127.0.0.1 9000 --accept-late --duration 1m --json
  hbclient 127.0.0.1 9000 --like ssh --interval 2s
  hbclient compare --sleep 30s`,
		Version: cli.Version(),
		Args:    cli.Args(2, 2, "HOST and PORT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Host, err = cli.ParseHost(args[0], " (127.0.0.1, ::1, localhost)"); err != nil {
				return err
			}
			if opts.Port, err = cli.ParsePort(args[1], 1); err != nil {
				return err
			}
			if opts.Like != "" {
				cli.ApplyLike(preset.Clients(), opts.Like, &opts.Probe, &opts.KeepAlive.Enable, &opts.UserTimeout, opts.Conns == 0, cmd.Flags().Changed)
			}
			if err := opts.validate(cmd.Flags().Changed); err != nil || validateOnly {
				return err
			}
			if !cmd.Flags().Changed("seed") {
				opts.Probe.Seed = rand.Uint64()
			}
			return run(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	f := cmd.Flags()
	f.SortFlags = false
	cli.LikeFlag(f, &opts.Like, preset.Clients(), "behave like this system's heartbeat: its rules, its defaults and its names in the connected line")
	cli.HeartbeatFlags(f, &opts.Probe, "", "missed probes in a row that declare the peer dead (0: no heartbeat)")
	cli.RuleFlags(f, &opts.Probe, "")
	cli.IntVar(f, &opts.Probe.Jitter, "jitter", 0, cli.Ints{Min: 1, Max: probe.MaxJitter, Zero: "off"},
		"cut each wait (idle, interval) by a random 0 to this many percent, BFD's rule, so that heartbeats do not fall into step (0: off)")
	cli.Uint64Var(f, &opts.Probe.Seed, "seed", 0, "seed of --jitter's draws, to replay a run (default: random, said in the connected line)")
	cli.DurationVar(f, &opts.Duration, "duration", 0, durationRange, "stop after this long, exit 0 (0: no limit)")
	cli.DurationVar(f, &opts.ConnectTimeout, "connect-timeout", DefaultConnectTimeout, connectTimeoutRange, "give up connecting after this long (0: only the kernel's bound)")
	cli.IntVar(f, &opts.Conns, "conns", 0, cli.Ints{Min: 1, Max: max(cli.MaxConns(), 1), Zero: "one connection, no load mode"},
		"load mode: open this many connections, each with the heartbeat; print a status line a second (at most the open-file limit less "+strconv.Itoa(cli.ReservedFiles)+")")
	cli.FloatVar(f, &opts.Rate, "rate", 1000, rateRange, "load mode: new connections a second (0: as fast as they connect)")
	cli.KernelFlags(f, &opts.KeepAlive.Enable, &opts.KeepAlive.Idle, &opts.KeepAlive.Interval, &opts.KeepAlive.Count, &opts.UserTimeout)
	f.BoolVar(&opts.JSON, "json", false, "print events as JSON lines")
	cli.OutputFlags(f, &opts.Output)
	f.StringVar(&opts.Web, "web", "", "serve a live page of the run on ADDR (PORT or :PORT: on 127.0.0.1; HOST:PORT) and keep it after the run until Ctrl-C")
	f.StringVar(&opts.SVG, "svg", "", "when the run ends, write its sequence diagram to this file (SVG)")
	cmd.AddCommand(newKernelCmd(), newDrawCmd(validateOnly), newIdleCmd(validateOnly), newLessonsCmd(), newCompareCmd(validateOnly))
	return cmd
}

// validate checks the settings together, once each flag is in range;
// given reports whether a flag was on the command line.
func (opts Options) validate(given func(name string) bool) error {
	if err := cli.CheckProbe(opts.Probe, given); err != nil {
		return cli.LikeSaid(opts.Like, err)
	}
	if opts.Probe.Jitter == 0 {
		if err := cli.Needs(given, []string{"seed"}, "--jitter above 0 (it seeds the jitter)"); err != nil {
			return err
		}
	}
	if err := cli.CheckKeepAlive(opts.KeepAlive.Enable, given); err != nil {
		return cli.LikeSaid(opts.Like, err)
	}
	if opts.Conns == 0 {
		if err := cli.Needs(given, []string{"rate"}, "--conns (load mode)"); err != nil {
			return err
		}
	}
	if given("web") {
		if opts.Conns > 0 {
			return cli.Usagef("--web shows one connection: with --conns it is not supported yet")
		}
		if _, err := web.ListenAddr(opts.Web); err != nil {
			return cli.Usagef("%w", err)
		}
	}
	if opts.Conns > 0 && (opts.KeepAlive.Enable || opts.UserTimeout > 0) {
		return cli.Usagef("--conns runs the heartbeat only: drop --keepalive and --user-timeout")
	}
	if opts.SVG != "" {
		if opts.Conns > 0 {
			return cli.Usagef("--svg draws one connection: drop --conns")
		}
		return checkNewFile("--svg", opts.SVG)
	}
	return nil
}

func run(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	if opts.Conns > 0 {
		return runLoad(ctx, opts, addr, stdout, stderr)
	}
	var pic *picture
	if opts.SVG != "" {
		var err error
		if pic, err = openPicture(opts.SVG); err != nil {
			return err
		}
	}
	events := event.NewBuffered(stdout, opts.JSON)
	defer events.CloseReporting(stderr, "hbclient")
	events.SetStyle(opts.Output.Style(stdout))
	var page *web.Server
	if opts.Web != "" {
		var err error
		if page, err = startPage(opts.Web, addr, events, stderr); err != nil {
			return err
		}
		defer page.Close()
	}
	if pic != nil {
		events.Tap(pic.add)
	}
	began, err := runOne(ctx, opts, addr, events, pic)
	if pic.pending() {
		// The run has ended: the picture is written now, never during it.
		if perr := pic.write(); perr != nil {
			if err == nil {
				err = perr
			} else {
				fmt.Fprintf(stderr, "hbclient: %v\n", perr)
			}
		}
	}
	if page != nil && began {
		keepPage(ctx, page, err, stderr)
	}
	return err
}

// runOne connects and runs the heartbeat on one connection, and says
// whether it began (connected, with its options set); pic, when not nil,
// is discarded if the run never began.
func runOne(ctx context.Context, opts Options, addr string, events *event.Writer, pic *picture) (began bool, err error) {
	// KeepAlive -1: Go would turn kernel keep-alive on (15s); the tools
	// show the kernel's real default, which is off.
	d := net.Dialer{KeepAlive: -1, Timeout: opts.ConnectTimeout}
	conn, err := d.DialContext(ctx, cli.Network(opts.Host), addr)
	if err != nil {
		pic.discard()
		if ctx.Err() != nil {
			return false, nil // interrupted while connecting
		}
		err = fmt.Errorf("cannot connect to %s: %w", addr, cli.OpCause(err))
		if opts.JSON {
			// The JSON stream says why it is empty; stderr has the line too.
			event.Emit(events, 0, event.Failed{Err: err.Error()})
		}
		return false, err
	}
	kernel, err := setKernel(conn.(*net.TCPConn), opts)
	if err != nil {
		conn.Close()
		pic.discard()
		return false, err
	}
	retries2 := 0
	if k, err := sockopt.ReadDefaults(); err == nil {
		retries2 = k.Retries2
	}
	inEffect, warnings := describeKernel(kernel, opts.Probe, retries2)
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Duration,
			fmt.Errorf("--duration %s reached", opts.Duration))
		defer cancel()
	}
	var like, likeSettings string
	if p, ok := preset.Find(preset.Clients(), opts.Like); ok {
		like, likeSettings = p.Name, p.Settings(opts.Probe)
	}
	res := client.Run(ctx, conn, client.Options{
		Probe:          opts.Probe,
		Like:           like,
		LikeSettings:   likeSettings,
		Events:         events,
		KernelInEffect: inEffect,
		Warnings:       warnings,
		Kernel:         kernel,
		FineTimer:      true,
		Announce:       true,
	})
	return true, outcome(res, addr)
}

// outcome is the error, and so the exit code, that a run's result gives.
func outcome(res client.Result, addr string) error {
	switch res.Outcome {
	case client.HeartbeatDead:
		return fmt.Errorf("%w after %.3f s of silence (predicted %.3f s)", cli.ErrDead, res.Observed.Seconds(), res.Predicted.Seconds())
	case client.KernelDead:
		return fmt.Errorf("%w (%s) after %.3f s", cli.ErrKernelDead, res.Cause, res.Observed.Seconds())
	case client.Failed, client.MidFrame, client.ClosedByNotice:
		return fmt.Errorf("connection to %s: %w", addr, cli.OpCause(res.Err))
	}
	return nil
}

// setKernel applies the kernel options asked for and reads back what is in
// effect.
func setKernel(c *net.TCPConn, opts Options) (client.KernelSettings, error) {
	var k client.KernelSettings
	if opts.KeepAlive.Enable {
		if err := sockopt.SetKeepAlive(c, opts.KeepAlive); err != nil {
			return k, fmt.Errorf("--keepalive: %w", err)
		}
	}
	if opts.UserTimeout > 0 {
		err := sockopt.SetUserTimeout(c, opts.UserTimeout)
		if errors.Is(err, sockopt.ErrUnsupported) {
			return k, cli.Usagef("--user-timeout: not supported on %s", runtime.GOOS)
		}
		if err != nil {
			return k, fmt.Errorf("--user-timeout: %w", err)
		}
	}
	var err error
	k.KeepAlive, err = sockopt.ReadKeepAlive(c)
	if errors.Is(err, sockopt.ErrUnsupported) {
		// This OS cannot read them back: what was set is what is known.
		k.KeepAlive, err = opts.KeepAlive, nil
	}
	if err != nil {
		return k, err
	}
	if k.UserTimeout, err = sockopt.UserTimeout(c); err != nil {
		return k, err
	}
	return k, nil
}

// runLoad is the load mode.
func runLoad(ctx context.Context, opts Options, addr string, stdout, stderr io.Writer) error {
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	events := event.NewBuffered(stdout, opts.JSON)
	defer events.CloseReporting(stderr, "hbclient")
	events.SetStyle(opts.Output.Style(stdout))
	sum, err := load.Run(ctx, load.Config{
		Addr: addr, Conns: opts.Conns, Rate: opts.Rate, Probe: opts.Probe, ConnectTimeout: opts.ConnectTimeout,
	}, events)
	switch {
	case err != nil:
		return err
	case sum.Dead > 0:
		return fmt.Errorf("%w: %d of %s", cli.ErrDead, sum.Dead, plural.Count(sum.Connected, "connection"))
	case sum.Connected == 0 && sum.ConnectErrors > 0:
		return fmt.Errorf("cannot connect to %s: %s, none connected (first: %s)", addr, plural.Count(sum.ConnectErrors, "attempt"), sum.FirstConnectError)
	case sum.Connected > 0 && sum.ClosedNotices == sum.Connected:
		// As one connection closed with a NOTICE exits 1: the server
		// refused every connection that came up (a full server, say).
		return fmt.Errorf("%s to %s closed by the server with a NOTICE, every one that came up (the first: %s)",
			plural.Count(sum.Connected, "connection"), addr, strconv.Quote(sum.FirstCloseReason))
	}
	return nil
}
