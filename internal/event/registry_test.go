package event

import (
	"encoding/json"
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

// undeclared is an event of any name with one field of any key.
type undeclared struct{ name, key string }

func (e undeclared) Name() string             { return e.name }
func (undeclared) AppendText(b []byte) []byte { return append(b, "x"...) }
func (e undeclared) Fields(f *Fields) {
	if e.key != "" {
		f.Int(e.key, 1)
	}
}

// Under go test, an event or a field that is not declared panics,
// whichever Writer emits it (a note's kind: TestTypedNoteKindChecked).
func TestUndeclaredPanics(t *testing.T) {
	if !checkEmits {
		t.Fatal("checks off in a test binary")
	}
	for _, tc := range []struct {
		e    undeclared
		want string
	}{
		{undeclared{"pings", ""}, `event "pings" is not declared`},
		{undeclared{Ping, "sequence"}, `field "sequence" of event "ping" is not declared`},
	} {
		func() {
			defer func() {
				if got, _ := recover().(string); !strings.Contains(got, tc.want) {
					t.Errorf("%s: panic %q, want %q", tc.e.name, got, tc.want)
				}
			}()
			Emit(Discard(), 0, tc.e)
		}()
	}
	Emit(Discard(), 0, undeclared{Ping, "seq"}) // declared: no panic
}

// The declaration comes from the types: each type in Kinds writes, when
// declaring, exactly the fields declared for it, each once, as valid JSON,
// and its text is not empty; every event name is declared once, by the
// tool or tools whose types emit it.
func TestDeclarationFromTypes(t *testing.T) {
	names := map[string]bool{}
	for _, d := range Declared {
		if names[d.Name] {
			t.Errorf("%q declared twice", d.Name)
		}
		names[d.Name] = true
		if d.Who != "client" && d.Who != "server" && d.Who != "both" {
			t.Errorf("%q: emitted by %q", d.Name, d.Who)
		}
	}
	for _, k := range Kinds {
		f := Fields{declaring: true, check: true}
		k.Event.Fields(&f)
		var line []byte
		line = appendJSONHead(line, 0, k.Event.Name())
		line = append(append(line, f.b...), '}')
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Errorf("%T: %s: %v", k.Event, line, err)
		}
		if len(m) != 2+len(f.keys) {
			t.Errorf("%T: %s: a field twice", k.Event, line)
		}
		for _, key := range f.keys {
			if !declared[k.Event.Name()][key] {
				t.Errorf("%T: field %q not declared", k.Event, key)
			}
		}
		if len(k.Event.AppendText(nil)) == 0 {
			t.Errorf("%T: no text", k.Event)
		}
	}
	// A field added to a type is declared with it: the declaration of
	// events of a test's own is derived the same way.
	decls, notes, keys := declare([]Kind{{"client", PingSent{}}, {"server", On(Conn{}, ServerPing{})}, {"server", Muted{}}})
	want := []Decl{{Ping, "both", "seq sent conn peer"}, {Note, "server", "seq note"}}
	if !slices.Equal(decls, want) || !slices.Equal(notes, []string{"muted"}) || !keys[Ping]["sent"] {
		t.Errorf("declared %v, notes %q; want %v, [muted]", decls, notes, want)
	}
}
