#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0310-run-kill9.sh - kill -9 of `jibe run` at random points over several runs, with new
# changes arriving in between: after a final restart everything converges (nothing lost).
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 11 >/dev/null
"$CTGEN" history --root "$R" --seed 11 --hours 4 >/dev/null
sim_start "$R" --quiet
# Every call takes 20 ms more, so the work is spread out and the kills land mid-stream.
sim_post /sim/faults latency_ms=20 >/dev/null
RUN_INTERVAL=1 run_cfg "$W"
i=0
# Deterministic "random" kill points (ms) so a failure can be replayed.
for ms in 300 1700 900 2600 150 1200; do
	i=$((i + 1))
	run_start "$W"
	python3 -c "import time; time.sleep($ms / 1000)"
	run_kill9
	if [ $i -eq 3 ]; then
		"$CTGEN" flood --root "$R" --seed 12 --files 40 >/dev/null
	fi
done
run_start "$W"
wait_converged 240
run_stop
sim_stop
echo "ok: converged after $i kill -9"
