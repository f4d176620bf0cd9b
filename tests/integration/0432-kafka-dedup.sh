#!/bin/sh
# 0432-kafka-dedup.sh - the distributed mode asks Access Anywhere for no more resyncs than the
# embedded mode on the same load: a generated history (object writes, deletes and
# DeleteObjects in the same buckets) goes once through `jibe run` and once through jibe scan,
# parse and two syncers over 6 partitions; the Kafka run's resync calls (counted by the
# simulator) are at most 1.1 x the embedded run's + 2. Keying events by provider/bucket is what
# makes a bucket resync absorb its bucket's object events there too (msg.h).
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"

SEED=43
HOURS=3
# One dedup window takes the whole history in both modes (every event of a bucket meets the
# others there), so the counts depend on the keying, not on timing.
WIDE='s/window_ms = 500;/window_ms = 4000; batch_max = 100000;/'
RUN_INTERVAL=1
export RUN_INTERVAL

# resync calls of the object buckets (event method: object and bucket resyncs; refresh:
# folder refreshes, the log bucket's excluded)
resyncs() {
	sim_get /sim/stats | python3 -c '
import json, sys
st = json.load(sys.stdin)
print(sum(st.get("sync", {}).values()) + sum(st.get("sync_buckets", {}).values())
      + sum(v for k, v in st.get("refreshes", {}).items() if not k.startswith("ct-logs/")))'
}

# 1. embedded
RE=$JIBE_TMP/root-emb
"$CTGEN" init --root "$RE" --seed $SEED >/dev/null
"$CTGEN" history --root "$RE" --seed $SEED --hours $HOURS >/dev/null
sim_start "$RE" --quiet
base=$(resyncs)
run_cfg "$JIBE_TMP/emb"
sed -i "$WIDE" "$JIBE_TMP/emb/jibe.cfg"
run_start "$JIBE_TMP/emb"
wait_converged 60
run_stop # drains: every event consumed is resynced
emb=$(($(resyncs) - base))
sim_stop

# 2. Kafka: one scanner, one parser, two syncers sharing 6 partitions
R=$JIBE_TMP/root-kafka
W=$JIBE_TMP/w
"$CTGEN" init --root "$R" --seed $SEED >/dev/null
"$CTGEN" history --root "$R" --seed $SEED --hours $HOURS >/dev/null
sim_start "$R" --quiet
kafka_start
stages_cfg "$W"
sed -i -e "$WIDE" -e 's/partitions = 3;/partitions = 6;/' "$W/jibe.cfg"
stages_topics "$W"
base=$(resyncs)
stage_start y1 sync "$W"
stage_start y2 sync "$W"
# both syncers hold their partitions before the first event (no rebalance in the middle)
wait_until 60 grep -q "group_event=assign" "$W/y2.log"
stage_start p1 parse "$W"
stage_start s1 scan "$W"
stages_wait_converged 90
wait_lag0 jibe.sync 60 # every event resynced and committed
kafka=$(($(resyncs) - base))
stage_stop s1
stage_stop p1
stage_stop y1
stage_stop y2
sim_stop

limit=$((emb * 11 / 10 + 2))
echo "resync calls: embedded $emb, kafka $kafka (limit $limit)"
[ "$emb" -gt 0 ] || fail "the embedded run made no resync call"
[ "$kafka" -le "$limit" ] || fail "the Kafka run made $kafka resync calls, embedded $emb on the same load (limit $limit)"
echo "ok: Kafka mode resyncs no more than the embedded mode"
