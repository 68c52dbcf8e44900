package clientcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/cli/clitest"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/web"
)

// --web with --conns says, in one line, that it is not supported yet.
func TestWebWithConns(t *testing.T) {
	_, _, stderr := clitest.Run(checkOnly, "127.0.0.1", "9", "--web", "0", "--conns", "2")
	if !strings.Contains(stderr, "--web shows one connection: with --conns it is not supported yet") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q", stderr)
	}
}

// The page's placeholder picture lists every event in the timeline's
// words, as a tap gives them, with what a peer wrote escaped.
func TestEventListPicture(t *testing.T) {
	p := newPicture().(web.TextPicture)
	w := event.Discard()
	w.Tap(func(jsonLine, textLine []byte) {
		if err := p.AddText(textLine); err != nil {
			t.Fatal(err)
		}
		if err := p.Add(jsonLine); err != nil {
			t.Fatal(err)
		}
	})
	event.Emit(w, 10*time.Second, event.PingSent{Seq: 1})
	event.Emit(w, 13*time.Second, event.ProbeMissed{Missed: 1, Probes: 3, Interval: 3 * time.Second})
	event.Emit(w, 14*time.Second, event.ConnClosed{Reason: "<script>"})
	var b strings.Builder
	if err := p.SVG(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, want := range []string{"<svg ", ">10.000  PING #1 sent</text>", ">13.000  probe 1/3 missed: no PONG within 3s</text>", ">14.000  closed: &lt;script&gt;</text>", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("picture lacks %q: %s", want, svg)
		}
	}
}
