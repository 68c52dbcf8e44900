//go:build linux

package server

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
