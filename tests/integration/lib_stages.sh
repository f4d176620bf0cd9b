# lib_stages.sh - helpers for integration tests of the distributed mode (jibe scan, parse,
# sync over a real Kafka broker). Source after lib.sh, lib_run.sh and lib_kafka.sh.
#
#   stages_cfg DIR [EXTRA]      write DIR/jibe.cfg like run_cfg, plus a kafka group for the
#                               running broker (prefix "jibe.", 3 partitions, replication
#                               $STAGES_REPLICATION (default 1),
#                               librdkafka properties from $STAGES_RDKAFKA, e.g. '"a=b", "c=d"');
#                               logs go to stderr, which stage_start sends to DIR/NAME.log
#   stages_topics DIR           jibe topics --create
#   stages_deploy SEED HOURS [EXTRA]
#                               the usual deployment: jibe-ctgen init + history (SEED, HOURS)
#                               into R=$JIBE_TMP/root, the simulator on R (sim_start), a broker
#                               (kafka_start), W=$JIBE_TMP/w with stages_cfg W EXTRA ($RUN_INTERVAL
#                               and $STAGES_RDKAFKA apply) and its topics; exports R and W
#   stages_downloads_over N     true once the simulator has served more than N downloads
#   stage_start NAME STAGE DIR [ARGS]
#                               start `jibe STAGE -c DIR/jibe.cfg ARGS` in the background under
#                               NAME (e.g. p1 parse); killed when the test exits; prefixed
#                               by $STAGE_EXEC when set (lib_netns.sh: on a test host)
#   stage_stop NAME             SIGTERM, wait; fails unless it exits 0 within STAGE_STOP_S
#                               (120; then its threads' stacks are printed, gdb)
#   stage_kill9 NAME            SIGKILL, wait
#   stage_pid NAME              its pid
#   stages_log                  the last lines of every stage log (for failures)

STAGES_DIR=
STAGES_NAMES=

stages_cfg() {
	run_cfg "$1" "kafka = {
  brokers = \"$KAFKA_BOOTSTRAP\";
  topic_prefix = \"jibe.\";
  partitions = 3;
  replication = ${STAGES_REPLICATION:-1};
  retention_h = 24;
  rdkafka = [ ${STAGES_RDKAFKA:-} ];
};
${2:-}"
	sed -i '/^log_file = /d' "$1/jibe.cfg"
	STAGES_DIR=$1
}

stages_topics() {
	"$JIBE" topics --create -c "$1/jibe.cfg" >/dev/null || fail "jibe topics --create"
}

stages_deploy() {
	R=$JIBE_TMP/root
	W=$JIBE_TMP/w
	export R W
	"$CTGEN" init --root "$R" --seed "$1" >/dev/null
	"$CTGEN" history --root "$R" --seed "$1" --hours "$2" >/dev/null
	sim_start "$R" --quiet
	kafka_start
	stages_cfg "$W" "${3:-}"
	stages_topics "$W"
}

stages_downloads_over() {
	[ "$(sim_get /sim/stats | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["downloads"].values()))')" -gt "$1" ]
}

stage_pid() {
	cat "$STAGES_DIR/$1.pid"
}

stage_start() {
	ss_name=$1
	ss_stage=$2
	ss_dir=$3
	shift 3
	# shellcheck disable=SC2086
	${STAGE_EXEC:-} "$JIBE" "$ss_stage" -c "$ss_dir/jibe.cfg" "$@" >>"$ss_dir/$ss_name.log" 2>&1 &
	echo $! >"$ss_dir/$ss_name.pid"
	case " $STAGES_NAMES " in *" $ss_name "*) ;; *)
		STAGES_NAMES="$STAGES_NAMES $ss_name"
		on_exit "kill -KILL \$(cat '$ss_dir/$ss_name.pid') 2>/dev/null || true" ;;
	esac
}

stage_stop() {
	sp_pid=$(stage_pid "$1")
	kill -TERM "$sp_pid" 2>/dev/null || fail "stage $1 is not running"
	# A stage gives work in flight 30 s (SUPERVISE_GRACE_MS): one still running after
	# STAGE_STOP_S is a stop that hangs; its threads' stacks say where.
	sp_end=$(($(date +%s) + ${STAGE_STOP_S:-120}))
	while [ -d "/proc/$sp_pid" ] && [ "$(cut -d' ' -f3 "/proc/$sp_pid/stat" 2>/dev/null)" != Z ]; do
		if [ "$(date +%s)" -ge "$sp_end" ]; then
			stages_log
			echo "--- threads of stage $1 (pid $sp_pid), ${STAGE_STOP_S:-120} s after SIGTERM:" >&2
			if command -v gdb >/dev/null 2>&1; then
				timeout 60 gdb -p "$sp_pid" -batch -ex "thread apply all bt" >&2 2>&1 || true
			fi
			kill -KILL "$sp_pid" 2>/dev/null || true
			wait "$sp_pid" 2>/dev/null || true
			fail "stage $1 did not stop within ${STAGE_STOP_S:-120} s of SIGTERM"
		fi
		sleep 0.2
	done
	sp_rc=0
	wait "$sp_pid" || sp_rc=$?
	[ "$sp_rc" -eq 0 ] || { stages_log; fail "stage $1 exited with $sp_rc after SIGTERM"; }
}

stage_kill9() {
	sk_pid=$(stage_pid "$1")
	kill -KILL "$sk_pid" 2>/dev/null || true
	wait "$sk_pid" 2>/dev/null || true
}

stages_log() {
	for sl in $STAGES_NAMES; do
		echo "--- last lines of $sl.log:" >&2
		tail -n 15 "$STAGES_DIR/$sl.log" >&2 2>/dev/null
	done
}

# converged for the distributed mode: RUN_PID is unused, stages are checked by their pids
stages_wait_converged() {
	swc_end=$(( $(date +%s) + $1 ))
	while ! sim_get "/sim/diff?exclude=ct-logs" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["equal"] else 1)'; do
		if [ "$(date +%s)" -ge "$swc_end" ]; then
			stages_log
			sim_get "/sim/diff?exclude=ct-logs" | head -c 2000 >&2
			fail "not converged after $1 s"
		fi
		sleep 0.2
	done
}

# stages_lag GROUP: the group's total lag according to `jibe lag` (partitions without a
# commit count end - oldest)
stages_lag() {
	"$JIBE" lag -c "$STAGES_DIR/jibe.cfg" --group "$1" --json | python3 -c 'import json,sys; print(sum(r["lag"] for r in json.load(sys.stdin)))'
}

# wait_lag0 GROUP SECS: wait until GROUP has committed everything (commits are periodic)
wait_lag0() {
	wl_end=$(( $(date +%s) + $2 ))
	while [ "$(stages_lag "$1")" -ne 0 ]; do
		[ "$(date +%s)" -ge "$wl_end" ] && { stages_log; fail "group $1 still has lag after $2 s"; }
		sleep 0.2
	done
}
