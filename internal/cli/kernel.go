package cli

import (
	"fmt"

	"github.com/heartbeat/heartbeat/internal/sockopt"
)

// UserTimeoutWarning words e, sockopt's facts on how --user-timeout
// changes keep-alive's verdict, for a person, in the flags' names; "" when
// nothing surprises. Both tools warn with it.
func UserTimeoutWarning(e sockopt.UserTimeoutEffect) string {
	switch e.Kind {
	case sockopt.OneLostProbe:
		return fmt.Sprintf("--user-timeout %s is shorter than keep-alive idle + interval (%s): "+
			"one lost keep-alive probe kills the connection, at %s", e.UserTimeout, e.Bound, e.DeadAfter)
	case sockopt.CountIgnored:
		return fmt.Sprintf("--user-timeout %s is longer than keep-alive's %s: "+
			"the kernel then ignores --keepalive-count and keeps probing until %s", e.UserTimeout, e.Bound, e.DeadAfter)
	}
	return ""
}
