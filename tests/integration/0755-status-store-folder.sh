#!/bin/sh
# 0755-status-store-folder.sh - `jibe status` in store mode over the embedded mode's status
# folder (common/status_store_aa.c through common/cli/status_open.c): the simulator's bucket
# holds the instances' documents in status.folder (two instances, one file that is not JSON,
# one that is not a status file at all); `jibe status -c FILE` (default: no kafka.brokers, so
# the folder) and `--from folder --json` merge the two instances and report the broken file
# by its Access Anywhere path, exactly as `--files` does with copies; `--from kafka` without
# kafka.brokers is a configuration error (exit 2); a status.folder whose bucket does not
# exist cannot be read (exit 3).
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
T=$JIBE_TMP
D="$JIBE_TOP/tests/data/status"
NOW=2026-12-01T12:00:20Z

sim_make_root "$T/sim"
F="$T/sim/truth/ct-logs/jibe/status"
mkdir -p "$F"
cp "$D/east-1.json" "$D/west-2.json" "$D/bad-notjson.json" "$F/"
echo "not a status file" >"$F/notes.txt"
sim_start "$T/sim" --quiet
run_cfg "$T/c" 'status = { folder = "/S3 Prod/ct-logs/jibe/status"; };'

# Default: the folder; the table names both instances and the broken file.
rc=0
"$JIBE" status -c "$T/c/jibe.cfg" --now "$NOW" >"$T/table" 2>"$T/err" || rc=$?
cat "$T/table" "$T/err"
# west-2's document has a FAILING and a LATE source: exit 1, as a monitoring check wants.
[ "$rc" -eq 1 ] || fail "jibe status from the folder: exit $rc (want 1: west-2 reports FAILING)"
grep -q '^east-1 ' "$T/table" || fail "east-1 is not in the table"
grep -q '^west-2 ' "$T/table" || fail "west-2 is not in the table"
grep -q 'Access Anywhere /S3 Prod/ct-logs/jibe/status/bad-notjson.json was skipped' "$T/table" ||
	fail "the broken status file is not reported by its path"
! grep -q 'notes' "$T/table" || fail "notes.txt was taken for a status document"

# --from folder --json equals the merge of the same files given with --files (but for where
# each came from, and the generated_by field).
"$JIBE" status -c "$T/c/jibe.cfg" --now "$NOW" --from folder --json >"$T/store.json" || true
"$JIBE" status --now "$NOW" --json --files "$D/east-1.json" "$D/west-2.json" "$D/bad-notjson.json" \
	>"$T/files.json" || true
python3 - "$T/store.json" "$T/files.json" <<'PY' || fail "the store's report differs from the files' report"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ia = sorted(i["instance"] for i in a["instances"])
ib = sorted(i["instance"] for i in b["instances"])
print("instances from the folder:", ia)
assert ia == ["east-1", "west-2"], ia
assert ia == ib, (ia, ib)
assert a["verdict"] == b["verdict"], (a["verdict"], b["verdict"])
assert [p["id"] for p in a["providers"]] == [p["id"] for p in b["providers"]]
bad = [p for p in a["problems"] if p["kind"] == "bad_status"]
assert len(bad) == 1 and "bad-notjson.json" in bad[0]["text"], bad
PY

# --from kafka without kafka.brokers: configuration error.
rc=0
"$JIBE" status -c "$T/c/jibe.cfg" --from kafka >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] || { cat "$T/out" "$T/err"; fail "--from kafka without brokers: exit $rc, want 2"; }
grep -q 'kafka.brokers is not set' "$T/err" || { cat "$T/err"; fail "no word on kafka.brokers"; }

# A folder in a bucket that does not exist: the store cannot be read (exit 3).
run_cfg "$T/nb" 'status = { folder = "/S3 Prod/no-such-bucket/jibe"; };'
rc=0
"$JIBE" status -c "$T/nb/jibe.cfg" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 3 ] || { cat "$T/out" "$T/err"; fail "status.folder in no bucket: exit $rc, want 3"; }
grep -q 'no-such-bucket' "$T/err" || { cat "$T/err"; fail "the missing bucket is not named"; }
sim_stop
echo "ok: jibe status reads status.folder, reports a broken file by its path, --from checked"
