#!/bin/sh
# both syncer methods: tests/run.sh runs it again against a server without syncOnProviderEvent
# 0325-run-hostile-downloads.sh - for a stretch every getFile answer is not the file (a 200
# HTML page, a 301, a 404 JSON body, half the file with a lying or missing Content-Length,
# the file padded past its listed size); then the server heals. `jibe run` must take these
# as fetch errors, retry, and converge with no log file quarantined.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
HOSTILE_S=${HOSTILE_S:-25}
"$CTGEN" init --root "$R" --seed 25 >/dev/null
"$CTGEN" history --root "$R" --seed 25 --hours 3 >/dev/null
sim_start "$R" --quiet
sim_post /sim/faults download_hostile=html,redirect,json404,short,size \
	download_hostile_rate=1 seed=7 >/dev/null
RUN_INTERVAL=2 run_cfg "$W"
t0=$(date +%s)
run_start "$W"

# every kind was served a few times (both forms of "short"), and the stretch lasted
hostile_seen() {
	sim_get /sim/stats | python3 -c 'import json,sys
h = json.load(sys.stdin)["download_hostile"]
sys.exit(0 if min(h.values()) >= 4 else 1)'
}
wait_until 120 hostile_seen
while [ $(( $(date +%s) - t0 )) -lt "$HOSTILE_S" ]; do
	converged && fail "converged while every download was hostile"
	sleep 0.5
done
sim_get /sim/stats >"$JIBE_TMP/stats-hostile"
sim_post /sim/faults download_hostile_rate=0 >/dev/null
t_heal=$(date +%s)
wait_converged 180
echo "converged $(( $(date +%s) - t_heal )) s after healing; hostile answers:" \
	"$(json_get 'j["download_hostile"]' <"$JIBE_TMP/stats-hostile")"

json_check 'j["download_hostile_injected"] >= 20' "hostile answers were not exercised" \
	<"$JIBE_TMP/stats-hostile"
dead=$W/state/dead-letters.jsonl
if [ -s "$dead" ]; then
	head -c 2000 "$dead" >&2
	fail "log files were dead-lettered: $(grep -c . "$dead") line(s)"
fi
if grep -q " quarantined: " "$W/jibe.log"; then
	grep " quarantined: " "$W/jibe.log" | head -5 >&2
	fail "log files were quarantined"
fi
grep -q "could not be fetched" "$W/jibe.log" || { run_log; fail "no fetch error was logged"; }
grep -q "(after failed fetches)" "$W/jibe.log" || { run_log; fail "no file was read after failed fetches"; }
run_stop
sim_stop
echo "ok: hostile getFile answers were retried, nothing quarantined, converged"
