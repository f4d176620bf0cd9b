#!/bin/sh
# alongside: waits out a 60 s network partition (about 3 minutes; release build only)
# 0810-netns-partition.sh - two parsers and two syncers on hosts of their own; the host of
# one parser and the host of one syncer are cut off (link down) for 60 s mid-run, then come
# back. Their partitions move to the others and back; jibe converges (index equals truth,
# every actionable object resynced) and the resyncs beyond one per object are printed: what
# two hosts did twice (at-least-once) while one of them was cut off.
set -eu
. "$JIBE_TOP/tests/integration/lib_cluster.sh"
cluster_release_only 3
CUT_S=${JIBE_CUT_S:-60}
# one broker on a host of its own: the cut is between stage hosts and everything else
STAGES_RDKAFKA='"consumer.session.timeout.ms=6000", "consumer.heartbeat.interval.ms=1000"' RUN_INTERVAL=1 \
	cluster_deploy 90 4 1 'parser = { workers = 1; };'
sim_post /sim/faults latency_ms=15 >/dev/null
on_host s1 s1 scan
on_host p1 p1 parse --instance-id p1
on_host p2 p2 parse --instance-id p2
on_host y1 y1 sync --instance-id y1
on_host y2 y2 sync --instance-id y2
cluster_settle 240
"$CTGEN" flood --root "$R" --seed 91 --files 60 >/dev/null
cluster_busy 5
t0=$(now)
netns_cut p1
netns_cut y1
"$CTGEN" flood --root "$R" --seed 92 --files 30 >/dev/null
# the cut lasts CUT_S seconds (a deadline, not a sleep hiding a race); meanwhile the others
# take the cut hosts' partitions over and finish the work: note when
tin=
tlast=0
cut_over() {
	# (the index is compared once a second)
	if [ -z "$tin" ] && [ "$(now)" -gt "$tlast" ] && tlast=$(now) && sim_get "/sim/diff?exclude=ct-logs" | json_get 'j["equal"]' | grep -qx true; then
		tin=$(($(now) - t0))
		echo "converged without the cut hosts ${tin} s after the cut" >&2
	fi
	[ "$(now)" -ge $((t0 + CUT_S)) ]
}
wait_until $((CUT_S + 10)) cut_over
[ -n "$tin" ] || { stages_log; fail "the work of the cut hosts did not move to the others within ${CUT_S} s"; }
for n in p1 y1; do
	kill -0 "$(stage_pid $n)" 2>/dev/null || { stages_log; fail "$n died while cut off"; }
done
assigns() { grep -c 'group_event=assign' "$W/$1.log" || true; }
ap=$(assigns p1)
ay=$(assigns y1)
netns_restore p1
netns_restore y1
t1=$(now)
rejoined() { [ "$(assigns p1)" -gt "$ap" ] && [ "$(assigns y1)" -gt "$ay" ]; }
wait_until 90 rejoined
echo "p1 and y1 have partitions again $(($(now) - t1)) s after the link came back" >&2
# new work after the return: the hosts take their share again
"$CTGEN" flood --root "$R" --seed 93 --files 30 >/dev/null
cluster_wait_converged 300
tc=$(($(now) - t1))
sim_get /sim/stats >"$JIBE_TMP/stats.json"
python3 "$JIBE_TOP/tests/integration/check_resyncs.py" "$JIBE_TMP/stats.json" "$R/ctgen/expected-sync.jsonl" ||
	fail "resyncs differ from the actionable set"
d=$(dup_since)
for n in s1 p1 p2 y1 y2; do stage_stop $n; done
sim_stop
echo "ok: parser and syncer hosts cut off ${CUT_S} s: the others converged ${tin} s after the cut; back, converged on new work in ${tc} s; $d duplicate resyncs; stages restarted after an error: $RESTARTS"
