package server

import "github.com/heartbeat/heartbeat/internal/event"

// reportHello emits an announced happening.
func (c *conn) reportHello(h *happening) {
	hi := h.hello
	emitTagged(c, true, event.OnDetailed(c.ref(), event.ClientAnnounced{Idle: hi.Idle, Interval: hi.Interval,
		Probes: hi.Probes, AcceptLate: hi.AcceptLate, Jitter: hi.Jitter, Window: window(hi), ReapAfter: h.dur,
		Factor: c.s.cfg.ReapAfterAnnounced}))
}
