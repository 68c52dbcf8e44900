package event

import (
	"strings"
	"unicode/utf8"
)

// A status line lists counts that come and go, and at 10,000 connections
// with a few of them not zero it is wider than a projector's 80 columns.
// Such an event is a Detailer whose text is wrapped: AppendText is its
// first line and AppendDetails the rest, each cut after the last ", " or
// "; " that fits (else at a space), continued lines indented two more, as a
// warning's are, and joined again with spaces on the page. Both are cut
// from the same whole text, appended and cut in place, so that a status
// line allocates nothing.

// firstLine cuts b[start:], one whole line of text, to the first line of
// its wrapping.
func firstLine(b []byte, start int) []byte {
	return b[:start+cutList(b[start:], warnWidth)]
}

// restLines replaces b[start:], one whole line of text, with the lines
// after the first of its wrapping: "  " and a line each, separated by
// '\n'; nothing when the text fits one line.
func restLines(b []byte, start int) []byte {
	end := len(b)
	at := start + cutList(b[start:end], warnWidth)
	for i := 0; ; i++ {
		for at < end && b[at] == ' ' {
			at++
		}
		if at == end {
			break
		}
		if i > 0 {
			b = append(b, '\n')
		}
		n := cutList(b[at:end], warnWidth-2)
		b = append(append(b, "  "...), b[at:at+n]...)
		at += n
	}
	return append(b[:start], b[end:]...)
}

// cutList is how many bytes of text make its first line of at most width
// bytes: the whole when it fits; else through the last ", " or "; " that
// fits (the comma kept, the space not); else up to the last space that
// fits; else the last whole character that fits.
func cutList(text []byte, width int) int {
	if len(text) <= width {
		return len(text)
	}
	space := -1
	for i := width; i > 0; i-- {
		if text[i] != ' ' {
			continue
		}
		if c := text[i-1]; c == ',' || c == ';' {
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

// warnWidth is the most columns of a warning's text a line holds: after
// the time column, or a detail line's indent, a warning stays within a
// projector's 80 columns.
const warnWidth = 66

// cutLine is text's first line of at most width bytes, cut at the last
// space that fits (or, when none does, at the last whole character that
// fits), and the rest after it.
func cutLine(text string, width int) (line, rest string) {
	if len(text) <= width {
		return text, ""
	}
	cut := strings.LastIndexByte(text[:width+1], ' ')
	if cut > 0 {
		return text[:cut], text[cut+1:]
	}
	for cut = width; cut > 1 && !utf8.RuneStart(text[cut]); cut-- {
	}
	return text[:cut], text[cut:]
}
