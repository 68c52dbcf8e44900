package event

import (
	"fmt"
	"slices"
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

// Kind is one type of event and the tool that emits it ("client" or
// "server").
type Kind struct {
	Who   string
	Event Event
}

// Kinds is every type of event the tools emit, each with a value of it:
// its name and fields are the declaration (Declared), so that a type is
// the one place where a field is added. A value stands for the type
// whatever its fields hold (see Fields.Want), except where its name
// depends on them: then it is listed once per name. A new type goes here:
// under go test, an event whose name, field or note kind is not declared
// panics, so no test passes until it is, and then the README test asks for
// its line in the table.
var Kinds = []Kind{
	{"server", ServerListening{}},
	{"client", ClientConnected{}},
	{"server", OnDetailed(Conn{}, ServerConnected{})},
	{"client", PingSent{}},
	{"server", On(Conn{}, PingReceived{})},
	{"server", On(Conn{}, ServerPing{})},
	{"client", PongReceived{Seq: 1}},
	{"server", On(Conn{}, PongSent{})},
	{"server", On(Conn{}, ClientPong{})},
	{"client", PongReceived{}},
	{"server", On(Conn{}, ClientPong{Late: true})},
	{"client", ProbeMissed{}},
	{"server", On(Conn{}, ClientMissed{})},
	{"client", DataReceived{}},
	{"client", ServerPingData{}},
	{"server", On(Conn{}, DataReceived{})},
	{"client", HeartbeatDead{}},
	{"client", KernelDead{}},
	{"server", On(Conn{}, ClientDead{})},
	{"client", KernelProbeOut{}},
	{"client", KernelRetransmitted{}},
	{"client", ConnClosed{}},
	{"client", PeerClosed{}},
	{"server", On(Conn{}, ConnClosed{})},
	{"client", HostOrderPong{}},
	{"client", NoEcho{}},
	{"client", SendStalled{}},
	{"client", LocalStall{}},
	{"client", Warning{}},
	{"server", Warning{}},
	{"client", ServerWarns{}},
	{"server", On(Conn{}, Told{})},
	{"server", On(Conn{}, FaultOn{})},
	{"server", On(Conn{}, Muted{})},
	{"client", Failed{Op: "error", Err: "connection reset by peer"}},
	{"client", ServerClosing{}},
	{"server", On(Conn{}, Failed{Op: "epoll", Err: "bad file descriptor"})},
	{"server", AcceptRetry{}},
	{"server", ServerStopped{}},
	{"server", ServerStats{}},
	{"server", CommandTaken{}},
	{"server", On(Conn{}, CallbackSent{})},
	{"server", OnDetailed(Conn{}, ClientAnnounced{})},
	{"client", IdleProbeEnded{}},
	{"client", IdleProgress{}},
	{"client", IdleVerdict{}},
	{"client", dropped{}},
	{"server", dropped{}},
	{"client", LoadStart{}},
	{"client", LoadStatus{}},
	{"client", LoadSummary{}},
	{"server", LinesCondensed{}},
	{"server", ServerStatus{}},
	{"server", LinesResumed{}},
	{"client", KernelDefaults{}},
	{"client", Comparison{}},
}

// Declared is every event the tools emit, one line each, from Kinds: the
// fields of an event's types in the order Kinds gives them, the
// connection's ("conn" and "peer", which hbserver adds to each event about
// one) last.
var Declared []Decl

// Notes are the values of a "note" event's "note" field, one each, in the
// order of Kinds.
var Notes []string

// declared is Declared's fields by event name.
var declared map[string]map[string]bool

func init() { Declared, Notes, declared = declare(Kinds) }

// declare derives the declaration from ks.
func declare(ks []Kind) ([]Decl, []string, map[string]map[string]bool) {
	var decls []Decl
	var own, conn [][]string // each event's fields, the connection's apart
	var notes []string
	keys := map[string]map[string]bool{}
	at := map[string]int{} // an event's index in decls
	for _, k := range ks {
		f := Fields{declaring: true, check: true}
		k.Event.Fields(&f)
		name := k.Event.Name()
		i, ok := at[name]
		if !ok {
			i = len(decls)
			at[name] = i
			decls = append(decls, Decl{Name: name, Who: k.Who})
			own, conn = append(own, nil), append(conn, nil)
			keys[name] = map[string]bool{}
		}
		if decls[i].Who != k.Who {
			decls[i].Who = "both"
		}
		for _, key := range f.keys {
			list := &own[i]
			if key == "conn" || key == "peer" {
				list = &conn[i]
			}
			if !keys[name][key] {
				keys[name][key] = true
				*list = append(*list, key)
			}
		}
		if f.note != "" && !slices.Contains(notes, f.note) {
			notes = append(notes, f.note)
		}
	}
	for i := range decls {
		decls[i].Fields = strings.Join(append(own[i], conn[i]...), " ")
	}
	return decls, notes, keys
}

// checkEmits is on in test binaries (the e2e tests run the tools inside
// one): every Emit is checked against Declared and Notes.
var checkEmits = testing.Testing()

// mustBeDeclared panics when an event, one of its field keys or, for a
// note, its kind is not declared: the JSON lines are a contract, and the
// README lists it.
func mustBeDeclared(name string, keys []string, note string) {
	fs, ok := declared[name]
	if !ok {
		panic(fmt.Sprintf("event: event %q is not declared in internal/event/registry.go", name))
	}
	for _, k := range keys {
		if !fs[k] {
			panic(fmt.Sprintf("event: field %q of event %q is not declared in internal/event/registry.go", k, name))
		}
	}
	if name == Note && slices.Contains(keys, "note") && !slices.Contains(Notes, note) {
		panic(fmt.Sprintf("event: note %v is not declared in internal/event/registry.go", note))
	}
}
