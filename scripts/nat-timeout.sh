#!/usr/bin/env bash
# Lesson: how long does the network keep an idle connection? Three network
# namespaces, client, router and server (198.18.0.0/15), the router between
# the other two. By default the router is a NAT (nftables masquerade) whose
# connection tracking forgets a connection idle for TIMEOUT seconds and then
# drops its packets without a word (silent drop); with --reset it answers
# them with a TCP reset; with --haproxy the router runs HAProxy in TCP mode
# with client and server timeouts of TIMEOUT, which closes the connection
# (FIN); with --inbound-only the NAT picks the client's packets of a
# forgotten connection up again (nf_conntrack_tcp_loose=1, Linux's default)
# and drops the server's. hbserver runs on the server's host; hbclient idle-timeout, on the
# client's, measures the timeout, and the closing line sets it against the
# configured one.
# Needs root, iproute2, nftables, and haproxy for --haproxy.
# Usage: sudo scripts/nat-timeout.sh [--reset | --inbound-only | --haproxy] [TIMEOUT_S]   (default 20)
source "$(dirname "$0")/lib.sh"

usage="usage: $(basename "$0") [--reset | --inbound-only | --haproxy] [TIMEOUT_S]"
kind=silent-drop timeout=20
for arg in "$@"; do
	case $arg in
	--reset) kind=reset ;;
	--inbound-only) kind=inbound-only ;;
	--haproxy) kind=close ;;
	-h | --help) echo "$usage"; exit 0 ;;
	*[!0-9]* | '') echo "$(basename "$0"): $arg: not a whole number of seconds, nor --reset, --inbound-only or --haproxy; $usage" >&2; exit 2 ;;
	*)
		timeout=$arg
		[ "$timeout" -ge 2 ] && [ "$timeout" -le 3600 ] ||
			{ echo "$(basename "$0"): TIMEOUT_S $timeout out of range: 2 to 3600" >&2; exit 2; }
		;;
	esac
done

[ "$(id -u)" = 0 ] || { echo "$(basename "$0"): needs root, to make network namespaces (try sudo)" >&2; exit 1; }
need ip iproute2
need nft nftables
[ "$kind" != close ] || need haproxy haproxy
build
# Without the subcommand, --help is hbclient's own help (idle-timeout taken
# for HOST), which exits 0 too: the usage line tells them apart.
help=$("$bin/hbclient" idle-timeout --help 2>&1 || true)
if [[ $help != *"hbclient idle-timeout"* ]]; then
	echo "$(basename "$0"): hbclient idle-timeout is not built yet (issue 13): nothing to measure with" >&2
	exit 1
fi

make_routed_hosts
start_server --netns "$srv_ns" "$net.6" 0
host=$net.6
case $kind in
silent-drop | reset | inbound-only)
	# Packets of a connection conntrack has forgotten are invalid (with
	# nf_conntrack_tcp_loose=0 it does not pick them up again midway):
	# dropped, or answered with a reset, in both directions. Inbound only:
	# the client's are picked up again (loose=1) under a new mapping with
	# the same port; the server's, addressed to the router, are dropped.
	verdict=drop loose=0 to_router='ct state invalid drop'
	if [ "$kind" = reset ]; then verdict='ip protocol tcp reject with tcp reset'; fi
	if [ "$kind" = inbound-only ]; then loose=1 to_router='drop'; fi
	ip netns exec "$rtr_ns" nft "add table ip hbdemo
		add chain ip hbdemo nat_out { type nat hook postrouting priority srcnat; }
		add rule ip hbdemo nat_out oifname $rtr_srv_dev masquerade
		add chain ip hbdemo forwarded { type filter hook forward priority filter; }
		add rule ip hbdemo forwarded ct state invalid $verdict
		add rule ip hbdemo forwarded ct state invalid drop
		add chain ip hbdemo to_router { type filter hook input priority filter; }
		add rule ip hbdemo to_router ct state invalid $verdict
		add rule ip hbdemo to_router $to_router"
	ip netns exec "$rtr_ns" sysctl -qw "net.netfilter.nf_conntrack_tcp_timeout_established=$timeout" "net.netfilter.nf_conntrack_tcp_loose=$loose"
	case $kind in
	reset) then="resets it" ;;
	inbound-only) then="drops the server's packets (the client's make a new mapping)" ;;
	*) then="drops its packets" ;;
	esac
	echo "router $net.1: NAT to server $host:$port; conntrack forgets an idle connection after ${timeout}s, then $then"
	;;
close)
	host=$net.1
	start_haproxy "${timeout}s"
	server_port=$port port=9000
	echo "router $host: HAProxy (TCP mode) port $port to server $net.6:$server_port; timeout client and server ${timeout}s"
	;;
esac

# field NAME [LINE]: the value of NAME in a JSON line (default $event),
# unquoted; empty when it has none.
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"${2-$event}"; }
yes_no() { case $1 in true) echo yes ;; false) echo no ;; *) echo "not measured" ;; esac; }

# show LINE: one JSON line of the measurement, shortened: the progress, the
# probes that did not come back alive, and the refresh checks. Anything
# else (an error) as it is.
show() {
	local t kind every upper why running
	t=$(field t "$1")
	case $(field event "$1") in
	idle_status)
		upper=$(field upper_s "$1")
		if [ "$upper" = null ]; then upper="above $(printf %.3f "$(field lower_s "$1")") s, nothing expired yet"
		else upper=$(printf 'between %.3f s and %.3f s' "$(field lower_s "$1")" "$upper"); fi
		running="$(field running "$1") connections"
		[ "$running" != "1 connections" ] || running="1 connection"
		printf '%8.3f  open: %s; %s idling; at most %.0f s left\n' "$t" "$upper" "$running" "$(field left_s "$1")"
		;;
	idle_probe)
		kind=$(field kind "$1") every=$(field every_s "$1") why=$(field why "$1")
		[ "$kind" != gap ] || [ "$(field outcome "$1")" != alive ] || return 0
		[ -z "$every" ] || every=$(printf ' (every %g s)' "$every")
		printf '%8.3f  %s %s %.3f s%s: %s%s\n' "$t" "$(field dir "$1")" "$kind" "$(field gap_s "$1")" \
			"$every" "$(field outcome "$1")" "${why:+ ($why)}"
		;;
	idle_timeout) ;;
	*) echo "$1" ;;
	esac
}

echo "measuring from the client's host $net.2 (it takes a small multiple of ${timeout}s)..."
# In the background, shown as it goes by tail: Ctrl-C then stops the
# script, whose cleanup interrupts hbclient.
: >"$work/measure.jsonl" # there before tail opens it
ip netns exec "$cli_ns" "$bin/hbclient" idle-timeout "$host" "$port" \
	--max "$((3 * timeout))s" --resolution 500ms --json >>"$work/measure.jsonl" 2>&1 &
measure_pid=$!
pids+=("$measure_pid")
tail -f -n +1 --pid="$measure_pid" "$work/measure.jsonl" | while IFS= read -r line; do show "$line"; done
status=0
wait "$measure_pid" || status=$?
[ "$status" = 0 ] || { echo "hbclient idle-timeout exited $status" >&2; exit 1; }

event=$(grep '"event":"idle_timeout"' "$work/measure.jsonl" | tail -1)
[ -n "$event" ] || { echo "no idle_timeout event in hbclient's output" >&2; exit 1; }
lower=$(field lower_s) upper=$(field upper_s)
if [ "$upper" = null ] || [ -z "$upper" ]; then
	measured="nothing expired up to $((3 * timeout)) s"
else
	measured=$(printf 'between %.1f s and %.1f s' "$lower" "$upper")
fi
echo
echo "=== configured vs measured"
echo "configured ${timeout} s ($kind); measured $measured; expiry $(field expiry); inbound only: $(yes_no "$(field inbound_only)"); keep-alive refreshes: $(yes_no "$(field keepalive_refreshes)"); heartbeat PINGs refresh: $(yes_no "$(field ping_refreshes)")"
if [ "$upper" != null ] && [ -n "$upper" ]; then
	echo "settings that survive it: hbclient --idle $(field heartbeat_idle_s)s --interval $(field heartbeat_interval_s)s (dead after $(field heartbeat_dead_after_s) s), or --keepalive --keepalive-idle $(field keepalive_idle_s) --keepalive-interval $(field keepalive_interval_s) (dead after $(field keepalive_dead_after_s) s)"
fi
