package sockopt

import (
	"fmt"
	"unsafe"
)

// windowsTCPInfo is Windows' TCP_INFO_v0 (mstcpip.h; learn.microsoft.com,
// "TCP_INFO_v0 structure"), which golang.org/x/sys does not define. Go lays
// it out as the C compiler does on amd64 and arm64 (88 bytes: the ULONG64
// fields 8-aligned, the BOOLEAN and UCHAR one byte each). It lives in a
// file for every OS so that its layout and its conversion are tested on
// Linux; sockopt_windows.go reads it.
type windowsTCPInfo struct {
	State             uint32 // TCPSTATE, in Windows' numbering (windowsStates)
	Mss               uint32 // maximum segment size, bytes
	ConnectionTimeMs  uint64
	TimestampsEnabled uint8 // BOOLEAN
	RttUs             uint32
	MinRttUs          uint32
	BytesInFlight     uint32 // sent and not yet acknowledged
	Cwnd              uint32
	SndWnd            uint32
	RcvWnd            uint32
	RcvBuf            uint32
	BytesOut          uint64
	BytesIn           uint64
	BytesReordered    uint32
	BytesRetrans      uint32 // bytes retransmitted over the connection's life
	FastRetrans       uint32
	DupAcksIn         uint32
	TimeoutEpisodes   uint32 // retransmission timeout episodes, each of one or more timeouts
	SynRetrans        uint8
}

// windowsInfoFields are the fields Windows' SIO_TCP_INFO fills in. It has
// no keep-alive probe count, no current RTO, no times since data or an
// ACK was received, and it counts retransmissions in bytes and in timeout
// episodes (a dead peer's whole run of timeouts is one), never one by one:
// Retransmits stays unknown.
const windowsInfoFields = FieldState | FieldUnacked

// info converts r, of which Windows wrote n bytes. Unacked is the bytes in
// flight in segments of Mss, rounded up.
func (r *windowsTCPInfo) info(n int) (Info, error) {
	if size := int(unsafe.Sizeof(*r)); n < size {
		return Info{}, fmt.Errorf("SIO_TCP_INFO: Windows gave %d bytes, want %d", n, size)
	}
	return Info{
		State:   linuxState(windowsStates, r.State),
		Unacked: segments(int(r.BytesInFlight), int(r.Mss)),
		Filled:  windowsInfoFields,
	}, nil
}
