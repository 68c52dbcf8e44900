//go:build !(linux || darwin || freebsd)

package servercmd

import "os"

// foregroundTerminal is false here: standard input is read for commands
// only with --commands -.
func foregroundTerminal(*os.File) bool { return false }
