package server

import (
	"net"
	"testing"
	"time"
)

// A command reaches every connection, those already open included, on
// both backends (the event loop's goroutine and the portable backend's
// readers each take it at a PING): each is said once in the timeline, and
// the next PING of every connection is answered after the new SLEEP; a
// fault too, and "fault none" ends it.
func TestCommandsReachEveryConnection(t *testing.T) {
	const sleep = 200 * time.Millisecond
	commands := make(chan Command)
	h := startWith(t, Config{Commands: commands})
	a, b := dial(t, h.addr), dial(t, h.addr)
	for _, c := range []*net.TCPConn{a, b} {
		sent := ping(t, c, 1)
		if _, at := readPong(t, c); at.Sub(sent) >= sleep {
			t.Fatalf("SLEEP 0: PONG after %v", at.Sub(sent))
		}
	}
	// command hands c over and waits for the timeline to say it: the
	// settings are in place then.
	command := func(c Command) line {
		commands <- c
		return h.wait(func(l line) bool { return l["event"] == "command" })
	}
	l := command(Command{Text: "sleep 0.2", SetSleep: true, Sleep: sleep})
	if l["command"] != "sleep 0.2" || l["sleep_s"] != 0.2 || l["fault"] != "none" {
		t.Errorf("command event %v", l)
	}
	for _, c := range []*net.TCPConn{a, b} {
		sent := ping(t, c, 2)
		if _, at := readPong(t, c); at.Sub(sent) < sleep {
			t.Errorf("after sleep 0.2: PONG after %v", at.Sub(sent))
		}
	}

	command(Command{Text: "fault mute", SetFault: true, Fault: Mute})
	if l := command(Command{Text: "sleep 0", SetSleep: true}); l["sleep_s"] != 0.0 || l["fault"] != "mute" {
		t.Errorf("command event %v, want SLEEP 0 and the fault kept", l)
	}
	ping(t, a, 3)
	h.wait(func(l line) bool { return l["event"] == "note" && l["note"] == "muted" })
	command(Command{Text: "fault none", SetFault: true})
	ping(t, a, 4)
	if st, _ := readPong(t, a); st.Seq != 4 {
		t.Errorf("after fault none: PONG #%d, want #4 (#3 was muted)", st.Seq)
	}
}
