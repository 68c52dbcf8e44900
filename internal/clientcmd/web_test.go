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

// The page's placeholder picture lists every event in words, with what a
// peer wrote escaped.
func TestEventListPicture(t *testing.T) {
	p := newPicture()
	for _, l := range []string{
		`{"t":10,"event":"ping","seq":1}`,
		`{"t":13,"event":"missed","missed":1,"probes":3}`,
		`{"t":14,"event":"closed","reason":"<script>"}`,
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
	for _, want := range []string{"<svg ", ">10.000 s  PING #1</text>", ">13.000 s  probe 1/3 missed</text>", "closed: &lt;script&gt;</text>", "</svg>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("picture lacks %q: %s", want, svg)
		}
	}
}
