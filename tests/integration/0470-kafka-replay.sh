#!/bin/sh
# 0470-kafka-replay.sh - recovery by replay: snapshot Access Anywhere's index, let more
# changes be synced, restore the old index (as if Access Anywhere came back from a backup),
# stop the syncers, `jibe replay --stage sync --to-datetime <snapshot time> --execute`, start
# them again: the index converges to the truth again. Replay refuses while syncers run and
# changes nothing without --execute.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
RUN_INTERVAL=1 stages_deploy 50 4
stage_start s1 scan "$W"
stage_start p1 parse "$W"
stage_start y1 sync "$W"
stages_wait_converged 180
sim_get /sim/index >"$JIBE_TMP/snapshot.jsonl"
T=$(date -u +%Y-%m-%dT%H:%M:%SZ)
python3 -c "import time; time.sleep(1.1)" # the next events are stamped after T
"$CTGEN" flood --root "$R" --seed 51 --files 80 >/dev/null
stages_wait_converged 60
curl -sS -X POST --data-binary @"$JIBE_TMP/snapshot.jsonl" "$SIM_URL/sim/index" >/dev/null
sim_get "/sim/diff?exclude=ct-logs" | json_check 'not j["equal"]' "restoring the snapshot should undo the later syncs"

rc=0; "$JIBE" replay --stage sync -c "$W/jibe.cfg" --to-datetime "$T" --execute >"$JIBE_TMP/r1" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$JIBE_TMP/r1"; fail "replay with live syncers: exit $rc, want 1"; }
stage_stop y1
"$JIBE" replay --stage sync -c "$W/jibe.cfg" --to-datetime "$T" >"$JIBE_TMP/plan" 2>&1 || { cat "$JIBE_TMP/plan"; fail "replay plan"; }
sim_get "/sim/diff?exclude=ct-logs" | json_check 'not j["equal"]' "a plan must not change anything"
"$JIBE" replay --stage sync -c "$W/jibe.cfg" --to-datetime "$T" --execute >"$JIBE_TMP/exec" 2>&1 || { cat "$JIBE_TMP/exec"; fail "replay --execute"; }
stage_start y1 sync "$W"
stages_wait_converged 120
stage_stop s1
stage_stop p1
stage_stop y1
sim_stop
echo "ok: replay from the snapshot time converged again"
