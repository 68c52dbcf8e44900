package server

import (
	"fmt"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/plural"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// This file is the server's per-connection policies as a pure state
// machine, as package probe is: no I/O, no clock, no goroutines. Each
// method takes what happened at now and appends what to do to an effects;
// the event loop (conn.go) does it, in order, and tells the policy what
// came of its writes. So every rule below is tested with exact times
// (policy_test.go), and TestPolicyIsPure keeps this file free of I/O.

// maxOut bounds the output one connection may have waiting for its
// socket: a PONG's rest, a Notice, the server heartbeat's PINGs. PONGs wait
// in the queue, not here, while output waits, so a client that takes
// nothing while four frames' worth waits is not reading; it is closed as
// such, before WriteTimeout.
const maxOut = 4 * msg.FrameSize

// lingerFor is how long a connection the server gave up on is drained
// after its closing Notice, so that no RST overtakes the Notice.
const lingerFor = time.Second

type connState uint8

const (
	serving   connState = iota
	closing             // the peer sent its FIN: answering what is queued, then closing
	lingering           // told why it ends; draining until the peer closes or lingerFor
	frozen              // --fault freeze: neither read nor written until shutdown
	closed
)

// doKind is one kind of thing the policy asks the event loop to do.
type doKind uint8

const (
	sendPong     doKind = iota // send f, a PING turned into its PONG
	sendNotice                 // send a Notice of sev with text
	sendPing                   // send the server heartbeat's PING number seq, stamped at
	report                     // report what
	leave                      // the connection is on its way out (closing or lingering)
	startLinger                // shut the write side once output is out, then drain reads
	freeze                     // stop watching the connection
	discardIn                  // read and drop, up to a bound, what was never read
	end                        // close the connection for reason (detail)
	sendCallback               // send a CALLBACK echoing call
)

// todo is one thing to do. Only the fields of its kind are set.
type todo struct {
	kind   doKind
	f      *msg.Frame // sendPong: the caller's frame or a queue slot, valid until the next PING is queued
	sev    msg.Severity
	text   string // sendNotice
	seq    uint64 // sendPing
	at     time.Time
	what   happening     // report
	reason ending.Reason // end
	detail string
	call   msg.CallInfo // sendCallback
}

// effects collects what a call into the policy asks for, in order. The
// event loop keeps one, shared by every connection, and empties it after
// each call, so that a PING costs no allocation. It also lends the PING
// queues.
type effects struct {
	todo []todo
	// spareQueues are empty PING queues kept for reuse.
	spareQueues []*pingQueue
}

// happens names what a report is about.
type happens uint8

const (
	pingReceived    happens = iota // a PING came: ping
	pongSent                       // its PONG went: ping, dur (how long it was held)
	muted                          // a PING left unanswered by --fault mute: ping
	dataReceived                   // a frame the server does not answer: typ
	clientPong                     // the client's PONG to the server heartbeat: seq, dur (the RTT), late
	told                           // a Notice sent that the timeline shows: sev, text
	faultOn                        // --fault takes effect
	missed                         // probe n of the client's went unanswered: n
	deadByHeartbeat                // the client is dead: dur (its silence)
	pingSent                       // the server heartbeat's PING went: seq
	calledBack                     // a CALLBACK went: dur (the delay), seq (the tag)
	announced                      // a HELLO came: hello, dur (the silence that reaps it; zero: none)
)

// happening is a typed event; the event loop gives it its text and fields.
type happening struct {
	what happens
	ping pingInfo
	typ  msg.Type
	seq  uint64
	n    int
	dur  time.Duration // held, rtt or silence
	late bool
	sev  msg.Severity
	text string
	// hello is what the client announced (announced).
	hello msg.HelloInfo
}

// pingInfo is what the timeline says of a PING received.
type pingInfo struct {
	at      time.Time
	seq     uint64
	stamped bool // it carries our stamp, so seq is its number
}

// policy is one connection's rules: the SLEEP queue, the frame and write
// timeouts, the output bound, the PING rate, the fault, the server's
// heartbeat, the half-close and the linger. A deadline that is zero is
// not set. The zero value is not usable; call start.
type policy struct {
	cfg   *Config
	state connState

	// held is how many bytes of a frame have come; frameBy is when that
	// frame must be complete.
	held    int
	frameBy time.Time

	// pending is how many bytes of output the socket did not take yet, as
	// the event loop last said; unsent is how many sends were asked for
	// since, whose fate is not known yet. While output waits, PONGs wait
	// in the queue and the conn is not read. outBy is when it must have
	// moved.
	pending int
	unsent  int
	outBy   time.Time

	// queue holds the PINGs waiting for their SLEEP, in order; nil when
	// none waits.
	queue *pingQueue

	rate     pingRate  // MinPingInterval's schedule
	lastPing time.Time // when the last PING came, for the Notices

	m *probe.Machine // the server's heartbeat; nil when off

	// live is the connection's SLEEP and fault: the Config's, until a
	// command changes them (seen, the last taken; see takeLive).
	live    Live
	seen    *Live
	faultAt time.Time // when the fault takes effect; zero once it has
	faulted bool

	lingerBy time.Time
	reason   ending.Reason // why a lingering conn ends
	detail   string

	calls callState // a CALL waiting for its silence (call.go)

	said announceState // what the client's HELLO announced (announce.go)
}

// start begins serving a connection accepted at now: the server's
// heartbeat and the fault's clock (FaultAfter) start.
func (p *policy) start(now time.Time) {
	p.startLive()
	if p.cfg.Probe.Enabled() {
		p.m = probe.New(p.cfg.Probe, now)
	}
	if p.live.Fault != NoFault {
		p.faultAt = now.Add(p.cfg.FaultAfter)
	}
}

// startLive gives a connection accepted now the settings of the last
// command, or the Config's before any.
func (p *policy) startLive() {
	p.live = Live{Sleep: p.cfg.Sleep, Fault: p.cfg.Fault}
	if p.cfg.live == nil {
		return
	}
	if l := p.cfg.live.Load(); l != nil {
		p.seen, p.live = l, *l
	}
}

// takeLive gives the connection the settings of the last command, when
// one came since its last PING: the PING at now is the first under them.
// PINGs that wait keep their SLEEP; a new fault starts now, as --fault
// does after --fault-after, and a fault ended stops now (a frozen
// connection takes no PING, so it stays frozen). It reports whether the
// connection still serves.
func (p *policy) takeLive(e *effects, now time.Time) bool {
	if p.cfg.live == nil {
		return true
	}
	l := p.cfg.live.Load()
	if l == nil || l == p.seen {
		return true
	}
	p.seen = l
	p.live.Sleep = l.Sleep
	if l.Fault == p.live.Fault {
		return true
	}
	p.live.Fault, p.faultAt, p.faulted = l.Fault, time.Time{}, false
	if l.Fault != NoFault {
		p.fault(e, now)
	}
	return p.state == serving
}

func (e *effects) do(t todo) { e.todo = append(e.todo, t) }

func (e *effects) report(h happening) { e.todo = append(e.todo, todo{kind: report, what: h}) }

// reads reports whether the connection takes frames now: not while output
// waits (a client that does not read cannot make the server buffer
// more), nor while its queue is full.
func (p *policy) reads() bool {
	return p.state == serving && p.pending == 0 && p.unsent == 0 && (p.queue == nil || !p.queue.full())
}

// room is how many frames the connection may take now.
func (p *policy) room() int {
	if p.queue == nil {
		return maxQueued
	}
	return maxQueued - p.queue.n
}

// partial records that n bytes of a frame have come at now (zero: none).
// A frame's first byte may wait forever; from it, the rest gets
// FrameTimeout. fresh says the frame started in this read.
func (p *policy) partial(n int, fresh bool, now time.Time) {
	p.held = n
	if n == 0 {
		p.frameBy = time.Time{}
		return
	}
	if fresh && p.cfg.FrameTimeout > 0 {
		p.frameBy = now.Add(p.cfg.FrameTimeout)
	}
}

// frame handles one whole frame received at now. f stays the caller's
// until the effects are done; a PONG that echoes it at once is sent from it.
func (p *policy) frame(e *effects, f *msg.Frame, now time.Time) {
	typ, _ := f.Type()
	p.heard(now)
	p.heardAnnounced(now)
	switch {
	case typ == msg.Ping:
		p.ping(e, f, now)
	case typ == msg.Pong && p.m != nil:
		a := p.m.Pong(now)
		if !p.cfg.Quiet {
			e.report(happening{what: clientPong, seq: a.Seq, dur: a.RTT, late: a.Late || a.Seq == 0})
		}
	case typ == msg.Hello:
		if p.m != nil {
			p.m.Frame(now)
		}
		p.hello(e, f, now)
	default: // a PONG too when the server heartbeat is off: it answers nothing
		if !p.cfg.Quiet {
			e.report(happening{what: dataReceived, typ: typ})
		}
		if p.m != nil {
			p.m.Frame(now)
		}
		if typ == msg.Call {
			p.call(e, f, now)
		}
	}
}

// ping handles a PING: it is reported, checked against the rate, then
// answered now (SLEEP 0, nothing waiting) or in its turn.
func (p *policy) ping(e *effects, f *msg.Frame, now time.Time) {
	if p.m != nil {
		p.m.Frame(now)
	}
	pi := pingInfo{at: now}
	if !p.cfg.Quiet {
		if st, ok := msg.ReadStamp(f); ok {
			pi.seq, pi.stamped = st.Seq, true
		}
		e.report(happening{what: pingReceived, ping: pi})
	}
	if !p.takeLive(e, now) {
		return
	}
	if !p.rateKept(e, now) {
		return
	}
	if p.faulted && p.live.Fault == Mute {
		p.mute(e, &pi)
		return
	}
	if p.live.Sleep == 0 && p.queue == nil && p.pending == 0 && p.unsent == 0 {
		p.pong(e, f, &pi, now)
		return
	}
	// The C server's recv, sleep, send: SLEEP after the PING arrived or
	// after the previous answer, whichever is later. (With SLEEP 0 a PING
	// waits here only behind output that waits.) The event loop took no
	// more PINGs than there is room for.
	due := now.Add(p.live.Sleep)
	if p.queue == nil {
		p.queue = e.lendQueue()
	} else if last := p.queue.back().due; last.After(now) {
		due = last.Add(p.live.Sleep)
	}
	p.queue.push(pi, due, f)
}

// pong answers a PING with f, its frame, turned into the PONG: the data
// stays, so the PONG echoes the PING.
func (p *policy) pong(e *effects, f *msg.Frame, pi *pingInfo, now time.Time) {
	f.SetType(msg.Pong)
	p.unsent++
	e.do(todo{kind: sendPong, f: f})
	if p.m != nil {
		p.m.SentFrame(now) // under --life sent, a frame sent restarts the idle timer
	}
	if !p.cfg.Quiet {
		e.report(happening{what: pongSent, ping: *pi, dur: now.Sub(pi.at)})
	}
}

// mute reports a PING left unanswered by --fault mute.
func (p *policy) mute(e *effects, pi *pingInfo) {
	if !p.cfg.Quiet {
		e.report(happening{what: muted, ping: *pi})
	}
}

// rateKept applies --min-ping-interval to a PING that came at now: a PING
// ahead of the schedule is warned about with a Notice that names both
// rates and how many PINGs ahead the client is; PingStrikes ahead closes
// the connection. It reports whether the connection goes on.
func (p *policy) rateKept(e *effects, now time.Time) bool {
	allowed := p.cfg.MinPingInterval
	if allowed <= 0 {
		return true
	}
	ahead := p.rate.arrive(now, allowed)
	gap := now.Sub(p.lastPing)
	p.lastPing = now
	if ahead == 0 {
		return true
	}
	if ahead >= PingStrikes {
		// The reason is said once: the Notice begins with it, the closed
		// line gives it apart from the detail.
		detail := fmt.Sprintf("%d PINGs ahead of the rate, the last %s; --min-ping-interval allows one per %s",
			ahead, pace(gap), allowed)
		p.notify(e, msg.Closing, ending.PingFlood.String()+": "+detail, true)
		p.linger(e, ending.PingFlood, detail, now)
		return false
	}
	// A warning is a per-frame event, which the client controls: --quiet
	// leaves it out of the timeline (the client still gets it).
	p.notify(e, msg.Warning, fmt.Sprintf("too many pings: %s ahead of the rate, this one %s; --min-ping-interval allows one per %s; %d ahead closes the connection",
		plural.Count(ahead, "PING"), pace(gap), allowed, PingStrikes), !p.cfg.Quiet)
	return p.state == serving
}

// pace says how soon a PING came after the one before, gap. PINGs that
// arrive in one read share its time, so a gap of zero says that, not a
// rate it cannot know.
func pace(gap time.Duration) string {
	if gap <= 0 {
		return "in the same read as the one before"
	}
	gap = max(gap.Round(time.Microsecond), time.Microsecond)
	return fmt.Sprintf("%s after the one before, about %.0f/s", gap, float64(time.Second)/float64(gap))
}

// send asks for a frame other than a PONG to be sent. Behind output that
// waits it would wait too, and past maxOut the client is closed as one
// that does not read. It reports whether the connection goes on.
func (p *policy) send(e *effects, t todo) bool {
	if p.pending > 0 {
		if n := p.pending + (p.unsent+1)*msg.FrameSize; n > maxOut {
			p.stop(e, ending.WriteStalled, fmt.Sprintf("%d bytes wait to be sent, more than the %d a connection may hold", n, maxOut))
			return false
		}
	}
	p.unsent++
	e.do(t)
	return true
}

// notify sends the client a Notice and, when log is set, reports it.
func (p *policy) notify(e *effects, sev msg.Severity, text string, log bool) {
	if p.send(e, todo{kind: sendNotice, sev: sev, text: text}) && log {
		e.report(happening{what: told, sev: sev, text: text})
	}
}

// refuse tells a newcomer that the server is full, and gives up on it.
func (p *policy) refuse(e *effects, text string, now time.Time) {
	p.notify(e, msg.Closing, text, false)
	p.linger(e, ending.OverLimit, text, now)
}

// linger gives up on a connection, for reason, without making the client
// lose the Notice just sent, if any: closing with unread bytes would send
// a RST, which can overtake the Notice. So the event loop sends a FIN once
// the output is out, then reads and drops what the client still sends,
// until the client closes or lingerFor passes.
func (p *policy) linger(e *effects, reason ending.Reason, detail string, now time.Time) {
	if p.state == closed {
		return
	}
	p.state, p.reason, p.detail = lingering, reason, detail
	p.lingerBy = now.Add(lingerFor)
	e.returnQueue(p.queue)
	p.queue, p.m, p.frameBy = nil, nil, time.Time{}
	e.do(todo{kind: leave})
	e.do(todo{kind: startLinger})
}

// sent is the event loop's word on the output: pending bytes still wait
// for the socket after a send asked for (done) or after a write of what
// waited; moved says that the write took some or began the wait. Output
// that moves gets WriteTimeout again; once it is all out, the PONGs that
// waited behind it are answered.
func (p *policy) sent(e *effects, pending int, done, moved bool, now time.Time) {
	if done && p.unsent > 0 {
		p.unsent--
	}
	p.pending = pending
	switch {
	case pending == 0:
		p.outBy = time.Time{}
		p.answerDue(e, now)
	case moved:
		p.outBy = now.Add(p.cfg.WriteTimeout)
	}
}

// fail ends the connection for a failed read or write (reason, detail). A
// lingering one ends for the reason it was told, unless the telling
// itself is what failed.
func (p *policy) fail(e *effects, reason ending.Reason, detail string) {
	if p.state == lingering && p.unsent == 0 {
		reason, detail = p.reason, p.detail
	}
	p.end(e, reason, detail) // even when an end was decided: this write failed first
}

// drained ends a lingering connection whose peer has closed.
func (p *policy) drained(e *effects) { p.stop(e, p.reason, p.detail) }

// stop ends the connection now, unless it has ended.
func (p *policy) stop(e *effects, reason ending.Reason, detail string) {
	if p.state != closed {
		p.end(e, reason, detail)
	}
}

// end ends the connection for reason.
func (p *policy) end(e *effects, reason ending.Reason, detail string) {
	p.state = closed
	e.returnQueue(p.queue)
	p.queue, p.m = nil, nil
	p.frameBy, p.outBy, p.lingerBy, p.faultAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	e.do(todo{kind: end, reason: reason, detail: detail})
}

// evict ends a connection to make room for a newcomer: a lingering one
// for the reason it was told, a closing one with its remaining PINGs
// unanswered, a stalled one (a full queue, more unread) with them too.
func (p *policy) evict(e *effects) {
	// What the peer sent and nobody read goes first, so that the close is
	// a FIN: a RST could destroy the Notice a lingering one was sent.
	e.do(todo{kind: discardIn})
	if p.state == lingering {
		p.stop(e, p.reason, p.detail)
		return
	}
	if p.state == closing {
		p.stop(e, ending.OverLimit, "its peer had closed; ended early for a newcomer")
		return
	}
	// Stalled: a full queue and more sent (see srv.stalled).
	p.stop(e, ending.OverLimit, fmt.Sprintf("%d PINGs waited and it sent more; ended early for a newcomer", maxQueued))
}

// shutdown ends the connection as the server stops.
func (p *policy) shutdown(e *effects) {
	switch p.state {
	case lingering: // already told why; it ends for that reason
		p.stop(e, p.reason, p.detail)
	case frozen:
		p.stop(e, ending.Shutdown, "frozen by --fault freeze")
	case closing: // its peer had closed; the server only answered what was queued
		detail := ""
		if p.queue != nil {
			detail = plural.Count(p.queue.n, "PING") + " unanswered"
		}
		p.stop(e, ending.PeerClosed, detail)
	default:
		p.stop(e, ending.Shutdown, "")
	}
}

// deadline is the connection's earliest deadline; zero when none is set.
func (p *policy) deadline() time.Time {
	var at time.Time
	sooner := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	switch p.state {
	case lingering:
		return p.lingerBy
	case frozen, closed:
		return time.Time{}
	}
	sooner(p.frameBy)
	sooner(p.outBy)
	sooner(p.faultAt)
	if p.queue != nil && p.pending == 0 { // behind output, PONGs wait for it
		sooner(p.queue.front().due)
	}
	if p.m != nil {
		sooner(p.m.Deadline())
	}
	sooner(p.callDeadline())
	sooner(p.reapDeadline())
	return at
}

// expire does what is due at now.
func (p *policy) expire(e *effects, now time.Time) {
	if p.state == lingering {
		if !now.Before(p.lingerBy) {
			p.stop(e, p.reason, p.detail)
		}
		return
	}
	if p.state != serving && p.state != closing {
		return
	}
	switch {
	case !p.frameBy.IsZero() && !now.Before(p.frameBy):
		p.stop(e, ending.FrameTimeout, fmt.Sprintf("frame not finished in time: %d of %d bytes in %s (--frame-timeout)", p.held, msg.FrameSize, p.cfg.FrameTimeout))
		return
	case !p.outBy.IsZero() && !now.Before(p.outBy):
		p.stop(e, ending.WriteStalled, fmt.Sprintf("a write waited %s", p.cfg.WriteTimeout))
		return
	}
	if !p.faultAt.IsZero() && !now.Before(p.faultAt) {
		p.faultAt = time.Time{}
		p.fault(e, now)
		if p.state != serving {
			return
		}
	}
	p.answerDue(e, now)
	if p.m != nil && p.state == serving {
		p.tick(e, now)
	}
	p.callDue(e, now)
	p.reapDue(e, now)
}

// peerClosed handles the peer's FIN. Inside a frame it ends the
// connection ("peer closed mid-frame"). With nothing queued the connection
// ends now. Otherwise it is closing: the FIN may be a half-close (shutdown
// of the peer's sending side), and a half-closed peer still reads, so the
// PINGs queued are answered in their turn, as the C server would, and the
// connection ends after the last ("peer closed"). A FIN looks the same
// whether the peer has gone or only stopped sending; one that has gone
// answers the first PONG with a RST, which ends the connection ("reset by
// peer"). So a closing connection stays at most maxQueued x SLEEP after
// the FIN (a gone peer's at most SLEEP), plus WriteTimeout when its
// output waits; it reads nothing more and is on its way out, so a
// newcomer may take its place (see Config.MaxConns): clients that have
// gone never fill MaxConns.
func (p *policy) peerClosed(e *effects, now time.Time) {
	if p.held > 0 {
		p.stop(e, ending.MidFrame, fmt.Sprintf("stream ended in the middle of a frame (%d of %d bytes)", p.held, msg.FrameSize))
		return
	}
	if p.queue == nil && p.pending == 0 && p.unsent == 0 {
		p.stop(e, ending.PeerClosed, "")
		return
	}
	p.state = closing
	e.do(todo{kind: leave})
	p.m, p.faultAt, p.frameBy = nil, time.Time{}, time.Time{} // the peer sends nothing more
	p.answerDue(e, now)
}

// answerDue sends the PONGs whose SLEEP is over, in order, unless output
// waits. A PONG's fate is known only once the event loop has sent it, so
// one is asked for at a time; sent asks for the next. A closing
// connection ends once its last PONG is out.
func (p *policy) answerDue(e *effects, now time.Time) {
	for (p.state == serving || p.state == closing) && p.pending == 0 && p.unsent == 0 && p.queue != nil && !p.queue.front().due.After(now) {
		q := p.queue.front()
		p.queue.pop() // q stays valid until the next push, after the send
		if p.faulted && p.live.Fault == Mute {
			p.mute(e, &q.pingInfo)
		} else {
			p.pong(e, &q.f, &q.pingInfo, now)
		}
		if p.queue.n == 0 {
			e.returnQueue(p.queue)
			p.queue = nil
		}
	}
	if p.state == closing && p.queue == nil && p.pending == 0 && p.unsent == 0 {
		e.do(todo{kind: discardIn})
		p.stop(e, ending.PeerClosed, "")
	}
}

// tick runs the server's heartbeat: PINGs due, probes missed, the verdict.
func (p *policy) tick(e *effects, now time.Time) {
	cfg := p.cfg.Probe
	for st := p.m.Tick(now); st.Action != probe.Wait; st = p.m.Tick(now) {
		if st.Missed > 0 {
			e.report(happening{what: missed, n: st.Missed})
		}
		if st.Action == probe.Dead {
			e.report(happening{what: deadByHeartbeat, dur: st.Silence})
			p.stop(e, ending.HeartbeatDead, plural.Count(cfg.Probes, "probe")+" unanswered")
			return
		}
		if !p.send(e, todo{kind: sendPing, seq: st.Seq, at: now}) {
			return
		}
		if !p.cfg.Quiet {
			e.report(happening{what: pingSent, seq: st.Seq})
		}
	}
}

// fault makes the connection misbehave as its fault (--fault, or a
// command) says.
func (p *policy) fault(e *effects, now time.Time) {
	p.faulted = true
	e.report(happening{what: faultOn})
	switch p.live.Fault {
	case Freeze:
		// A hung process: nothing read, nothing written; the kernel still
		// ACKs until the receive buffer fills.
		p.state = frozen
		e.returnQueue(p.queue)
		p.queue, p.m, p.frameBy, p.outBy = nil, nil, time.Time{}, time.Time{}
		e.do(todo{kind: freeze})
	case ResetConn:
		p.stop(e, ending.FaultReset, "")
	case CloseConn:
		// A FIN, then what the client still sends is drained: closing
		// with its PINGs unread would send a RST instead.
		p.linger(e, ending.FaultClose, "", now)
	}
}
