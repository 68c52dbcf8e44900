package server

import "github.com/heartbeat/heartbeat/internal/event"

// reportCallback emits a calledBack happening.
func (c *conn) reportCallback(h *happening) {
	emit(c, event.CallbackSent{Delay: h.dur, Tag: h.seq})
}
