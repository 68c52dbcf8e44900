// Package web serves a tool's live page: one embedded HTML page (no build
// step, nothing loaded from the internet) that shows a picture of the run,
// the last event's text and, once the run is over, its verdict, kept up to
// date over server-sent events.
//
// The tool hands its events to the page with event.Writer.Tap(s.Tap),
// each as its JSON line, for the picture, and its text line, the
// timeline's words, for the page's status line; a
// goroutine of the Server's own turns them into a picture at most ten times
// a second, so neither drawing nor a slow browser ever holds up the
// heartbeat.
//
// Example:
//
//	s, err := web.New("127.0.0.1:0", web.Options{Title: "hbclient", Picture: p})
//	if err != nil { ... }
//	defer s.Close()
//	events.Tap(s.Tap)
//	fmt.Fprintln(os.Stderr, "live page at", s.URL())
package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Picture draws the run from its JSON event lines. The Server calls it from
// one goroutine only, never with a lock of the heartbeat held: Add with each
// line in order, SVG for the picture of every line added so far.
type Picture interface {
	Add(jsonLine []byte) error
	SVG(w io.Writer) error
}

// A TextPicture is a Picture that draws the events' text lines, the
// timeline's own words: the Server calls AddText with each event's text
// line (its time included, its newline too) just before Add with its
// JSON line.
type TextPicture interface {
	Picture
	AddText(textLine []byte) error
}

// Defaults of Options.
const (
	// DefaultMaxClients bounds the pages open at once: a classroom's worth,
	// and no more goroutines and sockets than that however many connect.
	DefaultMaxClients = 32
	// DefaultInterval is the least time between two pictures: ten a second
	// look live, and a burst of events costs one drawing, not one each.
	DefaultInterval = 100 * time.Millisecond
	// DefaultMaxConns is the most connections of any kind a Server with
	// the default MaxClients holds at once: the open files a tool leaves
	// to its page when it counts those its own connections may take.
	DefaultMaxConns = DefaultMaxClients + extraConns
)

// Timeouts of the HTTP server: a client that sends its request slowly or
// stops reading its stream is cut off instead of holding a goroutine.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	idleTimeout       = 60 * time.Second
	// writeTimeout bounds each write to a page, the stream's included.
	writeTimeout = 5 * time.Second
	// clockEvery is how often a page is told the run clock, so that its
	// countdowns stay true between events.
	clockEvery = time.Second
	// maxPending bounds the event lines waiting for the picture: past it,
	// lines are dropped (and the picture misses them) rather than the
	// process growing.
	maxPending = 4 << 20
	// maxCommand bounds a command's body.
	maxCommand = 256
)

// Options are the page's settings.
type Options struct {
	// Title names the page (the tool and its peer, say).
	Title string
	// Picture draws the run. Nil: the page shows the status line only.
	Picture Picture
	// Command runs a control typed on the page ("sleep 5") and returns
	// what to show for it; an error is shown as the refusal. Nil: the page
	// has no controls and POST /command is 404.
	Command func(command string) (string, error)
	// Buttons are commands offered as buttons beside the command field
	// ("fault mute"), each sent through Command as if typed. Nil: the
	// field only.
	Buttons []string
	// MaxClients bounds the pages open at once; zero means
	// DefaultMaxClients. Past it a page is refused with 503. The server
	// holds at most MaxClients+32 connections of any kind at once and
	// closes the ones past that as they come, so that the page can never
	// take the descriptors the tool's own connections need.
	MaxClients int
	// Interval is the least time between two pictures; zero means
	// DefaultInterval.
	Interval time.Duration
}

// Server is a live page on an HTTP server of its own.
type Server struct {
	opts     Options
	ln       net.Listener
	http     *http.Server
	url      string   // for this machine's browser
	others   []string // for other machines', when bound to every address
	token    string
	loopback bool // bound to a loopback address: controls need no token
	clients  chan struct{}

	mu       sync.Mutex
	pending  []byte    // events the picture has yet to get: each its text line, then its JSON line
	dropped  int       // lines left out of pending since the last picture
	start    time.Time // the run's zero: when its first event's t was 0
	started  bool      // start is set from an event
	ended    bool
	endT     float64 // the run clock when Finished was called
	verdict  string
	state    []byte        // the current "state" message, whole
	version  int           // counts states; a page sends each once
	changed  chan struct{} // closed when state changes
	wake     chan struct{} // a token when pending gets lines or the run ends
	done     chan struct{} // closed by Close
	finished sync.WaitGroup
}

// New listens on addr and serves the page until Close. A bare port ("8080")
// or ":PORT" is on 127.0.0.1: the page is for this machine unless addr names
// another host (0.0.0.0, an interface's address), and then a control needs
// the token that Token returns. Port 0 picks a free port; URL says which.
func New(addr string, opts Options) (*Server, error) {
	hostport, err := ListenAddr(addr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("--web: %w", err)
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	if opts.MaxClients <= 0 {
		opts.MaxClients = DefaultMaxClients
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	s := &Server{
		opts:    opts,
		ln:      ln,
		token:   hex.EncodeToString(tok),
		clients: make(chan struct{}, opts.MaxClients),
		start:   time.Now(),
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	tcp := ln.Addr().(*net.TCPAddr)
	s.loopback = tcp.IP.IsLoopback()
	var local []net.Addr
	if tcp.IP.IsUnspecified() {
		local, _ = net.InterfaceAddrs() // none listed: only this machine's URL is said
	}
	s.url, s.others = pageURLs(hostport, tcp, s.token, local)
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          nil,
	}
	s.state = s.render(nil)
	s.finished.Add(2)
	go func() {
		defer s.finished.Done()
		s.http.Serve(newLimitListener(ln, opts.MaxClients+extraConns))
	}()
	go func() {
		defer s.finished.Done()
		s.draw()
	}()
	return s, nil
}

// ListenAddr is the host:port that New listens on for a --web ADDR, or why
// ADDR is not one; the tools check it with the other flags.
func ListenAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("--web: empty address (give PORT, :PORT or HOST:PORT)")
	}
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--web %q: %w", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("--web %q: port must be 0 to 65535", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// URL is where this machine's browser opens the page; off loopback it
// carries the token.
func (s *Server) URL() string { return s.url }

// OtherURLs is where other machines open a page bound to every address
// (0.0.0.0 or [::]): one URL, with the token, for each of this machine's
// addresses of that family that is neither loopback nor link-local. Empty
// for a page bound to one address, which URL names.
func (s *Server) OtherURLs() []string { return s.others }

// maxSaid is how many of OtherURLs Announce prints; a machine with more
// addresses (containers, VPNs) gets a count of the rest.
const maxSaid = 4

// Announce says on w, as tool, where the page is: this machine's URL, then
// the others' (at most maxSaid, and how many more).
func (s *Server) Announce(w io.Writer, tool string) {
	fmt.Fprintf(w, "%s: live page at %s\n", tool, s.url)
	for i, u := range s.others {
		if i == maxSaid {
			fmt.Fprintf(w, "%s: and at %d more of this machine's addresses\n", tool, len(s.others)-maxSaid)
			break
		}
		fmt.Fprintf(w, "%s: from another machine: %s\n", tool, u)
	}
}

// pageURLs is where a page asked to listen at hostport, and listening at
// addr, is opened: from this machine (self), and from others at each of
// local's addresses (others) when addr is every address. A browser cannot
// open the unspecified address, so self names loopback instead: 127.0.0.1
// for 0.0.0.0, [::1] for [::] (Go reports a 0.0.0.0 listener as [::] where
// it listens on both families, hence the family of the host asked for). Off loopback every URL
// carries the token.
func pageURLs(hostport string, addr *net.TCPAddr, token string, local []net.Addr) (self string, others []string) {
	port := strconv.Itoa(addr.Port)
	url := func(ip net.IP) string {
		u := "http://" + net.JoinHostPort(ip.String(), port) + "/"
		if !addr.IP.IsLoopback() {
			u += "?token=" + token
		}
		return u
	}
	if !addr.IP.IsUnspecified() {
		return url(addr.IP), nil
	}
	host, _, _ := net.SplitHostPort(hostport)
	asked := net.ParseIP(host)
	v4 := asked == nil || asked.To4() != nil // 0.0.0.0 (or ::ffff:0.0.0.0), not [::]
	self = url(net.IPv6loopback)
	if v4 {
		self = url(net.IPv4(127, 0, 0, 1))
	}
	for _, a := range local {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || n.IP.IsUnspecified() || n.IP.IsMulticast() {
			continue
		}
		if (n.IP.To4() != nil) != v4 {
			continue
		}
		others = append(others, url(n.IP))
	}
	return self, others
}

// Token is the secret a control must carry when the page is not on
// loopback; it is made at random for each Server.
func (s *Server) Token() string { return s.token }

// Loopback reports whether the page is served on a loopback address only.
func (s *Server) Loopback() bool { return s.loopback }

// Tap takes one event's JSON line and text line, as event.Writer.Tap
// gives them. It copies the lines and returns at once, whatever the pages
// are doing.
func (s *Server) Tap(jsonLine, textLine []byte) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		if t, ok := lineTime(jsonLine); ok {
			s.start = now.Add(-time.Duration(t * float64(time.Second)))
			s.started = true
		}
	}
	if len(s.pending)+len(textLine)+len(jsonLine) > maxPending {
		s.dropped++
		return
	}
	s.pending = append(append(s.pending, textLine...), jsonLine...)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Finished marks the run over: the page shows the verdict and says the run
// has ended, and its clock stops.
func (s *Server) Finished(verdict string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	s.endT = time.Since(s.start).Seconds()
	s.verdict = verdict
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops serving: the pages' streams end, the listener closes, and
// Close returns once every goroutine of the Server has.
func (s *Server) Close() error {
	close(s.done)
	err := s.http.Close()
	s.finished.Wait()
	return err
}

// lineTime reads t from the start of an event line, `{"t":1.5,...`.
func lineTime(line []byte) (float64, bool) {
	const prefix = `{"t":`
	if len(line) < len(prefix) || string(line[:len(prefix)]) != prefix {
		return 0, false
	}
	rest := line[len(prefix):]
	end := 0
	for end < len(rest) && rest[end] != ',' && rest[end] != '}' {
		end++
	}
	t, err := strconv.ParseFloat(string(rest[:end]), 64)
	return t, err == nil
}

// clock is the run clock now, in seconds: stopped at the end.
func (s *Server) clock() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return s.endT
	}
	return time.Since(s.start).Seconds()
}
