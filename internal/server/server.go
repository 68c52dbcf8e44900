// Package server is hbserver's core: it accepts any number of clients and
// answers each PING with a PONG after a fixed delay, as the seed C server
// does, but for every client at once, each on its own goroutine.
//
// Per connection the PINGs are answered serially, like the C server's loop
// of recv, sleep, send: a PING that arrives during a delay waits its turn.
// The PONG echoes the PING's data, so a client can check which PING it
// answers. TYPE1, TYPE2 and unknown types are reported and otherwise ignored.
//
// Example:
//
//	ln, _ := net.Listen("tcp", "127.0.0.1:0")
//	err := server.Serve(ctx, ln, server.Config{Sleep: 5 * time.Second, Events: w})
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/probe"
	"github.com/heartbeat/heartbeat/internal/procstat"
	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// DefaultWriteTimeout bounds how long a frame may wait for a client that
// does not read: past it the client is closed, so that it cannot hold a
// goroutine and a buffer forever.
const DefaultWriteTimeout = 10 * time.Second

// Config configures Serve.
type Config struct {
	// Sleep is the delay before each PONG (the seed server's SLEEP
	// argument). Zero answers at once; negative is invalid.
	Sleep time.Duration
	// Events receives the timeline. Nil discards it.
	Events *event.Writer
	// Probe is the server's own heartbeat towards each client. The zero
	// value (Probes 0) turns it off, as in the seed C server.
	Probe probe.Config
	// KeepAlive and UserTimeout are the kernel's detectors, set on every
	// accepted connection and read back. The zero values leave keep-alive
	// off and no user timeout, the kernel's defaults.
	KeepAlive   sockopt.KeepAliveConfig
	UserTimeout time.Duration
	// Quiet leaves out the per-frame events (PING received, PONG sent, data),
	// which cost more than the frames themselves under load; connections,
	// closes, notes and totals are still reported.
	Quiet bool
	// WriteTimeout is how long a write may wait for a client that does not
	// read before the client is closed. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// StatsEvery, when positive, emits a "stats" event this often: open
	// connections, goroutines, open files and resident memory.
	StatsEvery time.Duration
	// MaxConns is how many connections may be open at once; one more is
	// sent a closing Notice that says so and closed. Zero means no limit
	// (hbserver's default is what the open-file limit allows).
	MaxConns int
	// FrameTimeout is how long a client may take to finish a frame it has
	// started; past it the connection is closed, so that one byte at a time
	// does not hold a connection. Zero means no limit.
	FrameTimeout time.Duration
	// MinPingInterval is the shortest gap allowed between a client's PINGs.
	// Each PING sooner than that is a strike and is warned about with a
	// Notice; PingStrikes strikes in a row close the connection. Zero turns
	// the check off.
	MinPingInterval time.Duration
	// Fault makes every connection misbehave, FaultAfter after it was
	// accepted, for demonstrations. The zero value (NoFault) behaves.
	Fault      Fault
	FaultAfter time.Duration
}

// Fault is a way for the server to fail on purpose.
type Fault string

// The faults. Each one shows a different detector at work.
const (
	NoFault Fault = ""
	// Mute reads PINGs and never answers: alive for the kernel (it ACKs),
	// dead for the heartbeat.
	Mute Fault = "mute"
	// Freeze stops reading and writing the connection, like a hung
	// process: the kernel still ACKs until the receive buffer fills.
	Freeze Fault = "freeze"
	// ResetConn closes the connection with a RST (SO_LINGER 0).
	ResetConn Fault = "reset"
	// CloseConn closes the connection with a FIN.
	CloseConn Fault = "close"
)

// Faults lists the valid faults, for flags and errors.
var Faults = []Fault{Mute, Freeze, ResetConn, CloseConn}

// Reason says why the server ended a connection.
type Reason string

// The reasons a connection ends.
const (
	PeerClosed    Reason = "peer closed"               // clean FIN between frames
	MidFrame      Reason = "peer closed mid-frame"     // FIN inside a frame
	Reset         Reason = "reset by peer"             // RST
	WriteStalled  Reason = "peer does not read"        // a write waited WriteTimeout
	IOError       Reason = "i/o error"                 // anything else
	Shutdown      Reason = "server shutting down"      // SIGINT or SIGTERM
	FaultReset    Reason = "fault reset"               // --fault reset: we sent a RST
	OverLimit     Reason = "over the connection limit" // --max-conns reached
	FrameTimeout  Reason = "frame timeout"             // a frame took longer than --frame-timeout
	PingFlood     Reason = "ping flood"                // PINGs faster than --min-ping-interval
	KernelDead    Reason = "dead by kernel"            // ETIMEDOUT: keep-alive, user timeout or retransmissions
	HeartbeatDead Reason = "dead by heartbeat"         // the server's --probes went unanswered
	FaultClose    Reason = "fault close"               // --fault close: we sent a FIN
)

// DefaultFrameTimeout is hbserver's --frame-timeout: ten seconds for 1028
// bytes is generous for any client that is really sending.
const DefaultFrameTimeout = 10 * time.Second

// PingStrikes is how many PINGs in a row may come sooner than
// MinPingInterval before the connection is closed: a client that slips once
// (a delayed timer, a retry) is warned, not dropped.
const PingStrikes = 3

// Serve accepts connections on ln until ctx ends, then closes ln and every
// connection, waits for their goroutines and returns nil. It returns an
// error only when accepting fails for good.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	s := &srv{cfg: cfg, ev: cfg.Events, start: time.Now(), conns: map[net.Conn]struct{}{}, counts: map[Reason]int{}}
	if s.ev == nil {
		s.ev = event.Discard()
	}
	s.ev.Emit(0, event.Listening,
		fmt.Sprintf("listening on %s; each PING is answered after %s", ln.Addr(), cfg.Sleep),
		event.F("addr", ln.Addr().String()), event.Secs("sleep_s", cfg.Sleep))

	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.mu.Lock()
		s.closing = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	defer stop()

	if cfg.StatsEvery > 0 {
		s.wg.Go(func() { s.stats(ctx) })
	}
	err := s.accept(ctx, ln)
	s.wg.Wait()
	s.report()
	return err
}

type srv struct {
	cfg   Config
	ev    *event.Writer
	start time.Time
	wg    sync.WaitGroup

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
	nextID  uint64
	counts  map[Reason]int
}

func (s *srv) since() time.Duration { return time.Since(s.start) }

func (s *srv) accept(ctx context.Context, ln net.Listener) error {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Out of file descriptors and the like pass: wait and retry,
			// as net/http does, rather than stop serving.
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.ev.Emit(s.since(), event.Error, "accept: "+err.Error()+"; retrying in "+backoff.String(),
					event.F("error", err.Error()))
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		backoff = 0
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.nextID++
		id := s.nextID
		full := s.cfg.MaxConns > 0 && len(s.conns) >= s.cfg.MaxConns
		if !full {
			s.conns[c] = struct{}{}
		}
		s.wg.Add(1)
		s.mu.Unlock()
		if full {
			go s.reject(c, id)
			continue
		}
		go s.serve(ctx, c, id)
	}
}

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
		s.mu.Lock()
		open := len(s.conns)
		s.mu.Unlock()
		p := procstat.Read()
		g := runtime.NumGoroutine()
		s.ev.Emit(s.since(), event.Stats,
			fmt.Sprintf("stats: %d connections open, %d goroutines, %d open files, RSS %d KiB", open, g, p.OpenFiles, p.RSSKiB),
			event.F("conns", open), event.F("goroutines", g), event.F("open_files", p.OpenFiles), event.F("rss_kib", p.RSSKiB))
	}
}

// reject tells a connection over the limit why, and closes it. It does not
// read, so a client cannot hold it; the Notice write waits a second at most.
func (s *srv) reject(c net.Conn, id uint64) {
	defer s.wg.Done()
	peer := c.RemoteAddr().String()
	text := fmt.Sprintf("server full: %d connections open, the limit (--max-conns); try again later", s.cfg.MaxConns)
	var f msg.Frame
	msg.PutNotice(&f, msg.Closing, text)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(f[:])
	lingerClose(c)
	s.mu.Lock()
	s.counts[OverLimit]++
	s.mu.Unlock()
	s.ev.Emit(s.since(), event.Closed, fmt.Sprintf("[#%d %s] closed: %s (%s)", id, peer, OverLimit, text),
		event.F("conn", id), event.F("peer", peer), event.F("reason", string(OverLimit)))
}

// setKernel applies the kernel options to an accepted connection and reads
// back what is in effect, for the "connected" event.
func (s *srv) setKernel(c net.Conn) (string, []event.Field, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok || (!s.cfg.KeepAlive.Enable && s.cfg.UserTimeout == 0) {
		return "", nil, nil
	}
	if err := sockopt.SetKeepAlive(tc, s.cfg.KeepAlive); err != nil {
		return "", nil, err
	}
	if s.cfg.UserTimeout > 0 {
		if err := sockopt.SetUserTimeout(tc, s.cfg.UserTimeout); err != nil {
			return "", nil, err
		}
	}
	ka, err := sockopt.ReadKeepAlive(tc)
	if err != nil {
		return "", nil, err
	}
	ut, err := sockopt.UserTimeout(tc)
	if err != nil {
		return "", nil, err
	}
	var text string
	fields := []event.Field{event.F("keepalive", ka.Enable)}
	if ka.Enable {
		text += fmt.Sprintf("; kernel keep-alive: dead after %s of silence (idle %s, interval %s, count %d; read back)",
			ka.DeadAfterWith(ut), ka.Idle, ka.Interval, ka.Count)
		fields = append(fields, event.Secs("keepalive_idle_s", ka.Idle), event.Secs("keepalive_interval_s", ka.Interval),
			event.F("keepalive_count", ka.Count), event.Secs("keepalive_predicted_s", ka.DeadAfterWith(ut)))
	}
	if ut > 0 {
		text += fmt.Sprintf("; user timeout %s (read back)", ut)
		fields = append(fields, event.Secs("user_timeout_s", ut))
	}
	return text, fields, nil
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *srv) serve(ctx context.Context, c net.Conn, id uint64) {
	defer s.wg.Done()
	peer := c.RemoteAddr().String()
	tag := fmt.Sprintf("[#%d %s] ", id, peer)
	conn := []event.Field{event.F("conn", id), event.F("peer", peer)}
	with := func(fs ...event.Field) []event.Field { return append(append([]event.Field{}, conn...), fs...) }

	text, kernelFields, err := s.setKernel(c)
	if err != nil {
		s.ev.Emit(s.since(), event.Error, tag+err.Error(), append(conn, event.F("error", err.Error()))...)
	}
	s.ev.Emit(s.since(), event.Connected, tag+"connected"+text, append(conn, kernelFields...)...)
	var fault atomic.Bool // set when s.cfg.Fault takes effect
	if s.cfg.Fault != NoFault {
		t := time.AfterFunc(s.cfg.FaultAfter, func() {
			fault.Store(true)
			s.ev.Emit(s.since(), event.Note, fmt.Sprintf("%sfault: %s, from now on", tag, s.cfg.Fault),
				with(event.F("note", "fault"), event.F("fault", string(s.cfg.Fault)))...)
			switch s.cfg.Fault {
			case Freeze:
				c.SetReadDeadline(time.Now()) // wake the reader, which then stops
			case ResetConn:
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				c.Close()
			case CloseConn:
				c.Close()
			}
		})
		defer t.Stop()
	}
	reason, detail := s.handle(ctx, c, tag, with, &fault)
	c.Close()

	s.mu.Lock()
	delete(s.conns, c)
	s.counts[reason]++
	s.mu.Unlock()
	text = tag + "closed: " + string(reason)
	if detail != "" {
		text += " (" + detail + ")"
	}
	s.ev.Emit(s.since(), event.Closed, text, with(event.F("reason", string(reason)))...)
}

func (s *srv) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// kernelCause names the kernel's detector that gave up: with keep-alive on
// and no user timeout, keep-alive; with a user timeout, it (it also bounds
// keep-alive); otherwise the retransmission limit.
func (s *srv) kernelCause(err error) string {
	cause := "retransmit"
	switch {
	case s.cfg.UserTimeout > 0:
		cause = "user-timeout"
	case s.cfg.KeepAlive.Enable:
		cause = "keepalive"
	}
	return cause + ": " + err.Error()
}

func (s *srv) classify(ctx context.Context, err error) (Reason, string) {
	switch {
	// s.closing is set before the shutdown closes the connections, so a
	// read that fails because of that close is always put down to it, even
	// before ctx's cancellation has reached this connection's context.
	case ctx.Err() != nil || s.shuttingDown():
		return Shutdown, ""
	case errors.Is(err, io.EOF):
		return PeerClosed, ""
	case errors.Is(err, msg.ErrShortFrame):
		return MidFrame, strings.TrimPrefix(err.Error(), "msg: ")
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return Reset, ""
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return KernelDead, s.kernelCause(err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return WriteStalled, fmt.Sprintf("a write waited %s", s.cfg.WriteTimeout)
	}
	return IOError, err.Error()
}

// report emits the totals: connections served and closes per reason.
func (s *srv) report() {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	reasons := make([]string, 0, len(s.counts))
	byReason := map[string]int{}
	for r, n := range s.counts {
		total += n
		reasons = append(reasons, fmt.Sprintf("%s %d", r, n))
		byReason[string(r)] = n
	}
	sort.Strings(reasons)
	text := fmt.Sprintf("stopped after serving %d connections", total)
	if len(reasons) > 0 {
		text += ": " + strings.Join(reasons, ", ")
	}
	s.ev.Emit(s.since(), event.Stopped, text, event.F("connections", total), event.F("closed", byReason))
}

func ignored(t msg.Type) string {
	if t.Known() {
		return ""
	}
	return ", ignored"
}
