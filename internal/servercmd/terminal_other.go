//go:build !(linux || darwin || freebsd)

package servercmd

import "os"

// onTerminal is false here: standard input is read for commands only with
// --commands -.
func onTerminal(*os.File) (terminal, foreground bool) { return false, false }
