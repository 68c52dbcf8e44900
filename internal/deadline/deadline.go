// Package deadline orders an event loop's items by their next deadline,
// earliest first. An item is in a Queue at most once: however often its
// deadline moves (every frame a connection receives moves it), it holds one
// entry, and an item with no deadline holds none.
//
// Example:
//
//	type conn struct{ slot deadline.Slot }
//	func (c *conn) DeadlineSlot() *deadline.Slot { return &c.slot }
//
//	var q deadline.Queue[*conn]
//	q.Set(c, time.Now().Add(time.Second))
//	for c, ok := q.Due(time.Now()); ok; c, ok = q.Due(time.Now()) { ... }
package deadline

import "time"

// Slot is an item's place in a Queue; embed one in each item. The zero
// value is in no queue.
type Slot struct {
	at  time.Time
	pos int // index in the queue + 1; zero: not queued
}

// At is the deadline the item is queued for; zero when it is not queued.
func (s *Slot) At() time.Time { return s.at }

// Item is what a Queue orders: something with a Slot. One item belongs to
// one Queue at most.
type Item interface{ DeadlineSlot() *Slot }

// Queue is a binary heap of items by deadline. The zero value is empty and
// ready. It is not safe for concurrent use: it belongs to one loop.
type Queue[T Item] struct{ h []T }

// Len is how many items have a deadline.
func (q *Queue[T]) Len() int { return len(q.h) }

// Set queues x for at, moves it there, or (at zero) takes it out.
func (q *Queue[T]) Set(x T, at time.Time) {
	s := x.DeadlineSlot()
	switch {
	case at.IsZero() && s.pos > 0:
		q.remove(s.pos - 1)
	case at.IsZero():
	case s.pos > 0:
		if !at.Equal(s.at) {
			s.at = at
			i := s.pos - 1
			if !q.up(i) {
				q.down(i)
			}
		}
	default:
		s.at = at
		q.h = append(q.h, x)
		s.pos = len(q.h)
		q.up(len(q.h) - 1)
	}
}

// Next is the earliest deadline; zero when no item has one.
func (q *Queue[T]) Next() time.Time {
	if len(q.h) == 0 {
		return time.Time{}
	}
	return q.h[0].DeadlineSlot().at
}

// Due takes out and returns the item with the earliest deadline if that
// deadline is at or before now.
func (q *Queue[T]) Due(now time.Time) (x T, ok bool) {
	if len(q.h) == 0 || q.h[0].DeadlineSlot().at.After(now) {
		return x, false
	}
	x = q.h[0]
	q.remove(0)
	return x, true
}

// remove takes out the item at index i.
func (q *Queue[T]) remove(i int) {
	s := q.h[i].DeadlineSlot()
	last := len(q.h) - 1
	if i != last {
		q.swap(i, last)
	}
	var zero T
	q.h[last] = zero // a finished item may be collected
	q.h = q.h[:last]
	if i != last && !q.up(i) {
		q.down(i)
	}
	s.at, s.pos = time.Time{}, 0
}

func (q *Queue[T]) less(i, j int) bool {
	return q.h[i].DeadlineSlot().at.Before(q.h[j].DeadlineSlot().at)
}

func (q *Queue[T]) swap(i, j int) {
	q.h[i], q.h[j] = q.h[j], q.h[i]
	q.h[i].DeadlineSlot().pos = i + 1
	q.h[j].DeadlineSlot().pos = j + 1
}

// up moves the item at i towards the root; it reports whether it moved.
func (q *Queue[T]) up(i int) bool {
	moved := false
	for i > 0 {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.swap(i, parent)
		i, moved = parent, true
	}
	return moved
}

// down moves the item at i towards the leaves.
func (q *Queue[T]) down(i int) {
	n := len(q.h)
	for {
		least := i
		if l := 2*i + 1; l < n && q.less(l, least) {
			least = l
		}
		if r := 2*i + 2; r < n && q.less(r, least) {
			least = r
		}
		if least == i {
			return
		}
		q.swap(i, least)
		i = least
	}
}
