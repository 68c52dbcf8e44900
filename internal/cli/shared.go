package cli

import (
	"errors"
	"math"
	"time"

	"github.com/spf13/pflag"

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
		return Needs(given, []string{"idle", "interval", "accept-late", "jitter"}, "--probes above 0 (the heartbeat is off without it)")
	}
	err := c.Validate()
	switch {
	case err == nil:
		return nil
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
