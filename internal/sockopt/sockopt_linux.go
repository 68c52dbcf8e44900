package sockopt

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Linux's keep-alive options, in seconds, and TCP_USER_TIMEOUT, an int of
// milliseconds.
const (
	tcpKeepIdle     = unix.TCP_KEEPIDLE
	tcpKeepIntvl    = unix.TCP_KEEPINTVL
	tcpKeepCnt      = unix.TCP_KEEPCNT
	userTimeoutOpt  = unix.TCP_USER_TIMEOUT
	userTimeoutUnit = time.Millisecond
	maxUserTimeout  = 1<<31 - 1
)

func tcpInfo(fd uintptr) (Info, error) {
	ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return Info{}, fmt.Errorf("TCP_INFO: %w", err)
	}
	return Info{
		State:        ti.State,
		Probes:       int(ti.Probes),
		Retransmits:  int(ti.Retransmits),
		Unacked:      int(ti.Unacked),
		Backoff:      int(ti.Backoff),
		RTO:          time.Duration(ti.Rto) * time.Microsecond,
		LastDataRecv: time.Duration(ti.Last_data_recv) * time.Millisecond,
		LastAckRecv:  time.Duration(ti.Last_ack_recv) * time.Millisecond,
		TotalRetrans: int(ti.Total_retrans),
		Filled: FieldState | FieldProbes | FieldRetransmits | FieldUnacked | FieldBackoff | FieldRTO |
			FieldLastDataRecv | FieldLastAckRecv | FieldTotalRetrans,
	}, nil
}

// ReadDefaults reads the machine's defaults from /proc/sys/net/ipv4.
func ReadDefaults() (Defaults, error) { return readProc(procRoot) }
