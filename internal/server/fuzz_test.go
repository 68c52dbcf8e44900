package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/ending"
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

// FuzzHandle feeds the server one connection's arbitrary byte stream, in
// two writes split at cut, then half-closes, and checks that the connection ends (no panic,
// no hang) with one of the named reasons, and that the server then stops
// with nothing left behind.
func FuzzHandle(f *testing.F) {
	f.Add(frameBytes(msg.Ping, 0), uint16(3))
	f.Add(append(frameBytes(msg.Ping, 1), frameBytes(msg.Ping, 2)...), uint16(1028))
	f.Add(append(append(frameBytes(msg.Ping, 0), frameBytes(msg.Ping, 0)...), frameBytes(msg.Ping, 0)...), uint16(1))
	f.Add(frameBytes(msg.Type1, 9), uint16(500))
	f.Add(frameBytes(msg.Notice, 2), uint16(0))
	f.Add(frameBytes(99, 0)[:700], uint16(100))
	f.Add([]byte{2, 0, 0, 0}, uint16(2))
	// More PINGs than the queue holds, at SLEEP 1us (an odd cut): they
	// queue, strike and flood while earlier ones wait.
	f.Add(bytes.Repeat(frameBytes(msg.Ping, 7), 6), uint16(1029))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			// An hour between PINGs: every PING after the first is a
			// strike, so floods, notices and the closing path are reached.
			// An odd cut answers after SLEEP 1us, so PINGs queue.
			done <- Serve(ctx, ln, Config{Sleep: time.Duration(cut%2) * time.Microsecond, MinPingInterval: time.Hour, FrameTimeout: time.Second,
				WriteTimeout: time.Second, Quiet: true, Events: event.NewWriter(pw, true)})
			pw.Close()
		}()
		defer func() { cancel(); <-done }()
		closedc := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				var l map[string]any
				if json.Unmarshal(sc.Bytes(), &l) == nil && l["event"] == "closed" {
					closedc <- l["reason"].(string)
				}
			}
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go io.Copy(io.Discard, c)
		k := min(int(cut), len(data))
		c.Write(data[:k])
		c.Write(data[k:])
		c.(*net.TCPConn).CloseWrite()
		select {
		case reason := <-closedc:
			switch reason {
			case ending.PeerClosed.String(), ending.MidFrame.String(), ending.PingFlood.String(), ending.IOError.String(), ending.FrameTimeout.String(), ending.Reset.String():
			default:
				t.Fatalf("ended with %q", reason)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the connection did not end")
		}
	})
}
