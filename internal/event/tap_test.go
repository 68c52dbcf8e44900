package event

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// A tap sees every event as JSON and as text, in order, whatever the
// Writer's own format, and still after its output failed.
func TestTapSeesEveryEventAsJSON(t *testing.T) {
	var out failAfter
	out.left = 1
	w := NewWriter(&out, false)
	var got, texts []string
	w.Tap(func(line, text []byte) {
		got = append(got, string(line))
		texts = append(texts, string(text))
	})
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
	wantText := []string{"   1.000  PING #1 sent\n", "   2.000  PING #2 sent\n"}
	if strings.Join(texts, "") != strings.Join(wantText, "") {
		t.Errorf("tap got texts %q, want %q", texts, wantText)
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

// A tap on a Writer of JSON gets the text line too, escaped as a Writer
// of text writes it: a peer's words cannot forge a line on a live page.
func TestTapGetsTheTextOfAJSONWriter(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, true)
	var text string
	w.Tap(func(_, line []byte) { text = string(line) })
	Emit(w, time.Second, ServerWarns{Text: "slow\ndown"})
	if want := `   1.000  the server warns: slow\ndown` + "\n"; text != want {
		t.Errorf("tap's text %q, want %q", text, want)
	}
	if strings.Contains(out.String(), "warns") {
		t.Errorf("the JSON output has text: %q", out.String())
	}
}

// A line with details that has none to give (hbserver's connected line
// without kernel options) reaches a tap as its summary alone, with no
// "; " after it.
func TestTapOfEmptyDetails(t *testing.T) {
	w := NewWriter(io.Discard, false)
	var text string
	w.Tap(func(_, line []byte) { text = string(line) })
	Emit(w, time.Second, OnDetailed(Conn{ID: 1, Peer: "p"}, ServerConnected{}))
	if want := "   1.000  [#1 p] connected\n"; text != want {
		t.Errorf("tap's text %q, want %q", text, want)
	}
}
