package load

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/probe"
)

// listenNeverAccepting is a loopback listener whose program never accepts,
// with an accept queue of backlog+1 = 2 connections, and TCP_DEFER_ACCEPT
// on, so that the kernel holds each handshake until data arrives. It
// reproduces, without a flood, what a full accept queue does to a burst of
// connects (tcp_abort_on_overflow 0): the client's handshake is done, the
// server's is not, and the server's kernel drops the client's data, because
// by the time the first PINGs arrive the queue is full.
func listenNeverAccepting(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 30); err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port))
}

// Connections whose handshake the server's kernel never completed are not
// deaths: they are counted as never accepted, and the lines say what that
// means. Those the kernel did take (the queue's two) and that the program
// never serves are deaths.
func TestNeverAccepted(t *testing.T) {
	noLeaks(t)
	addr := listenNeverAccepting(t)
	pc := probe.Config{Idle: 50 * time.Millisecond, Interval: 50 * time.Millisecond, Probes: 2}
	cfg := Config{Addr: addr, Conns: 8, Probe: pc, ConnectTimeout: 500 * time.Millisecond}
	sum, out := runOut(t, cfg, 3*time.Second, false)
	if sum.NeverAccepted < 1 || sum.Dead > 2 || sum.Alive != 0 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Dead == 0 && sum.DetectErrMax != 0 {
		t.Fatalf("detection error from connections that did not die: %+v", sum)
	}
	if !strings.Contains(out, "never accepted "+strconv.Itoa(sum.NeverAccepted)+",") || !strings.Contains(out, "(never accepted: the server's accept queue was full; not deaths)") {
		t.Fatalf("text:\n%s", out)
	}
}
