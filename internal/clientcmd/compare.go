package clientcmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/preset"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// DefaultCompareSleep is compare's --sleep: slower than some presets'
// reply timeouts (ZMTP's 1s, BFD's 900ms), faster than the others'.
const DefaultCompareSleep = 5 * time.Second

// compareOptions are "hbclient compare"'s settings.
type compareOptions struct {
	// Like is the presets to compare, in order; empty: all of them, or
	// the flags' own heartbeat when heartbeat or kernel flags are given.
	Like        []string
	Sleep       time.Duration
	JSON        bool
	Probe       probe.Config
	KeepAlive   sockopt.KeepAliveConfig
	UserTimeout time.Duration
}

// compareRangeSleep is --sleep's range: any SLEEP hbserver takes.
var compareSleepRange = cli.Durations{Min: 0, Max: cli.MaxDuration}

func newCompareCmd(validateOnly bool) *cobra.Command {
	opts := compareOptions{Probe: probe.DefaultConfig(), Sleep: DefaultCompareSleep}
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "When each system's heartbeat finds a dead peer, side by side",
		Long: `hbclient compare prints, for each preset (--like a,b,c; all by default) or
for the heartbeat the flags describe, when the peer is declared dead in the
classic failures, counted from its last sign of life:

  hung process     the peer's kernel ACKs, its process never answers
  vanished host    nothing comes back; the heartbeat's own PINGs are then
                   unacknowledged data, which stops kernel keep-alive
  slow server      the server answers each PING SLEEP (--sleep) after it
                   came or after its previous answer, as hbserver's SLEEP
  unacked data     the host vanished as data was sent: only
                   retransmissions (tcp_retries2) or TCP_USER_TIMEOUT and
                   the heartbeat act

The times come from the same probe machine hbclient runs, driven by a
simulated peer, and Linux's kernel defaults unless flags give others. A
cell marked ka, ut or rtx is the kernel's verdict (keep-alive, user
timeout, retransmissions); "never" is none.

Presets:
` + cli.PresetHelp(preset.Clients()),
		Example: `  hbclient compare
  hbclient compare --like ssh,grpc --sleep 30s
  hbclient compare --like ssh --interval 5s --json
  hbclient compare --idle 2s --interval 1s --probes 2 --user-timeout 3s`,
		Args: cli.Args(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := opts.rows(cmd.Flags())
			if err != nil || validateOnly {
				return err
			}
			printComparison(cmd.OutOrStdout(), rows, opts.Sleep, opts.JSON)
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringSliceVar(&opts.Like, "like", nil, "the presets to compare, by name, from "+strings.ReplaceAll(preset.Names(preset.Clients()), "|", ", ")+"; flags given change each")
	cli.DurationVar(f, &opts.Sleep, "sleep", opts.Sleep, compareSleepRange, "the slow server's SLEEP")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON line per preset (event compare)")
	cli.HeartbeatFlags(f, &opts.Probe, "", "missed probes in a row that declare the peer dead (0: no heartbeat)")
	cli.RuleFlags(f, &opts.Probe, "")
	cli.KernelFlags(f, &opts.KeepAlive.Enable, &opts.KeepAlive.Idle, &opts.KeepAlive.Interval, &opts.KeepAlive.Count, &opts.UserTimeout)
	return cmd
}

// flagsRow is the name of the row of a heartbeat the flags describe.
const flagsRow = "flags"

// rows checks the options and returns what to print, one Comparison a
// preset.
func (opts compareOptions) rows(fs *pflag.FlagSet) ([]event.Comparison, error) {
	given := fs.Changed
	names := opts.Like
	if given("like") && len(names) == 0 {
		return nil, cli.Usagef("--like: give presets among %s, separated by commas", preset.Names(preset.Clients()))
	}
	for _, n := range names {
		if _, ok := preset.Find(preset.Clients(), n); !ok {
			return nil, cli.Usagef("--like %q: give presets among %s, separated by commas", n, preset.Names(preset.Clients()))
		}
	}
	custom := false
	fs.Visit(func(f *pflag.Flag) {
		if f.Name != "like" && f.Name != "sleep" && f.Name != "json" {
			custom = true
		}
	})
	switch {
	case len(names) == 0 && custom:
		names = []string{flagsRow}
	case len(names) == 0:
		for _, p := range preset.Clients() {
			names = append(names, p.Name)
		}
	}
	var rows []event.Comparison
	for _, name := range names {
		c, ka, ut := opts.Probe, opts.KeepAlive, opts.UserTimeout
		row := event.Comparison{Preset: name, Sleep: opts.Sleep}
		if name == flagsRow {
			row.Formula = "idle + probes x interval"
			if c.Timeout > 0 {
				row.Formula = "idle + timeout"
			}
		} else {
			p := cli.ApplyLike(preset.Clients(), name, &c, &ka.Enable, &ut, true, given)
			row.Formula, row.Settings = p.Formula, p.Settings(c)
		}
		like := name
		if name == flagsRow {
			like = ""
		}
		if err := cli.CheckProbe(c, given); err != nil {
			return nil, cli.LikeSaid(like, err)
		}
		if err := cli.CheckKeepAlive(ka.Enable, given); err != nil {
			return nil, cli.LikeSaid(like, err)
		}
		k := preset.LinuxKernel()
		k.KeepAlive, k.UserTimeout = ka, ut
		v := preset.Compare(c, k, opts.Sleep)
		row.Hung, row.Vanished, row.Slow, row.Unacked = v.Hung, v.Vanished, v.Slow, v.Unacked
		rows = append(rows, row)
	}
	return rows, nil
}

// printComparison prints the rows as a table, each column as wide as its
// widest cell, the formula of each row under it (so the table fits 80
// columns), or as JSON lines.
func printComparison(w io.Writer, rows []event.Comparison, sleep time.Duration, jsonOut bool) {
	if jsonOut {
		ev := event.NewWriter(w, true)
		for _, r := range rows {
			event.Emit(ev, 0, r)
		}
		return
	}
	table := [][]string{{"preset", "hung process", "vanished host", "slow (SLEEP " + sleep.String() + ")", "unacked data"}}
	for _, r := range rows {
		line := []string{r.Preset}
		for _, v := range []event.Verdict{r.Hung, r.Vanished, r.Slow, r.Unacked} {
			line = append(line, string(v.AppendCell(nil)))
		}
		table = append(table, line)
	}
	width := make([]int, len(table[0]))
	for _, line := range table {
		for i, cell := range line {
			width[i] = max(width[i], len(cell))
		}
	}
	for n, line := range table {
		fmt.Fprintf(w, "%-*s", width[0], line[0])
		for i, cell := range line[1:] {
			fmt.Fprintf(w, "  %*s", width[i+1], cell)
		}
		fmt.Fprintln(w)
		if n > 0 {
			fmt.Fprintf(w, "  = %s\n", rows[n-1].Formula)
		}
	}
	fmt.Fprintln(w, "ka: keep-alive, ut: TCP_USER_TIMEOUT, rtx: retransmissions (tcp_retries2 15)")
}
