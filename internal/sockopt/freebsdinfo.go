package sockopt

import (
	"fmt"
	"time"
	"unsafe"
)

// freebsdTCPInfo is FreeBSD's struct tcp_info (freebsd/freebsd-src,
// sys/netinet/tcp.h), which golang.org/x/sys does not define, in its
// layout up to FreeBSD 13: 236 bytes of uint8 and uint32, the same on every
// architecture. FreeBSD 14 names fields in the padding at its end
// (tcpi_snd_una, tcpi_snd_max, ...) and FreeBSD 15 makes it longer still
// (rust-lang/libc, src/unix/bsd/freebsdlike/freebsd), which leaves the
// offsets read here as they were; getsockopt copies as many bytes as it is
// asked for, up to its own size.
//
// The fields kept unnamed are not read: the __tcpi_ ones are placeholders
// for Linux's that FreeBSD does not fill in (among them __tcpi_retransmits,
// __tcpi_probes and __tcpi_backoff: no keep-alive probe count, no backoff).
// It lives in a file for every OS so that its layout and its conversion
// are tested on Linux; sockopt_freebsd.go reads it.
type freebsdTCPInfo struct {
	State        uint8      // tcpi_state, in BSD's numbering (bsdState)
	_            [7]uint8   // __tcpi_ca_state, __tcpi_retransmits, __tcpi_probes, __tcpi_backoff, tcpi_options, the window scales, alignment
	RTO          uint32     // tcpi_rto: retransmission timeout, µs
	_            [10]uint32 // __tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss, __tcpi_unacked ... __tcpi_fackets, __tcpi_last_data_sent, __tcpi_last_ack_sent
	LastDataRecv uint32     // tcpi_last_data_recv: time since data was received, µs
	_            [16]uint32 // __tcpi_last_ack_recv ... tcpi_toe_tid
	RexmitPack   uint32     // tcpi_snd_rexmitpack: packets retransmitted over the connection's life
	_            [28]uint32 // tcpi_rcv_ooopack, tcpi_snd_zerowin, __tcpi_pad[26]
}

// freebsdInfoFields are the fields FreeBSD's TCP_INFO fills in: no
// keep-alive probes, no backoff, no unacknowledged segments, no time since
// an ACK.
const freebsdInfoFields = FieldState | FieldRetransmits | FieldRTO | FieldLastDataRecv | FieldTotalRetrans

// info converts r, of which the kernel wrote n bytes. Retransmits counts
// every retransmitted packet over the connection's life, as on macOS.
func (r *freebsdTCPInfo) info(n int) (Info, error) {
	if size := int(unsafe.Sizeof(*r)); n < size {
		return Info{}, fmt.Errorf("TCP_INFO: the kernel gave %d bytes, want %d", n, size)
	}
	return Info{
		State:        bsdState(r.State),
		Retransmits:  int(r.RexmitPack),
		RTO:          time.Duration(r.RTO) * time.Microsecond,
		LastDataRecv: time.Duration(r.LastDataRecv) * time.Microsecond,
		TotalRetrans: int(r.RexmitPack),
		Filled:       freebsdInfoFields,
	}, nil
}
