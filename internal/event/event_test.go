package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestText(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, false)
	say(w, 19001*time.Millisecond+400*time.Microsecond, "DEAD")
	if got, want := b.String(), "  19.001  DEAD\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, true)
	Emit(w, 1500*time.Millisecond, PongReceived{Seq: 2, RTT: 1234567 * time.Nanosecond})
	if got, want := b.String(), `{"t":1.5,"event":"pong","seq":2,"rtt_s":0.001235}`+"\n"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
}

type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) { f.n++; return 0, errors.New("broken pipe") }

func TestWriteErrorStopsOutput(t *testing.T) {
	f := &failing{}
	w := NewWriter(f, false)
	say(w, 0, "one")
	say(w, 0, "two")
	if f.n != 1 || w.Err() == nil {
		t.Fatalf("writes after a failure: %d, err %v", f.n, w.Err())
	}
}

// said is a note with a text and no fields, for the Writer's own tests.
type said string

func (said) Name() string                 { return Note }
func (s said) AppendText(b []byte) []byte { return append(b, s...) }
func (said) Fields(*Fields)               {}

// say emits text as a note at t.
func say(w *Writer, t time.Duration, text string) { Emit(w, t, said(text)) }
