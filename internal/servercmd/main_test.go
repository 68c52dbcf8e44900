package servercmd

import (
	"bytes"
	"io"
	"os/signal"
	"syscall"
	"testing"

	"github.com/heartbeat/heartbeat/internal/clientcmd"
)

// Main is each whole program, as its binary and the end-to-end tests run
// it; hbserver's ignores SIGPIPE, so that a closed stdout does not kill it.
func TestMainIsTheProgram(t *testing.T) {
	signal.Reset(syscall.SIGPIPE)
	t.Cleanup(func() { signal.Reset(syscall.SIGPIPE) })
	for name, program := range map[string]func(args []string, stdout, stderr io.Writer) int{
		"hbclient": clientcmd.Main,
		"hbserver": Main,
	} {
		var out, errb bytes.Buffer
		want := name + ": --probes x: give a whole number from 0 up\n"
		if code := program([]string{"--probes", "x"}, &out, &errb); code != 2 || errb.String() != want || out.Len() != 0 {
			t.Errorf("%s --probes x: exit %d, stdout %q, stderr %q, want exit 2 and %q", name, code, out.String(), errb.String(), want)
		}
	}
	if !signal.Ignored(syscall.SIGPIPE) {
		t.Error("hbserver's Main leaves SIGPIPE's default action, which kills the server when its stdout closes")
	}
}
