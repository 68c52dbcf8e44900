package sockopt

import (
	"encoding/binary"
	"testing"
)

// Windows' TCP_INFO_v0, written at the offsets C gives it on amd64 and
// arm64: State 0, Mss 4, ConnectionTimeMs 8, TimestampsEnabled 16, RttUs 20,
// BytesInFlight 28, BytesOut 48, BytesRetrans 68, TimeoutEpisodes 80,
// SynRetrans 84, 88 bytes in all.
func TestWindowsTCPInfo(t *testing.T) {
	var raw windowsTCPInfo
	b := bytesOf(&raw)
	if len(b) != 88 {
		t.Fatalf("TCP_INFO_v0 is %d bytes here, 88 in C", len(b))
	}
	put := binary.NativeEndian.PutUint32
	put(b[0:], 4)     // TCPSTATE_ESTABLISHED
	put(b[4:], 1460)  // Mss
	b[16] = 1         // TimestampsEnabled
	put(b[20:], 900)  // RttUs
	put(b[28:], 2056) // BytesInFlight: two PINGs
	binary.NativeEndian.PutUint64(b[48:], 1<<40)
	put(b[68:], 3084) // BytesRetrans
	put(b[80:], 1)    // TimeoutEpisodes
	b[84] = 2         // SynRetrans
	if raw.RttUs != 900 || raw.BytesOut != 1<<40 || raw.TimeoutEpisodes != 1 || raw.SynRetrans != 2 {
		t.Fatalf("fields read at the wrong offsets: %+v", raw)
	}
	got, err := raw.info(88)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{State: 1, Unacked: 2, Filled: FieldState | FieldUnacked}
	if got != want {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// Windows counts retransmitted bytes and timeout episodes, not
	// retransmissions: unknown, not zero.
	if got.Has(FieldRetransmits) || got.Has(FieldRTO) || got.Has(FieldProbes) {
		t.Fatalf("fields Windows does not give are marked filled: %+v", got)
	}
	if _, err := raw.info(84); err == nil {
		t.Fatal("a TCP_INFO_v0 of 84 bytes was read as a whole one")
	}
}

func TestStatesInLinuxNumbering(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order []uint8
		in    uint32
		want  uint8
	}{
		{"bsd close-wait", bsdStates, 5, 8},
		{"bsd fin-wait-2", bsdStates, 9, 5},
		{"windows established", windowsStates, 4, 1},
		{"windows fin-wait-1", windowsStates, 5, 4},
		{"windows fin-wait-2", windowsStates, 6, 5},
		{"windows close-wait", windowsStates, 7, 8},
		{"windows closing", windowsStates, 8, 11},
		{"windows time-wait", windowsStates, 10, 6},
		{"windows TCPSTATE_MAX", windowsStates, 11, 0},
		{"huge", windowsStates, 1 << 31, 0},
	} {
		if got := linuxState(tc.order, tc.in); got != tc.want {
			t.Errorf("%s (%d): %d, want %d", tc.name, tc.in, got, tc.want)
		}
	}
}
