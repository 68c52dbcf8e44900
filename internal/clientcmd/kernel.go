package clientcmd

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/client"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// minRTO is Linux's lowest retransmission timeout (TCP_RTO_MIN), the start
// of the retransmission give-up estimate.
const minRTO = 200 * time.Millisecond

func newKernelCmd() *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "kernel",
		Short: "Print the machine's TCP keep-alive and retransmission defaults",
		Args:  cli.Args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := sockopt.ReadDefaults()
			if errors.Is(err, sockopt.ErrUnsupported) {
				return fmt.Errorf("the kernel's defaults are not known on %s", runtime.GOOS)
			}
			if err != nil {
				return fmt.Errorf("cannot read the kernel's defaults: %w", err)
			}
			printKernel(cmd.OutOrStdout(), k, jsonOut)
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON object")
	return cmd
}

// printKernel prints the machine's defaults under this OS's names
// (Linux's sysctls, macOS's and FreeBSD's, Windows' registry values), where
// they came from, and what they imply. The retransmission give-up is
// Linux's rule (tcp_retries2), printed only where Retries2 was read.
func printKernel(w io.Writer, k sockopt.Defaults, jsonOut bool) {
	ka := k.KeepAlive
	ka.Enable = true
	giveUp := sockopt.RetransmitGiveUp(k.Retries2, minRTO)
	if jsonOut {
		event.Emit(event.NewWriter(w, true), 0, event.KernelDefaults{Idle: ka.Idle, Interval: ka.Interval,
			Count: ka.Count, DeadAfter: ka.DeadAfter(), Retries2: k.Retries2, GiveUp: giveUp})
		return
	}
	fmt.Fprintf(w, "%-31s%s\n", k.Names[0], seconds(ka.Idle))
	fmt.Fprintf(w, "%-31s%s\n", k.Names[1], seconds(ka.Interval))
	fmt.Fprintf(w, "%-31s%d\n", k.Names[2], ka.Count)
	if k.Retries2 > 0 {
		fmt.Fprintf(w, "%-31s%d\n", "net.ipv4.tcp_retries2", k.Retries2)
	}
	fmt.Fprintf(w, "(read from %s)\n", k.Source)
	fmt.Fprintf(w, "keep-alive, on a socket that turns it on (SO_KEEPALIVE; off by default):\n")
	rule := fmt.Sprintf("%s + %d x %s", ka.Idle, ka.Count, ka.Interval)
	if ka.Idle%time.Second == 0 && ka.Interval%time.Second == 0 {
		rule = fmt.Sprintf("%d + %d x %d s", int(ka.Idle/time.Second), ka.Count, int(ka.Interval/time.Second))
	}
	fmt.Fprintf(w, "  dead after %s of silence = %s\n", ka.DeadAfter(), rule)
	if k.Retries2 > 0 {
		fmt.Fprintf(w, "unacknowledged data, without TCP_USER_TIMEOUT:\n")
		fmt.Fprintf(w, "  given up after about %s (%s, RTO from %s doubling to 120s)\n",
			giveUp, plural.Count(k.Retries2, "retransmission"), minRTO)
	}
}

// seconds prints a kernel time as the sysctls have it on Linux ("7200 s"),
// and as a duration when it is not whole seconds (a BSD or Windows value
// in milliseconds).
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", int(d/time.Second))
	}
	return d.String()
}

// describeKernel is the "connected" line's account of the kernel's settings
// in effect, with the detection time each implies and a warning for each
// combination that surprises people.
func describeKernel(k client.KernelSettings, hb probe.Config, retries2 int) (event.KernelOptions, []string) {
	var warnings []string
	ka := k.KeepAlive
	in := event.KernelOptions{Set: true, KeepAlive: ka.Enable, UserTimeout: k.UserTimeout}
	if ka.Enable {
		in.Idle, in.Interval, in.Count, in.DeadAfter = ka.Idle, ka.Interval, ka.Count, ka.DeadAfterWith(k.UserTimeout)
		if hb.Enabled() {
			warnings = append(warnings, "keep-alive cannot fire while sent data is unacknowledged: "+
				"if the peer vanishes, the heartbeat's PINGs are retransmitted instead and keep-alive waits")
		}
	}
	if k.UserTimeout > 0 {
		if w := cli.UserTimeoutWarning(k.KeepAlive.UserTimeoutEffect(k.UserTimeout)); w != "" {
			warnings = append(warnings, w)
		}
	} else if retries2 > 0 {
		in.Retries2, in.GiveUp = retries2, sockopt.RetransmitGiveUp(retries2, minRTO)
	}
	return in, warnings
}
