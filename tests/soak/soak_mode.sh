#!/bin/sh
# soak_mode.sh MODE - one mode of the kill -9 soak (run by soak.sh, which sets the environment
# tests/run.sh sets and SOAK_KILLS, SOAK_SEED; JIBE_TMP is this mode's scratch directory).
#
# embedded: one `jibe run`. kafka: a broker (lib_kafka.sh), `jibe scan`, two `jibe parse` and
# two `jibe sync` (static members host1/host2). Both against the simulator on a ctgen history
# of SOAK_HISTORY_H hours (default 3; at least 3: the history's full sync starts in its second
# quarter and the flood writes changes of the last hour, which must come after that sync or jibe
# rightly skips them as covered and the round never converges), every call 10 ms slower.
#
# Each round: the load loop starts (jibe-ctgen flood of 2..12 files, every 0.3 s, bounded);
# after a random 0.1..3 s (SOAK_MAX_DELAY_MS) one random jibe process is killed (-9) and
# restarted at once; the load runs 0.5 s more and stops; then the round waits
# (SOAK_CONVERGE_S) until the index equals the truth. Convergence is awaited at the end of every round (K = 1). The kill plan comes from
# SOAK_SEED (python3's random), so the same seed kills the same processes after the same delays.
#
# Duplicates (soak_dups.py): resyncs of an object beyond one per load batch (history or flood)
# that changed it, from /sim/stats. Lost: objects whose index still differs from the truth
# when the last round's deadline has passed. Writes "KILLS CONVERGED DUPLICATES LOST" to
# $JIBE_TMP/summary and prints the summary line.
set -eu
MODE=$1
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
if [ "$MODE" = kafka ]; then
	. "$JIBE_TOP/tests/integration/lib_kafka.sh"
	. "$JIBE_TOP/tests/integration/lib_stages.sh"
fi
KILLS=${SOAK_KILLS:-50}
SEED=${SOAK_SEED:-1}
CONV=${SOAK_CONVERGE_S:-120}
HIST_H=${SOAK_HISTORY_H:-3}
[ "$HIST_H" -ge 3 ] || fail "SOAK_HISTORY_H must be 3 or more (the flood's changes must come after the history's full sync)"
DUPS="python3 $JIBE_TOP/tests/soak/soak_dups.py"
T0=$(date +%s)
gseed=$((SEED % 100000 + 1))
LOAD_PID=
BOUNDS=$JIBE_TMP/bounds

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# the line count of ctgen's expected-events.jsonl after each load batch (soak_dups.py)
mark_batch() { wc -l <"$R/ctgen/expected-events.jsonl" >>"$BOUNDS"; }

# load_start ROUND: flood in the background until $JIBE_TMP/load.stop (at most 40 batches)
load_start() {
	rm -f "$JIBE_TMP/load.stop"
	(
		j=0
		while [ ! -f "$JIBE_TMP/load.stop" ] && [ $j -lt 40 ]; do
			j=$((j + 1))
			"$CTGEN" flood --root "$R" --seed $((gseed * 10000 + $1 * 50 + j)) \
				--files $((($1 * 7 + j * 3) % 11 + 2)) >/dev/null || exit 1
			mark_batch
			sleep 0.3 # pacing of the generator, not a wait for jibe
		done
	) &
	LOAD_PID=$!
}

load_stop() {
	touch "$JIBE_TMP/load.stop"
	wait "$LOAD_PID" || fail "the load generator (jibe-ctgen flood) failed"
	LOAD_PID=
}

# diff_count: how many objects differ between the index and the truth (-1: no answer)
diff_count() {
	dc_n=$(sim_get "/sim/diff?exclude=ct-logs" | python3 -c 'import json,sys
j = json.load(sys.stdin); print(j["n_missing"] + j["n_extra"] + j["n_stale"])' 2>/dev/null) || dc_n=
	echo "${dc_n:--1}"
}

# wait_conv SECS: 0 when converged within SECS (CONV_MS = how long it took)
wait_conv() {
	wc_t0=$(now_ms)
	wc_end=$(($(date +%s) + $1))
	while [ "$(diff_count)" -ne 0 ]; do
		[ "$(date +%s)" -ge "$wc_end" ] && { CONV_MS=$(($(now_ms) - wc_t0)); return 1; }
		sleep 0.2
	done
	CONV_MS=$(($(now_ms) - wc_t0))
	return 0
}

# --- processes: names, start, kill, liveness (embedded: one; kafka: five)
if [ "$MODE" = embedded ]; then
	VICTIMS="run"
	R=$JIBE_TMP/root
	W=$JIBE_TMP/run
	"$CTGEN" init --root "$R" --seed "$gseed" >/dev/null
	"$CTGEN" history --root "$R" --seed "$gseed" --hours "$HIST_H" >/dev/null
	sim_start "$R" --quiet
	RUN_INTERVAL=1 run_cfg "$W"
	proc_start() { run_start "$W"; }
	proc_kill9() { run_kill9; }
	proc_alive() { [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; }
	proc_stop() { run_stop; }
	proc_log() { run_log; }
else
	VICTIMS="s1 p1 p2 y1 y2"
	[ -f "$JIBE_TOP/build/kafka/jars/.stamp" ] || [ -n "${KAFKA_JARS:-}" ] || {
		echo "SKIP: no Kafka jars (make deps fetches them)"
		exit 77
	}
	# short session timeout: the partitions of a member that is down move within seconds
	STAGES_RDKAFKA='"session.timeout.ms=6000", "heartbeat.interval.ms=1000"' RUN_INTERVAL=1 \
		stages_deploy "$gseed" "$HIST_H"
	proc_start() {
		case $1 in
		s1) stage_start s1 scan "$W" --instance-id host1 ;;
		p1) stage_start p1 parse "$W" --instance-id host1 ;;
		p2) stage_start p2 parse "$W" --instance-id host2 ;;
		y1) stage_start y1 sync "$W" --instance-id host1 ;;
		y2) stage_start y2 sync "$W" --instance-id host2 ;;
		esac
	}
	proc_kill9() { stage_kill9 "$1"; }
	proc_alive() { kill -0 "$(stage_pid "$1")" 2>/dev/null; }
	proc_stop() { stage_stop "$1"; }
	proc_log() { stages_log; }
fi
: >"$BOUNDS"
mark_batch
on_exit '[ -z "$LOAD_PID" ] || { touch "$JIBE_TMP/load.stop"; kill "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null; } || true'
# every call 10 ms slower: the work is spread out, so the kills land mid-stream
sim_post /sim/faults latency_ms=10 >/dev/null
for v in $VICTIMS; do proc_start "$v"; done

# a process that exited without being killed is a crash: note it, restart it
CRASHES=0
check_alive() {
	for ca in $VICTIMS; do
		proc_alive "$ca" && continue
		CRASHES=$((CRASHES + 1))
		echo "soak: $MODE: $ca exited on its own (crash $CRASHES); its log:" >&2
		proc_log
		proc_kill9 "$ca"
		proc_start "$ca"
	done
}

wait_conv "$CONV" || fail "$MODE: the first catch-up did not converge in $CONV s"
check_alive
sim_get /sim/stats >"$JIBE_TMP/stats.json"
D0=$($DUPS "$JIBE_TMP/stats.json" "$R/ctgen/expected-events.jsonl" "$BOUNDS")
echo "soak: $MODE: first catch-up converged in $((CONV_MS / 1000)).$((CONV_MS % 1000 / 100)) s, $D0 duplicates"

nv=$(echo $VICTIMS | wc -w)
python3 -c 'import random, sys
r = random.Random(sys.argv[1] + "/" + sys.argv[3])
for i in range(int(sys.argv[2])):
    print(r.randrange(int(sys.argv[4])), r.randint(100, int(sys.argv[5])))' \
	"$SEED" "$KILLS" "$MODE" "$nv" "${SOAK_MAX_DELAY_MS:-3000}" >"$JIBE_TMP/plan"
converged=0
lost=0
dprev=$D0
: >"$JIBE_TMP/conv_ms"
round=0
while read -r vi delay <&3; do
	round=$((round + 1))
	victim=$(echo $VICTIMS | cut -d' ' -f$((vi + 1)))
	load_start "$round"
	sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
	proc_kill9 "$victim"
	proc_start "$victim"
	sleep 0.5 # the load goes on after the restart
	load_stop
	if wait_conv "$CONV"; then
		converged=$((converged + 1))
		echo "$CONV_MS" >>"$JIBE_TMP/conv_ms"
		res="converged in $((CONV_MS / 1000)).$((CONV_MS % 1000 / 100)) s"
	else
		res="NOT converged after $CONV s ($(diff_count) objects differ)"
	fi
	check_alive
	sim_get /sim/stats >"$JIBE_TMP/stats.json"
	d=$($DUPS "$JIBE_TMP/stats.json" "$R/ctgen/expected-events.jsonl" "$BOUNDS")
	echo "soak: $MODE round $round/$KILLS: kill -9 $victim after $delay ms, $res, +$((d - dprev)) duplicates"
	dprev=$d
done 3<"$JIBE_TMP/plan"
lost=$(diff_count)
if [ "$lost" -ne 0 ]; then
	sim_get "/sim/diff?exclude=ct-logs" | head -c 2000 >&2
	echo >&2
fi
stats=$(sort -n "$JIBE_TMP/conv_ms" | awk '{ a[NR] = $1 } END {
	if (NR == 0) { print "none"; exit }
	m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
	printf "median %.1f s, max %.1f s", m / 1000, a[NR] / 1000 }')
echo "soak: $MODE: seed $SEED, time to converge per round: $stats; wall time $(($(date +%s) - T0)) s; $CRASHES processes exited on their own; $((dprev - D0)) of the $dprev duplicates after the first kill"
echo "$KILLS $converged $dprev $lost" >"$JIBE_TMP/summary"
echo "soak: $KILLS kills, $converged rounds converged, $dprev duplicates, $lost lost"
for v in $VICTIMS; do proc_stop "$v"; done
sim_stop
[ "$converged" -eq "$KILLS" ] && [ "$lost" -eq 0 ] && [ "$CRASHES" -eq 0 ]
