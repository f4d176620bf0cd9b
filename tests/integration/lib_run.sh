# lib_run.sh - helpers for integration tests of `jibe run` (source after lib.sh).
#
#   run_cfg DIR [EXTRA]   write DIR/jibe.cfg for the running simulator: credentials from a
#                         jibe-config.json (endpoint, login, password), state in DIR/state,
#                         log in DIR/jibe.log, scan every $RUN_INTERVAL s (default 2);
#                         Access Anywhere's own identities from the generator's
#                         $SIM_ROOT/ctgen/jibe-self.cfg when there is one; syncer.method from
#                         $SYNC_METHOD (default auto); allow_http (the simulator is
#                         http://); CloudTrail digests off unless $RUN_DIGESTS says "auto"
#                         (the digest tests 09xx; grace $RUN_DIGEST_GRACE_MIN, default 0):
#                         digest downloads would skew the other tests' download counts;
#                         EXTRA (libconfig text) is appended
#   run_start DIR         start `jibe run -c DIR/jibe.cfg` in the background (RUN_PID); it is
#                         killed when the test exits
#   run_stop              SIGTERM, wait; fails unless jibe exits 0
#   run_kill9             SIGKILL, wait
#   converged             true when the simulator's index equals the S3 truth (log bucket
#                         excluded: jibe does not sync log files)
#   wait_converged SECS   wait for converged, fail after SECS with the differences
#   run_log               the last lines of jibe's log

RUN_PID=
RUN_DIR=

run_cfg() {
	rc_dir=$1
	mkdir -p "$rc_dir"
	cat >"$rc_dir/jibe-config.json" <<EOF2
{"endpoint": "$SIM_URL", "login": "admin", "password": "s3cret"}
EOF2
	chmod 600 "$rc_dir/jibe-config.json"
	cat >"$rc_dir/jibe.cfg" <<EOF2
access_anywhere = {
  credentials_json = "$rc_dir/jibe-config.json";
  allow_http = true; # the simulator speaks http://
  max_retries = 3;
  backoff_base_ms = 50;
  backoff_max_ms = 1000;
};
scanner = {
  interval_s = ${RUN_INTERVAL:-2};
  lookback_h = 48;
  parents_every = 5;
};
syncer = {
  method = "${SYNC_METHOD:-auto}";
  window_ms = 500;
  backoff_base_ms = 50;
  backoff_max_ms = 2000;
};
digest = {
  enabled = "${RUN_DIGESTS:-off}";
  grace_min = ${RUN_DIGEST_GRACE_MIN:-0};
};
state_dir = "$rc_dir/state";
log_file = "$rc_dir/jibe.log";
log_level = "${RUN_LOG_LEVEL:-info}";
$(cat "${SIM_ROOT:-/nonexistent}/ctgen/jibe-self.cfg" 2>/dev/null)
${2:-}
EOF2
}

run_start() {
	RUN_DIR=$1
	"$JIBE" run -c "$RUN_DIR/jibe.cfg" >>"$RUN_DIR/jibe.out" 2>&1 &
	RUN_PID=$!
	on_exit '[ -z "$RUN_PID" ] || kill -KILL "$RUN_PID" 2>/dev/null || true'
}

run_stop() {
	[ -n "$RUN_PID" ] || return 0
	kill -TERM "$RUN_PID"
	rs_rc=0
	wait "$RUN_PID" || rs_rc=$?
	RUN_PID=
	[ "$rs_rc" -eq 0 ] || { run_log; fail "jibe run exited with $rs_rc after SIGTERM"; }
}

run_kill9() {
	[ -n "$RUN_PID" ] || return 0
	kill -KILL "$RUN_PID" 2>/dev/null
	wait "$RUN_PID" 2>/dev/null || true
	RUN_PID=
}

run_log() {
	echo "--- last lines of jibe's log:" >&2
	tail -n 30 "$RUN_DIR/jibe.log" >&2 2>/dev/null
	tail -n 10 "$RUN_DIR/jibe.out" >&2 2>/dev/null
}

converged() {
	[ -z "$RUN_PID" ] || kill -0 "$RUN_PID" 2>/dev/null || { run_log; fail "jibe run died"; }
	sim_get "/sim/diff?exclude=ct-logs" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["equal"] else 1)'
}

wait_converged() {
	wc_end=$(( $(date +%s) + $1 ))
	while ! converged; do
		if [ "$(date +%s)" -ge "$wc_end" ]; then
			run_log
			sim_get "/sim/diff?exclude=ct-logs" | head -c 2000 >&2
			fail "not converged after $1 s"
		fi
		sleep 0.2
	done
}
