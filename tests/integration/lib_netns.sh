# lib_netns.sh - test "hosts" on this machine: one network namespace each, joined by veth pairs
# to a bridge in a hub namespace of the test's own. Source it after lib.sh (POSIX sh, as root):
#
#     . "$JIBE_TOP/tests/integration/lib.sh"
#     . "$JIBE_TOP/tests/integration/lib_netns.sh"
#     netns_hosts sim k1 k2 k3 s1 p1 y1 ctl
#
# Every name starts with "jbt-<pid of the test>-" (jbt: jibe test), so a run never touches
# another's namespaces and the leftovers of a killed run are recognised: the next netns_hosts
# removes those whose test process is gone. The hosts share one private /24, 10.77.N.0/24,
# with N picked so that no address or route of this machine's own namespace covers it; host
# number I (the order given) is 10.77.N.(I+1), the hub has no address. Nothing routes out of
# the hub: traffic reaches only the addresses given here. The namespaces, and every process
# still in them, are removed when the test exits, whatever happens (lib.sh's on_exit_last).
# The test exits 77 (skipped) with the reason when namespaces cannot be made (not root, no
# `ip`, no veth or bridge support).
#
#   netns_hosts NAME...      make the hosts (names: letters and digits, up to 8); once a test
#   netns_addr NAME          print the host's address
#   netns_exec NAME          print the command prefix that runs a command on the host
#                            ("ip netns exec jbt-PID-NAME"), for SIM_EXEC, STAGE_EXEC,
#                            KAFKA_NODE_EXEC
#   netns_run NAME CMD...    run CMD on the host
#   netns_cut NAME           cut the host's link (its bridge port down): the host keeps its
#                            address and processes, and reaches nobody; nobody reaches it
#   netns_restore NAME       bring the link back up
#   netns_reachable A B      true when host A reaches host B's address (a TCP connect
#                            to port 9, answered or refused within 1 s)

NETNS_PREFIX=
NETNS_NET=
NETNS_HOSTS=

netns_skip() {
	echo "SKIP: network namespaces cannot be made here: $*" >&2
	exit 77
}

netns_ns() { # name: the namespace's name
	echo "$NETNS_PREFIX$1"
}

# Removes namespace $1 and every process in it (TERM, up to 5 s, then KILL).
netns_del() {
	nd_pids=$(ip netns pids "$1" 2>/dev/null) || true
	if [ -n "$nd_pids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $nd_pids 2>/dev/null || true
		nd_end=$(($(date +%s) + 5))
		while [ -n "$(ip netns pids "$1" 2>/dev/null)" ] && [ "$(date +%s)" -lt "$nd_end" ]; do
			sleep 0.1
		done
		nd_pids=$(ip netns pids "$1" 2>/dev/null) || true
		# shellcheck disable=SC2086
		[ -z "$nd_pids" ] || kill -KILL $nd_pids 2>/dev/null || true
	fi
	ip netns del "$1" 2>/dev/null || true
}

# Namespaces of earlier runs whose test process is gone (killed before its cleanup ran).
netns_clean_stale() {
	for ncs in $(ip netns list 2>/dev/null | awk '$1 ~ /^jbt-[0-9]+-/ { print $1 }'); do
		ncs_pid=${ncs#jbt-}
		ncs_pid=${ncs_pid%%-*}
		if kill -0 "$ncs_pid" 2>/dev/null && [ "$ncs_pid" != $$ ]; then
			continue # a test that still runs
		fi
		echo "lib_netns: removing $ncs, left by an earlier run" >&2
		netns_del "$ncs"
	done
}

netns_cleanup() {
	[ -n "$NETNS_PREFIX" ] || return 0
	for nc in $NETNS_HOSTS; do
		netns_del "$(netns_ns "$nc")"
	done
	netns_del "$(netns_ns hub)"
	NETNS_HOSTS=
}

# Prints a third octet N such that nothing on this machine uses 10.77.N.0/24.
netns_pick_net() {
	npn_try=0
	npn_n=$(($$ % 250 + 1))
	while [ "$npn_try" -lt 250 ]; do
		if ! ip -4 -o addr show | grep -q " 10\.77\.$npn_n\." &&
			[ -z "$(ip -4 route show match "10.77.$npn_n.1" 2>/dev/null | grep -v '^default')" ]; then
			echo "$npn_n"
			return 0
		fi
		npn_n=$((npn_n % 250 + 1))
		npn_try=$((npn_try + 1))
	done
	return 1
}

netns_hosts() {
	[ -z "$NETNS_PREFIX" ] || fail "netns_hosts: once a test"
	[ "$(id -u)" = 0 ] || netns_skip "not root (ip netns needs CAP_SYS_ADMIN)"
	command -v ip >/dev/null 2>&1 || netns_skip "no 'ip' command (Debian: iproute2)"
	netns_clean_stale
	NETNS_PREFIX="jbt-$$-"
	on_exit_last netns_cleanup
	nh_n=$(netns_pick_net) || fail "no free 10.77.N.0/24 on this machine"
	NETNS_NET="10.77.$nh_n"
	hub=$(netns_ns hub)
	ip netns add "$hub" 2>"$JIBE_TMP/netns.err" || netns_skip "ip netns add: $(cat "$JIBE_TMP/netns.err")"
	ip -n "$hub" link add br0 type bridge 2>"$JIBE_TMP/netns.err" ||
		netns_skip "no bridge in a namespace: $(cat "$JIBE_TMP/netns.err")"
	ip -n "$hub" link set br0 up || fail "bridge up"
	nh_i=1
	for nh in "$@"; do
		case "$nh" in '' | *[!a-z0-9]* | ?????????*) fail "netns_hosts: bad host name '$nh'" ;; esac
		nh_i=$((nh_i + 1))
		nh_ns=$(netns_ns "$nh")
		ip netns add "$nh_ns" || fail "ip netns add $nh_ns"
		NETNS_HOSTS="$NETNS_HOSTS $nh"
		ip -n "$hub" link add "v-$nh" type veth peer name eth0 netns "$nh_ns" 2>"$JIBE_TMP/netns.err" ||
			netns_skip "no veth pair: $(cat "$JIBE_TMP/netns.err")"
		ip -n "$hub" link set "v-$nh" master br0 up || fail "hub port of $nh"
		ip -n "$nh_ns" link set lo up || fail "lo of $nh"
		ip -n "$nh_ns" addr add "$NETNS_NET.$nh_i/24" dev eth0 || fail "address of $nh"
		ip -n "$nh_ns" link set eth0 up || fail "eth0 of $nh"
		echo "$NETNS_NET.$nh_i" >"$JIBE_TMP/netns-$nh.addr"
	done
	echo "hosts on $NETNS_NET.0/24:$NETNS_HOSTS" >&2
	# the bridge learns its ports in a moment: wait until the first host reaches the last
	[ $# -lt 2 ] || wait_until 10 netns_reachable "$1" "$nh"
}

netns_addr() {
	[ -f "$JIBE_TMP/netns-$1.addr" ] || fail "netns_addr: no host $1"
	cat "$JIBE_TMP/netns-$1.addr"
}

netns_exec() {
	echo "ip netns exec $(netns_ns "$1")"
}

netns_run() {
	nr_h=$1
	shift
	ip netns exec "$(netns_ns "$nr_h")" "$@"
}

netns_cut() {
	ip -n "$(netns_ns hub)" link set "v-$1" down || fail "netns_cut $1"
	echo "$(date +%T) cut $1 off" >&2
}

netns_restore() {
	ip -n "$(netns_ns hub)" link set "v-$1" up || fail "netns_restore $1"
	echo "$(date +%T) $1 back" >&2
}

netns_reachable() { # a TCP connect to port 9 of B: "refused" comes back from B, a cut link is silent
	netns_run "$1" python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect((sys.argv[1], 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
sys.exit(0)' "$(netns_addr "$2")"
}
