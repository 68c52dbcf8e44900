package web

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lines is a TextPicture that draws the events' text lines it was given,
// so a test can see which reached the picture; it counts the JSON lines.
type lines struct {
	mu    sync.Mutex
	names []string
	// jsonLines counts the JSON lines added.
	jsonLines int
	block     chan struct{} // when set, SVG waits for it to close
}

func (p *lines) Add(line []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jsonLines++
	return nil
}

func (p *lines) AddText(line []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names = append(p.names, strings.TrimSpace(string(line)))
	return nil
}

func (p *lines) SVG(w io.Writer) error {
	if p.block != nil {
		<-p.block
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintf(w, "<svg>%s</svg>", strings.Join(p.names, "|"))
	return err
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stream is a page's /events, read one message at a time.
type stream struct {
	t    *testing.T
	resp *http.Response
	r    *bufio.Reader
}

func openStream(t *testing.T, s *Server) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return &stream{t, resp, bufio.NewReader(resp.Body)}
}

// next returns the next message of the stream: its name and data.
func (st *stream) next() (name, data string) {
	st.t.Helper()
	for {
		l, err := st.r.ReadString('\n')
		if err != nil {
			st.t.Fatalf("stream ended: %v", err)
		}
		switch {
		case strings.HasPrefix(l, "event: "):
			name = strings.TrimSpace(l[len("event: "):])
		case strings.HasPrefix(l, "data: "):
			data = strings.TrimSpace(l[len("data: "):])
		case l == "\n":
			return name, data
		}
	}
}

// nextState returns the data of the next "state" message, skipping clocks.
func (st *stream) nextState() string {
	st.t.Helper()
	for {
		if name, data := st.next(); name == "state" {
			return data
		}
	}
}

// stateWith waits (5 s at most) for a state message that contains want.
func (st *stream) stateWith(want string) string {
	st.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if d := st.nextState(); strings.Contains(d, want) {
			return d
		}
	}
	st.t.Fatalf("no state with %q within 5s", want)
	return ""
}

func TestPageServedWholeFromItself(t *testing.T) {
	s := newServer(t, Options{})
	for _, path := range []string{"", "page.css", "page.js"} {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /%s: %s", path, resp.Status)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET /%s: Content-Security-Policy %q", path, csp)
		}
		if path == "" && !strings.Contains(string(body), `id="picture"`) {
			t.Errorf("GET / is not the page: %.200s", body)
		}
	}
	// Nothing the page uses comes from elsewhere.
	fs.WalkDir(page, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := page.ReadFile(path)
		if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") || strings.Contains(string(b), "//cdn") {
			t.Errorf("%s names a resource elsewhere", path)
		}
		return nil
	})
}

func TestStreamStartsWithTheState(t *testing.T) {
	s := newServer(t, Options{Title: "hbclient test", Picture: &lines{}})
	st := openStream(t, s)
	if ct := st.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	name, data := st.next()
	if name != "state" || !strings.Contains(data, `"title":"hbclient test"`) || !strings.Contains(data, "waiting for the first event") {
		t.Errorf("first message %s %s", name, data)
	}
}

func TestUpdateFollowsAnEvent(t *testing.T) {
	s := newServer(t, Options{Picture: &lines{}})
	st := openStream(t, s)
	st.nextState()
	s.Tap([]byte(`{"t":10,"event":"ping","seq":1}`+"\n"), []byte("  10.000  PING #1 sent\n"))
	d := st.stateWith("PING #1")
	if !strings.Contains(d, `"status":"10.000  PING #1 sent"`) || !strings.Contains(d, `"svg":"\u003csvg\u003e10.000  PING #1 sent`) {
		t.Errorf("state after a PING: %s", d)
	}
}

func TestLatePageGetsTheWholeHistory(t *testing.T) {
	s := newServer(t, Options{Picture: &lines{}})
	for i := 1; i <= 3; i++ {
		s.Tap(fmt.Appendf(nil, `{"t":%d,"event":"ping","seq":%d}`+"\n", i, i), fmt.Appendf(nil, "   %d.000  PING #%d sent\n", i, i))
	}
	s.Tap([]byte(`{"t":4,"event":"late_pong","seq":1,"rtt_s":3.5}`+"\n"), []byte("   4.000  late PONG #1, RTT 3.5s\n"))
	// Wait for the picture to have them all, then open a page.
	openStream(t, s).stateWith("late PONG")
	d := openStream(t, s).nextState()
	for _, want := range []string{"PING #1", "PING #2", "PING #3", "late PONG #1, RTT 3.5s"} {
		if !strings.Contains(d, want) {
			t.Errorf("a late page's first state lacks %q: %s", want, d)
		}
	}
}

func TestSlowPageOrPictureNeverBlocksTap(t *testing.T) {
	p := &lines{block: make(chan struct{})}
	s := newServer(t, Options{Picture: nil})
	s.opts.Picture = p // after New's first drawing, so that only draw blocks
	// A page that never reads its stream.
	c, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /events HTTP/1.1\r\nHost: %s\r\n\r\n", s.ln.Addr())
	line := []byte(`{"t":1,"event":"ping","seq":1,"padding":"` + strings.Repeat("x", 1000) + `"}` + "\n")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10000 { // 10 MB, more than maxPending: some are dropped
			s.Tap(line, []byte("   1.000  PING #1 sent\n"))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Tap blocked behind a stuck picture and a page that does not read")
	}
	close(p.block)
	st := openStream(t, s)
	st.stateWith("left out of the picture")
}

func TestFinishedShowsTheVerdict(t *testing.T) {
	s := newServer(t, Options{})
	st := openStream(t, s)
	st.nextState()
	s.Finished("peer declared dead by the heartbeat")
	d := st.stateWith(`"ended":true`)
	if !strings.Contains(d, `"verdict":"peer declared dead by the heartbeat"`) {
		t.Errorf("state after Finished: %s", d)
	}
	if c1 := s.clock(); c1 != s.clock() {
		t.Error("the run clock still runs after Finished")
	}
}

func TestTooManyPages(t *testing.T) {
	s := newServer(t, Options{MaxClients: 1})
	openStream(t, s).nextState()
	resp, err := http.Get(s.URL() + "events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a page past MaxClients: %s", resp.Status)
	}
}

func TestControls(t *testing.T) {
	var got []string
	var mu sync.Mutex
	cmd := func(c string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
		if c == "bad" {
			return "", fmt.Errorf("unknown command %q", c)
		}
		return "ok: " + c, nil
	}
	s := newServer(t, Options{Command: cmd})
	off := newServer(t, Options{Command: cmd})
	off.loopback = false // as if bound to 0.0.0.0
	none := newServer(t, Options{})
	host := s.ln.Addr().String()
	for _, tc := range []struct {
		name   string
		s      *Server
		method string
		host   string
		origin string
		token  string
		body   string
		want   int
	}{
		{"loopback, from the page", s, "POST", "", "http://" + host, "", "sleep 5", 200},
		{"loopback, localhost", s, "POST", "localhost:1", "http://localhost:1", "", "sleep 6", 200},
		{"loopback, no Origin", s, "POST", "", "", "", "sleep 7", 403},
		{"loopback, another site", s, "POST", "", "http://evil.example", "", "sleep 8", 403},
		{"loopback, rebinding", s, "POST", "evil.example:80", "http://evil.example:80", "", "sleep 9", 421},
		{"loopback, token", s, "POST", "", "", s.Token(), "sleep 10", 200},
		{"GET", s, "GET", "", "http://" + host, "", "", 405},
		{"refused by Command", s, "POST", "", "http://" + host, "", "bad", 400},
		{"off loopback, no token", off, "POST", "", "http://" + off.ln.Addr().String(), "", "sleep 11", 403},
		{"off loopback, wrong token", off, "POST", "", "", "0123", "sleep 12", 403},
		{"off loopback, token", off, "POST", "", "", off.Token(), "sleep 13", 200},
		{"no controls", none, "POST", "", "", none.Token(), "sleep 14", 404},
	} {
		req := httptest.NewRequest(tc.method, "/command", strings.NewReader(tc.body))
		req.Host = tc.s.ln.Addr().String()
		if tc.host != "" {
			req.Host = tc.host
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.token != "" {
			req.Header.Set(TokenHeader, tc.token)
		}
		rec := httptest.NewRecorder()
		tc.s.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, strings.TrimSpace(rec.Body.String()), tc.want)
		}
	}
	want := "sleep 5,sleep 6,sleep 10,bad,sleep 13"
	if strings.Join(got, ",") != want {
		t.Errorf("commands run: %q, want %q", strings.Join(got, ","), want)
	}
}

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"8080", "127.0.0.1:8080", ""},
		{":0", "127.0.0.1:0", ""},
		{"0", "127.0.0.1:0", ""},
		{"[::1]:9", "[::1]:9", ""},
		{"0.0.0.0:80", "0.0.0.0:80", ""},
		{"localhost:0", "localhost:0", ""},
		{"", "", "empty address"},
		{"70000", "", "0 to 65535"},
		{"x:y", "", "0 to 65535"},
		{"::1", "", "too many colons"},
	} {
		got, err := ListenAddr(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// The status line is the last event's text line, in the timeline's own
// words; a Picture gets the JSON lines, and a TextPicture the text lines
// too, each before its JSON line.
func TestStatusAndPictureGetTheLines(t *testing.T) {
	p := &lines{}
	s := newServer(t, Options{Picture: p})
	st := openStream(t, s)
	st.nextState()
	s.Tap([]byte(`{"t":1,"event":"ping","seq":1}`+"\n"), []byte("   1.000  PING #1 sent\n"))
	s.Tap([]byte(`{"t":2,"event":"note","note":"server_warning","text":"x"}`+"\n"), []byte(`   2.000  the server warns: "x"`+"\n"))
	d := st.stateWith("the server warns")
	if !strings.Contains(d, `"status":"2.000  the server warns: \"x\""`) {
		t.Errorf("status: %s", d)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if want := []string{"1.000  PING #1 sent", `2.000  the server warns: "x"`}; !slices.Equal(p.names, want) || p.jsonLines != 2 {
		t.Errorf("picture got texts %q and %d JSON lines; want %q and 2", p.names, p.jsonLines, want)
	}
}

func TestClockStartsAtTheFirstEvent(t *testing.T) {
	s := newServer(t, Options{})
	s.Tap([]byte(`{"t":100,"event":"ping","seq":1}`+"\n"), []byte(" 100.000  PING #1 sent\n"))
	if c := s.clock(); c < 100 || c > 110 {
		t.Errorf("run clock %.3f after an event at t=100", c)
	}
	if _, ok := lineTime([]byte(`{"event":"x"}`)); ok {
		t.Error("lineTime read a line without t")
	}
}

// Options.Buttons reach the page with the controls, and only with them.
func TestButtonsComeWithControls(t *testing.T) {
	cmd := func(string) (string, error) { return "ok", nil }
	buttons := []string{"fault mute", "fault none"}
	with := openStream(t, newServer(t, Options{Command: cmd, Buttons: buttons})).nextState()
	if !strings.Contains(with, `"controls":true,"buttons":["fault mute","fault none"]`) {
		t.Errorf("state with controls and buttons: %s", with)
	}
	without := openStream(t, newServer(t, Options{Buttons: buttons})).nextState()
	if !strings.Contains(without, `"controls":false,"buttons":null`) {
		t.Errorf("state without controls: %s", without)
	}
}

// TestConnectionsBounded: connections that send nothing hold no more than
// MaxClients+extraConns descriptors; one past that is closed at once, and
// a page is served again as soon as one of them goes.
func TestConnectionsBounded(t *testing.T) {
	s := newServer(t, Options{MaxClients: 1})
	addr := strings.TrimSuffix(strings.TrimPrefix(s.URL(), "http://"), "/")
	limit := 1 + extraConns
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The server accepts in order: once one more is closed, every held
	// one has its slot (each is read until then: none is closed).
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetReadDeadline(time.Now().Add(3 * time.Second)) // under readHeaderTimeout
	if n, err := extra.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("a connection past %d: read %d bytes, %v; want it closed at once", limit, n, err)
	}
	held[0].Close()
	held = held[1:]
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(s.URL())
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("the page once a connection went: %s", resp.Status)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page 5 s after a connection went: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPageURLs(t *testing.T) {
	ipnet := func(s string) net.Addr { return &net.IPNet{IP: net.ParseIP(s), Mask: net.CIDRMask(24, 32)} }
	local := []net.Addr{
		ipnet("127.0.0.1"), ipnet("198.18.0.5"), ipnet("::1"), ipnet("fe80::1"),
		ipnet("2001:db8::5"), ipnet("169.254.1.1"), ipnet("198.19.7.9"),
		&net.IPAddr{IP: net.ParseIP("198.18.9.9")}, // not an IPNet: skipped
	}
	tcp := func(ip string) *net.TCPAddr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 8080} }
	for _, tc := range []struct {
		hostport string
		addr     *net.TCPAddr
		self     string
		others   []string
	}{
		{"127.0.0.1:0", tcp("127.0.0.1"), "http://127.0.0.1:8080/", nil},
		{"[::1]:0", tcp("::1"), "http://[::1]:8080/", nil},
		{"198.18.0.5:0", tcp("198.18.0.5"), "http://198.18.0.5:8080/?token=T", nil},
		// Go listens on both families for 0.0.0.0 and says [::].
		{"0.0.0.0:0", tcp("::"), "http://127.0.0.1:8080/?token=T",
			[]string{"http://198.18.0.5:8080/?token=T", "http://198.19.7.9:8080/?token=T"}},
		{"0.0.0.0:0", tcp("0.0.0.0"), "http://127.0.0.1:8080/?token=T",
			[]string{"http://198.18.0.5:8080/?token=T", "http://198.19.7.9:8080/?token=T"}},
		{"[::]:0", tcp("::"), "http://[::1]:8080/?token=T", []string{"http://[2001:db8::5]:8080/?token=T"}},
		// IPv4-mapped: an IPv4 listener where the kernel has no dual stack.
		{"[::ffff:0.0.0.0]:0", tcp("0.0.0.0"), "http://127.0.0.1:8080/?token=T",
			[]string{"http://198.18.0.5:8080/?token=T", "http://198.19.7.9:8080/?token=T"}},
	} {
		self, others := pageURLs(tc.hostport, tc.addr, "T", local)
		if self != tc.self || strings.Join(others, " ") != strings.Join(tc.others, " ") {
			t.Errorf("%s at %s: %q %q, want %q %q", tc.hostport, tc.addr, self, others, tc.self, tc.others)
		}
	}
}

func TestAnnounce(t *testing.T) {
	s := &Server{url: "http://127.0.0.1:1/?token=T"}
	for i := range maxSaid + 2 {
		s.others = append(s.others, fmt.Sprintf("http://198.18.0.%d:1/?token=T", i+1))
	}
	var b strings.Builder
	s.Announce(&b, "hbserver")
	want := "hbserver: live page at http://127.0.0.1:1/?token=T\n" +
		"hbserver: from another machine: http://198.18.0.1:1/?token=T\n" +
		"hbserver: from another machine: http://198.18.0.2:1/?token=T\n" +
		"hbserver: from another machine: http://198.18.0.3:1/?token=T\n" +
		"hbserver: from another machine: http://198.18.0.4:1/?token=T\n" +
		"hbserver: and at 2 more of this machine's addresses\n"
	if b.String() != want {
		t.Errorf("Announce:\n%s\nwant:\n%s", b.String(), want)
	}
}
