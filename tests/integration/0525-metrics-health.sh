#!/bin/sh
# 0525-metrics-health.sh - the health endpoints of `jibe run` and its start-up errors:
# /readyz is 503 before jibe could sign in (every call of the server fails) and 200 once it
# did; 503 again once Access Anywhere has failed for 3 scan intervals, 200 when it is back;
# /healthz stays 200 meanwhile and turns 503 once a stage stopped on a fatal error (the
# syncer, told to use syncOnProviderEvent on a server that does not know it), and the process
# exits non-zero. An unparseable metrics.listen, or an address already in use, stops jibe at
# start with a clear message and exit code 1.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_metrics.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 21 >/dev/null
"$CTGEN" history --root "$R" --seed 21 --hours 1 >/dev/null
sim_start "$R" --quiet

# Start-up errors.
start_fails() { # listen, what the log must say
	RUN_INTERVAL=1 run_cfg "$W" "metrics = { listen = \"$1\"; };"
	: >"$W/jibe.log"
	sf_rc=0
	timeout 20 "$JIBE" run -c "$W/jibe.cfg" >>"$W/jibe.out" 2>&1 || sf_rc=$?
	[ "$sf_rc" -eq 1 ] || { run_log; fail "metrics.listen=$1: exit $sf_rc, expected 1"; }
	grep -q "$2" "$W/jibe.log" || { run_log; fail "metrics.listen=$1: the log does not say \"$2\""; }
}
start_fails "localhost" "has no port"
start_fails "127.0.0.1:99999" "the port must be a number"
start_fails "[::1:9464" "IPv6"
BUSY=$(metrics_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("held", flush=True); time.sleep(60)' "$BUSY" >"$JIBE_TMP/busy.out" &
BUSY_PID=$!
on_exit 'kill $BUSY_PID 2>/dev/null || true'
wait_until 10 grep -q held "$JIBE_TMP/busy.out"
start_fails "127.0.0.1:$BUSY" "Address already in use"
kill "$BUSY_PID"
grep -c "cannot start" "$W/jibe.log" >/dev/null || fail "no 'cannot start' line"

# Readiness: not before the first sign-in.
sim_post /sim/faults error500_rate=1 >/dev/null
METRICS_PORT=$(metrics_port)
RUN_INTERVAL=1 run_cfg "$W" "$(metrics_cfg "$METRICS_PORT")"
run_start "$W"
ready_is() { [ "$(metrics_code /readyz)" = "$1" ]; }
wait_until 20 ready_is 503
metrics_body /readyz | grep -q "not signed in" || fail "/readyz should say jibe is not signed in: $(metrics_body /readyz)"
[ "$(metrics_code /healthz)" = 200 ] || fail "/healthz should be 200 while Access Anywhere fails"
sim_post /sim/faults clear=1 >/dev/null
wait_until 30 ready_is 200
metrics_body /readyz | grep -qx ready || fail "/readyz 200 should say ready"
wait_converged 60

# Access Anywhere failing for 3 scan intervals (3 s here): not ready; back: ready.
sim_post /sim/faults error500_rate=1 >/dev/null
t0=$(date +%s)
wait_until 30 ready_is 503
t1=$(date +%s)
metrics_body /readyz | grep -q "failing" || fail "/readyz should say Access Anywhere is failing: $(metrics_body /readyz)"
[ $((t1 - t0)) -ge 2 ] || fail "/readyz turned 503 after $((t1 - t0)) s of failures (wanted about 3 intervals)"
[ "$(metrics_code /healthz)" = 200 ] || fail "/healthz should stay 200 during an outage"
sim_post /sim/faults clear=1 >/dev/null
wait_until 30 ready_is 200
run_stop

# A stage that stops on a fatal error: /healthz 503 with the reason, then exit 1.
# (a new state directory, so that the history is read again and needs resyncs)
sim_post /sim/faults sync_event_off=1 >/dev/null
W=$JIBE_TMP/run2
METRICS_PORT=$(metrics_port)
SYNC_METHOD=event RUN_INTERVAL=1 run_cfg "$W" "$(metrics_cfg "$METRICS_PORT")"
run_start "$W"
health_503() {
	kill -0 "$RUN_PID" 2>/dev/null || { run_log; fail "jibe exited before /healthz said 503"; }
	[ "$(metrics_code /healthz)" = 503 ]
}
end=$(( $(date +%s) + 60 ))
until health_503; do
	[ "$(date +%s)" -lt "$end" ] || { run_log; fail "/healthz never said 503 after the syncer failed"; }
	sleep 0.1
done
metrics_body /healthz | grep -q "fatal error" || fail "/healthz 503 should give the reason"
rc=0
wait "$RUN_PID" || rc=$?
RUN_PID=
[ "$rc" -eq 1 ] || fail "jibe run exited $rc after a stage failed, expected 1"
sim_stop
echo "ok: start-up errors, readiness before sign-in and after 3 failing intervals, health after a failure"
