package diagram

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heartbeat/heartbeat/internal/event"
)

// The scale and the sizes of the picture, in SVG pixels.
const (
	// PixelsPerUnit is how tall a probe interval (hbclient) or the
	// server's SLEEP (hbserver) is drawn: tall enough that the PINGs and
	// PONGs of one interval do not crowd.
	PixelsPerUnit = 120
	// BreakAfter is the longest stretch without events, in units, drawn
	// to scale; a longer one is a break of fixed height that says how
	// long it lasted, so a 10 s idle does not make a picture metres tall.
	BreakAfter = 2.5

	step    = 48  // the least room between two moments: an arrow and its label
	breakH  = 64  // a break's height
	slant   = 14  // how far an arrow falls between the lifelines
	lineH   = 30  // a note's line
	deadH   = 40  // a DEAD bar's line
	font    = 20  // the text size
	charW   = 11  // a character's width, about, at that size
	axisW   = 150 // the time axis
	headTop = 44  // the title's baseline
)

// geometry is where a panel is drawn.
type geometry struct {
	x0, x1 float64 // the panel's left and right edges
	lx, rx float64 // its lifelines
	kx     float64 // the kernel's lane, 0 for none
	atLeft bool    // the events were printed at the left lifeline (hbclient)
}

// timeline maps run times to heights.
type timeline struct {
	ts, ys, bands []float64
	breaks        [][3]float64 // y from, y to, seconds
}

func (tl *timeline) y(t float64) float64 {
	n := len(tl.ts)
	i := sort.SearchFloat64s(tl.ts, t) // first ts[i] >= t
	switch {
	case n == 0:
		return 0
	case i < n && tl.ts[i] == t:
		return tl.ys[i]
	case i == 0:
		return tl.ys[0]
	case i == n:
		return tl.ys[n-1] + tl.bands[n-1]
	}
	a := tl.ys[i-1] + tl.bands[i-1]
	f := (t - tl.ts[i-1]) / (tl.ts[i] - tl.ts[i-1])
	return a + f*(tl.ys[i]-a)
}

// end is the height below the last moment's band.
func (tl *timeline) end() float64 {
	if len(tl.ts) == 0 {
		return 0
	}
	return tl.ys[len(tl.ts)-1] + tl.bands[len(tl.ts)-1]
}

// layout places every moment of the run, from y top down.
func (d *Diagram) layout(top float64, widths map[*panel]float64) *timeline {
	band := map[float64]float64{}
	moment := func(t float64) {
		if _, ok := band[t]; !ok {
			band[t] = 0
		}
	}
	grow := func(it *item, width float64) {
		switch it.kind {
		case note:
			band[it.t] += lineH * float64(len(wrap(it.label, width)))
		case dead:
			band[it.t] += deadH*float64(len(wrap(it.label, width))) + 12
		default:
			moment(it.t)
		}
	}
	for _, p := range d.conns {
		moment(p.start)
		if p.ended {
			moment(p.end)
		}
		for _, it := range p.items {
			if it.kind != hold {
				grow(it, widths[p])
			}
		}
	}
	for _, it := range d.wide {
		grow(it, widths[nil])
	}
	tl := &timeline{}
	for t := range band {
		tl.ts = append(tl.ts, t)
	}
	sort.Float64s(tl.ts)
	unit := d.unit
	if !(unit >= 0.001 && unit <= 3600) {
		unit = 1
	}
	pps := PixelsPerUnit / unit
	y := top
	for i, t := range tl.ts {
		if i > 0 {
			gap := t - tl.ts[i-1]
			switch h := gap * pps; {
			case gap > BreakAfter*unit:
				y0 := y
				y += breakH
				tl.breaks = append(tl.breaks, [3]float64{y0, y, gap})
			case h < step:
				y += step
			default:
				y += h
			}
		}
		b := band[t]
		if b > 0 {
			b += 24 // the moment's arrows come first
		}
		tl.ys = append(tl.ys, y)
		tl.bands = append(tl.bands, b)
		y += b
	}
	return tl
}

// SVG draws the run so far. With no event of a run yet it draws an empty
// picture that says it waits for events.
func (d *Diagram) SVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	s := &svg{w: bw}
	d.draw(s)
	if s.err != nil {
		return s.err
	}
	return bw.Flush()
}

// svg writes elements, keeping the first write error.
type svg struct {
	w   *bufio.Writer
	err error
}

func (s *svg) f(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

func (s *svg) text(x, y float64, class, anchor, text string) {
	s.f(`<text class="%s" x="%s" y="%s" text-anchor="%s">%s</text>`+"\n", class, n(x), n(y), anchor, esc(text))
}

func (s *svg) line(x0, y0, x1, y1 float64, class string) {
	s.f(`<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", class, n(x0), n(y0), n(x1), n(y1))
}

func (s *svg) rect(x, y, w, h float64, class string) {
	s.f(`<rect class="%s" x="%s" y="%s" width="%s" height="%s"/>`+"\n", class, n(x), n(y), n(math.Max(w, 0)), n(math.Max(h, 0)))
}

// n is a coordinate, to the tenth of a pixel.
func n(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func (d *Diagram) draw(s *svg) {
	// The panels side by side: hbclient's one, with its kernel lane when
	// the kernel has a say; hbserver's, one per connection drawn.
	geo := map[*panel]geometry{}
	widths := map[*panel]float64{}
	x := float64(axisW)
	for _, p := range d.conns {
		g := geometry{x0: x, atLeft: d.kind == Client}
		if d.kind == Client {
			g.lx, g.rx, g.x1 = x+190, x+690, x+960
			if p.hasKernel {
				g.kx, g.x1 = x+900, x+1240
			}
		} else {
			g.lx, g.rx, g.x1 = x+70, x+400, x+580
		}
		geo[p], widths[p] = g, g.x1-g.x0-20
		x = g.x1
	}
	width := math.Max(x+20, 900)
	widths[nil] = width - axisW - 20

	title := d.title
	if d.kind == None {
		title = "waiting for events"
	}
	head := wrap(title, (width-40)*font/26)
	titleLines := len(head)
	if d.kind == Client && len(d.conns) > 0 {
		head = append(head, "client "+d.conns[0].title)
	}
	for _, p := range d.conns {
		if p.dropped > 0 {
			head = append(head, fmt.Sprintf("%s: the first %d arrows and marks not drawn", p.left, p.dropped))
		}
	}
	if d.left > 0 {
		head = append(head, fmt.Sprintf("%d more connections not drawn (the first %d are)", d.left, len(d.conns)))
	}
	top := headTop + float64(len(head)-1)*lineH + 110
	tl := d.layout(top, widths)
	height := tl.end() + 60
	var timers []timer
	if d.opts.Live {
		timers = d.timers()
		height += float64(len(timers))*70 + 40
	}

	kind := map[Kind]string{None: "empty", Client: "client", Server: "server"}[d.kind]
	s.f(`<svg xmlns="http://www.w3.org/2000/svg" class="hb-diagram %s" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="%d">`+"\n",
		kind, n(width), n(height), n(width), n(height), font)
	s.f("<style>%s</style>\n", style)
	s.rect(0, 0, width, height, "bg")
	for i, h := range head {
		class := "subtitle"
		if i < titleLines {
			class = "title"
		}
		s.text(20, headTop+float64(i)*lineH, class, "start", h)
	}
	s.text(axisW-14, top-40, "axis-head", "end", "time")
	for _, b := range tl.breaks {
		s.rect(axisW, b[0]+8, width-axisW-10, b[1]-b[0]-16, "break")
		s.text(axisW+(width-axisW)/2, (b[0]+b[1])/2+7, "break-text", "middle", "… "+secs(b[2])+" idle …")
	}
	for i, t := range tl.ts {
		s.text(axisW-14, tl.ys[i]+7, "axis", "end", secs(t))
	}
	for _, p := range d.conns {
		d.drawPanel(s, p, geo[p], tl)
	}
	for _, it := range d.wide {
		drawNote(s, it, tl, axisW+10, widths[nil])
	}
	if d.opts.Live {
		drawTimers(s, timers, tl.end()+40, width, d.last)
	}
	s.f("</svg>\n")
}

func (d *Diagram) drawPanel(s *svg, p *panel, g geometry, tl *timeline) {
	top, end := tl.y(p.start), tl.end()
	if p.ended {
		end = tl.y(p.end)
	}
	s.f(`<g class="conn">` + "\n")
	if d.kind == Server {
		s.text(g.x0+10, top-64, "conn-title", "start", p.title)
	}
	for _, lane := range []struct {
		x     float64
		name  string
		class string
	}{{g.lx, p.left, "lifeline"}, {g.rx, p.right, "lifeline"}, {g.kx, "kernel (TCP)", "lifeline kernel-lane"}} {
		if lane.x == 0 {
			continue
		}
		w := float64(utf8.RuneCountInString(lane.name)*charW + 30)
		s.rect(lane.x-w/2, top-46, w, 36, "lane-head")
		s.text(lane.x, top-21, "lane-name", "middle", lane.name)
		s.line(lane.x, top-10, lane.x, end, lane.class)
	}
	for _, it := range p.items {
		switch it.kind {
		case hold:
			y0, y1 := tl.y(it.t), tl.y(it.t1)
			if g.atLeft {
				y0, y1 = y0+slant, y1-slant
			}
			s.rect(g.rx-7, y0, 14, y1-y0, "hold")
			if it.label != "" {
				s.text(g.rx+16, (y0+y1)/2+7, "hold-text", "start", it.label)
			}
		}
	}
	noteAt := map[float64]float64{}
	for _, it := range p.items {
		y := tl.y(it.t)
		switch it.kind {
		case arrow:
			drawArrow(s, it, g, y)
		case mark:
			if it.toRight {
				s.text(g.rx+16, y+7, it.class, "start", it.label)
			} else {
				s.text(g.lx-16, y+7, it.class, "end", it.label)
			}
		case kernel:
			s.f(`<path class="kernel-mark" d="M%s %sl8 8l-8 8l-8 -8z"/>`+"\n", n(g.kx), n(y-8))
			s.text(g.kx+16, y+7, it.class, "start", it.label)
		case note, dead:
			if _, ok := noteAt[it.t]; !ok {
				noteAt[it.t] = y + 24
			}
			noteAt[it.t] = drawNote(s, it, tl, g.x0+10, g.x1-g.x0-20, noteAt[it.t])
		}
	}
	s.f("</g>\n")
}

// drawNote draws a note or a DEAD bar from y down (the moment's band when
// no y is given) and returns the height below it.
func drawNote(s *svg, it *item, tl *timeline, x, width float64, at ...float64) float64 {
	y := tl.y(it.t) + 24
	if len(at) > 0 {
		y = at[0]
	}
	lines := wrap(it.label, width)
	if it.kind == dead {
		h := deadH*float64(len(lines)) + 8
		s.rect(x, y, width, h, "dead")
		for i, l := range lines {
			s.text(x+14, y+float64(i+1)*deadH-8, "dead-text", "start", l)
		}
		return y + h + 4
	}
	s.rect(x, y, width, lineH*float64(len(lines)), "note-bg")
	for i, l := range lines {
		s.text(x+10, y+float64(i+1)*lineH-8, it.class, "start", l)
	}
	return y + lineH*float64(len(lines))
}

// drawArrow draws a frame between the lifelines: the end at the lifeline
// of the tool that printed the event is at its time, the other a little
// before (a frame arriving) or after (a frame leaving).
func drawArrow(s *svg, it *item, g geometry, y float64) {
	x0, x1 := g.lx, g.rx
	if !it.toRight {
		x0, x1 = x1, x0
	}
	y0, y1 := y, y+slant
	if leaves := it.toRight == g.atLeft; !leaves {
		y0, y1 = y-slant, y
	}
	s.f(`<g class="frame %s">`+"\n", it.class)
	s.line(x0, y0, x1, y1, "arrow")
	dx, dy := x1-x0, y1-y0
	l := math.Hypot(dx, dy)
	ux, uy := dx/l, dy/l
	if it.cross {
		s.f(`<path class="cross" d="M%s %sl16 16m0 -16l-16 16"/>`+"\n", n(x1-8), n(y1-8))
	} else {
		s.f(`<path class="head" d="M%s %sL%s %sL%s %sz"/>`+"\n", n(x1), n(y1),
			n(x1-16*ux+7*uy), n(y1-16*uy-7*ux), n(x1-16*ux-7*uy), n(y1-16*uy+7*ux))
	}
	s.text((x0+x1)/2, (y0+y1)/2-10, "label", "middle", it.label)
	s.f("</g>\n")
}

// wrap cuts text into lines that fit width, at spaces where it can.
func wrap(text string, width float64) []string {
	max := int(width/charW) - 2
	if max < 10 {
		max = 10
	}
	var lines []string
	for utf8.RuneCountInString(text) > max {
		r := []rune(text)
		cut := max
		for i := max; i > max/2; i-- {
			if r[i] == ' ' {
				cut = i
				break
			}
		}
		lines = append(lines, strings.TrimRight(string(r[:cut]), " "))
		text = strings.TrimLeft(string(r[cut:]), " ")
	}
	return append(lines, text)
}

// esc makes text safe in an SVG text element: a peer's words go through
// event.Escape (controls, format characters and invalid UTF-8 escaped, as
// in a text line), then XML's own characters are escaped and any rune XML
// forbids is written as \uXXXX.
func esc(text string) string {
	var b strings.Builder
	for _, r := range event.Escape(text) {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case !xmlChar(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlChar reports whether XML 1.0 allows r in text.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xd7ff) ||
		(r >= 0xe000 && r <= 0xfffd) || (r >= 0x10000 && r <= 0x10ffff)
}

// style is the light theme. Every rule is under .hb-diagram so that the
// picture inlined in a page restyles nothing else, and a page can set its
// own theme with more specific rules.
const style = `
.hb-diagram .bg{fill:#ffffff}
.hb-diagram text{fill:#111111}
.hb-diagram .title{font-size:26px;font-weight:bold}
.hb-diagram .subtitle,.hb-diagram .axis-head{fill:#444444}
.hb-diagram .axis{fill:#333333;font-variant-numeric:tabular-nums}
.hb-diagram .conn-title{font-weight:bold}
.hb-diagram .lane-head{fill:#eeeeee;stroke:#111111;stroke-width:2}
.hb-diagram .lane-name{font-weight:bold}
.hb-diagram .lifeline{stroke:#111111;stroke-width:3}
.hb-diagram .kernel-lane{stroke:#6a3d9a;stroke-dasharray:8 6}
.hb-diagram .arrow{stroke-width:3}
.hb-diagram .ping .arrow{stroke:#1a4fa0}
.hb-diagram .ping .head,.hb-diagram .ping .label{fill:#1a4fa0}
.hb-diagram .pong .arrow{stroke:#1b6e2c}
.hb-diagram .pong .head,.hb-diagram .pong .label{fill:#1b6e2c}
.hb-diagram .late .arrow{stroke:#a04a00;stroke-dasharray:10 6}
.hb-diagram .late .head,.hb-diagram .late .label{fill:#a04a00;font-weight:bold}
.hb-diagram .data .arrow{stroke:#555555}
.hb-diagram .data .head{fill:#555555}
.hb-diagram .cross{stroke:#b00000;stroke-width:4;fill:none}
.hb-diagram .missed{fill:#a04a00;font-weight:bold}
.hb-diagram .hold{fill:#bbbbbb;stroke:#555555;stroke-width:1}
.hb-diagram .hold-text{fill:#444444}
.hb-diagram .kernel{fill:#6a3d9a}
.hb-diagram .kernel-mark{fill:#6a3d9a}
.hb-diagram .break{fill:#f2f2f2;stroke:#999999;stroke-dasharray:6 6}
.hb-diagram .break-text{fill:#444444;font-style:italic}
.hb-diagram .note-bg{fill:#ffffff;fill-opacity:0.9}
.hb-diagram .closed{font-weight:bold}
.hb-diagram .error{fill:#b00000;font-weight:bold}
.hb-diagram .dead{fill:#b00000}
.hb-diagram .dead-text{fill:#ffffff;font-weight:bold;font-size:22px}
.hb-diagram .timer-track{fill:#eeeeee;stroke:#111111;stroke-width:1}
.hb-diagram .timer-bar{fill:#1a4fa0}
.hb-diagram .timer-count{font-weight:bold;font-variant-numeric:tabular-nums}
`
