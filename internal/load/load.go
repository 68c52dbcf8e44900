// Package load is hbclient's load mode: many connections to one server, each
// running the heartbeat, paced as they open, with one status line a second
// and a summary at the end.
//
// Example:
//
//	sum, err := load.Run(ctx, load.Config{Addr: "127.0.0.1:9000", Conns: 200, Rate: 100, Probe: cfg}, w)
//	if err == nil && sum.Dead > 0 { os.Exit(3) }
package load

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/plural"
)

// maxTotalSamples bounds the RTT samples kept for the summary's percentiles.
const maxTotalSamples = 1 << 22

// Run opens the connections and drives them until ctx ends, printing status
// lines and the summary to ev. The connections are driven by one event loop
// on Linux (loop.go), by a goroutine per connection elsewhere or with the
// build tag portable (portable.go); this goroutine only prints. The error is
// one that stops the whole run: an address that does not resolve, or the
// loop's own failure.
func Run(ctx context.Context, cfg Config, ev *event.Writer) (Summary, error) {
	every := cfg.Every
	if every <= 0 {
		every = time.Second
	}
	var t tally
	start := time.Now()
	loopDone, detect, err := drive(ctx, cfg, &t, start)
	if err != nil {
		return Summary{}, err
	}
	rate := cfg.rate()
	heartbeat := "heartbeat off"
	if cfg.Probe.Enabled() {
		heartbeat = fmt.Sprintf("heartbeat dead after %s (idle %s + %d x %s)",
			cfg.Probe.DeadAfter(), cfg.Probe.Idle, cfg.Probe.Probes, cfg.Probe.Interval)
	}
	ev.Emit(0, "load", fmt.Sprintf("load: %s to %s at %s, %s", plural.Count(cfg.Conns, "connection"), cfg.Addr, rateText(rate), heartbeat),
		event.F("conns", cfg.Conns), event.F("addr", cfg.Addr), event.F("rate", rate),
		optSecs("predicted_s", cfg.Probe.DeadAfter(), cfg.Probe.Enabled()))

	var all []time.Duration
	status := time.NewTicker(every)
	defer status.Stop()
	lastPings, last := int64(0), start
	for done := false; !done; {
		select {
		case err = <-loopDone:
			done = true
			continue
		case now := <-status.C:
			rtts := t.drain()
			if len(all) < maxTotalSamples {
				all = append(all, rtts[:min(len(rtts), maxTotalSamples-len(all))]...)
			}
			c := t.counts()
			pps, ppsOK := perSecond(c.Pings-lastPings, now.Sub(last))
			lastPings, last = c.Pings, now
			p50, p99 := percentiles(rtts)
			rttOK := len(rtts) > 0
			ev.Emit(now.Sub(start), "status",
				fmt.Sprintf("up %d/%d, %s, connect errors %d, %s PINGs/s%s, RTT p50 %s p99 %s",
					c.Connected, cfg.Conns, endsText(c), c.ConnectErrors, rateFigure(pps, ppsOK), latePongsText(c.LatePongs), stat(p50, rttOK), stat(p99, rttOK)),
				slices.Concat([]event.Field{event.F("up", c.Connected)}, endsFields(c), []event.Field{
					event.F("connect_errors", c.ConnectErrors), optF("pings_per_s", pps, ppsOK), event.F("late_pongs", c.LatePongs),
					optSecs("rtt_p50_s", p50, rttOK), optSecs("rtt_p99_s", p99, rttOK)})...)
		}
	}
	all = append(all, t.drain()...)
	s := t.counts()
	s.Conns, s.Elapsed = cfg.Conns, time.Since(start)
	s.Pending = s.Conns - s.Connected - s.ConnectErrors
	s.RTT50, s.RTT99 = percentiles(all)
	d := detect()
	s.DetectErr50, s.DetectErr99 = percentiles(d)
	if len(d) > 0 {
		s.DetectErrMax = slices.Max(d)
	}
	emitSummary(ev, s, len(all) > 0, len(d) > 0)
	return s, err
}

// emitSummary prints the summary; rttOK and detectOK say whether there
// were PONGs in time and verdicts, whose figures are otherwise "-" (null).
func emitSummary(ev *event.Writer, s Summary, rttOK, detectOK bool) {
	connErr := ""
	if s.FirstConnectError != "" {
		connErr = " (first: " + s.FirstConnectError + ")"
	}
	if s.Pending > 0 {
		connErr += fmt.Sprintf(", %d pending (handshakes under way or not begun)", s.Pending)
	}
	pps, ppsOK := perSecond(s.Pings, s.Elapsed)
	ev.Emit(s.Elapsed, "summary",
		fmt.Sprintf("summary: %s, %d connected, %s%s; %s; %s (%s/s)%s; RTT p50 %s p99 %s; detection error p50 %s p99 %s max %s",
			plural.Count(s.Conns, "connection"), s.Connected, plural.Count(s.ConnectErrors, "connect error"), connErr, endsText(s), plural.Count(int(s.Pings), "PING"), rateFigure(pps, ppsOK),
			latePongsText(s.LatePongs),
			stat(s.RTT50, rttOK), stat(s.RTT99, rttOK),
			stat(s.DetectErr50, detectOK), stat(s.DetectErr99, detectOK), stat(s.DetectErrMax, detectOK)),
		slices.Concat([]event.Field{
			event.F("conns", s.Conns), event.F("connected", s.Connected), event.F("connect_errors", s.ConnectErrors),
			event.F("first_connect_error", s.FirstConnectError), event.F("pending", s.Pending)},
			endsFields(s), []event.Field{
				event.F("pings", s.Pings), optF("pings_per_s", pps, ppsOK), event.F("late_pongs", s.LatePongs),
				optSecs("rtt_p50_s", s.RTT50, rttOK), optSecs("rtt_p99_s", s.RTT99, rttOK),
				optSecs("detect_err_p50_s", s.DetectErr50, detectOK), optSecs("detect_err_p99_s", s.DetectErr99, detectOK),
				optSecs("detect_err_max_s", s.DetectErrMax, detectOK)})...)
}

// endsText says, for the status and summary lines, how the connections
// that came up stand: alive, or how each ended.
func endsText(s Summary) string {
	warnings := ""
	if s.Warnings > 0 {
		warnings = fmt.Sprintf(", server warnings %d", s.Warnings)
	}
	return fmt.Sprintf("alive %d, dead %d, %s, failed %d, closed by server %d%s%s",
		s.Alive, s.Dead, neverAcceptedText(int64(s.NeverAccepted)), s.Failed, s.Closed, closedText(s), warnings)
}

// endsFields is endsText's JSON fields.
func endsFields(s Summary) []event.Field {
	return []event.Field{
		event.F("alive", s.Alive), event.F("dead", s.Dead), event.F("never_accepted", s.NeverAccepted),
		event.F("failed", s.Failed), event.F("closed", s.Closed), event.F("closed_mid_frame", s.ClosedMidFrame),
		event.F("closed_notices", s.ClosedNotices), event.F("first_close_reason", s.FirstCloseReason),
		event.F("warnings", s.Warnings),
	}
}

// latePongsText is the count of late or unsolicited PONGs for the status
// and summary lines, when there are any: PONGs that answered no probe in
// time do not show in the RTT, and a line that left them out would hide a
// server that floods them.
func latePongsText(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", late or unsolicited PONGs %d", n)
}

// neverAcceptedText is the count of connections never accepted and, when
// there are any, what they are, for the status and summary lines.
func neverAcceptedText(n int64) string {
	if n == 0 {
		return "never accepted 0"
	}
	return fmt.Sprintf("never accepted %d (the server's kernel never took them: its accept queue was full; not deaths)", n)
}

// closedText says how the server closed the connections it closed: how
// many in the middle of a frame, how many with a NOTICE and the first
// NOTICE's reason (quoted, so that a server cannot forge a line).
func closedText(s Summary) string {
	var parts []string
	if s.ClosedMidFrame > 0 {
		parts = append(parts, fmt.Sprintf("%d mid-frame", s.ClosedMidFrame))
	}
	if s.ClosedNotices > 0 {
		parts = append(parts, fmt.Sprintf("%d with a NOTICE, the first: %s", s.ClosedNotices, strconv.Quote(s.FirstCloseReason)))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// perSecond is n over d, to the tenth; not ok when d is not positive.
func perSecond(n int64, d time.Duration) (float64, bool) {
	if d <= 0 {
		return 0, false
	}
	return math.Round(float64(n)/d.Seconds()*10) / 10, true
}

// rateFigure is a rate for a text line: whole numbers, "-" when there is
// none.
func rateFigure(r float64, ok bool) string {
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}

// stat is a measured duration for a text line, "-" when there is none.
func stat(d time.Duration, ok bool) string {
	if !ok {
		return "-"
	}
	return d.Round(time.Microsecond).String()
}

// optF is a field whose value is null when there is none (not ok), so
// that no figure reads as a perfect zero.
func optF(key string, v any, ok bool) event.Field {
	if !ok {
		return event.F(key, nil)
	}
	return event.F(key, v)
}

// optSecs is event.Secs, or null when there is no figure.
func optSecs(key string, d time.Duration, ok bool) event.Field {
	return optF(key, event.Seconds(d), ok)
}

// percentiles returns the 50th and 99th percentiles (nearest rank); zero
// for no samples. It sorts d.
func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	rank := func(p int) time.Duration { return d[min(len(d)-1, (len(d)*p+99)/100-1)] }
	return rank(50), rank(99)
}

// openAt is when connection i (from zero) of a run that started at start
// is due to open.
func (c Config) openAt(start time.Time, i int) time.Time {
	r := c.rate()
	if r == 0 {
		return start
	}
	at := float64(i) / r * float64(time.Second)
	if at >= math.MaxInt64 {
		return start.Add(math.MaxInt64) // centuries away: never, in effect
	}
	return start.Add(time.Duration(at))
}

// rate is how many connections open a second; zero: as fast as they
// connect, which is also what a rate that is not a positive finite number
// means (so that none is printed as NaN, Inf or negative). It is not
// rounded: it is what the user asked for.
func (c Config) rate() float64 {
	if !(c.Rate > 0) || math.IsInf(c.Rate, 1) {
		return 0
	}
	return c.Rate
}

func rateText(r float64) string {
	if r <= 0 {
		return "full speed"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}
