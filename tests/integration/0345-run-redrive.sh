#!/bin/sh
# 0345-run-redrive.sh - the embedded mode's dead letters: a damaged log file (quarantined by the
# parser) and a resync Access Anywhere refuses for good (fault sync_refuse_prefix) are listed
# with their log file / object and reason; once the causes are fixed, `jibe redrive --execute`
# puts both back through the running `jibe run`, the index converges, the listing shows them
# redriven, a second --execute does nothing and the dead-letter file keeps its records as
# they were. A request left while jibe run is down is taken at its next start. --discard
# puts an entry aside with its reason.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
S=$W/state
"$CTGEN" init --root "$R" --seed 45 >/dev/null
sim_start "$R" --quiet
sim_post /sim/faults sync_refuse_prefix=refused/ >/dev/null
RUN_INTERVAL=1 run_cfg "$W"
run_start "$W"
wait_converged 60

DAY=$(date -u +%Y/%m/%d)
F="$R/truth/ct-logs/AWSLogs/111122223333/CloudTrail/us-east-1/$DAY"
mkdir -p "$F" "$R/truth/prod-data/redrive" "$R/truth/prod-data/refused" "$R/truth/prod-data/gone"
echo "fixed later" >"$R/truth/prod-data/redrive/late.txt"
echo "refused first" >"$R/truth/prod-data/refused/obj.txt"
echo "never synced" >"$R/truth/prod-data/gone/x.txt"
# put_log NAME KEY [damaged]: a CloudTrail file with one PutObject of prod-data/KEY; damaged:
# its gzip header is broken (same size), the good bytes are kept in $JIBE_TMP/good-NAME
# (outside the log bucket: jibe would read them)
put_log() {
	python3 - "$F" "$1" "$2" "${3:-}" "$JIBE_TMP" <<'PY'
import gzip, json, os, sys, time
folder, name, key, damaged, aside = sys.argv[1:6]
rec = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
       "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "awsRegion": "us-east-1",
       "eventID": "redrive-" + name[-20:], "recipientAccountId": "111122223333",
       "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIAOTHER"},
       "requestParameters": {"bucketName": "prod-data", "key": key}}
good = gzip.compress(json.dumps({"Records": [rec]}).encode())
data = good
if damaged:
    open(os.path.join(aside, "good-" + name), "wb").write(good)
    data = b"\0" + good[1:]
open(os.path.join(folder, ".tmp-" + name), "wb").write(data)
os.rename(os.path.join(folder, ".tmp-" + name), os.path.join(folder, name))
PY
}
STAMP=$(date -u +%Y%m%dT%H%MZ)
BAD="111122223333_CloudTrail_us-east-1_${STAMP}_REDRIVE000000001.json.gz"
put_log "$BAD" redrive/late.txt damaged
put_log "111122223333_CloudTrail_us-east-1_${STAMP}_REFUSED000000001.json.gz" refused/obj.txt

lines() { [ -f "$S/dead-letters.jsonl" ] && wc -l <"$S/dead-letters.jsonl" || echo 0; }
wait_until 60 sh -c "[ \$(cat '$S/dead-letters.jsonl' 2>/dev/null | wc -l) -ge 2 ]"
[ "$(lines)" -eq 2 ] || fail "expected 2 dead letters, the file has $(lines)"
sim_get "/sim/diff?exclude=ct-logs" | json_check 'j["n_missing"] == 3' "the dead letters' objects (and gone/x.txt) cannot be synced yet"

# the listing: one line each, log file and object decoded, a count
"$JIBE" redrive -c "$W/jibe.cfg" >"$JIBE_TMP/list1" 2>&1 || { cat "$JIBE_TMP/list1"; fail "redrive (list)"; }
cat "$JIBE_TMP/list1"
grep -q '\[open\] .* parse .*log file: S3 Prod/ct-logs/AWSLogs/.*REDRIVE000000001.json.gz: ' "$JIBE_TMP/list1" || fail "the quarantined log file is not listed"
grep -q '\[open\] .* sync .*event: put 101/prod-data/refused/obj.txt: ' "$JIBE_TMP/list1" || fail "the refused event is not listed"
grep -q '^2 dead letter(s) of 2 .*: 2 open' "$JIBE_TMP/list1" || fail "no count of 2 open dead letters"
# filters
"$JIBE" redrive -c "$W/jibe.cfg" --stage parser | grep -q '^1 dead letter(s) of 2' || fail "--stage parser"
"$JIBE" redrive -c "$W/jibe.cfg" --stage syncer | grep -q 'refused/obj.txt' || fail "--stage syncer"
"$JIBE" redrive -c "$W/jibe.cfg" --reason GZIP | grep -q '^1 dead letter(s)' || fail "--reason (any case)"
"$JIBE" redrive -c "$W/jibe.cfg" --since 1h | grep -q '^2 dead letter(s)' || fail "--since 1h"
"$JIBE" redrive -c "$W/jibe.cfg" --until 10m | grep -q '^0 dead letter(s)' || fail "--until 10m"
"$JIBE" redrive -c "$W/jibe.cfg" --since 2000-01-01T00:00:00Z --until 2999-01-01T00:00:00Z | grep -q '^2 dead letter(s)' || fail "ISO-8601 --since/--until"
if "$JIBE" redrive -c "$W/jibe.cfg" --since yesterday >/dev/null 2>&1; then fail "a bad --since was accepted"; fi

# fix the causes, then redrive both through the running jibe run
mv "$JIBE_TMP/good-$BAD" "$F/$BAD"
sim_post /sim/faults sync_refuse_prefix= >/dev/null
"$JIBE" redrive -c "$W/jibe.cfg" --execute >"$JIBE_TMP/exec1" 2>&1 || { cat "$JIBE_TMP/exec1"; fail "redrive --execute"; }
cat "$JIBE_TMP/exec1"
grep -q 'redrive requested: 1 log file(s) and 1 event(s)' "$JIBE_TMP/exec1" || fail "redrive did not request both"
grep -q 'the running jibe run puts them back' "$JIBE_TMP/exec1" || fail "redrive did not see jibe run running"
wait_until 60 sh -c "'$JIBE' redrive -c '$W/jibe.cfg' --all | grep -q 'dead letter(s) of 2 .*: 0 open, 0 requested, 2 redriven'"
sim_get "/sim/diff?exclude=ct-logs" | json_check 'j["missing"] == ["prod-data/gone/x.txt"]' "the redriven dead letters' objects are not synced"
sim_get /sim/stats | json_check 'j["downloads"].get("ct-logs/AWSLogs/111122223333/CloudTrail/us-east-1/'"$DAY/$BAD"'", 0) == 2' "the redriven log file was not read again (once)"
wait_until 20 sh -c "[ -z \"\$(ls '$S/redrive' 2>/dev/null)\" ]"
"$JIBE" redrive -c "$W/jibe.cfg" | grep -q '^0 dead letter(s) of 2' || fail "redriven entries are still listed without --all"
"$JIBE" redrive -c "$W/jibe.cfg" --execute >"$JIBE_TMP/exec2" 2>&1 || fail "second redrive --execute"
grep -q 'redrive requested: 0 log file(s) and 0 event(s)' "$JIBE_TMP/exec2" || { cat "$JIBE_TMP/exec2"; fail "a second --execute redrove again"; }
[ -z "$(ls "$S/redrive" 2>/dev/null)" ] || fail "a second --execute left a request"
[ "$(lines)" -eq 2 ] || fail "the dead-letter file changed: $(lines) lines"
grep -q 'dead letter #0 redriven' "$W/jibe.log" || fail "jibe run did not log the redrive"

# a request left while jibe run is down is taken at its next start; --discard
sim_post /sim/faults sync_refuse_prefix=gone/ >/dev/null
put_log "111122223333_CloudTrail_us-east-1_${STAMP}_GONE00000000001.json.gz" gone/x.txt
wait_until 60 sh -c "[ \$(cat '$S/dead-letters.jsonl' | wc -l) -ge 3 ]"
run_stop
sim_post /sim/faults sync_refuse_prefix= >/dev/null
"$JIBE" redrive -c "$W/jibe.cfg" --execute --stage syncer >"$JIBE_TMP/exec3" 2>&1 || { cat "$JIBE_TMP/exec3"; fail "redrive --execute while jibe run is down"; }
grep -q 'redrive requested: 0 log file(s) and 1 event(s)' "$JIBE_TMP/exec3" || { cat "$JIBE_TMP/exec3"; fail "the third dead letter was not requested"; }
grep -q 'jibe run is not running; it puts them back when it starts' "$JIBE_TMP/exec3" || fail "redrive did not say jibe run is down"
"$JIBE" redrive -c "$W/jibe.cfg" | grep -q '\[requested\] .*gone/x.txt' || fail "the pending request is not listed"
run_start "$W"
wait_converged 60
wait_until 30 sh -c "'$JIBE' redrive -c '$W/jibe.cfg' --all | grep -q ': 0 open, 0 requested, 3 redriven'"

# --discard: a fourth dead letter put aside for good, with its reason
sim_post /sim/faults sync_refuse_prefix=gone/ >/dev/null
echo "changed again" >"$R/truth/prod-data/gone/x.txt"
touch -d '2020-01-01' "$R/truth/prod-data/gone/x.txt"
put_log "111122223333_CloudTrail_us-east-1_${STAMP}_GONE00000000002.json.gz" gone/x.txt
wait_until 60 sh -c "[ \$(cat '$S/dead-letters.jsonl' | wc -l) -ge 4 ]"
"$JIBE" redrive -c "$W/jibe.cfg" --discard "bucket is being retired" >"$JIBE_TMP/disc" 2>&1 || { cat "$JIBE_TMP/disc"; fail "redrive --discard"; }
grep -q '^discarded: 1' "$JIBE_TMP/disc" || { cat "$JIBE_TMP/disc"; fail "--discard did not discard one entry"; }
"$JIBE" redrive -c "$W/jibe.cfg" | grep -q '^0 dead letter(s) of 4' || fail "a discarded entry is still listed without --all"
"$JIBE" redrive -c "$W/jibe.cfg" --all | grep -q '\[discarded .*(bucket is being retired)\] .*gone/x.txt' || fail "--all does not show the discard and its reason"
"$JIBE" redrive -c "$W/jibe.cfg" --execute | grep -q 'redrive requested: 0 log file(s) and 0 event(s)' || fail "a discarded entry was redriven"
[ "$(lines)" -eq 4 ] || fail "the dead-letter file changed: $(lines) lines"
# the done-list is a versioned format: every line says "v":1; a line of another version is
# not read (an entry settled only by such a line is open again)
python3 - "$S/dead-letters.done.jsonl" <<'PY' || fail "a done-list line without \"v\":1"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert lines and all(l.get("v") == 1 for l in lines), lines
PY
sed 's/"v":1,/"v":2,/' "$S/dead-letters.done.jsonl" >"$JIBE_TMP/done.v2"
cp "$S/dead-letters.done.jsonl" "$JIBE_TMP/done.v1"
cp "$JIBE_TMP/done.v2" "$S/dead-letters.done.jsonl"
"$JIBE" redrive -c "$W/jibe.cfg" | grep -q '^4 dead letter(s) of 4' || fail "done-list lines of another version were read"
cp "$JIBE_TMP/done.v1" "$S/dead-letters.done.jsonl"
run_stop
sim_stop
echo "ok: quarantined file and refused event redriven once, a request taken at start, a discard kept"
