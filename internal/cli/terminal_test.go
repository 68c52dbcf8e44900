package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// --color auto is on only for a terminal and only while NO_COLOR is unset
// or empty; always and never are what they say. A bytes.Buffer and a
// regular file are not terminals.
func TestColorOn(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "NO_COLOR" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		c    Color
		env  string
		want bool
	}{
		{ColorAlways, "1", true},
		{ColorNever, "", false},
		{ColorAuto, "", false}, // not a terminal
	} {
		for _, out := range []any{&bytes.Buffer{}, f} {
			w := out.(interface{ Write([]byte) (int, error) })
			if got := tc.c.On(w, env(tc.env)); got != tc.want {
				t.Errorf("%s, NO_COLOR=%q, %T: %v, want %v", tc.c, tc.env, out, got, tc.want)
			}
		}
	}
	if Width(f) != DefaultWidth || Width(&bytes.Buffer{}) != DefaultWidth {
		t.Errorf("width off a terminal: %d, %d", Width(f), Width(&bytes.Buffer{}))
	}
}

// The flags take their values and refuse others, saying which they take.
func TestOutputFlags(t *testing.T) {
	var o Output
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	OutputFlags(fs, &o)
	if o.Color != ColorAuto || o.Clock != ClockStart {
		t.Fatalf("defaults %+v", o)
	}
	if err := fs.Parse([]string{"--color", "never", "--clock", "wall"}); err != nil || o.Color != ColorNever || o.Clock != ClockWall {
		t.Fatalf("parse: %v, %+v", err, o)
	}
	if s := o.Style(&bytes.Buffer{}); s.Color || !s.Wall {
		t.Errorf("style %+v", s)
	}
	for _, bad := range [][]string{{"--color", "yes"}, {"--clock", "local"}} {
		err := fs.Parse(bad)
		if err == nil || !strings.Contains(err.Error(), "give ") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

// Help wraps the flags' descriptions at the width given.
func TestHelpWrapped(t *testing.T) {
	cmd := &cobra.Command{Use: "x", Run: func(*cobra.Command, []string) {}}
	cmd.Flags().String("long", "", strings.Repeat("word ", 40))
	wrapHelp(cmd, 60)
	var out bytes.Buffer
	cmd.SetOut(&out)
	if err := cmd.Usage(); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if len(l) > 60 {
			t.Errorf("%d columns: %q", len(l), l)
		}
	}
	if !strings.Contains(out.String(), "word word") {
		t.Errorf("no description:\n%s", out.String())
	}
}
