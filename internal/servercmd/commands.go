package servercmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/event"
	"github.com/heartbeat/heartbeat/internal/server"
)

// commandsHelp is what "help" prints: every command, one a line.
const commandsHelp = `commands, each taken by every connection at its next PING
(PINGs already waiting keep their SLEEP):
  sleep D      answer each PING after D (5, 0.5, 200ms)
  fault KIND   mute, freeze, reset or close (as --fault); none ends it
  help         this list`

// maxCommandLine bounds a command line: a longer one is refused whole,
// not read into memory.
const maxCommandLine = 256

// commander turns command lines (from standard input, --commands or the
// live page) into the server's Commands.
type commander struct {
	ctx context.Context
	out chan server.Command
	// mu guards next, when the next command may be taken (see
	// minCommandGap); zero: at once.
	mu   sync.Mutex
	next time.Time
	// done is closed when the reading ends (nil when nothing is read):
	// at the end of its input, or once ctx ends, a file's read included.
	done chan struct{}
}

// minCommandGap is the least time between two commands taken. People
// give commands, a few a second at most, and a connection takes only the
// last one before its next PING anyway; a script that writes them without
// a pause (yes "sleep 0" | hbserver --commands -) is slowed to this pace,
// instead of taking a core and writing 30 MB of timeline a second.
const minCommandGap = 100 * time.Millisecond

// errHelp asks for commandsHelp.
var errHelp = errors.New("help")

// parseCommand reads one command line; errHelp for help.
func parseCommand(line string) (server.Command, error) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return server.Command{}, errors.New("empty command; type help")
	}
	c := server.Command{Text: strings.Join(words, " ")}
	switch strings.ToLower(words[0]) {
	case "help", "?":
		if len(words) == 1 {
			return c, errHelp
		}
	case "sleep":
		if len(words) != 2 {
			return c, errors.New("sleep takes one duration: sleep 5, sleep 0.5, sleep 200ms")
		}
		d, err := sleepRange.Parse(words[1])
		if err != nil {
			return c, fmt.Errorf("sleep %s: %w", cli.Quote(words[1]), err)
		}
		c.SetSleep, c.Sleep = true, d
		return c, nil
	case "fault":
		if len(words) == 2 {
			f := server.Fault(strings.ToLower(words[1]))
			if f == "none" {
				f = server.NoFault
			}
			if f == server.NoFault || slices.Contains(server.Faults, f) {
				c.SetFault, c.Fault = true, f
				return c, nil
			}
		}
		return c, errors.New("fault takes one of mute, freeze, reset, close, none")
	}
	return c, fmt.Errorf("unknown command %s; type help", cli.Quote(c.Text))
}

// do runs one command line and returns what to say of it: the help, or
// what changes, which the timeline says too.
func (k *commander) do(line string) (string, error) {
	c, err := parseCommand(line)
	if err != nil && !errors.Is(err, errHelp) {
		return "", err
	}
	if perr := k.pace(); perr != nil {
		return "", perr
	}
	if errors.Is(err, errHelp) {
		return commandsHelp, nil
	}
	select {
	case k.out <- c:
	case <-k.ctx.Done():
		return "", errStopping
	}
	return c.Text + ": from each connection's next PING", nil
}

// Bounds on input that is not commands (a binary file, /dev/urandom,
// /dev/zero): read on, it would take a core from the heartbeat and flood
// stderr with a line for each bad command (170 MB in 8 s). A person's
// typos never come maxBadInARow in a row, nor a line of maxSkipped bytes.
const (
	maxBadInARow = 20
	maxSkipped   = 64 << 10
)

// pace waits, if need be, so that commands are taken minCommandGap
// apart, each caller its own turn.
func (k *commander) pace() error {
	k.mu.Lock()
	now := time.Now()
	wait := k.next.Sub(now)
	k.next = now.Add(max(wait, 0) + minCommandGap)
	k.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-k.ctx.Done():
		return errStopping
	}
}

// errStopping: the server stops, and takes no more commands.
var errStopping = errors.New("the server is stopping")

// read runs the command lines of in until it ends (EOF ends the commands
// only, not the server), fails, or is plainly not commands (maxBadInARow,
// maxSkipped); a bad line is said on stderr, and the next is read.
func (k *commander) read(in io.Reader, stderr io.Writer) {
	r := bufio.NewReaderSize(in, maxCommandLine)
	bad := 0
	for k.ctx.Err() == nil {
		line, err := r.ReadSlice('\n')
		ok := true
		if errors.Is(err, bufio.ErrBufferFull) {
			for skipped := 0; errors.Is(err, bufio.ErrBufferFull); skipped += len(line) {
				if skipped > maxSkipped {
					fmt.Fprintf(stderr, "hbserver: commands no longer read: a line longer than %d KiB is no command; the server goes on\n", maxSkipped>>10)
					return
				}
				line, err = r.ReadSlice('\n')
			}
			fmt.Fprintf(stderr, "hbserver: command longer than %d bytes, ignored\n", maxCommandLine)
			ok = false
		} else if strings.TrimSpace(string(line)) != "" {
			if reply, cerr := k.do(string(line)); cerr != nil {
				// One line, whatever was typed: escaped as the tools' errors are.
				fmt.Fprintf(stderr, "hbserver: %s\n", event.Escape(cerr.Error()))
				ok = false
			} else if reply == commandsHelp {
				fmt.Fprintln(stderr, reply)
			}
		}
		if bad++; ok {
			bad = 0
		} else if bad == maxBadInARow {
			fmt.Fprintf(stderr, "hbserver: commands no longer read: %d bad commands in a row, not a person's typing; the server goes on\n", bad)
			return
		}
		if err == io.EOF {
			fmt.Fprintln(stderr, "hbserver: end of the commands' input; the server goes on")
			return
		}
		if err != nil {
			if k.ctx.Err() == nil { // else the server stops, and closed the input
				fmt.Fprintf(stderr, "hbserver: commands no longer read: %v\n", err)
			}
			return
		}
	}
}

// commandsFrom is where the commands come from for --commands src: ""
// standard input when it is a terminal this process has the foreground of
// (else none: nil), "-" standard input whatever it is, else the file src,
// opened by the reader (openCommands) and closed by it at the end;
// standard input is left open.
func commandsFrom(src string, stdin io.Reader) func() (io.ReadCloser, error) {
	f, _ := stdin.(*os.File)
	terminal, foreground := false, false
	if f != nil && (src == "" || src == "-") {
		terminal, foreground = onTerminal(f)
	}
	switch src {
	case "":
		if !terminal || !foreground {
			return nil
		}
		fallthrough
	case "-":
		return func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }
	}
	return func() (io.ReadCloser, error) { return openCommands(src) }
}

// startCommands reads the commands of --commands src on a goroutine of its
// own, which a terminal's read may hold until the process exits; a
// file's read ends when ctx does (the file is closed).
func startCommands(ctx context.Context, src string, stdin io.Reader, stderr io.Writer) *commander {
	k := &commander{ctx: ctx, out: make(chan server.Command)}
	open := commandsFrom(src, stdin)
	if open == nil {
		return k
	}
	k.done = make(chan struct{})
	go func() {
		defer close(k.done)
		in, err := open()
		if err != nil {
			fmt.Fprintf(stderr, "hbserver: --commands: %s\n", event.Escape(err.Error()))
			return
		}
		stop := context.AfterFunc(ctx, func() { in.Close() })
		defer func() {
			if stop() {
				in.Close()
			}
		}()
		k.read(in, stderr)
	}()
	return k
}
