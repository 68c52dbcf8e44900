package server

import (
	"container/heap"
	"time"
)

// timers orders the connections by their next deadline (conn.wakeAt),
// earliest first. A connection is in it at most once, so however often its
// deadlines move (every frame moves the frame and probe deadlines) it holds
// one entry per connection with a deadline, never more.
type timers struct{ h timerHeap }

type timerHeap []*conn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].wakeAt.Before(h[j].wakeAt) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *timerHeap) Push(x any) {
	c := x.(*conn)
	c.heapIdx = len(*h)
	*h = append(*h, c)
}
func (h *timerHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil // a closed conn may go
	*h = old[:len(old)-1]
	c.heapIdx = -1
	return c
}

// set puts c in the queue for at, moves it, or (at zero) takes it out.
func (t *timers) set(c *conn, at time.Time) {
	switch {
	case at.IsZero() && c.heapIdx >= 0:
		heap.Remove(&t.h, c.heapIdx)
		c.wakeAt = time.Time{}
	case at.IsZero():
	case c.heapIdx >= 0:
		if !at.Equal(c.wakeAt) {
			c.wakeAt = at
			heap.Fix(&t.h, c.heapIdx)
		}
	default:
		c.wakeAt = at
		heap.Push(&t.h, c)
	}
}

// next is the earliest deadline; zero when there is none.
func (t *timers) next() time.Time {
	if len(t.h) == 0 {
		return time.Time{}
	}
	return t.h[0].wakeAt
}

// due takes out and returns the connection with the earliest deadline if
// that is at or before now.
func (t *timers) due(now time.Time) *conn {
	if len(t.h) == 0 || t.h[0].wakeAt.After(now) {
		return nil
	}
	c := heap.Pop(&t.h).(*conn)
	c.wakeAt = time.Time{}
	return c
}

func (t *timers) len() int { return len(t.h) }
