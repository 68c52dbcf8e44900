package web

import (
	"crypto/subtle"
	"embed"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// page is the page: index.html, its style and its script. Nothing in it
// loads from elsewhere, so it works on a classroom network without the
// internet.
//
//go:embed page
var page embed.FS

// contentSecurity keeps the page to its own origin: no script, style,
// font or image from anywhere else, even if an event's text tried. Inline
// styles are allowed for the SVG's own style attributes.
const contentSecurity = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// TokenHeader carries the token of a control sent from a page served off
// loopback (the page copies it from its URL's ?token=).
const TokenHeader = "X-Heartbeat-Token"

// Handler is the page's HTTP handler: GET / (the page and its files), GET
// /events (the stream) and, with Options.Command, POST /command.
func (s *Server) Handler() http.Handler {
	files, err := fs.Sub(page, "page")
	if err != nil {
		panic(err) // the embedded directory is always there
	}
	static := http.FileServerFS(files)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the page is read with GET", http.StatusMethodNotAllowed)
			return
		}
		static.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("/command", s.command)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.loopback && !loopbackHost(r.Host) {
			// A name that resolves to 127.0.0.1 (DNS rebinding) must not
			// turn another site into this page's origin.
			http.Error(w, "this page answers to 127.0.0.1, [::1] or localhost only", http.StatusMisdirectedRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurity)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a request's Host names this machine.
func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// command is POST /command: a control from the page, handed to
// Options.Command. It is taken from a page served on loopback whose
// request comes from the page itself (its Origin is the page's), or from a
// request that carries the token; anything else is refused, so that
// another site open in the same browser cannot send one (CSRF).
func (s *Server) command(w http.ResponseWriter, r *http.Request) {
	if s.opts.Command == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "controls are sent with POST", http.StatusMethodNotAllowed)
		return
	}
	if err := s.allowed(r); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCommand))
	if err != nil {
		http.Error(w, "a control is one short line", http.StatusRequestEntityTooLarge)
		return
	}
	reply, err := s.opts.Command(strings.TrimSpace(string(body)))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	io.WriteString(w, reply+"\n")
}

// allowed says why a control may not be taken, or nil.
func (s *Server) allowed(r *http.Request) error {
	if tok := r.Header.Get(TokenHeader); tok != "" {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1 {
			return nil
		}
		return errors.New("wrong token")
	}
	if !s.loopback {
		return errors.New("this page is not on loopback: a control needs the token the terminal printed")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return errors.New("a control without the token must come from the page (no Origin)")
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return errors.New("a control without the token must come from the page (Origin " + origin + ")")
	}
	return nil
}
