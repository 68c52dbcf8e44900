// Package event writes the tools' timelines: one line per event, prefixed
// with the time since the start (connect for hbclient, listen for hbserver)
// to the millisecond, or, with JSON on, one JSON object per line.
//
// Every event is a type (an Event) that gives both its text line and its
// JSON, so that the two cannot drift apart: server.go, client.go and
// load.go hold hbserver's, hbclient's and the load mode's. Every JSON line
// has "t" (seconds since the start, a number) and "event" (its name), then
// the event's own fields in the order it writes them. Durations are
// written as seconds in fields whose names end in "_s". registry.go lists
// the types (Kinds), from which the declaration of every event and field
// comes, and README.md's Events table lists the same.
//
// The tools write through NewBuffered: a bounded buffer that a goroutine of
// its own drains, so that a stdout nobody reads never holds up a heartbeat.
//
// Example:
//
//	w := event.NewBuffered(os.Stdout, jsonOn)
//	defer w.Close()
//	event.Emit(w, 1500*time.Millisecond, event.PingSent{Seq: 1})
//
// prints "   1.500  PING #1 sent" or {"t":1.5,"event":"ping","seq":1}.
package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
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

	Dropped = "dropped" // lines the output could not take were left out (NewBuffered)
)

// Seconds is d in seconds, rounded to the microsecond so that JSON stays
// readable.
func Seconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)) / float64(time.Second)
}

// BufferSize is how many bytes of whole lines a buffered Writer holds for
// its output before it drops lines: a burst such as hbserver closing
// thousands of connections at once fits, a stdout that is never read does
// not grow the process.
const BufferSize = 1 << 20

// CloseWait is how long Close waits for the buffered lines to be written: a
// reader that reads gets them all, a stdout that is never read does not keep
// a tool from exiting on its verdict or a signal.
const CloseWait = 500 * time.Millisecond

// Writer writes events to one io.Writer; it is safe for concurrent use.
//
// The t of its lines never decreases: an Emit whose t is earlier than the
// line before it (two goroutines that read the clock, then reach the lock in
// the other order) is written with the earlier line's t.
//
// A write error (a closed stdout, say) stops further output but is otherwise
// ignored: a heartbeat must not die because nobody reads its log.
type Writer struct {
	mu         sync.Mutex
	out        io.Writer
	json       bool
	last       time.Duration // t of the last line
	line       []byte        // the line being formatted, reused
	failed     error
	taps       []func(jsonLine, textLine []byte) // see Tap
	hasTaps    atomic.Bool                       // len(taps) > 0, read without the lock
	tapped     []byte                            // the JSON line for taps, reused
	tappedText []byte                            // the text line for taps, reused
	fields     Fields                            // a typed event's fields, reused (Emit)
	raw        []byte                            // a typed event's text before escaping, reused
	one        []byte                            // a typed event's line, reused
	style      Style                             // how text is written (SetStyle)
	zero       time.Time                         // the start on the wall clock (Start)

	// Set by NewBuffered only; zero for a Writer that writes at once.
	buffered bool
	pending  []byte        // whole lines the drainer has yet to write, at most BufferSize bytes
	writing  int64         // lines in the drainer's write under way
	dropped  int64         // lines dropped since the last "dropped" event
	total    int64         // lines dropped in all
	closing  bool          // Close was called: no more lines
	wake     chan struct{} // a token when pending gets lines or Close is called
	done     chan struct{} // closed when the drainer returns
}

// NewWriter returns a Writer of human text, or of JSON lines when jsonLines
// is true, that writes each line to w at once, in Emit. It suits a w that
// never blocks (a bytes.Buffer in a test, a pipe that a test reads); for a
// tool's stdout use NewBuffered.
func NewWriter(w io.Writer, jsonLines bool) *Writer {
	return &Writer{out: w, json: jsonLines}
}

// NewBuffered returns a Writer like NewWriter's whose Emit never waits for
// w: lines go to a buffer of BufferSize bytes that a goroutine of its own
// writes to w. When the buffer is full, lines are dropped and counted; a
// "dropped" event says how many as soon as there is room again (and how
// many in all so far), and Close adds one for those not yet said. Close must be called to end the goroutine.
func NewBuffered(w io.Writer, jsonLines bool) *Writer {
	ew := &Writer{out: w, json: jsonLines, buffered: true,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go ew.drain()
	return ew
}

// Discard is a Writer that writes nothing, for tests and quiet callers.
func Discard() *Writer { return NewWriter(io.Discard, false) }

// advance gives the time of the next line: t, or the last line's when t
// is earlier, so that t never decreases in a stream.
func (w *Writer) advance(t time.Duration) time.Duration {
	if t < w.last {
		t = w.last
	}
	w.last = t
	return t
}

// put writes one line, formatted at t, or queues it for the drainer, or
// drops it; w.mu is held.
func (w *Writer) put(t time.Duration, line []byte) {
	if w.failed != nil {
		return
	}
	if !w.buffered {
		_, w.failed = w.out.Write(line)
		return
	}
	if w.closing {
		w.dropped++
		w.total++
		return
	}
	// After drops, a line saying how many goes first, when both fit.
	w.line = w.line[:0]
	if w.dropped > 0 {
		w.line = w.appendDropped(w.line, t)
	}
	w.line = append(w.line, line...)
	if !w.queue(w.line) {
		w.dropped++
		w.total++
		return
	}
	w.dropped = 0
}

// Tap makes the Writer call f with the JSON line and the text line of
// every event emitted from now on (each with its newline; the text line
// with its time, as a Writer of text writes it), in order, whether the
// Writer writes text or JSON and even after its output failed: a live
// view or a picture of the run sees every event, and can put it in the
// timeline's words without wording it a second time. f is called with
// the Writer's lock held, so it must copy what it keeps and return at
// once; it must not emit. The lines are valid only during the call. Taps
// are for events as they happen: the "dropped" lines that say what the
// output lost do not reach them.
func (w *Writer) Tap(f func(jsonLine, textLine []byte)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.taps = append(w.taps, f)
	w.hasTaps.Store(true)
}

// queue adds a line for the drainer if it fits, and wakes the drainer.
func (w *Writer) queue(line []byte) bool {
	if len(w.pending)+len(line) > BufferSize {
		return false
	}
	w.pending = append(w.pending, line...)
	if len(w.pending) == len(line) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// appendDropped formats the "dropped" event: the lines dropped since the
// last one and how many in all so far, so that the last one in a stream
// gives the total and no count is said twice; w.mu is held.
func (w *Writer) appendDropped(b []byte, t time.Duration) []byte {
	e := dropped{Lines: w.dropped, Total: w.total}
	collect(w, e)
	if w.json {
		return appendJSONLine(w, b, t, e)
	}
	return appendStyled(w, b, t, e)
}

// dropped is the "dropped" event.
type dropped struct{ Lines, Total int64 }

func (dropped) Name() string { return Dropped }

func (e dropped) AppendText(b []byte) []byte {
	b = strconv.AppendInt(b, e.Lines, 10)
	b = append(b, " event lines dropped"...)
	if e.Total != e.Lines {
		b = append(b, " ("...)
		b = strconv.AppendInt(b, e.Total, 10)
		b = append(b, " in all)"...)
	}
	return append(b, ": the output was not read fast enough"...)
}

func (e dropped) Fields(f *Fields) {
	f.Int("lines", e.Lines)
	f.Int("total", e.Total)
}

// appendJSONHead appends a JSON line's start: its "t" and "event".
func appendJSONHead(b []byte, t time.Duration, name string) []byte {
	b = append(b, `{"t":`...)
	b = appendJSONFloat(b, Seconds(t))
	b = append(b, `,"event":`...)
	return appendJSONString(b, name)
}

// appendTime appends t in seconds to the millisecond, right-aligned in 8
// columns, as "%8.3f" would.
func appendTime(b []byte, t time.Duration) []byte {
	var num [24]byte
	s := strconv.AppendFloat(num[:0], t.Seconds(), 'f', 3, 64)
	for i := len(s); i < 8; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// drain writes the pending lines to the output until Close, or until a
// write fails.
func (w *Writer) drain() {
	defer close(w.done)
	var out []byte
	for {
		w.mu.Lock()
		for len(w.pending) == 0 && !w.closing {
			w.mu.Unlock()
			<-w.wake
			w.mu.Lock()
		}
		if len(w.pending) == 0 {
			w.mu.Unlock()
			return
		}
		out, w.pending = w.pending, out[:0]
		w.writing = int64(bytes.Count(out, newline))
		w.mu.Unlock()
		_, err := w.out.Write(out)
		w.mu.Lock()
		w.writing = 0
		w.mu.Unlock()
		if err != nil {
			w.mu.Lock()
			w.failed = err
			w.pending = nil
			w.mu.Unlock()
			return
		}
	}
}

// ErrBlocked is Close's error when the output took no more lines within
// CloseWait; the error is a *BlockedError, which says how many.
var ErrBlocked = errors.New("event: " + blocked)

const blocked = "output blocked"

// A BlockedError says what Close left unwritten when the output took no
// more lines within Wait. errors.Is matches it to ErrBlocked.
type BlockedError struct {
	Unwritten int64         // event lines not written, the "dropped" line among them
	Dropped   int64         // lines dropped before Close, when the buffer was full
	Wait      time.Duration // how long Close waited: CloseWait
}

func (e *BlockedError) Error() string { return "event: " + e.lost() }

func (e *BlockedError) Unwrap() error { return ErrBlocked }

// lost says what was lost, without the package's name, for a tool to say
// after its own.
func (e *BlockedError) lost() string {
	s := fmt.Sprintf("%s: %d event lines not written within %s", blocked, e.Unwritten, e.Wait)
	if e.Dropped > 0 {
		// The "dropped" line that says so may be among the unwritten.
		s += fmt.Sprintf(", %d dropped before", e.Dropped)
	}
	return s
}

var newline = []byte{'\n'}

// Close ends a buffered Writer: it adds a "dropped" event for the lines
// dropped since the last one, if any, and waits at most CloseWait for the
// buffered lines to be written. It returns the first write error, or an
// error that wraps ErrBlocked and says how many lines were left unwritten;
// lines emitted after Close are dropped. For a Writer from NewWriter it only
// returns the first write error.
func (w *Writer) Close() error {
	if !w.buffered {
		return w.Err()
	}
	w.mu.Lock()
	if !w.closing {
		w.closing = true
		if w.dropped > 0 && w.failed == nil {
			// It may go past BufferSize: it is the last line.
			w.pending = w.appendDropped(w.pending, w.last)
			w.dropped = 0
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
	wait := time.NewTimer(CloseWait)
	defer wait.Stop()
	select {
	case <-w.done:
	case <-wait.C:
		w.mu.Lock()
		defer w.mu.Unlock()
		// A line in a write under way may be partly out; it counts as
		// not written.
		n := int64(bytes.Count(w.pending, newline)) + w.writing
		return &BlockedError{Unwritten: n, Dropped: w.total, Wait: CloseWait}
	}
	return w.Err()
}

// CloseReporting is Close for a tool: when the output was blocked, it says
// on stderr, which can still be written, how many lines were left
// unwritten, after "prog: ". Other errors are not worth a line there: the
// output was closed on purpose.
func (w *Writer) CloseReporting(stderr io.Writer, prog string) {
	var lost *BlockedError
	if err := w.Close(); errors.As(err, &lost) {
		fmt.Fprintf(stderr, "%s: %s\n", prog, lost.lost())
	}
}

// Dropped returns how many lines were dropped in all (NewBuffered only).
func (w *Writer) Dropped() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// Err returns the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// Style is how a Writer of text writes its lines. The zero value is the
// plain timeline: no colour, the time since the start.
type Style struct {
	// Color puts each event's line in its tone (toneOf): for a terminal,
	// where the verdict must stand out from the back of a room.
	Color bool
	// Wall writes each line's time as the time of day (15:04:05.000),
	// from the start that Start gives, so that two tools' lines can be
	// read side by side. False: seconds since the start.
	Wall bool
}

// SetStyle sets how w writes text from now on; JSON lines and the lines
// that taps get are the same in every style. Until Start is called, a
// wall clock counts from SetStyle's call.
func (w *Writer) SetStyle(s Style) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.style = s
	if w.zero.IsZero() {
		w.zero = time.Now()
	}
}

// Start says when the start was, on the wall clock: the instant every t
// given to Emit counts from (the connect, the listen). Only Style.Wall
// uses it.
func (w *Writer) Start(at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.zero = at
}

// wallFormat is a line's time under Style.Wall: to the millisecond, as
// the time since the start is.
const wallFormat = "15:04:05.000"

// appendClock appends t in w's clock: as appendTime, or the time of day
// under Style.Wall.
func (w *Writer) appendClock(b []byte, t time.Duration) []byte {
	if !w.style.Wall {
		return appendTime(b, t)
	}
	return w.zero.Add(t).AppendFormat(b, wallFormat)
}

// clockWidth is how many columns appendClock takes (at least: a run of
// more than 9999 s widens the time since the start).
func (w *Writer) clockWidth() int {
	if !w.style.Wall {
		return 8
	}
	return len(wallFormat)
}
