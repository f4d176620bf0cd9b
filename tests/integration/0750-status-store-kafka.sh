#!/bin/sh
# 0750-status-store-kafka.sh - the status store in the compacted status topic
# (common/status_store_kafka.c) against a real broker: runs $JIBE_BUILD/tests/test_status_store_kafka
# (two instances put, one puts again, list() gives both with their latest documents, and the
# scanner's store in the same topic still loads exactly its file records, without a warning
# about the instances' records) with KAFKA_BOOTSTRAP pointing at a fresh single-node broker;
# then reads the topic with kcat: the instances' records have keys instance/<name>.
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
