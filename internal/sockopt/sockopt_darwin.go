package sockopt

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// macOS's keep-alive options (TCP_KEEPALIVE is the idle time), in seconds,
// and TCP_RXT_CONNDROPTIME: seconds of retransmission after which the
// connection is dropped, xnu's user timeout.
const (
	tcpKeepIdle     = unix.TCP_KEEPALIVE
	tcpKeepIntvl    = unix.TCP_KEEPINTVL
	tcpKeepCnt      = unix.TCP_KEEPCNT
	userTimeoutOpt  = unix.TCP_RXT_CONNDROPTIME
	userTimeoutUnit = time.Second
	maxUserTimeout  = math.MaxInt32
)

// tcpInfo reads TCP_CONNECTION_INFO. It has no keep-alive probe count, no
// backoff and no time since data was received; its retransmission count
// is of the connection's whole life, and its unacknowledged data is in
// bytes (sent or not), so Unacked is that in segments, rounded up.
func tcpInfo(fd uintptr) (Info, error) {
	ci, err := unix.GetsockoptTCPConnectionInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_CONNECTION_INFO)
	if err != nil {
		return Info{}, fmt.Errorf("TCP_CONNECTION_INFO: %w", err)
	}
	return Info{
		State:        bsdState(ci.State),
		Retransmits:  int(ci.Txretransmitpackets),
		Unacked:      segments(int(ci.Snd_sbbytes), int(ci.Maxseg)),
		RTO:          time.Duration(ci.Rto) * time.Millisecond,
		TotalRetrans: int(ci.Txretransmitpackets),
		Filled:       FieldState | FieldRetransmits | FieldUnacked | FieldRTO | FieldTotalRetrans,
	}, nil
}

// ReadDefaults reads the sysctls net.inet.tcp.keepidle, keepintvl (both
// in milliseconds) and keepcnt.
func ReadDefaults() (Defaults, error) { return readSysctls() }
