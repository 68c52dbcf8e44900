#!/usr/bin/env bash
# Lesson: a hung process. The server is stopped with SIGSTOP: its kernel
# still ACKs, so kernel keep-alive sees nothing wrong, while the heartbeat
# declares it dead at idle + probes x interval. Loopback only.
# Usage: scripts/hung-server.sh
source "$(dirname "$0")/lib.sh"
build
start_server 127.0.0.1 0
echo "\$ hbserver 127.0.0.1 $port"
echo "\$ hbclient 127.0.0.1 $port --idle 2 --interval 1 --probes 3           (heartbeat)"
echo "\$ hbclient 127.0.0.1 $port --probes 0 --keepalive --keepalive-idle 2 --keepalive-interval 1 --keepalive-count 3 --duration 10   (kernel keep-alive)"
"$bin/hbclient" 127.0.0.1 "$port" --idle 2 --interval 1 --probes 3 --duration 15 >"$work/heartbeat.log" 2>&1 &
hb=$!
"$bin/hbclient" 127.0.0.1 "$port" --probes 0 --keepalive --keepalive-idle 2 --keepalive-interval 1 --keepalive-count 3 --duration 10 >"$work/keepalive.log" 2>&1 &
ka=$!
wait_for "$work/heartbeat.log" connected
wait_for "$work/keepalive.log" connected
echo "stopping the server process (SIGSTOP): the process hangs, its kernel does not"
kill -STOP "$server_pid"
wait "$hb" || true
wait "$ka" || true
kill -CONT "$server_pid"
echo
show_log "heartbeat client" "$work/heartbeat.log"
show_log "keep-alive client" "$work/keepalive.log"
echo
echo "=== predicted vs observed"
show_verdict heartbeat "$work/heartbeat.log"
show_verdict keep-alive "$work/keepalive.log" "(predicted: never, the kernel answers for the stopped process)"
