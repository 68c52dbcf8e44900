package clientcmd

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/heartbeat/heartbeat/internal/cli"
	"github.com/heartbeat/heartbeat/internal/cli/clitest"
)

// The table has a row per preset, their times from the machine, and fits
// 80 columns.
func TestCompareTable(t *testing.T) {
	code, stdout, stderr := clitest.Run(NewCmd, "compare")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if len(line) > 80 {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
	}
	for _, want := range []string{
		"preset     hung process  vanished host  slow (SLEEP 5s)  unacked data\n",
		"ssh                1m0s           1m0s            never          1m0s\n  = (ServerAliveCountMax + 1) x ServerAliveInterval\n",
		"grpc                30s            30s            never        20s ut\n",
		"zmtp                 2s             2s               2s            2s\n",
		"keepalive         never    2h11m15s ka            never  15m24.6s rtx\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, "\n  = "); n != 8 {
		t.Errorf("%d formulas, want 8:\n%s", n, stdout)
	}
}

type compareLine struct {
	Event, Preset, Formula, Settings string
	SleepS                           float64  `json:"sleep_s"`
	HungS                            *float64 `json:"hung_s"`
	SlowS                            *float64 `json:"slow_s"`
	UnackedS                         *float64 `json:"unacked_s"`
	UnackedBy                        string   `json:"unacked_by"`
}

func compareJSON(t *testing.T, args ...string) []compareLine {
	t.Helper()
	code, stdout, stderr := clitest.Run(NewCmd, append([]string{"compare", "--json"}, args...)...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var lines []compareLine
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var c compareLine
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		lines = append(lines, c)
	}
	return lines
}

// --like picks presets in order, flags given change each, --sleep is the
// slow server's.
func TestCompareJSON(t *testing.T) {
	got := compareJSON(t, "--like", "ssh,grpc", "--interval", "2s", "--sleep", "30s")
	if len(got) != 2 || got[0].Preset != "ssh" || got[1].Preset != "grpc" {
		t.Fatalf("%+v", got)
	}
	ssh, grpc := got[0], got[1]
	// (3 + 1) x 2s; SLEEP 30s > 3 x 2s.
	if ssh.Event != "compare" || *ssh.HungS != 8 || ssh.SlowS == nil || *ssh.SlowS != 8 || ssh.SleepS != 30 ||
		ssh.Settings != "ServerAliveInterval 2s, ServerAliveCountMax 3: dead 8s after the last packet" {
		t.Errorf("ssh: %+v", ssh)
	}
	// Time 10s + Timeout 20s; the user timeout is Timeout.
	if *grpc.HungS != 30 || *grpc.UnackedS != 20 || grpc.UnackedBy != "user timeout" || grpc.Formula != "Time + Timeout" {
		t.Errorf("grpc: %+v", grpc)
	}
	if got := compareJSON(t, "--like", "keepalive"); got[0].HungS != nil {
		t.Errorf("keepalive finds a hung process at %v, want never (null)", *got[0].HungS)
	}
}

// Flags without --like compare the heartbeat they describe.
func TestCompareFlags(t *testing.T) {
	got := compareJSON(t, "--idle", "2s", "--interval", "1s", "--probes", "2", "--sleep", "1.5s")
	// 2s + 2 x 1s; SLEEP 1.5s > 1s: the late PONGs do not count.
	if len(got) != 1 || got[0].Preset != "flags" || *got[0].HungS != 4 || *got[0].SlowS != 4 {
		t.Errorf("%+v", got)
	}
}

func TestCompareUsage(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"--like ssh,telnet", `hbclient compare: --like "telnet": give presets among ssh|grpc|nats|mqtt|zmtp|websocket|bfd|keepalive, separated by commas`},
		{"--like grpc --probes 3", "hbclient compare: --like grpc: --timeout is one PING's reply timeout: it needs --probes 1 (got 3)"},
		{"--sleep -1s", "hbclient compare: --sleep"},
		{"--like=", "hbclient compare: --like: give presets among ssh|grpc"},
		{"extra", "hbclient compare: takes no arguments"},
	} {
		code, _, stderr := clitest.Run(NewCmd, append([]string{"compare"}, strings.Fields(tc.args)...)...)
		if code != cli.ExitUsage || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}

// README's Presets section shows the table hbclient compare prints.
func TestReadmeShowsTheComparison(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("no README.md: %v", err)
	}
	_, stdout, _ := clitest.Run(NewCmd, "compare")
	if want := "$ hbclient compare\n" + stdout + "```\n"; !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not show hbclient compare's table:\n%s", want)
	}
}
