package diagram

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden SVG files in testdata")

// render draws a recorded run.
func render(t *testing.T, name string, opts Options) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := New(opts)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if err := d.Add(sc.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := d.SVG(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The recorded runs (testdata/*.jsonl, made with the tools, see
// testdata/README) drawn as the golden files say.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		run, golden string
		opts        Options
		kind        Kind
	}{
		// The README's demo, ten times faster: SLEEP 0.5, --idle 1s
		// --interval 300ms: dead at 1.9 s with a late PONG.
		{"client-demo.jsonl", "client-demo.svg", Options{}, Client},
		// --accept-late: the late PONGs are life; --duration 4s.
		{"client-accept-late.jsonl", "client-accept-late.svg", Options{}, Client},
		{"client-accept-late.jsonl", "client-accept-late-live.svg", Options{Live: true}, Client},
		// hbserver with the three clients above, one after the other.
		{"server-3conns.jsonl", "server-3conns.svg", Options{}, Server},
		{"server-3conns.jsonl", "server-2of3conns.svg", Options{MaxConns: 2}, Server},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			got := render(t, tc.run, tc.opts)
			wellFormed(t, got)
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (go test -update to accept, then look at it)", tc.golden)
			}
		})
	}
}

// wellFormed fails unless b is one well-formed XML document whose root is
// an svg element.
func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
}

// texts is every text element's content, in order.
func texts(t *testing.T, b []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var out []string
	in := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local == "text"
		case xml.CharData:
			if in {
				out = append(out, string(tok))
			}
		case xml.EndElement:
			in = false
		}
	}
}

func hasText(t *testing.T, all []string, want string) {
	t.Helper()
	for _, s := range all {
		if strings.Contains(s, want) {
			return
		}
	}
	t.Errorf("no text says %q in %q", want, all)
}

// What a student must see of the demo: the PINGs, the RTT of the late
// PONG and that it is late, the missed probes, DEAD with its cause and
// the observed against the predicted time, and the idle stretch.
func TestClientDemoSays(t *testing.T) {
	all := texts(t, render(t, "client-demo.jsonl", Options{}))
	for _, want := range []string{
		"PING #1", "PING #2", "PING #3",
		"late PONG #1, RTT 0.500 s: not life",
		"missed 1/3", "missed 2/3", "missed 3/3",
		"DEAD (heartbeat) at 1.900 s", "observed 1.900 s after the last sign of life", "predicted 1.900 s (+0.2 ms)",
		"1.000 s idle", "1.300 s", "idle 1.000 s, interval 0.300 s, 3 probes",
	} {
		hasText(t, all, want)
	}
}

func TestServerSays(t *testing.T) {
	all := texts(t, render(t, "server-3conns.jsonl", Options{MaxConns: 2}))
	for _, want := range []string{
		"hbserver on 127.0.0.1:37369, SLEEP 0.500 s", "conn 1, 127.0.0.1:41268", "conn 2, 127.0.0.1:41270",
		"PING #1", "PONG #1 after SLEEP", "held 0.500 s", "closed: reset by peer", "closed: peer closed",
		"1 more connections not drawn (the first 2 are)", "stopped: 3 connections served",
	} {
		hasText(t, all, want)
	}
	for _, s := range all {
		if strings.Contains(s, "conn 3") {
			t.Errorf("conn 3 drawn beyond MaxConns 2: %q", s)
		}
	}
}

// A missed probe is a PING arrow that ends in a cross, and an answered one
// ends in an arrowhead.
func TestMissedProbeEndsInCross(t *testing.T) {
	d := New(Options{})
	for _, l := range []string{
		`{"t":0,"event":"connected","heartbeat":true,"idle_s":1,"interval_s":1,"probes":2,"predicted_s":3}`,
		`{"t":1,"event":"ping","seq":1}`,
		`{"t":1.5,"event":"pong","seq":1,"rtt_s":0.5}`,
		`{"t":2.5,"event":"ping","seq":2}`,
		`{"t":3.5,"event":"missed","missed":1,"probes":2}`,
	} {
		if err := d.Add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := d.SVG(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	one := between(svg, ">PING #1<")
	two := between(svg, ">PING #2<")
	if !strings.Contains(one, `class="head"`) || strings.Contains(one, `class="cross"`) {
		t.Errorf("answered PING #1 drawn as %q", one)
	}
	if !strings.Contains(two, `class="cross"`) || !strings.Contains(two, "frame ping missed") {
		t.Errorf("missed PING #2 drawn as %q", two)
	}
}

// between is the frame group around the text marker.
func between(svg, marker string) string {
	i := strings.Index(svg, marker)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(svg[:i], `<g class="frame`)
	end := strings.Index(svg[i:], "</g>")
	if start < 0 || end < 0 {
		return ""
	}
	return svg[start : i+end]
}

// The live timers: the idle timer after a PONG, the interval while a PING
// is in flight, each layer's verdict; none once the run is over.
func TestLiveTimers(t *testing.T) {
	d := New(Options{Live: true})
	add := func(l string) {
		t.Helper()
		if err := d.Add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	add(`{"t":0,"event":"connected","heartbeat":true,"idle_s":10,"interval_s":3,"probes":3,"predicted_s":19,"keepalive":true,"keepalive_predicted_s":20}`)
	add(`{"t":10,"event":"ping","seq":1}`)
	add(`{"t":13,"event":"missed","missed":1,"probes":3}`)
	add(`{"t":13,"event":"ping","seq":2}`)
	want := []timer{
		{"interval", 13, 16, "PING #2: without its PONG, missed 2/3"},
		{"heartbeat", 0, 19, "heartbeat: DEAD if nothing more is heard"},
		{"keepalive", 0, 20, "keep-alive: DEAD if nothing more is received"},
	}
	if got := d.timers(); !equalTimers(got, want) {
		t.Errorf("probing: timers %v, want %v", got, want)
	}
	add(`{"t":14.5,"event":"pong","seq":2,"rtt_s":1.5}`)
	want = []timer{
		{"idle", 14.5, 24.5, "idle: PING #3 due"},
		{"heartbeat", 14.5, 33.5, "heartbeat: DEAD if nothing more is heard"},
		{"keepalive", 14.5, 34.5, "keep-alive: DEAD if nothing more is received"},
	}
	if got := d.timers(); !equalTimers(got, want) {
		t.Errorf("idle: timers %v, want %v", got, want)
	}
	var b bytes.Buffer
	if err := d.SVG(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<g class="timer" data-timer="idle" data-from-s="14.5" data-to-s="24.5" data-label="idle: PING #3 due">`) {
		t.Errorf("no idle timer element in\n%s", b.String())
	}
	add(`{"t":15,"event":"closed","reason":"peer closed"}`)
	if got := d.timers(); len(got) != 0 {
		t.Errorf("after the close: timers %v, want none", got)
	}
	// Without Live, no timer is drawn.
	b.Reset()
	plain := New(Options{})
	plain.Add([]byte(`{"t":0,"event":"connected","heartbeat":true,"idle_s":10,"interval_s":3,"probes":3,"predicted_s":19}`))
	plain.SVG(&b)
	if strings.Contains(b.String(), "data-from-s") {
		t.Error("timers drawn without Live")
	}
}

func equalTimers(a, b []timer) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Bad lines are refused with their number; blank lines and unknown events
// and fields are not errors.
func TestAddErrors(t *testing.T) {
	d := New(Options{})
	for i, tc := range []struct {
		line, err string
	}{
		{"", ""},
		{`{"t":1,"event":"future","whatever":[1,2]}`, ""},
		{`{"t":1,"event":"ping","seq":1,"new_field":"x"}`, ""},
		{`not json`, "line 4: not a JSON event"},
		{`{"t":1}`, `line 5: not an event (no "t" or no "event")`},
		{`{"event":"ping"}`, `line 6: not an event`},
		{`[1,2]`, "line 7: not a JSON event"},
		{`{"t":-1,"event":"ping"}`, "line 8: not an event (t -1 out of range)"},
		{`{"t":1,"event":"ping","seq":"one"}`, "line 9: not a JSON event"},
	} {
		err := d.Add([]byte(tc.line))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("line %d %q: %v", i+1, tc.line, err)
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
			t.Errorf("line %d %q: error %v, want %q", i+1, tc.line, err, tc.err)
		}
	}
	if err := d.Add([]byte(`{"t":1}`)); !errors.Is(err, ErrNotEvent) {
		t.Errorf("error %v is not ErrNotEvent", err)
	}
	if d.Kind() != None {
		t.Errorf("kind %v after no run's event", d.Kind())
	}
}

// A peer's words cannot break the XML or forge an element.
func TestHostileText(t *testing.T) {
	d := New(Options{Live: true})
	d.Add([]byte(`{"t":0,"event":"connected","local":"<a>","remote":"&amp;","heartbeat":true,"idle_s":1,"interval_s":1,"probes":1,"predicted_s":2}`))
	d.Add([]byte(`{"t":1,"event":"error","from":"server","error":"</text><script>x</script>\u0000\u001b\ufffe\"'"}`))
	var b bytes.Buffer
	if err := d.SVG(&b); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, b.Bytes())
	if strings.Contains(b.String(), "<script") {
		t.Error("a peer's text made an element")
	}
	hasText(t, texts(t, b.Bytes()), "</text><script>x</script>")
}

// However long the run, what is kept is bounded and the end is kept.
func TestLongRunBounded(t *testing.T) {
	d := New(Options{})
	d.Add([]byte(`{"t":0,"event":"connected","heartbeat":true,"idle_s":1,"interval_s":1,"probes":3,"predicted_s":4}`))
	for i := 1; i <= 3*MaxItems; i++ {
		d.Add([]byte(`{"t":` + itoa(i) + `,"event":"ping","seq":` + itoa(i) + `}`))
	}
	p := d.conns[0]
	if len(p.items) != MaxItems || p.dropped != 2*MaxItems || p.items[MaxItems-1].seq != 3*MaxItems {
		t.Fatalf("%d items kept, %d dropped, last %d", len(p.items), p.dropped, p.items[len(p.items)-1].seq)
	}
	var b bytes.Buffer
	d.SVG(&b)
	hasText(t, texts(t, b.Bytes()), "the first 800 arrows and marks not drawn")
}

func itoa(i int) string { return strconv.Itoa(i) }

// Add never panics, and whatever it took, SVG is well-formed XML.
func FuzzAdd(f *testing.F) {
	for _, name := range []string{"client-demo.jsonl", "client-accept-late.jsonl", "server-3conns.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"t":1e300,"event":"connected","interval_s":-1}` + "\n" + `{"t":0,"event":"pong","held_s":1e308,"conn":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, live := range []bool{false, true} {
			d := New(Options{Live: live})
			for _, l := range bytes.Split(b, []byte("\n")) {
				d.Add(l)
			}
			var out bytes.Buffer
			if err := d.SVG(&out); err != nil {
				t.Fatal(err)
			}
			wellFormed(t, out.Bytes())
		}
	})
}
