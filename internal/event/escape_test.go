package event

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// A peer's words (a NOTICE's reason) in a text line: one line, no control
// character reaches the terminal, and what was sent can still be read.
func TestTextEscapesControlsAndInvalidUTF8(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain words, µs and ×", "plain words, µs and ×"},
		{"bye\n   9.000  DEAD (heartbeat)", `bye\n   9.000  DEAD (heartbeat)`},
		{"\x1b[2J\x1b]0;owned\x07", `\x1b[2J\x1b]0;owned\x07`},
		{"cr\r tab\t nul\x00 del\x7f", `cr\r tab\t nul\x00 del\x7f`},
		{"c1 \u009b31m \u0085", `c1 \u009b31m \u0085`},
		{"bad \xff\xfe utf8 \xc2", `bad \xff\xfe utf8 \xc2`},
		{"raw c1 byte \x9b", `raw c1 byte \x9b`},
		// Format characters: a bidi override would show "evil" reversed,
		// and the lines after it on some terminals.
		{"bye \u202e live \u202a\u202b\u202c\u202d", `bye \u202e live \u202a\u202b\u202c\u202d`},
		{"isolates \u2066\u2067\u2068\u2069 marks \u200e\u200f \u061c", `isolates \u2066\u2067\u2068\u2069 marks \u200e\u200f \u061c`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"zero\u200bwidth\ufeff tag \U000e0041", `zero\u200bwidth\ufeff tag \U000e0041`},
	} {
		var b bytes.Buffer
		Emit(NewWriter(&b, false), time.Second, ServerWarns{Text: tc.in})
		if got, want := b.String(), "   1.000  the server warns: "+tc.want+"\n"; got != want {
			t.Errorf("%q: got %q, want %q", tc.in, got, want)
		}
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// In JSON the same words stay one line of valid JSON with no raw control
// character, C1 included, and invalid UTF-8 becomes U+FFFD as encoding/json
// makes it.
func TestJSONEscapesControlsAndInvalidUTF8(t *testing.T) {
	in := "bye\n{\"t\":9,\"event\":\"dead\"}\x1b[31m\u009b\x7f\xff\u2028\\ \u202e\u2066\u2069\u200b\ufeff\U000e0041 ×µ"
	var b bytes.Buffer
	Emit(NewWriter(&b, true), time.Second, ServerWarns{Text: in})
	line := strings.TrimSuffix(b.String(), "\n")
	for _, r := range line {
		if isHidden(r) {
			t.Fatalf("raw control or format character %U in %q", r, line)
		}
	}
	if want := `\u202e\u2066\u2069\u200b\ufeff\udb40\udc41 ×µ`; !strings.Contains(line, want) {
		t.Errorf("%s: want format characters escaped as %s", line, want)
	}
	var e struct{ Text string }
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if want := strings.ToValidUTF8(in, "\ufffd"); e.Text != want {
		t.Fatalf("decoded %q, want %q", e.Text, want)
	}
}

// Fields are written as encoding/json would write them.
func TestJSONValuesAsEncodingJSON(t *testing.T) {
	for _, v := range []any{
		"", "peer closed", `quote " and \ back`, "<&>", true, false,
		0, -1, math.MaxInt64, int64(math.MinInt64), int32(-7), uint(7), uint32(math.MaxUint32), uint64(math.MaxUint64),
		0.0, 1.5, 0.001235, 1e-6, 1e-7, 123456789.123456, 1e20, 1e21, 1.5e300, -2.5e-10,
		map[string]int{"peer closed": 2, "dead by heartbeat": 1}, []int{1, 2},
	} {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := v.(string); ok && strings.ContainsAny(s, "<&>") {
			want = []byte(`"` + s + `"`) // not HTML: kept as they are
		}
		if got := appendJSONValue(nil, v); !bytes.Equal(got, want) {
			t.Errorf("%#v: got %s, want %s", v, got, want)
		}
	}
	if got := string(appendJSONValue(nil, math.NaN())); got != `"NaN"` {
		t.Errorf("NaN: got %s", got)
	}
}
