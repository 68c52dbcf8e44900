package server

// This file is what both backends (the epoll loop, server.go; the
// goroutine per connection, portable.go) share of the timeline: each
// happening's text and fields, the stats and the totals.

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/procstat"
)

// limitText says the connection limit in effect, which hbserver may have
// derived from the open-file limit without the user asking: the first
// sign of it should not be a client refused.
func limitText(maxConns int) string {
	if maxConns == 0 {
		return "no limit on connections (--max-conns 0)"
	}
	return fmt.Sprintf("at most %s open at once (--max-conns)", plural.Count(maxConns, "connection"))
}

func (s *srv) since() time.Duration { return time.Since(s.start) }

// stats emits a "stats" event every StatsEvery until ctx ends.
func (s *srv) stats(ctx context.Context) {
	t := time.NewTicker(s.cfg.StatsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		open := s.open.Load()
		p := procstat.Read()
		g := runtime.NumGoroutine()
		s.ev.Emit(s.since(), event.Stats,
			fmt.Sprintf("stats: %s open, %s, %s, RSS %d KiB", plural.Count(int(open), "connection"), plural.Count(g, "goroutine"), plural.Count(int(p.OpenFiles), "open file"), p.RSSKiB),
			event.F("conns", open), event.F("goroutines", g), event.F("open_files", p.OpenFiles), event.F("rss_kib", p.RSSKiB))
	}
}

// report emits the totals: connections served and closes per reason,
// each count before its reason ("3 over the connection limit"), so that a
// count is not read as part of the reason.
func (s *srv) report() {
	total := 0
	reasons := make([]ending.Reason, 0, len(s.counts))
	byReason := map[string]int{}
	for r, n := range s.counts {
		total += n
		reasons = append(reasons, r)
		byReason[r.String()] = n
	}
	// In the order of their texts, as the JSON object's keys are.
	slices.SortFunc(reasons, func(a, b ending.Reason) int { return strings.Compare(a.String(), b.String()) })
	text := fmt.Sprintf("stopped after serving %s", plural.Count(total, "connection"))
	for i, r := range reasons {
		sep := ", "
		if i == 0 {
			sep = "; closed: "
		}
		text += fmt.Sprintf("%s%d %s", sep, s.counts[r], r)
	}
	s.ev.Emit(s.since(), event.Stopped, text, event.F("connections", total), event.F("closed", byReason))
}

func ignored(t msg.Type) string {
	if t.Known() {
		return ""
	}
	return ", ignored"
}

func (c *conn) tag() string { return fmt.Sprintf("[#%d %s] ", c.id, c.peer) }

// fields are the connection's event fields, then fs.
func (c *conn) fields(fs ...event.Field) []event.Field {
	return append([]event.Field{event.F("conn", c.id), event.F("peer", c.peer)}, fs...)
}

// report gives a happening its text and fields, and emits it.
func (c *conn) report(h *happening) {
	s := c.s
	switch h.what {
	case pingReceived:
		s.ev.Emit(s.since(), event.Ping, c.tag()+h.ping.label()+" received", c.pingFields(&h.ping)...)
	case pongSent:
		s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG sent for %s, %s after the PING arrived", c.tag(), h.ping.label(), h.dur.Round(time.Microsecond)),
			append(c.pingFields(&h.ping), event.Secs("held_s", h.dur))...)
	case muted:
		s.ev.Emit(s.since(), event.Note, c.tag()+h.ping.label()+" not answered (--fault mute)", append(c.pingFields(&h.ping), event.F("note", "muted"))...)
	case dataReceived:
		s.ev.Emit(s.since(), event.Data, fmt.Sprintf("%s%v frame received%s", c.tag(), h.typ, ignored(h.typ)),
			c.fields(event.F("type", uint32(h.typ)), event.F("name", h.typ.String()))...)
	case clientPong:
		fs := c.fields(event.F("seq", h.seq), event.Secs("rtt_s", h.dur), event.F("received", true))
		if h.late {
			s.ev.Emit(s.since(), event.LatePong, fmt.Sprintf("%slate PONG #%d from the client, RTT %s", c.tag(), h.seq, h.dur.Round(time.Microsecond)), fs...)
		} else {
			s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG #%d from the client, RTT %s", c.tag(), h.seq, h.dur.Round(time.Microsecond)), fs...)
		}
	case told:
		s.ev.Emit(s.since(), event.Note, c.tag()+"told the client: "+h.text,
			c.fields(event.F("note", "notice"), event.F("severity", int(h.sev)), event.F("text", h.text))...)
	case faultOn:
		s.ev.Emit(s.since(), event.Note, fmt.Sprintf("%sfault: %s, from now on", c.tag(), s.cfg.Fault),
			c.fields(event.F("note", "fault"), event.F("fault", string(s.cfg.Fault)))...)
	case missed:
		s.ev.Emit(s.since(), event.Missed, fmt.Sprintf("%sprobe %d/%d of the client missed", c.tag(), h.n, s.cfg.Probe.Probes),
			c.fields(event.F("missed", h.n), event.F("probes", s.cfg.Probe.Probes))...)
	case deadByHeartbeat:
		cfg := s.cfg.Probe
		pred := cfg.DeadAfter()
		s.ev.Emit(s.since(), event.Dead,
			fmt.Sprintf("%sDEAD (heartbeat): client reaped, %s unanswered; observed %.3fs, predicted %.3fs",
				c.tag(), plural.Count(cfg.Probes, "probe"), h.dur.Seconds(), pred.Seconds()),
			c.fields(event.F("cause", "heartbeat"), event.Secs("observed_s", h.dur), event.Secs("predicted_s", pred))...)
	case pingSent:
		s.ev.Emit(s.since(), event.Ping, fmt.Sprintf("%sPING #%d sent to the client", c.tag(), h.seq),
			c.fields(event.F("seq", h.seq), event.F("sent", true))...)
	}
}

func (p *pingInfo) label() string {
	if !p.stamped {
		return "PING"
	}
	return fmt.Sprintf("PING #%d", p.seq)
}

func (c *conn) pingFields(p *pingInfo) []event.Field {
	if !p.stamped {
		return c.fields()
	}
	return c.fields(event.F("seq", p.seq))
}

// closed counts c's end, for reason (detail), and reports it; the backend
// has closed its socket.
func (s *srv) closed(c *conn, reason ending.Reason, detail string) {
	s.counts[reason]++
	s.open.Add(-1)
	if c.list != nil {
		c.list.remove(c)
	}
	text := c.tag() + "closed: " + reason.String()
	if detail != "" {
		text += " (" + detail + ")"
	}
	if s.shows(lineClosed) {
		s.ev.Emit(s.since(), event.Closed, text, c.fields(event.F("reason", reason.String()))...)
	}
}

// listening reports that the server listens on addr, and how it serves.
func (s *srv) listening(addr net.Addr) {
	s.ev.Emit(0, event.Listening,
		fmt.Sprintf("listening on %s; each PING is answered after %s; %s", addr, s.cfg.Sleep, limitText(s.cfg.MaxConns)),
		event.F("addr", addr.String()), event.Secs("sleep_s", s.cfg.Sleep), event.F("max_conns", s.cfg.MaxConns))
}

// greet sets the kernel options on c's socket, sc, reports the
// connection with what is in effect, and starts its policy at now.
func (s *srv) greet(c *conn, sc syscall.Conn, now time.Time) {
	text, kernelFields, err := s.setKernel(sc)
	if err != nil {
		s.ev.Emit(s.since(), event.Error, c.tag()+err.Error(), c.fields(event.F("error", err.Error()))...)
	}
	if s.shows(lineConnected) {
		s.ev.Emit(s.since(), event.Connected, c.tag()+"connected"+text, c.fields(kernelFields...)...)
	}
	c.start(now)
}
