#!/usr/bin/env bash
# The classroom demo: build hbserver and hbclient, then
#   1. a server that answers each PING after 5s: the client, which waits 3s
#      for each PONG, declares it dead about 19s after the last sign of life
#      (10s idle + 3 probes x 3s);
#   2. a server that answers after 1s: the connection stays alive.
# Loopback only; everything it starts is stopped and removed on exit or
# Ctrl-C. Usage: scripts/demo.sh   (ALIVE=25 sets run 2's length in seconds)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
alive=${ALIVE:-25}
work=$(mktemp -d "${TMPDIR:-/tmp}/heartbeat-demo.XXXXXX")
server_pid=""

cleanup() {
	if [ -n "$server_pid" ]; then
		kill -INT "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

command -v go >/dev/null || { echo "demo.sh: needs Go (https://go.dev/dl/)" >&2; exit 1; }
echo "building hbserver and hbclient..."
(cd "$root" && go build -o "$work/" ./cmd/hbserver ./cmd/hbclient)

# start_server SLEEP: start hbserver on a free loopback port; sets $port.
start_server() {
	rm -f "$work/addr"
	"$work/hbserver" 127.0.0.1 0 "$1" --addr-file "$work/addr" >"$work/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		[ -s "$work/addr" ] && break
		sleep 0.05
	done
	[ -s "$work/addr" ] || { echo "demo.sh: hbserver did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
	port=$(sed 's/.*://' "$work/addr")
}

stop_server() {
	kill -INT "$server_pid"
	wait "$server_pid" || true
	server_pid=""
	echo "--- what the server saw:"
	sed 's/^/    /' "$work/server.log"
}

echo
echo "=== 1. a slow server: each PONG comes 5s after its PING, the client waits 3s"
start_server 5
echo "\$ hbserver 127.0.0.1 $port 5"
echo "\$ hbclient 127.0.0.1 $port"
status=0
"$work/hbclient" 127.0.0.1 "$port" || status=$?
echo "(hbclient exited $status: 3 means the heartbeat declared the server dead)"
stop_server

echo
echo "=== 2. a quick server: each PONG comes 1s after its PING; watch for ${alive}s"
start_server 1
echo "\$ hbserver 127.0.0.1 $port 1"
echo "\$ hbclient 127.0.0.1 $port --duration $alive"
status=0
"$work/hbclient" 127.0.0.1 "$port" --duration "$alive" || status=$?
echo "(hbclient exited $status: 0, alive all along)"
stop_server
