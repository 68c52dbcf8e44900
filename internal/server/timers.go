package server

import (
	"container/heap"
	"time"
)

// timers is the event loop's one queue of deadlines, earliest first. An
// entry names the connection whose deadline it is (nil: the accept
// back-off); the connection works out which of its deadlines passed.
type timers struct{ h timerHeap }

type timerEntry struct {
	at time.Time
	c  *conn
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = timerEntry{} // drop the pointer: a closed conn may go
	*h = old[:len(old)-1]
	return e
}

func (t *timers) add(at time.Time, c *conn) { heap.Push(&t.h, timerEntry{at, c}) }

// next is the earliest deadline; zero when there is none.
func (t *timers) next() time.Time {
	if len(t.h) == 0 {
		return time.Time{}
	}
	return t.h[0].at
}

// due removes and returns the earliest entry if it is at or before now.
func (t *timers) due(now time.Time) (*conn, bool) {
	if len(t.h) == 0 || t.h[0].at.After(now) {
		return nil, false
	}
	return heap.Pop(&t.h).(timerEntry).c, true
}
