# lib_cluster.sh - the distributed mode over test hosts (lib_netns.sh): the simulator, a KRaft
# cluster of N brokers (deploy/kafka/kafka.sh start-cluster) and every jibe stage each on a
# host of its own. Sourcing it sources what it builds on: lib.sh, lib_run.sh, lib_kafka.sh,
# lib_stages.sh and lib_netns.sh.
#
#   cluster_release_only MIN    skip (77) unless the build is the release one: the test takes
#                               about MIN minutes (CI runs it once, not under asan and clang)
#   cluster_deploy SEED HOURS N [EXTRA]
#                               hosts sim, k1..kN (brokers), ctl (where the test looks from),
#                               s1 s2 (scanners), p1 p2 (parsers), y1 y2 (syncers); jibe-ctgen
#                               init + history (SEED, HOURS) into R=$JIBE_TMP/root, the
#                               simulator on host sim, the cluster in $JIBE_TMP/kc (topics of
#                               min(N, 3) copies), W=$JIBE_TMP/w/jibe.cfg (stages_cfg W EXTRA,
#                               $STAGES_RDKAFKA applies) and the topics (jibe topics --create
#                               from ctl); exports R, W, KAFKA_BOOTSTRAP (every broker)
#   on_host HOST NAME STAGE [ARGS]
#                               stage_start NAME STAGE W ARGS on HOST
#   cluster_wait_converged SECS stages_wait_converged, and a stage that exited with an error
#                               is started again meanwhile (systemd's Restart=on-failure),
#                               3 times at most each; RESTARTS counts them
#   cluster_kill I | cluster_stop_node I | cluster_start_node I
#                               kill -9 / SIGTERM / start again broker I (start waits until it
#                               answers, deadline 60 s)
#   cluster_leader TOPIC PART   print the node id leading partition PART of TOPIC
#   cluster_isr TOPIC PART      print the in-sync replicas of PART of TOPIC ("1,2,3")
#   cluster_kcat ARGS...        kcat -b (every broker) ARGS on host ctl
#   dup_count                   print the resyncs beyond one per object or bucket (/sim/stats,
#                               syncOnProviderEvent counts)
#   cluster_topic_configs TOPIC its settings (TopicCommand --describe: "a=b,c=d")
#   cluster_settle SECS         wait until converged, take the baseline of duplicates (DUP0)
#                               and downloads (DL0)
#   cluster_busy N              wait until N more log files were downloaded since then
#   dup_since                   duplicates since cluster_settle
#   now                         seconds since the epoch
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
. "$JIBE_TOP/tests/integration/lib_netns.sh"

KC_DIR=
# three JVMs starting together on a loaded 2-core machine take a while (seen: 30-70 s)
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-180}
export KAFKA_START_TIMEOUT

cluster_release_only() {
	case "${JIBE_BUILD:-}" in
	*/release) ;;
	*)
		echo "SKIP: release build only (about $1 minutes with a Kafka cluster in network namespaces)" >&2
		exit 77
		;;
	esac
}

now() {
	date +%s
}

cluster_deploy() {
	cd_n=$3
	cd_ks=
	for cd_i in $(seq 1 "$cd_n"); do cd_ks="$cd_ks k$cd_i"; done
	# shellcheck disable=SC2086
	netns_hosts sim $cd_ks ctl s1 s2 p1 p2 y1 y2
	R=$JIBE_TMP/root
	W=$JIBE_TMP/w
	export R W
	"$CTGEN" init --root "$R" --seed "$1" >/dev/null
	"$CTGEN" history --root "$R" --seed "$1" --hours "$2" >/dev/null
	SIM_EXEC=$(netns_exec sim)
	SIM_ADDR=$(netns_addr sim)
	sim_start "$R" --quiet
	KC_DIR=$JIBE_TMP/kc
	KAFKA_DIR=$KC_DIR/1 # kafka_fail shows node 1's log
	KAFKA_NODE_EXEC="ip netns exec ${NETNS_PREFIX}k{}"
	export KAFKA_NODE_EXEC KAFKA_DIR
	on_exit 'sh "$KAFKA_SH" stop-cluster "$KC_DIR"'
	cd_addrs=
	for cd_k in $cd_ks; do cd_addrs="$cd_addrs $(netns_addr "$cd_k")"; done
	cd_t0=$(now)
	# shellcheck disable=SC2086
	KAFKA_BOOTSTRAP=$(sh "$KAFKA_SH" start-cluster "$KC_DIR" "$cd_n" $cd_addrs) ||
		fail "the Kafka cluster did not start (logs: $KC_DIR/*/kafka.log)"
	export KAFKA_BOOTSTRAP
	echo "cluster of $cd_n up in $(($(now) - cd_t0)) s: $KAFKA_BOOTSTRAP" >&2
	STAGES_REPLICATION=$cd_n
	[ "$cd_n" -gt 3 ] && STAGES_REPLICATION=3
	stages_cfg "$W" "${4:-}"
	netns_run ctl "$JIBE" topics --create -c "$W/jibe.cfg" >/dev/null || fail "jibe topics --create"
}

on_host() {
	oh_h=$1
	shift
	STAGE_EXEC=$(netns_exec "$oh_h")
	oh_n=$1
	oh_s=$2
	shift 2
	stage_start "$oh_n" "$oh_s" "$W" "$@"
	STAGE_EXEC=
	echo "$oh_h $oh_s $*" >"$W/$oh_n.how"
}

RESTARTS=0

# Starts again, as systemd's Restart=on-failure does (deploy/systemd), a stage that exited
# with an error (at most 3 times each, counted in RESTARTS and W/NAME.restarts); not one
# whose host the test took away (W/NAME.gone).
revive() {
	for rv in $STAGES_NAMES; do
		rv_pid=$(stage_pid "$rv")
		kill -0 "$rv_pid" 2>/dev/null && continue
		[ -f "$W/$rv.gone" ] && continue # its host was lost on purpose
		rv_rc=0
		wait "$rv_pid" 2>/dev/null || rv_rc=$?
		[ "$rv_rc" -ne 0 ] || continue
		rv_n=$(cat "$W/$rv.restarts" 2>/dev/null || echo 0)
		[ "$rv_n" -lt 3 ] || { stages_log; fail "stage $rv failed a fourth time (exit $rv_rc)"; }
		echo "$((rv_n + 1))" >"$W/$rv.restarts"
		RESTARTS=$((RESTARTS + 1))
		echo "$(date +%T) stage $rv exited with $rv_rc: started again (as Restart=on-failure): $(grep -h 'ERROR' "$W/$rv.log" | tail -n 1 | cut -c1-200)" >&2
		# shellcheck disable=SC2086
		on_host $(cat "$W/$rv.how" | { read -r h st a; echo "$h $rv $st $a"; })
	done
}

# cluster_wait_converged SECS: stages_wait_converged, reviving failed stages meanwhile
cluster_wait_converged() {
	cwc_end=$(($(now) + $1))
	while ! sim_get "/sim/diff?exclude=ct-logs" | json_get 'j["equal"]' | grep -qx true; do
		revive
		if [ "$(now)" -ge "$cwc_end" ]; then
			stages_log
			sim_get "/sim/diff?exclude=ct-logs" | head -c 2000 >&2
			fail "not converged after $1 s"
		fi
		sleep 0.5
	done
	revive
}

cluster_kill() {
	sh "$KAFKA_SH" kill-node "$KC_DIR" "$1" || fail "could not kill broker $1"
	echo "$(date +%T) broker $1 killed (-9)" >&2
}

cluster_stop_node() {
	sh "$KAFKA_SH" stop-node "$KC_DIR" "$1" || fail "could not stop broker $1"
	echo "$(date +%T) broker $1 stopped" >&2
}

cluster_start_node() {
	sh "$KAFKA_SH" start-node "$KC_DIR" "$1" || fail "broker $1 did not start again"
	echo "$(date +%T) broker $1 back" >&2
}

cluster_kcat() {
	netns_run ctl timeout 30 kcat -b "$KAFKA_BOOTSTRAP" "$@"
}

cluster_leader() {
	cluster_kcat -L -t "$1" 2>/dev/null |
		awk -v p="$2" '$1 == "partition" && $2 == p "," { print $4; exit }' | tr -d ,
}

cluster_isr() {
	cluster_kcat -L -t "$1" 2>/dev/null |
		awk -v p="$2" '$1 == "partition" && $2 == p "," { for (i = 1; i <= NF; i++) if ($i == "isrs:") print $(i + 1); exit }'
}

dup_count() {
	sim_get /sim/stats | python3 -c 'import json, sys
j = json.load(sys.stdin)
print(sum(n - 1 for n in j.get("sync", {}).values()) + sum(n - 1 for n in j.get("sync_buckets", {}).values()))'
}

# cluster_topic_configs TOPIC: the topic's settings as TopicCommand --describe shows them
# ("Configs: a=b,c=d"), asked from host ctl
cluster_topic_configs() {
	netns_run ctl sh "$KAFKA_SH" tool "$KC_DIR/1" org.apache.kafka.tools.TopicCommand \
		--bootstrap-server "$KAFKA_BOOTSTRAP" --describe --topic "$1" | sed -n 's/.*Configs: *//p' | head -n 1
}

downloads() {
	sim_get /sim/stats | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["downloads"].values()))'
}

# cluster_settle SECS: wait until jibe converged on what is there (the history), and take the
# baseline: DUP0 duplicates so far (a key changed in two log files is resynced twice, rightly),
# DL0 downloads so far
cluster_settle() {
	cluster_wait_converged "$1"
	DUP0=$(dup_count)
	DL0=$(downloads)
}

# cluster_busy N: wait (60 s at most) until N log files more than at cluster_settle were
# downloaded: the stages are in the middle of new work
cluster_busy() {
	wait_until 60 stages_downloads_over $((DL0 + $1))
}

# the resyncs beyond one per object or bucket since cluster_settle
dup_since() {
	echo $(($(dup_count) - DUP0))
}
