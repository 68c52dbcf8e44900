// Package procstat reads a process's resource use from /proc: open files
// and resident memory, for hbserver's stats and the soak and load scripts.
// It reads Linux's /proc (procstat_linux.go); elsewhere every field is
// unknown (-1), which the stats line says as n/a.
package procstat

// Stat is one reading. A field is -1 when /proc does not tell (always, on
// other systems than Linux).
type Stat struct {
	OpenFiles int   // entries in /proc/PID/fd
	RSSKiB    int64 // resident set size, from /proc/PID/statm
}

// Read reads this process's Stat.
func Read() Stat { return ReadPID("self") }
