package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// pingQueue bounds the PINGs waiting for their SLEEP on one connection. A
// client that sends more waits, as it would against the C server, which
// does not read while it sleeps.
const pingQueue = 64

// conn is one client's connection. Three goroutines share it: the reader
// (handle) reads frames; the responder answers PINGs one after another,
// each after SLEEP; the prober, when the server's heartbeat is on, owns the
// probe machine and its timer. Writes go through write, one at a time.
type conn struct {
	s     *srv
	c     net.Conn
	tag   string
	with  func(...event.Field) []event.Field
	fault *atomic.Bool

	wmu sync.Mutex

	// dead is set by the prober before it closes c, so that the reader
	// reports why the connection ended.
	dead atomic.Bool
	// writeErr is the first failed write's error, kept by the writer before
	// it closes c so that the reader reports the cause, not the close.
	writeErr atomic.Pointer[error]
	// queued counts PINGs handed to the responder and not yet answered; the
	// reader answers a PING itself only when it is zero, to keep the order.
	queued atomic.Int64
	// proberDone is closed when the prober returns, so that the reader
	// never waits on a prober that is gone.
	proberDone chan struct{}
}

func (k *conn) write(f *msg.Frame) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if err := k.c.SetWriteDeadline(time.Now().Add(k.s.cfg.WriteTimeout)); err != nil {
		return err
	}
	_, err := k.c.Write(f[:])
	return err
}

// writeFailed keeps err for the reader, then closes the connection, which
// ends the reader's wait.
func (k *conn) writeFailed(err error) {
	k.writeErr.CompareAndSwap(nil, &err)
	k.c.Close()
}

func (k *conn) faulted(f Fault) bool { return k.fault.Load() && k.s.cfg.Fault == f }

type heard struct {
	at   time.Time
	pong bool
	echo bool // a PONG that carries our stamp
	seq  uint64
}

// handle runs the connection until it ends and says why.
func (s *srv) handle(ctx context.Context, c net.Conn, tag string, with func(...event.Field) []event.Field, fault *atomic.Bool) (Reason, string) {
	k := &conn{s: s, c: c, tag: tag, with: with, fault: fault}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	pings := make(chan pending, pingQueue)
	wg.Go(func() { k.respond(ctx, pings) })
	defer close(pings)

	var heardc chan heard
	if s.cfg.Probe.Enabled() {
		heardc = make(chan heard, 16)
		k.proberDone = make(chan struct{})
		wg.Go(func() { defer close(k.proberDone); k.probe(ctx, heardc) })
	}

	var f msg.Frame
	var lastPing time.Time
	strikes := 0
	for {
		if fault.Load() && s.cfg.Fault == Freeze {
			<-ctx.Done() // a hung process does nothing, until shutdown
			return Shutdown, "frozen by --fault freeze"
		}
		if err := k.readFrame(&f); err != nil {
			if werr := k.writeErr.Load(); werr != nil {
				err = *werr
			}
			switch {
			case errors.Is(err, errFrameTimeout):
				return FrameTimeout, err.Error()
			case k.dead.Load():
				return HeartbeatDead, fmt.Sprintf("%d probes unanswered", s.cfg.Probe.Probes)
			case fault.Load() && s.cfg.Fault == Freeze:
				<-ctx.Done() // a hung process does nothing, until shutdown
				return Shutdown, "frozen by --fault freeze"
			case fault.Load() && s.cfg.Fault == ResetConn:
				return FaultReset, ""
			case fault.Load() && s.cfg.Fault == CloseConn:
				return FaultClose, ""
			}
			return s.classify(ctx, err)
		}
		now := time.Now()
		typ, _ := f.Type()
		switch typ {
		case msg.Ping:
			if allowed := s.cfg.MinPingInterval; allowed > 0 {
				gap := now.Sub(lastPing)
				if lastPing.IsZero() || gap >= allowed {
					strikes = 0
				} else {
					strikes++
					gap := gap.Round(time.Microsecond)
					rate := float64(time.Second) / float64(max(gap, time.Microsecond))
					if strikes >= PingStrikes {
						text := fmt.Sprintf("ping flood: %d PINGs in a row %s or less apart (about %.0f/s); this server allows one per %s (--min-ping-interval)",
							strikes, gap, rate, allowed)
						k.notify(msg.Closing, text)
						lingerClose(c)
						return PingFlood, text
					}
					k.notify(msg.Warning, fmt.Sprintf("too many pings: this PING came %s after the last (about %.0f/s); this server allows one per %s (--min-ping-interval); strike %d of %d",
						gap, rate, allowed, strikes, PingStrikes))
				}
				lastPing = now
			}
			p := pending{f: f, at: now, label: "PING"}
			if !s.cfg.Quiet {
				if st, ok := msg.ReadStamp(&f); ok {
					p.label, p.seq = fmt.Sprintf("PING #%d", st.Seq), st.Seq
				}
				s.ev.Emit(s.since(), event.Ping, tag+p.label+" received", p.fields(with)...)
			}
			// With no SLEEP and nothing queued, answer here: the hand-off
			// to the responder would cost two goroutine switches per PING.
			if s.cfg.Sleep == 0 && k.queued.Load() == 0 && !fault.Load() {
				f.SetType(msg.Pong)
				if err := k.write(&f); err != nil {
					return s.classify(ctx, err)
				}
				k.answered(&p)
			} else {
				k.queued.Add(1)
				select {
				case pings <- p:
				case <-ctx.Done():
					return s.classify(ctx, ctx.Err())
				}
			}
			k.tell(heardc, heard{at: now})
		case msg.Pong:
			h := heard{at: now, pong: true}
			if st, ok := msg.ReadStamp(&f); ok {
				h.echo, h.seq = true, st.Seq
			}
			k.tell(heardc, h)
		default:
			if !s.cfg.Quiet {
				s.ev.Emit(s.since(), event.Data, fmt.Sprintf("%s%v frame received%s", tag, typ, ignored(typ)),
					with(event.F("type", uint32(typ)), event.F("name", typ.String()))...)
			}
			k.tell(heardc, heard{at: now})
		}
	}
}

// errFrameTimeout means a client started a frame and did not finish it in
// time.
var errFrameTimeout = errors.New("frame not finished in time")

// readFrame reads one frame. With a FrameTimeout, it waits as long as need
// be for a frame's first byte, then gives the rest FrameTimeout to arrive.
func (k *conn) readFrame(f *msg.Frame) error {
	ft := k.s.cfg.FrameTimeout
	if ft <= 0 {
		return msg.ReadFrame(k.c, f)
	}
	if _, err := io.ReadFull(k.c, f[:1]); err != nil {
		return err // io.EOF between frames: a clean close
	}
	if err := k.c.SetReadDeadline(time.Now().Add(ft)); err != nil {
		return err
	}
	n, err := io.ReadFull(k.c, f[1:])
	if err == nil {
		err = k.c.SetReadDeadline(time.Time{})
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded) && !k.fault.Load():
		return fmt.Errorf("%w: %d of %d bytes in %s (--frame-timeout)", errFrameTimeout, n+1, msg.FrameSize, ft)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w (%d of %d bytes)", msg.ErrShortFrame, n+1, msg.FrameSize)
	}
	return err
}

// lingerClose ends a connection that the server gives up on without making
// the client lose the Notice just sent: closing with unread bytes would send
// a RST, which can overtake the Notice. So it sends FIN first, then reads and
// drops what the client still sends, for one second at most, then closes.
func lingerClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
		c.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, c)
	}
	c.Close()
}

// notify sends the client a Notice and logs it.
func (k *conn) notify(sev msg.Severity, text string) {
	var f msg.Frame
	msg.PutNotice(&f, sev, text)
	k.write(&f)
	k.s.ev.Emit(k.s.since(), event.Note, k.tag+"told the client: "+text,
		k.with(event.F("note", "notice"), event.F("severity", int(sev)), event.F("text", text))...)
}

// tell passes a received frame to the prober, if there is one. The channel
// is buffered and the prober only does arithmetic, so this rarely waits.
func (k *conn) tell(c chan heard, h heard) {
	if c != nil {
		select {
		case c <- h:
		case <-k.proberDone:
		}
	}
}

type pending struct {
	f     msg.Frame
	at    time.Time
	label string
	seq   uint64
}

func (p *pending) fields(with func(...event.Field) []event.Field) []event.Field {
	if p.label == "PING" {
		return with()
	}
	return with(event.F("seq", p.seq))
}

// respond answers the PINGs in order, each SLEEP after it arrived or after
// the previous answer, whichever is later: the C server's recv, sleep, send.
func (k *conn) respond(ctx context.Context, pings <-chan pending) {
	s := k.s
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for p := range pings {
		if ctx.Err() != nil {
			k.queued.Add(-1)
			continue // drain: the reader closes the queue
		}
		if s.cfg.Sleep > 0 {
			timer.Reset(s.cfg.Sleep)
			select {
			case <-timer.C:
			case <-ctx.Done():
				k.queued.Add(-1)
				continue // drain: the reader closes the queue
			}
		}
		if k.faulted(Freeze) || ctx.Err() != nil {
			k.queued.Add(-1)
			continue
		}
		if k.faulted(Mute) {
			k.queued.Add(-1)
			s.ev.Emit(s.since(), event.Note, k.tag+p.label+" not answered (--fault mute)", append(p.fields(k.with), event.F("note", "muted"))...)
			continue
		}
		p.f.SetType(msg.Pong) // the data stays: the PONG echoes the PING
		err := k.write(&p.f)
		k.queued.Add(-1)
		if err != nil {
			k.writeFailed(err)
			continue
		}
		k.answered(&p)
	}
}

// answered reports a PONG sent.
func (k *conn) answered(p *pending) {
	s := k.s
	if s.cfg.Quiet {
		return
	}
	held := time.Since(p.at)
	s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG sent for %s, %s after the PING arrived", k.tag, p.label, held.Round(time.Microsecond)),
		append(p.fields(k.with), event.Secs("held_s", held))...)
}

// probe is the server's own heartbeat: the same machine and rules as
// hbclient's, towards the client.
func (k *conn) probe(ctx context.Context, heardc <-chan heard) {
	s := k.s
	cfg := s.cfg.Probe
	m := probe.New(cfg, time.Now())
	timer := time.NewTimer(time.Until(m.Deadline()))
	defer timer.Stop()
	var ping msg.Frame
	ping.SetType(msg.Ping)
	rearm := func() {
		timer.Stop()
		if d := m.Deadline(); !d.IsZero() {
			timer.Reset(time.Until(d))
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case h := <-heardc:
			if !h.pong {
				if m.Frame(h.at) {
					rearm()
				}
				continue
			}
			a := m.Pong(h.at)
			if a.Alive {
				rearm()
			}
			fs := k.with(event.F("seq", a.Seq), event.Secs("rtt_s", a.RTT), event.F("received", true))
			if a.Late || a.Seq == 0 {
				s.ev.Emit(s.since(), event.LatePong, fmt.Sprintf("%slate PONG #%d from the client, RTT %s", k.tag, a.Seq, a.RTT.Round(time.Microsecond)), fs...)
			} else {
				s.ev.Emit(s.since(), event.Pong, fmt.Sprintf("%sPONG #%d from the client, RTT %s", k.tag, a.Seq, a.RTT.Round(time.Microsecond)), fs...)
			}
		case <-timer.C:
			if k.faulted(Freeze) {
				continue // a hung process sends nothing
			}
			now := time.Now()
			for st := m.Tick(now); st.Action != probe.Wait; st = m.Tick(now) {
				if st.Missed > 0 {
					s.ev.Emit(s.since(), event.Missed, fmt.Sprintf("%sprobe %d/%d of the client missed", k.tag, st.Missed, cfg.Probes),
						k.with(event.F("missed", st.Missed), event.F("probes", cfg.Probes))...)
				}
				if st.Action == probe.Dead {
					pred := cfg.DeadAfter()
					s.ev.Emit(s.since(), event.Dead,
						fmt.Sprintf("%sDEAD (heartbeat): client reaped, %d probes unanswered; observed %.3fs, predicted %.3fs",
							k.tag, cfg.Probes, st.Silence.Seconds(), pred.Seconds()),
						k.with(event.F("cause", "heartbeat"), event.Secs("observed_s", st.Silence), event.Secs("predicted_s", pred))...)
					k.dead.Store(true)
					k.c.Close()
					return
				}
				msg.Stamp{Seq: st.Seq, Sent: now}.Put(&ping)
				if err := k.write(&ping); err != nil {
					k.writeFailed(err)
					return
				}
				s.ev.Emit(s.since(), event.Ping, fmt.Sprintf("%sPING #%d sent to the client", k.tag, st.Seq),
					k.with(event.F("seq", st.Seq), event.F("sent", true))...)
			}
			rearm()
		}
	}
}
