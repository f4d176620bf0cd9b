#!/bin/sh
# 0905-digests-kafka.sh - CloudTrail digests in the distributed mode: jibe scan on one "host"
# (state directory), jibe parse and sync on another, over a real broker. The parser's hashes
# reach the scanner through the status topic only: a hidden file is recovered through its
# digest and synced, a changed file is read twice and reported tampered, a deleted one missing
# (the scanner's status-<instance>.json).
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"

R=$JIBE_TMP/root
W=$JIBE_TMP/w
W2=$JIBE_TMP/host2
"$CTGEN" init --root "$R" --seed 43 >/dev/null
"$CTGEN" history --root "$R" --seed 43 --hours 3 --digests --hidden 1 --deleted 1 --flipped 1 >/dev/null
sim_start "$R" --quiet
kafka_start
RUN_DIGESTS=auto RUN_DIGEST_GRACE_MIN=0 RUN_INTERVAL=2 stages_cfg "$W" \
	'status = { instance = "scan-host"; publish_s = 5; };'
stages_topics "$W"
mkdir -p "$W2"
sed -e "s|$W/state|$W2/state|" -e 's|instance = "scan-host"|instance = "parse-host"|' "$W/jibe.cfg" >"$W2/jibe.cfg"
stage_start s1 scan "$W"
STAGES_DIR=$W2 stage_start p1 parse "$W2"
STAGES_DIR=$W2 stage_start y1 sync "$W2"
STAGES_DIR=$W
stages_wait_converged 120

figures() {
	python3 - "$W/state" "$1" <<'PY'
import glob, json, os, sys
src = []
for f in glob.glob(os.path.join(sys.argv[1], "status*.json")):  # jibe scan: status-<instance>.json
    try:
        doc = json.load(open(f))
    except (OSError, ValueError):
        continue
    src += [s for s in doc.get("sources", []) if s.get("bucket") == "ct-logs" and "digests" in s]
if not src or "digests" not in src[0]:
    sys.exit(1)
d = src[0]["digests"]
if sys.argv[2] == "print":
    print("digests: %(digests)d in %(chains)d chains, %(listed)d listed, %(done)d done, %(recovered)d "
          "recovered, %(missing)d missing, %(tampered)d tampered, %(unverified)d unverified" % d)
    sys.exit(0)
sys.exit(0 if d["available"] and d["recovered"] >= 1 and d["missing"] == 1 and d["tampered"] == 1
         and d["unverified"] == 0 else 1)
PY
}
end=$(($(date +%s) + 45))
while ! figures check; do
	if [ "$(date +%s)" -ge "$end" ]; then
		stages_log
		figures print >&2 || true
		fail "the scanner's status file does not show recovered >= 1, missing 1, tampered 1, unverified 0"
	fi
	sleep 0.5
done
figures print
stage_stop s1
STAGES_DIR=$W2 stage_stop p1
STAGES_DIR=$W2 stage_stop y1
STAGES_DIR=$W
sim_stop
echo "ok: digests over Kafka: the parser's hashes reached the scanner through the status topic"
