package sockopt

import (
	"encoding/binary"
	"testing"
	"time"
	"unsafe"
)

// bytesOf is the memory of *p, for writing a struct as a kernel would: at
// the C header's offsets, in the machine's byte order.
func bytesOf[T any](p *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), unsafe.Sizeof(*p))
}

// FreeBSD's struct tcp_info, written at the offsets of sys/netinet/tcp.h
// (8 bytes of uint8, then uint32s): tcpi_rto at 8, tcpi_last_data_recv at
// 52, tcpi_snd_rexmitpack at 120, 236 bytes in all. The placeholders
// __tcpi_retransmits (2) and __tcpi_probes (3) are not read.
func TestFreeBSDTCPInfo(t *testing.T) {
	var raw freebsdTCPInfo
	b := bytesOf(&raw)
	if len(b) != 236 {
		t.Fatalf("struct tcp_info is %d bytes here, 236 in FreeBSD's header", len(b))
	}
	b[0] = 4                                       // TCPS_ESTABLISHED
	b[2], b[3] = 9, 9                              // __tcpi_retransmits, __tcpi_probes: garbage to ignore
	binary.NativeEndian.PutUint32(b[8:], 204000)   // tcpi_rto, µs
	binary.NativeEndian.PutUint32(b[24:], 7)       // __tcpi_unacked: not filled in
	binary.NativeEndian.PutUint32(b[52:], 1500000) // tcpi_last_data_recv, µs
	binary.NativeEndian.PutUint32(b[68:], 3000)    // tcpi_rtt
	binary.NativeEndian.PutUint32(b[120:], 3)      // tcpi_snd_rexmitpack
	binary.NativeEndian.PutUint32(b[124:], 5)      // tcpi_rcv_ooopack
	got, err := raw.info(236)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{State: 1, Retransmits: 3, RTO: 204 * time.Millisecond, LastDataRecv: 1500 * time.Millisecond,
		TotalRetrans: 3, Filled: FieldState | FieldRetransmits | FieldRTO | FieldLastDataRecv | FieldTotalRetrans}
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if got.Has(FieldProbes) || got.Has(FieldUnacked) || got.Has(FieldLastAckRecv) {
		t.Fatalf("FreeBSD counts no keep-alive probes and no unacknowledged segments: %+v", got)
	}
	if _, err := raw.info(132); err == nil {
		t.Fatal("a struct tcp_info of 132 bytes was read as a whole one")
	}
}
