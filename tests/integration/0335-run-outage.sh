#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# alongside: it waits out an outage window; tests/run.sh runs it next to the other tests
# 0335-run-outage.sh - a whole-server outage of Access Anywhere (every call answers HTTP 500,
# error500_rate=1) for JIBE_OUTAGE_S seconds (default 150 s, longer than the 2 minutes after
# which jibe used to give up; .ci/run gives the event variant of the release build the issue's
# 10-minute maintenance window with JIBE_OUTAGE_LONG_S=600) while new CloudTrail files and
# object changes keep coming:
# `jibe run` writes no dead letter at all, reports the outage (WARN) and its end (INFO), and
# once the server heals the index converges to the S3 truth. Prints the figures: outage
# length, backlog at the end of the outage, time to converge after healing.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
OUTAGE_S=${JIBE_OUTAGE_S:-150}
[ "${JIBE_SYNC_VARIANT:-event}" = event ] && [ -n "${JIBE_OUTAGE_LONG_S:-}" ] && OUTAGE_S=$JIBE_OUTAGE_LONG_S
R=$JIBE_TMP/root
W=$JIBE_TMP/run
DEAD=$W/state/dead-letters.jsonl
"$CTGEN" init --root "$R" --seed 7 >/dev/null
"$CTGEN" history --root "$R" --seed 7 --hours 6 >/dev/null
sim_start "$R" --quiet
RUN_INTERVAL=2 run_cfg "$W"
run_start "$W"
wait_converged 180
files0=$(wc -l <"$R/ctgen/files.txt")

no_dead_letter() {
	[ ! -s "$DEAD" ] || { run_log; head -c 2000 "$DEAD" >&2; fail "dead letters during the outage"; }
}

# Live changes, then the outage begins while they are being read and resynced: first the
# resync calls fail (sync_fault=e500, so that jibe holds events when the whole server goes
# down), then, once a resync met that fault, every call (error500_rate=1).
"$CTGEN" flood --root "$R" --seed 8 --files 20 >/dev/null
n_files=20
sim_post /sim/faults sync_fault=e500 >/dev/null
t0=$(date +%s)
wait_until 120 sh -c "curl -sS '$SIM_URL/sim/stats' | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"sync_faults_injected\"] > 0 else 1)'"
sim_post /sim/faults error500_rate=1 >/dev/null
echo "outage begins: resyncs fail, after $(( $(date +%s) - t0 )) s every call (HTTP 500), for $OUTAGE_S s in all"

# Changes keep being made during the outage: a flood at a third and at two thirds of it.
# Between them, the test only watches (jibe alive, no dead letter) until the next step is due.
step=1
seed=9
while :; do
	now=$(date +%s)
	[ "$now" -ge $((t0 + OUTAGE_S)) ] && break
	if [ "$step" -le 2 ] && [ "$now" -ge $((t0 + step * OUTAGE_S / 3)) ]; then
		"$CTGEN" flood --root "$R" --seed "$seed" --files 20 >/dev/null
		n_files=$((n_files + 20))
		step=$((step + 1))
		seed=$((seed + 1))
	fi
	converged >/dev/null 2>&1 && fail "the index converged although Access Anywhere is down"
	no_dead_letter
	sleep 1
done
t1=$(date +%s)
no_dead_letter
# the first WARN comes 30 s into the outage
[ "$OUTAGE_S" -lt 40 ] || grep -q "WARN  syncer: no resync has succeeded for" "$W/jibe.log" ||
	{ grep -E "syncer|progress:" "$W/jibe.log" | grep -v "scan failed" | tail -n 40 | cut -c1-400 >&2; run_log; fail "no WARN about the outage"; }
# The backlog as jibe last reported it (its progress line, once a minute), and what the
# generator wrote since the outage began (nothing of it can be read while every call fails).
last=$(grep "progress:" "$W/jibe.log" | tail -n 1)
held=$(printf '%s\n' "$last" | sed -n 's/.* held_events=\([0-9]*\).*/\1/p')
qev=$(printf '%s\n' "$last" | sed -n 's/.* queued_events=\([0-9]*\).*/\1/p')
qfiles=$(printf '%s\n' "$last" | sed -n 's/.* queued_files=\([0-9]*\).*/\1/p')
files1=$(wc -l <"$R/ctgen/files.txt")
sim_post /sim/faults clear=1 >/dev/null
t2=$(date +%s)
echo "server healed after an outage of $((t2 - t0)) s"
wait_converged 300
t3=$(date +%s)
no_dead_letter
[ "$OUTAGE_S" -lt 40 ] || wait_until 30 grep -q "INFO  syncer: resyncs work again after an outage of" "$W/jibe.log"
sim_get /sim/stats | json_check 'j["http_errors_injected"] > 50' "the outage was not exercised"
run_stop
no_dead_letter
grep -E "WARN  syncer: no resync|INFO  syncer: resyncs work again" "$W/jibe.log" | cut -c1-400 || true
echo "figures: outage ${OUTAGE_S} s (watched $((t1 - t0)) s); backlog at its end: $n_files new log files" \
	"waiting in S3 (generator: $((files1 - files0)) written since the history), jibe's last report:" \
	"held_events=${held:-?} queued_events=${qev:-?} queued_files=${qfiles:-?};" \
	"converged $((t3 - t2)) s after healing; dead letters 0"
sim_stop
echo "ok: a ${OUTAGE_S}-second outage lost nothing and made no dead letter"
