package sockopt

// bsdState maps a BSD TCP state (netinet/tcp_fsm.h: 0 closed, 1 listen,
// ... 4 established, ... 10 time-wait) to Linux's numbering, which Info
// uses. Unknown states give 0.
func bsdState(s uint8) uint8 {
	// BSD order: closed, listen, syn-sent, syn-received, established,
	// close-wait, fin-wait-1, closing, last-ack, fin-wait-2, time-wait.
	linux := [...]uint8{7, 10, 2, 3, 1, 8, 4, 11, 9, 5, 6}
	if int(s) < len(linux) {
		return linux[s]
	}
	return 0
}

// segments is bytes of unacknowledged data in segments of mss bytes,
// rounded up; zero when mss is unknown.
func segments(bytes, mss int) int {
	if mss <= 0 {
		return 0
	}
	return (bytes + mss - 1) / mss
}
