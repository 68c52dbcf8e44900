package idlerun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/idle"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// How a probe makes its connection carry a packet after the gap:
//
//   - client-first: a CALL asking for its CALLBACK after 1ms; the CALL
//     goes out through the middlebox first, the CALLBACK comes back. Not
//     a PING: its PONG waits for the server's SLEEP, which may be
//     anything, and a CALLBACK does not.
//   - server-first: a CALL sent right after connecting asks for the
//     CALLBACK after the gap; nothing else is sent, so the CALLBACK is
//     the first packet after the silence, and it comes from the server.
//
// alive: the CALLBACK came within the wait. close: EOF (the middlebox's
// FIN, or the server's). reset: ECONNRESET. silent drop: nothing within
// the wait, or the kernel gave up retransmitting.
const roundTrip = time.Millisecond

// ended is a connection's end seen during a probe.
type ended struct {
	out idle.Outcome
	why string
}

// probeConn is one probe's connection.
type probeConn struct {
	c   *net.TCPConn
	t0  time.Time // when the silence began
	f   msg.Frame
	tag uint64
}

// runProbe runs pr on a connection of its own until it ends or ctx does.
func runProbe(ctx context.Context, cfg Config, pr idle.Probe) done {
	d := done{pr: pr}
	c, err := dial(ctx, cfg)
	if err != nil {
		d.err = err
		return d
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	pc := &probeConn{c: c, tag: uint64(pr.ID) + 1}
	if pr.Kind == idle.KeepAlive {
		err := sockopt.SetKeepAlive(c, sockopt.KeepAliveConfig{Enable: true, Idle: pr.Every, Interval: pr.Every, Count: 9})
		if err != nil {
			d.err = fmt.Errorf("%w: cannot turn keep-alive on: %w", ErrProbe, err)
			return d
		}
	}
	var e *ended
	switch {
	case pr.Kind == idle.Pings:
		e, err = pc.pings(pr, cfg.Wait)
	case pr.Dir == idle.In:
		e, err = pc.serverFirst(pr.Gap, cfg.Wait)
	default:
		e, err = pc.clientFirst(pr.Gap, cfg.Wait)
	}
	if ctx.Err() != nil {
		d.err = ctx.Err()
		return d
	}
	if err != nil {
		d.err = err
		return d
	}
	d.at = min(time.Since(pc.t0), pr.Gap)
	if e == nil {
		d.out, d.at = idle.Alive, pr.Gap
		return d
	}
	d.out, d.why = e.out, e.why
	if e.out == idle.Drop {
		d.at = pr.Gap
		d.why += evidence(c)
	}
	return d
}

// clientFirst stays silent for gap, then makes a round trip.
func (pc *probeConn) clientFirst(gap, wait time.Duration) (*ended, error) {
	pc.t0 = time.Now()
	if e, err := pc.quiet(pc.t0.Add(gap)); e != nil || err != nil {
		return e, err
	}
	return pc.roundTrip(wait)
}

// roundTrip sends a CALL for 1ms and waits for its CALLBACK.
func (pc *probeConn) roundTrip(wait time.Duration) (*ended, error) {
	if e := pc.send(msg.Call, roundTrip); e != nil {
		return e, nil
	}
	return pc.await(time.Now().Add(wait), "no CALLBACK within "+wait.String()+" of the CALL")
}

// checkCall makes one round trip on c, a CALL for 1ms and its CALLBACK,
// within wait: an error unless the server at addr answers CALLs.
func checkCall(ctx context.Context, c *net.TCPConn, addr string, wait time.Duration) error {
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	pc := &probeConn{c: c} // tag 0: no probe's
	e, err := pc.roundTrip(wait)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	if e != nil {
		return fmt.Errorf("%w: %s answered no CALL (%s): is it hbserver? (the seed server has no CALL)", ErrProbe, addr, e.why)
	}
	return nil
}

// serverFirst asks for a CALLBACK after gap and waits for it.
func (pc *probeConn) serverFirst(gap, wait time.Duration) (*ended, error) {
	if e := pc.send(msg.Call, gap.Truncate(time.Millisecond)); e != nil {
		return e, nil
	}
	pc.t0 = time.Now()
	return pc.await(pc.t0.Add(gap+wait), "no CALLBACK within "+wait.String()+" of its time")
}

// pings makes a round trip every pr.Every for pr.Gap, then one more:
// the heartbeat's traffic, a frame from the client answered by one from
// the server, which may keep the middlebox's state. A CALL for 1ms stands
// in for the PING: the server answers it at once, whatever its SLEEP,
// and never stops reading, as it would with PINGs waiting.
func (pc *probeConn) pings(pr idle.Probe, wait time.Duration) (*ended, error) {
	pc.t0 = time.Now()
	end := pc.t0.Add(pr.Gap)
	for next := pc.t0.Add(pr.Every); next.Before(end); next = next.Add(pr.Every) {
		if e, err := pc.quiet(next); e != nil || err != nil {
			return e, err
		}
		if e := pc.send(msg.Call, roundTrip); e != nil {
			return e, nil
		}
	}
	if e, err := pc.quiet(end); e != nil || err != nil {
		return e, err
	}
	return pc.roundTrip(wait)
}

// send writes a frame of typ (CALL) for delay.
func (pc *probeConn) send(typ msg.Type, delay time.Duration) *ended {
	msg.PutCall(&pc.f, typ, msg.CallInfo{Delay: delay, Tag: pc.tag})
	return pc.write()
}

func (pc *probeConn) write() *ended {
	if _, err := pc.c.Write(pc.f[:]); err != nil {
		e, _ := classify(err)
		if e == nil {
			return &ended{idle.Reset, "write: " + err.Error()}
		}
		return e
	}
	return nil
}

// quiet waits until until, reading what comes (a PONG, a warning), and
// says how the connection ended if it did meanwhile.
func (pc *probeConn) quiet(until time.Time) (*ended, error) {
	for {
		got, e, err := pc.read(until)
		if !got || e != nil || err != nil {
			return e, err
		}
	}
}

// await waits until by for a CALLBACK with this probe's tag; none is a
// silent drop, said with none.
func (pc *probeConn) await(by time.Time, none string) (*ended, error) {
	for {
		got, e, err := pc.read(by)
		if e != nil || err != nil {
			return e, err
		}
		if !got {
			return &ended{idle.Drop, none}, nil
		}
		if typ, _ := pc.f.Type(); typ == msg.Callback && msg.ReadCall(&pc.f).Tag == pc.tag {
			return nil, nil
		}
	}
}

// read reads one frame before by: got is false when by came first. A
// closing NOTICE is an error (the server refused or dropped us: the
// probe means nothing).
func (pc *probeConn) read(by time.Time) (got bool, e *ended, err error) {
	pc.c.SetReadDeadline(by)
	if err := msg.ReadFrame(pc.c, &pc.f); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false, nil, nil
		}
		e, err := classify(err)
		return false, e, err
	}
	if typ, _ := pc.f.Type(); typ == msg.Notice {
		if sev, text := msg.ReadNotice(&pc.f); sev == msg.Closing {
			return false, nil, fmt.Errorf("%w: the server closed the connection: %s", ErrProbe, text)
		}
	}
	return true, nil, nil
}

// classify says how a read or write error ended the connection; err is
// set for one that says nothing about the middlebox.
func classify(err error) (*ended, error) {
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, msg.ErrShortFrame):
		return &ended{idle.Close, "the connection was closed (FIN)"}, nil
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return &ended{idle.Reset, "the connection was reset (RST)"}, nil
	case errors.Is(err, syscall.ETIMEDOUT):
		return &ended{idle.Drop, "the kernel gave up retransmitting (ETIMEDOUT)"}, nil
	}
	return nil, fmt.Errorf("%w: %w", ErrProbe, err)
}

// evidence is TCP_INFO's account of a silent drop, where the OS gives
// one: data retransmitted and not acknowledged, the silence since data
// came.
func evidence(c *net.TCPConn) string {
	info, err := sockopt.TCPInfo(c)
	if err != nil || !info.Has(sockopt.FieldRetransmits|sockopt.FieldUnacked) {
		return ""
	}
	s := fmt.Sprintf("; TCP_INFO: %d retransmissions, %d unacknowledged segments", info.Retransmits, info.Unacked)
	if info.Has(sockopt.FieldLastDataRecv) {
		s += fmt.Sprintf(", nothing received for %s", info.LastDataRecv.Round(time.Millisecond))
	}
	return s
}
