package lessons

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// root is the repository's root, from this package's directory.
const root = "../.."

// README.md's section "The lessons, as demos" holds the table made from All,
// exactly.
func TestReadmeTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## The lessons, as demos\n")
	if !ok {
		t.Fatal("README.md has no section \"The lessons, as demos\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var table []string
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "|") {
			table = append(table, l)
		}
	}
	got, want := strings.Join(table, "\n")+"\n", Markdown(All)
	if got != want {
		t.Errorf("README.md's lessons table is not internal/lessons' (write Markdown(All) into it):\ngot\n%s\nwant\n%s", got, want)
	}
}

// notLessons are the scripts in scripts/ that show no claim.
var notLessons = []string{"lib.sh", "soak.sh", "bench.sh"}

// Every script All names exists and is executable, and every script in
// scripts/ but notLessons is in All, once.
func TestScripts(t *testing.T) {
	listed := map[string]bool{}
	for _, l := range All {
		if listed[l.Script] {
			t.Errorf("%s is listed twice", l.Script)
		}
		listed[l.Script] = true
		info, err := os.Stat(filepath.Join(root, l.Script))
		switch {
		case err != nil:
			t.Errorf("%s: %v", l.Script, err)
		case info.Mode()&0o111 == 0:
			t.Errorf("%s is not executable (%v)", l.Script, info.Mode())
		}
	}
	scripts, err := filepath.Glob(filepath.Join(root, "scripts", "*.sh"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in %s/scripts: %v", root, err)
	}
	for _, s := range scripts {
		name := filepath.Base(s)
		if !slices.Contains(notLessons, name) && !listed["scripts/"+name] {
			t.Errorf("scripts/%s is not in lessons.All (or, if it shows no claim, in notLessons)", name)
		}
	}
}

// Every lesson has a claim of one sentence, figures, and, once measured, a
// run time.
func TestLessonsComplete(t *testing.T) {
	for _, l := range All {
		if strings.Count(l.Claim, ". ") > 0 || !strings.HasSuffix(l.Claim, ".") {
			t.Errorf("%s: claim not one sentence: %q", l.Script, l.Claim)
		}
		if l.Figures == "" || (l.Figures != ToBeMeasured) != (l.RunTime > 0) {
			t.Errorf("%s: figures %q with run time %v: both measured or both %s", l.Script, l.Figures, l.RunTime, ToBeMeasured)
		}
		if strings.Contains(l.Command()+l.Claim+l.Figures, "|") {
			t.Errorf("%s: a | would split README's table cell", l.Script)
		}
	}
}

func TestWriteText(t *testing.T) {
	ls := []Lesson{
		{Script: "scripts/a.sh", Claim: "One two three four five six.", RunTime: 12 * time.Second, Figures: "seven eight"},
		{Script: "scripts/b.sh", Args: "[N]", Claim: "Nine.", Root: true, Figures: ToBeMeasured},
	}
	var b bytes.Buffer
	if err := WriteText(&b, ls, 20); err != nil {
		t.Fatal(err)
	}
	want := `scripts/a.sh (no
    root, runs 12 s)
    One two three
    four five six.
    a run here:
      seven eight

sudo scripts/b.sh
    [N] (root, run
    time to be
    measured)
    Nine.
    a run here: (to
      be measured)
`
	if b.String() != want {
		t.Errorf("WriteText at 20 columns:\n%s\nwant\n%s", b.String(), want)
	}
}

// The whole list at 80 columns: no line longer, and every claim's words in
// order.
func TestWriteTextAll(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, All, 80); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("a line of %d columns: %q", n, l)
		}
	}
	words := strings.Join(strings.Fields(b.String()), " ")
	for _, l := range All {
		for _, s := range []string{l.Command(), l.Claim, "a run here: " + l.Figures} {
			if !strings.Contains(words, strings.Join(strings.Fields(s), " ")) {
				t.Errorf("the text lacks %q", s)
			}
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, All); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(All) {
		t.Fatalf("%d lines for %d lessons:\n%s", len(lines), len(All), b.String())
	}
	for i, line := range lines {
		var got struct {
			Script, Command, Claim, Figures string
			Root                            bool
			RunTimeS                        *float64 `json:"run_time_s"`
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		l := All[i]
		if got.Script != l.Script || got.Command != l.Command() || got.Claim != l.Claim || got.Figures != l.Figures || got.Root != l.Root {
			t.Errorf("line %d: %s; want %+v", i+1, line, l)
		}
		if (got.RunTimeS == nil) != (l.RunTime == 0) || (got.RunTimeS != nil && *got.RunTimeS != l.RunTime.Seconds()) {
			t.Errorf("line %d: run_time_s %v; want %v (null when not measured)", i+1, got.RunTimeS, l.RunTime)
		}
	}
}
