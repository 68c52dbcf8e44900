package clientcmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/diagram"
)

// newDrawCmd is "hbclient draw": a recorded --json run to SVG. With
// validateOnly it stops once its arguments are checked, reading and
// writing nothing.
func newDrawCmd(validateOnly bool) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "draw FILE.jsonl",
		Short: "Draw a recorded --json run as an SVG sequence diagram",
		Long: `draw reads the JSON lines of an hbclient or hbserver run (--json; "-" reads
standard input) and writes its sequence diagram as SVG to standard output or
to -o OUT.svg: hbclient's connection, or hbserver's first connections side by
side. It tells the two apart by the events.`,
		Example: `  hbclient 127.0.0.1 9000 --json > run.jsonl; hbclient draw run.jsonl -o run.svg`,
		Args:    cli.Args(1, 1, "FILE.jsonl"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out != "" {
				if err := checkNewFile("-o", out); err != nil {
					return err
				}
			}
			if validateOnly {
				return nil
			}
			return draw(args[0], out, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the SVG to this file instead of standard output")
	return cmd
}

// draw renders the run in path ("-": in) to out ("": stdout).
func draw(path, out string, in io.Reader, stdout io.Writer) error {
	name := path
	if path == "-" {
		name = "standard input"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", cli.Quote(path), pathCause(err))
		}
		defer f.Close()
		in = f
	}
	d := diagram.New(diagram.Options{})
	r := bufio.NewReader(in)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if aerr := d.Add(line); aerr != nil {
				return fmt.Errorf("%s: %w", name, aerr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", name, pathCause(err))
		}
	}
	if d.Kind() == diagram.None {
		return fmt.Errorf("%s: no events of an hbclient or hbserver run to draw (record one with --json)", name)
	}
	var b bytes.Buffer
	if err := d.SVG(&b); err != nil {
		return err
	}
	if out == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", cli.Quote(out), pathCause(err))
	}
	return nil
}

// pathCause drops an *fs.PathError's operation and path, which the caller
// says in its own words.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkNewFile refuses, as bad usage, a path the picture cannot be written
// to that can be told without writing: a directory, something that is not
// a regular file, a directory that does not exist.
func checkNewFile(flag, path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		err = errors.New("exists and is not a regular file")
	case errors.Is(err, fs.ErrNotExist):
		if fi, derr := os.Stat(filepath.Dir(path)); derr != nil || !fi.IsDir() {
			err = errors.New("no such directory")
		} else {
			err = nil
		}
	}
	if err != nil {
		return cli.Usagef("%s %s: %w", flag, cli.Quote(path), pathCause(err))
	}
	return nil
}

// picture is --svg: the run's events reach a diagram through the event
// Writer's tap, and the picture is written when the run has ended.
type picture struct {
	path    string
	f       *os.File
	created bool // the file did not exist before: an unused one is removed

	mu sync.Mutex
	d  *diagram.Diagram
}

// openPicture creates (or opens) the file at the start, so a path that
// cannot be written is refused before connecting.
func openPicture(path string) (*picture, error) {
	_, err := os.Stat(path)
	created := errors.Is(err, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, cli.Usagef("--svg %s: %w", cli.Quote(path), pathCause(err))
	}
	return &picture{path: path, f: f, created: created, d: diagram.New(diagram.Options{})}, nil
}

// add is the event Writer's tap: one event's JSON line.
func (p *picture) add(line, _ []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.d.Add(line) // the tools' own lines: nothing to refuse
}

// write replaces the file's content with the picture and closes it.
func (p *picture) write() error {
	p.mu.Lock()
	var b bytes.Buffer
	err := p.d.SVG(&b)
	p.mu.Unlock()
	if err == nil {
		err = p.f.Truncate(0)
	}
	if err == nil {
		_, err = p.f.WriteAt(b.Bytes(), 0)
	}
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--svg %s: %w", cli.Quote(p.path), pathCause(err))
	}
	return nil
}

// discard closes the file without a picture, removing it if the run
// created it: the run never began. A nil picture does nothing.
func (p *picture) discard() {
	if p == nil || p.f == nil {
		return
	}
	p.f.Close()
	if p.created {
		os.Remove(p.path)
	}
	p.f = nil
}

// pending reports whether the picture is still to be written.
func (p *picture) pending() bool { return p != nil && p.f != nil }
