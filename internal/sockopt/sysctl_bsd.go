//go:build darwin || freebsd

package sockopt

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// readSysctls reads macOS's and FreeBSD's keep-alive defaults.
func readSysctls() (Defaults, error) {
	var v [3]uint32
	for i, name := range bsdNames {
		var err error
		if v[i], err = unix.SysctlUint32(name); err != nil {
			return Defaults{}, fmt.Errorf("sockopt: sysctl %s: %w", name, err)
		}
	}
	return millisDefaults(v[0], v[1], int(v[2]), bsdNames, "sysctl"), nil
}
