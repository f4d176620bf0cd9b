#!/bin/sh
# 0480-kafka-poison.sh - messages no stage can understand (not JSON, wrong schema version)
# land in the dead-letter topic with their context, the pipeline goes on and converges;
# `jibe redrive` lists the dead letters and puts back those it can.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
RUN_INTERVAL=1 stages_deploy 52 3
printf 'k1\tthis is not json\nk2\t{"v":99,"type":"logfile"}\n' | kafka_produce jibe.files
printf 'k3\t{"v":1,"type":"objevent","provider":"101"}\nk4\t\001\002binary\n' | kafka_produce jibe.events
stage_start s1 scan "$W"
stage_start p1 parse "$W"
stage_start y1 sync "$W"
stages_wait_converged 180
kafka_consume jibe.dead >"$JIBE_TMP/dead"
[ "$(grep -c '"stage":"parse"' "$JIBE_TMP/dead")" -ge 2 ] || { cat "$JIBE_TMP/dead"; fail "poison log-file messages not dead-lettered"; }
[ "$(grep -c '"stage":"sync"' "$JIBE_TMP/dead")" -ge 2 ] || { cat "$JIBE_TMP/dead"; fail "poison events not dead-lettered"; }
grep -q '"error":"' "$JIBE_TMP/dead" || fail "dead letters carry no error"
wait_lag0 jibe.parse 20
wait_lag0 jibe.sync 20
"$JIBE" redrive -c "$W/jibe.cfg" >"$JIBE_TMP/redrive" 2>&1 || { cat "$JIBE_TMP/redrive"; fail "redrive (dry run)"; }
grep -q "not usable" "$JIBE_TMP/redrive" || { cat "$JIBE_TMP/redrive"; fail "redrive said nothing"; }

# A damaged log file is quarantined; once the administrator puts the right file in place,
# `jibe redrive --execute` sends it through again and its change is synced.
DAY=$(date -u +%Y/%m/%d)
F="$R/truth/ct-logs/AWSLogs/111122223333/CloudTrail/us-east-1/$DAY"
NAME="111122223333_CloudTrail_us-east-1_$(date -u +%Y%m%dT%H%MZ)_REDRIVE000000001.json.gz"
mkdir -p "$F" "$R/truth/prod-data/redrive"
echo "fixed later" >"$R/truth/prod-data/redrive/late.txt"
python3 - "$F" "$NAME" <<'PY'
import gzip, json, os, sys, time
folder, name = sys.argv[1], sys.argv[2]
rec = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
       "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "awsRegion": "us-east-1",
       "eventID": "redrive-1", "recipientAccountId": "111122223333",
       "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIAOTHER"},
       "requestParameters": {"bucketName": "prod-data", "key": "redrive/late.txt"}}
good = gzip.compress(json.dumps({"Records": [rec]}).encode())
open(os.path.join(folder, ".tmp-good"), "wb").write(good)          # kept aside for the fix
open(os.path.join(folder, ".tmp-" + name), "wb").write(good[: len(good) // 2])  # truncated
os.rename(os.path.join(folder, ".tmp-" + name), os.path.join(folder, name))
PY
wait_until 60 sh -c "kcat -b '$KAFKA_BOOTSTRAP' -C -t jibe.dead -e -q 2>/dev/null | grep -q REDRIVE000000001"
sim_get "/sim/diff?exclude=ct-logs" | json_check 'not j["equal"]' "the quarantined file's change cannot be synced yet"
mv "$F/.tmp-good" "$F/$NAME"
"$JIBE" redrive -c "$W/jibe.cfg" --execute >"$JIBE_TMP/redrive2" 2>&1 || { cat "$JIBE_TMP/redrive2"; fail "redrive --execute"; }
grep -q "redrive log file: .*REDRIVE000000001" "$JIBE_TMP/redrive2" || { cat "$JIBE_TMP/redrive2"; fail "the quarantined file was not redriven"; }
stages_wait_converged 60
# a second redrive finds nothing new
"$JIBE" redrive -c "$W/jibe.cfg" --execute >"$JIBE_TMP/redrive3" 2>&1 || fail "second redrive"
grep -q "redriven: 0 log file(s) and 0 event(s)" "$JIBE_TMP/redrive3" || { cat "$JIBE_TMP/redrive3"; fail "dead letters redriven twice"; }
stage_stop s1
stage_stop p1
stage_stop y1
sim_stop
echo "ok: poison messages dead-lettered, pipeline went on"
