package cli

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/heartbeat/heartbeat/internal/preset"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// The ranges of the flags both tools have, each written once.
var (
	// HeartbeatTimes is --idle's and --interval's range. Below a
	// millisecond a heartbeat means nothing: the loop's own wake-up and a
	// loopback round trip take tens of microseconds, so such a peer is
	// "missed" while it answers.
	HeartbeatTimes = Durations{Min: time.Millisecond, Max: MaxDuration}
	// Probes is --probes' range; idle + probes x interval must also fit
	// a duration (probe.Config.Validate).
	Probes = Ints{Min: 0, Max: math.MaxInt}
	// KeepAliveTimes is the kernel's range for TCP_KEEPIDLE and
	// TCP_KEEPINTVL, in whole seconds.
	KeepAliveTimes = Durations{Min: time.Second, Max: 32767 * time.Second, Unit: time.Second, Zero: "the machine's default"}
	// KeepAliveCount is the kernel's range for TCP_KEEPCNT.
	KeepAliveCount = Ints{Min: 1, Max: 127, Zero: "the machine's default"}
	// UserTimeout is the kernel's range for TCP_USER_TIMEOUT, an int of
	// milliseconds.
	UserTimeout = Durations{Min: time.Millisecond, Max: math.MaxInt32 * time.Millisecond, Unit: time.Millisecond, Zero: "unset"}
)

// HeartbeatFlags defines --idle, --interval, --probes and --accept-late,
// in that order, on c. who says whose heartbeat it is in the usage ("" for
// the client's; "server heartbeat: ").
func HeartbeatFlags(fs *pflag.FlagSet, c *probe.Config, who, probesUsage string) {
	DurationVar(fs, &c.Idle, "idle", c.Idle, HeartbeatTimes, who+"silence before the first PING")
	DurationVar(fs, &c.Interval, "interval", c.Interval, HeartbeatTimes, who+"time each PING waits for its PONG before the next PING")
	IntVar(fs, &c.Probes, "probes", c.Probes, Probes, who+probesUsage)
	fs.BoolVar(&c.AcceptLate, "accept-late", c.AcceptLate, who+"count any frame, however late, as life (the seed client's rule)")
}

// MaxOutstanding is --max-outstanding's range.
var MaxOutstanding = Ints{Min: 1, Max: math.MaxInt, Zero: "no limit"}

// lifeNames are --life's values, in probe.Life's order.
var lifeNames = []string{"received", "pong", "sent"}

// parseLife reads --life.
func parseLife(s string) (probe.Life, error) {
	for i, n := range lifeNames {
		if s == n {
			return probe.Life(i), nil
		}
	}
	last := len(lifeNames) - 1
	return 0, errors.New("give " + strings.Join(lifeNames[:last], ", ") + " or " + lifeNames[last])
}

// RuleFlags defines the probe machine's rules, in that order: --life,
// --fixed-rate, --timeout, --max-outstanding (probe.Config documents
// each). Their zero values are the seed client's rules.
func RuleFlags(fs *pflag.FlagSet, c *probe.Config, who string) {
	fs.Var(rangeValue[probe.Life]{&c.Life, parseLife, func(l probe.Life) string { return lifeNames[l] }, "rule"}, "life",
		who+"what restarts the idle timer, received (any frame received), pong (only a PONG) or sent (any frame sent, as MQTT's client)")
	fs.BoolVar(&c.FixedRate, "fixed-rate", c.FixedRate, who+"send a PING every --interval whatever the traffic, not only after --idle of silence")
	DurationVar(fs, &c.Timeout, "timeout", c.Timeout, Durations{Min: time.Millisecond, Max: MaxDuration, Zero: "counted probes"},
		who+"one PING with a reply timeout, dead this long after the round's first PING (needs --probes 1; 0: counted probes)")
	IntVar(fs, &c.MaxOutstanding, "max-outstanding", c.MaxOutstanding, MaxOutstanding, who+"PINGs that may wait for their PONG at once (needs --timeout; 0: no limit)")
}

// LikeFlag defines --like, which takes the name of one of ps.
func LikeFlag(fs *pflag.FlagSet, p *string, ps []preset.Preset, what string) {
	parse := func(s string) (string, error) {
		if _, ok := preset.Find(ps, s); !ok {
			return "", errors.New("give " + preset.Names(ps))
		}
		return s, nil
	}
	fs.Var(rangeValue[string]{p, parse, func(s string) string { return s }, "system"}, "like",
		what+" (one of "+strings.ReplaceAll(preset.Names(ps), "|", ", ")+"); flags given win over its values")
}

// ApplyLike gives c, the kernel's keep-alive switch and the user timeout
// the values of the preset called name among ps, except those whose flag
// was given (pflag's Changed): explicit flags win. With kernel false
// (load mode runs the heartbeat only) the kernel's part is left out.
func ApplyLike(ps []preset.Preset, name string, c *probe.Config, keepAlive *bool, userTimeout *time.Duration, kernel bool, given func(string) bool) preset.Preset {
	p, _ := preset.Find(ps, name)
	p.Apply(c, given)
	if !kernel {
		return p
	}
	if p.KeepAlive && !given("keepalive") {
		*keepAlive = true
	}
	if p.UserTimeoutIsTimeout && c.Timeout > 0 && !given("user-timeout") {
		// TCP_USER_TIMEOUT counts whole milliseconds: round up.
		*userTimeout = (c.Timeout + time.Millisecond - 1).Truncate(time.Millisecond)
	}
	return p
}

// PresetHelp lists presets for a command's help: each name, the system it
// copies, which flag is which of its settings, and its formula.
func PresetHelp(ps []preset.Preset) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(hanging(fmt.Sprintf("  %-10s ", p.Name), p.System))
		b.WriteString(hanging(strings.Repeat(" ", 13), p.Flags))
		b.WriteString(hanging(strings.Repeat(" ", 13), "dead at "+p.Formula))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// hanging writes text after first, wrapped at DefaultWidth columns, its
// further lines indented as far as first is long: help fits 80 columns.
func hanging(first, text string) string {
	indent := strings.Repeat(" ", len(first))
	var b strings.Builder
	line := first
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > DefaultWidth {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line = indent
		}
		if len(line) > len(indent) && !strings.HasSuffix(line, " ") {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String()
}

// LikeSaid names the preset (--like), if any, whose values a usage error
// comes from: "--like grpc: --timeout is ...".
func LikeSaid(like string, err error) error {
	if like == "" {
		return err
	}
	return Usagef("--like %s: %w", like, err)
}

// KernelFlags defines --keepalive and its settings (on, idle, interval,
// count), then --user-timeout, in that order; each applies to every
// connection. The values are plain so that cli needs no OS package.
func KernelFlags(fs *pflag.FlagSet, enable *bool, idle, interval *time.Duration, count *int, userTimeout *time.Duration) {
	fs.BoolVar(enable, "keepalive", false, "turn kernel keep-alive (SO_KEEPALIVE) on")
	DurationVar(fs, idle, "keepalive-idle", 0, KeepAliveTimes, "TCP_KEEPIDLE, whole seconds (0: the machine's tcp_keepalive_time)")
	DurationVar(fs, interval, "keepalive-interval", 0, KeepAliveTimes, "TCP_KEEPINTVL, whole seconds (0: tcp_keepalive_intvl)")
	IntVar(fs, count, "keepalive-count", 0, KeepAliveCount, "TCP_KEEPCNT (0: tcp_keepalive_probes)")
	DurationVar(fs, userTimeout, "user-timeout", 0, UserTimeout, "TCP_USER_TIMEOUT: drop the connection when sent data stays unacknowledged this long (0: unset)")
}

// Needs refuses flags given without the one that gives them an effect
// ("--idle needs --probes above 0"), naming only those given: a flag that
// does nothing is a user's wrong belief about what the tool does. given
// reports whether a flag was on the command line (pflag's Changed).
func Needs(given func(name string) bool, names []string, need string) error {
	var set []string
	for _, n := range names {
		if given(n) {
			set = append(set, "--"+n)
		}
	}
	switch len(set) {
	case 0:
		return nil
	case 1:
		return Usagef("%s needs %s", set[0], need)
	}
	return Usagef("%s need %s", list(set, "and"), need)
}

// CheckProbe checks the heartbeat's flags together, naming them; with the
// heartbeat off (--probes 0), its other flags are refused.
func CheckProbe(c probe.Config, given func(name string) bool) error {
	if !c.Enabled() {
		return Needs(given, []string{"idle", "interval", "accept-late", "life", "fixed-rate", "timeout", "max-outstanding", "jitter"}, "--probes above 0 (the heartbeat is off without it)")
	}
	err := c.Validate()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, probe.ErrTimeoutProbes):
		return Usagef("--timeout is one PING's reply timeout: it needs --probes 1 (got %d)", c.Probes)
	case errors.Is(err, probe.ErrOutstandingNeedsTimeout):
		return Usagef("--max-outstanding needs --timeout: a counted probe is a PING sent")
	case errors.Is(err, probe.ErrTooLong) && c.Timeout > 0:
		return Usagef("--idle %v + --timeout %v: longer than %s, the longest wait there is", c.Idle, c.Timeout, showMax(MaxDuration))
	case errors.Is(err, probe.ErrTooLong):
		return Usagef("--idle %v + --probes %d x --interval %v: longer than %s, the longest wait there is",
			c.Idle, c.Probes, c.Interval, showMax(MaxDuration))
	}
	// Each setting's flag has the setting's name (HeartbeatFlags).
	var bad *probe.RangeError
	if errors.As(err, &bad) {
		return Usagef("--%s %s (got %v)", bad.Setting, bad.Rule, bad.Got)
	}
	return &UsageError{err}
}

// CheckKeepAlive checks the --keepalive flags of either tool: without
// --keepalive its settings are refused. Their ranges are the flags' own
// (KeepAliveTimes, KeepAliveCount).
func CheckKeepAlive(enable bool, given func(name string) bool) error {
	if !enable {
		return Needs(given, []string{"keepalive-idle", "keepalive-interval", "keepalive-count"}, "--keepalive")
	}
	return nil
}

// ReservedFiles are the file descriptors a tool keeps for itself (the
// listener, stdio, the runtime's poller, an --addr-file) out of the
// open-file limit when it counts the connections it can hold.
const ReservedFiles = 32
