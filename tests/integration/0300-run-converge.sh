#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0300-run-converge.sh - `jibe run` on a generated deployment: after a 6-hour CloudTrail
# history (late files in past date folders included) the simulator's index equals the S3
# truth; only what docs/EVENTS.md makes actionable is resynced (self writes, unmanaged buckets,
# covered and failed calls cost no sync call); live changes are synced within the scan
# interval plus a few seconds; SIGHUP reopens the log; SIGTERM exits 0 and a restart does
# not download processed files again.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 7 >/dev/null
"$CTGEN" history --root "$R" --seed 7 --hours 6 >/dev/null
sim_start "$R" --quiet
converged && fail "the generated history should leave the index stale"

RUN_INTERVAL=2 run_cfg "$W"
run_start "$W"
wait_converged 180

# Every sync call was for something docs/EVENTS.md makes actionable, and every actionable object
# outside buckets that got a whole-bucket resync was synced.
sim_get /sim/stats >"$JIBE_TMP/stats.json"
python3 "$JIBE_TOP/tests/integration/check_resyncs.py" "$JIBE_TMP/stats.json" "$R/ctgen/expected-sync.jsonl" ||
	fail "resync calls differ from the actionable set"

# Live changes: a burst of new log files and object changes while jibe runs.
t0=$(date +%s)
"$CTGEN" flood --root "$R" --seed 8 --files 50 >/dev/null
converged && fail "the flood should leave the index stale"
# within the scan interval (2 s) plus a few seconds; by folder refresh, a DeleteObjects in the
# flood walks its whole bucket at syncer.bucket_refresh_per_s (20 folders/s, 50-80 folders
# per bucket here), so allow for a few such walks
if [ "${JIBE_SYNC_VARIANT:-event}" = refresh ]; then wait_converged 45; else wait_converged 10; fi
t1=$(date +%s)
echo "live changes converged in $((t1 - t0)) s (scan interval 2 s)"

# Every log file was read, exactly once: those delivered hours late into past date folders
# too (the history has them), and no file twice.
sim_get /sim/stats >"$JIBE_TMP/stats2.json"
python3 - "$JIBE_TMP/stats2.json" "$R/ctgen/files.txt" <<'PY' || fail "log files missed or read twice"
import json, sys
dl = json.load(open(sys.argv[1]))["downloads"]
files = ["ct-logs/" + l.strip() for l in open(sys.argv[2]) if l.strip()]
missing = [f for f in files if f not in dl]
assert not missing, ("never downloaded", missing[:5])
twice = {f: dl[f] for f in files if dl[f] != 1}
assert not twice, ("downloaded more than once", list(twice.items())[:5])
days = {f.rsplit("/", 1)[0][-10:] for f in files}
assert len(days) >= 2, ("the history should span date folders", days)
PY

# SIGHUP reopens the log file (logrotate moves it first).
mv "$W/jibe.log" "$W/jibe.log.1"
kill -HUP "$RUN_PID"
wait_until 10 test -s "$W/jibe.log"

run_stop
grep -q "stopped" "$W/jibe.log" || fail "no orderly stop in the log"
ls "$W/state/scan" | grep -q . || fail "no scanner state saved"

# A restart reads the saved state: a full scan downloads nothing again.
sim_get /sim/stats | json_get 'sum(j["downloads"].values())' >"$JIBE_TMP/dl1"
: >"$W/jibe.log"
run_start "$W"
wait_until 30 grep -q "scan done" "$W/jibe.log"
kill -USR1 "$RUN_PID"
wait_until 30 sh -c "[ \$(grep -c 'scan done' '$W/jibe.log') -ge 2 ]"
sim_get /sim/stats | json_get 'sum(j["downloads"].values())' >"$JIBE_TMP/dl2"
[ "$(cat "$JIBE_TMP/dl1")" = "$(cat "$JIBE_TMP/dl2")" ] || fail "files downloaded again after restart: $(cat "$JIBE_TMP/dl1") -> $(cat "$JIBE_TMP/dl2")"
run_stop
sim_stop
echo "ok: converged, only actionable syncs, live changes, restart"
