//go:build unix

package servercmd

import "syscall"

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }

// nonBlock opens a named pipe for writing without waiting for a reader
// (ENXIO when there is none).
const nonBlock = syscall.O_NONBLOCK
