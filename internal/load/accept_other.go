//go:build !linux

package load

// neverAccepted is false where TCP_INFO does not show a handshake the
// server's kernel never completed (see accept_linux.go): such a verdict is
// counted as a death. Only Linux tells the two apart.
func neverAccepted(fd uintptr) bool { return false }
