#!/bin/sh
# 0460-kafka-broker-restart.sh - the broker restarts mid-stream: the stages ride it out
# (librdkafka reconnects, nothing is acknowledged before it is durable) and converge.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
RUN_INTERVAL=1 stages_deploy 48 4
sim_post /sim/faults latency_ms=15 >/dev/null
stage_start s1 scan "$W"
stage_start p1 parse "$W"
stage_start y1 sync "$W"
wait_until 60 stages_downloads_over 10
kafka_restart
"$CTGEN" flood --root "$R" --seed 49 --files 40 >/dev/null
stages_wait_converged 240
stage_stop s1
stage_stop p1
stage_stop y1
sim_stop
echo "ok: converged across a broker restart"
