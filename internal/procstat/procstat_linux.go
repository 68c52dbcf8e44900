package procstat

import (
	"os"
	"strconv"
	"strings"
)

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
