package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Describe puts one event's JSON line in a few words, for the page's status
// line: "10.000 s  PING #1", "15.001 s  PONG #1 RTT 5.001 s (late)". An
// event it does not know is given as its name and fields; a line that is
// not JSON, as it is.
func Describe(jsonLine []byte) string {
	var e map[string]any
	if err := json.Unmarshal(jsonLine, &e); err != nil {
		return strings.TrimSpace(string(jsonLine))
	}
	num := func(k string) float64 { f, _ := e[k].(float64); return f }
	str := func(k string) string { s, _ := e[k].(string); return s }
	var text string
	switch name := str("event"); name {
	case "connected":
		text = "connected to " + str("remote")
		if p := num("predicted_s"); p > 0 {
			text += fmt.Sprintf("; dead after %.3f s of silence", p)
		}
	case "ping":
		text = fmt.Sprintf("PING #%.0f", num("seq"))
	case "pong":
		text = fmt.Sprintf("PONG #%.0f RTT %.3f s", num("seq"), num("rtt_s"))
	case "late_pong":
		text = fmt.Sprintf("PONG #%.0f RTT %.3f s (late)", num("seq"), num("rtt_s"))
	case "missed":
		text = fmt.Sprintf("probe %.0f/%.0f missed", num("missed"), num("probes"))
	case "dead":
		text = fmt.Sprintf("DEAD (%s): observed %.3f s, predicted %.3f s", str("cause"), num("observed_s"), num("predicted_s"))
	case "closed":
		text = "closed: " + str("reason")
	case "command":
		text = fmt.Sprintf("command %q: SLEEP %.3f s, fault %s", str("command"), num("sleep_s"), str("fault"))
	default:
		keys := make([]string, 0, len(e))
		for k := range e {
			if k != "t" && k != "event" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		parts := []string{name}
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, e[k]))
		}
		text = strings.Join(parts, " ")
	}
	if c, ok := e["conn"].(float64); ok {
		text = fmt.Sprintf("conn %.0f: %s", c, text)
	}
	return fmt.Sprintf("%.3f s  %s", num("t"), text)
}
