package sockopt

// Fields is a set of Info's fields: those an OS fills in.
type Fields uint16

// Info's fields, one bit each.
const (
	FieldState Fields = 1 << iota
	FieldProbes
	FieldRetransmits
	FieldUnacked
	FieldBackoff
	FieldRTO
	FieldLastDataRecv
	FieldLastAckRecv
	FieldTotalRetrans
)

// Has reports whether this OS filled in all of f: when it did not, a zero
// there means unknown.
func (i Info) Has(f Fields) bool { return i.Filled&f == f }

// TCP states in Linux's numbering, which Info uses.
const (
	linuxEstablished = 1 + iota
	linuxSynSent
	linuxSynRecv
	linuxFinWait1
	linuxFinWait2
	linuxTimeWait
	linuxClose
	linuxCloseWait
	linuxLastAck
	linuxListen
	linuxClosing
)

// bsdStates is the BSD order of TCP states (netinet/tcp_fsm.h: 0 closed,
// 1 listen, ... 4 established, ... 10 time-wait), as macOS and FreeBSD
// number them, in Linux's numbering.
var bsdStates = []uint8{linuxClose, linuxListen, linuxSynSent, linuxSynRecv, linuxEstablished,
	linuxCloseWait, linuxFinWait1, linuxClosing, linuxLastAck, linuxFinWait2, linuxTimeWait}

// windowsStates is Windows' TCPSTATE (mstcpip.h), which puts the two
// FIN-WAIT states before CLOSE-WAIT, in Linux's numbering.
var windowsStates = []uint8{linuxClose, linuxListen, linuxSynSent, linuxSynRecv, linuxEstablished,
	linuxFinWait1, linuxFinWait2, linuxCloseWait, linuxClosing, linuxLastAck, linuxTimeWait}

// linuxState is state s of an OS that numbers them in order (bsdStates,
// windowsStates) in Linux's numbering. Unknown states give 0.
func linuxState(order []uint8, s uint32) uint8 {
	if s < uint32(len(order)) {
		return order[s]
	}
	return 0
}

// bsdState maps a BSD TCP state to Linux's numbering.
func bsdState(s uint8) uint8 { return linuxState(bsdStates, uint32(s)) }

// segments is bytes of unacknowledged data in segments of mss bytes,
// rounded up; zero when mss is unknown.
func segments(bytes, mss int) int {
	if mss <= 0 {
		return 0
	}
	return (bytes + mss - 1) / mss
}

// States of Info.State that say the peer has ended the connection, in
// Linux's numbering, whatever the OS.
const (
	StateClose     = linuxClose     // closed: reset, say
	StateCloseWait = linuxCloseWait // the peer's FIN came, ours has not gone
)

// InfoOf is TCPInfo for a descriptor the caller holds, as a
// syscall.RawConn's Read or Control hands it over.
func InfoOf(fd uintptr) (Info, error) { return tcpInfo(fd) }
