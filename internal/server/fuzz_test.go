package server

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
)

func frameBytes(t msg.Type, fill byte) []byte {
	var f msg.Frame
	for i := range f.Data() {
		f.Data()[i] = fill
	}
	f.SetType(t)
	return f[:]
}

// FuzzHandle feeds one connection's handler an arbitrary byte stream, in two
// writes split at cut, and checks that it ends (no panic, no hang) with one
// of the named reasons, its goroutines gone.
func FuzzHandle(f *testing.F) {
	f.Add(frameBytes(msg.Ping, 0), uint16(3))
	f.Add(append(frameBytes(msg.Ping, 1), frameBytes(msg.Ping, 2)...), uint16(1028))
	f.Add(append(append(frameBytes(msg.Ping, 0), frameBytes(msg.Ping, 0)...), frameBytes(msg.Ping, 0)...), uint16(1))
	f.Add(frameBytes(msg.Type1, 9), uint16(500))
	f.Add(frameBytes(msg.Notice, 2), uint16(0))
	f.Add(frameBytes(99, 0)[:700], uint16(100))
	f.Add([]byte{2, 0, 0, 0}, uint16(2))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		s := &srv{
			// An hour between PINGs: every PING after the first is a strike,
			// so floods, notices and the closing path are all reached.
			cfg:   Config{MinPingInterval: time.Hour, FrameTimeout: time.Second, WriteTimeout: time.Second},
			ev:    event.Discard(),
			start: time.Now(),
		}
		client, server := net.Pipe()
		go func() {
			k := min(int(cut), len(data))
			client.Write(data[:k])
			client.Write(data[k:])
			client.Close()
		}()
		drained := make(chan struct{})
		go func() { io.Copy(io.Discard, client); close(drained) }()
		var fault atomic.Bool
		reason, _ := s.handle(context.Background(), server, "", func(fs ...event.Field) []event.Field { return fs }, &fault)
		server.Close()
		<-drained
		switch reason {
		case PeerClosed, MidFrame, PingFlood, IOError, FrameTimeout:
		default:
			t.Fatalf("ended with %q", reason)
		}
	})
}
