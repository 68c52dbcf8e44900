#!/usr/bin/env bash
# A bounded soak of hbserver on loopback: well-behaved clients keep a
# heartbeat going while hostile ones send garbage, half frames, frames a byte
# at a time, ping floods and closes mid-frame. At the end it prints the
# connections served, the closes per reason, the false deaths of well-behaved
# clients (must be 0) and the server's goroutines, open files and RSS at the
# start and the end.
# Usage: scripts/soak.sh        DURATION=120 (seconds) GOOD=20 (clients)
source "$(dirname "$0")/lib.sh"
duration=${DURATION:-120}
good=${GOOD:-20}
max_hostile=100000 # the hostile loop stops at this count or at DURATION
build

start_server 127.0.0.1 0 --json --stats-every 1s --frame-timeout 2s --min-ping-interval 50ms
log=$work/server.log
wait_for "$log" '"event":"stats"'
stats_start=$(grep '"event":"stats"' "$log" | head -1)
echo "soak: ${duration}s, $good well-behaved clients, hostile clients throughout; server on port $port"

for i in $(seq "$good"); do
	"$bin/hbclient" 127.0.0.1 "$port" --idle 200ms --interval 300ms --probes 3 --duration "$duration" --json \
		>"$work/good-$i.log" 2>&1 &
	echo $! >>"$work/good.pids"
done

hostile_pids=()
half_open=()
end=$((SECONDS + duration))
n=0
while [ "$SECONDS" -lt "$end" ] && [ "$n" -lt "$max_hostile" ]; do
	case $((n % 5)) in
	0) # garbage, then close
		{ exec 3<>"/dev/tcp/127.0.0.1/$port" && head -c 3000 /dev/urandom >&3; exec 3>&-; } 2>/dev/null || true ;;
	1) # half a frame, then silence until --frame-timeout cuts it
		( exec 3<>"/dev/tcp/127.0.0.1/$port" && head -c 500 /dev/zero >&3 && sleep 3 ) 2>/dev/null &
		half_open+=($!) ;;
	2) # a ping flood: closed by --min-ping-interval
		"$bin/hbclient" 127.0.0.1 "$port" --idle 5ms --interval 1s --duration 2 >/dev/null 2>&1 &
		hostile_pids+=($!) ;;
	3) # 700 bytes, then close mid-frame
		{ exec 3<>"/dev/tcp/127.0.0.1/$port" && head -c 700 /dev/zero >&3; exec 3>&-; } 2>/dev/null || true ;;
	4) # a frame one byte every 200ms: --frame-timeout cuts it
		( exec 3<>"/dev/tcp/127.0.0.1/$port" && for _ in $(seq 15); do printf '\0' >&3; sleep 0.2; done ) 2>/dev/null &
		half_open+=($!) ;;
	esac
	n=$((n + 1))
	# Reap finished hostile jobs so the lists stay short.
	if [ $((n % 50)) -eq 0 ]; then
		for p in "${hostile_pids[@]}" "${half_open[@]}"; do wait "$p" 2>/dev/null || true; done
		hostile_pids=() half_open=()
	fi
	sleep 0.05
done
echo "hostile clients started: $n; waiting for the well-behaved clients to finish"
false_deaths=0
while read -r p; do wait "$p" || false_deaths=$((false_deaths + 1)); done <"$work/good.pids"
for p in "${hostile_pids[@]}" "${half_open[@]}"; do wait "$p" 2>/dev/null || true; done
deaths=$(cat "$work"/good-*.log | grep -c '"event":"dead"' || true)

# Give the last cut-offs time to land, then take the server's last stats.
sleep 3
stats_end=$(grep '"event":"stats"' "$log" | tail -1)
kill -INT "$server_pid"
wait "$server_pid" || true
stopped=$(grep '"event":"stopped"' "$log" | tail -1)

field() { echo "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
echo
echo "=== soak results (${duration}s, reproduce with: DURATION=$duration GOOD=$good scripts/soak.sh)"
echo "connections served:  $(field "$stopped" connections)"
echo "closes per reason:"
echo "$stopped" | sed 's/.*"closed":{\(.*\)}}/\1/' | tr ',' '\n' | sed 's/^/    /'
echo "well-behaved clients: $good; exited non-zero: $false_deaths; dead events: $deaths (false deaths, must be 0)"
printf '%-16s %10s %10s\n' "server" start end
for k in conns goroutines open_files rss_kib; do
	printf '%-16s %10s %10s\n' "$k" "$(field "$stats_start" $k)" "$(field "$stats_end" $k)"
done
[ "$false_deaths" -eq 0 ] && [ "$deaths" -eq 0 ]
