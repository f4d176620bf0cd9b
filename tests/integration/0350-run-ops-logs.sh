#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0350-run-ops-logs.sh - the logs an operator reads (README "Logs"): `jibe run` with
# log_format = "json" on a generated hour of CloudTrail history writes only JSON lines, one
# "resync" line per successful resync (as many as the simulator counted resync calls, each
# with provider, bucket, key or folder, op, method, result, attempts and latency_ms); the log
# file is created mode 0640 under umask 000; SIGUSR1 is acknowledged in the log; and with
# log_file set, a fatal start-up error (refused credentials) is on stderr too, not only in
# the file.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 11 >/dev/null
"$CTGEN" history --root "$R" --seed 11 --hours 1 >/dev/null
sim_start "$R" --quiet

RUN_INTERVAL=2 run_cfg "$W" 'log_format = "json";'
old_umask=$(umask)
umask 000
run_start "$W"
umask "$old_umask"
wait_converged 120
wait_until 30 grep -q '"resync' "$W/jibe.log"
mode=$(stat -c %a "$W/jibe.log")
[ "$mode" = 640 ] || fail "log file mode $mode, want 640 (umask 000)"
kill -USR1 "$RUN_PID"
wait_until 10 grep -q 'SIGUSR1 received' "$W/jibe.log"
# the resync lines of what converged are all written once the index equals the truth, but
# the syncer acks after the line: poll until the counts agree (or the deadline says why not)
count_ok() {
	sim_get /sim/stats >"$JIBE_TMP/stats.json"
	python3 - "$W/jibe.log" "$JIBE_TMP/stats.json" "${JIBE_SYNC_VARIANT:-event}" <<'PY'
import json, sys
log, stats, variant = sys.argv[1:4]
lines = [l for l in open(log, encoding="utf-8") if l.strip()]
recs = []
for n, l in enumerate(lines, 1):
    try:
        recs.append(json.loads(l))
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %s" % (n, e, l[:200]))
for r in recs:
    for k in ("time", "level", "module", "msg"):
        if k not in r:
            sys.exit("a line without %s: %s" % (k, r))
res = [r for r in recs if r["msg"].startswith("resync ") and r.get("result") == "ok"]
for r in res:
    for k in ("provider", "bucket", "op", "method", "result", "attempts", "latency_ms", "events"):
        if k not in r:
            sys.exit("resync line without %s: %s" % (k, r["msg"]))
    if "key" not in r and "folder" not in r:
        sys.exit("resync line without key or folder: %s" % r["msg"])
    if int(r["latency_ms"]) < 0 or int(r["attempts"]) < 1:
        sys.exit("resync line with a bad latency or attempt count: %s" % r["msg"])
st = json.load(open(stats))
if variant == "refresh":
    # one line per folder (or bucket) unit; the server saw at least that many refreshes
    # outside the log bucket
    want = sum(v for f, v in st.get("refreshes", {}).items() if not f.startswith("ct-logs/"))
    ok = 0 < len(res) <= want
else:
    want = sum(st.get("sync", {}).values()) + sum(st.get("sync_buckets", {}).values())
    ok = len(res) == want and all(r["method"] == "event" for r in res)
if not ok:
    print("resync lines %d, simulator resyncs %d" % (len(res), want), file=sys.stderr)
    sys.exit(1)
PY
}
wait_until 20 count_ok
run_stop

# A fatal start-up error with log_file set: on stderr as well as in the file.
W2=$JIBE_TMP/bad
run_cfg "$W2"
sed -i 's/"s3cret"/"wrong-password"/' "$W2/jibe-config.json"
rc=0
"$JIBE" run -c "$W2/jibe.cfg" >"$W2/out" 2>"$W2/err" || rc=$?
[ "$rc" -eq 1 ] || fail "jibe run with a wrong password: exit $rc, want 1"
grep -q "cannot sign in" "$W2/jibe.log" || fail "the refusal is not in the log file"
grep -q "cannot sign in" "$W2/err" || fail "the refusal is not on stderr: $(cat "$W2/err")"
sim_stop
echo "ok: JSON log lines, one resync line per resync, mode 0640, SIGUSR1 acknowledged, fatal error on stderr"
