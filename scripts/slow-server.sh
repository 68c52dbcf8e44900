#!/usr/bin/env bash
# Lesson: the server's SLEEP against the client's interval. With idle 2s,
# interval 1s and 3 probes, a server that answers in 0.5s lives; one that
# answers in 1.5s is declared dead 2 + 3 x 1 = 5s after the last sign of
# life, and with --accept-late (the seed client's rule) it lives again.
# Loopback only. Usage: scripts/slow-server.sh
source "$(dirname "$0")/lib.sh"
build
flags=(--idle 2 --interval 1 --probes 3)

run() { # run TITLE SLEEP [CLIENT FLAGS...]
	local title=$1 sleep=$2
	shift 2
	echo
	echo "=== $title: SLEEP $sleep, client ${flags[*]} $*"
	start_server 127.0.0.1 "$sleep"
	"$bin/hbclient" 127.0.0.1 "$port" "${flags[@]}" --duration 9 "$@" | tee "$work/$title.log" || true
	kill -INT "$server_pid"; wait "$server_pid" || true
}
run fast 0.5
run slow 1.5
run slow-accept-late 1.5 --accept-late

echo
echo "=== predicted vs observed"
for t in fast slow slow-accept-late; do show_verdict "$t" "$work/$t.log"; done
