package clientcmd

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/heartbeat/heartbeat/internal/web"
)

// newPicture is what --web's page draws. For now a list of the events as
// lines of text; the sequence diagram takes its place here, and only here.
func newPicture() web.Picture { return &eventList{} }

// eventList draws the events as SVG text, one line each, in the
// timeline's words.
type eventList struct {
	lines []string
}

func (l *eventList) AddText(textLine []byte) error {
	l.lines = append(l.lines, strings.TrimSpace(string(textLine)))
	return nil
}

// Add takes the JSON line, which the list does not need: its text came
// first (AddText).
func (l *eventList) Add([]byte) error { return nil }

// Sizes of eventList's picture, in SVG units.
const (
	listLineHeight = 32
	listWidth      = 1200
)

func (l *eventList) SVG(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="the events so far" font-family="monospace" font-size="24">`,
		listWidth, (len(l.lines)+1)*listLineHeight)
	for i, line := range l.lines {
		fmt.Fprintf(&b, `<text x="10" y="%d" fill="currentColor">`, (i+1)*listLineHeight)
		xml.EscapeText(&b, []byte(line))
		b.WriteString("</text>")
	}
	b.WriteString("</svg>")
	_, err := io.WriteString(w, b.String())
	return err
}
