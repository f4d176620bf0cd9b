#!/bin/sh
# alongside: waits on a three-broker cluster's failovers (about 3 minutes; release build only)
# 0800-cluster-broker-loss.sh - every process on a host of its own (network namespaces), the
# topics on a three-broker KRaft cluster with 3 copies and min.insync.replicas=2. (a) The broker
# leading the events topic is killed (-9) mid-run and restarted; (b) then a broker goes for
# good and the cluster carries on with two. Each time jibe converges (index equals truth,
# every actionable object resynced); the resyncs beyond one per object are printed.
set -eu
. "$JIBE_TOP/tests/integration/lib_cluster.sh"
cluster_release_only 3
STAGES_RDKAFKA='"consumer.session.timeout.ms=6000", "consumer.heartbeat.interval.ms=1000"' RUN_INTERVAL=1 \
	cluster_deploy 80 4 3
for t in files events dead status; do
	c=$(cluster_topic_configs "jibe.$t")
	case ",$c," in *,min.insync.replicas=2,*) ;; *) fail "jibe.$t lacks min.insync.replicas=2: $c" ;; esac
done
sim_post /sim/faults latency_ms=15 >/dev/null
on_host s1 s1 scan
on_host p1 p1 parse --instance-id p1
on_host y1 y1 sync --instance-id y1

# (a) the leader of the events topic killed in the middle of new work, then back
cluster_settle 240
"$CTGEN" flood --root "$R" --seed 81 --files 60 >/dev/null
cluster_busy 5
lead=$(cluster_leader jibe.events 0)
[ -n "$lead" ] || fail "no leader for jibe.events partition 0"
t0=$(now)
cluster_kill "$lead"
leader_moved() { l=$(cluster_leader jibe.events 0) && [ -n "$l" ] && [ "$l" != "$lead" ]; }
wait_until 60 leader_moved
cluster_start_node "$lead"
cluster_wait_converged 300
ta=$(($(now) - t0))
da=$(dup_since)
sim_get /sim/stats >"$JIBE_TMP/stats-a.json"
python3 "$JIBE_TOP/tests/integration/check_resyncs.py" "$JIBE_TMP/stats-a.json" "$R/ctgen/expected-sync.jsonl" ||
	fail "after the leader's kill: resyncs differ from the actionable set"
echo "leader broker $lead killed -9 and restarted: converged ${ta} s after the kill, $da duplicate resyncs"
isr_full() { [ "$(cluster_isr jibe.events 0 | tr ',' '\n' | grep -c .)" -eq 3 ]; }
wait_until 120 isr_full

# (b) a broker gone for good: the two others carry on (min.insync.replicas=2 still met)
cluster_settle 60
"$CTGEN" flood --root "$R" --seed 82 --files 60 >/dev/null
cluster_busy 5
gone=$(cluster_leader jibe.events 0)
t0=$(now)
cluster_kill "$gone"
cluster_wait_converged 300
tb=$(($(now) - t0))
db=$(dup_since)
sim_get /sim/stats >"$JIBE_TMP/stats-b.json"
python3 "$JIBE_TOP/tests/integration/check_resyncs.py" "$JIBE_TMP/stats-b.json" "$R/ctgen/expected-sync.jsonl" ||
	fail "with a broker gone: resyncs differ from the actionable set"
echo "broker $gone gone for good, cluster on two: converged ${tb} s after the kill, $db duplicate resyncs"
stage_stop s1
stage_stop p1
stage_stop y1
sim_stop
echo "ok: a leader killed and back (${ta} s, $da duplicates), a broker gone for good (${tb} s, $db duplicates); stages restarted after an error: $RESTARTS"
