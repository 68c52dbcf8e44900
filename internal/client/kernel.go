package client

import (
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
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
			event.Emit(ev, t, event.KernelProbeOut{Probe: p, Count: k.KeepAlive.Count, LastDataRecv: now.LastDataRecv})
		}
	}
	// Where the OS does not count retransmissions (Windows) Retransmits
	// stays zero and none is reported; what it does not give of the rest
	// is left out, not shown as zero.
	for r := before.Retransmits + 1; r <= now.Retransmits; r++ {
		event.Emit(ev, t, event.KernelRetransmitted{Retransmit: r, Unacked: now.Unacked, RTO: now.RTO,
			HasUnacked: now.Has(sockopt.FieldUnacked), HasRTO: now.Has(sockopt.FieldRTO)})
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
	var first time.Duration
	if !firstRetrans.IsZero() {
		first = firstRetrans.Sub(lastFrame)
	}
	// What this OS's TCP_INFO does not give is said unknown or left out,
	// never shown as zero.
	event.Emit(ev, t, event.KernelDead{Cause: string(cause), Unreachable: unreachable, Observed: observed,
		Predicted: pred, FirstRetransmit: first, Info: event.TCPInfo{
			Probes: info.Probes, Retransmits: info.Retransmits, Unacked: info.Unacked, LastDataRecv: info.LastDataRecv,
			HasProbes: info.Has(sockopt.FieldProbes), HasRetransmits: info.Has(sockopt.FieldRetransmits),
			HasUnacked: info.Has(sockopt.FieldUnacked), HasLastDR: info.Has(sockopt.FieldLastDataRecv)}})
	return Result{Outcome: KernelDead, Observed: observed, Predicted: pred, Cause: cause}
}
