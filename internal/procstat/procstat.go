// Package procstat reads a process's resource use from /proc: open files
// and resident memory, for hbserver's stats and the soak and load scripts.
package procstat

import (
	"os"
	"strconv"
	"strings"
)

// Stat is one reading. A field is -1 when /proc does not tell.
type Stat struct {
	OpenFiles int   // entries in /proc/PID/fd
	RSSKiB    int64 // resident set size, from /proc/PID/statm
}

// Read reads this process's Stat.
func Read() Stat { return ReadPID("self") }

// ReadPID reads the Stat of process pid ("self" for this one).
func ReadPID(pid string) Stat {
	st := Stat{OpenFiles: -1, RSSKiB: -1}
	if fds, err := os.ReadDir("/proc/" + pid + "/fd"); err == nil {
		st.OpenFiles = len(fds)
	}
	if b, err := os.ReadFile("/proc/" + pid + "/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				st.RSSKiB = pages * int64(os.Getpagesize()) / 1024
			}
		}
	}
	return st
}
