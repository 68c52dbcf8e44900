//go:build linux || darwin || freebsd

package sockopt

import "golang.org/x/sys/unix"

// The socket levels and options these systems share, and their "no such
// option".
const (
	solSocket   = unix.SOL_SOCKET
	soKeepAlive = unix.SO_KEEPALIVE
	ipprotoTCP  = unix.IPPROTO_TCP
)

var errNoProtoOpt error = unix.ENOPROTOOPT

func getsockoptInt(fd uintptr, level, opt int) (int, error) {
	return unix.GetsockoptInt(int(fd), level, opt)
}

func setsockoptInt(fd uintptr, level, opt, v int) error {
	return unix.SetsockoptInt(int(fd), level, opt, v)
}
