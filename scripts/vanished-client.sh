#!/usr/bin/env bash
# Lesson: a vanished client, from the server's side; a server "may keep a
# useless connection for days". Three hbservers on one host, each with a
# client from another host that sends nothing (--probes 0); once they are
# connected, the clients' host drops every packet (nftables), so no FIN or
# RST reaches the servers. The server with kernel keep-alive (idle 4s + 3 x
# 2s) closes at 10s ("dead by kernel"), the one with its own heartbeat
# (idle 3s + 3 x 1s) at 6s ("dead by heartbeat"); the one with neither
# still holds the connection when the lesson stops it at 14s ("server
# shutting down"). About 15s after the build.
# Needs root, iproute2 and nftables. Usage: sudo scripts/vanished-client.sh
source "$(dirname "$0")/lib.sh"
make_hosts
need nft nftables
build
watch=14
declare -A server
# serve NAME FLAGS...: an hbserver with FLAGS, and a silent client for it.
serve() {
	local name=$1
	shift
	server_out=$work/$name.log server_err=$work/$name.log start_server --netns "$srv_ns" "$srv_ip" 0 "$@"
	server[$name]=$server_pid
	echo "\$ hbserver $srv_ip $port $*   ($name; its client: hbclient $srv_ip $port --probes 0)"
	ip netns exec "$cli_ns" "$bin/hbclient" "$srv_ip" "$port" --probes 0 >"$work/$name-client.log" 2>&1 &
	pids+=($!)
	wait_for "$work/$name.log" connected
}
serve keep-alive --keepalive --keepalive-idle 4 --keepalive-interval 2 --keepalive-count 3
serve heartbeat --probes 3 --idle 3 --interval 1
serve "no detector"
echo "the clients' host vanishes: it drops every packet; watching the servers for ${watch}s"
vanish "$cli_ns"
sleep "$watch"
for name in keep-alive heartbeat "no detector"; do
	kill -INT "${server[$name]}"
	wait "${server[$name]}" || true
done
echo
for name in keep-alive heartbeat "no detector"; do show_log "$name server" "$work/$name.log"; done
echo
# closed NAME PREDICTED: the server's close, its time from connect against PREDICTED.
closed() {
	local log=$work/$1.log c t
	c=$(line_time "$log" '] connected')
	t=$(line_time "$log" '] closed: ')
	printf '%-15s %s; %ss after connect; predicted %s\n' "$1" \
		"$(grep -o 'closed: .*' "$log" | head -1)" "$(awk -v a="$c" -v b="$t" 'BEGIN { printf "%.3f", b - a }')" "$2"
}
echo "=== predicted vs observed (the servers' view)"
closed keep-alive "10.000s (idle 4s + 3 x 2s)"
closed heartbeat "6.000s (idle 3s + 3 x 1s)"
closed "no detector" "never closed (held until the lesson stopped it)"
