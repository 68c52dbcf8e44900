package clientcmd

import (
	"strings"
	"testing"

	"github.com/heartbeat/heartbeat/internal/cli/clitest"
)

// --web with --conns says, in one line, that it is not supported yet.
func TestWebWithConns(t *testing.T) {
	_, _, stderr := clitest.Run(checkOnly, "127.0.0.1", "9", "--web", "0", "--conns", "2")
	if !strings.Contains(stderr, "--web shows one connection: with --conns it is not supported yet") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr %q", stderr)
	}
}

// The page draws the sequence diagram, live: PINGs, missed probes, and
// the running timers the page's script animates, with what a peer wrote
// escaped.
func TestPagePicture(t *testing.T) {
	p := newPicture()
	for _, l := range []string{
		`{"t":0,"event":"connected","heartbeat":true,"idle_s":10,"interval_s":3,"probes":3,"predicted_s":19}`,
		`{"t":10,"event":"ping","seq":1}`,
		`{"t":13,"event":"missed","missed":1,"probes":3}`,
		`{"t":14,"event":"note","text":"<script>"}`,
	} {
		if err := p.Add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	if err := p.SVG(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	for _, want := range []string{"<svg ", "PING #1", "missed 1/3", `data-from-s=`, "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("picture lacks %q: %s", want, svg)
		}
	}
	if strings.Contains(svg, "<script>") {
		t.Errorf("a peer's text is not escaped: %s", svg)
	}
}
