#!/usr/bin/env bash
# Lesson: the same hung server, several heartbeat settings at once. Each
# setting declares the server dead at its own formula's time; the race
# prints the verdicts in the order they fire, each predicted against
# observed, then a table. The server reads every PING and answers none
# (--fault mute): its process is alive for the kernel, dead for the
# heartbeats. Loopback only; about 10 seconds.
# Usage: scripts/race.sh
#
# Where hbclient has presets (--like), each runner is its system's preset
# with short times given as flags; otherwise plain flags in the shape of
# each system. The figures come from the clients' --json lines, whose
# fields scripts may rely on.
source "$(dirname "$0")/lib.sh"
build
start_server 127.0.0.1 0 --fault mute
echo "\$ hbserver 127.0.0.1 $port --fault mute      (reads PINGs, never answers)"

# name|preset|flags: short times, each in the shape of its system (SSH:
# (CountMax + 1) x ServerAliveInterval; gRPC: Time + Timeout, one PING;
# NATS: (MaxPingsOut + 1) x PingInterval; BFD: jittered intervals).
runners=(
	"ssh|ssh|--idle 2 --interval 2 --probes 3"
	"grpc|grpc|--idle 3 --interval 2 --probes 1"
	"nats|nats|--idle 2 --interval 2 --probes 2"
	"seed client|-|--idle 2 --interval 1 --probes 3"
	"bfd, jitter 25%|bfd|--idle 1 --interval 1 --probes 3 --jitter 25"
)
like=
if "$bin/hbclient" --help 2>&1 | grep -q -- '--like'; then like=yes; fi

# field FILE EVENT NAME: NAME's value in FILE's first EVENT line, or empty.
field() {
	grep "\"event\":\"$2\"" "$1" | head -1 | sed -n "s/.*\"$3\":\([^,}]*\).*/\1/p" | tr -d '"'
}
# secs VALUE: seconds to the millisecond, or "-" when empty.
secs() { if [ -n "$1" ]; then awk -v s="$1" 'BEGIN { printf "%.3fs", s }'; else echo -; fi; }

n=0
declare -a names logs clients
for r in "${runners[@]}"; do
	IFS='|' read -r name preset flags <<<"$r"
	args=($flags)
	if [ -n "$like" ] && [ "$preset" != - ]; then args=(--like "$preset" "${args[@]}"); fi
	echo "\$ hbclient 127.0.0.1 $port ${args[*]}      ($name)"
	"$bin/hbclient" 127.0.0.1 "$port" "${args[@]}" --duration 20 --json >"$work/race$n.json" 2>"$work/race$n.err" &
	names[n]=$name logs[n]="$work/race$n.json" clients[n]=$!
	n=$((n + 1))
done
for log in "${logs[@]}"; do wait_for "$log" '"event":"connected"'; done
echo
echo "=== verdicts, in the order they fire (since the race began)"
told=() ntold=0
start=$(date +%s.%N)
while [ "$ntold" -lt "$n" ]; do
	for i in $(seq 0 $((n - 1))); do
		[ -z "${told[i]:-}" ] || continue
		if grep -q '"event":"\(dead\|closed\)"' "${logs[i]}"; then
			told[i]=1 ntold=$((ntold + 1))
			obs=$(field "${logs[i]}" dead observed_s) pred=$(field "${logs[i]}" dead predicted_s)
			if [ -n "$obs" ]; then
				what="dead after $(secs "$obs") of silence, predicted $(secs "$pred")"
			else
				what="ended: $(field "${logs[i]}" closed reason)"
			fi
			printf '  %6.2fs  %-16s %s\n' "$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { print n - s }')" "${names[i]}" "$what"
		fi
	done
	if awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s > 25) }'; then
		echo "  (stopped waiting after 25s)"
		break
	fi
	sleep 0.05
done
for c in "${clients[@]}"; do wait "$c" || true; done

echo
echo "=== predicted vs observed (after the last sign of life; fastest first)"
printf '%-16s %10s %10s  %s\n' setting predicted observed "rule, and the range it allows"
for i in $(seq 0 $((n - 1))); do
	l=${logs[i]}
	obs=$(field "$l" dead observed_s) pred=$(field "$l" dead predicted_s)
	rule="idle $(field "$l" connected idle_s)s + $(field "$l" connected probes) x $(field "$l" connected interval_s)s"
	rule+=" = $(field "$l" connected predicted_s)s"
	jit=$(field "$l" connected jitter)
	if [ -n "$jit" ]; then
		rule+=", each wait cut by up to $jit%: $(field "$l" connected predicted_min_s)s at the soonest (--seed $(field "$l" connected seed))"
	fi
	# Sorted on the observed time, then the key is cut off.
	printf '%s\t%-16s %10s %10s  %s\n' "${obs:-99999}" "${names[i]}" "$(secs "$pred")" "$(secs "$obs")" "$rule"
done | sort -g | cut -f2-
