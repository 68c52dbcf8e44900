//go:build !linux || portable

package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/peer"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// The portable backend drives each connection from its own goroutine,
// which reads frames with a read deadline set to the heartbeat's next
// deadline (Go's timers), and a second goroutine that writes. It is what
// every OS but Linux uses, and Linux with the build tag portable.

// runner is one run's shared state on the portable backend.
type runner struct {
	cfg   Config
	addr  string // resolved once
	tally *tally
	start time.Time

	mu     sync.Mutex
	detect []time.Duration // every verdict's distance from its predicted instant
}

// drive opens the connections on their schedule and runs each in its own
// goroutines; done receives nil once every connection has ended or ctx has
// ended, and detect is then every verdict's distance from its predicted
// instant.
func drive(ctx context.Context, cfg Config, t *tally, start time.Time) (done <-chan error, detect func() []time.Duration, err error) {
	a, err := net.ResolveTCPAddr("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, err
	}
	r := &runner{cfg: cfg, addr: a.String(), tally: t, start: start}
	d := make(chan error, 1)
	go func() {
		var wg sync.WaitGroup
		r.open(ctx, &wg)
		wg.Wait()
		d <- nil
	}()
	return d, func() []time.Duration { return r.detect }, nil
}

// open starts each connection when it is due, until all are or ctx ends.
func (r *runner) open(ctx context.Context, wg *sync.WaitGroup) {
	wait := time.NewTimer(0)
	defer wait.Stop()
	for i := range r.cfg.Conns {
		wait.Reset(time.Until(r.cfg.openAt(r.start, i)))
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		wg.Go(func() { r.conn(ctx, i) })
	}
}

// conn dials connection number i and runs its heartbeat until it ends or ctx
// ends (then it stays counted alive, as on the event loop).
func (r *runner) conn(ctx context.Context, i int) {
	// KeepAlive -1: the kernel's keep-alive stays off, as on the event
	// loop; the heartbeat is the only judge.
	d := net.Dialer{Timeout: r.cfg.ConnectTimeout, KeepAlive: -1}
	c, err := d.DialContext(ctx, "tcp", r.addr)
	switch {
	case err != nil && errors.Is(err, syscall.ECONNRESET):
		// A reset answers only an established connection (a refused
		// handshake is ECONNREFUSED): it was up, and has failed.
		r.tally.connected()
		r.tally.ended(ending.IOError, "")
		return
	case err != nil:
		if ctx.Err() == nil {
			r.tally.connectError(connectErr(err))
		}
		return
	}
	defer c.Close()
	r.tally.connected()
	pc := &portableConn{r: r, c: c, core: peer.Interpreter{M: probe.New(r.cfg.probe(i), time.Now())},
		out: make(chan msg.Frame, 1), writeErr: make(chan error, 1)}
	wrote := make(chan struct{})
	go pc.write(wrote)
	defer func() { close(pc.out); c.Close(); <-wrote }()
	stop := context.AfterFunc(ctx, pc.wake)
	defer stop()
	end, reason, ok := pc.run(ctx)
	if ok {
		r.tally.ended(end, reason)
	}
}

// connectErr is a failed dial's error as the event loop words it:
// "connect: connection refused", "connect: i/o timeout".
func connectErr(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("connect: %w", oe.Err)
	}
	return err
}

// portableConn is one connection on the portable backend.
type portableConn struct {
	r    *runner
	c    net.Conn
	core peer.Interpreter
	// out holds the one frame waiting for the writer; a frame that finds
	// it full is not sent (the peer has stopped reading), as on the event
	// loop.
	out chan msg.Frame
	// writeErr receives the writer's error, at most one.
	writeErr chan error
	ping     msg.Frame
}

// wake makes a blocked read return at once, so that run sees ctx's end
// or the writer's error.
func (pc *portableConn) wake() { pc.c.SetReadDeadline(time.Unix(1, 0)) }

// run reads frames and gives the heartbeat its deadlines until the
// connection ends: how, and a closing NOTICE's reason. ok is false when
// ctx ended.
func (pc *portableConn) run(ctx context.Context) (end ending.Reason, reason string, ok bool) {
	var f msg.Frame
	have := 0
	for {
		pc.c.SetReadDeadline(pc.core.M.Deadline())
		// Checked after the deadline is set: a wake-up (ctx's end, the
		// writer's error) that came before it is seen here, one after it
		// ends the read.
		if ctx.Err() != nil {
			return 0, "", false
		}
		select {
		case <-pc.writeErr:
			return ending.IOError, "", true
		default:
		}
		n, err := pc.c.Read(f[have:])
		now := time.Now()
		if have += n; have == msg.FrameSize {
			have = 0
			mn := pc.core.Frame(&f, now)
			pc.r.tally.frame(mn)
			switch {
			case mn.Ends:
				return mn.End, mn.Text, true
			case mn.Reply:
				pc.send(f)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if end, ok := pc.tick(now); ok {
				return end, "", true
			}
		case err == io.EOF && have > 0:
			return ending.MidFrame, "", true
		case err == io.EOF:
			return ending.PeerClosed, "", true
		default:
			return ending.IOError, "", true
		}
	}
}

// tick does what the heartbeat asks for at now: PINGs, or the verdict,
// which ends the connection.
func (pc *portableConn) tick(now time.Time) (ending.Reason, bool) {
	m := pc.core.M
	for st := m.Tick(now); st.Action != probe.Wait; st = m.Tick(now) {
		if st.Action == probe.Dead {
			if pc.neverAccepted() {
				return ending.NeverAccepted, true
			}
			pc.r.mu.Lock()
			pc.r.detect = append(pc.r.detect, st.Silence-st.Due)
			pc.r.mu.Unlock()
			return ending.HeartbeatDead, true
		}
		pc.ping.SetType(msg.Ping)
		msg.Stamp{Seq: st.Seq, Sent: now}.Put(&pc.ping)
		if pc.send(pc.ping) {
			pc.r.tally.pings.Add(1)
		} else {
			// Never sent, so never answered: the probe runs out on its
			// schedule, as in the single connection mode.
			m.Dropped(st.Seq)
		}
	}
	return 0, false
}

// send hands f to the writer; false when the writer still has a frame.
func (pc *portableConn) send(f msg.Frame) bool {
	select {
	case pc.out <- f:
		return true
	default:
		return false
	}
}

// write writes the frames handed over until out is closed or a write
// fails; then it reports the error and wakes run.
func (pc *portableConn) write(done chan<- struct{}) {
	defer close(done)
	for f := range pc.out {
		if _, err := pc.c.Write(f[:]); err != nil {
			pc.writeErr <- err
			pc.wake()
			for range pc.out { // until run ends
			}
			return
		}
	}
}

// neverAccepted reads TCP_INFO where the OS has the fields (Linux); a
// doubt is a death.
func (pc *portableConn) neverAccepted() bool {
	sc, ok := pc.c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	never := false
	raw.Control(func(fd uintptr) { never = neverAccepted(fd) })
	return never
}
