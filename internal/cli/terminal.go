package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/heartbeat/heartbeat/internal/event"
)

// DefaultWidth is the width help is wrapped at when the output is not a
// terminal, or one that does not say its width.
const DefaultWidth = 80

// Width is the width of the terminal w writes to, or DefaultWidth when w
// is not a terminal.
func Width(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n, ok := termWidth(f); ok && n > 0 {
			return n
		}
	}
	return DefaultWidth
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, ok = termWidth(f)
	return ok
}

// Color is --color: when the timeline is in colour.
type Color string

// The values of --color.
const (
	ColorAuto   Color = "auto"   // on a terminal, unless NO_COLOR is set (the default)
	ColorAlways Color = "always" // even into a file or a pipe (for less -R, say)
	ColorNever  Color = "never"
)

func (c *Color) Set(s string) error {
	switch Color(s) {
	case ColorAuto, ColorAlways, ColorNever:
		*c = Color(s)
		return nil
	}
	return fmt.Errorf("give auto, always or never")
}
func (c *Color) String() string { return string(*c) }
func (c *Color) Type() string   { return "when" }

// On reports whether lines written to out are in colour: always, never,
// or under auto when out is a terminal and NO_COLOR (https://no-color.org)
// is unset or empty. getenv is os.Getenv but in tests.
func (c Color) On(out io.Writer, getenv func(string) string) bool {
	switch c {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	return getenv("NO_COLOR") == "" && isTerminal(out)
}

// Clock is --clock: what a line's time is.
type Clock string

// The values of --clock.
const (
	ClockStart Clock = "start" // seconds since the start (connect, listen): the default
	ClockWall  Clock = "wall"  // the time of day, HH:MM:SS.mmm, to read two tools side by side
)

func (c *Clock) Set(s string) error {
	switch Clock(s) {
	case ClockStart, ClockWall:
		*c = Clock(s)
		return nil
	}
	return fmt.Errorf("give start or wall")
}
func (c *Clock) String() string { return string(*c) }
func (c *Clock) Type() string   { return "clock" }

// Output is how a tool writes its timeline: --color and --clock, defined
// once for both tools.
type Output struct {
	Color Color
	Clock Clock
}

// OutputFlags defines --color and --clock on fs.
func OutputFlags(fs *pflag.FlagSet, o *Output) {
	o.Color, o.Clock = ColorAuto, ClockStart
	fs.Var(&o.Color, "color", "colour the verdicts: auto (on a terminal, unless NO_COLOR is set), always or never")
	fs.Var(&o.Clock, "clock", "each line's time: start (seconds since the start) or wall (HH:MM:SS.mmm, the time of day)")
}

// Style is the text style o gives lines written to out.
func (o Output) Style(out io.Writer) event.Style {
	return event.Style{Color: o.Color.On(out, os.Getenv), Wall: o.Clock == ClockWall}
}

// wrapHelp makes cmd's help, and its subcommands', wrap the flags'
// descriptions at width columns (pflag wraps each under its flag), so that
// help reads whole on a terminal narrower than the longest description.
func wrapHelp(cmd *cobra.Command, width int) {
	wrapped := fmt.Sprintf("FlagUsagesWrapped %d", width)
	tmpl := strings.ReplaceAll(cmd.UsageTemplate(), "FlagUsages", wrapped)
	cmd.SetUsageTemplate(tmpl)
	for _, c := range cmd.Commands() {
		c.SetUsageTemplate(tmpl)
	}
}
