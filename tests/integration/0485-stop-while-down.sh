#!/bin/sh
# 0485-stop-while-down.sh - SIGTERM ends every process within its grace period (15 s, sig.h)
# whatever the broker or the server does: `jibe scan`, `jibe parse` and `jibe sync` started
# with the broker down (nothing listens on its port); `jibe run` while Access Anywhere hangs
# (fault latency_ms far beyond any timeout) with calls in flight; `jibe sync` whose sign-in
# hangs at start. Each exits 0 with a log line saying it stopped.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
GRACE=15
R=$JIBE_TMP/root
"$CTGEN" init --root "$R" --seed 48 >/dev/null
sim_start "$R" --quiet
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
KAFKA_DOWN="kafka = { brokers = \"127.0.0.1:$PORT\"; topic_prefix = \"jibe.\"; };"

# stop_within NAME PID LOG: SIGTERM, then the process must be gone within $GRACE s, exit 0,
# and its log must say it stopped
stop_within() {
	sw_start=$(date +%s.%N)
	kill -TERM "$2"
	sw_end=$(( $(date +%s) + GRACE ))
	while kill -0 "$2" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$sw_end" ]; then
			kill -KILL "$2" 2>/dev/null || true
			tail -n 15 "$3" >&2
			fail "$1 did not stop within $GRACE s of SIGTERM"
		fi
		sleep 0.1
	done
	sw_rc=0
	wait "$2" || sw_rc=$?
	echo "$1: stopped $(python3 -c "import sys; print(round($(date +%s.%N) - $sw_start, 1))") s after SIGTERM, exit $sw_rc"
	[ "$sw_rc" -eq 0 ] || { tail -n 15 "$3" >&2; fail "$1 exited $sw_rc after SIGTERM"; }
	grep -q ' INFO  [a-z]*: stop' "$3" || { tail -n 15 "$3" >&2; fail "$1 did not log that it stopped"; }
}

# the broker is down: each Kafka-mode stage
for c in scan parse sync; do
	D=$JIBE_TMP/down-$c
	run_cfg "$D" "$KAFKA_DOWN"
	"$JIBE" $c -c "$D/jibe.cfg" >"$D/out" 2>&1 &
	pid=$!
	on_exit "kill -KILL $pid 2>/dev/null || true"
	case $c in
	scan) wait_until 30 grep -qs 'waiting for the status topic' "$D/jibe.log" ;;
	*) wait_until 30 grep -qs 'running on Kafka' "$D/jibe.log" ;;
	esac
	stop_within "jibe $c (broker down)" "$pid" "$D/jibe.log"
done

# jibe run while Access Anywhere hangs with calls in flight
W=$JIBE_TMP/run
RUN_INTERVAL=1 run_cfg "$W"
run_start "$W"
wait_converged 60
sim_post /sim/faults latency_ms=3600000 >/dev/null
kill -USR1 "$RUN_PID"
n0=$(curl -s "$SIM_URL/sim/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["calls"].values()))')
sleep 2 # the scanner runs every second: at least one call is now held by the server
n1=$(curl -s "$SIM_URL/sim/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["calls"].values()))')
[ "$n1" -eq "$n0" ] || fail "the server still answers ($n0 -> $n1 calls): the latency fault did not take"
stop_within "jibe run (server hanging)" "$RUN_PID" "$W/jibe.log"
RUN_PID=

# a stage whose sign-in hangs at start (the broker down as well)
D=$JIBE_TMP/hang-sync
run_cfg "$D" "$KAFKA_DOWN"
"$JIBE" sync -c "$D/jibe.cfg" >"$D/out" 2>&1 &
pid=$!
on_exit "kill -KILL $pid 2>/dev/null || true"
wait_until 30 grep -qs 'starting' "$D/jibe.log"
sleep 1 # its sign-in request is held by the server
stop_within "jibe sync (sign-in hanging)" "$pid" "$D/jibe.log"

sim_post /sim/faults latency_ms=0 >/dev/null
sim_stop
echo "ok: every process stopped within $GRACE s of SIGTERM"
