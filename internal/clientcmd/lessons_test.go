package clientcmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/cli/clitest"
	"github.com/heartbeat/heartbeat/internal/lessons"
)

// hbclient lessons prints internal/lessons' list at 80 columns, or with
// --json one line a lesson; an argument is bad usage.
func TestLessonsCommand(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		write func(*bytes.Buffer) error
	}{
		{[]string{"lessons"}, func(b *bytes.Buffer) error { return lessons.WriteText(b, lessons.All, 80) }},
		{[]string{"lessons", "--json"}, func(b *bytes.Buffer) error { return lessons.WriteJSON(b, lessons.All) }},
	} {
		var want bytes.Buffer
		if err := tc.write(&want); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := clitest.Run(NewCmd, tc.args...)
		if code != 0 || stderr != "" || stdout != want.String() || strings.Count(stdout, "\n") < len(lessons.All) {
			t.Errorf("hbclient %q: exit %d, stderr %q, stdout\n%s\nwant\n%s", tc.args, code, stderr, stdout, want.String())
		}
	}
	code, _, stderr := clitest.Run(NewCmd, "lessons", "extra")
	if code != cli.ExitUsage || !strings.HasPrefix(stderr, "hbclient lessons: takes no arguments, got 1 argument") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("hbclient lessons extra: exit %d, stderr %q; want exit %d, one line", code, stderr, cli.ExitUsage)
	}
}
