package client

import (
	"net"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// sendQueue is how many frames may wait for the writer. Beyond the socket's
// send buffer, a peer that has stopped reading can make the client hold
// only this many frames (4 KiB); what does not fit is dropped and said.
const sendQueue = 4

// outFrame is a frame for the writer: one of our PINGs (seq > 0), the
// answer to a server's PING (seq 0), or the HELLO (hello).
type outFrame struct {
	f     msg.Frame
	seq   uint64
	hello bool
}

// sent is the writer's report on one frame.
type sent struct {
	seq   uint64
	hello bool
	at    time.Time // when its write started: the peer cannot have it before
	err   error
}

// sender writes frames in a goroutine of its own, so that a peer that stops
// reading holds up that goroutine only, never the loop and its deadlines:
// a full send buffer is no I/O error, and the heartbeat still gives its
// verdict on time. Every write follows the one rule of trySend.
type sender struct {
	q       chan outFrame
	reports chan sent
	probes  int // our PINGs handed over and not yet reported
}

// newSender starts the writer on conn. It ends when done is closed (and a
// write in progress ends when conn is closed) or after a write fails;
// finished is closed then.
func newSender(conn net.Conn, done <-chan struct{}, finished chan<- struct{}) *sender {
	s := &sender{q: make(chan outFrame, sendQueue), reports: make(chan sent)}
	go func() {
		defer close(finished)
		for {
			var o outFrame
			select {
			case o = <-s.q:
			case <-done:
				return
			}
			r := sent{seq: o.seq, hello: o.hello, at: time.Now()}
			_, r.err = conn.Write(o.f[:])
			select {
			case s.reports <- r:
			case <-done:
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	return s
}

// trySend queues a frame without waiting, and reports false when the queue
// is full: the peer has stopped reading, and the frame is dropped.
func (s *sender) trySend(o outFrame) bool {
	select {
	case s.q <- o:
		if o.seq != 0 {
			s.probes++
		}
		return true
	default:
		return false
	}
}

// done records the writer's report on one frame.
func (s *sender) done(r sent) {
	if r.seq != 0 {
		s.probes--
	}
}
