#!/bin/sh
# 0900-digests.sh - `jibe run` checks CloudTrail's digests (docs/DIGESTS.md) on a generated
# history with log file validation on: a log file hidden from every listing is fetched by path
# through its digest and its events synced (the simulator's index equals the truth); a file
# deleted after its digest is reported missing, a file changed after hashing is read twice and
# reported tampered, a removed digest is a chain gap; status.json has the source's "digests"
# figures and the log names each case. Then a history with validation off: "available": false,
# no WARN about digests.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"

R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 41 >/dev/null
"$CTGEN" history --root "$R" --seed 41 --hours "${DIGEST_HOURS:-4}" --digests --hidden 1 --deleted 1 --flipped 1 \
	--gaps 1 >/dev/null
# one digest that the next one points at, listing no file, is damaged (not gzip): it is
# reported as unreadable, and is no gap in the chain (the only gap is --gaps' removed one)
BAD=$(python3 - "$R/ctgen/digests.jsonl" <<'PY'
import json, sys
ds = [json.loads(l) for l in open(sys.argv[1])]
prevs = {d["previous"] for d in ds if d["previous"]}
print([d["path"] for d in ds if d["files"] == 0 and not d["removed"] and d["path"] in prevs][0])
PY
)
BADF=$(find "$R" -path "*/${BAD}" | head -n 1)
[ -f "$BADF" ] || fail "no digest file for $BAD"
printf 'not a gzip digest\n' >"$BADF"
sim_start "$R" --quiet

STATUS_CFG='status = { instance = "solo"; publish_s = 5; };'
RUN_DIGESTS=auto RUN_DIGEST_GRACE_MIN=0 RUN_INTERVAL=2 run_cfg "$W" "$STATUS_CFG"
run_start "$W"
wait_converged 90

# the source's digest figures once every verdict is in (a few scans: the flipped file is read
# a second time first)
digests_ok() {
	python3 - "$W/state/status.json" <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
src = [s for s in doc.get("sources", []) if s.get("bucket") == "ct-logs"]
if not src or "digests" not in src[0]:
    sys.exit(1)
d = src[0]["digests"]
sys.exit(0 if (d["available"] and d["recovered"] >= 1 and d["missing"] == 1 and d["tampered"] == 1
               and d["gaps"] == 1) else 1)
PY
}
end=$(($(date +%s) + 45))
while ! digests_ok; do
	if [ "$(date +%s)" -ge "$end" ]; then
		run_log
		python3 -c 'import json,sys; print([s.get("digests") for s in json.load(open(sys.argv[1]))["sources"]])' \
			"$W/state/status.json" >&2 || true
		fail "status.json does not show recovered >= 1, missing 1, tampered 1, gaps 1"
	fi
	sleep 0.5
done
python3 - "$W/state/status.json" "$R/ctgen/digests.json" "$BAD" <<'PY' || fail "digest figures"
import json, sys
doc = json.load(open(sys.argv[1]))
man = json.load(open(sys.argv[2]))
d = [s for s in doc["sources"] if s["bucket"] == "ct-logs"][0]["digests"]
assert d["chains"] >= 1 and d["digests"] >= 4 and d["covered_s"] >= 3 * 3600, d
assert d["listed"] >= d["done"] + d["missing"] and d["done"] >= 1, d
assert d["last_end_ms"] > 0, d
ds = [json.loads(l) for l in open(sys.argv[2].replace("digests.json", "digests.jsonl"))]
present = [x for x in ds if not x["removed"] and not x["path"].endswith(sys.argv[3].split("/")[-1])]
print("generator: %d digests present and readable (%d backfill), %d log files listed in them"
      % (len(present), sum(1 for x in present if x["backfill"]), sum(x["files"] for x in present)))
assert d["digests"] == len(present) and d["backfill"] == sum(1 for x in present if x["backfill"]), d
assert d["listed"] == sum(x["files"] for x in present) and d["done"] == d["listed"] - d["missing"], d
print("digests: %(digests)d (%(backfill)d backfill) in %(chains)d chains, %(covered_s)d s covered, "
      "%(listed)d files listed, %(done)d done, %(recovered)d recovered, %(missing)d missing, "
      "%(tampered)d tampered, %(unverified)d unverified, %(gaps)d gaps, %(pending)d pending" % d)
PY

# the hidden file was downloaded (fetched by path), the log names every case
HID=$(head -n 1 "$R/hidden.txt")
sim_get /sim/stats | python3 -c 'import json,sys; dl=json.load(sys.stdin)["downloads"]; sys.exit(0 if dl.get(sys.argv[1], 0) >= 1 else 1)' "$HID" ||
	fail "the hidden file $HID was never downloaded"
names() { python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$R/ctgen/digests.json" "$1"; }
for f in $(names hidden); do
	grep -q "INFO  digests: the digest .* lists .*${f##*/}, which no listing showed" "$W/jibe.log" ||
		{ run_log; fail "no INFO line for the recovered file $f"; }
done
for f in $(names deleted); do
	grep -q "WARN  digests: CloudTrail delivered .*${f##*/} .*cannot find it" "$W/jibe.log" ||
		{ run_log; fail "no WARN line for the missing file $f"; }
done
for f in $(names flipped); do
	grep -q "WARN  digests: .*${f##*/} does not have the bytes CloudTrail wrote" "$W/jibe.log" ||
		{ run_log; fail "no WARN line for the tampered file $f"; }
done
grep -q "WARN  digests: the CloudTrail digest .* that .* points at is gone" "$W/jibe.log" ||
	{ run_log; fail "no WARN line for the chain gap"; }
grep -q "WARN  digests: 1 CloudTrail digest(s) of .* cannot be read (first: .*${BAD##*/}" "$W/jibe.log" ||
	{ run_log; fail "no WARN line for the damaged digest ${BAD##*/}"; }
! grep -q "WARN  digests: the CloudTrail digest .*${BAD##*/} that .* points at is gone" "$W/jibe.log" ||
	{ run_log; fail "the damaged digest ${BAD##*/} was reported as a gap"; }
run_stop
sim_stop

# validation off: no digest folder anywhere -> "available": false, no digest WARN
R2=$JIBE_TMP/root-off
W2=$JIBE_TMP/run-off
"$CTGEN" init --root "$R2" --seed 42 >/dev/null
"$CTGEN" history --root "$R2" --seed 42 --hours 2 --no-digests >/dev/null
sim_start "$R2" --quiet
RUN_DIGESTS=auto RUN_DIGEST_GRACE_MIN=0 RUN_INTERVAL=2 run_cfg "$W2" "$STATUS_CFG"
run_start "$W2"
wait_converged 90
off_ok() {
	python3 - "$W2/state/status.json" <<'PY'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
src = [s for s in doc.get("sources", []) if s.get("bucket") == "ct-logs"]
sys.exit(0 if src and "digests" in src[0] and src[0]["digests"]["available"] is False else 1)
PY
}
wait_until 30 off_ok || { run_log; fail "status.json does not say digests not available"; }
! grep -q "WARN  digests:" "$W2/jibe.log" || { run_log; fail "a digest WARN with validation off"; }
run_stop
sim_stop
echo "ok: hidden file recovered and synced, missing, tampered and gap reported; validation off is not an error"
