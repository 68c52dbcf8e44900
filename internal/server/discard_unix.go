//go:build unix

package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// discardUnread reads and drops, without waiting, up to 64 reads of what
// c's peer sent that was never read.
func discardUnread(c *net.TCPConn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	var buf [16 * 1024]byte
	rc.Read(func(fd uintptr) bool {
		for range 64 {
			if n, err := unix.Read(int(fd), buf[:]); n <= 0 || err != nil {
				break
			}
		}
		return true // done, whatever came: never wait
	})
}
