package servercmd

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/server"
	"github.com/heartbeat/heartbeat/internal/web"
)

// checkClassroom checks --commands and --web before anything is opened.
func checkClassroom(opts Options, given func(string) bool) error {
	if src := opts.Commands; given("commands") && src != "-" {
		if src == "" {
			return cli.Usagef("--commands: empty (give FILE, or - for standard input)")
		}
		if fi, err := os.Stat(src); err != nil {
			return cli.Usagef("--commands %s: %w", cli.Quote(src), cli.OpCause(err))
		} else if fi.IsDir() {
			return cli.Usagef("--commands %s: is a directory", cli.Quote(src))
		}
	}
	if given("web") {
		if _, err := web.ListenAddr(opts.Web); err != nil {
			return cli.Usagef("%w", err)
		}
	}
	return nil
}

// pageButtons are the page's controls besides its command field (where
// "sleep 5" is typed): one button per fault.
func pageButtons() []string {
	b := []string{"fault none"}
	for _, f := range server.Faults {
		b = append(b, "fault "+string(f))
	}
	return b
}

// startPage serves --web's live page of every connection of the server
// at addr, fed by every event of events, with the commands as its
// controls, and says where on stderr (off loopback the address carries
// the token the controls need).
func startPage(opts Options, addr string, k *commander, events *event.Writer, stderr io.Writer) (*web.Server, error) {
	page, err := web.New(opts.Web, web.Options{
		Title:   "hbserver on " + addr,
		Picture: newConnTable(opts.Sleep, server.Fault(opts.Fault)),
		Command: k.do,
		Buttons: pageButtons(),
	})
	if err != nil {
		return nil, err
	}
	events.Tap(page.Tap)
	page.Announce(stderr, "hbserver")
	return page, nil
}

// Bounds of the page's table: a classroom fits, a load test does not
// make the page or the process grow without end.
const (
	// maxRows is the most connections drawn; the rest are counted.
	maxRows = 200
	// maxClosedKept is the most closed connections remembered, the
	// latest.
	maxClosedKept = maxRows
)

// connRow is what the page shows of one connection.
type connRow struct {
	id       int64
	peer     string
	state    string // serving; in time, late, probing, dead (the server's heartbeat); the fault; closed: why
	class    string // the state's colour: ok, late, dead, closed
	inFlight int    // PINGs received and not yet answered (or muted)
	last     string // the last PONG's hold or RTT
	open     bool
}

// connTable is hbserver's page picture: the SLEEP and fault in effect,
// and one row per connection. It is a web.Picture: Add takes the server's
// JSON events.
type connTable struct {
	sleep  time.Duration
	fault  server.Fault
	rows   map[int64]*connRow
	closed []int64 // ids of the closed rows kept, oldest first
	forgot int     // closed rows no longer kept
}

func newConnTable(sleep time.Duration, fault server.Fault) *connTable {
	return &connTable{sleep: sleep, fault: fault, rows: map[int64]*connRow{}}
}

// tableEvent is what the table reads of an event line.
type tableEvent struct {
	Event    string   `json:"event"`
	Conn     int64    `json:"conn"`
	Peer     string   `json:"peer"`
	SleepS   *float64 `json:"sleep_s"`
	Fault    string   `json:"fault"`
	Reason   string   `json:"reason"`
	HeldS    float64  `json:"held_s"`
	RTTS     float64  `json:"rtt_s"`
	Received bool     `json:"received"`
	Sent     bool     `json:"sent"`
	Note     string   `json:"note"`
	Cause    string   `json:"cause"`
	Missed   int      `json:"missed"`
	Probes   int      `json:"probes"`
}

// secs is a JSON field's seconds as a duration, to the millisecond, as
// the timeline gives times.
func secs(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}

// Add reads an event line. A PING's and a PONG's, which come with every
// frame (thousands a second on a loaded server), are read by frameEvent
// without encoding/json: decoding each took the page's goroutine so much
// of the machine that the heartbeat suffered (at 8,000 connections on 2
// cores, PONG latency p99 went from 2 ms to 23 ms with --web).
func (t *connTable) Add(line []byte) error {
	e, ok := frameEvent(line)
	if !ok {
		e = tableEvent{}
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("not an event: %w", err)
		}
	}
	switch e.Event {
	case event.Listening:
		if e.SleepS != nil {
			t.sleep = secs(*e.SleepS)
		}
		return nil
	case event.CommandName:
		if e.SleepS != nil {
			t.sleep = secs(*e.SleepS)
		}
		t.fault = server.Fault(strings.TrimPrefix(e.Fault, "none"))
		return nil
	case event.Connected:
		// Whether the client is in time only the server's heartbeat
		// (--probes) can tell; without it the server serves.
		t.rows[e.Conn] = &connRow{id: e.Conn, peer: e.Peer, state: "serving", class: "ok", open: true}
		return nil
	}
	r := t.rows[e.Conn]
	if r == nil || !r.open {
		return nil
	}
	switch e.Event {
	case event.Ping:
		if !e.Sent {
			r.inFlight++
		}
	case event.Pong:
		if e.Received {
			r.state, r.class, r.last = "in time", "ok", "RTT "+secs(e.RTTS).String()
		} else {
			r.inFlight = max(0, r.inFlight-1)
			r.last = "held " + secs(e.HeldS).String()
		}
	case event.LatePong:
		r.state, r.class, r.last = "late", "late", "RTT "+secs(e.RTTS).String()+" (late)"
	case event.Missed:
		r.state, r.class = fmt.Sprintf("probing: %d/%d missed", e.Missed, e.Probes), "late"
	case event.Dead:
		r.state, r.class = "dead ("+e.Cause+")", "dead"
	case event.Note:
		switch e.Note {
		case "muted":
			r.inFlight = max(0, r.inFlight-1)
			r.last = "muted"
		case "fault":
			r.state, r.class = "fault "+e.Fault, "late"
		}
	case event.Closed:
		r.open, r.class = false, "closed"
		r.state = "closed: " + e.Reason
		t.closed = append(t.closed, r.id)
		if len(t.closed) > maxClosedKept {
			delete(t.rows, t.closed[0])
			t.closed = t.closed[1:]
			t.forgot++
		}
	}
	return nil
}

// frameEvent reads a "ping" or "pong" line's fields the table uses
// (conn, sent, received, held_s, rtt_s), allocating nothing; false for
// any other line, or one it cannot read, which encoding/json reads then.
func frameEvent(line []byte) (tableEvent, bool) {
	const head = `,"event":"`
	i := bytes.Index(line, []byte(head))
	if i < 0 {
		return tableEvent{}, false
	}
	var e tableEvent
	switch name := line[i+len(head):]; {
	case bytes.HasPrefix(name, []byte(event.Ping+`"`)):
		e.Event = event.Ping
	case bytes.HasPrefix(name, []byte(event.Pong+`"`)):
		e.Event = event.Pong
	default:
		return tableEvent{}, false
	}
	var err error
	if e.Conn, err = strconv.ParseInt(string(rawField(line, "conn")), 10, 64); err != nil {
		return tableEvent{}, false
	}
	e.Sent = string(rawField(line, "sent")) == "true"
	e.Received = string(rawField(line, "received")) == "true"
	held, ok1 := floatField(line, "held_s")
	rtt, ok2 := floatField(line, "rtt_s")
	e.HeldS, e.RTTS = held, rtt
	return e, ok1 && ok2
}

// floatField is the number at key in line; 0 when key is not there,
// false when its value is not a number.
func floatField(line []byte, key string) (float64, bool) {
	v := rawField(line, key)
	if v == nil {
		return 0, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}

// rawField is the value of key in a line of the event package's, a flat
// JSON object, up to the next ',' or '}': whole for a number or a
// boolean; nil when key is not there. A string's contents cannot look
// like `,"key":`, since JSON escapes every '"' in them.
func rawField(line []byte, key string) []byte {
	var buf [32]byte
	pat := append(append(append(buf[:0], `,"`...), key...), `":`...)
	i := bytes.Index(line, pat)
	if i < 0 {
		return nil
	}
	v := line[i+len(pat):]
	if end := bytes.IndexAny(v, ",}"); end >= 0 {
		return v[:end]
	}
	return nil
}

// Sizes of the table's picture, in SVG units.
const (
	rowHeight  = 40
	tableWidth = 1500
)

// columns are the table's columns: heading and where each starts.
var columns = []struct {
	head string
	x    int
}{{"#", 10}, {"peer", 80}, {"state", 480}, {"PINGs waiting", 900}, {"last PONG", 1140}}

func (t *connTable) SVG(w io.Writer) error {
	var open, closed []*connRow
	for _, r := range t.rows {
		if r.open {
			open = append(open, r)
		} else {
			closed = append(closed, r)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].id < open[j].id })
	sort.Slice(closed, func(i, j int) bool { return closed[i].id > closed[j].id }) // the latest first
	shown := append(open, closed...)
	more := max(0, len(shown)-maxRows) + t.forgot
	shown = shown[:min(len(shown), maxRows)]

	var b strings.Builder
	lines := len(shown) + 2 // the settings and the headings
	if more > 0 {
		lines++
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="hb-table" viewBox="0 0 %d %d" role="img" aria-label="the connections" font-family="monospace" font-size="26">`,
		tableWidth, (lines+1)*rowHeight)
	fault := string(t.fault)
	if fault == "" {
		fault = "none"
	}
	text := func(x, y int, class, s string) {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="%s">`, x, y, class)
		xml.EscapeText(&b, []byte(s))
		b.WriteString("</text>")
	}
	text(10, rowHeight, "settings", fmt.Sprintf("SLEEP %s, fault %s; %d open, %d closed", t.sleep, fault, len(open), len(closed)+t.forgot))
	for _, c := range columns {
		text(c.x, 2*rowHeight, "head", c.head)
	}
	for i, r := range shown {
		y := (i + 3) * rowHeight
		cells := []string{fmt.Sprint(r.id), r.peer, r.state, fmt.Sprint(r.inFlight), r.last}
		for j, c := range columns {
			class := "cell"
			if j == 2 {
				class = r.class
			}
			text(c.x, y, class, cells[j])
		}
	}
	if more > 0 {
		text(10, lines*rowHeight, "head", fmt.Sprintf("and %d more not shown", more))
	}
	b.WriteString("</svg>")
	_, err := io.WriteString(w, b.String())
	return err
}
