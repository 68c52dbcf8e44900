package servercmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heartbeat/heartbeat/internal/server"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line string
		want server.Command
		err  string
	}{
		{"sleep 5", server.Command{Text: "sleep 5", SetSleep: true, Sleep: 5 * time.Second}, ""},
		{"  SLEEP   0.5 \n", server.Command{Text: "SLEEP 0.5", SetSleep: true, Sleep: 500 * time.Millisecond}, ""},
		{"sleep 200ms", server.Command{Text: "sleep 200ms", SetSleep: true, Sleep: 200 * time.Millisecond}, ""},
		{"sleep 0", server.Command{Text: "sleep 0", SetSleep: true}, ""},
		{"fault mute", server.Command{Text: "fault mute", SetFault: true, Fault: server.Mute}, ""},
		{"fault none", server.Command{Text: "fault none", SetFault: true, Fault: server.NoFault}, ""},
		{"fault reset", server.Command{Text: "fault reset", SetFault: true, Fault: server.ResetConn}, ""},
		{"sleep", server.Command{}, "sleep takes one duration"},
		{"sleep -1", server.Command{}, "sleep -1:"},
		{"sleep x", server.Command{}, "sleep x:"},
		{"sleep 1 2", server.Command{}, "sleep takes one duration"},
		{"fault explode", server.Command{}, "fault takes one of"},
		{"fault", server.Command{}, "fault takes one of"},
		{"jump \x1b[2J", server.Command{}, `unknown command "jump \x1b[2J"; type help`},
		{"help me", server.Command{}, "unknown command"},
	} {
		got, err := parseCommand(tc.line)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %+v, %v; want %+v", tc.line, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one with %q", tc.line, err, tc.err)
		}
	}
}

// Commands are read a line at a time: a bad one is said on stderr and
// the next is read; help prints the list; EOF ends the reading.
func TestReadCommands(t *testing.T) {
	k := &commander{ctx: context.Background(), out: make(chan server.Command, 8)}
	in := "sleep 5\n\nbogus\nsleep \x1b[2J\u202e\n" + strings.Repeat("x", 1000) + "\nhelp\nfault mute\nsleep 1" // the last without a newline
	var stderr bytes.Buffer
	k.read(strings.NewReader(in), &stderr)
	close(k.out)
	var got []string
	for c := range k.out {
		got = append(got, c.Text)
	}
	if strings.Join(got, "|") != "sleep 5|fault mute|sleep 1" {
		t.Errorf("commands %q", got)
	}
	if strings.ContainsAny(stderr.String(), "\x1b\u202e") {
		t.Errorf("a control or format character reached stderr:\n%q", stderr.String())
	}
	for _, want := range []string{`hbserver: unknown command bogus; type help`, `hbserver: sleep "\x1b[2J\u202e": `, "hbserver: command longer than 256 bytes, ignored", "sleep D      answer each PING after D", "hbserver: end of the commands' input; the server goes on"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// Standard input is read for commands without --commands only when it is
// a terminal: not a pipe, not a file. --commands - reads it whatever it
// is, --commands FILE the file.
func TestCommandsFrom(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if commandsFrom("", r) != nil {
		t.Error("a pipe on standard input is read for commands without --commands -")
	}
	if commandsFrom("", strings.NewReader("sleep 5\n")) != nil {
		t.Error("a reader that is not a file is read for commands without --commands -")
	}
	if commandsFrom("-", r) == nil {
		t.Error("--commands - does not read standard input")
	}

	path := filepath.Join(t.TempDir(), "commands")
	if err := os.WriteFile(path, []byte("sleep 2\nfault close\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := startCommands(ctx, path, nil, io.Discard)
	for _, want := range []string{"sleep 2", "fault close"} {
		nextCommand(t, k, want, "--commands FILE")
	}
}

// nextCommand waits for the next command k reads, which must be want.
func nextCommand(t *testing.T, k *commander, want, from string) {
	t.Helper()
	select {
	case c := <-k.out:
		if c.Text != want {
			t.Fatalf("command %q from %s, want %q", c.Text, from, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %q from %s within 10s", want, from)
	}
}

// A named pipe given to --commands is read from writer to writer: each
// "echo sleep 1 > FIFO" is a command, not only the first, and the reading
// ends with the server.
func TestCommandsFromANamedPipe(t *testing.T) {
	fifo, _ := fifoAndDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer // read only after done
	k := startCommands(ctx, fifo, nil, &stderr)
	for _, want := range []string{"sleep 1", "sleep 2", "fault mute"} {
		w := openWriter(t, fifo)
		if _, err := io.WriteString(w, want+"\n"); err != nil {
			t.Fatal(err)
		}
		w.Close()
		nextCommand(t, k, want, "the named pipe")
	}
	cancel()
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the named pipe is still read 10s after the server stopped")
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr: %q", stderr.String())
	}
}

// openWriter opens the named pipe for writing once it has a reader,
// without waiting for one for ever: a reader gone is an error after a
// few seconds.
func openWriter(t *testing.T, fifo string) *os.File {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, err := os.OpenFile(fifo, os.O_WRONLY|nonBlock, 0)
		if err == nil {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("the named pipe has no reader after 5s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Input that is not commands (a binary file, /dev/urandom, /dev/zero) is
// given up on, after a few lines on stderr, instead of burning a core and
// flooding stderr for as long as it lasts.
func TestReadCommandsGivesUpOnBinary(t *testing.T) {
	for name, tc := range map[string]struct {
		in, last string
	}{
		"bad lines": {strings.Repeat("\x00\xff\x13garbage\n", maxBadInARow) + "sleep 1\n",
			"hbserver: commands no longer read: 20 bad commands in a row, not a person's typing; the server goes on\n"},
		"no newline": {strings.Repeat("\x00", 2*maxSkipped) + "\nsleep 1\n",
			"hbserver: commands no longer read: a line longer than 64 KiB is no command; the server goes on\n"},
	} {
		k := &commander{ctx: context.Background(), out: make(chan server.Command, 8)}
		var stderr bytes.Buffer
		k.read(strings.NewReader(tc.in), &stderr)
		if len(k.out) != 0 {
			t.Errorf("%s: a command was taken after the input proved not commands", name)
		}
		if lines := strings.Count(stderr.String(), "\n"); lines > maxBadInARow+1 || !strings.HasSuffix(stderr.String(), tc.last) {
			t.Errorf("%s: %d lines on stderr, ending %q; want at most %d, the last %q", name, lines, stderr.String()[max(0, stderr.Len()-200):], maxBadInARow+1, tc.last)
		}
	}
	// Typos between good commands are never given up on.
	k := &commander{ctx: context.Background(), out: make(chan server.Command, 8)}
	k.read(strings.NewReader(strings.Repeat(strings.Repeat("slep 1\n", maxBadInARow-1)+"sleep 1\n", 3)), io.Discard)
	if len(k.out) != 3 {
		t.Errorf("%d commands taken among the typos, want 3", len(k.out))
	}
}

// Commands written without a pause are taken minCommandGap apart, from
// any source: a script's flood takes neither a core nor the timeline.
func TestCommandsPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		k := &commander{ctx: ctx, out: make(chan server.Command, 100)}
		start := time.Now()
		k.read(strings.NewReader(strings.Repeat("sleep 0\n", 5)+"help\n"), io.Discard)
		if _, err := k.do("fault mute"); err != nil { // as from the page
			t.Fatal(err)
		}
		// Six commands and help: the last is taken 6 gaps after the first.
		if took := time.Since(start); took != 6*minCommandGap {
			t.Errorf("7 commands took %v, want %v", took, 6*minCommandGap)
		}
		if len(k.out) != 6 {
			t.Errorf("%d commands taken, want 6", len(k.out))
		}
		// One waiting for its turn gives up when the server stops.
		done := make(chan error)
		go func() { _, err := k.do("sleep 1"); done <- err }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, errStopping) {
			t.Errorf("a command waiting when the server stopped: %v", err)
		}
	})
}
