// Command hostile is scripts/soak.sh's misbehaving client. Over and over it
// connects to hbserver on 127.0.0.1, sends PINGs back to back without reading
// a PONG, waits, then closes (FIN) or resets (RST) the connection. Against a
// server with SLEEP > 0 a wait just under SLEEP ends each connection just
// before its first PONG is due; 100 PINGs and no wait leaves the server a
// queue for a client that has already gone.
//
// It talks to loopback only, and stops after -count connections or
// -duration, whichever comes first. At the end it prints one line of counts.
//
//	hostile -port 9000 -pings 20 -wait 90ms -end both -count 5000 -duration 60s
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

func main() {
	port := flag.Int("port", 0, "hbserver's port on 127.0.0.1 (required)")
	pings := flag.Int("pings", 20, "PINGs sent back to back on each connection")
	wait := flag.Duration("wait", 0, "time between the last PING and the close")
	end := flag.String("end", "close", "how each connection ends: close (FIN), reset (RST), or both in turn")
	count := flag.Int("count", 1000, "connections in all")
	duration := flag.Duration("duration", time.Minute, "stop starting connections after this long")
	parallel := flag.Int("parallel", 4, "connections at a time")
	flag.Parse()
	if err := check(*port, *pings, *count, *parallel, *end, *wait, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(*port))
	var burst []byte
	var f msg.Frame
	f.SetType(msg.Ping)
	for range *pings {
		burst = append(burst, f[:]...)
	}

	var started, failed, resets atomic.Int64
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for range *parallel {
		wg.Go(func() {
			for time.Now().Before(stop) {
				n := started.Add(1)
				if n > int64(*count) {
					return
				}
				reset := *end == "reset" || (*end == "both" && n%2 == 0)
				if err := once(addr, burst, *wait, reset); err != nil {
					failed.Add(1)
				} else if reset {
					resets.Add(1)
				}
			}
		})
	}
	wg.Wait()
	n := min(started.Load(), int64(*count))
	fmt.Printf("hostile: %d connections (%d PINGs each, then %v and %s): %d failed (connect or send), %d reset\n",
		n, *pings, *wait, *end, failed.Load(), resets.Load())
}

// check refuses values that would make the run unbounded or meaningless.
func check(port, pings, count, parallel int, end string, wait, duration time.Duration) error {
	switch {
	case port < 1 || port > 65535:
		return fmt.Errorf("-port %d: want 1 to 65535", port)
	case pings < 0:
		return fmt.Errorf("-pings %d: want 0 or more", pings)
	case count < 1 || parallel < 1:
		return fmt.Errorf("-count %d, -parallel %d: want 1 or more", count, parallel)
	case wait < 0 || duration <= 0:
		return fmt.Errorf("-wait %v, -duration %v: want wait 0 or more, duration above 0", wait, duration)
	case end != "close" && end != "reset" && end != "both":
		return fmt.Errorf("-end %q: want close, reset or both", end)
	}
	return nil
}

// once makes one hostile connection: burst, wait, then close or reset.
func once(addr string, burst []byte, wait time.Duration, reset bool) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	if reset {
		// Linger 0: Close sends RST and drops what is unsent.
		if err := c.(*net.TCPConn).SetLinger(0); err != nil {
			return fmt.Errorf("set linger: %w", err)
		}
	}
	if err := c.SetWriteDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return fmt.Errorf("set deadline: %w", err)
	}
	if _, err := c.Write(burst); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	time.Sleep(wait)
	return nil
}
