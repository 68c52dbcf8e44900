package event

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Text lines carry words a peer chose (a NOTICE's reason), so that they go
// to a terminal as one line that says only what it says: a newline would
// forge a line of the timeline, an ESC would drive the terminal, a bidi
// override (U+202E) would show the rest of the line, and the lines after
// it on some terminals, in another order than it was sent.

// isControl reports whether r is a C0 control (newline and ESC among them),
// DEL or a C1 control.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0)
}

// isHidden reports whether r is a control (isControl), a Unicode format
// character (category Cf: the bidi embeddings, overrides and isolates
// U+202A-202E and U+2066-2069, zero-width characters, the BOM, tags) or a
// line or paragraph separator (U+2028, U+2029): characters that print
// nothing themselves but change how the text around them is shown or where
// a line ends. They are escaped wherever a peer's words are written.
func isHidden(r rune) bool {
	return isControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r)
}

// appendText appends s with its control and format characters escaped as
// Go writes them (\n, \t, \r, \x1b, \u009b, \u202e, \U000e0001) and each
// byte of invalid UTF-8 as \xNN. Everything else, printable Unicode
// included, is kept as it is.
func appendText(b []byte, s string) []byte { return appendEscaped(b, s, false) }

// Escape returns s as a text line writes it: control and format characters
// and invalid UTF-8 escaped. It is for lines printed outside a Writer, such as an
// error on stderr.
func Escape(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return string(appendText(nil, s))
		}
	}
	return s
}

func appendHex(b []byte, v uint32, digits int) []byte {
	const hex = "0123456789abcdef"
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b = append(b, hex[v>>shift&0xf])
	}
	return b
}

// appendJSONString appends s as a JSON string. As encoding/json does, it
// escapes C0 controls, '"' and '\\', writes U+2028 and U+2029 as escapes and
// replaces invalid UTF-8 with U+FFFD; it also escapes DEL, the C1 controls
// and the format characters (isHidden), which JSON allows raw but a
// terminal may act on, so that a consumer that prints a string as it is
// read is as safe as a text line. A character above U+FFFF is escaped as
// its UTF-16 surrogate pair, as JSON requires. It leaves <, > and & as
// they are: the output is not HTML.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	return append(appendEscaped(b, s, true), '"')
}

// appendEscaped is appendText, or with inJSON the inside of
// appendJSONString.
func appendEscaped(b []byte, s string, inJSON bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && !(inJSON && (c == '"' || c == '\\')) {
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1 && inJSON:
			b = append(b, `\ufffd`...)
		case r == utf8.RuneError && n == 1:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(c), 2)
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x80 && !inJSON:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(r), 2)
		case !isHidden(r):
			b = append(b, s[i:i+n]...)
		case r <= 0xffff:
			b = append(b, `\u`...)
			b = appendHex(b, uint32(r), 4)
		case inJSON:
			r1, r2 := utf16.EncodeRune(r)
			b = append(b, `\u`...)
			b = appendHex(b, uint32(r1), 4)
			b = append(b, `\u`...)
			b = appendHex(b, uint32(r2), 4)
		default:
			b = append(b, `\U`...)
			b = appendHex(b, uint32(r), 8)
		}
		i += n
	}
	return b
}

// appendJSONFloat appends f as encoding/json writes a float64; NaN and the
// infinities, which JSON cannot hold, become strings.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendJSONString(b, fmt.Sprint(f))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONValue appends v as JSON: the kinds events carry directly,
// anything else through encoding/json (and, if even that fails, as the
// string fmt makes of it).
func appendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case float64:
		return appendJSONFloat(b, v)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return appendJSONString(b, fmt.Sprint(v))
	}
	return append(b, j...)
}
