#!/usr/bin/env bash
# A bounded soak of hbserver on loopback, with SLEEP > 0 and --max-conns:
# well-behaved clients keep a heartbeat going while hostile ones run
# alongside them:
#   - garbage, half frames, frames a byte at a time, closes mid-frame,
#     fast pingers (bash /dev/tcp and hbclient);
#   - the crash: PINGs sent back to back, then a close or a reset just
#     before the first PONG is due (scripts/hostile);
#   - ghosts: connect, 100 PINGs, close, in a loop (scripts/hostile);
#   - a blocked stdout: the server's stdout is a FIFO whose reader is
#     stopped for PAUSE seconds half way through.
# At the end it prints whether the server survived (its exit code, or how
# it died and the last lines of its stderr), the connections served, the
# closes per reason, the false deaths of well-behaved clients (must be 0),
# everyone's exit codes, and the server's RSS and open files at the start
# and the end (from /proc). It exits 0 only when the server survived, exited
# 0 and every well-behaved client lived to DURATION.
# Usage: scripts/soak.sh   DURATION=120 (seconds) GOOD=20 (clients)
#   SLEEP=0.1 (the server's, seconds) MAX_CONNS=500 PAUSE=10 (seconds)
#   COUNT=20000 (connections the crash and the ghost loops each make at
#   most; 0: neither runs)
source "$(dirname "$0")/lib.sh"
duration=${DURATION:-120}
good=${GOOD:-20}
sleep_s=${SLEEP:-0.1}
max_conns=${MAX_CONNS:-500}
pause=${PAUSE:-10}
count=${COUNT:-20000}
max_hostile=100000 # the bash hostile loop stops at this count or at DURATION
build ./scripts/hostile

# proc_figures: the server's RSS (KiB) and open files, from /proc.
proc_figures() {
	local rss files
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server_pid/status" 2>/dev/null || true)
	files=$(ls "/proc/$server_pid/fd" 2>/dev/null | wc -l)
	echo "${rss:-gone} ${files}"
}

# The server's stdout is a FIFO; the reader copies it to server.out and is
# stopped with SIGSTOP for the blocked-stdout case.
mkfifo "$work/server.fifo"
cat "$work/server.fifo" >"$work/server.out" &
reader=$!
server_out=$work/server.fifo server_err=$work/server.err
start_server 127.0.0.1 "$sleep_s" --json --stats-every 1s --frame-timeout 2s --max-conns "$max_conns"
log=$work/server.out
read -r rss_start files_start <<<"$(proc_figures)"
echo "soak: ${duration}s, $good well-behaved clients, SLEEP $sleep_s, --max-conns $max_conns, hostile clients throughout; server on port $port"

for i in $(seq "$good"); do
	"$bin/hbclient" 127.0.0.1 "$port" --idle 200ms --interval 300ms --probes 3 --duration "$duration" --json \
		>"$work/good-$i.log" 2>&1 &
	echo $! >>"$work/good.pids"
done

# The crash: 20 PINGs back to back, then a close or a reset 10 ms before
# the first PONG is due. Ghosts: 100 PINGs, then close at once.
crash= ghost=
if [ "$count" -gt 0 ]; then
	wait_ms=$(awk -v s="$sleep_s" 'BEGIN { w = s * 1000 - 10; if (w < 0) w = 0; printf "%dms", w }')
	"$bin/hostile" -port "$port" -pings 20 -wait "$wait_ms" -end both -count "$count" -duration "${duration}s" -parallel 2 \
		>"$work/crash.out" 2>&1 &
	crash=$!
	"$bin/hostile" -port "$port" -pings 100 -end close -count "$count" -duration "${duration}s" -parallel 2 \
		>"$work/ghost.out" 2>&1 &
	ghost=$!
fi

hostile_pids=()
half_open=()
died_at=
start=$SECONDS
end=$((start + duration))
paused=
n=0
while [ "$SECONDS" -lt "$end" ] && [ "$n" -lt "$max_hostile" ]; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		died_at=$((SECONDS - start))
		echo "the server died at ${died_at}s; the hostile loop stops, the clients run to their end"
		break
	fi
	# The blocked stdout: nobody reads the server's stdout for PAUSE seconds.
	if [ -z "$paused" ] && [ "$SECONDS" -ge $((start + duration / 2)) ]; then
		echo "stdout blocked: its reader stopped for ${pause}s"
		kill -STOP "$reader" 2>/dev/null || true
		paused=$SECONDS
	elif [ -n "$paused" ] && [ "$paused" != done ] && [ "$SECONDS" -ge $((paused + pause)) ]; then
		kill -CONT "$reader" 2>/dev/null || true
		paused=done
	fi
	case $((n % 5)) in
	0) # garbage, then close
		{ exec 3<>"/dev/tcp/127.0.0.1/$port" && head -c 3000 /dev/urandom >&3; exec 3>&-; } 2>/dev/null || true ;;
	1) # half a frame, then silence until --frame-timeout cuts it
		( exec 3<>"/dev/tcp/127.0.0.1/$port" && head -c 500 /dev/zero >&3 && sleep 3 ) 2>/dev/null &
		half_open+=($!) ;;
	2) # a fast pinger: a PING 5 ms after each PONG
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
kill -CONT "$reader" 2>/dev/null || true
echo "hostile clients started by the loop: $n; waiting for the others to finish"

# Exit codes: the well-behaved clients' (0 is alive to the end), the
# hostile programs'.
good_codes=()
while read -r p; do
	code=0
	wait "$p" || code=$?
	good_codes+=("$code")
done <"$work/good.pids"
for p in "${hostile_pids[@]}" "${half_open[@]}"; do wait "$p" 2>/dev/null || true; done
crash_code=0 ghost_code=0
[ -z "$crash" ] || wait "$crash" || crash_code=$?
[ -z "$ghost" ] || wait "$ghost" || ghost_code=$?
false_deaths=0
for c in "${good_codes[@]}"; do [ "$c" -eq 0 ] || false_deaths=$((false_deaths + 1)); done
deaths=$(cat "$work"/good-*.log | grep -c '"event":"dead"' || true)
early=$( (grep -L '"reason":"--duration' "$work"/good-*.log || true) | wc -l)

# Give the last cut-offs time to land, then stop the server: SIGINT, and
# SIGKILL if it has not exited 10 s later.
sleep 3
read -r rss_end files_end <<<"$(proc_figures)"
survived=yes
server_code=
if ! kill -0 "$server_pid" 2>/dev/null; then
	survived="no: it died ${died_at:+at ${died_at}s }during the soak"
	server_code=0
	wait "$server_pid" || server_code=$?
else
	kill -INT "$server_pid"
	for _ in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		survived="no: still running 10s after SIGINT, killed"
		kill -KILL "$server_pid"
	fi
	server_code=0
	wait "$server_pid" || server_code=$?
fi
wait "$reader" || true
stopped=$(grep '"event":"stopped"' "$log" | tail -1 || true)

field() { echo "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
echo
echo "=== soak results (${duration}s, reproduce with: DURATION=$duration GOOD=$good SLEEP=$sleep_s MAX_CONNS=$max_conns PAUSE=$pause COUNT=$count scripts/soak.sh)"
echo "server survived:     $survived; exit code $server_code"
if [ "$survived" != yes ] || [ "$server_code" != 0 ]; then
	echo "its stderr: $(wc -l <"$work/server.err") lines; the first 2 and the last 3:"
	{ head -2 "$work/server.err"; echo ...; tail -3 "$work/server.err"; } | sed 's/^/    /'
fi
if [ -n "$stopped" ]; then
	echo "connections served:  $(field "$stopped" connections)"
	echo "closes per reason:"
	echo "$stopped" | sed 's/.*"closed":{\([^}]*\)}.*/\1/' | tr ',' '\n' | sed 's/^/    /'
	echo "its stopped event:   $stopped"
else
	echo "connections served:  unknown: no stopped event on its stdout"
fi
echo "well-behaved clients: $good; exited non-zero: $false_deaths; dead events: $deaths (false deaths, must be 0)"
# count_lines: "LINE x N, ..." for the lines on stdin.
count_lines() { sort | uniq -c | sed 's/^ *\([0-9]*\) \(.*\)/\2 x \1/' | paste -sd, - | sed 's/,/, /g'; }
echo "their exit codes:    $(printf '%s\n' "${good_codes[@]}" | count_lines)"
echo "how they ended:      $(cat "$work"/good-*.log | sed -n 's/.*"event":"closed","reason":"\([^"]*\)".*/\1/p; s/.*"event":"dead","cause":"\([^"]*\)".*/dead (\1)/p' | count_lines)"
echo "ended before DURATION: $early (their server gone or frozen; must be 0)"
if [ -n "$crash" ]; then
	echo "crash clients:       exit $crash_code; $(cat "$work/crash.out")"
	echo "ghost clients:       exit $ghost_code; $(cat "$work/ghost.out")"
fi
printf '%-16s %10s %10s\n' "server" start end
printf '%-16s %10s %10s\n' rss_kib "$rss_start" "$rss_end"
printf '%-16s %10s %10s\n' open_files "$files_start" "$files_end"
[ "$survived" = yes ] && [ "$server_code" = 0 ] && [ "$false_deaths" -eq 0 ] && [ "$deaths" -eq 0 ] && [ "$early" -eq 0 ]
