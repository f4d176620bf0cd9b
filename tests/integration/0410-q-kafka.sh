#!/bin/sh
# 0410-q-kafka.sh - the Kafka transport (common/q_kafka.c) against a real broker: runs
# $JIBE_BUILD/tests/test_q_kafka (round trip, completion chain and commits, out-of-order acks,
# abandon and redelivery, pause under slow work, shutdown, undelivered messages at free)
# with KAFKA_BOOTSTRAP pointing at a fresh single-node broker.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"

: "${JIBE_BUILD:=$(dirname "$JIBE")}"
T="$JIBE_BUILD/tests/test_q_kafka"
[ -x "$T" ] || fail "$T is not built (make)"

kafka_start
echo "broker at $KAFKA_BOOTSTRAP"
KAFKA_BOOTSTRAP="$KAFKA_BOOTSTRAP" "$T" || fail "test_q_kafka failed (see above)"

# The transport's topics are what ConsumerGroupCommand sees too: no group is left with
# members once every transport was freed.
kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
	--bootstrap-server "$KAFKA_BOOTSTRAP" --list >"$JIBE_TMP/groups" || kafka_fail "cannot list groups"
grep -q 'rt.group$' "$JIBE_TMP/groups" || fail "the round-trip group is not known to the broker: $(cat "$JIBE_TMP/groups")"
g=$(grep 'rt.group$' "$JIBE_TMP/groups" | head -n 1)
kafka_group_describe "$g" >"$JIBE_TMP/gd" 2>&1 || true
cat "$JIBE_TMP/gd"
[ "$(kafka_group_lag "$g")" = 0 ] || fail "group $g has lag after the round trip"
