package sockopt

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// Windows' levels and options. The keep-alive options can be read back
// from Windows 10 version 1709 on; before it getsockopt fails and
// ReadKeepAlive says ErrUnsupported. TCP_MAXRT is the user timeout, in
// seconds.
const (
	solSocket       = windows.SOL_SOCKET
	soKeepAlive     = windows.SO_KEEPALIVE
	ipprotoTCP      = windows.IPPROTO_TCP
	tcpKeepIdle     = windows.TCP_KEEPIDLE
	tcpKeepIntvl    = windows.TCP_KEEPINTVL
	tcpKeepCnt      = windows.TCP_KEEPCNT
	userTimeoutOpt  = windows.TCP_MAXRT
	userTimeoutUnit = time.Second
	maxUserTimeout  = 1<<31 - 1
)

var errNoProtoOpt error = windows.WSAENOPROTOOPT

func getsockoptInt(fd uintptr, level, opt int) (int, error) {
	return windows.GetsockoptInt(windows.Handle(fd), level, opt)
}

func setsockoptInt(fd uintptr, level, opt, v int) error {
	return windows.SetsockoptInt(windows.Handle(fd), level, opt, v)
}

// sioTCPInfo is SIO_TCP_INFO (mstcpip.h: _WSAIORW(IOC_VENDOR, 39)), which
// golang.org/x/sys does not define.
const sioTCPInfo = windows.IOC_INOUT | windows.IOC_VENDOR | 39

// tcpInfo reads TCP_INFO_v0 through WSAIoctl(SIO_TCP_INFO), asking for
// version 0. WSAEOPNOTSUPP, no such control code (Windows before 10
// version 1703), is ErrUnsupported.
func tcpInfo(fd uintptr) (Info, error) {
	var version uint32 // DWORD: 0 asks for TCP_INFO_v0
	var raw windowsTCPInfo
	var n uint32
	err := windows.WSAIoctl(windows.Handle(fd), sioTCPInfo,
		(*byte)(unsafe.Pointer(&version)), uint32(unsafe.Sizeof(version)),
		(*byte)(unsafe.Pointer(&raw)), uint32(unsafe.Sizeof(raw)), &n, nil, 0)
	switch {
	case errors.Is(err, windows.WSAEOPNOTSUPP):
		return Info{}, fmt.Errorf("SIO_TCP_INFO: %w (%w)", ErrUnsupported, err)
	case err != nil:
		return Info{}, fmt.Errorf("SIO_TCP_INFO: %w", err)
	}
	return raw.info(int(n))
}

// ReadDefaults reads KeepAliveTime and KeepAliveInterval from the
// registry, each falling back to Windows' documented default when it is
// not set (it normally is not); the probe count is fixed at 10.
func ReadDefaults() (Defaults, error) {
	var idle, interval uint64
	var idleOK, intervalOK bool
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`, registry.QUERY_VALUE)
	if err == nil {
		defer k.Close()
		idle, _, err = k.GetIntegerValue(windowsNames[0])
		idleOK = err == nil
		interval, _, err = k.GetIntegerValue(windowsNames[1])
		intervalOK = err == nil
	}
	return windowsDefaults(uint32(idle), idleOK, uint32(interval), intervalOK), nil
}
