#!/usr/bin/env bash
# Lesson: a rebooted host, keep-alive's second outcome. The client has
# kernel keep-alive on (idle 3s, interval 2s, count 5: dead at 13s if no
# probe is answered). The server's host crashes: it drops every packet, its
# hbserver is killed (its FIN is dropped), and its kernel forgets the
# connection (ss -K, as a reboot does). After the client's second probe has
# gone unanswered the host comes back: the next probe, at 7s, meets a
# kernel that has no such connection and answers with a RST, so the client
# sees "connection reset" then, not at the end of the probe count. About 8s
# after the build.
# Needs root, iproute2 and nftables. Usage: sudo scripts/rebooted-host.sh
source "$(dirname "$0")/lib.sh"
make_hosts
need nft nftables
need ss iproute2
build
idle=3 interval=2 count=5 before=2
start_server --netns "$srv_ns" "$srv_ip" 0
echo "server host $srv_ip in namespace $srv_ns, port $port"
echo "\$ hbclient $srv_ip $port --probes 0 --keepalive --keepalive-idle $idle --keepalive-interval $interval --keepalive-count $count"
ip netns exec "$cli_ns" "$bin/hbclient" "$srv_ip" "$port" --probes 0 --duration 20 \
	--keepalive --keepalive-idle "$idle" --keepalive-interval "$interval" --keepalive-count "$count" >"$work/client.log" 2>&1 &
client=$!
pids+=("$client")
wait_for "$work/client.log" connected
echo "the server's host crashes: it drops every packet, hbserver is killed, its kernel forgets the connection"
vanish "$srv_ns"
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null || true
ip netns exec "$srv_ns" ss -K -tn state all >/dev/null 2>&1 || true
if [ -n "$(ip netns exec "$srv_ns" ss -Htn state all)" ]; then
	echo "$(basename "$0"): needs a kernel that can destroy sockets (ss -K: CONFIG_INET_DIAG_DESTROY)" >&2
	exit 1
fi
wait_for "$work/client.log" "probe $before/$count unanswered"
echo "the host comes back after probe $before: it answers again, knowing nothing of the connection"
come_back "$srv_ns"
wait "$client" || true
echo
show_log "keep-alive client" "$work/client.log"
echo
echo "=== predicted vs observed"
printf '%-15s %s at %ss; predicted %s\n' reset "$(grep -o 'error: .*' "$work/client.log" | head -1 || echo 'no error')" \
	"$(line_time "$work/client.log" 'error: ')" \
	"$(awk -v i="$idle" -v n="$before" -v d="$interval" 'BEGIN { printf "%.3fs (the first probe after the reboot: idle %ds + %d x %ds)", i + n * d, i, n, d }')"
printf '%-15s %s\n' "probe count" "$(awk -v i="$idle" -v n="$count" -v d="$interval" 'BEGIN { printf "would have given up at %.3fs (idle %ds + %d x %ds) with ETIMEDOUT", i + n * d, i, n, d }')"
