// Package idletest is a middlebox for tests, in a few lines: a loopback
// TCP proxy that forgets a connection after a silence, as a NAT, a proxy
// or a load balancer does, without root or network namespaces.
package idletest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Expiry is what the proxy does with a connection idle for its timeout.
type Expiry uint8

const (
	// Close closes both sides with a FIN, as HAProxy's timeouts do.
	Close Expiry = iota
	// Reset resets both sides (SO_LINGER 0).
	Reset
	// Drop stops forwarding, silently, both ways.
	Drop
	// InboundDrop drops what comes from the server once the connection
	// has been idle for the timeout; what the client sends is forwarded
	// and makes the mapping anew, as a NAT that forgets mappings for
	// inbound packets only. Only the client's packets restart the timer.
	InboundDrop
)

// Proxy forwards 127.0.0.1 connections to a server and forgets them
// after Timeout of silence (no byte either way).
type Proxy struct {
	Addr string // where to connect
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]bool
}

// Start starts a proxy to server; it stops when the test ends.
func Start(t testing.TB, server string, timeout time.Duration, expiry Expiry) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, open: map[net.Conn]bool{}}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Go(func() { p.serve(c, server, timeout, expiry) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.open {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *Proxy) track(c net.Conn, on bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && p.open == nil {
		return false
	}
	if on {
		p.open[c] = true
	} else {
		delete(p.open, c)
	}
	return true
}

// serve forwards one connection.
func (p *Proxy) serve(client net.Conn, server string, timeout time.Duration, expiry Expiry) {
	up, err := net.Dial("tcp", server)
	if err != nil {
		client.Close()
		return
	}
	p.track(client, true)
	p.track(up, true)
	defer func() {
		p.track(client, false)
		p.track(up, false)
		client.Close()
		up.Close()
	}()
	var mu sync.Mutex
	forgotten := false
	timer := time.AfterFunc(timeout, func() {
		mu.Lock()
		forgotten = true
		mu.Unlock()
		switch expiry {
		case Close:
			client.Close()
			up.Close()
		case Reset:
			client.(*net.TCPConn).SetLinger(0)
			up.(*net.TCPConn).SetLinger(0)
			client.Close()
			up.Close()
		}
	})
	defer timer.Stop()
	// pass reports whether a chunk from the client (fromClient) or the
	// server goes through, and restarts the timer for those that count.
	pass := func(fromClient bool) bool {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case expiry == InboundDrop && fromClient:
			forgotten = false
		case forgotten:
			return false
		case expiry == InboundDrop:
			return true // the server's packets do not restart it
		}
		timer.Reset(timeout)
		return true
	}
	var wg sync.WaitGroup
	wg.Go(func() { forward(up, client, func() bool { return pass(true) }); up.Close() })
	forward(client, up, func() bool { return pass(false) })
	client.Close()
	wg.Wait()
}

// forward copies from src to dst the chunks pass lets through.
func forward(dst io.Writer, src io.Reader, pass func() bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && pass() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
