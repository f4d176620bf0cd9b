#!/bin/sh
# 0715-status-verdicts.sh - the verdicts of the provider report follow what happens, and `jibe
# status -c` (no status folder: this instance's state_dir/status.json) is a monitoring check:
# OK (exit 0) after convergence; FAILING (exit 1) while Access Anywhere fails every call, with
# the reason; OK again once it answers and a new log file arrives; LATE (exit 1) once no new
# log file came for status.late_after_min (0.25 min here); OK (exit 0) when a new one arrives.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_status.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 11 >/dev/null
"$CTGEN" history --root "$R" --seed 11 --hours 1 >/dev/null
sim_start "$R" --quiet
run_cfg "$W" 'status = { instance = "solo"; publish_s = 5; late_after_min = 0.25; };
report = { interval_min = 0.05; };'
run_start "$W"
wait_converged 60

# exit code of `jibe status -c` is want (0 or 1)
status_exit() {
	se_rc=0
	"$JIBE" status -c "$W/jibe.cfg" >"$JIBE_TMP/status.out" 2>&1 || se_rc=$?
	[ "$se_rc" -eq "$1" ]
}
V='src(j, "S3 Prod", "ct-logs")["verdict"]'
wait_report 20 "$W" "$V == 'OK' and j['verdict'] == 'OK'"
wait_until 10 status_exit 0

# Access Anywhere fails every call: the scans fail, the source is FAILING.
sim_post /sim/faults error500_rate=1 >/dev/null
wait_report 40 "$W" "$V == 'FAILING' and 'scan' in src(j, 'S3 Prod', 'ct-logs')['reason'] and j['verdict'] == 'FAILING'"
wait_until 10 status_exit 1
grep -q "FAILING" "$JIBE_TMP/status.out" || { cat "$JIBE_TMP/status.out" >&2; fail "jibe status does not say FAILING"; }

# It answers again, and a new log file arrives: OK.
sim_post /sim/faults error500_rate=0 >/dev/null
"$CTGEN" flood --root "$R" --seed 12 --files 2 >/dev/null
kill -USR1 "$RUN_PID"
wait_report 40 "$W" "$V == 'OK'"
wait_until 10 status_exit 0

# No new log file for 15 s: LATE, said with the threshold.
wait_report 40 "$W" "$V == 'LATE' and 'LATE after' in src(j, 'S3 Prod', 'ct-logs')['reason']"
wait_until 10 status_exit 1
grep -q "LATE" "$JIBE_TMP/status.out" || { cat "$JIBE_TMP/status.out" >&2; fail "jibe status does not say LATE"; }

# A new log file: OK again, and the check passes.
"$CTGEN" flood --root "$R" --seed 13 --files 1 >/dev/null
kill -USR1 "$RUN_PID"
wait_report 30 "$W" "$V == 'OK'"
wait_until 10 status_exit 0
run_stop
sim_stop
echo "ok: OK, FAILING and back, LATE and back; jibe status exits 0 or 1 accordingly"
