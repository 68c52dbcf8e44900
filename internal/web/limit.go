package web

import (
	"net"
	"sync"
)

// extraConns is how many connections the page's server holds beyond
// one per page: a browser opens a few besides its stream, for the page's
// files and its controls.
const extraConns = 32

// limitListener holds at most cap(slots) connections open at once: a
// connection past that is closed as soon as it is accepted. Without it a
// local program that opens connections and sends nothing (or a request,
// then keeps the connection idle) holds a descriptor each until the
// server's timeouts, and thousands of them use up the process's open-file
// limit, which the heartbeat's own connections need: hbserver could accept
// no client. Closing at once, rather than leaving the newcomer in the
// kernel's backlog, tells a browser straight away.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &slotConn{Conn: c, free: func() { <-l.slots }}, nil
		default:
			c.Close()
		}
	}
}

// slotConn gives its slot back when it is first closed.
type slotConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}
