package servercmd

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/msg"
	"github.com/heartbeat/heartbeat/internal/server"
)

// pingFor sends a PING on c and returns how long its PONG took.
func pingFor(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	var f msg.Frame
	f.SetType(msg.Ping)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := c.Write(f[:]); err != nil {
		t.Fatal(err)
	}
	if err := msg.ReadFrame(c, &f); err != nil {
		t.Fatal(err)
	}
	if typ, _ := f.Type(); typ != msg.Pong {
		t.Fatalf("got %v, want a PONG", typ)
	}
	return time.Since(start)
}

// waitPicture reads the page's stream until a state's picture has every
// one of want, and returns it; it fails after 10 s.
func waitPicture(t *testing.T, url string, want ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	last := ""
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var m struct{ SVG string }
		if json.Unmarshal([]byte(data), &m) != nil || m.SVG == "" {
			continue
		}
		last = m.SVG
		all := true
		for _, w := range want {
			all = all && strings.Contains(m.SVG, w)
		}
		if all {
			return m.SVG
		}
	}
	t.Fatalf("no picture with %q within 10s; the last:\n%s", want, last)
	return ""
}

// The page of a real server: a row for each of two connections, and a
// SLEEP changed from the page (POST /command) answers the next PING after
// it, on the default backend and, with -tags portable, the portable one.
func TestServerPage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := event.NewBuffered(io.Discard, false)
	k := &commander{ctx: ctx, out: make(chan server.Command)}
	var said strings.Builder
	page, err := startPage(Options{Web: "127.0.0.1:0"}, ln.Addr().String(), k, events, &said)
	if err != nil {
		t.Fatal(err)
	}
	if want := "hbserver: live page at " + page.URL() + "\n"; said.String() != want || !strings.HasPrefix(page.URL(), "http://127.0.0.1:") {
		t.Errorf("stderr %q, want %q on loopback", said.String(), want)
	}
	var wg sync.WaitGroup
	wg.Go(func() { server.Serve(ctx, ln, server.Config{Events: events, Commands: k.out}) })
	defer func() {
		cancel()
		wg.Wait()
		page.Close()
		events.Close()
	}()

	var peers []string
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pingFor(t, c)
		peers = append(peers, c.LocalAddr().String())
	}
	url := page.URL()
	waitPicture(t, url, "SLEEP 0s, fault none; 2 open", peers[0], peers[1], "held 0s")

	post := func(origin, body string) int {
		req, _ := http.NewRequest("POST", url+"command", strings.NewReader(body))
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("", "sleep 2"); code != http.StatusForbidden {
		t.Errorf("a control neither from the page nor with the token: %d, want 403", code)
	}
	if code := post("http://evil.example", "sleep 2"); code != http.StatusForbidden {
		t.Errorf("a control from another site: %d, want 403", code)
	}
	if code := post(strings.TrimSuffix(url, "/"), "sleep bogus"); code != http.StatusBadRequest {
		t.Errorf("a bad command: %d, want 400", code)
	}
	if code := post(strings.TrimSuffix(url, "/"), "sleep 300ms"); code != http.StatusOK {
		t.Fatalf("sleep 300ms from the page: %d, want 200", code)
	}
	waitPicture(t, url, "SLEEP 300ms, fault none")
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d := pingFor(t, c); d < 300*time.Millisecond {
		t.Errorf("after sleep 300ms, a PONG came after %v", d)
	}
	waitPicture(t, url, "3 open")
}

// A table of more connections than it draws says how many it leaves out,
// and forgets the oldest closed ones beyond its bound.
func TestConnTableBounded(t *testing.T) {
	tb := newConnTable(0, server.NoFault)
	n := maxRows + 50
	for i := 1; i <= n; i++ {
		tb.Add([]byte(`{"t":0,"event":"connected","conn":` + strconv.Itoa(i) + `,"peer":"127.0.0.1:1"}`))
	}
	var b strings.Builder
	tb.SVG(&b)
	if got := strings.Count(b.String(), "127.0.0.1:1"); got != maxRows {
		t.Errorf("%d rows drawn, want %d", got, maxRows)
	}
	if !strings.Contains(b.String(), "and 50 more not shown") {
		t.Errorf("no count of the rows left out:\n%s", b.String())
	}
	for i := 1; i <= n; i++ {
		tb.Add([]byte(`{"t":1,"event":"closed","conn":` + strconv.Itoa(i) + `,"reason":"peer closed"}`))
	}
	if len(tb.rows) != maxClosedKept {
		t.Errorf("%d rows kept after every connection closed, want %d", len(tb.rows), maxClosedKept)
	}
	b.Reset()
	tb.SVG(&b)
	if !strings.Contains(b.String(), "0 open, 250 closed") || !strings.Contains(b.String(), "and 50 more not shown") {
		t.Errorf("after the closes:\n%s", b.String())
	}
}

// Each row follows its connection's events: the PINGs waiting and the
// last PONG's hold, the server heartbeat's verdicts, the fault, the close;
// the settings follow the commands.
func TestConnTableFollowsEvents(t *testing.T) {
	tb := newConnTable(time.Second, server.NoFault)
	for _, l := range []string{
		`{"t":0,"event":"listening","addr":"127.0.0.1:9000","sleep_s":1,"max_conns":0}`,
		`{"t":1,"event":"connected","conn":1,"peer":"127.0.0.1:1001"}`,
		`{"t":1,"event":"connected","conn":2,"peer":"127.0.0.1:1002"}`,
		`{"t":1,"event":"connected","conn":3,"peer":"127.0.0.1:1003"}`,
		`{"t":2,"event":"ping","seq":1,"conn":1}`,
		`{"t":2,"event":"ping","seq":2,"conn":1}`,
		`{"t":3,"event":"pong","seq":1,"held_s":1.0004,"conn":1}`,
		`{"t":3,"event":"ping","seq":1,"sent":true,"conn":2}`,
		`{"t":4,"event":"late_pong","seq":1,"rtt_s":1.5,"received":true,"conn":2}`,
		`{"t":5,"event":"missed","missed":2,"probes":3,"conn":2}`,
		`{"t":5,"event":"command","command":"fault mute","sleep_s":5,"fault":"mute"}`,
		`{"t":6,"event":"note","note":"fault","fault":"mute","conn":3}`,
		`{"t":6,"event":"ping","seq":1,"conn":3}`,
		`{"t":6,"event":"note","note":"muted","conn":3}`,
		`{"t":7,"event":"dead","cause":"heartbeat","conn":2}`,
		`{"t":7,"event":"closed","reason":"dead by heartbeat","conn":2}`,
	} {
		if err := tb.Add([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	tb.SVG(&b)
	svg := b.String()
	for _, want := range []string{
		">SLEEP 5s, fault mute; 2 open, 1 closed<",
		`class="cell">127.0.0.1:1001</text><text x="480" y="120" class="ok">serving</text><text x="900" y="120" class="cell">1</text><text x="1140" y="120" class="cell">held 1s</text>`,
		`class="late">fault mute</text><text x="900" y="160" class="cell">0</text><text x="1140" y="160" class="cell">muted</text>`,
		`class="closed">closed: dead by heartbeat</text>`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("the table lacks %s:\n%s", want, svg)
		}
	}
	// The server heartbeat's states, one after the other.
	hb := newConnTable(0, server.NoFault)
	hb.Add([]byte(`{"t":1,"event":"connected","conn":1,"peer":"127.0.0.1:1001"}`))
	for _, step := range []struct{ line, want string }{
		{`{"t":2,"event":"pong","seq":1,"rtt_s":0.0004,"received":true,"conn":1}`, `class="ok">in time</text>`},
		{`{"t":4,"event":"late_pong","seq":2,"rtt_s":1.5,"received":true,"conn":1}`, `class="late">late</text>`},
		{`{"t":5,"event":"missed","missed":2,"probes":3,"conn":1}`, `class="late">probing: 2/3 missed</text>`},
		{`{"t":6,"event":"dead","cause":"heartbeat","conn":1}`, `class="dead">dead (heartbeat)</text>`},
	} {
		hb.Add([]byte(step.line))
		b.Reset()
		hb.SVG(&b)
		if !strings.Contains(b.String(), step.want) {
			t.Errorf("after %s: no %s in\n%s", step.line, step.want, b.String())
		}
	}
	if err := tb.Add([]byte("not json")); err == nil {
		t.Error("a line that is not an event: no error")
	}
}

// frameEvent reads a PING's or a PONG's line as encoding/json does, and
// leaves every other line, or one it cannot read, to encoding/json.
func TestFrameEventReadsAsJSONDoes(t *testing.T) {
	for _, l := range []string{
		`{"t":0.29901,"event":"ping","conn":1,"peer":"127.0.0.1:58978"}`,
		`{"t":0.299054,"event":"pong","conn":1,"peer":"127.0.0.1:58978","held_s":0.0004}`,
		`{"t":0.499063,"event":"ping","conn":12,"peer":"[::1]:58978","seq":1,"sent":true}`,
		`{"t":1.515967,"event":"pong","conn":2,"peer":"127.0.0.1:58920","seq":1,"rtt_s":0.000487,"received":true}`,
		`{"t":3,"event":"pong","seq":1,"held_s":1.0004,"conn":1}`,
		`{"t":3,"event":"ping","peer":"a\",\"conn\":9","conn":4}`, // a string cannot fake a field
	} {
		e, ok := frameEvent([]byte(l))
		var want tableEvent
		if err := json.Unmarshal([]byte(l), &want); err != nil {
			t.Fatal(err)
		}
		want.Peer = "" // not read: the row has it from "connected"
		if !ok || e != want {
			t.Errorf("%s: %+v, %v; want %+v", l, e, ok, want)
		}
	}
	for _, l := range []string{
		`{"t":1,"event":"pings","conn":1}`,
		`{"t":1,"event":"connected","conn":1,"peer":"127.0.0.1:1"}`,
		`{"t":1,"event":"ping","conn":"x"}`,
		`{"t":1,"event":"pong","conn":1,"held_s":x}`,
		`{"t":1,"event":"ping"}`,
		`not json`,
	} {
		if e, ok := frameEvent([]byte(l)); ok {
			t.Errorf("%s: read as %+v", l, e)
		}
	}
}

// A PING and its PONG cost the page's table a few allocations, not
// encoding/json's: on a loaded server they come thousands a second, and
// the page must not take the heartbeat's CPU.
func TestConnTableTakesFramesCheaply(t *testing.T) {
	tb := newConnTable(0, server.NoFault)
	tb.Add([]byte(`{"t":1,"event":"connected","conn":7,"peer":"127.0.0.1:1007"}`))
	ping := []byte(`{"t":2,"event":"ping","conn":7,"peer":"127.0.0.1:1007"}`)
	pong := []byte(`{"t":2,"event":"pong","conn":7,"peer":"127.0.0.1:1007","held_s":0}`)
	if n := testing.AllocsPerRun(100, func() { tb.Add(ping); tb.Add(pong) }); n > 3 {
		t.Errorf("%v allocations for a PING and its PONG, want at most 3", n)
	}
	if r := tb.rows[7]; r.inFlight != 0 || r.last != "held 0s" {
		t.Errorf("row %+v after PINGs and their PONGs", *r)
	}
}
