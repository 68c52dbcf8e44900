package event

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var backticked = regexp.MustCompile("`([^`]+)`")

// readmeEvents reads README.md's Events section: each event's who and
// fields, and the note kinds.
func readmeEvents(t *testing.T) (map[string]Decl, []string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Events\n")
	if !ok {
		t.Fatal("README.md has no Events section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	events := map[string]Decl{}
	var notes []string
	for _, l := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		name := strings.Trim(cells[0], "`")
		switch len(cells) {
		case 4: // | event | who | fields | meaning |
			var fields []string
			for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
				fields = append(fields, m[1])
			}
			if _, dup := events[name]; dup {
				t.Errorf("README.md lists %q twice", name)
			}
			events[name] = Decl{name, cells[1], strings.Join(fields, " ")}
		case 2: // | note | meaning |
			notes = append(notes, name)
		default:
			t.Fatalf("README.md: a row of %d cells: %s", len(cells), l)
		}
	}
	return events, notes
}

// README.md's Events table lists exactly the declared events, each with its
// tool and its fields, and the declared note kinds.
func TestReadmeListsTheDeclaration(t *testing.T) {
	events, notes := readmeEvents(t)
	for _, d := range Declared {
		r, ok := events[d.Name]
		if !ok {
			t.Errorf("README.md does not list event %q", d.Name)
			continue
		}
		delete(events, d.Name)
		if r.Who != d.Who {
			t.Errorf("README.md: %q is emitted by %q, declared %q", d.Name, r.Who, d.Who)
		}
		if r.Fields != strings.Join(strings.Fields(d.Fields), " ") {
			t.Errorf("README.md: %q has fields\n\t%s\ndeclared\n\t%s", d.Name, r.Fields, d.Fields)
		}
	}
	for name := range events {
		t.Errorf("README.md lists event %q, which is not declared", name)
	}
	if !slices.Equal(notes, Notes) {
		t.Errorf("README.md lists notes %q, declared %q", notes, Notes)
	}
}

// Under go test, an event, a field or a note kind that is not declared
// panics, whichever Writer emits it.
func TestUndeclaredPanics(t *testing.T) {
	if !checkEmits {
		t.Fatal("checks off in a test binary")
	}
	for _, tc := range []struct {
		name   string
		fields []Field
		want   string
	}{
		{"pings", nil, `event "pings" is not declared`},
		{Ping, []Field{F("seq", 1), F("sequence", 1)}, `field "sequence" of event "ping" is not declared`},
		{Note, []Field{F("note", "gossip")}, `note gossip is not declared`},
	} {
		func() {
			defer func() {
				if got, _ := recover().(string); !strings.Contains(got, tc.want) {
					t.Errorf("%s: panic %q, want %q", tc.name, got, tc.want)
				}
			}()
			Discard().Emit(0, tc.name, "", tc.fields...)
		}()
	}
	Discard().Emit(0, Note, "", F("note", "muted"), F("conn", 1)) // declared: no panic
}
