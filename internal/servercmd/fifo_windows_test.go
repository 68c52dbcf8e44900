package servercmd

import "errors"

// mkfifo: Windows has no named pipes in its file system.
func mkfifo(string) error { return errors.ErrUnsupported }

// nonBlock is unused here: no named pipes.
const nonBlock = 0
