//go:build unix && (!linux || portable)

package server

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// awaitPeerEnd waits, reading nothing, until c's peer has sent its FIN
// (peerFin) or reset the connection (peerReset, with the socket's error),
// as the TCP state says, or until a read deadline or a close wakes it
// (peerWoken). Each segment that arrives meanwhile wakes it to look at the
// state again. peerUnknown: the OS does not say the state.
func awaitPeerEnd(c *net.TCPConn) (peerEnd, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return peerUnknown, nil
	}
	end, serr := peerWoken, error(nil)
	err = rc.Read(func(fd uintptr) bool {
		info, err := sockopt.InfoOf(fd)
		switch {
		case err != nil || !info.Has(sockopt.FieldState):
			end = peerUnknown
		case info.State == sockopt.StateCloseWait:
			end = peerFin
		case info.State == sockopt.StateClose:
			end, serr = peerReset, unix.ECONNRESET
			if n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR); err == nil && n != 0 {
				serr = unix.Errno(n)
			}
		default:
			return false // wait for the next segment
		}
		return true
	})
	if err != nil {
		return peerWoken, nil
	}
	return end, serr
}

// nowWriter writes what of a frame the socket takes now, without waiting,
// as the event loop does; the rest is for the writer goroutine. It is made
// once a connection, so that a write allocates nothing.
type nowWriter struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // w.write, bound once
	b   []byte
	n   int
	err error
}

func (w *nowWriter) init(c *net.TCPConn) {
	w.rc, _ = c.SyscallConn()
	w.fn = w.write
}

// writeNow writes what of b the socket takes now.
func (w *nowWriter) writeNow(b []byte) (int, error) {
	if w.rc == nil {
		return 0, nil
	}
	w.b, w.n, w.err = b, 0, nil
	err := w.rc.Write(w.fn)
	n, werr := w.n, w.err
	w.b, w.err = nil, nil
	if err != nil {
		return n, err
	}
	return n, werr
}

func (w *nowWriter) write(fd uintptr) bool {
	for w.n < len(w.b) {
		k, err := unix.Write(int(fd), w.b[w.n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if err != unix.EAGAIN {
				w.err = err
			}
			break
		}
		w.n += k
	}
	return true // done, whatever the socket took: never wait
}
