//go:build !linux && !darwin && !freebsd && !windows

package sockopt

import (
	"fmt"
	"time"
)

// Elsewhere keep-alive is set through Go's net.KeepAliveConfig only, and
// nothing is read back: every option here fails with ErrUnsupported.
const (
	solSocket       = 0
	soKeepAlive     = 0
	ipprotoTCP      = 0
	tcpKeepIdle     = 0
	tcpKeepIntvl    = 0
	tcpKeepCnt      = 0
	userTimeoutOpt  = 0
	userTimeoutUnit = time.Duration(0)
	maxUserTimeout  = 0
)

var errNoProtoOpt = ErrUnsupported

func getsockoptInt(uintptr, int, int) (int, error) { return 0, ErrUnsupported }

func setsockoptInt(uintptr, int, int, int) error { return ErrUnsupported }

func tcpInfo(uintptr) (Info, error) { return Info{}, fmt.Errorf("TCP_INFO: %w", ErrUnsupported) }

// ReadDefaults: this OS's defaults are not known here.
func ReadDefaults() (Defaults, error) { return Defaults{}, ErrUnsupported }
