#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0330-run-flood.sh - a flood of 20,000 tiny CloudTrail files: all processed, none
# downloaded twice, index equals truth.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 31 >/dev/null
sim_start "$R" --quiet
RUN_INTERVAL=2 run_cfg "$W"
run_start "$W"
"$CTGEN" flood --root "$R" --seed 32 --files 20000 >/dev/null
n=$(wc -l <"$R/ctgen/files.txt")
[ "$n" -eq 20000 ] || fail "generator wrote $n files"
wait_until 600 sh -c "curl -sS '$SIM_URL/sim/stats' | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"downloads\"]; sys.exit(0 if sum(1 for k in d if k.startswith(\"ct-logs/\")) >= $n else 1)'"
wait_converged 120
sim_get /sim/stats | json_check 'max(v for k, v in j["downloads"].items() if k.startswith("ct-logs/")) == 1' "a log file was downloaded twice"
run_stop
sim_stop
echo "ok: flood of $n files, each downloaded once"
