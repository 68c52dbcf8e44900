package event

import (
	"bytes"
	"strconv"
	"time"
	"unsafe"
)

// Event is one event defined once: its name, its text line and its JSON
// fields all come from the one value, so that text and JSON cannot drift
// apart, and a view that renders events its own way (a terminal in
// colour, a picture, a live page) gets the value, not a line.
type Event interface {
	// Name is the event's name, the "event" of its JSON line.
	Name() string
	// AppendText appends the text line without its time and newline; the
	// Writer escapes control and format characters in it.
	AppendText(b []byte) []byte
	// Fields writes the JSON fields, in order.
	Fields(f *Fields)
}

// Detailer is an Event whose text says more than a terminal's line holds:
// AppendText is its summary, AppendDetails the rest, lines separated by
// '\n'. The Writer writes each detail line under the summary, indented
// past the time column (a line that starts with spaces is indented
// further), and escapes each. Since '\n' ends a detail line, a peer's
// words (a NOTICE's reason) belong in the summary, where a newline is
// escaped, never in the details. JSON lines are the same as without details; taps get the details
// on the summary's line (appendTextLine).
type Detailer interface {
	AppendDetails(b []byte) []byte
}

// Emit writes e at t, the time since the start. It is generic, not a
// method taking an Event, so that an event on the stack reaches the
// Writer without being copied to the heap: emitting a PING allocates
// nothing.
func Emit[E Event](w *Writer, t time.Duration, e E) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t = w.advance(t)
	if checkEmits || len(w.taps) > 0 || (w.json && w.failed == nil) {
		collect(w, e)
	}
	if len(w.taps) > 0 {
		w.tapped = appendJSONLine(w, w.tapped[:0], t, e)
		w.tappedText = appendTextLine(w, w.tappedText[:0], t, e)
		for _, tap := range w.taps {
			tap(w.tapped, w.tappedText)
		}
	}
	if w.failed != nil {
		return
	}
	if w.json {
		w.one = appendJSONLine(w, w.one[:0], t, e)
	} else {
		w.one = appendStyled(w, w.one[:0], t, e)
	}
	w.put(t, w.one)
}

// EmitTaps gives e at t to the Writer's taps only, not to its output: a
// line the output leaves out (hbserver's gate, past 20 lines a second)
// still reaches a live page, which draws state, not lines. Without taps
// it costs one atomic load.
func EmitTaps[E Event](w *Writer, t time.Duration, e E) {
	if !w.hasTaps.Load() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t = w.advance(t)
	collect(w, e)
	w.tapped = appendJSONLine(w, w.tapped[:0], t, e)
	w.tappedText = appendTextLine(w, w.tappedText[:0], t, e)
	for _, tap := range w.taps {
		tap(w.tapped, w.tappedText)
	}
}

// collect writes e's fields to w.fields, and checks them against the
// declaration under go test; w.mu is held.
func collect[E Event](w *Writer, e E) {
	w.fields = Fields{b: w.fields.b[:0], check: checkEmits, keys: w.fields.keys[:0]}
	e.Fields(&w.fields)
	if checkEmits {
		mustBeDeclared(e.Name(), w.fields.keys, w.fields.note)
	}
}

// appendJSONLine appends e's JSON line at t, newline included; w.fields
// holds e's fields (collect).
func appendJSONLine[E Event](w *Writer, b []byte, t time.Duration, e E) []byte {
	b = appendJSONHead(b, t, e.Name())
	return append(append(b, w.fields.b...), "}\n"...)
}

// appendTextLine appends e's text as one line at t, newline included,
// without colour and with the time since the start: the line that taps
// get, for a page that shows an event in one line. Details (Detailer)
// follow the summary after "; ", a detail's continued lines after a
// space. w.mu is held.
func appendTextLine[E Event](w *Writer, b []byte, t time.Duration, e E) []byte {
	w.raw = e.AppendText(w.raw[:0])
	b = appendTime(b, t)
	b = append(b, "  "...)
	b = appendText(b, unsafe.String(unsafe.SliceData(w.raw), len(w.raw)))
	if _, ok := any(e).(Detailer); ok {
		w.raw = appendDetails(w.raw[:0], any(e))
		if len(w.raw) == 0 {
			// Nothing to add (hbserver's connected line without kernel
			// options): no "; " after the summary.
			return append(b, '\n')
		}
		for line := range bytes.SplitSeq(w.raw, newline) {
			if trimmed := bytes.TrimLeft(line, " "); len(trimmed) < len(line) {
				b = append(b, ' ')
				line = trimmed
			} else {
				b = append(b, "; "...)
			}
			b = appendText(b, unsafe.String(unsafe.SliceData(line), len(line)))
		}
	}
	return append(b, '\n')
}

// appendStyled appends e's text as w writes it to its output: the time in
// w's clock, the summary, then its details (Detailer) on lines of their
// own, each line in e's tone when w writes colour; the summary of a
// wrapper is wrapped to fit lineWidth (wrap.go). The escape sequences are
// the tone's only, added after the text was escaped. w.mu is held.
func appendStyled[E Event](w *Writer, b []byte, t time.Duration, e E) []byte {
	on, off := "", ""
	if w.style.Color {
		on, off = toneFor(e).sgr()
	}
	w.raw = e.AppendText(w.raw[:0])
	b = w.appendClock(b, t)
	b = append(b, "  "...)
	text := w.clockWidth() + 2
	if _, ok := any(e).(wrapper); ok {
		b = appendWrapped(b, w.raw, text, text+detailIndent+continueIndent, on, off)
	} else {
		b = appendText(append(b, on...), unsafe.String(unsafe.SliceData(w.raw), len(w.raw)))
		b = append(append(b, off...), '\n')
	}
	if _, ok := any(e).(Detailer); !ok {
		return b
	}
	// Converted again only here: an event without details (a PING) is
	// not copied to the heap.
	w.raw = appendDetails(w.raw[:0], any(e))
	for rest := w.raw; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		b = appendSpaces(b, text+detailIndent)
		b = appendText(append(b, on...), unsafe.String(unsafe.SliceData(line), len(line)))
		b = append(append(b, off...), '\n')
	}
	return b
}

// appendDetails appends e's details; e is a Detailer.
func appendDetails(b []byte, e any) []byte { return e.(Detailer).AppendDetails(b) }

// detailIndent is how far a detail line starts past the summary's text.
const detailIndent = 2

// Fields is where an Event writes its JSON fields: each method appends
// one, as encoding/json would write its value.
type Fields struct {
	b         []byte
	declaring bool     // Want is always true: every field an event may have is written
	check     bool     // under go test: keys are kept, to be checked against Declared
	keys      []string // the keys written, when check
	note      string   // the "note" field's value, when check: a note's kind
}

func (f *Fields) key(k string) {
	if f.check {
		f.keys = append(f.keys, k)
	}
	f.b = append(f.b, ',')
	f.b = appendJSONString(f.b, k)
	f.b = append(f.b, ':')
}

// Int writes an integer field.
func (f *Fields) Int(k string, v int64) { f.key(k); f.b = strconv.AppendInt(f.b, v, 10) }

// Uint writes an unsigned integer field.
func (f *Fields) Uint(k string, v uint64) { f.key(k); f.b = strconv.AppendUint(f.b, v, 10) }

// Str writes a string field.
func (f *Fields) Str(k, v string) {
	if f.check && k == "note" {
		f.note = v
	}
	f.key(k)
	f.b = appendJSONString(f.b, v)
}

// Bool writes a boolean field.
func (f *Fields) Bool(k string, v bool) { f.key(k); f.b = strconv.AppendBool(f.b, v) }

// Secs writes a duration in seconds (Seconds); k should end in "_s".
func (f *Fields) Secs(k string, d time.Duration) { f.key(k); f.b = appendJSONFloat(f.b, Seconds(d)) }

// Any writes any other value, as appendJSONValue does.
func (f *Fields) Any(k string, v any) { f.key(k); f.b = appendJSONValue(f.b, v) }

// Want is cond, or true when the fields are being declared: an Event
// writes a field that it does not always have inside "if f.Want(cond)",
// so that its declaration lists it.
func (f *Fields) Want(cond bool) bool { return cond || f.declaring }
