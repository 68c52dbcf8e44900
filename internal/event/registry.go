package event

import (
	"fmt"
	"strings"
	"testing"
)

// Names of the events that only hbclient's load mode and its kernel command
// emit.
const (
	Load    = "load"    // load mode: what it is about to open
	Status  = "status"  // load mode, and hbserver's condensed lines: the counts, once a second
	Summary = "summary" // load mode: the totals at the end
	Kernel  = "kernel"  // hbclient kernel --json: the machine's defaults
)

// Decl declares one event: its name, which tool emits it ("client",
// "server" or "both") and every field it may carry, separated by spaces.
// README.md's Events table lists the same, which a test checks.
type Decl struct {
	Name   string
	Who    string
	Fields string
}

// Declared is every event the tools emit, one line each. A new event or
// field goes here first: under `go test`, Emit panics on one that is not
// declared, so no test passes until it is, and then the README test asks for
// its line in the table.
var Declared = []Decl{
	{Listening, "server", "addr sleep_s max_conns"},
	{Connected, "both", "local remote heartbeat idle_s interval_s probes accept_late predicted_s keepalive keepalive_idle_s keepalive_interval_s keepalive_count keepalive_predicted_s user_timeout_s conn peer"},
	{Ping, "both", "seq sent conn peer"},
	{Pong, "both", "seq rtt_s echo_seq held_s received conn peer"},
	{LatePong, "both", "seq rtt_s echo_seq unsolicited alive received conn peer"},
	{Missed, "both", "missed probes conn peer"},
	{Data, "both", "type name seq answered conn peer"},
	{Dead, "both", "cause observed_s predicted_s last_life_s unreachable first_retransmit_s tcpi_probes tcpi_retransmits tcpi_unacked tcpi_last_data_recv_s conn peer"},
	{KernelProbe, "client", "probe count last_data_recv_s"},
	{KernelRetransmit, "client", "retransmit unacked rto_s"},
	{Closed, "both", "reason conn peer"},
	{Note, "both", "note warning text severity seq fault conn peer"},
	{Error, "both", "error from conn peer"},
	{Stopped, "server", "connections closed"},
	{Stats, "server", "conns goroutines open_files rss_kib"},
	{Dropped, "both", "lines total"},
	{Load, "client", "conns addr rate predicted_s"},
	{Status, "both", "up alive dead never_accepted failed closed closed_mid_frame closed_notices first_close_reason warnings connect_errors pings_per_s late_pongs rtt_p50_s rtt_p99_s conns connected pongs_per_s closed_by lines_per_s window_s"},
	{StatusOn, "server", "limit"},
	{StatusOff, "server", "limit"},
	{Summary, "client", "conns connected connect_errors first_connect_error pending alive dead never_accepted failed closed closed_mid_frame closed_notices first_close_reason warnings pings pings_per_s late_pongs rtt_p50_s rtt_p99_s detect_err_p50_s detect_err_p99_s detect_err_max_s"},
	{Kernel, "client", "tcp_keepalive_time_s tcp_keepalive_intvl_s tcp_keepalive_probes tcp_retries2 keepalive_dead_after_s retransmit_give_up_s"},
}

// Notes are the values of a "note" event's "note" field, one each.
var Notes = []string{
	"host_order_pong", // hbclient: the server's PONG type is in host byte order, as the C server sends it
	"no_echo",         // hbclient: the server's PONGs do not echo the PING's stamp
	"send_stalled",    // hbclient: a PING could not be sent before its deadline
	"warning",         // both: the settings combine in a way that surprises people
	"server_warning",  // hbclient: the server sent a warning NOTICE
	"notice",          // hbserver: a NOTICE was sent to the client
	"fault",           // hbserver: --fault starts on this connection
	"muted",           // hbserver: a PING not answered, under --fault mute
}

// checkEmits is on in test binaries (the e2e tests run the tools inside
// one): every Emit is checked against Declared and Notes.
var checkEmits = testing.Testing()

var declared = func() map[string]map[string]bool {
	m := make(map[string]map[string]bool, len(Declared))
	for _, d := range Declared {
		fs := make(map[string]bool)
		for _, f := range strings.Fields(d.Fields) {
			fs[f] = true
		}
		m[d.Name] = fs
	}
	return m
}()

// mustBeDeclared panics when an event, one of its fields or a note's kind
// is not declared: the JSON lines are a contract, and the README lists it.
func mustBeDeclared(name string, fields []Field) {
	fs, ok := declared[name]
	if !ok {
		panic(fmt.Sprintf("event: event %q is not declared in internal/event/registry.go", name))
	}
	for _, f := range fields {
		if !fs[f.Key] {
			panic(fmt.Sprintf("event: field %q of event %q is not declared in internal/event/registry.go", f.Key, name))
		}
		if name == Note && f.Key == "note" && !isNote(f.Value) {
			panic(fmt.Sprintf("event: note %v is not declared in internal/event/registry.go", f.Value))
		}
	}
}

// mustBeDeclaredKeys is mustBeDeclared for a typed Event's field keys.
func mustBeDeclaredKeys(name string, keys []string) {
	fs := make([]Field, len(keys))
	for i, k := range keys {
		fs[i] = Field{Key: k}
	}
	mustBeDeclared(name, fs)
}

func isNote(v any) bool {
	s, _ := v.(string)
	for _, n := range Notes {
		if n == s {
			return true
		}
	}
	return false
}
