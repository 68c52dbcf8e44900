package event

// Names of the events of the idle-timeout measurement (CALL, CALLBACK:
// docs/PROTOCOL.md; hbclient idle-timeout).
const (
	Callback    = "callback"     // hbserver: a CALLBACK went, after the silence a CALL asked for
	IdleTimeout = "idle_timeout" // hbclient idle-timeout: the verdict
	IdleProbe   = "idle_probe"   // hbclient idle-timeout: how one probe ended
	IdleStatus  = "idle_status"  // hbclient idle-timeout: the progress line
)
