#!/usr/bin/env bash
# Lesson: behind a proxy, kernel keep-alive talks to the proxy. Three
# network namespaces, client, router and server (198.19.0.0/16); the router
# runs HAProxy in TCP mode (timeouts of an hour, so that it never closes
# anything itself), which forwards payload only: the client's TCP connection
# ends at the proxy. Two clients through it, one with kernel keep-alive only
# (idle 2s + 3 x 1s), one with the heartbeat (idle 2s + 3 x 1s). First the
# server process hangs (SIGSTOP), then, with new clients, the server's host
# vanishes (it drops every packet): both times the proxy ACKs the keep-alive
# probes, so keep-alive stays content, and only the heartbeat, which needs
# an answer from the server itself, finds it dead.
# Needs root, iproute2, nftables and haproxy. Usage: sudo scripts/behind-proxy.sh
source "$(dirname "$0")/lib.sh"
make_routed_hosts
need nft nftables
need haproxy haproxy
build
start_server --netns "$srv_ns" "$srv_ip" 0
start_haproxy 1h
echo "server $srv_ip:$port in namespace $srv_ns; HAProxy (TCP mode, timeouts 1h) at $rtr_ip:9000 in $rtr_ns"
echo "\$ hbclient $rtr_ip 9000 --idle 2 --interval 1 --probes 3 --duration 12                        (heartbeat)"
echo "\$ hbclient $rtr_ip 9000 --probes 0 --keepalive --keepalive-idle 2 --keepalive-interval 1 --keepalive-count 3 --duration 12   (kernel keep-alive)"

# clients NAME: start both clients through the proxy, logging to
# $work/NAME-heartbeat.log and $work/NAME-keepalive.log, and wait until both
# are connected.
clients() {
	cli() { ip netns exec "$cli_ns" "$bin/hbclient" "$rtr_ip" 9000 --duration 12 "$@"; }
	cli --idle 2 --interval 1 --probes 3 >"$work/$1-heartbeat.log" 2>&1 &
	hb=$!
	cli --probes 0 --keepalive --keepalive-idle 2 --keepalive-interval 1 --keepalive-count 3 >"$work/$1-keepalive.log" 2>&1 &
	ka=$!
	wait_for "$work/$1-heartbeat.log" connected
	wait_for "$work/$1-keepalive.log" connected
}

echo
echo "=== 1. the server process hangs (SIGSTOP); its host and the proxy are fine"
clients hung
kill -STOP "$server_pid"
wait "$hb" || true
wait "$ka" || true
kill -CONT "$server_pid"
# Ctrl-C reaches the clients, which say so and exit 0, and bash, whose
# children handled it, goes on: stop here instead of starting part 2.
if grep -q 'SIGINT received' "$work"/hung-*.log; then echo; echo "interrupted"; exit 130; fi
show_log "heartbeat client" "$work/hung-heartbeat.log"
show_log "keep-alive client" "$work/hung-keepalive.log"

echo
echo "=== 2. the server's host vanishes behind the proxy (it drops every packet)"
clients vanished
vanish "$srv_ns"
wait "$hb" || true
wait "$ka" || true
show_log "heartbeat client" "$work/vanished-heartbeat.log"
show_log "keep-alive client" "$work/vanished-keepalive.log"

never="(predicted: never, the proxy answers its probes)"
echo
echo "=== predicted vs observed"
printf '%-22s %s\n' "hung, heartbeat" "$(verdict "$work/hung-heartbeat.log")"
printf '%-22s %s %s\n' "hung, keep-alive" "$(verdict "$work/hung-keepalive.log")" "$never"
printf '%-22s %s\n' "vanished, heartbeat" "$(verdict "$work/vanished-heartbeat.log")"
printf '%-22s %s %s\n' "vanished, keep-alive" "$(verdict "$work/vanished-keepalive.log")" "$never"
