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
	w.Emit(19001*time.Millisecond+400*time.Microsecond, Dead, "DEAD", F("cause", "heartbeat"))
	if got, want := b.String(), "  19.001  DEAD\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, true)
	w.Emit(1500*time.Millisecond, Pong, "ignored in JSON", F("seq", 2), Secs("rtt_s", 1234567*time.Nanosecond))
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
	w.Emit(0, Note, "one")
	w.Emit(0, Note, "two")
	if f.n != 1 || w.Err() == nil {
		t.Fatalf("writes after a failure: %d, err %v", f.n, w.Err())
	}
}
