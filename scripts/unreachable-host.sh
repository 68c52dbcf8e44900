#!/usr/bin/env bash
# Lesson: an unreachable host, the ICMP case. A router between the client's
# host and the server's, once the clients are connected, answers every
# packet for the server with ICMP "host unreachable" (nftables). A new
# connection fails at once with EHOSTUNREACH ("no route to host"). On the
# established ones the error is soft: the kernel keeps it while it
# retransmits, so the user timeout (--user-timeout 3, counted from the
# first retransmission of PING #1 at 1s) drops the connection at about
# 4.4s saying "host unreachable", not "timed out". The heartbeat (idle 2s
# + 3 x 1s) declares the server dead at 5s as ever. Kernel keep-alive (idle
# 2s + 3 x 1s) never hears of it: the ICMP quotes the probe's sequence
# number, one below the unacknowledged data, and the kernel drops it as
# out of window (TcpExtOutOfWindowIcmps), so keep-alive gives up at 5s
# with ETIMEDOUT. About 6s after the build.
# Needs root, iproute2 and nftables. Usage: sudo scripts/unreachable-host.sh
source "$(dirname "$0")/lib.sh"
make_hosts
need nft nftables
# A router between the two: the server's end of make_hosts' veth pair
# (hb$$s, $srv_ip = x.x.x.1) moves into the router's namespace, and the
# server gets a link of its own behind it (x.x.x.4/30).
id=$$
rtr_ns=hbdemo-$id-r
namespaces+=("$rtr_ns")
ip netns add "$rtr_ns"
net=${srv_ip%.1}
ip -n "$srv_ns" link set "hb${id}s" netns "$rtr_ns"
ip -n "$rtr_ns" addr add "$net.1/30" dev "hb${id}s"
ip -n "$rtr_ns" link set "hb${id}s" up
ip link add "hb${id}rs" netns "$rtr_ns" type veth peer name "hb${id}sr" netns "$srv_ns"
srv_ip=$net.6
ip -n "$rtr_ns" addr add "$net.5/30" dev "hb${id}rs"
ip -n "$srv_ns" addr add "$srv_ip/30" dev "hb${id}sr"
ip -n "$rtr_ns" link set "hb${id}rs" up
ip -n "$srv_ns" link set "hb${id}sr" up
ip -n "$cli_ns" route add default via "$net.1"
ip -n "$srv_ns" route add default via "$net.5"
# Forwarding on; no rate limit on its ICMP errors (1 a second per peer by
# default), so that every packet the clients send is answered.
ip netns exec "$rtr_ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0
build
start_server --netns "$srv_ns" "$srv_ip" 0
echo "server host $srv_ip behind router $net.1 (namespace $rtr_ns), port $port"
cli() { ip netns exec "$cli_ns" "$bin/hbclient" "$srv_ip" "$port" --duration 10 "$@"; }
cli --probes 0 --keepalive --keepalive-idle 2 --keepalive-interval 1 --keepalive-count 3 >"$work/keepalive.log" 2>&1 &
pids+=($!)
cli --idle 2 --interval 1 --probes 3 >"$work/heartbeat.log" 2>&1 &
pids+=($!)
cli --idle 1 --interval 60 --probes 1 --user-timeout 3 >"$work/user-timeout.log" 2>&1 &
pids+=($!)
for log in keepalive heartbeat user-timeout; do wait_for "$work/$log.log" connected; done
icmp() { ip netns exec "$cli_ns" nstat -saz TcpExtOutOfWindowIcmps | awk '/OutOfWindow/ { print $2 }'; }
ignored=$(icmp)
echo "the router answers every packet for $srv_ip with ICMP host unreachable"
ip netns exec "$rtr_ns" nft "add table inet hbunreach; add chain inet hbunreach relay { type filter hook forward priority 0; policy accept; }; add rule inet hbunreach relay ip daddr $srv_ip reject with icmp type host-unreachable"
start=$(date +%s.%N)
cli >"$work/new.log" 2>&1 || true
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
for p in "${pids[@]:1}"; do wait "$p" || true; done
ignored=$(($(icmp) - ignored))
echo
show_log "keep-alive client" "$work/keepalive.log"
show_log "heartbeat client" "$work/heartbeat.log"
show_log "user-timeout client" "$work/user-timeout.log"
show_log "a new connection" "$work/new.log"
echo
echo "=== predicted vs observed"
printf '%-15s %s, after %ss; predicted: at once\n' "new connection" "$(grep -o 'connect: .*' "$work/new.log" || echo 'connected')" "$took"
# gave_up FILE: the error the kernel gave up with, from the DEAD line.
gave_up() { grep -o 'the kernel gave up ([^:)]*' "$1" | head -1 | sed 's/.*(//'; }
show_verdict user-timeout "$work/user-timeout.log" "(error: $(gave_up "$work/user-timeout.log"); predicted: host unreachable)"
show_verdict heartbeat "$work/heartbeat.log"
show_verdict keep-alive "$work/keepalive.log" "(error: $(gave_up "$work/keepalive.log"); predicted: connection timed out, $ignored ICMP errors ignored as out of window)"
