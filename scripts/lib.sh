# Shared by the demo scripts: build the tools, start hbserver on a free
# port, make and remove test hosts in network namespaces, summarise a run.
# Source it; it sets $work (a temp dir removed on exit) and $bin.

set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/heartbeat-demo.XXXXXX")
bin=$work
pids=()
namespaces=()

cleanup() {
	# Only this shell's jobs still running: a pid that ended may be reused.
	local running
	running=$(jobs -pr)
	for p in $running; do
		kill -CONT "$p" 2>/dev/null || true
		kill -INT "$p" 2>/dev/null || true
	done
	for p in $running; do wait "$p" 2>/dev/null || true; done
	for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

need() { # need COMMAND DEBIAN-PACKAGE
	command -v "$1" >/dev/null || { echo "$(basename "$0"): needs $1; install the Debian package $2 (apt-get install $2)" >&2; exit 1; }
}

build() {
	need go golang
	echo "building hbserver and hbclient..."
	(cd "$root" && go build -o "$bin/" ./cmd/hbserver ./cmd/hbclient)
}

# start_server [--netns NS] HOST SLEEP [FLAGS...]: start hbserver on a free
# port; sets $port and $server_pid; its log is $work/server.log.
start_server() {
	local prefix=()
	if [ "$1" = --netns ]; then prefix=(ip netns exec "$2"); shift 2; fi
	local host=$1 sleep=$2
	shift 2
	rm -f "$work/addr"
	"${prefix[@]}" "$bin/hbserver" "$host" 0 "$sleep" --addr-file "$work/addr" "$@" >"$work/server.log" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	for _ in $(seq 100); do
		[ -s "$work/addr" ] && break
		sleep 0.05
	done
	[ -s "$work/addr" ] || { echo "hbserver did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
	port=$(sed 's/.*://' "$work/addr")
}

# verdict FILE: the DEAD line of a text timeline, or "alive".
verdict() {
	local line
	line=$(grep -o 'DEAD ([a-z-]*).*observed [0-9.]*s[^,;]*\(, predicted [0-9.]*s ([^)]*)\)\?' "$1" | head -1 || true)
	if [ -n "$line" ]; then echo "$line"; else echo "not declared dead: $(tail -1 "$1" | sed 's/^ *[0-9.]*  //')"; fi
}

# make_hosts: two network namespaces joined by a veth pair, addresses from
# 198.18.0.0/15; sets $srv_ns $cli_ns $srv_ip. Needs root, iproute2.
make_hosts() {
	[ "$(id -u)" = 0 ] || { echo "$(basename "$0"): needs root, to make network namespaces (try sudo)" >&2; exit 1; }
	need ip iproute2
	local id=$$
	srv_ns=hbdemo-$id-s cli_ns=hbdemo-$id-c
	srv_ip=198.18.$((id % 250)).1
	local cli_ip=198.18.$((id % 250)).2
	namespaces+=("$srv_ns" "$cli_ns")
	ip netns add "$srv_ns"
	ip netns add "$cli_ns"
	ip link add "hb${id}s" type veth peer name "hb${id}c"
	ip link set "hb${id}s" netns "$srv_ns"
	ip link set "hb${id}c" netns "$cli_ns"
	ip -n "$srv_ns" addr add "$srv_ip/30" dev "hb${id}s"
	ip -n "$cli_ns" addr add "$cli_ip/30" dev "hb${id}c"
	ip -n "$srv_ns" link set "hb${id}s" up
	ip -n "$cli_ns" link set "hb${id}c" up
}

# vanish NS: the host in NS drops every packet, in and out.
vanish() {
	ip netns exec "$1" nft 'add table inet hbvanish; add chain inet hbvanish in { type filter hook input priority 0; policy drop; }; add chain inet hbvanish out { type filter hook output priority 0; policy drop; }'
}

# wait_for FILE REGEX: wait (10s at most) for a line matching REGEX.
wait_for() {
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no '$2' in $1 after 10s" >&2
	exit 1
}

# show_log TITLE FILE: a client's whole timeline, indented.
show_log() {
	echo "--- $1:"
	sed 's/^/    /' "$2"
}

# show_verdict NAME FILE [NOTE]: one line of the predicted-vs-observed table.
show_verdict() {
	printf '%-15s %s%s\n' "$1" "$(verdict "$2")" "${3:+ $3}"
}
