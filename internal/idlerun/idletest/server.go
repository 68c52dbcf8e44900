package idletest

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/heartbeat/heartbeat/internal/server"
)

// Server runs an hbserver with cfg on 127.0.0.1, port 0, until the test
// ends, and returns its address.
func Server(t testing.TB, cfg server.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { server.Serve(ctx, ln, cfg) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ln.Addr().String()
}
