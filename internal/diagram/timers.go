package diagram

import (
	"fmt"
	"strconv"
)

// timer is one running at the last event (see the package doc).
type timer struct {
	kind     string
	from, to float64
	label    string
}

// timers are hbclient's timers running at the last event: the idle timer
// or the interval of the PING in flight, and each detection layer's
// verdict should nothing more be heard.
func (d *Diagram) timers() []timer {
	h := &d.hb
	if d.kind != Client || h.over {
		return nil
	}
	var ts []timer
	if h.on {
		if !h.probing {
			ts = append(ts, timer{"idle", h.lastLife, h.lastLife + h.idle,
				fmt.Sprintf("idle: PING #%d due", h.nextSeq)})
		} else {
			due := h.lastLife + h.idle + float64(h.missed+1)*h.interval
			ts = append(ts, timer{"interval", due - h.interval, due,
				fmt.Sprintf("PING #%d: without its PONG, missed %d/%d", h.nextSeq-1, h.missed+1, h.probes)})
		}
		ts = append(ts, timer{"heartbeat", h.lastLife, h.lastLife + h.predicted, "heartbeat: DEAD if nothing more is heard"})
	}
	if h.kaPredicted > 0 {
		ts = append(ts, timer{"keepalive", h.lastRecv, h.lastRecv + h.kaPredicted, "keep-alive: DEAD if nothing more is received"})
	}
	return ts
}

// drawTimers draws the timers from y down, each a label, a bar and the
// time left at the last event.
func drawTimers(s *svg, ts []timer, y, width float64, now float64) {
	if len(ts) == 0 {
		return
	}
	s.text(axisW+10, y, "timers-head", "start", "running at "+secs(now)+":")
	full := width - axisW - 200
	for i, t := range ts {
		top := y + 20 + float64(i)*70
		left := t.to - now
		if left < 0 {
			left = 0
		}
		frac := 1.0
		if t.to > t.from {
			frac = left / (t.to - t.from)
		}
		if frac > 1 {
			frac = 1
		}
		s.f(`<g class="timer" data-timer="%s" data-from-s="%s" data-to-s="%s" data-label="%s">`+"\n",
			t.kind, sf(t.from), sf(t.to), esc(t.label))
		s.text(axisW+10, top+22, "timer-label", "start", t.label+" at "+secs(t.to))
		s.rect(axisW+10, top+32, full, 26, "timer-track")
		s.f(`<rect class="timer-bar" x="%s" y="%s" width="%s" height="26" data-width="%s"/>`+"\n",
			n(axisW+10), n(top+32), n(full*frac), n(full))
		s.text(axisW+full+24, top+52, "timer-count", "start", secs(left))
		s.f("</g>\n")
	}
}

// sf is a time in seconds for an attribute, exact.
func sf(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
