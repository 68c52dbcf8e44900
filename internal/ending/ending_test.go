package ending

import (
	"encoding/json"
	"testing"
)

// Every reason has its own text, and the texts scripts rely on stay.
func TestReasonTexts(t *testing.T) {
	seen := map[string]Reason{}
	for r := Stopped; r <= AnnouncedSilent; r++ {
		s := r.String()
		if prev, dup := seen[s]; dup {
			t.Errorf("reasons %d and %d both read %q", prev, r, s)
		}
		seen[s] = r
	}
	if len(seen) != len(texts) {
		t.Errorf("%d texts for %d reasons", len(texts), len(seen))
	}
	for r, want := range map[Reason]string{
		PeerClosed: "peer closed", MidFrame: "peer closed mid-frame", Reset: "reset by peer",
		HeartbeatDead: "dead by heartbeat", KernelDead: "dead by kernel", Shutdown: "server shutting down",
		OverLimit: "over the connection limit", AnnouncedSilent: "silent past its announced window",
	} {
		if r.String() != want {
			t.Errorf("reason %d: %q, want %q", r, r, want)
		}
	}
	if got := Reason(200).String(); got != "reason 200" {
		t.Errorf("an unknown reason: %q", got)
	}
	j, err := json.Marshal(map[string]Reason{"reason": MidFrame})
	if err != nil || string(j) != `{"reason":"peer closed mid-frame"}` {
		t.Errorf("JSON %s, %v", j, err)
	}
}

// Every combination of what can be known, and the detector it names.
func TestKernelCause(t *testing.T) {
	for _, tc := range []struct {
		keepAlive, userTimeout bool
		unacked                Unacked
		want                   Cause
	}{
		{false, false, UnackedUnknown, CauseRetransmit},
		{false, false, NoneUnacked, CauseRetransmit},
		{false, false, SomeUnacked, CauseRetransmit},
		{true, false, UnackedUnknown, CauseKeepAlive},
		{true, false, NoneUnacked, CauseKeepAlive},
		{true, false, SomeUnacked, CauseRetransmit},
		{false, true, UnackedUnknown, CauseUserTimeout},
		{false, true, NoneUnacked, CauseUserTimeout},
		{false, true, SomeUnacked, CauseUserTimeout},
		{true, true, UnackedUnknown, CauseUserTimeout},
		{true, true, NoneUnacked, CauseKeepAlive},
		{true, true, SomeUnacked, CauseUserTimeout},
	} {
		if got := KernelCause(tc.keepAlive, tc.userTimeout, tc.unacked); got != tc.want {
			t.Errorf("keep-alive %v, user timeout %v, unacked %d: %s, want %s", tc.keepAlive, tc.userTimeout, tc.unacked, got, tc.want)
		}
	}
}
