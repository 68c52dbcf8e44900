#!/usr/bin/env bash
# bench.sh: hbserver against a minimal C epoll server (scripts/bench/pongd.c,
# built here with gcc) on this machine, over loopback, with hbclient as the
# client of both. It prints every figure it measures and a table of ratios.
#
#   scripts/bench.sh                 everything, about 11 minutes
#   BIG=5000 HOLD=60 scripts/bench.sh   a smaller and shorter big run
#   ONLY=step scripts/bench.sh       section 7 alone (jitter), about 2 minutes
#   ONLY=rtt scripts/bench.sh        section 1 alone (round trip), about 3 minutes
#
# Settings (environment): LOAD connections for the CPU comparison (10000);
# BIG connections for the memory run (19000; each process may open 20000
# files here) held for HOLD seconds (180); LAT_SECS seconds per latency run
# (3) and ROUNDS runs per server (20, the median is kept: many short rounds,
# alternating, because this virtual machine's round trip drifts by 10-20%
# from one round to the next, more than the target's margin); SLEEP_SECS
# seconds of the SLEEP run (20); DYING connections
# frozen at once (10000); STEP_SECS seconds of each run of section 7 (40)
# and the --jitter it tries (JITTER, 20). Every run is bounded by --duration and stops by
# itself; everything it starts is stopped on exit or Ctrl-C.

source "$(dirname "$0")/lib.sh"
LOAD=${LOAD:-10000} BIG=${BIG:-19000} HOLD=${HOLD:-180}
LAT_SECS=${LAT_SECS:-3} ROUNDS=${ROUNDS:-20} SLEEP_SECS=${SLEEP_SECS:-20} DYING=${DYING:-10000}
STEP_SECS=${STEP_SECS:-40} JITTER=${JITTER:-20} ONLY=${ONLY:-}
need gcc gcc
need awk gawk
hz=$(getconf CLK_TCK)

build
echo "building pongd (the C baseline)..."
gcc -O2 -Wall -o "$bin/pongd" "$root/scripts/bench/pongd.c"

limit=$(ulimit -n)
if [ "$limit" -lt $((BIG + 100)) ]; then
	echo "open-file limit $limit: the big run uses $((limit - 100)) connections instead of $BIG"
	BIG=$((limit - 100))
fi

# start_pongd: the C server on a free port; sets $port and $server_pid.
start_pongd() {
	rm -f "$work/addr"
	"$bin/pongd" 127.0.0.1 0 "$work/addr" &
	server_pid=$!
	for _ in $(seq 100); do [ -s "$work/addr" ] && break; sleep 0.05; done
	[ -s "$work/addr" ] || { echo "pongd did not start" >&2; exit 1; }
	port=$(sed 's/.*://' "$work/addr")
}

start_hbserver() { start_server 127.0.0.1 "$@"; }

stop_server() {
	kill -INT "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
}

# settle: after thousands of connections, let the kernel finish closing
# them before the next measurement.
settle() { sleep 5; }

# summary FILE NAME: a field of the load summary in a --json run's output.
summary() { grep '"event":"summary"' "$1" | sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p"; }

# us SECONDS: as microseconds, rounded.
us() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1e6 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.3f", s * 1e3 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# rtt_rows: the results table's round-trip rows, from section 1's medians.
rtt_rows() {
	printf '%-44s %12s %12s %8s %8s\n' "RTT p50, 1 connection (us)" "$lat_h50" "$lat_c50" "$(ratio "$lat_h50" "$lat_c50")" "<= 1.10"
	printf '%-44s %12s %12s %8s %8s\n' "RTT p99, 1 connection (us)" "$lat_h99" "$lat_c99" "$(ratio "$lat_h99" "$lat_c99")" "<= 1.30"
}
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# cpu_ticks PID: user + system CPU time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# load CONNS SECS OUT [FLAGS...]: hbclient in load mode against $port, in
# the background; sets $client_pid.
load() {
	local n=$1 secs=$2 out=$3
	shift 3
	"$bin/hbclient" 127.0.0.1 "$port" --conns "$n" --duration "${secs}s" --json "$@" >"$out" 2>&1 &
	client_pid=$!
}

# detection CONNS SECS NAME [FLAGS...]: load connections against a frozen
# hbserver; prints how far after the predicted instant the verdicts came
# and sets $det_p99 (ms).
detection() {
	local n=$1 secs=$2 out="$work/$3.json"
	shift 3
	start_hbserver 0 --quiet --fault freeze
	load "$n" "$secs" "$out" "$@"
	wait "$client_pid" || true
	stop_server
	det_p99=$(ms "$(summary "$out" detect_err_p99_s)")
	echo "   dead $(summary "$out" dead) of $n; verdict after the predicted instant:" \
		"p50 $(ms "$(summary "$out" detect_err_p50_s)") ms, p99 $det_p99 ms, max $(ms "$(summary "$out" detect_err_max_s)") ms"
}

# step NAME [FLAGS...]: LOAD connections x 1 PING/s against hbserver for
# STEP_SECS seconds (after they are all up); prints the per-second RTT p50
# of the first and last 10 seconds and the highest, and sets $step_first,
# $step_last and $step_max (ms). PINGs that leave in step queue behind
# each other, so the p50 grows as the connections fall into step.
step() {
	local name=$1 out="$work/step-$1.json"
	shift
	local up=$((LOAD / 2500 + 2))
	start_hbserver 0 --quiet
	load "$LOAD" $((STEP_SECS + up)) "$out" --rate 2500 --idle 1s --interval 3s "$@"
	wait "$client_pid" || true
	stop_server
	settle
	# The status lines once every connection is up, one a second.
	grep '"event":"status"' "$out" | sed -n "s/.*\"rtt_p50_s\":\([0-9.e-]*\).*/\1/p" | tail -n +$((up + 1)) >"$work/step-$name.p50"
	step_first=$(head -10 "$work/step-$name.p50" | median) step_last=$(tail -10 "$work/step-$name.p50" | median)
	step_max=$(sort -g "$work/step-$name.p50" | tail -1)
	step_first=$(ms "$step_first") step_last=$(ms "$step_last") step_max=$(ms "$step_max")
	echo "   $name: per-second RTT p50 $step_first ms (median of the first 10 s), $step_last ms (the last 10 s), at most $step_max ms;" \
		"dead $(summary "$out" dead), $(printf %.0f "$(summary "$out" pings_per_s)") PINGs/s"
	echo "   every second's p50 (ms): $(awk '{ printf "%.3f ", $1 * 1e3 }' "$work/step-$name.p50")"
}

# section7: the same load without and with --jitter.
section7() {
	echo
	echo "== 7. Falling into step: $LOAD connections x 1 PING/s for ${STEP_SECS}s, without and with --jitter $JITTER"
	step plain
	plain_first=$step_first plain_last=$step_last plain_max=$step_max
	step jitter --jitter "$JITTER"
	jit_first=$step_first jit_last=$step_last jit_max=$step_max
}

if [ "$ONLY" = step ]; then
	section7
	echo
	printf '%-44s %12s %12s %12s\n' "per-second RTT p50 (ms)" "first 10 s" "last 10 s" "highest"
	printf '%-44s %12s %12s %12s\n' "$LOAD conns, no jitter" "$plain_first" "$plain_last" "$plain_max"
	printf '%-44s %12s %12s %12s\n' "$LOAD conns, --jitter $JITTER" "$jit_first" "$jit_last" "$jit_max"
	echo
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r), $("$go" version | cut -d' ' -f3)"
	echo "reproduce: ONLY=step scripts/bench.sh"
	exit 0
fi

echo
echo "== 1. PING -> PONG round trip, one connection, SLEEP 0 ($ROUNDS x ${LAT_SECS}s each, alternating)"
# A PING 1 ms after each PONG: the client's clock stamps each PING as it
# leaves and reads its PONG's stamp back, so the RTT is the same
# measurement for both servers.
# The order flips every round, so that neither server always runs first.
declare -A p50 p99
for server in pongd hbserver; do p50[$server]="" p99[$server]=""; done
for r in $(seq "$ROUNDS"); do
	order="pongd hbserver"
	[ $((r % 2)) -eq 0 ] && order="hbserver pongd"
	for server in $order; do
		if [ "$server" = pongd ]; then start_pongd; else start_hbserver 0 --quiet; fi
		load 1 "$LAT_SECS" "$work/lat.json" --idle 1ms --interval 1s
		wait "$client_pid" || true
		stop_server
		a=$(us "$(summary "$work/lat.json" rtt_p50_s)") b=$(us "$(summary "$work/lat.json" rtt_p99_s)")
		echo "   round $r, $server: p50 ${a} us, p99 ${b} us ($(summary "$work/lat.json" pings) PINGs)"
		p50[$server]+="$a " p99[$server]+="$b "
	done
done
lat_c50=$(echo ${p50[pongd]} | median) lat_c99=$(echo ${p99[pongd]} | median)
lat_h50=$(echo ${p50[hbserver]} | median) lat_h99=$(echo ${p99[hbserver]} | median)
# Each round's own ratio too: how far the rounds spread around the table's.
paired=$(paste <(echo ${p50[hbserver]} | tr ' ' '\n') <(echo ${p50[pongd]} | tr ' ' '\n') |
	awk 'NF == 2 && $2 > 0 { printf "%.2f\n", $1 / $2 }' | sort -g | tr '\n' ' ')
echo "   p50 ratio round by round: median $(echo $paired | median), from $(echo $paired | cut -d' ' -f1) to $(echo $paired | awk '{ print $NF }')"

if [ "$ONLY" = rtt ]; then
	echo
	printf '%-44s %12s %12s %8s %8s\n' measure hbserver pongd ratio target
	rtt_rows
	echo
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r), $("$go" version | cut -d' ' -f3)"
	echo "reproduce: ONLY=rtt scripts/bench.sh"
	exit 0
fi

echo
echo "== 2. SLEEP kept: hbserver SLEEP 20ms, one connection, ${SLEEP_SECS}s"
start_hbserver 0.02 --quiet
load 1 "$SLEEP_SECS" "$work/sleep.json" --idle 1ms --interval 1s
wait "$client_pid" || true
stop_server
sl50=$(summary "$work/sleep.json" rtt_p50_s) sl99=$(summary "$work/sleep.json" rtt_p99_s)
sleep_err50=$(awk -v s="$sl50" 'BEGIN { printf "%.3f", (s - 0.02) * 1e3 }')
sleep_err99=$(awk -v s="$sl99" 'BEGIN { printf "%.3f", (s - 0.02) * 1e3 }')
echo "   RTT p50 $(ms "$sl50") ms, p99 $(ms "$sl99") ms: the PONG leaves $sleep_err50 ms (p50), $sleep_err99 ms (p99) after SLEEP, round trip included"

echo
echo "== 3. Detection, one connection at a time: a frozen hbserver, 120 connections opened 4 a second"
detection 120 32 det1 --rate 4 --idle 100ms --interval 30ms
d1_99=$det_p99
echo
echo "== 4. CPU at $LOAD connections x 1 PING/s (20 s window after all are up): pongd, hbserver --quiet, hbserver as it runs by default"
# hbserver's default timeline: past 20 lines a second, a status line a
# second instead (--events auto); --quiet leaves out the per-frame lines.
declare -A cpu pps
for server in pongd quiet hbserver; do
	case $server in
	pongd) start_pongd ;;
	quiet) start_hbserver 0 --quiet ;;
	hbserver) start_hbserver 0 ;;
	esac
	load "$LOAD" 35 "$work/cpu-$server.json" --rate 2500 --idle 1s --interval 3s
	sleep 12
	t0=$(cpu_ticks "$server_pid")
	sleep 20
	t1=$(cpu_ticks "$server_pid")
	rss=$(rss_kib "$server_pid")
	wait "$client_pid" || true
	stop_server
	settle
	cpu[$server]=$(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.1f", t / hz / 20 * 100 }')
	pps[$server]=$(summary "$work/cpu-$server.json" pings_per_s)
	echo "   $server: ${cpu[$server]}% of one core, RSS $rss KiB; client: $(printf %.0f "${pps[$server]}") PINGs/s," \
		"alive $(summary "$work/cpu-$server.json" alive), dead $(summary "$work/cpu-$server.json" dead)"
done

echo
echo "== 5. Detection, $DYING connections frozen together (opened as fast as they connect, dead 6 s after)"
detection "$DYING" 20 detN --rate 0 --idle 3s --interval 1s
dN_99=$det_p99
settle
echo
echo "== 6. Memory: hbserver with $BIG connections x 1 PING/s for ${HOLD}s"
start_hbserver 0 --quiet
rss0=$(rss_kib "$server_pid")
load "$BIG" "$HOLD" "$work/big.json" --rate 2500 --idle 1s --interval 3s
up=$((BIG / 2500 + 10))
sleep "$up"
rss1=$(rss_kib "$server_pid") t0=$(cpu_ticks "$server_pid")
sleep $((HOLD - up - 5))
rss2=$(rss_kib "$server_pid") t1=$(cpu_ticks "$server_pid")
wait "$client_pid" || true
stop_server
big_alive=$(summary "$work/big.json" alive) big_dead=$(summary "$work/big.json" dead)
per1=$(awk -v r="$rss1" -v n="$BIG" 'BEGIN { printf "%.2f", r * 1.024 / n }')
per2=$(awk -v r="$rss2" -v n="$BIG" 'BEGIN { printf "%.2f", r * 1.024 / n }')
echo "   RSS $rss0 KiB idle; $rss1 KiB at ${up}s ($per1 KB a connection); $rss2 KiB at $((HOLD - 5))s ($per2 KB a connection)"
echo "   CPU $(awk -v t=$((t1 - t0)) -v hz="$hz" -v s=$((HOLD - up - 5)) 'BEGIN { printf "%.1f", t / hz / s * 100 }')% of one core;" \
	"client: alive $big_alive, dead $big_dead, failed $(summary "$work/big.json" failed)," \
	"$(printf %.0f "$(summary "$work/big.json" pings_per_s)") PINGs/s"

settle
section7

echo
echo "== Results (hbserver / pongd where there is a baseline)"
printf '%-44s %12s %12s %8s %8s\n' measure hbserver pongd ratio target
rtt_rows
printf '%-44s %12s %12s %8s %8s\n' "CPU, $LOAD conns x 1 PING/s (% of a core)" "${cpu[hbserver]}" "${cpu[pongd]}" "$(ratio "${cpu[hbserver]}" "${cpu[pongd]}")" "<= 1.30"
printf '%-44s %12s %12s %8s %8s\n' "  the same, hbserver --quiet" "${cpu[quiet]}" "${cpu[pongd]}" "$(ratio "${cpu[quiet]}" "${cpu[pongd]}")" ""
printf '%-44s %12s %12s %8s %8s\n' "RSS a connection, $BIG conns (KB)" "$per2" "" "" "<= 3"
printf '%-44s %12s %12s %8s %8s\n' "false deaths, $BIG conns, ${HOLD}s" "$big_dead" "" "" "0"
printf '%-44s %12s %12s %8s %8s\n' "SLEEP 20ms: PONG late by, p99 (ms)" "$sleep_err99" "" "" "<= 2"
printf '%-44s %12s %12s %8s %8s\n' "detection error p99, 1 conn (ms)" "$d1_99" "" "" "<= 2"
printf '%-44s %12s %12s %8s %8s\n' "detection error p99, $DYING at once (ms)" "$dN_99" "" "" "<= 20"
printf '%-44s %12s %12s %8s %8s\n' "RTT p50 last 10 s, $LOAD conns (ms)" "$plain_last" "" "" ""
printf '%-44s %12s %12s %8s %8s\n' "  the same with --jitter $JITTER (ms)" "$jit_last" "" "" ""
echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r), $("$go" version | cut -d' ' -f3)"
echo "reproduce: scripts/bench.sh"
