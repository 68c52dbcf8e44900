package server

import (
	"context"
	"fmt"
	"net"

	"github.com/heartbeat/heartbeat/internal/event"
)

// Serve accepts connections on ln until ctx ends, then closes every
// connection and ln and returns nil. It returns an error only when
// accepting (or, on Linux, polling) fails for good. ln must be a TCP
// listener.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	defer ln.Close()
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Events == nil {
		cfg.Events = event.Discard()
	}
	if cfg.Commands != nil {
		cfg.live = new(liveCell)
	}
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return fmt.Errorf("server: needs a TCP listener, not %T", ln)
	}
	return serve(ctx, tl, cfg)
}
