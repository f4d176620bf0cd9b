#!/bin/sh
# 0022-events-deployment.sh - `jibe events -c jibe.cfg` decides as the deployment does: with
# the self identities of the configuration and the bucket map and full-sync starts read from
# the simulator it prints exactly what the generator's flags (--self-*, --bucket,
# --sync-start) give on the same local files; `--fetch PATH` reads the same files through
# Access Anywhere and prints the same lines; a path Access Anywhere does not have is
# rejected with exit 1; --fetch without -c is a usage error.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 5 >/dev/null
"$CTGEN" history --root "$R" --seed 5 --hours 2 >/dev/null
sim_start "$R" --quiet
run_cfg "$W"
LOGS=$R/truth/ct-logs
files=$(cat "$R/ctgen/files.txt")
[ -n "$files" ] || fail "no generated log files"

# shellcheck disable=SC2046 # the flags and file names have no spaces
(cd "$LOGS" && "$JIBE" events $(cat "$R/ctgen/events-args") $files) >"$JIBE_TMP/flags.out" ||
	fail "jibe events with flags: exit $?"
[ -s "$JIBE_TMP/flags.out" ] || fail "the files hold no actionable event"
# shellcheck disable=SC2086
(cd "$LOGS" && "$JIBE" events -c "$W/jibe.cfg" $files) >"$JIBE_TMP/cfg.out" ||
	fail "jibe events -c: exit $?"
cmp -s "$JIBE_TMP/flags.out" "$JIBE_TMP/cfg.out" ||
	{ diff "$JIBE_TMP/flags.out" "$JIBE_TMP/cfg.out" | head -10; fail "events -c differs from the flags"; }

set --
for f in $files; do set -- "$@" --fetch "S3 Prod/ct-logs/$f"; done
"$JIBE" events -c "$W/jibe.cfg" "$@" >"$JIBE_TMP/fetch.out" || fail "jibe events --fetch: exit $?"
cmp -s "$JIBE_TMP/flags.out" "$JIBE_TMP/fetch.out" ||
	{ diff "$JIBE_TMP/flags.out" "$JIBE_TMP/fetch.out" | head -10; fail "--fetch differs from the local files"; }
dl=$(sim_get /sim/stats | json_get 'sum(j["downloads"].values())')
[ "$dl" -eq "$(echo "$files" | wc -l)" ] || fail "$dl downloads for $(echo "$files" | wc -l) files"

rc=0
"$JIBE" events -c "$W/jibe.cfg" --fetch "S3 Prod/ct-logs/AWSLogs/none.json.gz" >/dev/null 2>"$JIBE_TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "a missing path: exit $rc, want 1"
grep -q "has no file" "$JIBE_TMP/err" || fail "a missing path: $(cat "$JIBE_TMP/err")"
rc=0
"$JIBE" events --fetch "S3 Prod/ct-logs/x.json.gz" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--fetch without -c: exit $rc, want 2"
sim_stop
echo "ok: events -c equals the flags, --fetch equals the local files"
