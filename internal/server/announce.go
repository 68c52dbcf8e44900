package server

import (
	"fmt"
	"math"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// This file is the policy's HELLO rules (docs/PROTOCOL.md): a client
// announces its heartbeat, and the server holds it to what it said. Pure,
// as the rest of policy.go, and kept apart as call.go is.
//
// The window is MQTT's Keep Alive (MQTT 3.1.1, 3.1.2.10): the longest a
// live client goes without sending. hbclient sends a PING Idle after the
// last frame it heard and, while no PONG comes, one every Interval, so
// against a server that answers, the longest gap between its frames is
// the longer of the two. (Idle + Probes x Interval is when the client
// gives up on the server: the other direction.) An MQTT server closes a
// client silent for 1.5 x Keep Alive [MQTT-3.1.2-24]; here the factor is
// --reap-after-announced.

// announceState is what the client's HELLO said. The zero value: no HELLO.
type announceState struct {
	hello msg.HelloInfo
	// reapAfter is the silence that reaps the client, zero when none
	// does; reapBy is when, counted from its last frame.
	reapAfter time.Duration
	reapBy    time.Time
}

// window is the longest a client that announced h goes without sending
// while it lives; zero when it runs no heartbeat (it sends nothing
// unasked, so no silence says it is gone).
func window(h msg.HelloInfo) time.Duration {
	if h.Probes == 0 {
		return 0
	}
	return max(h.Idle, h.Interval)
}

// reapAfter is factor x the window of h; zero when the rule is off, the
// client runs no heartbeat, or the product does not fit a duration.
func reapAfter(h msg.HelloInfo, factor float64) time.Duration {
	d := float64(window(h)) * factor
	if d <= 0 || d >= math.MaxInt64/2 {
		return 0
	}
	return time.Duration(math.Ceil(d))
}

// hello takes a HELLO received at now: it is reported (a later one too,
// which replaces it, unless Quiet: the client controls how often), the
// reaping starts, and an announced PING rate above MinPingInterval is
// warned about at once.
func (p *policy) hello(e *effects, f *msg.Frame, now time.Time) {
	h := msg.ReadHello(f)
	first := p.said == announceState{}
	p.said = announceState{hello: h, reapAfter: reapAfter(h, p.cfg.ReapAfterAnnounced)}
	if p.said.reapAfter > 0 {
		p.said.reapBy = now.Add(p.said.reapAfter)
	}
	log := first || !p.cfg.Quiet
	if log {
		e.report(happening{what: announced, hello: h, dur: p.said.reapAfter})
	}
	if text := rateAdvice(h, p.cfg.MinPingInterval); text != "" {
		p.notify(e, msg.Warning, text, log)
	}
}

// rateAdvice is the warning for a client whose announced heartbeat will
// send PINGs faster than one per allowed: its --interval (a PING every
// Interval while no PONG comes) or its --idle (a PING Idle after each
// PONG), cut by its jitter, under allowed. It names the setting and the
// value to use, unlike gRPC's bare "too_many_pings". Empty when the
// client keeps to the rate or the rule is off.
func rateAdvice(h msg.HelloInfo, allowed time.Duration) string {
	if allowed <= 0 || h.Probes == 0 {
		return ""
	}
	// hbclient sends at most probe.MaxJitter; a larger one is taken as
	// that, so that no HELLO can ask for a wait cut to nothing.
	jitter := min(h.Jitter, probe.MaxJitter)
	for _, s := range []struct {
		name, what string
		d          time.Duration
	}{{"interval", "PING interval", h.Interval}, {"idle", "idle time before a PING", h.Idle}} {
		if probe.Shortest(s.d, jitter) >= allowed {
			continue
		}
		if jitter == 0 {
			return fmt.Sprintf("your %s %s is under this server's --min-ping-interval %s: use --%s %s or more",
				s.what, s.d, allowed, s.name, allowed)
		}
		return fmt.Sprintf("your %s %s, less up to %d%% of --jitter, is under this server's --min-ping-interval %s: use --%s %s or more",
			s.what, s.d, jitter, allowed, s.name, atLeast(allowed, jitter))
	}
	return ""
}

// atLeast is the shortest whole-millisecond wait that jitter percent (at
// most probe.MaxJitter) cannot cut below allowed.
func atLeast(allowed time.Duration, jitter int) time.Duration {
	d := (allowed * 100 / time.Duration(100-jitter)).Truncate(time.Millisecond)
	for probe.Shortest(d, jitter) < allowed {
		d += time.Millisecond
	}
	return d
}

// heardAnnounced restarts the reaping silence: any frame from the client
// counts, as any control packet does for MQTT's server.
func (p *policy) heardAnnounced(now time.Time) {
	if !p.said.reapBy.IsZero() {
		p.said.reapBy = now.Add(p.said.reapAfter)
	}
}

// reapDeadline is when the client is reaped if it stays silent; zero when
// it is not watched or the connection no longer serves.
func (p *policy) reapDeadline() time.Time {
	if p.state != serving {
		return time.Time{}
	}
	return p.said.reapBy
}

// reapDue reaps a client silent past its announced window: it is told why
// in a closing Notice, in case it is alive after all, and the close says
// so.
func (p *policy) reapDue(e *effects, now time.Time) {
	if p.state != serving || p.said.reapBy.IsZero() || now.Before(p.said.reapBy) {
		return
	}
	h := p.said.hello
	detail := fmt.Sprintf("nothing for %s: %g x the window its HELLO announced, %s (the longer of idle %s and interval %s; --reap-after-announced)",
		p.said.reapAfter, p.cfg.ReapAfterAnnounced, window(h), h.Idle, h.Interval)
	p.said.reapBy = time.Time{}
	p.notify(e, msg.Closing, ending.AnnouncedSilent.String()+": "+detail, true)
	p.linger(e, ending.AnnouncedSilent, detail, now)
}
