#!/bin/sh
# 0410-q-kafka.sh - the Kafka transport (common/q_kafka.c) against a real broker: runs
# $JIBE_BUILD/tests/test_q_kafka (round trip, completion chain and commits, out-of-order acks,
# abandon and redelivery, pause under slow work, shutdown, undelivered messages at free)
# with KAFKA_BOOTSTRAP pointing at a fresh single-node broker; then checks with Kafka's own tools
# that the group committed everything and that the topics got their settings.
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

# Topic settings made by kadmin_create_topics (test_create_topics' prefix ends in "create.").
kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --list \
	>"$JIBE_TMP/topics" || kafka_fail "cannot list topics"
st=$(grep 'create\.status$' "$JIBE_TMP/topics" | head -n 1)
[ -n "$st" ] || fail "no status topic from test_create_topics: $(cat "$JIBE_TMP/topics")"
pre=${st%status}
kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --describe \
	--topic "${pre}status" >"$JIBE_TMP/desc-status" || kafka_fail "cannot describe ${pre}status"
grep -q 'cleanup.policy=compact' "$JIBE_TMP/desc-status" || fail "status is not compacted: $(cat "$JIBE_TMP/desc-status")"
kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --describe \
	--topic "${pre}events" >"$JIBE_TMP/desc-events" || kafka_fail "cannot describe ${pre}events"
grep -q 'cleanup.policy=delete' "$JIBE_TMP/desc-events" && grep -q 'retention.ms=3600000' "$JIBE_TMP/desc-events" ||
	fail "events settings: $(cat "$JIBE_TMP/desc-events")"
grep -q 'PartitionCount: 3' "$JIBE_TMP/desc-events" || fail "events has not 3 partitions: $(cat "$JIBE_TMP/desc-events")"
kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --describe \
	--topic "${pre}dead" >"$JIBE_TMP/desc-dead" || kafka_fail "cannot describe ${pre}dead"
grep -q 'retention.ms=2592000000' "$JIBE_TMP/desc-dead" || fail "dead letters are not kept 30 days: $(cat "$JIBE_TMP/desc-dead")"
echo "topic settings as created: ok"
