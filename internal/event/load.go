package event

// This file is the events of hbclient's load mode: what it is about to
// open, a status line a second, and the summary.

import (
	"strconv"
	"time"

	"github.com/heartbeat/heartbeat/internal/plural"
)

// LoadStart is the load mode's "load": Conns connections to Addr, Rate a
// second (0: as fast as they connect), with the heartbeat's settings.
type LoadStart struct {
	Conns          int
	Addr           string
	Rate           float64
	Heartbeat      bool // off under --probes 0: the settings below are not said
	Idle, Interval time.Duration
	Probes         int
	DeadAfter      time.Duration
	// Jitter, Seed and DeadAfterMin are as in ClientConnected; connection
	// i draws from Seed + i.
	Jitter       int
	Seed         uint64
	DeadAfterMin time.Duration
}

func (LoadStart) Name() string { return Load }

func (e LoadStart) AppendText(b []byte) []byte {
	b = append(b, "load: "...)
	b = append(b, plural.Count(e.Conns, "connection")...)
	b = append(b, " to "...)
	b = append(b, e.Addr...)
	b = append(b, " at "...)
	if e.Rate <= 0 {
		return append(b, "full speed"...)
	}
	b = strconv.AppendFloat(b, e.Rate, 'f', -1, 64)
	return append(b, "/s"...)
}

// AppendDetails is the heartbeat each connection runs, as hbclient's
// connected line says it.
func (e LoadStart) AppendDetails(b []byte) []byte {
	if !e.Heartbeat {
		return append(b, "heartbeat: off (--probes 0)"...)
	}
	b = append(b, "heartbeat: dead after "...)
	b = appendDeadRange(b, e.DeadAfterMin, e.DeadAfter, e.Jitter)
	b = append(b, " of silence\n  ("...)
	b = append(appendRule(b, e.Idle, e.Probes, e.Interval), ')')
	return appendJitter(b, "\n  ", "\n    ", e.Jitter, e.Seed)
}

func (e LoadStart) Fields(f *Fields) {
	f.Int("conns", int64(e.Conns))
	f.Str("addr", e.Addr)
	f.Any("rate", e.Rate)
	f.optSecs("predicted_s", e.DeadAfter, e.Heartbeat)
	jitterFields(f, e.Heartbeat, e.Jitter, e.Seed, e.DeadAfterMin)
}

// LoadEnds is how the connections of a load run that came up stand, for
// its status lines and its summary.
type LoadEnds struct {
	Alive, Dead int
	// NeverAccepted were found silent with a handshake the server's kernel
	// never completed (its accept queue was full): not deaths.
	NeverAccepted int
	Failed        int
	// Closed were closed by the server: ClosedMidFrame of them in the
	// middle of a frame, ClosedNotices with a closing NOTICE, the first
	// with FirstCloseReason.
	Closed, ClosedMidFrame, ClosedNotices int
	FirstCloseReason                      string
	Warnings                              int64 // warning NOTICEs received
}

// appendText appends how the connections stand: every count, then the
// explanations in brackets on lines of their own, when all (the summary);
// else alive and dead and only the other counts that are not zero (a
// status line a second stays short).
func (e LoadEnds) appendText(b []byte, all bool) []byte {
	return e.appendOthers(e.appendLive(b), all)
}

// appendLive appends how many are alive and how many dead.
func (e LoadEnds) appendLive(b []byte) []byte {
	b = append(b, "alive "...)
	b = strconv.AppendInt(b, int64(e.Alive), 10)
	b = append(b, ", dead "...)
	return strconv.AppendInt(b, int64(e.Dead), 10)
}

// appendOthers appends the counts after alive and dead: every one when all,
// else those that are not zero; with all, the explanations too.
func (e LoadEnds) appendOthers(b []byte, all bool) []byte {
	if all || e.NeverAccepted > 0 {
		b = append(b, ", never accepted "...)
		b = strconv.AppendInt(b, int64(e.NeverAccepted), 10)
	}
	if all || e.Failed > 0 {
		b = append(b, ", failed "...)
		b = strconv.AppendInt(b, int64(e.Failed), 10)
	}
	if all || e.Closed > 0 {
		b = append(b, ", closed by server "...)
		b = strconv.AppendInt(b, int64(e.Closed), 10)
	}
	if e.Warnings > 0 {
		b = append(b, ", server warnings "...)
		b = strconv.AppendInt(b, e.Warnings, 10)
	}
	if !all {
		return b
	}
	if e.NeverAccepted > 0 {
		b = append(b, "\n  (never accepted: the server's accept queue was full; not deaths)"...)
	}
	if e.ClosedMidFrame > 0 || e.ClosedNotices > 0 {
		b = append(b, "\n  (closed by server: "...)
		if e.ClosedMidFrame > 0 {
			b = strconv.AppendInt(b, int64(e.ClosedMidFrame), 10)
			b = append(b, " mid-frame"...)
		}
		if e.ClosedMidFrame > 0 && e.ClosedNotices > 0 {
			b = append(b, ", "...)
		}
		if e.ClosedNotices > 0 {
			// Quoted, so that a server cannot forge a line.
			b = strconv.AppendInt(b, int64(e.ClosedNotices), 10)
			b = append(b, " with a NOTICE, the first: "...)
			b = strconv.AppendQuote(b, e.FirstCloseReason)
		}
		b = append(b, ')')
	}
	return b
}

func (e LoadEnds) fields(f *Fields) {
	f.Int("alive", int64(e.Alive))
	f.Int("dead", int64(e.Dead))
	f.Int("never_accepted", int64(e.NeverAccepted))
	f.Int("failed", int64(e.Failed))
	f.Int("closed", int64(e.Closed))
	f.Int("closed_mid_frame", int64(e.ClosedMidFrame))
	f.Int("closed_notices", int64(e.ClosedNotices))
	f.Str("first_close_reason", e.FirstCloseReason)
	f.Int("warnings", e.Warnings)
}

// LoadRates are the figures of a status line or the summary. A figure
// without its Has is unknown: "-" in the text and null in JSON, so that
// none reads as a perfect zero.
type LoadRates struct {
	PingsPerS float64
	HasPPS    bool
	LatePongs int64 // late or unsolicited PONGs, said when there are any
	RTT50     time.Duration
	RTT99     time.Duration
	HasRTT    bool
}

// appendText appends the figures: for the summary (summary), the count of
// PINGs before their rate, and the late PONGs on a line of their own (a
// status line names them itself, after its other counts).
func (r LoadRates) appendText(b []byte, summary bool, pings int64) []byte {
	if summary {
		b = append(b, plural.Count(int(pings), "PING")...)
		b = append(b, " ("...)
		b = appendRate(b, r.PingsPerS, r.HasPPS)
		b = append(b, "/s)"...)
	} else {
		b = appendRate(b, r.PingsPerS, r.HasPPS)
		b = append(b, " PINGs/s"...)
	}
	if summary {
		b = append(b, "; RTT p50 "...)
	} else {
		b = append(b, ", RTT p50 "...)
	}
	b = appendStat(b, r.RTT50, r.HasRTT)
	b = append(b, " p99 "...)
	b = appendStat(b, r.RTT99, r.HasRTT)
	if r.LatePongs != 0 && summary {
		b = append(b, "\nlate or unsolicited PONGs "...)
		b = strconv.AppendInt(b, r.LatePongs, 10)
	}
	return b
}

// appendRate appends a rate in whole numbers, "-" when there is none.
func appendRate(b []byte, r float64, ok bool) []byte {
	if !ok {
		return append(b, '-')
	}
	return strconv.AppendFloat(b, r, 'f', 0, 64)
}

// appendStat appends a measured duration, "-" when there is none.
func appendStat(b []byte, d time.Duration, ok bool) []byte {
	if !ok {
		return append(b, '-')
	}
	return append(b, d.Round(time.Microsecond).String()...)
}

// optSecs writes d in seconds, or null when there is no figure (not ok).
func (f *Fields) optSecs(k string, d time.Duration, ok bool) {
	if !ok {
		f.Any(k, nil)
		return
	}
	f.Secs(k, d)
}

// optFloat writes v, or null when there is no figure (not ok).
func (f *Fields) optFloat(k string, v float64, ok bool) {
	if !ok {
		f.Any(k, nil)
		return
	}
	f.Any(k, v)
}

// LoadStatus is the load mode's "status": Up of Conns connections up, how
// they stand, and the last second's figures.
type LoadStatus struct {
	Up, Conns     int
	Ends          LoadEnds
	ConnectErrors int
	Rates         LoadRates
}

func (LoadStatus) Name() string { return Status }

// AppendText is how many are up, alive and dead, the rate and the round
// trip, then the other counts that are not zero.
func (e LoadStatus) AppendText(b []byte) []byte {
	b = append(b, "up "...)
	b = strconv.AppendInt(b, int64(e.Up), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(e.Conns), 10)
	b = append(b, ", "...)
	// What every line has first: how many live, the rate and the round
	// trip; then the counts that are not zero.
	b = append(e.Ends.appendLive(b), ", "...)
	b = e.Rates.appendText(b, false, 0)
	b = e.Ends.appendOthers(b, false)
	if e.ConnectErrors > 0 {
		b = append(b, ", connect errors "...)
		b = strconv.AppendInt(b, int64(e.ConnectErrors), 10)
	}
	// PONGs that answered no probe in time do not show in the RTT, and a
	// line that left them out would hide a server that floods them.
	if e.Rates.LatePongs != 0 {
		b = append(b, ", late or unsolicited PONGs "...)
		b = strconv.AppendInt(b, e.Rates.LatePongs, 10)
	}
	return b
}

func (e LoadStatus) Fields(f *Fields) {
	f.Int("up", int64(e.Up))
	e.Ends.fields(f)
	f.Int("connect_errors", int64(e.ConnectErrors))
	f.optFloat("pings_per_s", e.Rates.PingsPerS, e.Rates.HasPPS)
	f.Int("late_pongs", e.Rates.LatePongs)
	f.optSecs("rtt_p50_s", e.Rates.RTT50, e.Rates.HasRTT)
	f.optSecs("rtt_p99_s", e.Rates.RTT99, e.Rates.HasRTT)
}

// LoadSummary is the load mode's "summary": the totals at the end, and
// how far the verdicts were from their predicted instants (observed -
// predicted; unknown, without HasDetect, when none died).
type LoadSummary struct {
	Conns, Connected, ConnectErrors int
	FirstConnectError               string // empty: every handshake succeeded
	Pending                         int    // handshakes under way or not begun at the end
	Ends                            LoadEnds
	Pings                           int64
	Rates                           LoadRates
	DetectErr50, DetectErr99        time.Duration
	DetectErrMax                    time.Duration
	HasDetect                       bool
}

func (LoadSummary) Name() string { return Summary }

func (e LoadSummary) AppendText(b []byte) []byte {
	b = append(b, "summary: "...)
	b = append(b, plural.Count(e.Conns, "connection")...)
	b = append(b, ", "...)
	b = strconv.AppendInt(b, int64(e.Connected), 10)
	b = append(b, " connected, "...)
	b = append(b, plural.Count(e.ConnectErrors, "connect error")...)
	if e.Pending > 0 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(e.Pending), 10)
		b = append(b, " pending"...)
	}
	return b
}

// AppendDetails is the totals: how the connections ended, the PINGs and
// round trips, and the verdicts' distance from their predicted instants.
func (e LoadSummary) AppendDetails(b []byte) []byte {
	if e.FirstConnectError != "" {
		b = append(b, "  (first connect error: "...)
		b = append(b, e.FirstConnectError...)
		b = append(b, ")\n"...)
	}
	if e.Pending > 0 {
		b = append(b, "  (pending: handshakes under way or not begun)\n"...)
	}
	b = e.Ends.appendText(b, true)
	b = append(b, '\n')
	b = e.Rates.appendText(b, true, e.Pings)
	b = append(b, "\ndetection error p50 "...)
	b = appendStat(b, e.DetectErr50, e.HasDetect)
	b = append(b, " p99 "...)
	b = appendStat(b, e.DetectErr99, e.HasDetect)
	b = append(b, " max "...)
	return appendStat(b, e.DetectErrMax, e.HasDetect)
}

func (e LoadSummary) Fields(f *Fields) {
	f.Int("conns", int64(e.Conns))
	f.Int("connected", int64(e.Connected))
	f.Int("connect_errors", int64(e.ConnectErrors))
	f.Str("first_connect_error", e.FirstConnectError)
	f.Int("pending", int64(e.Pending))
	e.Ends.fields(f)
	f.Int("pings", e.Pings)
	f.optFloat("pings_per_s", e.Rates.PingsPerS, e.Rates.HasPPS)
	f.Int("late_pongs", e.Rates.LatePongs)
	f.optSecs("rtt_p50_s", e.Rates.RTT50, e.Rates.HasRTT)
	f.optSecs("rtt_p99_s", e.Rates.RTT99, e.Rates.HasRTT)
	f.optSecs("detect_err_p50_s", e.DetectErr50, e.HasDetect)
	f.optSecs("detect_err_p99_s", e.DetectErr99, e.HasDetect)
	f.optSecs("detect_err_max_s", e.DetectErrMax, e.HasDetect)
}
