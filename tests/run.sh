#!/bin/sh
# run.sh - run jibe's unit and integration tests against one build directory.
#
#   sh tests/run.sh build/release          everything
#   JIBE_ONLY=unit sh tests/run.sh DIR     unit tests only
#   JIBE_ONLY=integration ...              integration tests only
#   JIBE_FILTER=substr                     only tests whose name contains substr
#   JIBE_VALGRIND=1                        unit tests under valgrind
#   JIBE_METHODS="event refresh"           syncer variants of the tests marked "# both syncer
#                                          methods" (default both): event runs them as they
#                                          are (syncer.method auto, the server knows
#                                          syncOnProviderEvent); refresh runs them again as
#                                          NAME[refresh] against a server that does not, so
#                                          auto switches to the folder refresh
#
# A test whose header has a line "# alongside: REASON" spends most of its time waiting (an
# outage window, say) and shares nothing but the machine with the others (the simulator and
# broker ports are picked free): it runs in the background next to the other integration
# tests, its variants one after another, and its result is collected at the end.
# Each unit test is a cmocka binary in DIR/tests/; each integration test is a script in
# tests/integration/ that gets the binaries through the environment (JIBE, AASIM, CTGEN)
# and a private scratch directory (JIBE_TMP). Ends with "N passed, M failed" (and "K skipped"
# when a program exits 77: it needs what an integration test provides, e.g. test_q_kafka).
set -u
B=${1:?usage: run.sh BUILD_DIR}
B=$(cd "$B" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
export JIBE="$B/jibe" AASIM="$B/jibe-aa-sim" CTGEN="$B/jibe-ctgen" JIBE_BUILD="$B" JIBE_TOP="$TOP"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ONLY=${JIBE_ONLY:-all}
FILTER=${JIBE_FILTER:-}
LOGDIR="$B/test-logs"
mkdir -p "$LOGDIR"
pass=0
fail=0
skip=0
failed=""

run_one() { # name, timeout, command...
	name=$1; to=$2; shift 2
	case "$name" in *"$FILTER"*) ;; *) return ;; esac
	log="$LOGDIR/$name.log"
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	if timeout -k 10 "$to" "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $name ($(( $(date +%s) - start ))s)"
	else
		rc=$?
		if [ "$rc" -eq 77 ]; then
			skip=$((skip + 1))
			echo "SKIP $name (needs what another test provides; see its log: $log)"
			return
		fi
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name (exit $rc, $(( $(date +%s) - start ))s; log: $log)"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
}

if [ "$ONLY" = all ] || [ "$ONLY" = unit ]; then
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		n=unit/$(basename "$t")
		if [ "${JIBE_VALGRIND:-}" = 1 ]; then
			run_one "$n" 600 valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
				--error-exitcode=1 "$t"
		else
			run_one "$n" 120 "$t"
		fi
	done
fi
run_variants() { # script path
	rv_n=integration/$(basename "$1" .sh)
	rv_variants=event
	grep -q '^# both syncer methods' "$1" && rv_variants=${JIBE_METHODS:-event refresh}
	for v in $rv_variants; do
		rv_vn=$rv_n
		[ "$v" = event ] || rv_vn="$rv_n[$v]"
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/jibe-test.XXXXXX")
		JIBE_TMP="$tmp" JIBE_SYNC_VARIANT=$v run_one "$rv_vn" 900 sh "$1"
		rm -rf "$tmp"
	done
}

if [ "$ONLY" = all ] || [ "$ONLY" = integration ]; then
	side=$(mktemp -d "${TMPDIR:-/tmp}/jibe-side.XXXXXX")
	nside=0
	for t in "$TOP"/tests/integration/[0-9]*.sh; do
		[ -f "$t" ] || continue
		grep -q '^# alongside:' "$t" || continue
		case "integration/$(basename "$t" .sh)" in *"$FILTER"*) ;; *) continue ;; esac
		nside=$((nside + 1))
		# The subshell's counters are its own: it writes them out for the sum below.
		( pass=0 fail=0 skip=0 failed=""
		  run_variants "$t" >"$side/$nside.out"
		  echo "$pass $fail $skip$failed" >"$side/$nside.sum" ) &
		echo "(started $(basename "$t" .sh) alongside the others)"
	done
	for t in "$TOP"/tests/integration/[0-9]*.sh; do
		[ -f "$t" ] || continue
		grep -q '^# alongside:' "$t" && continue
		run_variants "$t"
	done
	wait
	for f in "$side"/*.sum; do
		[ -f "$f" ] || continue
		cat "${f%.sum}.out"
		read -r sp sf ss sfailed <"$f" || true
		pass=$((pass + sp)); fail=$((fail + sf)); skip=$((skip + ss))
		[ -n "${sfailed:-}" ] && failed="$failed $sfailed"
	done
	rm -rf "$side"
fi
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed$([ "$skip" -gt 0 ] && echo ", $skip skipped")"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
