#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0440-kafka-scale-kill.sh - two parsers and two syncers share the work through their
# consumer groups; one of each is killed (-9) mid-stream: the survivors take over the
# partitions and everything converges.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
# short session timeout: a killed static member's partitions move within seconds
STAGES_RDKAFKA='"session.timeout.ms=6000", "heartbeat.interval.ms=1000"' stages_deploy 44 6 'parser = { workers = 1; };'
# slow every call down so the kills land while work is spread over both members
sim_post /sim/faults latency_ms=15 >/dev/null
stage_start s1 scan "$W"
stage_start p1 parse "$W" --instance-id host1
stage_start p2 parse "$W" --instance-id host2
stage_start y1 sync "$W" --instance-id host1
stage_start y2 sync "$W" --instance-id host2
# both parsers got work before the kill
wait_until 60 stages_downloads_over 20
stage_kill9 p1
stage_kill9 y1
"$CTGEN" flood --root "$R" --seed 45 --files 100 >/dev/null
stages_wait_converged 240
kafka_group_describe jibe.parse | grep -q . || fail "no parse group"
stage_stop s1
stage_stop p2
stage_stop y2
sim_stop
echo "ok: survivors took over and converged"
