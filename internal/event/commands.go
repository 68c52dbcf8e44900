package event

import (
	"strconv"
	"time"
)

// CommandName is the name of hbserver's "command" event.
const CommandName = "command"

// CommandTaken is hbserver's "command": a command typed on its standard
// input (or --commands, or the live page's controls) changed SLEEP or the
// fault. Sleep and Fault are the server's settings after it, which each
// connection takes at its next PING.
type CommandTaken struct {
	Command string        // the command, as it was given
	Sleep   time.Duration // SLEEP from now on
	Fault   string        // the fault from now on; "" is none
}

func (CommandTaken) Name() string { return CommandName }

func (e CommandTaken) AppendText(b []byte) []byte {
	b = append(b, "command "...)
	b = strconv.AppendQuote(b, e.Command)
	b = append(b, ": from the next PING on, SLEEP "...)
	b = appendSeconds(b, e.Sleep)
	b = append(b, ", fault "...)
	return append(b, e.fault()...)
}

func (e CommandTaken) Fields(f *Fields) {
	f.Str("command", e.Command)
	f.Secs("sleep_s", e.Sleep)
	f.Str("fault", e.fault())
}

// fault is the fault's name, "none" for none.
//
// The text, at most 80 columns for a short command (the timeline is
// read on a projector): command "sleep 5": from the next PING on, SLEEP
// 5s, fault none.
func (e CommandTaken) fault() string {
	if e.Fault == "" {
		return "none"
	}
	return e.Fault
}
