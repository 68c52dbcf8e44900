//go:build linux

package server

// leavingList is the connections on their way out, oldest first: closing
// (the peer has sent its FIN) or lingering (told why it ends). They still
// hold a descriptor and count toward MaxConns; a newcomer that finds the
// server full ends the oldest of them to take its place (see adopt).
type leavingList struct {
	head, tail *conn
}

// push adds c, which has just started leaving, at the back.
func (l *leavingList) push(c *conn) {
	c.leavePrev, c.leaveNext = l.tail, nil
	if l.tail != nil {
		l.tail.leaveNext = c
	} else {
		l.head = c
	}
	l.tail = c
}

// remove takes c out of the list; it does nothing when c is not in it.
func (l *leavingList) remove(c *conn) {
	if l.head != c && c.leavePrev == nil {
		return
	}
	if c.leavePrev != nil {
		c.leavePrev.leaveNext = c.leaveNext
	} else {
		l.head = c.leaveNext
	}
	if c.leaveNext != nil {
		c.leaveNext.leavePrev = c.leavePrev
	} else {
		l.tail = c.leavePrev
	}
	c.leavePrev, c.leaveNext = nil, nil
}
