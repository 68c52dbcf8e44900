#!/usr/bin/env bash
# Lesson: data that is never acknowledged. The server's host vanishes; each
# client's PING at 1s is retransmitted and never ACKed. With
# --user-timeout 3 the kernel drops the connection about 3s later (exit 4);
# without it, the kernel keeps retransmitting for tcp_retries2 (about 15
# minutes by default): this run stops it after 12s. Keep-alive cannot help:
# it does not fire while data is unacknowledged.
# Needs root, iproute2 and nftables. Usage: sudo scripts/unacked-data.sh
source "$(dirname "$0")/lib.sh"
make_hosts
need nft nftables
build
start_server --netns "$srv_ns" "$srv_ip" 0
cli() { ip netns exec "$cli_ns" "$bin/hbclient" "$srv_ip" "$port" --idle 1 --interval 60 --probes 1 --duration 12 "$@"; }
cli --user-timeout 3 >"$work/user-timeout.log" 2>&1 &
pids+=($!)
cli --keepalive --keepalive-idle 2 --keepalive-interval 1 --keepalive-count 2 >"$work/retries.log" 2>&1 &
pids+=($!)
wait_for "$work/user-timeout.log" connected
wait_for "$work/retries.log" connected
echo "the server's host vanishes: it drops every packet"
vanish "$srv_ns"
wait "${pids[1]}" || true
wait "${pids[2]}" || true
echo
show_log "with --user-timeout 3" "$work/user-timeout.log"
show_log "without (keep-alive on, which cannot fire)" "$work/retries.log"
echo
echo "=== predicted vs observed"
show_verdict user-timeout "$work/user-timeout.log"
show_verdict tcp_retries2 "$work/retries.log" "(predicted: about $("$bin/hbclient" kernel | sed -n 's/.*given up after about \([^ ]*\).*/\1/p') of retransmissions)"
