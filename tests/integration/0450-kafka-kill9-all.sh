#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0450-kafka-kill9-all.sh - kill -9 of every stage at (deterministic) random points over
# several runs while changes keep arriving; after a final restart everything converges and
# nothing is lost.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
RUN_INTERVAL=1 stages_deploy 46 4
sim_post /sim/faults latency_ms=15 >/dev/null
n=0
for ms in 1500 600 2500 900; do
	n=$((n + 1))
	stage_start s1 scan "$W" --instance-id h
	stage_start p1 parse "$W" --instance-id h
	stage_start y1 sync "$W" --instance-id h
	python3 -c "import time; time.sleep($ms / 1000)"
	stage_kill9 p1
	python3 -c "import time; time.sleep(0.2)"
	stage_kill9 s1
	stage_kill9 y1
	[ $n -eq 2 ] && "$CTGEN" flood --root "$R" --seed 47 --files 40 >/dev/null
done
stage_start s1 scan "$W" --instance-id h
stage_start p1 parse "$W" --instance-id h
stage_start y1 sync "$W" --instance-id h
stages_wait_converged 240
stage_stop s1
stage_stop p1
stage_stop y1
sim_stop
echo "ok: converged after $n rounds of kill -9"
