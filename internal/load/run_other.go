//go:build !linux

package load

import (
	"context"

	"github.com/heartbeat/heartbeat/internal/event"
)

// Run returns ErrUnsupportedOS: the load mode's event loop is Linux's
// epoll (loop.go), and the portable backend is not built yet.
func Run(ctx context.Context, cfg Config, ev *event.Writer) (Summary, error) {
	return Summary{}, ErrUnsupportedOS
}
