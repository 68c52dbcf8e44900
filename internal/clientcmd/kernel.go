package clientcmd

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
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
		Short: "Print the machine's TCP keep-alive and retransmission defaults and what they imply",
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
		ev := event.NewWriter(w, true)
		fields := []event.Field{
			event.Secs("tcp_keepalive_time_s", ka.Idle), event.Secs("tcp_keepalive_intvl_s", ka.Interval),
			event.F("tcp_keepalive_probes", ka.Count), event.Secs("keepalive_dead_after_s", ka.DeadAfter())}
		if k.Retries2 > 0 {
			fields = append(fields, event.F("tcp_retries2", k.Retries2), event.Secs("retransmit_give_up_s", giveUp))
		}
		ev.Emit(0, "kernel", "", fields...)
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
func describeKernel(k client.KernelSettings, hb probe.Config, retries2 int) (string, []event.Field, []string) {
	var parts, warnings []string
	fields := []event.Field{event.F("keepalive", k.KeepAlive.Enable)}
	if ka := k.KeepAlive; ka.Enable {
		rule := fmt.Sprintf("idle %s + %d x %s", ka.Idle, ka.Count, ka.Interval)
		if k.UserTimeout > 0 {
			rule = fmt.Sprintf("idle %s + interval %s until the %s user timeout", ka.Idle, ka.Interval, k.UserTimeout)
		}
		parts = append(parts, fmt.Sprintf("kernel keep-alive: dead after %s of silence (%s; read back from the socket)",
			ka.DeadAfterWith(k.UserTimeout), rule))
		fields = append(fields, event.Secs("keepalive_idle_s", ka.Idle), event.Secs("keepalive_interval_s", ka.Interval),
			event.F("keepalive_count", ka.Count), event.Secs("keepalive_predicted_s", ka.DeadAfterWith(k.UserTimeout)))
		if hb.Enabled() {
			warnings = append(warnings, "keep-alive cannot fire while sent data is unacknowledged: "+
				"if the peer vanishes, the heartbeat's PINGs are retransmitted instead and keep-alive waits")
		}
	} else {
		parts = append(parts, "kernel keep-alive: off (SO_KEEPALIVE read back as 0)")
	}
	if k.UserTimeout > 0 {
		parts = append(parts, fmt.Sprintf("user timeout: unacknowledged data dropped after %s (TCP_USER_TIMEOUT, read back)", k.UserTimeout))
		fields = append(fields, event.Secs("user_timeout_s", k.UserTimeout))
		if w := cli.UserTimeoutWarning(k.KeepAlive.UserTimeoutEffect(k.UserTimeout)); w != "" {
			warnings = append(warnings, w)
		}
	} else if retries2 > 0 {
		parts = append(parts, fmt.Sprintf("unacknowledged data dropped after about %s (tcp_retries2 %d)",
			sockopt.RetransmitGiveUp(retries2, minRTO), retries2))
	}
	return strings.Join(parts, "; "), fields, warnings
}
