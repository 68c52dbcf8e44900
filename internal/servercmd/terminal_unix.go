//go:build linux || darwin || freebsd

package servercmd

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// onTerminal reports whether f is this process's terminal, and whether the
// process has its foreground: a server started in the background
// (hbserver ... &) leaves the terminal to the shell. A process that reads
// its terminal from the background is stopped (SIGTTIN), and a stopped
// server answers no one; so once f is a terminal SIGTTIN is ignored, and
// such a read fails instead, which ends the commands, not the server.
func onTerminal(f *os.File) (terminal, foreground bool) {
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP) // ENOTTY: not a terminal
	if err != nil {
		return false, false
	}
	signal.Ignore(syscall.SIGTTIN)
	return true, pgrp == unix.Getpgrp()
}
