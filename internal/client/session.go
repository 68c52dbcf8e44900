package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/peer"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// received is one frame from the reader, or the error that ended reading.
type received struct {
	f   msg.Frame
	at  time.Time // when it arrived
	err error
}

// session is one connection's state between wake-ups. Run's loop owns it
// and calls one method per kind of wake-up: received (a frame or the
// reader's error), due (the heartbeat's timer), sent (the writer's report),
// tcpInfo (a TCP_INFO reading) and stopped (the context ended). Those that
// can end the run return its Result and true.
type session struct {
	ev     *event.Writer
	cfg    probe.Config
	kernel KernelSettings
	// in holds the heartbeat's machine and decides what each frame means.
	in    peer.Interpreter
	m     *probe.Machine // in.M
	out   *sender
	timer poll.Timer

	// start is the connect; last is the latest time an event was given.
	// Every event's time comes from one clock that never goes backwards: a
	// frame is stamped by the reader when it arrives and may reach the
	// loop after a later event, so its event takes the later time while
	// the machine is given the true one.
	start, last time.Time

	// probeFrame is our PING, its stamp rewritten for each probe.
	probeFrame outFrame

	// A PONG that comes while one of our PINGs is with the writer waits in
	// held until the writer says when that PING left: only then can the
	// machine tell an answer from a PONG sent before the PING was. Frames
	// are handled in order, so reading waits too; a peer that never reads
	// a PING while it sends PONGs is found dead on time. Nil: none held.
	held *received

	// What names the cause when the kernel gives up on the peer:
	// lastFrame is the last frame received (or the connect); firstWrite
	// the start of the first write since then, zero if none; firstRetrans
	// when TCP_INFO first showed a retransmission since then, zero if
	// none; info the last TCP_INFO read, zero if none.
	lastFrame, firstWrite, firstRetrans time.Time
	info                                sockopt.Info
}

// newSession starts the heartbeat at the connect, now, and gives the
// "connected" event and the warnings.
func newSession(conn net.Conn, opts Options) *session {
	ev := opts.Events
	if ev == nil {
		ev = event.Discard()
	}
	start := time.Now()
	s := &session{ev: ev, cfg: opts.Probe, kernel: opts.Kernel,
		in:    peer.Interpreter{M: probe.New(opts.Probe, start)},
		start: start, last: start, lastFrame: start}
	s.m = s.in.M
	s.probeFrame.f.SetType(msg.Ping)
	ev.Start(start)
	event.Emit(ev, 0, connected(conn, opts))
	for _, w := range opts.Warnings {
		event.Emit(ev, 0, event.Warning{Text: w})
	}
	return s
}

// connected is the first event: the addresses and the heartbeat's settings.
func connected(conn net.Conn, opts Options) event.ClientConnected {
	cfg := opts.Probe
	return event.ClientConnected{Local: conn.LocalAddr().String(), Remote: conn.RemoteAddr().String(),
		Heartbeat: cfg.Enabled(), Idle: cfg.Idle, Interval: cfg.Interval, Probes: cfg.Probes,
		AcceptLate: cfg.AcceptLate, DeadAfter: cfg.DeadAfter(), Timeout: cfg.Timeout, FixedRate: cfg.FixedRate,
		Life: lifeWords(cfg.Life), Like: opts.Like, LikeSettings: opts.LikeSettings, Kernel: opts.KernelInEffect,
		Jitter: cfg.Jitter, Seed: cfg.Seed, DeadAfterMin: cfg.DeadAfterMin()}
}

// lifeWords is the life rule for the connected line: empty for the
// default, any frame received.
func lifeWords(l probe.Life) string {
	if l == probe.LifeReceived {
		return ""
	}
	return l.String()
}

// readFrames reads whole frames from conn and hands each to frames, until
// an error (handed over too) or until done is closed; then it closes
// finished.
func readFrames(conn net.Conn, frames chan<- received, done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	in := &countingReader{r: conn}
	for {
		var r received
		r.err = msg.ReadFrame(in, &r.f)
		r.at = time.Now()
		if errors.Is(r.err, msg.ErrShortFrame) {
			r.err = fmt.Errorf("%w: %d of %d bytes", ErrMidFrame, in.n%msg.FrameSize, msg.FrameSize)
		}
		select {
		case frames <- r:
		case <-done:
			return
		}
		if r.err != nil {
			return
		}
	}
}

// clock turns at into an event's time since the connect, never earlier
// than the last one given.
func (s *session) clock(at time.Time) time.Duration {
	if at.After(s.last) {
		s.last = at
	}
	return s.last.Sub(s.start)
}

// rearm sets the timer to the heartbeat's next deadline.
func (s *session) rearm() { s.timer.Set(s.m.Deadline()) }

// stopped ends the run at now because ctx ended.
func (s *session) stopped(ctx context.Context, now time.Time) Result {
	reason := "stopped"
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		reason = cause.Error()
	}
	event.Emit(s.ev, s.clock(now), event.ConnClosed{Reason: reason})
	return Result{Outcome: Stopped}
}

// received handles what the reader handed over: a frame, or the end of
// reading. A PONG is held while one of our PINGs is with the writer.
func (s *session) received(r received) (Result, bool) {
	if typ, _ := r.f.Type(); r.err == nil && typ == msg.Pong && s.out.probes > 0 {
		s.held = &r
		return Result{}, false
	}
	return s.handle(r)
}

// handle handles one frame, or the reader's error, in its turn.
func (s *session) handle(r received) (Result, bool) {
	if r.err != nil {
		if errors.Is(r.err, io.EOF) {
			event.Emit(s.ev, s.clock(r.at), event.PeerClosed{})
			return Result{Outcome: PeerClosed}, true
		}
		if errors.Is(r.err, ErrMidFrame) {
			return fail(s.ev, s.clock(r.at), MidFrame, r.err), true
		}
		return s.failed(r.at, r.err), true
	}
	s.lastFrame, s.firstWrite, s.firstRetrans = r.at, time.Time{}, time.Time{}
	t := s.clock(r.at)
	mn := s.in.Frame(&r.f, r.at)
	if mn.Rearm {
		s.rearm()
	}
	for _, e := range mn.Events(s.cfg, s.start) {
		event.Emit(s.ev, t, e)
	}
	if mn.Reply {
		event.Emit(s.ev, t, event.ServerPingData{Seq: mn.Seq, Answered: s.out.trySend(outFrame{f: r.f})})
	}
	if mn.Ends {
		return Result{Outcome: mn.End, Err: fmt.Errorf("closed by the server: %s", mn.Text)}, true
	}
	return Result{}, false
}

// due runs the heartbeat's steps due at now: missed probes, PINGs, the
// verdict; first, a wake-up far past its deadline is a local stall, not
// the peer's silence (see probe.Machine.Stall).
func (s *session) due(now time.Time) (Result, bool) {
	t := s.clock(now)
	if late := s.m.Stall(now); late > 0 {
		event.Emit(s.ev, t, event.LocalStall{Late: late})
	}
	for st := s.m.Tick(now); st.Action != probe.Wait; st = s.m.Tick(now) {
		if st.Missed > 0 {
			event.Emit(s.ev, t, event.ProbeMissed{Missed: st.Missed, Probes: s.cfg.Probes, Interval: st.Waited})
		}
		if st.Action == probe.Dead {
			return s.heartbeatVerdict(t, st.Silence, st.Due), true
		}
		msg.Stamp{Seq: st.Seq, Sent: now}.Put(&s.probeFrame.f)
		s.probeFrame.seq = st.Seq
		if !s.out.trySend(s.probeFrame) {
			// Never sent, so never answered: the probe runs out on its
			// schedule and the verdict comes on time.
			s.m.Dropped(st.Seq)
			event.Emit(s.ev, t, event.SendStalled{Seq: st.Seq})
			continue
		}
		event.Emit(s.ev, t, event.PingSent{Seq: st.Seq, Due: s.m.Deadline().Sub(s.start)})
	}
	s.rearm()
	return Result{}, false
}

// heartbeatVerdict gives the heartbeat's verdict at t, after silence without
// life, against pred, when it was due (DeadAfter, less under jitter).
func (s *session) heartbeatVerdict(t, silence, pred time.Duration) Result {
	event.Emit(s.ev, t, event.HeartbeatDead{Probes: s.cfg.Probes, Observed: silence, Predicted: pred,
		LastLife: s.m.LastLife().Sub(s.start)})
	return Result{Outcome: HeartbeatDead, Observed: silence, Predicted: pred, Cause: ending.CauseHeartbeat}
}

// sent handles the writer's report on one frame. A write error ends the
// run; a PING's send time goes to the machine, and a held PONG is handled
// once none of our PINGs is with the writer.
func (s *session) sent(r sent) (Result, bool) {
	s.out.done(r)
	if r.err != nil {
		what := "answering the server's PING"
		switch {
		case r.seq != 0:
			what = fmt.Sprintf("sending PING #%d", r.seq)
		case r.hello:
			what = "sending the HELLO"
		}
		return s.failed(time.Now(), fmt.Errorf("%s: %w", what, r.err)), true
	}
	if r.seq != 0 {
		s.m.Sent(r.seq, r.at)
	} else {
		// Another frame left (the answer to the server's PING): under
		// probe.LifeSent it restarts the idle timer.
		s.m.SentFrame(r.at)
		s.rearm()
	}
	// The HELLO goes at the connect, while the peer is surely there: a
	// user timeout counted from it would be predicted long before the
	// kernel's, which counts from the oldest data not acknowledged.
	if s.firstWrite.IsZero() && !r.hello {
		s.firstWrite = r.at
	}
	if s.held != nil && s.out.probes == 0 {
		h := *s.held
		s.held = nil
		return s.handle(h)
	}
	return Result{}, false
}

// tcpInfo reports what changed since the last TCP_INFO reading, taken at
// now.
func (s *session) tcpInfo(now time.Time, info sockopt.Info) {
	before := s.info
	s.info = info
	reportKernel(s.ev, s.clock(now), s.kernel, before, info)
	if info.Retransmits > 0 && s.firstRetrans.IsZero() {
		s.firstRetrans = now
	}
}

// failed ends the run on an I/O error at at: the kernel's verdict when it
// gave up on the peer, otherwise an error.
func (s *session) failed(at time.Time, err error) Result {
	// The kernel gave up: ETIMEDOUT, or the ICMP error it last heard (an
	// established connection keeps ICMP unreachable as a soft error and
	// reports it only when it gives up).
	unreachable := errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
	if errors.Is(err, syscall.ETIMEDOUT) || unreachable {
		return kernelVerdict(s.ev, s.clock(at), at, s.kernel, s.info, s.lastFrame, s.firstWrite, s.firstRetrans, unreachable)
	}
	return fail(s.ev, s.clock(at), Failed, err)
}
