//go:build unix

package cli

import (
	"math"

	"golang.org/x/sys/unix"
)

// MaxConns is how many connections the process's open-file limit allows:
// Go raises the soft limit to the hard one at start-up on Linux, so this
// is the hard limit less ReservedFiles. Zero when the limit is unknown or
// infinite.
func MaxConns() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == unix.RLIM_INFINITY || lim.Cur > math.MaxInt32 {
		return 0
	}
	return max(int(lim.Cur)-ReservedFiles, 1)
}
