package event

import (
	"unicode/utf8"
	"unsafe"
)

// lineWidth is the most columns a line of the timeline takes: a
// projector's 80.
const lineWidth = 80

// A wrapper is an event whose line lists counts or reasons that come and
// go, or figures whose width varies, and so can be wider than lineWidth: a
// status line at 10,000 connections, a server stopped with four reasons,
// a late PONG's line with the wall clock's wider time, idle-timeout's
// outcomes, progress and verdict. The Writer cuts its text after the last
// ", " or "; " that fits in the second half of the line (a list's items
// stay whole), else at the last space, and indents each continued line two
// more than a detail line. A tap (the live page) and JSON get the line
// whole. Other events' lines are fitted by their own words and details.
type wrapper interface{ wraps() }

func (LoadStatus) wraps()     {}
func (ServerStatus) wraps()   {}
func (LinesCondensed) wraps() {}
func (ServerStopped) wraps()  {}
func (PongReceived) wraps()   {}
func (Warning) wraps()        {}
func (IdleProgress) wraps()   {}
func (IdleProbeEnded) wraps() {}
func (IdleVerdict) wraps()    {}

// continueIndent is how far a wrapper's continued lines start past its
// detail lines.
const continueIndent = 2

// appendWrapped appends text, which starts at column at, cut to fit
// lineWidth, each line escaped, in on and off, and ended with a newline;
// its continued lines start at column cont. It appends only what it
// writes: a late PONG's line allocates nothing.
func appendWrapped(b, text []byte, at, cont int, on, off string) []byte {
	width := lineWidth - at
	for first := true; first || len(text) > 0; first = false {
		if !first {
			b = appendSpaces(b, cont)
			width = lineWidth - cont
		}
		n := cutList(text, width)
		b = appendText(append(b, on...), unsafe.String(unsafe.SliceData(text), n))
		b = append(append(b, off...), '\n')
		text = text[n:]
		for len(text) > 0 && text[0] == ' ' {
			text = text[1:]
		}
	}
	return b
}

// appendSpaces appends n spaces.
func appendSpaces(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// cutList is how many bytes of text make its first line of at most width
// bytes (at least 20, so that a deep indent still moves on): the whole
// when it fits; else through the last ", " or "; " that fits in the second
// half (the comma kept, the space not); else up to the last space that
// fits; else the last whole character that fits.
func cutList(text []byte, width int) int {
	width = max(width, 20)
	if len(text) <= width {
		return len(text)
	}
	space := -1
	for i := width; i > 0; i-- {
		if text[i] != ' ' {
			continue
		}
		if c := text[i-1]; (c == ',' || c == ';') && i >= width/2 {
			return i
		}
		if space < 0 {
			space = i
		}
	}
	if space > 0 {
		return space
	}
	cut := width
	for cut > 1 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return cut
}
