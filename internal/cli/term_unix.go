//go:build linux || darwin || freebsd

package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// termWidth is the width in columns of the terminal f is, and whether f is
// one: the window size is asked of the terminal, which anything else
// refuses (ENOTTY).
func termWidth(f *os.File) (int, bool) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, false
	}
	return int(ws.Col), true
}
