#!/usr/bin/env bash
# Lesson: the machine's keep-alive settings apply to connections already
# open. Two network namespaces joined by a veth pair (198.18.0.0/15); the
# client's namespace has its own net.ipv4.tcp_keepalive_* (the host's are
# never touched), set to 3 s, 1 s and 3 probes before two clients connect:
# one with keep-alive on and no values of its own (--keepalive: the
# namespace's settings), one with the same values set on its socket
# (--keepalive-idle 3 --keepalive-interval 1 --keepalive-count 3). Then the
# server's host drops every packet, and, while both connections run, the
# settings become 6 s, 2 s and 2 probes. The first connection follows them
# without a restart: dead at 6 + 2 x 2 = 10 s, not at 3 + 3 x 1 = 6 s; the
# second keeps its own values and dies at 6 s.
# The kernel reads the settings each time a connection's keep-alive timer
# fires, so a longer time takes effect at once; a shorter one only once the
# timer armed under the old one has fired.
# Needs root, iproute2 and nftables. Usage: sudo scripts/sysctl-live.sh
source "$(dirname "$0")/lib.sh"
make_hosts
need nft nftables
need sysctl procps
build
start_server --netns "$srv_ns" "$srv_ip" 0
# keepalive_sysctls TIME INTVL PROBES: the client namespace's settings.
keepalive_sysctls() {
	ip netns exec "$cli_ns" sysctl -qw "net.ipv4.tcp_keepalive_time=$1" "net.ipv4.tcp_keepalive_intvl=$2" "net.ipv4.tcp_keepalive_probes=$3"
	echo "client's namespace: net.ipv4.tcp_keepalive_time=$1 tcp_keepalive_intvl=$2 tcp_keepalive_probes=$3"
}
keepalive_sysctls 3 1 3
echo "server host $srv_ip in namespace $srv_ns, port $port"
echo "\$ hbclient $srv_ip $port --probes 0 --keepalive --duration 20                     (the namespace's settings)"
echo "\$ hbclient $srv_ip $port --probes 0 --keepalive --keepalive-idle 3 --keepalive-interval 1 --keepalive-count 3 --duration 20   (its own)"
cli() { ip netns exec "$cli_ns" "$bin/hbclient" "$srv_ip" "$port" --probes 0 --keepalive --duration 20 "$@"; }
cli >"$work/system.log" 2>&1 &
sys=$!
cli --keepalive-idle 3 --keepalive-interval 1 --keepalive-count 3 >"$work/socket.log" 2>&1 &
own=$!
wait_for "$work/system.log" connected
wait_for "$work/socket.log" connected
echo "the server's host vanishes: it drops every packet"
vanish "$srv_ns"
echo "and, while both connections run, the client's namespace changes its settings:"
keepalive_sysctls 6 2 2
wait "$sys" || true
wait "$own" || true
echo
show_log "client with the namespace's settings" "$work/system.log"
show_log "client with its own settings" "$work/socket.log"
echo
echo "=== predicted vs observed"
show_verdict "namespace's" "$work/system.log" "(predicted: 10 s = 6 + 2 x 2, the new settings; its DEAD line predicts from the old ones, read back at connect)"
show_verdict "its own" "$work/socket.log" "(predicted: 6 s = 3 + 3 x 1, its own settings win)"
