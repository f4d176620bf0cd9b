#!/bin/sh
# alongside: waits out a 2-minute outage of the server (about 4 minutes; release build only)
# 0830-netns-sim-outage.sh - the Access Anywhere host (the simulator) unreachable for 2
# minutes (its link cut) while the scanner, parser and syncer hosts keep running: every stage
# waits and retries, nothing becomes a dead letter, and after the link is back jibe converges
# (index equals truth, every actionable object resynced); duplicates are printed.
set -eu
. "$JIBE_TOP/tests/integration/lib_cluster.sh"
cluster_release_only 4
OUT_S=${JIBE_OUTAGE_S:-120}
RUN_INTERVAL=1 cluster_deploy 100 4 1
sim_post /sim/faults latency_ms=15 >/dev/null
on_host s1 s1 scan
on_host p1 p1 parse
on_host y1 y1 sync
cluster_settle 240
"$CTGEN" flood --root "$R" --seed 101 --files 60 >/dev/null
cluster_busy 5
t0=$(now)
netns_cut sim
"$CTGEN" flood --root "$R" --seed 102 --files 20 >/dev/null
# the outage lasts OUT_S seconds (a deadline: nothing is awaited meanwhile)
out_over() { [ "$(now)" -ge $((t0 + OUT_S)) ]; }
wait_until $((OUT_S + 10)) out_over
for n in s1 p1 y1; do
	kill -0 "$(stage_pid $n)" 2>/dev/null || { stages_log; fail "$n died during the outage"; }
done
netns_restore sim
t1=$(now)
cluster_wait_converged 300
tc=$(($(now) - t1))
sim_get /sim/stats >"$JIBE_TMP/stats.json"
python3 "$JIBE_TOP/tests/integration/check_resyncs.py" "$JIBE_TMP/stats.json" "$R/ctgen/expected-sync.jsonl" ||
	fail "resyncs differ from the actionable set"
dead=$(cluster_kcat -C -t jibe.dead -o beginning -e -q | grep -c . || true)
[ "$dead" -eq 0 ] || fail "$dead dead letters after the outage"
d=$(dup_since)
for n in s1 p1 y1; do stage_stop $n; done
sim_stop
echo "ok: the server unreachable ${OUT_S} s: converged ${tc} s after it was back, 0 dead letters, $d duplicate resyncs; stages restarted after an error: $RESTARTS"
