package sockopt

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FreeBSD's keep-alive options, in seconds. Its user timeout,
// TCP_MAXUNACKTIME (FreeBSD 14), is not in golang.org/x/sys for amd64 and
// could not be confirmed against FreeBSD's headers here, so it is not
// offered: userTimeoutUnit zero.
const (
	tcpKeepIdle     = unix.TCP_KEEPIDLE
	tcpKeepIntvl    = unix.TCP_KEEPINTVL
	tcpKeepCnt      = unix.TCP_KEEPCNT
	userTimeoutOpt  = 0
	userTimeoutUnit = 0
	maxUserTimeout  = 0
)

// tcpInfo reads TCP_INFO into freebsdTCPInfo (golang.org/x/sys has the
// option's number but no struct and no helper), through getsockopt itself.
func tcpInfo(fd uintptr) (Info, error) {
	var raw freebsdTCPInfo
	n := uint32(unsafe.Sizeof(raw)) // socklen_t
	_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&raw)), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 {
		return Info{}, fmt.Errorf("TCP_INFO: %w", errno)
	}
	return raw.info(int(n))
}

// ReadDefaults reads the sysctls net.inet.tcp.keepidle, keepintvl (both
// in milliseconds) and keepcnt.
func ReadDefaults() (Defaults, error) { return readSysctls() }
