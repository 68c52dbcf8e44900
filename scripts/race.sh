#!/usr/bin/env bash
# Lesson: the same hung server, several heartbeat settings at once. Each
# setting declares the server dead at its own formula's time; the race
# prints the verdicts in the order they fire, each predicted against
# observed. The server reads every PING and answers none (--fault mute):
# its process is alive for the kernel, dead for the heartbeats. Loopback
# only; about 10 seconds.
# Usage: scripts/race.sh
#
# Where hbclient has presets (--like), each runner is a preset with short
# times given as flags; otherwise plain flags in the shape of each system.
source "$(dirname "$0")/lib.sh"
build
start_server 127.0.0.1 0 --fault mute
echo "\$ hbserver 127.0.0.1 $port --fault mute      (reads PINGs, never answers)"

# name|preset|flags: short times, each in the shape of its system.
runners=(
	"ssh|ssh|--idle 2 --interval 2 --probes 3"
	"grpc|grpc|--idle 3 --interval 2 --probes 1"
	"nats|nats|--idle 2 --interval 2 --probes 2"
	"seed client|-|--idle 2 --interval 1 --probes 3"
	"bfd, jitter 25%|bfd|--idle 1 --interval 1 --probes 3 --jitter 25"
)
like=
if "$bin/hbclient" --help 2>&1 | grep -q -- '--like'; then like=yes; fi

n=0
declare -a names logs clients
for r in "${runners[@]}"; do
	IFS='|' read -r name preset flags <<<"$r"
	args=($flags)
	if [ -n "$like" ] && [ "$preset" != - ]; then args=(--like "$preset" "${args[@]}"); fi
	echo "\$ hbclient 127.0.0.1 $port ${args[*]}      ($name)"
	"$bin/hbclient" 127.0.0.1 "$port" "${args[@]}" --duration 20 >"$work/race$n.log" 2>&1 &
	names[n]=$name logs[n]="$work/race$n.log" clients[n]=$!
	n=$((n + 1))
done
for log in "${logs[@]}"; do wait_for "$log" connected; done
echo
echo "=== verdicts, in the order they fire"
# Each client exits at its verdict; report each as it comes.
told=() ntold=0
start=$(date +%s.%N)
while [ "$ntold" -lt "$n" ]; do
	for i in $(seq 0 $((n - 1))); do
		[ -z "${told[i]:-}" ] || continue
		if grep -q 'DEAD\|closed\|stopped' "${logs[i]}"; then
			told[i]=1 ntold=$((ntold + 1))
			printf '  %6.2fs  %-16s %s\n' "$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { print n - s }')" "${names[i]}" "$(verdict "${logs[i]}")"
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
for i in $(seq 0 $((n - 1))); do show_log "${names[i]}" "${logs[i]}"; done
echo
echo "=== predicted vs observed (dead after the last sign of life; fastest first)"
printf '%-16s %10s %10s  %s\n' setting predicted observed "dead after: rule"
for i in $(seq 0 $((n - 1))); do
	obs=$(grep -o 'observed [0-9.]*s' "${logs[i]}" | head -1 | sed 's/observed //' || true)
	pred=$(grep -o 'predicted [0-9.]*s' "${logs[i]}" | head -1 | sed 's/predicted //' || true)
	rule=$(grep -o 'dead after [0-9.a-z ]* of silence (idle [0-9.a-z]* + [0-9]* x [0-9.a-z]*' "${logs[i]}" | head -1 |
		sed 's/ of silence (/: /; s/^dead after //' || true)
	jit=$(grep -o -- '--jitter [0-9]* --seed [0-9]*' "${logs[i]}" | head -1 || true)
	# Sorted on the observed time, then the key is cut off.
	printf '%s\t%-16s %10s %10s  %s\n' "${obs%s}" "${names[i]}" "${pred:--}" "${obs:-alive}" "$rule${jit:+, $jit}"
done | sort -g | cut -f2-
