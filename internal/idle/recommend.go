package idle

import "time"

// Heartbeat and keep-alive settings recommended under a timeout: the
// heartbeat's probing keeps hbclient's default rhythm (an interval of 3s,
// 3 probes) unless the idle time is shorter; keep-alive's interval and
// count follow the same rule in whole seconds, as TCP_KEEPINTVL takes them.
const (
	recInterval = 3 * time.Second
	recProbes   = 3
)

// Settings are recommended settings that survive a middlebox's timeout.
// A zero Idle means none can be given (nothing expired, or the lower
// bound is too short for the setting's unit).
type Settings struct {
	Idle, Interval time.Duration
	Probes         int
	DeadAfter      time.Duration // the detection time they give: Idle + Probes x Interval
}

// Recommend gives heartbeat and keep-alive settings for a connection
// through a middlebox that keeps idle connections at least lower: their
// idle time is Margin of it, so the first packet goes out before the
// middlebox forgets. Zero lower (nothing survived, or nothing expired)
// gives none.
func Recommend(lower time.Duration) (heartbeat, keepalive Settings) {
	if lower <= 0 {
		return Settings{}, Settings{}
	}
	idle := time.Duration(Margin * float64(lower)).Truncate(time.Millisecond)
	if idle >= time.Millisecond {
		heartbeat = settings(idle, min(recInterval, idle))
	}
	if ka := idle.Truncate(time.Second); ka >= time.Second {
		keepalive = settings(ka, min(recInterval, ka))
	}
	return heartbeat, keepalive
}

func settings(idle, interval time.Duration) Settings {
	return Settings{Idle: idle, Interval: interval, Probes: recProbes, DeadAfter: idle + recProbes*interval}
}
