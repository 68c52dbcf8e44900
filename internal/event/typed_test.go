package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heartbeat/heartbeat/internal/msg"
)

// Each typed event gives its text line and its JSON line from one value;
// its JSON holds only declared fields, each once, and its text is not
// empty.
func TestTypedEvents(t *testing.T) {
	c3 := Conn{ID: 3, Peer: "127.0.0.1:40312"}
	ends := LoadEnds{Alive: 3, Dead: 2, NeverAccepted: 1, Failed: 1, Closed: 3, ClosedMidFrame: 1, ClosedNotices: 2, FirstCloseReason: "bye \"x\"\n", Warnings: 4}
	const tx = "   1.500  "
	js := func(name, fields string) string { return `{"t":1.5,"event":"` + name + `"` + fields + "}\n" }
	for _, tc := range []struct {
		e          Event
		text, json string
	}{
		{PingSent{Seq: 7}, "   1.500  PING #7 sent\n", `{"t":1.5,"event":"ping","seq":7}` + "\n"},
		{ProbeMissed{Missed: 2, Probes: 3, Interval: 1500 * time.Millisecond},
			"   1.500  probe 2/3 missed: no PONG within 1.500 s\n", `{"t":1.5,"event":"missed","missed":2,"probes":3}` + "\n"},
		// hbserver's, each as the server wrote it before it was typed.
		{On(c3, PingReceived{PingLabel{Seq: 4, Stamped: true}}), tx + "[#3 127.0.0.1:40312] PING #4 received\n", js("ping", `,"conn":3,"peer":"127.0.0.1:40312","seq":4`)},
		{On(c3, PingReceived{}), tx + "[#3 127.0.0.1:40312] PING received\n", js("ping", `,"conn":3,"peer":"127.0.0.1:40312"`)},
		{On(c3, PongSent{PingLabel{4, true}, 1000100 * time.Microsecond}), tx + "[#3 127.0.0.1:40312] PONG sent for PING #4, held 1.000 s\n",
			js("pong", `,"conn":3,"peer":"127.0.0.1:40312","seq":4,"held_s":1.0001`)},
		{On(c3, Muted{PingLabel{4, true}}), tx + "[#3 127.0.0.1:40312] PING #4 not answered (--fault mute)\n", js("note", `,"conn":3,"peer":"127.0.0.1:40312","seq":4,"note":"muted"`)},
		{On(c3, DataReceived{msg.Type1}), tx + "[#3 127.0.0.1:40312] TYPE1 frame received\n", js("data", `,"conn":3,"peer":"127.0.0.1:40312","type":11,"name":"TYPE1"`)},
		{DataReceived{msg.Type(99)}, tx + "type 99 frame received, ignored\n", js("data", `,"type":99,"name":"type 99"`)},
		{On(c3, ClientPong{Seq: 2, RTT: 1500 * time.Millisecond, Late: true}), tx + "[#3 127.0.0.1:40312] late PONG #2 from the client, RTT 1.500 s\n",
			js("late_pong", `,"conn":3,"peer":"127.0.0.1:40312","seq":2,"rtt_s":1.5,"received":true`)},
		{ClientPong{Seq: 2, RTT: 1234567 * time.Nanosecond}, tx + "PONG #2 from the client, RTT 1.235 ms\n", js("pong", `,"seq":2,"rtt_s":0.001235,"received":true`)},
		{Told{msg.Warning, "slow down"}, tx + "told the client: slow down\n", js("note", `,"note":"notice","severity":1,"text":"slow down"`)},
		{FaultOn{"mute"}, tx + "fault: mute, from now on\n", js("note", `,"note":"fault","fault":"mute"`)},
		{ClientMissed{2, 3}, tx + "probe 2/3 of the client missed\n", js("missed", `,"missed":2,"probes":3`)},
		{ClientDead{3, 6500 * time.Millisecond, 6 * time.Second}, tx + "DEAD (heartbeat): client reaped, 3 probes unanswered\n            observed 6.500 s after the client's last sign of life\n            predicted 6.000 s (+500.0 ms)\n",
			js("dead", `,"cause":"heartbeat","observed_s":6.5,"predicted_s":6`)},
		{ServerPing{5}, tx + "PING #5 sent to the client\n", js("ping", `,"seq":5,"sent":true`)},
		{On(c3, ConnClosed{"io error", "epoll: bad"}), tx + "[#3 127.0.0.1:40312] closed: io error (epoll: bad)\n", js("closed", `,"conn":3,"peer":"127.0.0.1:40312","reason":"io error"`)},
		{ConnClosed{Reason: "peer closed"}, tx + "closed: peer closed\n", js("closed", `,"reason":"peer closed"`)},
		{ServerConnected{KernelOptions{Set: true, KeepAlive: true, Idle: 2 * time.Second, Interval: time.Second, Count: 3, DeadAfter: 5 * time.Second, UserTimeout: 4 * time.Second}},
			tx + "connected\n" +
				"            kernel keep-alive: dead after 5.000 s of silence\n" +
				"              (idle 2.000 s + interval 1.000 s\n" +
				"               until the 4.000 s user timeout)\n" +
				"              read back from the socket\n" +
				"            user timeout: unacknowledged data dropped after 4.000 s\n" +
				"              (TCP_USER_TIMEOUT, read back)\n",
			js("connected", `,"keepalive":true,"keepalive_idle_s":2,"keepalive_interval_s":1,"keepalive_count":3,"keepalive_predicted_s":5,"user_timeout_s":4`)},
		{ServerConnected{KernelOptions{Set: true}}, tx + "connected\n            kernel keep-alive: off (SO_KEEPALIVE read back as 0)\n", js("connected", `,"keepalive":false`)},
		{OnDetailed(c3, ServerConnected{KernelOptions{Set: true, KeepAlive: true, Idle: 7200 * time.Second, Interval: 75 * time.Second, Count: 9, DeadAfter: 7875 * time.Second}}),
			tx + "[#3 127.0.0.1:40312] connected\n" +
				"            kernel keep-alive: dead after 7875.000 s (2h11m15s) of silence\n" +
				"              (idle 7200.000 s (2h0m0s) + 9 x 75.000 s (1m15s))\n" +
				"              read back from the socket\n",
			js("connected", `,"conn":3,"peer":"127.0.0.1:40312","keepalive":true,"keepalive_idle_s":7200,"keepalive_interval_s":75,"keepalive_count":9,"keepalive_predicted_s":7875`)},
		{ServerConnected{}, tx + "connected\n", js("connected", ``)},
		{OnDetailed(c3, ClientAnnounced{Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: 3, Window: 10 * time.Second}),
			tx + "[#3 127.0.0.1:40312] HELLO: heartbeat idle 10.000 s + 3 x 3.000 s\n" +
				"            it sends at least every 10.000 s\n",
			js("hello", `,"conn":3,"peer":"127.0.0.1:40312","probes":3,"idle_s":10,"interval_s":3,"accept_late":false,"jitter":0,"window_s":10`)},
		{ClientAnnounced{Idle: time.Second, Interval: 2 * time.Second, Probes: 3, AcceptLate: true, Jitter: 20, Window: 2 * time.Second, ReapAfter: 3 * time.Second, Factor: 1.5},
			tx + "HELLO: heartbeat idle 1.000 s + 3 x 2.000 s\n" +
				"            it sends at least every 2.000 s\n" +
				"            accept-late: any frame counts as life, however late\n" +
				"            each wait cut by 0 to 20% (--jitter 20)\n" +
				"            reaped after 3.000 s of silence\n" +
				"              (1.5 x 2.000 s, --reap-after-announced)\n",
			js("hello", `,"probes":3,"idle_s":1,"interval_s":2,"accept_late":true,"jitter":20,"window_s":2,"reap_after_s":3`)},
		{ClientAnnounced{}, tx + "HELLO: no heartbeat\n            it sends nothing unasked\n", js("hello", `,"probes":0`)},
		{ServerListening{Addr: "l", MaxConns: 2, Like: "ssh", LikeSettings: "ClientAliveInterval 15s, ClientAliveCountMax 3: reaped 1m0s after the last packet"},
			tx + "listening on l, each PING answered after 0.000 s\n            at most 2 connections open at once (--max-conns)\n            like ssh: ClientAliveInterval 15s, ClientAliveCountMax 3: reaped 1m0s after the last packet\n",
			js("listening", `,"addr":"l","sleep_s":0,"max_conns":2,"like":"ssh","like_settings":"ClientAliveInterval 15s, ClientAliveCountMax 3: reaped 1m0s after the last packet"`)},
		{ServerListening{Addr: "127.0.0.1:7000", Sleep: 5 * time.Second}, tx + "listening on 127.0.0.1:7000, each PING answered after 5.000 s\n            no limit on connections (--max-conns 0)\n",
			js("listening", `,"addr":"127.0.0.1:7000","sleep_s":5,"max_conns":0`)},
		{ServerListening{Addr: "[::1]:7000", MaxConns: 1}, tx + "listening on [::1]:7000, each PING answered after 0.000 s\n            at most 1 connection open at once (--max-conns)\n",
			js("listening", `,"addr":"[::1]:7000","sleep_s":0,"max_conns":1`)},
		{ServerStats{2, 5, 9, 1024}, tx + "stats: 2 connections open, 5 goroutines, 9 open files, RSS 1024 KiB\n", js("stats", `,"conns":2,"goroutines":5,"open_files":9,"rss_kib":1024`)},
		{ServerStopped{map[string]int{"server shutting down": 3, "peer closed": 2}}, tx + "stopped after serving 5 connections; closed: 2 peer closed,\n              3 server shutting down\n",
			js("stopped", `,"connections":5,"closed":{"peer closed":2,"server shutting down":3}`)},
		{ServerStopped{}, tx + "stopped after serving 0 connections\n", js("stopped", `,"connections":0,"closed":{}`)},
		{AcceptRetry{"too many open files", 5 * time.Millisecond}, tx + "accept: too many open files; retrying in 0.005 s\n", js("error", `,"error":"too many open files"`)},
		{Warning{"idle under interval"}, tx + "warning: idle under interval\n", js("note", `,"note":"warning","warning":"idle under interval"`)},
		{On(c3, Failed{"epoll", "bad"}), tx + "[#3 127.0.0.1:40312] epoll: bad\n", js("error", `,"conn":3,"peer":"127.0.0.1:40312","error":"bad"`)},
		// hbclient's, each as the client wrote it before it was typed.
		{ClientConnected{Local: "127.0.0.1:5555", Remote: "127.0.0.1:7000", Heartbeat: true, Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: 3, DeadAfter: 19 * time.Second,
			Kernel: KernelOptions{Set: true, KeepAlive: true, Idle: 2 * time.Second, Interval: time.Second, Count: 3, DeadAfter: 5 * time.Second, Retries2: 15, GiveUp: 924600 * time.Millisecond}},
			tx + "connected to 127.0.0.1:7000 from 127.0.0.1:5555\n            heartbeat: dead after 19.000 s of silence\n              (idle 10.000 s + 3 x 3.000 s)\n              strict: a late PONG does not count as life\n            kernel keep-alive: dead after 5.000 s of silence\n              (idle 2.000 s + 3 x 1.000 s)\n              read back from the socket\n            unacknowledged data: dropped after about 924.600 s (15m24.6s)\n              (tcp_retries2 15)\n",
			js("connected", `,"local":"127.0.0.1:5555","remote":"127.0.0.1:7000","heartbeat":true,"idle_s":10,"interval_s":3,"probes":3,"accept_late":false,"predicted_s":19,"timeout_s":null,"fixed_rate":false,"life":"","keepalive":true,"keepalive_idle_s":2,"keepalive_interval_s":1,"keepalive_count":3,"keepalive_predicted_s":5`)},
		{ClientConnected{Local: "l", Remote: "r", Heartbeat: true, Idle: 54 * time.Second, Interval: 54 * time.Second, Probes: 1, Timeout: 6 * time.Second, FixedRate: true, Life: "only a PONG",
			AcceptLate: true, DeadAfter: time.Minute, Like: "websocket", LikeSettings: "pingPeriod 54s, pongWait 1m0s: dead 1m0s after the last pong"},
			tx + "connected to r from l\n            heartbeat: dead after 60.000 s (1m0s) of silence\n              (idle 54.000 s + timeout 6.000 s)\n              a PING every 54.000 s whatever the traffic\n              life: only a PONG\n              --accept-late: any frame counts as life, however late\n            like websocket: pingPeriod 54s, pongWait 1m0s: dead 1m0s after the last pong\n",
			js("connected", `,"local":"l","remote":"r","heartbeat":true,"idle_s":54,"interval_s":54,"probes":1,"accept_late":true,"predicted_s":60,"timeout_s":6,"fixed_rate":true,"life":"only a PONG","like":"websocket","like_settings":"pingPeriod 54s, pongWait 1m0s: dead 1m0s after the last pong"`)},
		{LocalStall{12345 * time.Millisecond}, tx + "local stall of 12.345 s: not blamed on the peer\n            this process's timer fired that late\n            the heartbeat starts its round again\n",
			js("note", `,"note":"local_stall","late_s":12.345`)},
		{ClientConnected{Local: "l", Remote: "r", Heartbeat: true, Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: 3, DeadAfter: 19 * time.Second,
			Jitter: 20, Seed: 42, DeadAfterMin: 15200 * time.Millisecond},
			tx + "connected to r from l\n            heartbeat: dead after 15.200 s to 19.000 s of silence\n              (idle 10.000 s + 3 x 3.000 s)\n              each wait cut by 0 to 20%\n                (--jitter 20 --seed 42 replays it)\n              strict: a late PONG does not count as life\n",
			js("connected", `,"local":"l","remote":"r","heartbeat":true,"idle_s":10,"interval_s":3,"probes":3,"accept_late":false,"predicted_s":19,"timeout_s":null,"fixed_rate":false,"life":"","jitter":20,"seed":42,"predicted_min_s":15.2`)},
		{ClientConnected{Local: "l", Remote: "r", Kernel: KernelOptions{Set: true, KeepAlive: true, Idle: 2 * time.Second, Interval: time.Second, Count: 3, DeadAfter: 5 * time.Second, UserTimeout: 5 * time.Second}},
			tx + "connected to r from l\n            heartbeat: off (--probes 0)\n            kernel keep-alive: dead after 5.000 s of silence\n              (idle 2.000 s + interval 1.000 s\n               until the 5.000 s user timeout)\n              read back from the socket\n            user timeout: unacknowledged data dropped after 5.000 s\n              (TCP_USER_TIMEOUT, read back)\n",
			js("connected", `,"local":"l","remote":"r","heartbeat":false,"keepalive":true,"keepalive_idle_s":2,"keepalive_interval_s":1,"keepalive_count":3,"keepalive_predicted_s":5,"user_timeout_s":5`)},
		{HeartbeatDead{Probes: 3, Observed: 18998765 * time.Microsecond, Predicted: 19 * time.Second},
			tx + "DEAD (heartbeat): 3 probes unanswered\n            observed 18.999 s after the last sign of life (at 0.000)\n            predicted 19.000 s (-1.2 ms)\n",
			js("dead", `,"cause":"heartbeat","observed_s":18.998765,"predicted_s":19,"last_life_s":0`)},
		{KernelDead{Cause: "keepalive", Unreachable: true, Observed: 7 * time.Second, Predicted: 5 * time.Second, FirstRetransmit: 1500 * time.Millisecond},
			tx + "DEAD (keepalive): the kernel gave up (host unreachable)\n            host unreachable: the last ICMP error heard\n            observed 7.000 s after the last frame received\n            predicted 5.000 s (+2000.0 ms)\n            TCP_INFO before: keep-alive probes unknown on this OS\n            first retransmission seen 1.500 s after the last frame\n",
			js("dead", `,"cause":"keepalive","observed_s":7,"predicted_s":5,"unreachable":true,"first_retransmit_s":1.5`)},
		{KernelDead{Cause: "retransmit", Observed: 7 * time.Second, Info: TCPInfo{Probes: 2, Retransmits: 3, Unacked: 1, LastDataRecv: 4500 * time.Millisecond, HasProbes: true, HasRetransmits: true, HasUnacked: true, HasLastDR: true}},
			tx + "DEAD (retransmit): the kernel gave up (connection timed out)\n            observed 7.000 s after the last frame received\n            TCP_INFO before: 2 keep-alive probes out, 3 retransmits, 1 segment unacked\n              last data received 4.500 s before\n",
			js("dead", `,"cause":"retransmit","observed_s":7,"predicted_s":0,"unreachable":false,"tcpi_retransmits":3,"tcpi_unacked":1,"tcpi_probes":2,"tcpi_last_data_recv_s":4.5`)},
		{KernelProbeOut{Probe: 2, Count: 3, LastDataRecv: 4500 * time.Millisecond}, tx + "kernel keep-alive probe 2/3 unanswered (no data received for 4.500 s)\n",
			js("kernel_probe", `,"probe":2,"count":3,"last_data_recv_s":4.5`)},
		{KernelRetransmitted{Retransmit: 1, Unacked: 1, RTO: 200 * time.Millisecond, HasUnacked: true, HasRTO: true}, tx + "kernel retransmission 1 of unacknowledged data (1 segment unacked, RTO 0.200 s)\n",
			js("kernel_retransmit", `,"retransmit":1,"unacked":1,"rto_s":0.2`)},
		{KernelRetransmitted{Retransmit: 2, RTO: time.Second, HasRTO: true}, tx + "kernel retransmission 2 of unacknowledged data (RTO 1.000 s)\n", js("kernel_retransmit", `,"retransmit":2,"rto_s":1`)},
		{KernelRetransmitted{Retransmit: 2}, tx + "kernel retransmission 2 of unacknowledged data\n", js("kernel_retransmit", `,"retransmit":2`)},
		{KernelDefaults{Idle: 7200 * time.Second, Interval: 75 * time.Second, Count: 9, DeadAfter: 7875 * time.Second, Retries2: 15, GiveUp: 924600 * time.Millisecond},
			tx + "kernel keep-alive defaults: dead after 7875.000 s (2h11m15s)\n",
			js("kernel", `,"tcp_keepalive_time_s":7200,"tcp_keepalive_intvl_s":75,"tcp_keepalive_probes":9,"keepalive_dead_after_s":7875,"tcp_retries2":15,"retransmit_give_up_s":924.6`)},
		{SendStalled{Seq: 4}, tx + "PING #4 not sent: the peer has stopped reading and the send buffer is full\n", js("note", `,"note":"send_stalled","seq":4`)},
		{PeerClosed{}, tx + "closed by peer\n", js("closed", `,"reason":"peer closed"`)},
		{Failed{"error", "boom"}, tx + "error: boom\n", js("error", `,"error":"boom"`)},
		{ServerPingData{Seq: 7}, tx + "PING #7 from the server, not answered: the server has stopped reading and the send buffer is full\n",
			js("data", `,"type":1,"name":"PING","seq":7,"answered":false`)},
		// The load mode's: short first lines, the rest as details.
		{LoadStart{Conns: 5, Addr: "127.0.0.1:7000", Heartbeat: true, Idle: 10 * time.Second, Interval: 3 * time.Second, Probes: 3, DeadAfter: 19 * time.Second},
			tx + "load: 5 connections to 127.0.0.1:7000 at full speed\n" +
				"            heartbeat: dead after 19.000 s of silence\n" +
				"              (idle 10.000 s + 3 x 3.000 s)\n",
			js("load", `,"conns":5,"addr":"127.0.0.1:7000","rate":0,"predicted_s":19`)},
		{LoadStart{Conns: 2, Addr: "a", Heartbeat: true, Idle: time.Second, Interval: time.Second, Probes: 2, DeadAfter: 3 * time.Second, Jitter: 10, Seed: 5, DeadAfterMin: 2700 * time.Millisecond},
			tx + "load: 2 connections to a at full speed\n" +
				"            heartbeat: dead after 2.700 s to 3.000 s of silence\n" +
				"              (idle 1.000 s + 2 x 1.000 s)\n" +
				"              each wait cut by 0 to 10%\n" +
				"                (--jitter 10 --seed 5 replays it)\n",
			js("load", `,"conns":2,"addr":"a","rate":0,"predicted_s":3,"jitter":10,"seed":5,"predicted_min_s":2.7`)},
		{LoadStart{Conns: 1, Addr: "[::1]:1", Rate: 2.5}, tx + "load: 1 connection to [::1]:1 at 2.5/s\n            heartbeat: off (--probes 0)\n",
			js("load", `,"conns":1,"addr":"[::1]:1","rate":2.5,"predicted_s":null`)},
		{LoadStatus{Up: 8, Conns: 10, Ends: ends, ConnectErrors: 1, Rates: LoadRates{PingsPerS: 12.34, HasPPS: true, LatePongs: 7, RTT50: 1234567, RTT99: 2345678, HasRTT: true}},
			tx + "up 8/10, alive 3, dead 2, 12 PINGs/s, RTT p50 1.235ms p99 2.346ms,\n" +
				"              never accepted 1, failed 1, closed by server 3, server warnings 4,\n" +
				"              connect errors 1, late or unsolicited PONGs 7\n",
			js("status", `,"up":8,"alive":3,"dead":2,"never_accepted":1,"failed":1,"closed":3,"closed_mid_frame":1,"closed_notices":2,"first_close_reason":"bye \"x\"\n","warnings":4,"connect_errors":1,"pings_per_s":12.34,"late_pongs":7,"rtt_p50_s":0.001235,"rtt_p99_s":0.002346`)},
		{LoadStatus{Conns: 10}, tx + "up 0/10, alive 0, dead 0, - PINGs/s, RTT p50 - p99 -\n",
			js("status", `,"up":0,"alive":0,"dead":0,"never_accepted":0,"failed":0,"closed":0,"closed_mid_frame":0,"closed_notices":0,"first_close_reason":"","warnings":0,"connect_errors":0,"pings_per_s":null,"late_pongs":0,"rtt_p50_s":null,"rtt_p99_s":null`)},
		{LoadSummary{Conns: 10, Connected: 8, ConnectErrors: 1, FirstConnectError: "refused", Pending: 1, Ends: ends, Pings: 1234,
			Rates:       LoadRates{PingsPerS: 411.3, HasPPS: true, LatePongs: 7, RTT50: 1234567, RTT99: 2345678901, HasRTT: true},
			DetectErr50: 1500, DetectErr99: -2500000, DetectErrMax: 3 * time.Millisecond, HasDetect: true},
			tx + "summary: 10 connections, 8 connected, 1 connect error, 1 pending\n" +
				"              (first connect error: refused)\n" +
				"              (pending: handshakes under way or not begun)\n" +
				"            alive 3, dead 2, never accepted 1, failed 1, closed by server 3, server warnings 4\n" +
				"              (never accepted: the server's accept queue was full; not deaths)\n" +
				`              (closed by server: 1 mid-frame, 2 with a NOTICE, the first: "bye \"x\"\n")` + "\n" +
				"            1234 PINGs (411/s); RTT p50 1.235ms p99 2.345679s\n" +
				"            late or unsolicited PONGs 7\n" +
				"            detection error p50 2µs p99 -2.5ms max 3ms\n",
			js("summary", `,"conns":10,"connected":8,"connect_errors":1,"first_connect_error":"refused","pending":1,"alive":3,"dead":2,"never_accepted":1,"failed":1,"closed":3,"closed_mid_frame":1,"closed_notices":2,"first_close_reason":"bye \"x\"\n","warnings":4,"pings":1234,"pings_per_s":411.3,"late_pongs":7,"rtt_p50_s":0.001235,"rtt_p99_s":2.345679,"detect_err_p50_s":0.000002,"detect_err_p99_s":-0.0025,"detect_err_max_s":0.003`)},
		{CommandTaken{Command: "sleep 5", Sleep: 5 * time.Second},
			"   1.500  command \"sleep 5\": from the next PING on, SLEEP 5.000 s, fault none\n",
			`{"t":1.5,"event":"command","command":"sleep 5","sleep_s":5,"fault":"none"}` + "\n"},
		{CommandTaken{Command: "fault mute", Sleep: 200 * time.Millisecond, Fault: "mute"},
			"   1.500  command \"fault mute\": from the next PING on, SLEEP 0.200 s, fault mute\n",
			`{"t":1.5,"event":"command","command":"fault mute","sleep_s":0.2,"fault":"mute"}` + "\n"},
		{IdleProbeEnded{Kind: "gap", Dir: "client-first", Gap: 2 * time.Second, Outcome: "close", At: 1500 * time.Millisecond, Why: "FIN"},
			"   1.500  client-first gap 2s: close at 1.5s (FIN)\n",
			`{"t":1.5,"event":"idle_probe","kind":"gap","dir":"client-first","gap_s":2,"outcome":"close","at_s":1.5,"why":"FIN"}` + "\n"},
		{IdleProgress{Lower: time.Second, Running: 1, Left: 3 * time.Second},
			"   1.500  open: above 1s, nothing expired yet; 1 connection idling;\n" +
				"              at most 3s left\n",
			`{"t":1.5,"event":"idle_status","lower_s":1,"upper_s":null,"running":1,"left_s":3}` + "\n"},
		{IdleVerdict{Lower: time.Second, Max: 3 * time.Second, Expiry: "none", Probes: 4},
			"   1.500  idle timeout: none up to 3s (--max): every connection outlived its\n" +
				"              idle gap; no idle setting is needed for the path (4 probes)\n",
			`{"t":1.5,"event":"idle_timeout","lower_s":1,"upper_s":null,"expiry":"none","inbound_only":false,"keepalive_refreshes":null,"ping_refreshes":null,"keepalive_every_s":null,"ping_every_s":null,"heartbeat_idle_s":null,"heartbeat_interval_s":null,"heartbeat_dead_after_s":null,"keepalive_idle_s":null,"keepalive_interval_s":null,"keepalive_dead_after_s":null,"probes":4}` + "\n"},
		{IdleVerdict{Lower: 59 * time.Second, Upper: 60 * time.Second, Expiry: "reset", InboundOnly: true, KeepAlive: "no", Pings: "yes",
			KeepAliveEvery: 29 * time.Second, PingEvery: 29500 * time.Millisecond, Probes: 30,
			Heartbeat: Setting{Idle: 47200 * time.Millisecond, Interval: 3 * time.Second, Count: 3, DeadAfter: 56200 * time.Millisecond},
			Kernel:    Setting{Idle: 47 * time.Second, Interval: 3 * time.Second, Count: 3, DeadAfter: 56 * time.Second}},
			"   1.500  idle timeout: between 59s and 1m0s;\n" +
				"              expiry reset: the middlebox forgot the connection and answered its\n" +
				"              next packet with a RST; inbound only: only packets from the\n" +
				"              server's side found the connection forgotten;\n" +
				"              kernel keep-alive every 29s do not keep it alive;\n" +
				"              heartbeat round trips every 29.5s keep it alive;\n" +
				"              recommended: hbclient --idle 47.2s --interval 3s --probes 3 (dead\n" +
				"              after 56.2s), or --keepalive --keepalive-idle 47s\n" +
				"              --keepalive-interval 3s --keepalive-count 3 (dead after 56s) (30\n" +
				"              probes)\n",
			`{"t":1.5,"event":"idle_timeout","lower_s":59,"upper_s":60,"expiry":"reset","inbound_only":true,"keepalive_refreshes":false,"ping_refreshes":true,"keepalive_every_s":29,"ping_every_s":29.5,"heartbeat_idle_s":47.2,"heartbeat_interval_s":3,"heartbeat_dead_after_s":56.2,"keepalive_idle_s":47,"keepalive_interval_s":3,"keepalive_dead_after_s":56,"probes":30}` + "\n"},
		{Warning{longWarning},
			"   1.500  warning: keep-alive cannot fire while sent data is unacknowledged: if\n" +
				"              the peer vanishes, the heartbeat's PINGs are retransmitted instead\n" +
				"              and keep-alive waits\n",
			js("note", `,"note":"warning","warning":"`+longWarning+`"`)},
		{Warning{"short"}, "   1.500  warning: short\n", js("note", `,"note":"warning","warning":"short"`)},
		{On(c3, CallbackSent{Delay: 2500 * time.Millisecond, Tag: 7}), tx + "[#3 127.0.0.1:40312] CALLBACK sent after 2.5s of silence (CALL tag 7)\n",
			js("callback", `,"conn":3,"peer":"127.0.0.1:40312","delay_s":2.5,"tag":7`)},
	} {
		var text, jsl bytes.Buffer
		emitAny(NewWriter(&text, false), 1500*time.Millisecond, tc.e)
		emitAny(NewWriter(&jsl, true), 1500*time.Millisecond, tc.e)
		if text.String() != tc.text || jsl.String() != tc.json {
			t.Errorf("%T: got\n\t%q\n\t%q\nwant\n\t%q\n\t%q", tc.e, text.String(), jsl.String(), tc.text, tc.json)
		}
		var f Fields
		f.check = true
		tc.e.Fields(&f)
		seen := map[string]bool{}
		for _, k := range f.keys {
			if !declared[tc.e.Name()][k] || seen[k] {
				t.Errorf("%T: field %q undeclared or twice", tc.e, k)
			}
			seen[k] = true
		}
		var m map[string]any
		if err := json.Unmarshal(jsl.Bytes(), &m); err != nil || len(m) != 2+len(f.keys) {
			t.Errorf("%T: %s: %v, %d fields", tc.e, jsl.Bytes(), err, len(m))
		}
		if len(tc.e.AppendText(nil)) == 0 {
			t.Errorf("%T: no text", tc.e)
		}
	}
}

// emitAny emits an Event held in an interface, as a test table holds it.
func emitAny(w *Writer, t time.Duration, e Event) { Emit(w, t, e) }

// A typed PING costs no allocation, in text or JSON.
func TestTypedEmitAllocatesNothing(t *testing.T) {
	defer func(on bool) { checkEmits = on }(checkEmits)
	checkEmits = false
	for _, js := range []bool{false, true} {
		w := NewBuffered(discardWriter{}, js)
		if n := testing.AllocsPerRun(1000, func() { Emit(w, time.Second, PingSent{Seq: 9}) }); n != 0 {
			t.Errorf("json %v: %v allocations per PING", js, n)
		}
		w.Close()
	}
	// Nor does hbserver's tagged PONG line in colour, whose tone is its own.
	col := NewBuffered(discardWriter{}, false)
	col.SetStyle(Style{Color: true})
	pong := On(Conn{3, "127.0.0.1:40312"}, PongSent{Ping: PingLabel{4, true}, Held: time.Second})
	if n := testing.AllocsPerRun(1000, func() { Emit(col, time.Second, pong) }); n != 0 {
		t.Errorf("colour: %v allocations per PONG line", n)
	}
	col.Close()
	// A tap gets both lines without an allocation either.
	w := NewBuffered(discardWriter{}, true)
	var n int
	w.Tap(func(jsonLine, textLine []byte) { n += len(jsonLine) + len(textLine) })
	if a := testing.AllocsPerRun(1000, func() { Emit(w, time.Second, PingSent{Seq: 9}) }); a != 0 || n == 0 {
		t.Errorf("tapped: %v allocations per PING, %d bytes tapped", a, n)
	}
	w.Close()
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// gossip is a note of a kind that is not declared.
type gossip struct{}

func (gossip) Name() string               { return Note }
func (gossip) AppendText(b []byte) []byte { return append(b, "gossip"...) }
func (gossip) Fields(f *Fields)           { f.Str("note", "gossip") }

// A typed note of a kind that is not declared panics under go test, as
// an untyped one does.
func TestTypedNoteKindChecked(t *testing.T) {
	defer func() {
		if got, _ := recover().(string); !strings.Contains(got, "note gossip is not declared") {
			t.Errorf("panic %q", got)
		}
	}()
	Emit(Discard(), 0, gossip{})
}

const longWarning = "keep-alive cannot fire while sent data is unacknowledged: if the peer vanishes, the heartbeat's PINGs are retransmitted instead and keep-alive waits"

// A warning wrapped on the terminal is one line again for a tap (the live
// page's status line), with its words as they were.
func TestWarningTapIsOneLine(t *testing.T) {
	var text bytes.Buffer
	w := NewWriter(&text, false)
	var tapped string
	w.Tap(func(_, textLine []byte) { tapped = string(textLine) })
	Emit(w, 1500*time.Millisecond, Warning{longWarning})
	if want := "   1.500  warning: " + longWarning + "\n"; tapped != want {
		t.Errorf("tap got %q, want %q", tapped, want)
	}
	for line := range strings.Lines(text.String()) {
		if len(line) > 81 {
			t.Errorf("line over 80 columns: %q", line)
		}
	}
}
