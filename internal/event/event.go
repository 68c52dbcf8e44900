// Package event writes the tools' timelines: one line per event, prefixed
// with the time since the start (connect for hbclient, listen for hbserver)
// to the millisecond, or, with JSON on, one JSON object per line.
//
// Every JSON line has "t" (seconds since the start, a number) and "event"
// (its name), then the event's own fields in the order they were given.
// Durations are written as seconds in fields whose names end in "_s".
//
// Example:
//
//	w := event.NewWriter(os.Stdout, jsonOn)
//	w.Emit(1500*time.Millisecond, event.Ping, "PING #1 sent", event.F("seq", 1))
//
// prints "   1.500  PING #1 sent" or {"t":1.5,"event":"ping","seq":1}.
package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Names of the events that scripts rely on (see README.md, "Events").
const (
	Listening = "listening" // hbserver: bound and accepting
	Connected = "connected" // a connection is up; hbclient adds the predicted detection times
	Ping      = "ping"      // a PING was sent (hbclient) or received (hbserver)
	Pong      = "pong"      // a PONG came back in time (hbclient) or was sent (hbserver)
	LatePong  = "late_pong" // a PONG came after its probe's deadline, or answered no PING
	Missed    = "missed"    // a probe went unanswered within the interval
	Data      = "data"      // any other frame: TYPE1, TYPE2 or a type we do not know
	Dead      = "dead"      // the peer was declared dead
	Closed    = "closed"    // the connection ended, with the reason
	Note      = "note"      // something worth knowing once, such as a peer's byte order
	Error     = "error"     // an I/O error
	Stopped   = "stopped"   // hbserver stopped (signal), with its totals
	Stats     = "stats"     // hbserver's --stats-every: connections, goroutines, files, memory

	KernelProbe      = "kernel_probe"      // a kernel keep-alive probe went unanswered (TCP_INFO)
	KernelRetransmit = "kernel_retransmit" // the kernel retransmitted unacknowledged data (TCP_INFO)
)

// Field is one named value of an event.
type Field struct {
	Key   string
	Value any
}

// F makes a Field.
func F(key string, value any) Field { return Field{key, value} }

// Secs makes a Field of a duration in seconds; key should end in "_s".
func Secs(key string, d time.Duration) Field { return Field{key, Seconds(d)} }

// Seconds is d in seconds, rounded to the microsecond so that JSON stays
// readable.
func Seconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Second)
}

// Writer writes events to one io.Writer; it is safe for concurrent use. A
// write error (a closed stdout, say) stops further output but is otherwise
// ignored: a heartbeat must not die because nobody reads its log.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	buf    bytes.Buffer
	failed error
}

// NewWriter returns a Writer of human text, or of JSON lines when jsonLines
// is true.
func NewWriter(w io.Writer, jsonLines bool) *Writer {
	return &Writer{w: w, json: jsonLines}
}

// Discard is a Writer that writes nothing, for tests and quiet callers.
func Discard() *Writer { return NewWriter(io.Discard, false) }

// Emit writes one event. t is the time since the start; text is the human
// line without its time prefix; fields are the JSON fields.
func (w *Writer) Emit(t time.Duration, name, text string, fields ...Field) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return
	}
	w.buf.Reset()
	if w.json {
		fmt.Fprintf(&w.buf, `{"t":%s,"event":%q`, jsonNumber(Seconds(t)), name)
		for _, f := range fields {
			v, err := json.Marshal(f.Value)
			if err != nil {
				v, _ = json.Marshal(fmt.Sprint(f.Value))
			}
			k, _ := json.Marshal(f.Key)
			w.buf.WriteByte(',')
			w.buf.Write(k)
			w.buf.WriteByte(':')
			w.buf.Write(v)
		}
		w.buf.WriteString("}\n")
	} else {
		fmt.Fprintf(&w.buf, "%8.3f  %s\n", t.Seconds(), text)
	}
	_, w.failed = w.w.Write(w.buf.Bytes())
}

// Err returns the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
