//go:build !unix

package server

import "net"

// awaitPeerEnd cannot wait for a peer's FIN without reading where package
// net waits for readability by reading (Windows: a zero-byte read, which
// returns at once while unread bytes wait): the reader waits for the
// policy to take frames again, and a FIN behind them is seen then.
func awaitPeerEnd(*net.TCPConn) (peerEnd, error) { return peerUnknown, nil }

// nowWriter writes nothing: every write is the writer goroutine's.
type nowWriter struct{}

func (w *nowWriter) init(*net.TCPConn) {}

func (w *nowWriter) writeNow([]byte) (int, error) { return 0, nil }
