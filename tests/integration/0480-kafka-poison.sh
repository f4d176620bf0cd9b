#!/bin/sh
# 0480-kafka-poison.sh - messages no stage can understand (not JSON, wrong schema version)
# land in the dead-letter topic with their context, the pipeline goes on and converges;
# `jibe redrive` lists the dead letters and puts back those it can.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/w
"$CTGEN" init --root "$R" --seed 52 >/dev/null
"$CTGEN" history --root "$R" --seed 52 --hours 3 >/dev/null
sim_start "$R" --quiet
kafka_start
RUN_INTERVAL=1 stages_cfg "$W"
stages_topics "$W"
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
grep -q "would redrive" "$JIBE_TMP/redrive" || { cat "$JIBE_TMP/redrive"; fail "redrive listed nothing"; }
stage_stop s1
stage_stop p1
stage_stop y1
sim_stop
echo "ok: poison messages dead-lettered, pipeline went on"
