package scripts

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// nat-timeout.sh refuses a bad argument before it builds or changes
// anything: exit 2 and one line on stderr naming it.
func TestNATTimeoutArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string // in the one line on stderr; stdout for --help
	}{
		{[]string{"1"}, 2, "TIMEOUT_S 1 out of range: 2 to 3600"},
		{[]string{"3601"}, 2, "TIMEOUT_S 3601 out of range: 2 to 3600"},
		{[]string{"2.5"}, 2, "2.5: not a whole number of seconds, nor --reset, --inbound-only or --haproxy"},
		{[]string{"--reset", "--nat"}, 2, "--nat: not a whole number of seconds, nor --reset, --inbound-only or --haproxy"},
		{[]string{""}, 2, ": not a whole number of seconds"},
		{[]string{"--help"}, 0, "usage: nat-timeout.sh [--reset | --inbound-only | --haproxy] [TIMEOUT_S]"},
	} {
		cmd := exec.Command("bash", append([]string{"nat-timeout.sh"}, c.args...)...)
		cmd.Env = []string{"PATH=" + securePath, "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		got, lines := errb.String(), strings.Count(errb.String(), "\n")
		if c.code == 0 {
			got, lines = out.String(), 1
		}
		if code := cmd.ProcessState.ExitCode(); code != c.code || lines != 1 || !strings.Contains(got, c.want) {
			t.Errorf("nat-timeout.sh %q: exit %d, %q; want exit %d, one line with %q", c.args, code, got, c.code, c.want)
		}
	}
}
