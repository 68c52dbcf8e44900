//go:build linux || darwin || freebsd

package servercmd

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// foregroundTerminal reports whether f is a terminal whose foreground this
// process has: a server started in the background (hbserver ... &) leaves
// the terminal to the shell. SIGTTIN is ignored, so that a server sent to
// the background later gets an error from its read (and stops reading
// commands) instead of being stopped.
func foregroundTerminal(f *os.File) bool {
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP) // ENOTTY: not a terminal
	if err != nil || pgrp != unix.Getpgrp() {
		return false
	}
	signal.Ignore(syscall.SIGTTIN)
	return true
}
