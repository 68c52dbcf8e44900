//go:build !unix

package servercmd

import "os"

// openCommands opens --commands FILE.
func openCommands(path string) (*os.File, error) { return os.Open(path) }
