package event

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// A tap sees every event as JSON, in order, whatever the Writer's own
// format, and still after its output failed.
func TestTapSeesEveryEventAsJSON(t *testing.T) {
	var out failAfter
	out.left = 1
	w := NewWriter(&out, false)
	var got []string
	w.Tap(func(line []byte) { got = append(got, string(line)) })
	Emit(w, time.Second, PingSent{Seq: 1})
	Emit(w, 2*time.Second, PingSent{Seq: 2})
	if w.Err() == nil {
		t.Fatal("the output did not fail: the test proves nothing")
	}
	want := []string{
		`{"t":1,"event":"ping","seq":1}` + "\n",
		`{"t":2,"event":"ping","seq":2}` + "\n",
	}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("tap got %q, want %q", got, want)
	}
	if !strings.Contains(out.buf.String(), "PING #1 sent") {
		t.Errorf("the text output lost its line: %q", out.buf.String())
	}
}

// failAfter takes left writes, then fails.
type failAfter struct {
	buf  bytes.Buffer
	left int
}

func (f *failAfter) Write(b []byte) (int, error) {
	if f.left == 0 {
		return 0, io.ErrClosedPipe
	}
	f.left--
	return f.buf.Write(b)
}
