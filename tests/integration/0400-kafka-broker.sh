#!/bin/sh
# 0400-kafka-broker.sh - the test Kafka broker (deploy/kafka/kafka.sh) works with the system
# librdkafka (through kcat) and Kafka's own tools: a 3-partition topic, 100 keyed messages,
# a consumer group that commits, lag 0 seen by ConsumerGroupCommand, nothing lost across a
# broker restart (messages and committed offsets), and no process left after stop.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"

t0=$(date +%s)
kafka_start
echo "broker at $KAFKA_BOOTSTRAP, started in $(( $(date +%s) - t0 ))s"
case "$KAFKA_BOOTSTRAP" in 127.0.0.1:[0-9]*) ;; *) fail "bootstrap is not a loopback address: $KAFKA_BOOTSTRAP" ;; esac
kafka_running || fail "no broker process after kafka_start"

T=jibe-0400
kafka_topics_create "$T" 3 retention.ms=3600000
kcat -b "$KAFKA_BOOTSTRAP" -L -t "$T" -m 5 >"$JIBE_TMP/meta" || kafka_fail "no metadata for $T"
grep -q "topic \"$T\" with 3 partitions" "$JIBE_TMP/meta" || fail "topic $T has not 3 partitions: $(cat "$JIBE_TMP/meta")"
# TopicCommand agrees, and the config was applied.
kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
	--describe --topic "$T" >"$JIBE_TMP/desc" || kafka_fail "TopicCommand --describe failed"
grep -q "retention.ms=3600000" "$JIBE_TMP/desc" || fail "topic config not applied: $(cat "$JIBE_TMP/desc")"

# 100 messages over 10 keys: obj-K / seq-N.
i=1
while [ "$i" -le 100 ]; do
	printf 'obj-%d\tseq-%d\n' $((i % 10)) "$i"
	i=$((i + 1))
done | kafka_produce "$T"

# Every message is there once, each key on one partition, in order within its key.
check_all() { # file, expected count
	n=$(wc -l <"$1")
	[ "$n" -eq "$2" ] || fail "expected $2 messages, got $n"
	[ "$(cut -f4 "$1" | sort -u | wc -l)" -eq "$2" ] || fail "duplicate values in $1"
	awk -F'\t' '
		{ s = substr($4, 5) + 0 }
		($3 in part) && part[$3] != $1 { print "key " $3 " on partitions " part[$3] " and " $1; bad = 1 }
		($3 in last) && last[$3] >= s { print "key " $3 ": seq " s " after " last[$3]; bad = 1 }
		!($1 in p) { np++ }
		{ part[$3] = $1; last[$3] = s; p[$1] = 1 }
		END { if (np < 2) { print "all keys on one partition"; bad = 1 }; exit bad }' "$1" ||
		fail "keyed order broken in $1"
}
kafka_consume "$T" | sort -t "$(printf '\t')" -k1,1n -k2,2n >"$JIBE_TMP/all1"
check_all "$JIBE_TMP/all1" 100

# A consumer group reads them all and commits: lag 0 on each of the 3 partitions.
G=jibe-0400-g
kafka_group_consume "$G" "$T" >"$JIBE_TMP/g1"
[ "$(wc -l <"$JIBE_TMP/g1")" -eq 100 ] || fail "group read $(wc -l <"$JIBE_TMP/g1") messages, not 100"
kafka_group_describe "$G" >"$JIBE_TMP/gd"
cat "$JIBE_TMP/gd"
awk -v g="$G" -v t="$T" '$1 == g && $2 == t { n++; off += $4; if ($6 != "0") bad = 1 }
	END { exit !(n == 3 && off == 100 && !bad) }' "$JIBE_TMP/gd" ||
	fail "ConsumerGroupCommand does not show 3 partitions at lag 0 and 100 committed"
[ "$(kafka_group_lag "$G")" = 0 ] || fail "kafka_group_lag is not 0"
kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
	--bootstrap-server "$KAFKA_BOOTSTRAP" --list | grep -qx "$G" || fail "group $G not listed"

# Restart on the same port and data: nothing lost, committed offsets kept.
t1=$(date +%s)
kafka_restart
echo "restarted in $(( $(date +%s) - t1 ))s"
kafka_consume "$T" | sort -t "$(printf '\t')" -k1,1n -k2,2n >"$JIBE_TMP/all2"
cmp -s "$JIBE_TMP/all1" "$JIBE_TMP/all2" || fail "messages differ after restart"
kafka_group_consume "$G" "$T" >"$JIBE_TMP/g2"
[ ! -s "$JIBE_TMP/g2" ] || fail "group re-read $(wc -l <"$JIBE_TMP/g2") messages after restart"
printf 'obj-1\tseq-101\nobj-2\tseq-102\n' | kafka_produce "$T"
[ "$(kafka_group_lag "$G")" = 2 ] || fail "lag is not 2 after 2 new messages"
kafka_group_consume "$G" "$T" >"$JIBE_TMP/g3"
[ "$(cut -f4 "$JIBE_TMP/g3" | sort | tr '\n' ' ')" = "seq-101 seq-102 " ] ||
	fail "group read after restart: $(cat "$JIBE_TMP/g3")"
[ "$(kafka_group_lag "$G")" = 0 ] || fail "lag is not 0 at the end"

# Stop: no broker process is left.
pid=$(cat "$KAFKA_DIR/pid")
kafka_stop
! kafka_running || fail "the broker still runs after kafka_stop"
# Gone, or a zombie that init has not reaped yet (the broker's parent, kafka.sh start, is gone).
st=$(cut -d')' -f2 "/proc/$pid/stat" 2>/dev/null || true)
case "$st" in "" | " Z"* | " X"*) ;; *) fail "broker pid $pid still runs (state$st)" ;; esac
! pgrep -f "$KAFKA_DIR/server.properties" >/dev/null || fail "a process still uses $KAFKA_DIR"
! kcat -b "$KAFKA_BOOTSTRAP" -L -m 2 >/dev/null 2>&1 || fail "something still answers on $KAFKA_BOOTSTRAP"
echo "total $(( $(date +%s) - t0 ))s"
