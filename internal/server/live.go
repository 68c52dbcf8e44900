package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
)

// Live is what a command can change while the server runs: SLEEP and the
// fault. A value is never changed once shared: a command makes a new one.
type Live struct {
	Sleep time.Duration
	Fault Fault
}

// Command changes SLEEP or the fault of a running server (see
// Config.Commands).
type Command struct {
	// Text is the command as it was given ("sleep 5"), for the timeline.
	Text string
	// SetSleep says Sleep is the new SLEEP (at least zero).
	SetSleep bool
	Sleep    time.Duration
	// SetFault says Fault is the new fault; NoFault ends one.
	SetFault bool
	Fault    Fault
}

// liveCell is where the commands' settings reach the connections: an atomic
// pointer that each connection loads at each PING, so a change needs no
// lock and no word to the event loop, and costs a PING one load. Nil
// until the first command: until then every connection keeps the
// Config's.
type liveCell = atomic.Pointer[Live]

// takeCommands starts the goroutine, counted in wg, that applies
// cfg.Commands until ctx ends, stop is called or the channel closes: each
// command makes the settings anew, is said in the timeline, and is taken
// by each connection at its next PING.
func (s *srv) takeCommands(ctx context.Context, wg *sync.WaitGroup) (stop func()) {
	if s.cfg.Commands == nil {
		return func() {}
	}
	ctx, stop = context.WithCancel(ctx)
	cur := Live{Sleep: s.cfg.Sleep, Fault: s.cfg.Fault}
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case c, ok := <-s.cfg.Commands:
				if !ok {
					return
				}
				if c.SetSleep {
					cur.Sleep = c.Sleep
				}
				if c.SetFault {
					cur.Fault = c.Fault
				}
				next := cur
				s.cfg.live.Store(&next)
				event.Emit(s.ev, s.since(), event.CommandTaken{Command: c.Text, Sleep: cur.Sleep, Fault: string(cur.Fault)})
			}
		}
	})
	return stop
}
