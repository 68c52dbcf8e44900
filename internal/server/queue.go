//go:build linux

package server

import (
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// maxQueued bounds the PINGs one connection may have waiting for their
// SLEEP (or for earlier output to leave). While the queue is full the
// connection is not read, so a client that pipelines waits, as it would
// against the C server, which does not read while it sleeps; the kernel's
// buffers, not the server's heap, hold what it sends meanwhile. Four
// PINGs are about 4.4 KB: a client cannot make the server hold more.
const maxQueued = 4

// maxSpareQueues bounds the empty queues the server keeps for reuse: a
// queue is lent to a connection only while PINGs wait in it.
const maxSpareQueues = 64

// queued is a PING waiting for its SLEEP: the frame its PONG echoes, when
// the PONG is due, and what the timeline says of it.
type queued struct {
	pingInfo
	due time.Time
	f   msg.Frame
}

// pingQueue is a connection's waiting PINGs, oldest first: a ring of
// maxQueued.
type pingQueue struct {
	q       [maxQueued]queued
	head, n int
}

func (pq *pingQueue) full() bool { return pq.n == maxQueued }

// push adds a PING at the back; the queue must not be full.
func (pq *pingQueue) push(p pingInfo, due time.Time, f *msg.Frame) {
	q := &pq.q[(pq.head+pq.n)%maxQueued]
	q.pingInfo, q.due, q.f = p, due, *f
	pq.n++
}

// front is the oldest PING; the queue must not be empty.
func (pq *pingQueue) front() *queued { return &pq.q[pq.head] }

// back is the newest PING; the queue must not be empty.
func (pq *pingQueue) back() *queued { return &pq.q[(pq.head+pq.n-1)%maxQueued] }

// pop removes the oldest PING; what front returned stays valid until the
// next push.
func (pq *pingQueue) pop() {
	pq.head = (pq.head + 1) % maxQueued
	pq.n--
}

// lendQueue gives a connection an empty queue.
func (s *srv) lendQueue() *pingQueue {
	if k := len(s.spareQueues); k > 0 {
		pq := s.spareQueues[k-1]
		s.spareQueues = s.spareQueues[:k-1]
		return pq
	}
	return new(pingQueue)
}

// returnQueue takes back a queue a connection no longer needs.
func (s *srv) returnQueue(pq *pingQueue) {
	if pq == nil || len(s.spareQueues) >= maxSpareQueues {
		return
	}
	pq.head, pq.n = 0, 0
	s.spareQueues = append(s.spareQueues, pq)
}
