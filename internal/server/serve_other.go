//go:build !linux

package server

import (
	"context"
	"net"
)

// Serve closes ln and returns ErrUnsupportedOS: hbserver's event loop is
// Linux's epoll (server.go), and the portable backend is not built yet.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	ln.Close()
	return ErrUnsupportedOS
}
