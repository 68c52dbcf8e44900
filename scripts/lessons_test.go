package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// The lesson scripts that make network namespaces refuse to run without
// root before they build or change anything: exit 1 and one line on stderr
// saying so. As root the test drops to nobody (setpriv, util-linux) to
// check it.
func TestLessonScriptsNeedRoot(t *testing.T) {
	var prefix []string
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			t.Skip("skipped: as root, needs setpriv (Debian package util-linux) to run the scripts as nobody")
		}
		prefix = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"}
	}
	for _, script := range []string{"behind-proxy.sh", "sysctl-live.sh", "vanished-client.sh", "rebooted-host.sh", "unreachable-host.sh"} {
		// Not under t.TempDir(), whose parent only root may enter.
		tmp, err := os.MkdirTemp("", "heartbeat-lessons-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(tmp) })
		if err := os.Chmod(tmp, 0o777); err != nil {
			t.Fatal(err)
		}
		args := append(prefix, "bash", script)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = []string{"PATH=" + securePath, "HOME=" + tmp, "TMPDIR=" + tmp}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		want := script + ": needs root, to make network namespaces (try sudo)\n"
		if code := cmd.ProcessState.ExitCode(); code != 1 || errb.String() != want || out.Len() != 0 {
			t.Errorf("%s as a user: exit %d, stdout %q, stderr %q; want exit 1, stderr %q", script, code, out.String(), errb.String(), want)
		}
	}
}
