// Package lessons is the one list of the seed documents' claims about how a
// dead connection is found, each with the script in scripts/ that shows it
// on a real connection and the figures of a run. README.md's lessons table
// and `hbclient lessons` are both made from it (a test holds the README to
// it), so that a claim, its script and its figures are written once.
package lessons

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// ToBeMeasured stands for the figures of a lesson not yet run here.
const ToBeMeasured = "(to be measured)"

// Lesson is one claim and the script that shows it.
type Lesson struct {
	// Script is the script's path from the repository's root.
	Script string `json:"script"`
	// Args are its optional arguments, as its usage line gives them;
	// empty when it takes none.
	Args string `json:"args,omitempty"`
	// Claim is what the seed documents say, in one sentence.
	Claim string `json:"claim"`
	// Root is whether it needs root (to make network namespaces).
	Root bool `json:"root"`
	// RunTime is how long it runs, not counting the build (a second or
	// two, cached), with its default arguments; zero when not measured
	// yet.
	RunTime time.Duration `json:"-"`
	// Figures are what a run here printed, or ToBeMeasured.
	Figures string `json:"figures"`
}

// Command is how to run it: sudo when it needs root, and its arguments.
func (l Lesson) Command() string {
	c := l.Script
	if l.Args != "" {
		c += " " + l.Args
	}
	if l.Root {
		c = "sudo " + c
	}
	return c
}

// runTime is RunTime in whole seconds, as both tables give it, or
// ToBeMeasured.
func (l Lesson) runTime() string {
	if l.RunTime == 0 {
		return ToBeMeasured
	}
	return fmt.Sprintf("%.0f s", l.RunTime.Seconds())
}

// All lists the lessons, the seed programs first, then from the
// application's side (a slow or hung server) to the network's.
var All = []Lesson{
	{
		Script:  "scripts/demo.sh",
		Claim:   "The seed client, which PINGs after 10 s of silence and then every 3 s, gives up on a server that answers each PING after 5 s at 19 s (10 + 3 x 3), and keeps one that answers after 1 s.",
		RunTime: 45 * time.Second,
		Figures: "dead at 19.003 s, predicted 19.000 s",
	},
	{
		Script:  "scripts/slow-server.sh",
		Claim:   "A PONG later than the interval is no sign of life: a server slower than the interval dies at idle + probes x interval, a faster one lives, and the seed's rule (any frame, however late) keeps the slow one.",
		RunTime: 24 * time.Second,
		Figures: "SLEEP 1.5 s dead at 5.000 s, predicted 5.000 s; SLEEP 0.5 s and --accept-late alive",
	},
	{
		Script:  "scripts/hung-server.sh",
		Claim:   "A hung process's kernel still ACKs, so kernel keep-alive never finds it; only an answer from the application, the heartbeat's PONG, does.",
		RunTime: 10 * time.Second,
		Figures: "heartbeat 5.000 s vs 5.000 s; keep-alive alive at 10 s",
	},
	{
		Script:  "scripts/vanished-host.sh",
		Claim:   "When the server's host vanishes, kernel keep-alive and the heartbeat both find it, each at its idle + count x interval.",
		Root:    true,
		RunTime: 6 * time.Second,
		Figures: "heartbeat 5.000 s vs 5.000 s; keep-alive 5.075 s vs 5.000 s",
	},
	{
		Script:  "scripts/vanished-client.sh",
		Claim:   "A server may keep a useless connection for days when its client's host vanishes: without a detector it stays connected, kernel keep-alive drops it at idle + count x interval, the server's heartbeat at idle + probes x interval.",
		Root:    true,
		RunTime: 15 * time.Second,
		Figures: "keep-alive closed at 10.185 s vs 10.000 s (dead by kernel); heartbeat 6.001 s vs 6.000 s (dead by heartbeat); no detector still open at 14 s, closed only at shutdown",
	},
	{
		Script:  "scripts/rebooted-host.sh",
		Claim:   "A peer whose host crashed and came back up no longer knows the connection, so it answers the first keep-alive probe with a reset: ECONNRESET at that probe, not after the probe count.",
		Root:    true,
		RunTime: 8 * time.Second,
		Figures: "connection reset at 7.043 s, predicted 7.000 s (the first probe after the reboot); the probe count alone would have given up at 13 s",
	},
	{
		Script:  "scripts/unreachable-host.sh",
		Claim:   "When a router answers with ICMP host unreachable, a new connection fails at once (EHOSTUNREACH) and the user timeout reports host unreachable, but kernel keep-alive still ends with ETIMEDOUT: the kernel ignores the ICMP replies to its probes as out of window.",
		Root:    true,
		RunTime: 6 * time.Second,
		Figures: "connect: no route to host after 0.010 s; user timeout 4.481 s vs 4.000 s, host unreachable; heartbeat 5.000 s vs 5.000 s; keep-alive 5.092 s vs 5.000 s, connection timed out (3 ICMP errors ignored)",
	},
	{
		Script:  "scripts/unacked-data.sh",
		Claim:   "Keep-alive cannot fire while sent data is unacknowledged: TCP_USER_TIMEOUT drops such a connection, and without it the kernel retransmits for about 15 minutes (tcp_retries2).",
		Root:    true,
		RunTime: 13 * time.Second,
		Figures: "user timeout 4.419 s vs 4.000 s; the other still retransmitting at 12 s",
	},
	{
		Script:  "scripts/behind-proxy.sh",
		Claim:   "A layer-4 proxy forwards payload only, so kernel keep-alive talks to the proxy, which answers its probes: when the server hangs or its host vanishes behind it, only the heartbeat finds it.",
		Root:    true,
		RunTime: 30 * time.Second,
		Figures: "hung server: heartbeat 5.000 s vs 5.000 s, keep-alive alive at 12 s; vanished host: heartbeat 5.000 s vs 5.000 s, keep-alive alive at 12 s",
	},
	{
		Script:  "scripts/nat-timeout.sh",
		Args:    "[--reset, --inbound-only or --haproxy] [TIMEOUT_S]",
		Claim:   "A NAT or a proxy forgets a connection idle longer than its timeout (TIMEOUT_S, default 20), silently, with a reset or with a FIN; a heartbeat or keep-alive more frequent keeps it.",
		Root:    true,
		RunTime: 81 * time.Second,
		Figures: "configured 20 s, measured between 19.9 s and 20.3 s, silent drop, keep-alive refreshes it; --haproxy 5: 4.8 to 5.0 s, close, keep-alive does not refresh it",
	},
	{
		Script:  "scripts/sysctl-live.sh",
		Claim:   "The machine's keep-alive settings apply to connections that already have SO_KEEPALIVE, without restarting the program; values set on the socket win.",
		Root:    true,
		RunTime: 10 * time.Second,
		Figures: "the namespace's settings changed from 3 + 3 x 1 s to 6 + 2 x 2 s: dead at 10.081 s (its connect-time prediction 6 s); its own values: 6.308 s vs 6 s",
	},
	{
		Script:  "scripts/race.sh",
		Claim:   "The same-looking knobs give different detection times: ssh, grpc, nats, the seed client and bfd with jitter, against one hung server, each fire at their own formula's time.",
		RunTime: 10 * time.Second,
		Figures: "bfd (jitter 25%) 3.388 s vs 3.388 s predicted (range 3-4 s); seed client 5.005 s and grpc 5.006 s vs 5.000 s; nats 6.000 s; ssh 8.000 s",
	},
}

// WriteText prints the lessons for a terminal of width columns: for each,
// its command, whether it needs root and its run time, then its claim and
// the figures of a run here, indented and wrapped.
func WriteText(w io.Writer, lessons []Lesson, width int) error {
	var b strings.Builder
	for i, l := range lessons {
		if i > 0 {
			b.WriteByte('\n')
		}
		head := l.Command() + " (no root, "
		if l.Root {
			head = l.Command() + " (root, "
		}
		if l.RunTime == 0 {
			head += "run time " + strings.Trim(ToBeMeasured, "()") + ")"
		} else {
			head += "runs " + l.runTime() + ")"
		}
		wrap(&b, head, "", "    ", width)
		wrap(&b, l.Claim, "    ", "    ", width)
		wrap(&b, "a run here: "+l.Figures, "    ", "      ", width)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap writes text's words on lines of at most width columns, the first
// line after first, the others after rest. A word longer than a line
// has a line of its own.
func wrap(b *strings.Builder, text, first, rest string, width int) {
	line := first
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len([]rune(line))+1+len([]rune(word)) > width {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(line + "\n")
}

// jsonLesson is a Lesson as a JSON line: its command, and its run time in
// seconds (null when not measured yet).
type jsonLesson struct {
	Lesson
	Command  string   `json:"command"`
	RunTimeS *float64 `json:"run_time_s"`
}

// WriteJSON prints each lesson as one JSON object on a line of its own.
func WriteJSON(w io.Writer, lessons []Lesson) error {
	enc := json.NewEncoder(w)
	for _, l := range lessons {
		j := jsonLesson{Lesson: l, Command: l.Command()}
		if l.RunTime > 0 {
			s := l.RunTime.Seconds()
			j.RunTimeS = &s
		}
		if err := enc.Encode(j); err != nil {
			return fmt.Errorf("lessons: %w", err)
		}
	}
	return nil
}

// Markdown is README.md's lessons table: a header and a row a lesson.
func Markdown(lessons []Lesson) string {
	var b strings.Builder
	b.WriteString("| script | claim | root | run time | a run here |\n")
	b.WriteString("|--------|-------|------|---------:|------------|\n")
	for _, l := range lessons {
		root := "no"
		if l.Root {
			root = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", l.Command(), l.Claim, root, l.runTime(), l.Figures)
	}
	return b.String()
}
