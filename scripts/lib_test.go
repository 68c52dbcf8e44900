// Package scripts holds the tests of lib.sh, the helpers the demo scripts
// source: that they find Go where sudo's PATH does not have it, and name
// the version go.mod needs when there is none.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// securePath is sudo's secure_path on Debian less /snap/bin: no Go
// installed from go.dev/dl is in it.
const securePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// fakeGo writes an executable at dir/bin/go that reports version v, as
// `go env GOVERSION` does, and returns its path.
func fakeGo(t *testing.T, dir, v string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(bin, "go")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho go"+v+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// findGo sources lib.sh under a clean environment (PATH securePath, HOME
// home) and runs find_go with args; it returns what find_go chose, its
// stderr and whether it succeeded.
func findGo(t *testing.T, home string, args ...string) (chosen, stderr string, ok bool) {
	t.Helper()
	script := `source lib.sh; find_go "$@"; echo "$go"`
	cmd := exec.Command("bash", append([]string{"-c", script, "find_go"}, args...)...)
	cmd.Env = []string{"PATH=" + securePath, "HOME=" + home, "TMPDIR=" + t.TempDir()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("bash: %v", err)
	}
	return strings.TrimSpace(out.String()), errb.String(), err == nil
}

// minimum is go.mod's go line.
func minimum(t *testing.T) string {
	t.Helper()
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("no go line in go.mod")
	}
	return string(m[1])
}

// Under sudo Go is not in PATH: find_go must still find one, here at least
// the one a golang.org/dl install leaves in ~/sdk.
func TestFindGoOutsidePath(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	home := t.TempDir()
	fake := fakeGo(t, filepath.Join(home, "sdk", "go99.0.0"), "99.0.0")
	chosen, stderr, ok := findGo(t, home)
	if !ok {
		t.Fatalf("find_go with PATH %s and %s found nothing: %s", securePath, fake, stderr)
	}
	if chosen == "" {
		t.Fatal("find_go succeeded but set no $go")
	}
	if info, err := os.Stat(chosen); err != nil || info.Mode()&0o111 == 0 {
		t.Fatalf("find_go chose %q, not an executable: %v", chosen, err)
	}
}

func TestFindGoVersions(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	want := minimum(t)
	dir := t.TempDir()
	old := fakeGo(t, filepath.Join(dir, "old"), "1.19.8")
	same := fakeGo(t, filepath.Join(dir, "same"), want)

	// The first candidate recent enough wins; an older one is passed over.
	if chosen, stderr, ok := findGo(t, dir, old, same); !ok || chosen != same {
		t.Errorf("find_go %s %s: chose %q (ok %v, stderr %q), want %s", old, same, chosen, ok, stderr, same)
	}

	// Only an old Go: one message naming go.mod's minimum, what was
	// found, and where to get Go.
	chosen, stderr, ok := findGo(t, dir, old, filepath.Join(dir, "missing", "go"))
	if ok {
		t.Fatalf("find_go with only go1.19.8 succeeded, chose %q", chosen)
	}
	for _, s := range []string{"needs Go " + want + " or later", old + " (go1.19.8)", "https://go.dev/dl"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("find_go's message %q does not say %q", stderr, s)
		}
	}
}
