package server

import "time"

// pingRate is the MinPingInterval rule, a pure function of the PINGs'
// arrival times: one PING per interval on average. Each PING moves the
// client's schedule on by one interval, from the PING's arrival or from
// where the schedule stood, whichever is later. A PING that arrives before
// its place in the schedule is early; how early, counted in intervals and
// rounded up, is how many PINGs the client is ahead. An idle spell moves
// the schedule to the present but earns no credit for a later burst, so a
// sustained rate above one per interval falls further behind with every
// PING, however it is grouped. The zero value has seen no PING.
type pingRate struct {
	next time.Time // when the next PING is on schedule; zero before the first
}

// arrive records a PING at now and returns how many PINGs the client is
// ahead of one per interval: 0 when the PING is on schedule or late.
func (r *pingRate) arrive(now time.Time, interval time.Duration) int {
	if r.next.IsZero() || !now.Before(r.next) {
		r.next = now.Add(interval)
		return 0
	}
	early := r.next.Sub(now)
	r.next = r.next.Add(interval)
	return int((early + interval - 1) / interval)
}
