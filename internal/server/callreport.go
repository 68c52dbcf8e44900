package server

import (
	"fmt"

	"github.com/heartbeat/heartbeat/internal/event"
)

// reportCallback emits a calledBack happening.
func (c *conn) reportCallback(h *happening) {
	s := c.s
	s.ev.Emit(s.since(), event.Callback, fmt.Sprintf("%sCALLBACK sent after %s of silence (CALL tag %d)", c.tag(), h.dur, h.seq),
		c.fields(event.Secs("delay_s", h.dur), event.F("tag", h.seq))...)
}
