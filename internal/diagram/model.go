package diagram

import (
	"fmt"
	"strings"
)

// itemKind is what an item draws.
type itemKind int

const (
	arrow  itemKind = iota // a frame from one lifeline to the other
	mark                   // a word at one lifeline: a missed probe, a muted PING
	kernel                 // a word on the kernel's lane
	hold                   // a bar on the server's lifeline: a PING held before its PONG
	note                   // a line across the panel: a close, a note, an error
	dead                   // the verdict, a bar across the panel
)

// item is one thing drawn, at time t (and t1 for a hold).
type item struct {
	kind  itemKind
	t, t1 float64
	// toRight is an arrow's direction: from the client's (left) lifeline
	// to the server's (right), or back; for a mark, the lifeline it is at.
	toRight bool
	cross   bool   // an arrow that ends in a cross: its probe was missed
	class   string // CSS class: ping, pong, late, data, missed, closed, error, ...
	label   string
	seq     int64 // an arrow's PING or PONG number, 0 for none
}

// panel is one connection: two lifelines and what happened between them.
type panel struct {
	title       string // above the left lifeline
	left, right string // the lifelines' names
	start, end  float64
	ended       bool
	items       []*item
	dropped     int     // items dropped beyond MaxItems, the earliest
	pings       []*item // the latest PINGs, for a missed probe's cross and a PONG's hold
	hasKernel   bool    // draw the kernel's lane
}

// heartbeat is hbclient's heartbeat as the events tell it, for the timers
// running at the last event.
type heartbeat struct {
	on                        bool
	idle, interval, predicted float64
	probes                    int64
	kaPredicted               float64
	lastLife, lastRecv        float64
	probing                   bool
	missed                    int64
	nextSeq                   int64
	over                      bool
}

// keptPings is how many recent PINGs a panel remembers to match PONGs and
// missed probes with: the heartbeat has one in flight, a server a queue of
// a few.
const keptPings = 16

func (p *panel) add(it *item) {
	if len(p.items) == MaxItems {
		copy(p.items, p.items[1:])
		p.items = p.items[:MaxItems-1]
		p.dropped++
	}
	p.items = append(p.items, it)
}

// ping adds a PING arrow and remembers it.
func (p *panel) ping(it *item) {
	p.add(it)
	if len(p.pings) == keptPings {
		copy(p.pings, p.pings[1:])
		p.pings = p.pings[:keptPings-1]
	}
	p.pings = append(p.pings, it)
}

// findPing is the remembered PING numbered seq going the given way, or nil.
func (p *panel) findPing(seq int64, toRight bool) *item {
	for i := len(p.pings) - 1; i >= 0; i-- {
		if it := p.pings[i]; it.seq == seq && it.toRight == toRight {
			return it
		}
	}
	return nil
}

// lastPing is the latest PING going the given way, or nil.
func (p *panel) lastPing(toRight bool) *item {
	for i := len(p.pings) - 1; i >= 0; i-- {
		if p.pings[i].toRight == toRight {
			return p.pings[i]
		}
	}
	return nil
}

func (p *panel) close(t float64) {
	if !p.ended {
		p.ended, p.end = true, t
	}
}

func (d *Diagram) add(l *line) {
	t, name := *l.T, *l.Event
	if t > d.last {
		d.last = t
	}
	switch {
	case name == "listening" || l.Conn != nil || (d.kind == Server && name == "stopped"):
		d.addServer(t, name, l)
	case name == "connected" && d.kind == None:
		d.kind = Client
		d.connectClient(t, l)
	case d.kind == Client:
		d.addClient(t, name, l)
	}
}

func (d *Diagram) connectClient(t float64, l *line) {
	p := &panel{left: "client", right: "server", start: t, hasKernel: l.KeepAlive}
	p.title = fmt.Sprintf("%s to %s", l.Local, l.Remote)
	d.conns = append(d.conns, p)
	h := &d.hb
	*h = heartbeat{on: l.Heartbeat, idle: l.Idle, interval: l.Interval, probes: l.Probes,
		predicted: l.Predicted, kaPredicted: l.KAPredicted, lastLife: t, lastRecv: t, nextSeq: 1}
	rule := "heartbeat off"
	if h.on {
		rule = fmt.Sprintf("idle %s, interval %s, %d probes: DEAD %s after the last sign of life",
			secs(h.idle), secs(h.interval), h.probes, secs(h.predicted))
		if l.AcceptLate {
			rule += " (--accept-late: a late PONG is life)"
		} else {
			rule += " (strict: a late PONG is not life)"
		}
		d.unit = h.interval
	}
	if l.KeepAlive {
		rule += fmt.Sprintf("; keep-alive: DEAD %s after the last frame", secs(l.KAPredicted))
	}
	d.title = "hbclient: " + rule
}

// life is a sign of life at t: the idle timer starts again.
func (h *heartbeat) life(t float64) {
	h.lastLife, h.lastRecv, h.probing, h.missed = t, t, false, 0
}

func (d *Diagram) addClient(t float64, name string, l *line) {
	p, h := d.conns[0], &d.hb
	seq := int64(0)
	if l.Seq != nil {
		seq = *l.Seq
	}
	switch name {
	case "ping":
		p.ping(&item{kind: arrow, t: t, toRight: true, class: "ping", seq: seq, label: fmt.Sprintf("PING #%d", seq)})
		h.probing, h.nextSeq = true, seq+1
	case "pong":
		p.add(&item{kind: arrow, t: t, class: "pong", seq: seq, label: fmt.Sprintf("PONG #%d, RTT %s", seq, secs(l.RTT))})
		d.holdFor(p, seq, t, "")
		h.life(t)
	case "late_pong":
		it := &item{kind: arrow, t: t, class: "late", seq: seq}
		switch {
		case l.Unsolicited:
			it.label = "late: a PONG that answers no PING"
		case l.Alive:
			it.label = fmt.Sprintf("late PONG #%d, RTT %s: life (--accept-late)", seq, secs(l.RTT))
		default:
			it.label = fmt.Sprintf("late PONG #%d, RTT %s: not life", seq, secs(l.RTT))
		}
		p.add(it)
		if !l.Unsolicited {
			d.holdFor(p, seq, t, "")
		}
		h.lastRecv = t
		if l.Alive {
			h.life(t)
		}
	case "missed":
		d.missed(p, t, l, true)
		h.missed = l.Missed
	case "data":
		h.life(t)
		label := l.Name
		if seq != 0 && l.Answered != nil {
			label = fmt.Sprintf("server PING #%d", seq)
			if *l.Answered {
				label += ", answered"
			} else {
				label += ", not answered: send queue full"
			}
		}
		p.add(&item{kind: arrow, t: t, class: "data", label: label})
	case "kernel_probe":
		p.hasKernel = true
		p.add(&item{kind: kernel, t: t, class: "kernel", label: fmt.Sprintf("keep-alive probe %d/%d unanswered", l.Probe, l.Count)})
	case "kernel_retransmit":
		p.hasKernel = true
		label := fmt.Sprintf("retransmission %d", l.Retransmit)
		if l.RTO > 0 {
			label += ", RTO " + secs(l.RTO)
		}
		p.add(&item{kind: kernel, t: t, class: "kernel", label: label})
	case "dead":
		d.dead(p, t, l, "the last sign of life")
		h.over = true
	case "closed":
		p.add(&item{kind: note, t: t, class: "closed", label: "closed: " + l.Reason})
		p.close(t)
		h.over = true
	case "error":
		p.add(&item{kind: note, t: t, class: "error", label: errorText(l)})
		h.over = true
	case "note":
		p.add(&item{kind: note, t: t, class: "note", label: noteText(l)})
	case "dropped":
		p.add(&item{kind: note, t: t, class: "note", label: fmt.Sprintf("%d event lines dropped by the output", l.Lines)})
	}
}

// holdFor draws the time the PING numbered seq was held on the server's
// lifeline, up to its PONG at t.
func (d *Diagram) holdFor(p *panel, seq int64, t float64, label string) {
	if ping := p.findPing(seq, true); ping != nil && ping.t <= t {
		p.add(&item{kind: hold, t: ping.t, t1: t, class: "hold", label: label})
	}
}

// missed marks a missed probe where its interval ran out, and crosses the
// PING it was waiting for. atLeft is the side that sent the PING.
func (d *Diagram) missed(p *panel, t float64, l *line, atLeft bool) {
	label := fmt.Sprintf("missed %d/%d", l.Missed, l.Probes)
	p.add(&item{kind: mark, t: t, toRight: !atLeft, class: "missed", label: label})
	if ping := p.lastPing(atLeft); ping != nil && !ping.cross {
		ping.cross = true
		ping.class += " missed"
	}
}

func (d *Diagram) dead(p *panel, t float64, l *line, since string) {
	if l.Cause == "keepalive" || l.Cause == "user-timeout" || l.Cause == "retransmit" {
		since = "the last frame received"
	}
	label := fmt.Sprintf("DEAD (%s) at %s: observed %s after %s, predicted %s (%s)",
		l.Cause, secs(t), secs(l.Observed), since, secs(l.Predicted), signedMs(l.Observed-l.Predicted))
	p.add(&item{kind: dead, t: t, class: "dead", label: label})
}

func errorText(l *line) string {
	if l.From == "server" {
		return "the server's NOTICE: " + l.Error
	}
	return "error: " + l.Error
}

func noteText(l *line) string {
	parts := []string{"note: " + strings.ReplaceAll(l.Note, "_", " ")}
	for _, s := range []string{l.Severity, l.Fault, l.Warning, l.Text} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// addServer reads an hbserver event.
func (d *Diagram) addServer(t float64, name string, l *line) {
	if d.kind == None {
		d.kind = Server
		d.title = "hbserver"
	}
	if d.kind != Server {
		return
	}
	if l.Conn == nil {
		switch name {
		case "listening":
			d.title = fmt.Sprintf("hbserver on %s, SLEEP %s", l.Addr, secs(l.Sleep))
			d.unit = l.Sleep
		case "stopped":
			d.wide = append(d.wide, &item{kind: note, t: t, class: "closed", label: fmt.Sprintf("stopped: %d connections served", l.Connections)})
		case "note":
			d.wide = append(d.wide, &item{kind: note, t: t, class: "note", label: noteText(l)})
		case "error":
			d.wide = append(d.wide, &item{kind: note, t: t, class: "error", label: errorText(l)})
		case "dropped":
			d.wide = append(d.wide, &item{kind: note, t: t, class: "note", label: fmt.Sprintf("%d event lines dropped by the output", l.Lines)})
		}
		if len(d.wide) > MaxItems {
			d.wide = d.wide[len(d.wide)-MaxItems:]
		}
		return
	}
	p, ok := d.byID[*l.Conn]
	if !ok {
		if name != "connected" || len(d.conns) == d.opts.MaxConns {
			if name == "connected" {
				d.left++
			}
			return
		}
		p = &panel{title: fmt.Sprintf("conn %d, %s", *l.Conn, l.Peer), left: fmt.Sprintf("client %d", *l.Conn),
			right: "server", start: t}
		d.byID[*l.Conn] = p
		d.conns = append(d.conns, p)
		return
	}
	seq := int64(0)
	if l.Seq != nil {
		seq = *l.Seq
	}
	number := func(what string) string {
		if l.Seq == nil {
			return what
		}
		return fmt.Sprintf("%s #%d", what, seq)
	}
	switch name {
	case "ping":
		if l.Sent {
			p.ping(&item{kind: arrow, t: t, class: "ping", seq: seq, label: number("server PING")})
		} else {
			p.ping(&item{kind: arrow, t: t, toRight: true, class: "ping", seq: seq, label: number("PING")})
		}
	case "pong":
		if l.Received {
			p.add(&item{kind: arrow, t: t, toRight: true, class: "pong", label: fmt.Sprintf("%s, RTT %s", number("PONG"), secs(l.RTT))})
			return
		}
		p.add(&item{kind: arrow, t: t, class: "pong", label: fmt.Sprintf("%s after SLEEP", number("PONG"))})
		p.add(&item{kind: hold, t: t - l.Held, t1: t, class: "hold", label: "held " + secs(l.Held)})
	case "late_pong":
		p.add(&item{kind: arrow, t: t, toRight: true, class: "late", label: fmt.Sprintf("late %s, RTT %s", number("PONG"), secs(l.RTT))})
	case "missed":
		d.missed(p, t, l, false)
	case "data":
		p.add(&item{kind: arrow, t: t, toRight: true, class: "data", label: l.Name})
	case "dead":
		d.dead(p, t, l, "the last sign of life")
	case "closed":
		p.add(&item{kind: note, t: t, class: "closed", label: "closed: " + l.Reason})
		p.close(t)
	case "error":
		p.add(&item{kind: note, t: t, class: "error", label: errorText(l)})
	case "note":
		if l.Note == "muted" {
			p.add(&item{kind: mark, t: t, toRight: true, class: "missed", label: number("muted: PING") + " not answered"})
			return
		}
		p.add(&item{kind: note, t: t, class: "note", label: noteText(l)})
	}
}

// secs is a time in seconds to the millisecond: "10.000 s".
func secs(s float64) string { return fmt.Sprintf("%.3f s", s) }

// signedMs is a difference to the tenth of a millisecond: "+0.2 ms".
func signedMs(s float64) string { return fmt.Sprintf("%+.1f ms", s*1000) }
