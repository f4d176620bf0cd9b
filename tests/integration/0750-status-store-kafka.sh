#!/bin/sh
# 0750-status-store-kafka.sh - the status store in the compacted status topic
# (common/status_store_kafka.c) against a real broker: runs $JIBE_BUILD/tests/test_status_store_kafka
# (two instances put, one puts again, list() gives both with their latest documents, and the
# scanner's store in the same topic still loads exactly its file records, without a warning
# about the instances' records) with KAFKA_BOOTSTRAP pointing at a fresh single-node broker,
# and $JIBE_BUILD/tests/test_filehash (the parser's file hashes in that topic) likewise;
# then reads the topic with kcat: the instances' records have keys instance/<name>. Last,
# `jibe status -c FILE` (kafka.brokers set: the topic by default) merges the latest documents
# of a status topic made by `jibe topics --create` that also holds a file record and an older
# document of one instance.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"

: "${JIBE_BUILD:=$(dirname "$JIBE")}"
T="$JIBE_BUILD/tests/test_status_store_kafka"
[ -x "$T" ] || fail "$T is not built (make)"

kafka_start
echo "broker at $KAFKA_BOOTSTRAP"
KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP" "$T" >"$JIBE_TMP/unit.out" 2>&1 || {
	cat "$JIBE_TMP/unit.out"
	fail "test_status_store_kafka failed (see above)"
}
cat "$JIBE_TMP/unit.out"
# The parser's file hashes in the same topic (common/filehash.c's Kafka backend).
KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP" "$JIBE_BUILD/tests/test_filehash" >"$JIBE_TMP/filehash.out" 2>&1 || {
	cat "$JIBE_TMP/filehash.out"
	fail "test_filehash with a broker failed (see above)"
}
cat "$JIBE_TMP/filehash.out"
grep -q 'OK.*test_kafka_bad_values' "$JIBE_TMP/filehash.out" || fail "test_filehash did not run its Kafka tests"
topic=$(sed -n 's/^status topic: //p' "$JIBE_TMP/unit.out" | head -n 1)
[ -n "$topic" ] || fail "the test did not name its status topic"

kafka_consume "$topic" >"$JIBE_TMP/records"
keys=$(cut -f 3 "$JIBE_TMP/records" | sort | uniq -c | sed 's/^ *//')
echo "keys of $topic:"
printf '%s\n' "$keys"
printf '%s\n' "$keys" | grep -qx '2 instance/east-1' || fail "expected two records of instance/east-1"
printf '%s\n' "$keys" | grep -qx '1 instance/west-2' || fail "expected one record of instance/west-2"
[ "$(cut -f 3 "$JIBE_TMP/records" | grep -c '^/S3 Prod/ct-logs/')" = 2 ] ||
	fail "expected the scanner's two file records beside them"
echo "status records and file records share $topic: ok"

# jibe status over the topic: the latest document per instance, the file record skipped.
D="$JIBE_TOP/tests/data/status"
cat >"$JIBE_TMP/jibe-config.json" <<EOF2
{"endpoint": "http://127.0.0.1:9", "login": "admin", "password": "s3cret"}
EOF2
chmod 600 "$JIBE_TMP/jibe-config.json"
cat >"$JIBE_TMP/jibe.cfg" <<EOF2
access_anywhere = { credentials_json = "$JIBE_TMP/jibe-config.json"; allow_http = true; };
kafka = { brokers = "$KAFKA_BOOTSTRAP"; topic_prefix = "st2."; partitions = 2; replication = 1; };
state_dir = "$JIBE_TMP/state";
EOF2
"$JIBE" topics --create -c "$JIBE_TMP/jibe.cfg" >"$JIBE_TMP/topics.out" 2>&1 || {
	cat "$JIBE_TMP/topics.out"
	fail "jibe topics --create failed"
}
one_line() { python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$1"; }
{
	printf 'instance/east-1\t%s\n' "$(one_line "$D/east-1-old.json")"
	printf '/S3 Prod/ct-logs/AWSLogs/x/a.json.gz\t{"v":1,"state":"done","at_ms":1}\n'
	printf 'instance/west-2\t%s\n' "$(one_line "$D/west-2.json")"
	printf 'instance/east-1\t%s\n' "$(one_line "$D/east-1.json")"
} | kafka_produce st2.status
rc=0
"$JIBE" status -c "$JIBE_TMP/jibe.cfg" --now 2026-12-01T12:00:20Z --json >"$JIBE_TMP/report.json" \
	2>"$JIBE_TMP/status.err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$JIBE_TMP/status.err"; fail "jibe status over Kafka: exit $rc (want 1: west-2 reports FAILING)"; }
python3 - "$JIBE_TMP/report.json" "$D/east-1.json" <<'PY' || fail "jibe status over Kafka: wrong instances"
import json, sys
r = json.load(open(sys.argv[1]))
e = json.load(open(sys.argv[2]))
inst = {i["instance"]: i for i in r["instances"]}
print("instances from the topic:", sorted(inst))
assert sorted(inst) == ["east-1", "west-2"], sorted(inst)
assert inst["east-1"]["at_ms"] == e["at_ms"], (inst["east-1"]["at_ms"], e["at_ms"])
assert not [p for p in r["problems"] if p["kind"] == "bad_status"], r["problems"]
PY
echo "jibe status reads the status topic: ok"
