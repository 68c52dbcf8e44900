package load

import "golang.org/x/sys/unix"

// neverAccepted reports whether the server's kernel never took connection
// fd, though the handshake looked done to us: when the server's accept
// queue is full, Linux (tcp_abort_on_overflow 0) drops the handshake's last
// ACK and every segment after it, so we hold an established connection
// that the server has never seen. Its TCP_INFO shows it: nothing ever
// received and nothing acknowledged but the SYN (tcpi_bytes_acked 1), which
// no live server that accepted the connection can show once PINGs are out
// (its kernel acknowledges them even when the program is frozen). A host
// that vanished right after the handshake looks the same. When TCP_INFO
// cannot be read the connection counts as accepted: a doubt is a death.
func neverAccepted(fd uintptr) bool {
	const tcpEstablished = 1 // TCP_ESTABLISHED, linux/tcp_states.h
	ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	return err == nil && ti.State == tcpEstablished && ti.Bytes_received == 0 && ti.Bytes_acked <= 1 && ti.Unacked > 0
}
