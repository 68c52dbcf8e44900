package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// line_time gives the first column of the first line that matches, so
// that a lesson can subtract a connect's time from a close's; nothing when
// no line matches.
func TestLineTime(t *testing.T) {
	log := filepath.Join(t.TempDir(), "server.log")
	text := "   0.000  listening\n   0.062  [#1 x] connected\n  10.135  [#1 x] closed: dead by kernel\n  14.121  [#2 y] closed: server shutting down\n"
	if err := os.WriteFile(log, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for re, want := range map[string]string{"] connected": "0.062", "] closed: ": "10.135", "reset": ""} {
		cmd := exec.Command("bash", "-c", `source lib.sh; line_time "$1" "$2"`, "line_time", log, re)
		cmd.Env = []string{"PATH=" + securePath, "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("line_time %q: %v", re, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("line_time %q = %q, want %q", re, got, want)
		}
	}
}
