package client

import (
	"fmt"
	"strings"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// reportKernel turns the change between two TCP_INFO readings into events:
// each keep-alive probe that went out unanswered, and each retransmission of
// unacknowledged data, so that a class sees the kernel's probes race the
// application's PINGs.
func reportKernel(ev *event.Writer, t time.Duration, k KernelSettings, before, now sockopt.Info) {
	// tcpi_probes counts keep-alive probes only while nothing is
	// unacknowledged; with data outstanding the kernel retransmits instead.
	// Only Linux counts them (FieldProbes): elsewhere no probe is reported.
	if k.KeepAlive.Enable && now.Has(sockopt.FieldProbes) && now.Unacked == 0 {
		for p := before.Probes + 1; p <= now.Probes; p++ {
			ev.Emit(t, event.KernelProbe,
				fmt.Sprintf("kernel keep-alive probe %d/%d unanswered (no data received for %s)",
					p, k.KeepAlive.Count, now.LastDataRecv),
				event.F("probe", p), event.F("count", k.KeepAlive.Count), event.Secs("last_data_recv_s", now.LastDataRecv))
		}
	}
	// Where the OS does not count retransmissions (Windows) Retransmits
	// stays zero and none is reported; what it does not give of the rest
	// is left out, not shown as zero.
	for r := before.Retransmits + 1; r <= now.Retransmits; r++ {
		var detail []string
		fields := []event.Field{event.F("retransmit", r)}
		if now.Has(sockopt.FieldUnacked) {
			detail = append(detail, plural.Count(now.Unacked, "segment")+" unacked")
			fields = append(fields, event.F("unacked", now.Unacked))
		}
		if now.Has(sockopt.FieldRTO) {
			detail = append(detail, fmt.Sprintf("RTO %s", now.RTO))
			fields = append(fields, event.Secs("rto_s", now.RTO))
		}
		text := fmt.Sprintf("kernel retransmission %d of unacknowledged data", r)
		if len(detail) > 0 {
			text += " (" + strings.Join(detail, ", ") + ")"
		}
		ev.Emit(t, event.KernelRetransmit, text, fields...)
	}
}

// kernelVerdict reports the kernel giving up on the peer (ETIMEDOUT, or
// EHOSTUNREACH when an ICMP error was the last word) and names
// the mechanism: with data unacknowledged, TCP_USER_TIMEOUT (when set) or
// the retransmission limit; otherwise keep-alive. The predicted time is
// measured, like the observed one, from the last frame received: for
// keep-alive idle + count x interval; for a user timeout, the first write
// after that frame (the oldest unacknowledged data) plus the timeout, as
// tcp(7) words it. Linux in fact counts from its first retransmission, a
// few hundred ms after the write (RTO, tail loss probe), so the verdict
// comes that much later; firstRetrans, when TCP_INFO saw it, is printed so
// that the difference can be read off.
func kernelVerdict(ev *event.Writer, t time.Duration, at time.Time, k KernelSettings, info sockopt.Info, lastFrame, firstWrite, firstRetrans time.Time, unreachable bool) Result {
	observed := at.Sub(lastFrame)
	// Unknown where this OS's TCP_INFO gives neither count.
	unacked := ending.UnackedUnknown
	switch {
	case info.Unacked > 0 || info.Retransmits > 0:
		unacked = ending.SomeUnacked
	case info.Has(sockopt.FieldUnacked) || info.Has(sockopt.FieldRetransmits):
		unacked = ending.NoneUnacked
	}
	cause := ending.KernelCause(k.KeepAlive.Enable, k.UserTimeout > 0, unacked)
	var pred time.Duration
	switch cause {
	case ending.CauseUserTimeout:
		pred = k.UserTimeout
		if !firstWrite.IsZero() {
			pred += firstWrite.Sub(lastFrame)
		}
	case ending.CauseKeepAlive:
		pred = k.KeepAlive.DeadAfterWith(k.UserTimeout)
	}
	why := "connection timed out"
	if unreachable {
		why = "host unreachable: the last ICMP error heard"
	}
	text := fmt.Sprintf("DEAD (%s): the kernel gave up (%s); observed %.3fs after the last frame received",
		cause, why, observed.Seconds())
	if pred > 0 {
		text += fmt.Sprintf(", predicted %.3fs (%+.1fms)", pred.Seconds(), float64(observed-pred)/1e6)
	}
	// What this OS's TCP_INFO does not give is said unknown or left out,
	// never shown as zero.
	before := []string{"keep-alive probes unknown on this OS"}
	if info.Has(sockopt.FieldProbes) {
		before[0] = plural.Count(int(info.Probes), "keep-alive probe") + " out"
	}
	if info.Has(sockopt.FieldRetransmits) {
		before = append(before, plural.Count(int(info.Retransmits), "retransmit"))
	}
	if info.Has(sockopt.FieldUnacked) {
		before = append(before, plural.Count(int(info.Unacked), "segment")+" unacked")
	}
	text += "; TCP_INFO before: " + strings.Join(before, ", ")
	if info.Has(sockopt.FieldLastDataRecv) {
		text += fmt.Sprintf(", last data received %s before", info.LastDataRecv)
	}
	fields := []event.Field{event.F("cause", string(cause)), event.Secs("observed_s", observed), event.Secs("predicted_s", pred),
		event.F("unreachable", unreachable)}
	if !firstRetrans.IsZero() {
		text += fmt.Sprintf("; first retransmission seen %.3fs after the last frame", firstRetrans.Sub(lastFrame).Seconds())
		fields = append(fields, event.Secs("first_retransmit_s", firstRetrans.Sub(lastFrame)))
	}
	if info.Has(sockopt.FieldRetransmits) {
		fields = append(fields, event.F("tcpi_retransmits", info.Retransmits))
	}
	if info.Has(sockopt.FieldUnacked) {
		fields = append(fields, event.F("tcpi_unacked", info.Unacked))
	}
	// Elsewhere left out: unknown, not zero.
	if info.Has(sockopt.FieldProbes) {
		fields = append(fields, event.F("tcpi_probes", info.Probes))
	}
	if info.Has(sockopt.FieldLastDataRecv) {
		fields = append(fields, event.Secs("tcpi_last_data_recv_s", info.LastDataRecv))
	}
	ev.Emit(t, event.Dead, text, fields...)
	return Result{Outcome: KernelDead, Observed: observed, Predicted: pred, Cause: cause}
}
