package sockopt

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults is the machine's keep-alive and retransmission defaults: what a
// socket gets when it turns keep-alive on without setting its times.
// ReadDefaults reads them where this OS keeps them.
type Defaults struct {
	// KeepAlive is the default idle, interval and probe count (Enable
	// false: keep-alive is off unless a socket asks for it).
	KeepAlive KeepAliveConfig
	// Retries2 is Linux's tcp_retries2: retransmissions before the kernel
	// gives up on unacknowledged data. Zero where the OS has no such
	// setting to read.
	Retries2 int
	// Names are the settings' names on this OS, in the order idle,
	// interval, count (e.g. "net.ipv4.tcp_keepalive_time").
	Names [3]string
	// Source says where the values came from: a directory, sysctl, the
	// registry, or the OS's documentation when nothing could be read.
	Source string
}

// procRoot is where Linux keeps the machine's TCP defaults.
const procRoot = "/proc/sys/net/ipv4"

// readProc reads Linux's defaults under root (normally procRoot). It is
// plain file reading, so its tests run on every OS.
func readProc(root string) (Defaults, error) {
	d := Defaults{
		Names:  [3]string{"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"},
		Source: root,
	}
	read := func(name string) (int, error) {
		b, err := os.ReadFile(root + "/" + name)
		if err != nil {
			return 0, fmt.Errorf("sockopt: %w", err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0, fmt.Errorf("sockopt: %s/%s: %w", root, name, err)
		}
		return n, nil
	}
	var v [4]int
	for i, name := range []string{"tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes", "tcp_retries2"} {
		var err error
		if v[i], err = read(name); err != nil {
			return d, err
		}
	}
	d.KeepAlive = KeepAliveConfig{Idle: time.Duration(v[0]) * time.Second, Interval: time.Duration(v[1]) * time.Second, Count: v[2]}
	d.Retries2 = v[3]
	return d, nil
}

// bsdNames are the sysctls of macOS and FreeBSD, which both keep idle and
// interval in milliseconds (7200000 and 75000 by default) and the count
// as a number (8).
var bsdNames = [3]string{"net.inet.tcp.keepidle", "net.inet.tcp.keepintvl", "net.inet.tcp.keepcnt"}

// millisDefaults makes Defaults from idle and interval in milliseconds, as
// the BSD sysctls and Windows' registry give them.
func millisDefaults(idleMS, intervalMS uint32, count int, names [3]string, source string) Defaults {
	return Defaults{
		KeepAlive: KeepAliveConfig{
			Idle:     time.Duration(idleMS) * time.Millisecond,
			Interval: time.Duration(intervalMS) * time.Millisecond,
			Count:    count,
		},
		Names:  names,
		Source: source,
	}
}

// Windows' documented keep-alive defaults (learn.microsoft.com, "TCP/IP
// registry values"): KeepAliveTime 2 hours and KeepAliveInterval 1 second,
// in milliseconds, and since Windows Vista a fixed 10 probes, which no
// registry value changes.
const (
	windowsKeepAliveTimeMS     = 2 * 60 * 60 * 1000
	windowsKeepAliveIntervalMS = 1000
	windowsKeepAliveProbes     = 10
)

// windowsNames are the registry values under
// HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters; the count has
// none.
var windowsNames = [3]string{"KeepAliveTime", "KeepAliveInterval", "probes (fixed)"}

// windowsDefaults makes Windows' Defaults from the registry values found
// (ok false: absent, the documented default applies).
func windowsDefaults(idleMS uint32, idleOK bool, intervalMS uint32, intervalOK bool) Defaults {
	source := "the registry (Tcpip\\Parameters)"
	if !idleOK {
		idleMS = windowsKeepAliveTimeMS
	}
	if !intervalOK {
		intervalMS = windowsKeepAliveIntervalMS
	}
	switch {
	case !idleOK && !intervalOK:
		source = "Windows' documented defaults (not set in the registry)"
	case !idleOK || !intervalOK:
		source += " and Windows' documented defaults"
	}
	return millisDefaults(idleMS, intervalMS, windowsKeepAliveProbes, windowsNames, source)
}
