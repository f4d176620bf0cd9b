#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0430-kafka-converge.sh - the distributed mode: jibe scan, parse and sync as separate
# processes over a real Kafka broker converge like `jibe run` (history with late files,
# only actionable syncs), then live changes arrive and converge, and SIGTERM stops every
# stage with exit 0.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
stages_deploy 41 6
stages_topics "$W" # idempotent
stage_start s1 scan "$W"
stage_start p1 parse "$W"
stage_start y1 sync "$W"
stages_wait_converged 180

sim_get /sim/stats >"$JIBE_TMP/stats.json"
python3 "$JIBE_TOP/tests/integration/check_resyncs.py" "$JIBE_TMP/stats.json" "$R/ctgen/expected-sync.jsonl" ||
	fail "resync calls differ from the actionable set"
python3 - "$JIBE_TMP/stats.json" "$R/ctgen/expected-sync.jsonl" "$R/ctgen/files.txt" <<'PY' || fail "sync calls or downloads wrong"
import json, sys
st = json.load(open(sys.argv[1]))
exp = [json.loads(l) for l in open(sys.argv[2])]
objs = {e["bucket"] + "/" + e["key"] for e in exp if "key" in e}
bkts = {e["bucket"] for e in exp if "key" not in e}
dl = st["downloads"]
files = ["ct-logs/" + l.strip() for l in open(sys.argv[3]) if l.strip()]
assert all(f in dl for f in files), [f for f in files if f not in dl][:5]
PY

"$CTGEN" flood --root "$R" --seed 42 --files 60 >/dev/null
stages_wait_converged 30

stage_stop s1
stage_stop p1
stage_stop y1
# everything consumed was committed: no lag left
[ "$(stages_lag jibe.parse)" -eq 0 ] || fail "parse group has lag after a clean stop"
[ "$(stages_lag jibe.sync)" -eq 0 ] || fail "sync group has lag after a clean stop"

# The scanner "moves to another host": a new process with nothing local reads its memory
# from the status topic and publishes no file twice.
files_end() { "$JIBE" lag -c "$W/jibe.cfg" --group jibe.parse --json | python3 -c 'import json,sys; print(sum(r["end"] for r in json.load(sys.stdin)))'; }
before=$(files_end)
W2=$JIBE_TMP/host2
mkdir -p "$W2"
sed "s|$W/state|$W2/state|" "$W/jibe.cfg" >"$W2/jibe.cfg"
stage_start s2 scan "$W2"
wait_until 60 grep -q "scan done" "$W2/s2.log"
"$CTGEN" flood --root "$R" --seed 43 --files 5 >/dev/null
kill -USR1 "$(cat "$W2/s2.pid")"
wait_until 60 sh -c "[ \$(grep -c 'scan done' '$W2/s2.log') -ge 2 ]"
after=$(files_end)
[ "$after" -eq $((before + 5)) ] || fail "the moved scanner published $((after - before)) files, want the 5 new ones"
STAGES_DIR=$W2 stage_stop s2
STAGES_DIR=$W
sim_stop
echo "ok: distributed mode converged"
