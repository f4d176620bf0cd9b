#!/bin/sh
# 0340-run-bad-state.sh - a state directory jibe cannot use gives a clear error and exit 1:
# a file in its place, another jibe using it, a foreign FORMAT, a damaged scanner file.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
sim_make_root "$R"
sim_start "$R" --quiet
run_cfg "$W"

expect_fail() { # message-substring
	ef_rc=0
	"$JIBE" run -c "$W/jibe.cfg" >"$JIBE_TMP/out" 2>&1 || ef_rc=$?
	[ "$ef_rc" -eq 1 ] || { cat "$JIBE_TMP/out" "$W/jibe.log"; fail "exit $ef_rc, want 1 ($1)"; }
	grep -q "$1" "$W/jibe.log" || { cat "$W/jibe.log"; fail "log does not say: $1"; }
	: >"$W/jibe.log"
}

echo "not a directory" >"$W/state"
expect_fail "is not a directory"
rm "$W/state"

run_start "$W"
wait_until 20 test -f "$W/state/FORMAT"
expect_fail "in use by another jibe process"
run_stop

echo "something else" >"$W/state/FORMAT"
expect_fail "not a jibe state directory"
printf 'jibe-state 1\n' >"$W/state/FORMAT"

mkdir -p "$W/state/scan"
printf 'garbage\n' >"$W/state/scan/00000000deadbeef"
expect_fail "scan/00000000deadbeef is damaged"
rm "$W/state/scan/00000000deadbeef"

run_start "$W"
wait_until 20 grep -q "scan done" "$W/jibe.log"
run_stop
sim_stop
echo "ok: state directory errors"
