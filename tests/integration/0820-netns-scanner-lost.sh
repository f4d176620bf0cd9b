#!/bin/sh
# alongside: mostly waits on Kafka and the scanner's pacing (about 2 minutes; release build only)
# 0820-netns-scanner-lost.sh - the scanner's host is lost for good (link cut, its process
# killed -9); a new scanner on another host carries on from the status topic: it publishes
# none of the files the old one had recorded as done, and jibe converges (index equals truth,
# every actionable object resynced). Prints the republished files (0) and the duplicates.
set -eu
. "$JIBE_TOP/tests/integration/lib_cluster.sh"
cluster_release_only 2
RUN_INTERVAL=1 cluster_deploy 110 4 1
on_host s1 s1 scan
on_host p1 p1 parse
on_host y1 y1 sync
status_count() { # records in the status topic
	cluster_kcat -C -t jibe.status -o beginning -e -q -f '%k\n' | grep -c . || true
}
status_over() { [ "$(status_count)" -gt "$1" ]; }
cluster_settle 240
"$CTGEN" flood --root "$R" --seed 111 --files 60 >/dev/null
wait_until 60 status_over $(($(status_count) + 10))
t0=$(now)
netns_cut s1
stage_kill9 s1
touch "$W/s1.gone"
# what the old scanner had recorded as done (the last record of a key; a tombstone undoes it)
cluster_kcat -C -t jibe.status -o beginning -e -q -f '%k\t%S\n' |
	awk -F'\t' '{ done[$1] = ($2 > 0) } END { for (k in done) if (done[k]) print k }' |
	sed 's|.*/||' | sort -u >"$JIBE_TMP/done.txt"
cluster_kcat -C -t jibe.files -o beginning -e -q -f '%p %o\n' | sort >"$JIBE_TMP/files-before.txt"
echo "the old scanner had $(wc -l <"$JIBE_TMP/done.txt") files done, $(wc -l <"$JIBE_TMP/files-before.txt") published"
"$CTGEN" flood --root "$R" --seed 112 --files 30 >/dev/null
on_host s2 s2 scan
cluster_wait_converged 240
tc=$(($(now) - t0))
sim_get /sim/stats >"$JIBE_TMP/stats.json"
python3 "$JIBE_TOP/tests/integration/check_resyncs.py" "$JIBE_TMP/stats.json" "$R/ctgen/expected-sync.jsonl" ||
	fail "resyncs differ from the actionable set"
# the files the new scanner published: every message of the files topic not there before
cluster_kcat -C -t jibe.files -o beginning -e -q -f '%p %o\t%s\n' >"$JIBE_TMP/files-after.txt"
again=$(python3 - "$JIBE_TMP/files-before.txt" "$JIBE_TMP/files-after.txt" "$JIBE_TMP/done.txt" <<'PY'
import json, sys
before = {l.strip() for l in open(sys.argv[1]) if l.strip()}
done = {l.strip() for l in open(sys.argv[3]) if l.strip()}
new = again = 0
for l in open(sys.argv[2]):
    po, _, v = l.rstrip("\n").partition("\t")
    if not v or po in before:
        continue
    new += 1
    name = json.loads(v)["path"].rsplit("/", 1)[-1]
    if name in done:
        again += 1
        print("published again:", name, file=sys.stderr)
print(new, again)
PY
) || fail "could not read the files topic"
set -- $again
[ "$2" -eq 0 ] || fail "the new scanner published $2 files the old one had done"
[ "$1" -gt 0 ] || fail "the new scanner published nothing (the flood's files are new)"
d=$(dup_since)
stage_stop s2
stage_stop p1
stage_stop y1
sim_stop
echo "ok: scanner host lost, the new scanner published $1 files, $2 of them done before; converged ${tc} s after the loss, $d duplicate resyncs; stages restarted after an error: $RESTARTS"
