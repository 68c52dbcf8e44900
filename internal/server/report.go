package server

// This file is what both backends (the epoll loop, server.go; the
// goroutine per connection, portable.go) share of the timeline: each
// happening as its event, the stats and the totals.

import (
	"context"
	"net"
	"runtime"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/procstat"
)

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
		p := procstat.Read()
		event.Emit(s.ev, s.since(), event.ServerStats{Conns: s.open.Load(), Goroutines: runtime.NumGoroutine(),
			OpenFiles: p.OpenFiles, RSSKiB: p.RSSKiB})
	}
}

// report emits the totals: connections served and closes per reason.
func (s *srv) report() {
	closed := make(map[string]int, len(s.counts))
	for r, n := range s.counts {
		closed[r.String()] = n
	}
	event.Emit(s.ev, s.since(), event.ServerStopped{Closed: closed})
}

// ref names c in its events.
func (c *conn) ref() event.Conn { return event.Conn{ID: c.id, Peer: c.peer} }

// emit emits e about c.
func emit[E event.Event](c *conn, e E) { event.Emit(c.s.ev, c.s.since(), event.On(c.ref(), e)) }

// emitLine emits e about c when show (the gate lets the line through);
// otherwise only the taps get it (a live page keeps its rows current).
func emitLine[E event.Event](c *conn, show bool, e E) { emitTagged(c, show, event.On(c.ref(), e)) }

// emitTagged is emitLine for an event already about c (event.On or
// event.OnDetailed).
func emitTagged[E event.Event](c *conn, show bool, e E) {
	if show {
		event.Emit(c.s.ev, c.s.since(), e)
		return
	}
	event.EmitTaps(c.s.ev, c.s.since(), e)
}

// report emits a happening as its event; when not show (the gate left
// its line out), to the taps only.
func (c *conn) report(h *happening, show bool) {
	switch h.what {
	case pingReceived:
		emitLine(c, show, event.PingReceived{Ping: h.ping.label()})
	case pongSent:
		emitLine(c, show, event.PongSent{Ping: h.ping.label(), Held: h.dur})
	case muted:
		emitLine(c, show, event.Muted{Ping: h.ping.label()})
	case dataReceived:
		emitLine(c, show, event.DataReceived{Type: h.typ})
	case clientPong:
		emitLine(c, show, event.ClientPong{Seq: h.seq, RTT: h.dur, Late: h.late})
	case told:
		emitLine(c, show, event.Told{Severity: h.sev, Text: h.text})
	case faultOn:
		emitLine(c, show, event.FaultOn{Fault: string(c.live.Fault)})
	case missed:
		emitLine(c, show, event.ClientMissed{Missed: h.n, Probes: c.s.cfg.Probe.Probes})
	case deadByHeartbeat:
		emitLine(c, show, event.ClientDead{Probes: c.s.cfg.Probe.Probes, Observed: h.dur, Predicted: c.s.cfg.Probe.DeadAfter()})
	case pingSent:
		emitLine(c, show, event.ServerPing{Seq: h.seq})
	case calledBack:
		c.reportCallback(h)
	case announced:
		c.reportHello(h)
	}
}

func (p *pingInfo) label() event.PingLabel { return event.PingLabel{Seq: p.seq, Stamped: p.stamped} }

// closed counts c's end, for reason (detail), and reports it; the backend
// has closed its socket.
func (s *srv) closed(c *conn, reason ending.Reason, detail string) {
	s.counts[reason]++
	s.open.Add(-1)
	if c.list != nil {
		c.list.remove(c)
	}
	emitLine(c, s.shows(lineClosed), event.ConnClosed{Reason: reason.String(), Detail: detail})
}

// listening reports that the server listens on addr, and how it serves.
func (s *srv) listening(addr net.Addr) {
	event.Emit(s.ev, 0, event.ServerListening{Addr: addr.String(), Sleep: s.cfg.Sleep, MaxConns: s.cfg.MaxConns,
		Like: s.cfg.Like, LikeSettings: s.cfg.LikeSettings})
}

// greet sets the kernel options on c's socket, sc, reports the
// connection with what is in effect, and starts its policy at now.
func (s *srv) greet(c *conn, sc syscall.Conn, now time.Time) {
	k, err := s.setKernel(sc)
	if err != nil {
		emit(c, event.Failed{Err: err.Error()})
	}
	emitTagged(c, s.shows(lineConnected), event.OnDetailed(c.ref(), event.ServerConnected{Kernel: k}))
	c.start(now)
}
