package clientcmd

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/cli/clitest"
)

const recorded = "../diagram/testdata/client-demo.jsonl"

// draw renders a recorded run to stdout or -o, from a file or "-".
func TestDraw(t *testing.T) {
	code, stdout, stderr := clitest.Run(NewCmd, "draw", recorded)
	if code != 0 || !strings.HasPrefix(stdout, "<svg ") || !strings.Contains(stdout, ">DEAD (heartbeat) at 1.900 s") || stderr != "" {
		t.Errorf("draw: exit %d, stderr %q, stdout %.200q", code, stderr, stdout)
	}
	out := filepath.Join(t.TempDir(), "run.svg")
	if code, _, stderr := clitest.Run(NewCmd, "draw", recorded, "-o", out); code != 0 {
		t.Fatalf("draw -o: exit %d, %q", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != stdout {
		t.Errorf("-o wrote %d bytes (%v), not what stdout had", len(b), err)
	}
	in, err := os.ReadFile(recorded)
	if err != nil {
		t.Fatal(err)
	}
	cmd := NewCmd()
	cmd.SetIn(bytes.NewReader(in))
	var o, e bytes.Buffer
	if code := cli.Main(cmd, []string{"draw", "-"}, &o, &e); code != 0 || o.String() != stdout {
		t.Errorf("draw -: exit %d, stderr %q, same picture %v", code, e.String(), o.String() == stdout)
	}
}

// A missing file, an empty one, one of non-events: one line, exit 1; bad
// usage: exit 2.
func TestDrawErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.jsonl", "")
	junk := write("junk.jsonl", "hello\n")
	other := write("other.jsonl", `{"t":0,"event":"kernel","tcp_retries2":15}`+"\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"draw", filepath.Join(dir, "none.jsonl")}, 1, "no such file or directory"},
		{[]string{"draw", empty}, 1, "no events of an hbclient or hbserver run"},
		{[]string{"draw", junk}, 1, "line 1: not a JSON event"},
		{[]string{"draw", other}, 1, "no events of an hbclient or hbserver run"},
		{[]string{"draw"}, 2, "FILE.jsonl"},
		{[]string{"draw", recorded, "extra"}, 2, "FILE.jsonl"},
		{[]string{"draw", recorded, "-o", dir}, 2, "not a regular file"},
		{[]string{"draw", recorded, "-o", filepath.Join(dir, "no", "x.svg")}, 2, "no such directory"},
	} {
		code, stdout, stderr := clitest.Run(NewCmd, tc.args...)
		if code != tc.code || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) ||
			!strings.HasPrefix(stderr, "hbclient draw: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and one line saying %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
}

// silentServer accepts connections and never answers: a heartbeat dies.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// --svg writes the picture of the whole run once it has ended.
func TestSVGWrittenAtTheEnd(t *testing.T) {
	port := silentServer(t)
	out := filepath.Join(t.TempDir(), "run.svg")
	code, stdout, _ := clitest.Run(NewCmd, "127.0.0.1", port, "--idle", "50ms", "--interval", "50ms", "--probes", "1", "--svg", out)
	if code != cli.ExitDead {
		t.Fatalf("exit %d, want %d; stdout %q", code, cli.ExitDead, stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg ", ">PING #1<", "missed 1/1", "DEAD (heartbeat)", "predicted 0.100 s"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the picture does not say %q:\n%s", want, b)
		}
	}
}

// An --svg that cannot be written is refused before connecting; a run
// that never connected leaves no file behind.
func TestSVGErrors(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{dir, filepath.Join(dir, "no", "x.svg")} {
		code, _, stderr := clitest.Run(NewCmd, "127.0.0.1", "9", "--svg", path)
		if code != cli.ExitUsage || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--svg") {
			t.Errorf("--svg %s: exit %d, stderr %q", path, code, stderr)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // connection refused
	out := filepath.Join(dir, "never.svg")
	if code, _, _ := clitest.Run(NewCmd, "127.0.0.1", port, "--svg", out); code != cli.ExitError {
		t.Errorf("refused: exit %d", code)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a run that never connected left %s (%v)", out, err)
	}
	if code, _, stderr := clitest.Run(NewCmd, "127.0.0.1", port, "--conns", "2", "--svg", out); code != cli.ExitUsage || !strings.Contains(stderr, "--svg") {
		t.Errorf("--conns with --svg: exit %d, %q", code, stderr)
	}
}
