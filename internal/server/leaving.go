package server

import (
	"fmt"
	"time"

	"github.com/heartbeat/heartbeat/internal/plural"
)

// connList is a list of connections, oldest first, that a newcomer may end
// to take its place when the server is full (see adopt): the ones on their
// way out (closing: the peer has sent its FIN; lingering: told why it
// ends), then the ones stalled behind a full PING queue. A connection is
// on one list at most; list says which.
type connList struct {
	head, tail *conn
}

// push adds c at the back, taking it off the list it was on, if any.
func (l *connList) push(c *conn) {
	if c.list != nil {
		c.list.remove(c)
	}
	c.listPrev, c.listNext, c.list = l.tail, nil, l
	if l.tail != nil {
		l.tail.listNext = c
	} else {
		l.head = c
	}
	l.tail = c
}

// remove takes c out of the list; it does nothing when c is not on it.
func (l *connList) remove(c *conn) {
	if c.list != l {
		return
	}
	if c.listPrev != nil {
		c.listPrev.listNext = c.listNext
	} else {
		l.head = c.listNext
	}
	if c.listNext != nil {
		c.listNext.listPrev = c.listPrev
	} else {
		l.tail = c.listPrev
	}
	c.listPrev, c.listNext, c.list = nil, nil, nil
}

// makeRoom makes room for c, a newcomer accepted at now, when the server
// holds more than MaxConns: it ends the ones leaving first, then the
// stalled (a refused newcomer lingering makes MaxConns+1, so one may not
// do). When none is left to end, c is refused; makeRoom reports whether c
// is served.
func (s *srv) makeRoom(c *conn, now time.Time) bool {
	for s.over() && (s.leaving.head != nil || s.stalled.head != nil) {
		if s.leaving.head != nil {
			s.leaving.head.evict(now)
		} else {
			s.stalled.head.evict(now)
		}
	}
	if !s.over() {
		return true
	}
	c.policy.refuse(&s.fx, fmt.Sprintf("server full: %s open, the limit (--max-conns); try again later", plural.Count(s.cfg.MaxConns, "connection")), now)
	c.apply(now)
	return false
}

// over reports whether the server holds more than MaxConns connections,
// a newcomer included (the rule is Config.MaxConns's).
func (s *srv) over() bool {
	return s.cfg.MaxConns > 0 && s.open.Load() > int64(s.cfg.MaxConns)
}

// evict ends a connection on its way out, or a stalled one, to make room
// for a newcomer.
func (c *conn) evict(now time.Time) {
	c.policy.evict(&c.s.fx)
	c.apply(now)
}

// markStalled keeps c on the stalled list while its queue is full: a
// newcomer to a full server may end it, since its FIN may be stuck behind
// PINGs not read yet, more than the receive buffer holds.
func (c *conn) markStalled() {
	full := c.queue != nil && c.queue.full()
	switch {
	case full && c.list == nil:
		c.s.stalled.push(c)
	case !full && c.list == &c.s.stalled:
		c.s.stalled.remove(c)
	}
}
