# Shared by the demo scripts: build the tools, start hbserver on a free
# port, make and remove test hosts in network namespaces, summarise a run.
# Source it; it sets $work (a temp dir removed on exit) and $bin.

set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/heartbeat-demo.XXXXXX")
bin=$work
pids=()
namespaces=()
build_out= # under sudo, the user's build directory, until its binaries are copied

cleanup() {
	# Only this shell's jobs still running: a pid that ended may be reused.
	# SIGINT first, so that the tools print their closing lines; then,
	# after 5s, SIGKILL for what ignores it (a frozen server; background
	# jobs of a script, which start with SIGINT ignored).
	local running
	running=$(jobs -pr)
	for p in $running; do
		kill -CONT "$p" 2>/dev/null || true
		kill -INT "$p" 2>/dev/null || true
	done
	for _ in $(seq 50); do
		[ -n "$(jobs -pr)" ] || break
		sleep 0.1
	done
	for p in $(jobs -pr); do kill -KILL "$p" 2>/dev/null || true; done
	for p in $running; do wait "$p" 2>/dev/null || true; done
	for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$work" ${build_out:+"$build_out"}
}
trap cleanup EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

need() { # need COMMAND DEBIAN-PACKAGE
	command -v "$1" >/dev/null || { echo "$(basename "$0"): needs $1; install the Debian package $2 (apt-get install $2)" >&2; exit 1; }
}

# The user who ran the script: under sudo, the one who typed sudo. Their Go,
# module cache and build cache are the ones to use; root's may be empty.
user=${SUDO_USER:-$(id -un)}
user_home=$HOME
if [ -n "${SUDO_USER:-}" ]; then
	user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6 || true)
fi

# go_version GO: the version of the Go toolchain GO itself, without
# switching to the one go.mod asks for ("1.26.8", say; empty if it does not run).
go_version() {
	(cd / && GOTOOLCHAIN=local GOFLAGS= "$1" env GOVERSION 2>/dev/null) | sed -n 's/^go//p'
}

# at_least HAVE WANT: whether version HAVE is WANT or later.
at_least() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

# find_go [CANDIDATES...]: set $go to the first Go command of at least
# go.mod's version. sudo's secure_path leaves out Go's usual places, so by
# default look, besides PATH, where Go's installers put it: /usr/local/go
# (go.dev/dl), ~/sdk/goX (golang.org/dl), ~/go, ~/.local/go, /usr/lib/go
# (Debian), /snap/bin.
find_go() {
	local want c v older=()
	want=$(sed -n 's/^go //p' "$root/go.mod")
	local candidates=("$@")
	[ $# -gt 0 ] || candidates=(
		"$(command -v go || true)"
		/usr/local/go/bin/go
		$(ls -d "$user_home"/sdk/go*/bin/go 2>/dev/null | sort -rV || true)
		"$user_home/go/bin/go" "$user_home/.local/go/bin/go" /usr/lib/go/bin/go /snap/bin/go
	)
	for c in "${candidates[@]}"; do
		[ -n "$c" ] && [ -x "$c" ] || continue
		v=$(go_version "$c")
		[ -n "$v" ] || continue
		if at_least "$v" "$want"; then go=$c; return; fi
		older+=("$c (go$v)")
	done
	{
		echo "$(basename "$0"): needs Go $want or later (go.mod); ${older[*]:+found only ${older[*]}; }install it from https://go.dev/dl"
		echo "(Debian's golang-go may be older than $want)"
	} >&2
	exit 1
}

# build [PACKAGES...]: build hbserver, hbclient and PACKAGES (./scripts/...)
# into $bin. Under sudo they are built as the user who typed sudo, with their
# caches, then copied here.
build() {
	local pkgs=(./cmd/hbserver ./cmd/hbclient "$@")
	find_go
	echo "building ${pkgs[*]#./*/} with $go (go$(go_version "$go"))..."
	if [ "$(id -u)" = 0 ] && [ "$user" != root ]; then
		build_out=$(runuser -u "$user" -- mktemp -d "${TMPDIR:-/tmp}/heartbeat-build.XXXXXX")
		runuser -u "$user" -- env HOME="$user_home" bash -c 'cd "$1" && "$2" build -o "$3/" "${@:4}"' \
			bash "$root" "$go" "$build_out" "${pkgs[@]}"
		cp "$build_out"/* "$bin/"
		rm -rf "$build_out"
		build_out=
	else
		(cd "$root" && "$go" build -o "$bin/" "${pkgs[@]}")
	fi
}

# start_server [--netns NS] HOST SLEEP [FLAGS...]: start hbserver on a free
# port; sets $port and $server_pid. Its stdout and stderr go to
# $work/server.log, or to $server_out and $server_err when those are set.
start_server() {
	local prefix=()
	if [ "$1" = --netns ]; then prefix=(ip netns exec "$2"); shift 2; fi
	local host=$1 sleep=$2
	shift 2
	rm -f "$work/addr" "$work/server.log"
	# Appending, so that both can name the same file.
	"${prefix[@]}" "$bin/hbserver" "$host" 0 "$sleep" --addr-file "$work/addr" "$@" \
		>>"${server_out:-$work/server.log}" 2>>"${server_err:-$work/server.log}" &
	server_pid=$!
	pids+=("$server_pid")
	for _ in $(seq 100); do
		[ -s "$work/addr" ] && break
		sleep 0.05
	done
	[ -s "$work/addr" ] || { echo "hbserver did not start:" >&2; tail "${server_err:-$work/server.log}" >&2; exit 1; }
	port=$(sed 's/.*://' "$work/addr")
}

# verdict FILE: the DEAD line of a text timeline with its observed and
# predicted times (the lines under it), or "alive".
verdict() {
	local line
	line=$(awk '
		{ gsub(/\033\[[0-9;]*m/, "") } # --color always
		/  DEAD \(/ { sub(/^ *[0-9.:]*  /, ""); sub(/:.*/, ""); dead = $0; next }
		dead != "" && /^ +observed / { sub(/^ +observed /, ""); sub(/ after.*/, ""); obs = $0; next }
		dead != "" && /^ +predicted / { sub(/^ +predicted /, ""); pred = $0 }
		dead != "" && !/^ +[a-z(]/ { exit }
		END { if (dead != "") { printf "%s: observed %s", dead, obs; if (pred != "") printf ", predicted %s", pred; print "" } }
	' "$1")
	if [ -n "$line" ]; then echo "$line"; else echo "not declared dead: $(tail -1 "$1" | sed 's/\x1b\[[0-9;]*m//g; s/^ *[0-9.:]*  //')"; fi
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

# make_routed_hosts: three network namespaces, client, router and server,
# the router between the other two (client .2 - .1 router .5 - .6 server,
# in 198.19.0.0/16), forwarding; sets $cli_ns $rtr_ns $srv_ns $net $srv_ip
# $rtr_ip (the router's address on the client's side) and $rtr_srv_dev (its
# interface on the server's side). Needs root, iproute2.
make_routed_hosts() {
	[ "$(id -u)" = 0 ] || { echo "$(basename "$0"): needs root, to make network namespaces (try sudo)" >&2; exit 1; }
	need ip iproute2
	local id=$$ ns
	cli_ns=hbdemo-$id-c rtr_ns=hbdemo-$id-r srv_ns=hbdemo-$id-s
	net=198.19.$((id % 250))
	srv_ip=$net.6 rtr_ip=$net.1 rtr_srv_dev=hb${id}rs
	namespaces+=("$cli_ns" "$rtr_ns" "$srv_ns")
	for ns in "$cli_ns" "$rtr_ns" "$srv_ns"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	routed_link "$cli_ns" "hb${id}c" "$net.2" "hb${id}rc" "$net.1"
	routed_link "$srv_ns" "hb${id}s" "$net.6" "$rtr_srv_dev" "$net.5"
	ip netns exec "$rtr_ns" sysctl -qw net.ipv4.ip_forward=1
}

# routed_link NS DEV ADDRESS ROUTER-DEV ROUTER-ADDRESS: a veth pair made in
# place between NS and the router, NS routing everything through it.
routed_link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$rtr_ns"
	ip -n "$1" addr add "$3/30" dev "$2"
	ip -n "$rtr_ns" addr add "$5/30" dev "$4"
	ip -n "$1" link set "$2" up
	ip -n "$rtr_ns" link set "$4" up
	ip -n "$1" route add default via "$5"
}

# start_haproxy TIMEOUT: HAProxy in TCP mode in the router's namespace
# (make_routed_hosts), on $rtr_ip port 9000 (the namespace is ours: nothing
# else listens there), forwarding to $srv_ip:$port, with client and server
# timeouts of TIMEOUT (HAProxy's syntax: 20s, 1h). Needs haproxy.
start_haproxy() {
	need haproxy haproxy
	cat >"$work/haproxy.cfg" <<-EOF
		global
			maxconn 100
		defaults
			mode tcp
			timeout connect 5s
			timeout client $1
			timeout server $1
		listen hb
			bind $rtr_ip:9000
			server hbserver $srv_ip:$port
	EOF
	ip netns exec "$rtr_ns" haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		ip netns exec "$rtr_ns" ss -Hltn "sport = :9000" | grep -q . && return 0
		sleep 0.05
	done
	echo "haproxy did not start:" >&2
	cat "$work/haproxy.log" >&2
	exit 1
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

# come_back NS: the host in NS, vanished, answers again.
come_back() {
	ip netns exec "$1" nft delete table inet hbvanish
}

# line_time FILE REGEX: the time (first column) of the first line matching
# REGEX, or empty.
line_time() {
	awk -v re="$2" '$0 ~ re { print $1; exit }' "$1"
}
