// Package sockopt reads socket options back from a live connection, so that
// the tools print the values in effect rather than the values they asked for.
package sockopt

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// KeepAlive reports whether SO_KEEPALIVE is on for c's socket.
func KeepAlive(c syscall.Conn) (bool, error) {
	v, err := getInt(c, unix.SOL_SOCKET, unix.SO_KEEPALIVE)
	return v != 0, err
}

func getInt(c syscall.Conn, level, opt int) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("sockopt: %w", err)
	}
	var v int
	var serr error
	if err := raw.Control(func(fd uintptr) { v, serr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil {
		return 0, fmt.Errorf("sockopt: %w", err)
	}
	if serr != nil {
		return 0, fmt.Errorf("sockopt: getsockopt: %w", serr)
	}
	return v, nil
}
