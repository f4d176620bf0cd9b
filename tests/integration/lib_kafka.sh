# lib_kafka.sh - a real Kafka broker for integration tests (deploy/kafka/kafka.sh: one KRaft
# node, 127.0.0.1, free ports). Source it after lib.sh (POSIX sh):
#
#     . "$JIBE_TOP/tests/integration/lib.sh"
#     . "$JIBE_TOP/tests/integration/lib_kafka.sh"
#
# The jars come from `make deps` (sh deploy/kafka/kafka.sh fetch); kcat (Debian's, on the
# system librdkafka) is the client the helpers use. The broker is stopped when the test exits,
# whatever happens (lib.sh's on_exit); its log is $KAFKA_DIR/kafka.log.
#
#   kafka_start                 start a broker in $JIBE_TMP/kafka (deadline 60 s); exports
#                               KAFKA_BOOTSTRAP (127.0.0.1:port) and KAFKA_DIR
#   kafka_stop                  SIGTERM, wait, SIGKILL after 30 s; quiet when none runs
#   kafka_restart               stop, then start again on the same port and data
#   kafka_running               exit 0 while the broker process of $KAFKA_DIR is alive
#   kafka_tool CLASS ARGS...    run a Kafka tool class with ARGS as given (add
#                               --bootstrap-server "$KAFKA_BOOTSTRAP" yourself), e.g.
#                               org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
#   kafka_topics_create NAME PARTITIONS [CONFIG...]
#                               create a topic (replication 1) through TopicCommand; each
#                               CONFIG is K=V (e.g. retention.ms=60000)
#   kafka_produce TOPIC         produce stdin's lines "KEY<TAB>VALUE" (one message per line)
#   kafka_consume TOPIC         print every message from the beginning to the current end as
#                               "PARTITION<TAB>OFFSET<TAB>KEY<TAB>VALUE", no group
#   kafka_group_consume GROUP TOPIC
#                               consume as member of GROUP from its committed offsets (or the
#                               beginning) to the current end, commit, print like kafka_consume
#   kafka_group_describe GROUP  ConsumerGroupCommand --describe output (header + a partition a line)
#   kafka_group_lag GROUP       print the sum of GROUP's lag over its partitions (fails if a
#                               partition has no committed offset)
#   kafka_fail MSG              fail, showing the last lines of the broker's log

KAFKA_DIR=
KAFKA_BOOTSTRAP=
KAFKA_SH="$JIBE_TOP/deploy/kafka/kafka.sh"
LIB_KAFKA_TRAP=

kafka_fail() {
	if [ -n "$KAFKA_DIR" ] && [ -f "$KAFKA_DIR/kafka.log" ]; then
		echo "--- last lines of $KAFKA_DIR/kafka.log:" >&2
		tail -n 20 "$KAFKA_DIR/kafka.log" >&2
	fi
	fail "$@"
}

kafka_start() {
	KAFKA_DIR="$JIBE_TMP/kafka"
	export KAFKA_DIR
	if [ -z "$LIB_KAFKA_TRAP" ]; then
		on_exit kafka_stop
		LIB_KAFKA_TRAP=1
	fi
	KAFKA_BOOTSTRAP=$(sh "$KAFKA_SH" start "$KAFKA_DIR") || kafka_fail "the Kafka broker did not start"
	export KAFKA_BOOTSTRAP
}

kafka_stop() {
	[ -n "$KAFKA_DIR" ] || return 0
	sh "$KAFKA_SH" stop "$KAFKA_DIR"
}

kafka_restart() {
	[ -n "$KAFKA_DIR" ] || fail "kafka_restart: no broker was started"
	kr_b=$(sh "$KAFKA_SH" restart "$KAFKA_DIR") || kafka_fail "the Kafka broker did not restart"
	[ "$kr_b" = "$KAFKA_BOOTSTRAP" ] || kafka_fail "the broker came back on $kr_b, not $KAFKA_BOOTSTRAP"
}

kafka_running() {
	sh "$KAFKA_SH" status "$KAFKA_DIR"
}

kafka_tool() {
	sh "$KAFKA_SH" tool "$KAFKA_DIR" "$@"
}

kafka_topics_create() {
	ktc_name=$1
	ktc_parts=$2
	shift 2
	for ktc_c in "$@"; do
		set -- "$@" --config "$ktc_c"
		shift
	done
	kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
		--create --topic "$ktc_name" --partitions "$ktc_parts" --replication-factor 1 "$@" >/dev/null ||
		kafka_fail "could not create topic $ktc_name"
}

kafka_produce() {
	timeout 30 kcat -b "$KAFKA_BOOTSTRAP" -P -t "$1" -K '\t' -X acks=all ||
		kafka_fail "kcat could not produce to $1"
}

kafka_consume() {
	timeout 30 kcat -b "$KAFKA_BOOTSTRAP" -C -t "$1" -o beginning -e -q \
		-f '%p\t%o\t%k\t%s\n' || kafka_fail "kcat could not consume $1"
}

kafka_group_consume() {
	timeout 30 kcat -b "$KAFKA_BOOTSTRAP" -G "$1" -e -q -f '%p\t%o\t%k\t%s\n' \
		-X auto.offset.reset=earliest "$2" ||
		kafka_fail "kcat could not consume $2 in group $1"
}

kafka_group_describe() {
	kafka_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
		--bootstrap-server "$KAFKA_BOOTSTRAP" --describe --group "$1" ||
		kafka_fail "ConsumerGroupCommand could not describe group $1"
}

kafka_group_lag() {
	kgl_out=$(kafka_group_describe "$1") || exit 1
	printf '%s\n' "$kgl_out" | awk -v g="$1" '
		$1 == g && $3 ~ /^[0-9]+$/ { n++; if ($6 !~ /^[0-9]+$/) bad = 1; else lag += $6 }
		END { if (n == 0 || bad) exit 1; print lag }' ||
		kafka_fail "no committed offsets for every partition of group $1: $kgl_out"
}
