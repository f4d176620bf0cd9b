# lib.sh - helpers shared by jibe's integration tests. Source it (POSIX sh):
#
#     . "$JIBE_TOP/tests/integration/lib.sh"
#
# Environment (set by tests/run.sh): AASIM, JIBE, CTGEN (binaries), JIBE_TOP, JIBE_TMP.
#
#   fail MSG                  print "FAIL: MSG" (and the simulator's last log lines), exit 1
#   sim_make_root DIR         write a small deployment dir: DIR/sim.json (user admin/s3cret,
#                             authtoken PERMANENT-TOKEN-1, provider 101 "S3 Prod" with buckets
#                             prod-data, prod-media, ct-logs) and empty DIR/truth/<bucket>/
#   sim_start DIR [ARGS]      start $AASIM --root DIR on a free port of $SIM_ADDR (default
#                             127.0.0.1; prefixed by $SIM_EXEC, e.g. lib_netns.sh's
#                             "ip netns exec HOST", to run it elsewhere), wait for it
#                             (deadline 20 s); exports SIM_URL, SIM_PID, SIM_LOG, SIM_ROOT; with
#                             JIBE_SYNC_VARIANT=refresh (tests/run.sh) the server does not know
#                             syncOnProviderEvent (sim.json sync_on_provider_event false). The simulator
#                             is killed when the test exits, whatever happens.
#   sim_stop                  SIGTERM + wait; fails the test if the simulator's exit code is
#                             not 0 (a sanitizer report at exit makes it non-zero)
#   sim_rpc FUNC [K=V ...]    POST FUNC to $SIM_URL/api/rpc.php, print the JSON answer; the
#                             token is $SIM_TOKEN (or "*") unless a token=... argument is given
#   sim_login                 SIM_TOKEN=<session token from PERMANENT-TOKEN-1>
#   sim_get PATH              GET $SIM_URL$PATH (e.g. /sim/diff), print the body
#   sim_post PATH [K=V ...]   POST a form to $SIM_URL$PATH, print the body
#   json_get EXPR             print EXPR evaluated by python3 over the JSON on stdin, as j
#   json_check EXPR [MSG]     fail (showing the JSON) unless EXPR over stdin's JSON (j) is true
#   wait_until SECS CMD...    run CMD every 0.1 s until it succeeds; fail after SECS seconds
#   on_exit CMD               run CMD (a string) at exit, before the simulator is killed
#   on_exit_last CMD          run CMD at exit after the simulator is killed (lib_netns.sh
#                             removes its namespaces there)
#   With SIM_EXEC set, sim_rpc, sim_get and sim_post run curl through it too (on the
#   simulator's host, which reaches its own address even while its link is cut).

SIM_URL=
SIM_PID=
SIM_LOG=
SIM_TOKEN=
LIB_ON_EXIT=
LIB_ON_EXIT_LAST=
LIB_NSIM=0

fail() {
	echo "FAIL: $*" >&2
	if [ -n "$SIM_LOG" ] && [ -f "$SIM_LOG" ]; then
		echo "--- last lines of $SIM_LOG:" >&2
		tail -n 15 "$SIM_LOG" >&2
	fi
	exit 1
}

on_exit() {
	LIB_ON_EXIT="$LIB_ON_EXIT
$1"
}

on_exit_last() {
	LIB_ON_EXIT_LAST="$LIB_ON_EXIT_LAST
$1"
}

lib_cleanup() {
	rc=$?
	trap - EXIT INT TERM
	[ -n "$LIB_ON_EXIT" ] && eval "$LIB_ON_EXIT"
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=
	fi
	[ -n "$LIB_ON_EXIT_LAST" ] && eval "$LIB_ON_EXIT_LAST"
	exit $rc
}
trap lib_cleanup EXIT
trap 'exit 130' INT TERM

: "${JIBE_TMP:?JIBE_TMP must be set (run through tests/run.sh)}"
: "${AASIM:=${JIBE_TOP:-.}/build/release/jibe-aa-sim}"

wait_until() {
	wu_secs=$1
	shift
	wu_end=$(( $(date +%s) + wu_secs ))
	while ! "$@"; do
		[ "$(date +%s)" -ge "$wu_end" ] && fail "timed out after ${wu_secs}s waiting for: $*"
		sleep 0.1
	done
}

sim_make_root() {
	mkdir -p "$1/truth/prod-data" "$1/truth/prod-media" "$1/truth/ct-logs"
	cat >"$1/sim.json" <<'EOF'
{
  "sitetitle": "jibe simulator",
  "token_lifetime_s": 3600,
  "users": [
    {"login": "admin", "password": "s3cret", "userid": "1", "authtokens": ["PERMANENT-TOKEN-1"]}
  ],
  "providers": [
    {"id": "101", "name": "S3 Prod",
     "access_key": "AKIAAASELFKEY0000001",
     "arn": "arn:aws:iam::111122223333:user/access-anywhere",
     "user_agent": "SMEStorage",
     "buckets": ["prod-data", "prod-media", "ct-logs"],
     "last_sync": {"start": "2026-11-29 06:00:00", "completed": "2026-11-29 06:20:00",
                   "files": 12345, "task": true}}
  ]
}
EOF
}

lib_port_ready() {
	[ -s "$1" ] && return 0
	kill -0 "$SIM_PID" 2>/dev/null || fail "jibe-aa-sim exited during start"
	return 1
}

sim_start() {
	ss_root=$1
	shift
	[ -n "$SIM_PID" ] && fail "sim_start: a simulator is already running"
	LIB_NSIM=$((LIB_NSIM + 1))
	SIM_LOG="$JIBE_TMP/aasim-$LIB_NSIM.log"
	ss_pf="$JIBE_TMP/aasim-$LIB_NSIM.port"
	rm -f "$ss_pf"
	if [ "${JIBE_SYNC_VARIANT:-event}" = refresh ] && [ -f "$ss_root/sim.json" ]; then
		# a server without syncOnProviderEvent: jibe's syncer.method auto must switch
		python3 -c 'import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["sync_on_provider_event"]=False; json.dump(j, open(p, "w"))' "$ss_root/sim.json"
	fi
	# shellcheck disable=SC2086
	${SIM_EXEC:-} "$AASIM" --root "$ss_root" --listen "${SIM_ADDR:-127.0.0.1}" --port 0 \
		--port-file "$ss_pf" "$@" >>"$SIM_LOG" 2>&1 &
	SIM_PID=$!
	wait_until 20 lib_port_ready "$ss_pf"
	SIM_URL="http://${SIM_ADDR:-127.0.0.1}:$(cat "$ss_pf")"
	SIM_ROOT=$ss_root
	export SIM_URL SIM_PID SIM_LOG SIM_ROOT
}

sim_stop() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID"
	ss_rc=0
	wait "$SIM_PID" || ss_rc=$?
	SIM_PID=
	[ "$ss_rc" -eq 0 ] || fail "jibe-aa-sim exited with status $ss_rc at stop"
}

sim_rpc() {
	sr_fn=$1
	shift
	sr_tok="token=${SIM_TOKEN:-*}"
	for sr_a in "$@"; do
		case "$sr_a" in token=*) sr_tok= ;; esac
	done
	[ -n "$sr_tok" ] && set -- "$@" "$sr_tok"
	set -- "function=$sr_fn" "apiformat=json" "$@"
	sr_n=$#
	for sr_a in "$@"; do
		set -- "$@" --data-urlencode "$sr_a"
	done
	shift "$sr_n"
	# shellcheck disable=SC2086
	${SIM_EXEC:-} curl -sS --max-time 60 "$@" "$SIM_URL/api/rpc.php"
}

sim_login() {
	SIM_TOKEN=$(sim_rpc getTokenByAuthToken token='*' authtoken=PERMANENT-TOKEN-1 | json_get 'j["token"]') ||
		fail "sim_login: no session token"
	[ -n "$SIM_TOKEN" ] || fail "sim_login: empty session token"
}

sim_get() {
	# shellcheck disable=SC2086
	${SIM_EXEC:-} curl -sS --max-time 120 "$SIM_URL$1"
}

sim_post() {
	sp_path=$1
	shift
	sp_n=0
	for sp_a in "$@"; do
		set -- "$@" --data-urlencode "$sp_a"
		sp_n=$((sp_n + 1))
	done
	shift "$sp_n"
	# shellcheck disable=SC2086
	${SIM_EXEC:-} curl -sS --max-time 120 -X POST "$@" "$SIM_URL$sp_path"
}

json_get() {
	python3 -c 'import json, sys
j = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if not isinstance(v, (dict, list, bool)) else json.dumps(v))' "$1"
}

json_check() {
	jc_in=$(cat)
	printf '%s' "$jc_in" | python3 -c 'import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" 2>/dev/null ||
		fail "${2:-check failed}: $1 on: $(printf '%s' "$jc_in" | head -c 1500)"
}
