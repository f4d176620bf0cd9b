#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0320-run-faults.sh - the simulator fails 20 % of calls with HTTP 500 and session tokens
# last 30 s: `jibe run` still converges (retries, re-login), and it did meet the faults.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 21 >/dev/null
"$CTGEN" history --root "$R" --seed 21 --hours 3 >/dev/null
sim_start "$R" --quiet
sim_post /sim/faults error500_rate=0.2 token_lifetime_s=30 seed=5 >/dev/null
RUN_INTERVAL=2 run_cfg "$W"
run_start "$W"
wait_converged 300
sim_get /sim/stats | json_check 'j["http_errors_injected"] > 20' "faults were not exercised"
run_stop
sim_stop
echo "ok: converged under faults"
