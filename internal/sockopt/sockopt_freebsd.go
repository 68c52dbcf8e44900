package sockopt

import (
	"fmt"

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

// tcpInfo: FreeBSD's TCP_INFO has no struct in golang.org/x/sys, and its
// layout changes between releases (FreeBSD 15 changed it); not read yet.
func tcpInfo(uintptr) (Info, error) {
	return Info{}, fmt.Errorf("TCP_INFO: %w", ErrUnsupported)
}

// ReadDefaults reads the sysctls net.inet.tcp.keepidle, keepintvl (both
// in milliseconds) and keepcnt.
func ReadDefaults() (Defaults, error) { return readSysctls() }
