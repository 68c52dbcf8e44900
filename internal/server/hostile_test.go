//go:build linux && !portable

package server

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/ending"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/evloop"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/poll"
	"github.com/heartbeat/heartbeat/internal/probe"
)

// loop is the event loop's state without its goroutine: tests drive a
// conn's handlers with exact times over a socketpair.
func loop(t *testing.T, cfg Config) *srv {
	t.Helper()
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	p, err := evloop.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &srv{cfg: cfg, ev: event.Discard(), start: time.Now(), p: p, counts: map[ending.Reason]int{}}
	t.Cleanup(func() {
		s.closeAll()
		p.Close()
	})
	return s
}

// conn is the conn of descriptor fd; nil when none.
func (s *srv) conn(fd int) *conn {
	c, _ := s.p.Handler(fd).(*conn)
	return c
}

// pair adopts one end of a socketpair as a client's connection at now and
// returns it with the other end, the client's, which the test owns.
func pair(t *testing.T, s *srv, now time.Time) (*conn, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	peer := fds[1]
	t.Cleanup(func() { unix.Close(peer) })
	s.adopt(fds[0], "pair", now)
	return s.conn(fds[0]), peer
}

// pings writes n PINGs on the client's end, each with its number in the
// stamp.
func pings(t *testing.T, fd int, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		var f msg.Frame
		f.SetType(msg.Ping)
		msg.Stamp{Seq: uint64(i), Sent: time.Unix(0, 0)}.Put(&f)
		if _, err := unix.Write(fd, f[:]); err != nil {
			t.Fatalf("PING %d: %v", i, err)
		}
	}
}

// readable lets the conn read what its socket holds, at now, until it
// stops reading or the socket is empty (a read that finds nothing changes
// nothing).
func (c *conn) readable(now time.Time) {
	for range 100 {
		if c.state == closed || c.io.Interest()&poll.In == 0 {
			return
		}
		c.io.Ready(poll.In, now)
	}
}

// A send that fails because the client has gone ends the connection and
// nothing more, wherever it happens: nothing after it touches the
// finished connection's state. (The old code sliced a queue of due PONGs
// that the failed send had dropped, and the whole server crashed.)
func TestSendToAGoneClient(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name  string
		cfg   Config
		pings int
		// read: the conn reads the PINGs after the client has gone, so
		// the send fails inside the frame loop.
		read bool
	}{
		{"due PONGs", Config{Sleep: time.Microsecond}, 20, false},
		{"PONGs at once in the frame loop", Config{}, 20, true},
		{"a warning Notice in the frame loop", Config{MinPingInterval: time.Hour}, 5, true},
		{"the heartbeat's PING", Config{Probe: probe.Config{Idle: time.Second, Interval: time.Second, Probes: 3}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := loop(t, tc.cfg)
			c, peer := pair(t, s, t0)
			pings(t, peer, tc.pings)
			if !tc.read {
				c.readable(t0)
			}
			unix.Close(peer) // gone: the next send fails with EPIPE
			if tc.read {
				c.readable(t0)
			}
			for _, at := range []time.Duration{time.Second, 2 * time.Second, time.Hour} {
				c.expire(t0.Add(at))
				c.io.Ready(poll.Out|poll.Err|poll.Hup, t0.Add(at))
			}
			if c.state != closed || s.counts[ending.Reset] != 1 || len(s.counts) != 1 {
				t.Fatalf("state %v, closes %v; want closed once, as reset", c.state, s.counts)
			}
		})
	}
}

// The crash end to end: clients that send 20 PINGs and close, at SLEEP
// 1us, and clients that reset just before their PONG is due, at SLEEP
// 20ms; a well-behaved client gets its PONGs all along.
func TestGoneClientsDoNotCrashTheServer(t *testing.T) {
	for _, sleep := range []time.Duration{time.Microsecond, 20 * time.Millisecond} {
		h := start(t, sleep)
		good := dial(t, h.addr)
		for i := range 20 {
			c, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			var f msg.Frame
			f.SetType(msg.Ping)
			for range 20 {
				c.Write(f[:])
			}
			if sleep > time.Millisecond {
				// Its PONG is due 20ms after the PINGs arrived: reset
				// just before.
				for deadline := time.Now().Add(sleep - 2*time.Millisecond); time.Now().Before(deadline); {
					time.Sleep(time.Millisecond) // a peer's timing, not synchronisation
				}
				c.(*net.TCPConn).SetLinger(0)
			}
			c.Close()
			sent := ping(t, good, uint64(i+1))
			if st, at := readPong(t, good); st.Seq != uint64(i+1) || at.Sub(sent) > sleep+time.Second {
				t.Fatalf("good client: PONG %d after %v", st.Seq, at.Sub(sent))
			}
		}
		h.stop()
	}
}

// step runs one pass of the event loop's readiness handling at now, as
// run does, waiting at most a second for something to be ready.
func (s *srv) step(t *testing.T, now time.Time) {
	t.Helper()
	if err := s.p.SetTimer(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.p.Wait(); err != nil {
		t.Fatal(err)
	}
	s.p.Dispatch(now)
}

// peerReads reads what the client's end holds: the frames' types, and
// whether the server has closed.
func peerReads(t *testing.T, fd int) (types []msg.Type, eof bool) {
	t.Helper()
	var f msg.Frame
	for {
		n, err := unix.Read(fd, f[:])
		switch {
		case err == unix.EAGAIN:
			return types, false
		case err != nil:
			t.Fatal(err)
		case n == 0:
			return types, true
		case n < msg.FrameSize:
			t.Fatalf("a short read of %d bytes", n) // a socketpair keeps writes whole
		}
		typ, _ := f.Type()
		types = append(types, typ)
	}
}

// A client that pipelines PINGs against SLEEP > 0 makes the server hold
// maxQueued of them and no more: the rest wait in the kernel's buffers
// while the server stops reading. The heap figure per connection is the
// one docs/PERFORMANCE.md gives (go test -v -run TestPipeliningIsBounded).
func TestPipeliningIsBounded(t *testing.T) {
	const conns, each = 100, 60
	s := loop(t, Config{Sleep: time.Hour, Quiet: true})
	t0 := time.Unix(1000, 0)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	cs := make([]*conn, conns)
	for i := range cs {
		c, peer := pair(t, s, t0)
		pings(t, peer, each)
		unix.Write(peer, make([]byte, 500)) // and half a frame
		c.readable(t0)
		cs[i] = c
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	perConn := (int64(ms.HeapAlloc) - int64(before)) / conns
	t.Logf("heap a connection, %d PINGs pipelined against SLEEP 1h: %d bytes", each, perConn)
	for _, c := range cs {
		if c.queue == nil || c.queue.n != maxQueued || c.io.Interest()&poll.In != 0 || c.io.Interest()&poll.RdHup == 0 {
			t.Fatalf("queue %v, interest %#x: want %d PINGs queued and only the FIN watched", c.queue, c.io.Interest(), maxQueued)
		}
	}
	if perConn > 8<<10 {
		t.Fatalf("%d bytes of heap a pipelining connection, want at most 8 KiB", perConn)
	}
	// The queue drains in its turn, and reading resumes.
	c := cs[0]
	c.expire(t0.Add(time.Hour - 1))
	if c.queue.n != maxQueued {
		t.Fatalf("a PONG sent before its SLEEP: %d queued", c.queue.n)
	}
	c.expire(t0.Add(time.Hour))
	if c.queue.n != maxQueued-1 || c.io.Interest()&poll.In == 0 {
		t.Fatalf("after the first PONG: %d queued, interest %#x", c.queue.n, c.io.Interest())
	}
}

// A client that shuts down its sending side after its PINGs gets them all
// answered, each in its turn after SLEEP, and then the server closes.
func TestHalfCloseIsAnswered(t *testing.T) {
	const sleep = 5 * time.Second
	s := loop(t, Config{Sleep: sleep})
	t0 := time.Unix(1000, 0)
	c, peer := pair(t, s, t0)
	pings(t, peer, 2)
	unix.Shutdown(peer, unix.SHUT_WR)
	c.readable(t0)
	if c.state != closing || s.open.Load() != 1 {
		t.Fatalf("state %v, %d open: want closing, still held", c.state, s.open.Load())
	}
	for _, tc := range []struct {
		at    time.Duration
		pongs int
		eof   bool
	}{
		{sleep - 1, 0, false},
		{sleep, 1, false},
		{2*sleep - 1, 0, false},
		{2 * sleep, 1, true},
	} {
		c.expire(t0.Add(tc.at))
		s.schedule(c)
		types, eof := peerReads(t, peer)
		if len(types) != tc.pongs || eof != tc.eof || (tc.pongs > 0 && types[0] != msg.Pong) {
			t.Fatalf("at %v: read %v, closed %v; want %d PONG, closed %v", tc.at, types, eof, tc.pongs, tc.eof)
		}
	}
	if s.counts[ending.PeerClosed] != 1 {
		t.Fatalf("closes %v", s.counts)
	}
}

// A connection whose peer had closed, ended by shutdown while PINGs wait
// their turn, ends as "peer closed", saying how many went unanswered (the
// old code said "server shutting down", though the client had hung up).
func TestShutdownEndsAClosingConnAsPeerClosed(t *testing.T) {
	s := loop(t, Config{Sleep: 5 * time.Second})
	var out strings.Builder
	s.ev = event.NewWriter(&out, false)
	t0 := time.Unix(1000, 0)
	c, peer := pair(t, s, t0)
	pings(t, peer, 2)
	unix.Shutdown(peer, unix.SHUT_WR)
	c.readable(t0)
	s.closeAll()
	if want := "[#1 pair] closed: peer closed (2 PINGs unanswered)\n"; !strings.HasSuffix(out.String(), want) {
		t.Fatalf("timeline\n%s\nwant it to end with %q", out.String(), want)
	}
	if s.counts[ending.PeerClosed] != 1 || len(s.counts) != 1 {
		t.Fatalf("closes %v", s.counts)
	}
}

// The totals put each count before its reason: "over the connection limit
// 3" read as a limit of 3.
func TestStoppedCountsComeFirst(t *testing.T) {
	s := loop(t, Config{})
	var out strings.Builder
	s.ev = event.NewWriter(&out, false)
	s.counts = map[ending.Reason]int{ending.OverLimit: 3, ending.PeerClosed: 1, ending.Reset: 2, ending.Shutdown: 2}
	s.report()
	want := "stopped after serving 8 connections;\n" +
		"              closed: 3 over the connection limit, 1 peer closed,\n" +
		"              2 reset by peer, 2 server shutting down\n"
	if got := out.String()[strings.Index(out.String(), "stopped"):]; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A client that pipelines and closes while its queue is full is seen to
// go at once (EPOLLRDHUP) and is on its way out; it ends when its first
// PONG is due, which a peer that has gone refuses.
func TestGoneWhileQueueFull(t *testing.T) {
	s := loop(t, Config{Sleep: time.Second, MaxConns: 1})
	t0 := time.Unix(1000, 0)
	c, peer := pair(t, s, t0)
	pings(t, peer, 10)
	c.readable(t0)
	if c.io.Interest()&poll.In != 0 {
		t.Fatal("still reading with a full queue")
	}
	unix.Shutdown(peer, unix.SHUT_WR) // its FIN
	s.step(t, t0)
	if c.state != closing || s.leaving.head != c {
		t.Fatalf("after the FIN: state %v; want closing, on its way out", c.state)
	}
	if at := c.Deadline(); !at.Equal(t0.Add(time.Second)) {
		t.Fatalf("held until %v, want the first PONG's due time", at.Sub(t0))
	}
	unix.Close(peer) // gone, not only half-closed
	c.expire(t0.Add(time.Second))
	if c.state != closed || s.counts[ending.Reset] != 1 {
		t.Fatalf("state %v, closes %v: want reset when the first PONG is refused", c.state, s.counts)
	}
}

// A half-close seen while the queue is full: the PINGs queued are
// answered, those behind them dropped, and the server closes cleanly (a
// FIN, not a RST, which could destroy the PONGs in flight).
func TestHalfCloseWithFramesUnread(t *testing.T) {
	s := loop(t, Config{Sleep: time.Second})
	t0 := time.Unix(1000, 0)
	c, peer := pair(t, s, t0)
	pings(t, peer, 10)
	c.readable(t0)
	unix.Shutdown(peer, unix.SHUT_WR)
	s.step(t, t0)
	if c.state != closing {
		t.Fatalf("state %v, want closing", c.state)
	}
	for i := 1; i <= maxQueued; i++ {
		c.expire(t0.Add(time.Duration(i) * time.Second))
	}
	if c.state != closed || s.counts[ending.PeerClosed] != 1 {
		t.Fatalf("state %v, closes %v", c.state, s.counts)
	}
	types, eof := peerReads(t, peer)
	if len(types) != maxQueued || !eof {
		t.Fatalf("the client read %v, closed %v; want %d PONGs and a clean close", types, eof, maxQueued)
	}
}

// Output that waits for a client that does not read is bounded: the server
// heartbeat's PINGs pile up behind it only to maxOut, then the client is
// closed as one that does not read, long before the write timeout.
func TestOutputIsBounded(t *testing.T) {
	s := loop(t, Config{Probe: probe.Config{Idle: time.Millisecond, Interval: time.Millisecond, Probes: 1000}})
	t0 := time.Unix(1000, 0)
	c, peer := pair(t, s, t0)
	for i := 0; !c.io.Waiting(); i++ { // PINGs whose PONGs the client never reads
		if i == 1000 {
			t.Fatal("the socket never filled")
		}
		pings(t, peer, 1)
		c.readable(t0)
	}
	for i := 1; c.state != closed; i++ {
		if c.io.Pending() > maxOut {
			t.Fatalf("%d bytes of output wait", c.io.Pending())
		}
		if i == 100 {
			t.Fatalf("still open with %d bytes waiting", c.io.Pending())
		}
		c.expire(t0.Add(time.Duration(i) * time.Millisecond))
	}
	if s.counts[ending.WriteStalled] != 1 {
		t.Fatalf("closes %v", s.counts)
	}
}

// The closing Notice to a client over MaxConns fails when the client has
// already gone: the connection ends there, and linger does not touch it.
func TestOverLimitClientGoneBeforeItsNotice(t *testing.T) {
	s := loop(t, Config{MaxConns: 1})
	t0 := time.Unix(1000, 0)
	pair(t, s, t0)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fds[1])
	s.adopt(fds[0], "gone", t0)
	if s.conn(fds[0]) != nil || s.counts[ending.Reset] != 1 || s.open.Load() != 1 || s.p.Next() != (time.Time{}) {
		t.Fatalf("closes %v, %d open, next deadline %v: want the newcomer closed and nothing of it left", s.counts, s.open.Load(), s.p.Next())
	}
}

// Connections whose peer has closed count toward MaxConns, so that the
// descriptors stay bounded however fast clients connect, send PINGs and
// close (the old code stopped counting them at the FIN and ran out of
// descriptors); a newcomer takes the place of the oldest, so they never
// keep it out.
func TestClosingConnsStayWithinMaxConns(t *testing.T) {
	const maxConns, ghosts = 3, 50
	s := loop(t, Config{Sleep: time.Hour, MaxConns: maxConns})
	t0 := time.Unix(1000, 0)
	good, _ := pair(t, s, t0)
	held := func() int {
		n := 0
		s.p.Each(func(evloop.Handler) { n++ })
		return n
	}
	for i := range ghosts {
		c, peer := pair(t, s, t0)
		pings(t, peer, 2)
		unix.Close(peer) // gone, its PINGs unanswered: closing for 2h
		c.readable(t0)
		if c.state != closing {
			t.Fatalf("ghost %d: state %v, want closing", i, c.state)
		}
		if n := held(); n > maxConns || s.open.Load() != int64(n) {
			t.Fatalf("after ghost %d: %d connections held, %d counted; want at most %d", i, n, s.open.Load(), maxConns)
		}
	}
	c, _ := pair(t, s, t0)
	if c.state != serving || good.state != serving {
		t.Fatalf("newcomer %v, first client %v: want both served", c.state, good.state)
	}
	if s.counts[ending.OverLimit] != ghosts-1 {
		t.Fatalf("closes %v: want %d ghosts ended for newcomers", s.counts, ghosts-1)
	}
}

// The kernel's buffers of an accepted socket are capped, so that a client
// that sends PINGs and never reads its PONGs cannot make the kernel hold
// megabytes for it (the old code left them to autotuning: 300 KB to
// receive and a send buffer grown to 4 MB within a second).
func TestSocketBuffersAreCapped(t *testing.T) {
	h := startWith(t, Config{Quiet: true})
	c := dial(t, h.addr)
	h.wait(func(l line) bool { return l["event"] == "connected" })
	var f msg.Frame
	f.SetType(msg.Ping)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	for range 256 { // PONGs the client does not read; a write may time out
		if _, err := c.Write(f[:]); err != nil {
			break
		}
	}
	fd := acceptedFD(t, c)
	for _, opt := range []struct {
		name string
		opt  int
	}{{"SO_SNDBUF", unix.SO_SNDBUF}, {"SO_RCVBUF", unix.SO_RCVBUF}} {
		n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, opt.opt)
		if err != nil {
			t.Fatal(err)
		}
		if n > 2*sockBuf {
			t.Errorf("the server's %s is %d bytes, want at most %d", opt.name, n, 2*sockBuf)
		}
	}
}

// acceptedFD finds, among this process's descriptors, the server's end of
// the client's connection c.
func acceptedFD(t *testing.T, c net.Conn) int {
	t.Helper()
	want := c.LocalAddr().(*net.TCPAddr).Port
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if sa, err := unix.Getpeername(fd); err == nil {
			if in, ok := sa.(*unix.SockaddrInet4); ok && in.Port == want {
				return fd
			}
		}
	}
	t.Fatal("the server's end of the connection is not among the descriptors")
	return -1
}

// peerNotices reads what the client's end holds and returns the Notices'
// texts.
func peerNotices(t *testing.T, fd int) []string {
	t.Helper()
	var texts []string
	var f msg.Frame
	for {
		n, err := unix.Read(fd, f[:])
		if err == unix.EAGAIN || n == 0 {
			return texts
		}
		if err != nil || n < msg.FrameSize {
			t.Fatalf("read %d bytes: %v", n, err)
		}
		if typ, _ := f.Type(); typ == msg.Notice {
			_, text := msg.ReadNotice(&f)
			texts = append(texts, text)
		}
	}
}

// --min-ping-interval's Notices: PINGs that arrive in one read share its
// time, and the Notice says so (the old one said "0s after the one before,
// about 1000000/s"); a warning is a per-frame event, left out of the
// timeline under --quiet, though the client still gets it; the closing
// Notice is always logged.
func TestPingRateNotices(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, quiet := range []bool{false, true} {
		s := loop(t, Config{MinPingInterval: time.Second, Quiet: quiet})
		var out strings.Builder
		s.ev = event.NewWriter(&out, false)
		c, peer := pair(t, s, t0)
		pings(t, peer, 2)
		c.readable(t0) // one read: both at t0
		pings(t, peer, 1)
		c.readable(t0.Add(10 * time.Millisecond))
		pings(t, peer, 1)
		c.readable(t0.Add(20 * time.Millisecond)) // 3 ahead: closed
		got := peerNotices(t, peer)
		want := []string{
			"too many pings: 1 PING ahead of the rate, this one in the same read as the one before; --min-ping-interval allows one per 1s; 3 ahead closes the connection",
			"too many pings: 2 PINGs ahead of the rate, this one 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s; 3 ahead closes the connection",
			"ping flood: 3 PINGs ahead of the rate, the last 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("quiet %v: the client got\n%s\nwant\n%s", quiet, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		logged := strings.Count(out.String(), "told the client: ")
		if wantLogged := map[bool]int{false: 3, true: 1}[quiet]; logged != wantLogged || !strings.Contains(out.String(), "told the client: ping flood") {
			t.Fatalf("quiet %v: %d Notices logged, want %d and the closing one among them:\n%s", quiet, logged, wantLogged, out.String())
		}
		// The PING comes first in the timeline, then what it was told
		// (the old order was the other way); the closed line says "ping
		// flood" once, and has no parentheses inside its own.
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		for i, l := range lines {
			if strings.Contains(l, "told the client: ") && !quiet && (i == 0 || !strings.Contains(lines[i-1], " received")) {
				t.Fatalf("a Notice logged before its PING:\n%s", out.String())
			}
		}
		c.expire(t0.Add(time.Hour)) // the linger is over
		closedLine := out.String()[strings.LastIndex(strings.TrimSpace(out.String()), "\n")+1:]
		if !strings.HasSuffix(closedLine, "closed: ping flood (3 PINGs ahead of the rate, the last 10ms after the one before, about 100/s; --min-ping-interval allows one per 1s)\n") {
			t.Fatalf("closed line %q", closedLine)
		}
	}
}

// --fault close ends the connection with a FIN even when the client's PINGs
// wait unread (the old code closed at once, and the client got a RST),
// and reports it once the client has closed too.
func TestFaultCloseSendsAFin(t *testing.T) {
	s := loop(t, Config{Fault: CloseConn, FaultAfter: time.Second})
	t0 := time.Unix(1000, 0)
	c, peer := pair(t, s, t0)
	pings(t, peer, 2) // not read yet
	c.expire(t0.Add(time.Second))
	if _, eof := peerReads(t, peer); !eof { // a reset fails peerReads
		t.Fatal("the client sees no FIN")
	}
	unix.Shutdown(peer, unix.SHUT_WR)
	for i := 0; c.state != closed; i++ {
		if i == 10 {
			t.Fatalf("state %v after the client closed", c.state)
		}
		s.step(t, t0.Add(time.Second))
	}
	if s.counts[ending.FaultClose] != 1 || len(s.counts) != 1 {
		t.Fatalf("closes %v", s.counts)
	}
}
