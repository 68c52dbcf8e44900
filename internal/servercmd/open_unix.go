//go:build unix

package servercmd

import "os"

// openCommands opens --commands FILE. A named pipe is opened for writing
// too: then its open does not wait for a writer, and its reads never end
// when a writer closes, so that each "echo sleep 5 > FIFO" is read, one
// after the other, instead of the first ending the commands and the next
// echo waiting for a reader for ever. Its reads wait in the runtime's
// poller, so closing the file ends one.
func openCommands(path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		return os.OpenFile(path, os.O_RDWR, 0)
	}
	return os.Open(path)
}
