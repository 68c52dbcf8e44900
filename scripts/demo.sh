#!/usr/bin/env bash
# The classroom demo: build hbserver and hbclient, then
#   1. a server that answers each PING after 5s: the client, which waits 3s
#      for each PONG, declares it dead about 19s after the last sign of life
#      (10s idle + 3 probes x 3s);
#   2. a server that answers after 1s: the connection stays alive.
# It ends with predicted against observed for both runs. About 45 s after
# the build: 19 s, then ALIVE s.
# Loopback only; everything it starts is stopped and removed on exit or
# Ctrl-C. Usage: scripts/demo.sh   (ALIVE=25 sets run 2's length in seconds)
source "$(dirname "$0")/lib.sh"
alive=${ALIVE:-25}
build
# The timelines go through tee, to be read back at the end: colour them
# when this script's output is a terminal, as hbclient would.
color=never
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then color=always; fi

stop_server() {
	kill -INT "$server_pid"
	wait "$server_pid" || true
	echo "--- what the server saw:"
	sed 's/^/    /' "$work/server.log"
}

echo
echo "=== 1. a slow server: each PONG comes 5s after its PING, the client waits 3s"
start_server 127.0.0.1 5
echo "\$ hbserver 127.0.0.1 $port 5"
echo "\$ hbclient 127.0.0.1 $port"
status=0
"$bin/hbclient" 127.0.0.1 "$port" --color "$color" | tee "$work/dead.log" || status=$?
echo "(hbclient exited $status: 3 means the heartbeat declared the server dead)"
stop_server

echo
echo "=== 2. a quick server: each PONG comes 1s after its PING; watch for ${alive}s"
start_server 127.0.0.1 1
echo "\$ hbserver 127.0.0.1 $port 1"
echo "\$ hbclient 127.0.0.1 $port --duration $alive"
status=0
"$bin/hbclient" 127.0.0.1 "$port" --duration "$alive" --color "$color" | tee "$work/alive.log" || status=$?
echo "(hbclient exited $status: 0, alive all along)"
stop_server

echo
echo "=== predicted vs observed"
echo "predicted: SLEEP 5 is dead 10 s + 3 x 3 s = 19 s after the last sign of life; SLEEP 1 lives"
show_verdict "SLEEP 5" "$work/dead.log"
show_verdict "SLEEP 1" "$work/alive.log"
