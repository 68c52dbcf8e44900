package clientcmd

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/idle"
	"github.com/heartbeat/heartbeat/internal/idlerun"
)

// Ranges of idle-timeout's flags (package idle says why).
var (
	idleMaxRange = cli.Durations{Min: idle.MinMax, Max: idle.MaxMax}
	idleResRange = cli.Durations{Min: idle.MinRes, Max: idle.MaxMax / 2, Zero: "1s or 2% of the gap, whichever is larger"}
)

// newIdleCmd is "hbclient idle-timeout": how long the network keeps an
// idle connection. With validateOnly it stops once its command line is
// checked.
func newIdleCmd(validateOnly bool) *cobra.Command {
	var (
		cfg     idlerun.Config
		jsonOut bool
	)
	cfg.Plan.Max, cfg.Plan.Conns = idle.DefaultMax, idle.DefaultConns
	cmd := &cobra.Command{
		Use:   "idle-timeout HOST PORT",
		Short: "Measure how long the network keeps an idle connection",
		Long: `idle-timeout opens connections to the hbserver at HOST PORT, leaves each idle
for a different gap, then makes it carry a packet, client-first (a CALL the
server answers at once) or server-first (a CALLBACK the server was asked for
before the gap). It narrows the gaps between the longest that survived and the
shortest that did not until they are --resolution apart, tells how the
connections ended (silent drop, reset, close), checks whether kernel keep-alive
and heartbeat PINGs below the timeout keep the connection alive, and ends with
the settings that survive it.

Exit codes: 0 a timeout was found, or none up to --max; 1 error; 2 bad usage.`,
		Example: `  hbclient idle-timeout 127.0.0.1 9000
  hbclient idle-timeout 198.18.0.2 9000 --max 10m --resolution 5s --json`,
		Args: cli.Args(2, 2, "HOST and PORT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := cli.ParseHost(args[0], " (127.0.0.1, ::1, localhost)")
			if err != nil {
				return err
			}
			port, err := cli.ParsePort(args[1], 1)
			if err != nil {
				return err
			}
			if err := cfg.Plan.Validate(); err != nil {
				return cli.Usagef("--resolution %s: give at most half of --max (%s)", cfg.Plan.Resolution, cfg.Plan.Max)
			}
			if validateOnly {
				return nil
			}
			cfg.Network, cfg.Addr = cli.Network(host), net.JoinHostPort(host, strconv.Itoa(port))
			events := event.NewBuffered(cmd.OutOrStdout(), jsonOut)
			defer events.CloseReporting(cmd.ErrOrStderr(), "hbclient")
			_, err = idlerun.Run(cmd.Context(), cfg, events)
			if errors.Is(err, cmd.Context().Err()) && err != nil {
				return fmt.Errorf("interrupted before the measurement ended")
			}
			return err
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	cli.DurationVar(f, &cfg.Plan.Max, "max", idle.DefaultMax, idleMaxRange, "the longest idle gap tried")
	cli.DurationVar(f, &cfg.Plan.Resolution, "resolution", 0, idleResRange, "how close the bounds must come (0: 1s or 2% of the gap, whichever is larger)")
	cli.IntVar(f, &cfg.Plan.Conns, "conns", idle.DefaultConns, cli.Ints{Min: 2, Max: min(idle.MaxConns, max(cli.MaxConns(), 2))},
		"connections idling at once")
	f.BoolVar(&jsonOut, "json", false, "print events as JSON lines")
	return cmd
}
