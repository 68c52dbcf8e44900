#!/usr/bin/env bash
# Lesson: a vanished host. Two network namespaces joined by a veth pair
# (198.18.0.0/15); once the clients are connected, the server's host drops
# every packet (nftables). Kernel keep-alive (idle 2s + 3 x 1s) and the
# heartbeat (idle 2s + 3 x 1s) both find it, each near its predicted time.
# Needs root, iproute2 and nftables. Usage: sudo scripts/vanished-host.sh
source "$(dirname "$0")/lib.sh"
make_hosts
need nft nftables
build
start_server --netns "$srv_ns" "$srv_ip" 0
echo "server host $srv_ip in namespace $srv_ns, port $port"
cli() { ip netns exec "$cli_ns" "$bin/hbclient" "$srv_ip" "$port" --duration 20 "$@"; }
cli --idle 2 --interval 1 --probes 3 >"$work/heartbeat.log" 2>&1 &
pids+=($!)
cli --probes 0 --keepalive --keepalive-idle 2 --keepalive-interval 1 --keepalive-count 3 >"$work/keepalive.log" 2>&1 &
pids+=($!)
wait_for "$work/heartbeat.log" connected
wait_for "$work/keepalive.log" connected
echo "the server's host vanishes: it drops every packet"
vanish "$srv_ns"
wait "${pids[1]}" || true
wait "${pids[2]}" || true
echo
show_log "heartbeat client" "$work/heartbeat.log"
show_log "keep-alive client" "$work/keepalive.log"
echo
echo "=== predicted vs observed"
show_verdict heartbeat "$work/heartbeat.log"
show_verdict keep-alive "$work/keepalive.log"
