#!/bin/sh
# kafka.sh - a real single-node Apache Kafka broker (KRaft: one JVM is broker and controller)
# for tests, CI and demos, run from the jars that deploy/kafka/pom.xml brings from Maven Central.
#
#   sh deploy/kafka/kafka.sh fetch               copy the jars into $KAFKA_JARS (default
#                                                build/kafka/jars); quick when already there
#   sh deploy/kafka/kafka.sh start DIR           format DIR (first time), start the broker on
#                                                free 127.0.0.1 ports, wait until it answers
#                                                metadata (deadline 60 s), print host:port
#   sh deploy/kafka/kafka.sh stop DIR            SIGTERM, wait (deadline 30 s), then SIGKILL
#   sh deploy/kafka/kafka.sh restart DIR         stop, then start on the same ports and data
#   sh deploy/kafka/kafka.sh tool DIR CLASS ARGS run a Kafka tool class (e.g.
#                                                org.apache.kafka.tools.TopicCommand) with the
#                                                jars on the classpath; ARGS are passed as is
#   sh deploy/kafka/kafka.sh status DIR          exit 0 when the broker of DIR is running
#
# A cluster of N combined broker+controller nodes (a KRaft quorum of N voters), node I in DIR/I
# (a directory like a single broker's: stop, status and tool take DIR/I as well):
#   sh deploy/kafka/kafka.sh start-cluster DIR N [ADDR...]
#                                                N nodes; with N addresses node I listens on
#                                                ADDR_I:9092 (controller :9093; KAFKA_PORT,
#                                                KAFKA_CONTROLLER_PORT), without them on free
#                                                127.0.0.1 ports; formats on first start, waits
#                                                until every node answers and sees N brokers,
#                                                prints the bootstrap list (host:port,...);
#                                                again on a stopped cluster: starts what is down
#   sh deploy/kafka/kafka.sh stop-node DIR I     SIGTERM node I (as stop)
#   sh deploy/kafka/kafka.sh kill-node DIR I     SIGKILL node I, wait until it is gone
#   sh deploy/kafka/kafka.sh start-node DIR I    start node I again (same address and data)
#   sh deploy/kafka/kafka.sh restart-node DIR I  stop-node, then start-node
#   sh deploy/kafka/kafka.sh stop-cluster DIR    stop every node
# KAFKA_NODE_EXEC is a command prefix for a node's JVM and its checks, "{}" replaced by the
# node's number: 'ip netns exec jbt-42-k{}' runs node I in network namespace jbt-42-kI.
# The cluster's defaults: replication min(N, 3), and for its own topics (offsets,
# transactions) min.insync.replicas 2 when that is 3; `jibe topics --create` sets
# min.insync.replicas=2 on jibe's topics of 3 copies.
#
# DIR owns everything of one broker: server.properties, ports (broker and controller port,
# kept for restart), data/ (log.dirs and the KRaft metadata), kafka.log (the broker's log and
# its stdout/stderr), tools.log (what tool runs log), pid, bootstrap (host:port).
# The broker process belongs to whoever called start: call stop (tests do it at exit).
#
# Environment: KAFKA_JARS (jar dir), KAFKA_HEAP (broker -Xmx, default 384m),
# KAFKA_START_TIMEOUT (seconds, default 60), KAFKA_STOP_TIMEOUT (default 30), KAFKA_JVM_OPTS
# (extra JVM options), JAVA (default java), MVN (default mvn), KCAT (default kcat),
# KAFKA_HEAP_NODE (a cluster node's -Xmx, default 256m: three fit beside the test suite).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
KAFKA_JARS=${KAFKA_JARS:-$TOP/build/kafka/jars}
KAFKA_HEAP=${KAFKA_HEAP:-384m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
# Serial GC and the C1 compiler only: same start time, ~50 MB less memory, less CPU on 2 cores.
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}
KCAT=${KCAT:-kcat}

die() {
	echo "kafka.sh: $*" >&2
	exit 1
}

need() { # command, what to install
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install $2 (make deps does it)"
}

pom_hash() {
	sha256sum "$HERE/pom.xml" | cut -d' ' -f1
}

jars_ready() {
	[ -f "$KAFKA_JARS/.stamp" ] && [ "$(cat "$KAFKA_JARS/.stamp")" = "$(pom_hash)" ]
}

cmd_fetch() {
	jars_ready && return 0
	need "$JAVA" "a Java 17 runtime (Debian: openjdk-17-jdk-headless)"
	need "$MVN" "Maven (Debian: maven)"
	echo "kafka.sh: fetching the Kafka jars into $KAFKA_JARS" >&2
	rm -rf "$KAFKA_JARS"
	mkdir -p "$KAFKA_JARS"
	# pom packaging: copy-dependencies builds nothing and leaves no target/ behind.
	# Its output is kept aside (Debian's mvn prints colour codes even with -q -B) and shown
	# only when it fails.
	mlog=$(mktemp)
	"$MVN" -q -B -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
		-DoutputDirectory="$KAFKA_JARS" >"$mlog" 2>&1 || {
		sed 's/\x1b\[[0-9;]*m//g' "$mlog" | tail -n 30 >&2
		rm -f "$mlog"
		die "mvn could not fetch the Kafka jars (see above)"
	}
	rm -f "$mlog"
	ls "$KAFKA_JARS"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar in $KAFKA_JARS after mvn"
	pom_hash >"$KAFKA_JARS/.stamp"
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The pid in DIR/pid, if that process is alive, not a zombie, and a broker of DIR.
live_pid() {
	[ -f "$1/pid" ] || return 1
	lp=$(cat "$1/pid")
	[ -n "$lp" ] && [ -r "/proc/$lp/cmdline" ] || return 1
	case "$(cut -d')' -f2 "/proc/$lp/stat" 2>/dev/null)" in " Z"* | " X"*) return 1 ;; esac
	tr '\0' ' ' <"/proc/$lp/cmdline" | grep -q -- "$1/server.properties" || return 1
	echo "$lp"
}

write_log4j() { # file, log file, root level
	cat >"$1" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- written by kafka.sh: everything goes to one file, nothing to the terminal -->
<Configuration status="WARN">
  <Appenders>
    <File name="file" fileName="$2" append="true">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </File>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="org.apache.kafka.storage.internals.log" level="WARN"/>
    <Root level="$3"><AppenderRef ref="file"/></Root>
  </Loggers>
</Configuration>
EOF
}

write_config() { # dir, port, controller port
	cat >"$1/server.properties" <<EOF
# written by kafka.sh: one KRaft node that is broker and controller, loopback only
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$3
listeners=PLAINTEXT://127.0.0.1:$2,CONTROLLER://127.0.0.1:$3
advertised.listeners=PLAINTEXT://127.0.0.1:$2
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$1/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.check.interval.ms=5000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
EOF
}

broker_answers() { # host:port
	"$KCAT" -b "$1" -L -m 2 2>/dev/null | grep -q "broker 1 at"
}

java_opts() { # heap
	echo "-Xmx$1 -Xms64m -XX:MaxDirectMemorySize=128m -Djava.awt.headless=true $KAFKA_JVM_OPTS"
}

cmd_start() {
	d=${1:?usage: kafka.sh start DIR}
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	need python3 "python3"
	need "$KCAT" "kcat"
	cmd_fetch
	if lp=$(live_pid "$d"); then
		die "a broker already runs in $d (pid $lp)"
	fi
	if [ -f "$d/ports" ]; then
		read -r port cport <"$d/ports"
	else
		port=$(free_port)
		cport=$(free_port)
		while [ "$cport" = "$port" ]; do cport=$(free_port); done
		echo "$port $cport" >"$d/ports"
	fi
	write_config "$d" "$port" "$cport"
	write_log4j "$d/log4j2.xml" "$d/kafka.log" INFO
	write_log4j "$d/tools-log4j2.xml" "$d/tools.log" WARN
	cp_="$KAFKA_JARS/*"
	if [ ! -f "$d/data/meta.properties" ]; then
		# (a cluster id may start with '-': pass it as --cluster-id=ID, never as a separate word)
		cid=$(python3 -c 'import base64, uuid
print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
		# shellcheck disable=SC2046
		"$JAVA" $(java_opts 256m) -Dlog4j2.configurationFile="$d/tools-log4j2.xml" -cp "$cp_" \
			kafka.tools.StorageTool format --cluster-id="$cid" -c "$d/server.properties" \
			>>"$d/kafka.log" 2>&1 || {
			tail -n 20 "$d/kafka.log" >&2
			die "could not format the storage in $d/data (see $d/kafka.log)"
		}
	fi
	t0=$(date +%s)
	# shellcheck disable=SC2046
	"$JAVA" $(java_opts "$KAFKA_HEAP") -Dlog4j2.configurationFile="$d/log4j2.xml" \
		-cp "$cp_" kafka.Kafka "$d/server.properties" </dev/null >>"$d/kafka.log" 2>&1 &
	echo $! >"$d/pid"
	pid=$!
	echo "127.0.0.1:$port" >"$d/bootstrap"
	end=$((t0 + KAFKA_START_TIMEOUT))
	while ! broker_answers "127.0.0.1:$port"; do
		if ! live_pid "$d" >/dev/null; then
			tail -n 30 "$d/kafka.log" >&2
			die "the broker exited during start (log: $d/kafka.log)"
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			tail -n 30 "$d/kafka.log" >&2
			die "the broker did not answer within ${KAFKA_START_TIMEOUT}s (log: $d/kafka.log)"
		fi
		sleep 0.2
	done
	echo "127.0.0.1:$port"
}

cmd_stop() {
	d=${1:?usage: kafka.sh stop DIR}
	[ -d "$d" ] || return 0
	d=$(cd "$d" && pwd)
	pid=$(live_pid "$d") || {
		rm -f "$d/pid"
		return 0
	}
	kill -TERM "$pid" 2>/dev/null || true
	end=$(($(date +%s) + ${KAFKA_STOP_TIMEOUT:-30}))
	while live_pid "$d" >/dev/null; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "kafka.sh: the broker (pid $pid) ignored SIGTERM, killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	while live_pid "$d" >/dev/null; do sleep 0.1; done
	rm -f "$d/pid"
}

cmd_tool() {
	d=${1:?usage: kafka.sh tool DIR CLASS ARGS...}
	c=${2:?usage: kafka.sh tool DIR CLASS ARGS...}
	shift 2
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	jars_ready || die "no Kafka jars in $KAFKA_JARS: run 'sh deploy/kafka/kafka.sh fetch'"
	[ -f "$d/tools-log4j2.xml" ] || write_log4j "$d/tools-log4j2.xml" "$d/tools.log" WARN
	# shellcheck disable=SC2046
	exec "$JAVA" $(java_opts 256m) -Dlog4j2.configurationFile="$d/tools-log4j2.xml" \
		-cp "$KAFKA_JARS/*" "$c" "$@"
}

# ---- clusters ----

node_exec() { # node number: the command prefix for that node (may be empty)
	printf '%s' "${KAFKA_NODE_EXEC:-}" | sed "s/{}/$1/g"
}

write_cluster_config() { # node dir, node id, addr, port, cport, voters, n
	wc_rep=$7
	[ "$wc_rep" -gt 3 ] && wc_rep=3
	wc_isr=1
	[ "$wc_rep" -ge 3 ] && wc_isr=2
	cat >"$1/server.properties" <<EOF
# written by kafka.sh start-cluster: node $2 of a $7-node KRaft cluster, broker and controller
process.roles=broker,controller
node.id=$2
controller.quorum.voters=$6
listeners=PLAINTEXT://$3:$4,CONTROLLER://$3:$5
advertised.listeners=PLAINTEXT://$3:$4
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$1/data
num.partitions=1
default.replication.factor=$wc_rep
offsets.topic.replication.factor=$wc_rep
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$wc_rep
transaction.state.log.min.isr=$wc_isr
share.coordinator.state.topic.replication.factor=$wc_rep
share.coordinator.state.topic.min.isr=$wc_isr
min.insync.replicas=1
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.check.interval.ms=5000
replica.lag.time.max.ms=10000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
EOF
}

# True when node I (its dir) answers metadata and lists at least N brokers.
node_answers() { # node dir, i, n
	na_b=$(cat "$1/bootstrap")
	# shellcheck disable=SC2046
	na_n=$($(node_exec "$2") "$KCAT" -b "$na_b" -L -m 2 2>/dev/null | grep -c '^  broker [0-9]* at') || true
	[ "${na_n:-0}" -ge "$3" ]
}

cmd_start_node() { # DIR I [N]: start node I of the cluster in DIR, wait until it sees N brokers
	d=${1:?usage: kafka.sh start-node DIR I}
	i=${2:?usage: kafka.sh start-node DIR I}
	d=$(cd "$d" && pwd)
	nd="$d/$i"
	[ -f "$nd/server.properties" ] || die "no node $i in $d: run start-cluster first"
	if lp=$(live_pid "$nd"); then
		die "node $i already runs in $nd (pid $lp)"
	fi
	ex=$(node_exec "$i")
	# shellcheck disable=SC2046,SC2086
	$ex "$JAVA" $(java_opts "${KAFKA_HEAP_NODE:-256m}") -Dlog4j2.configurationFile="$nd/log4j2.xml" \
		-cp "$KAFKA_JARS/*" kafka.Kafka "$nd/server.properties" </dev/null >>"$nd/kafka.log" 2>&1 &
	pid=$!
	echo "$pid" >"$nd/pid"
	end=$(($(date +%s) + KAFKA_START_TIMEOUT))
	while ! node_answers "$nd" "$i" "${3:-1}"; do
		if ! live_pid "$nd" >/dev/null; then
			tail -n 30 "$nd/kafka.log" >&2
			die "node $i exited during start (log: $nd/kafka.log)"
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			tail -n 30 "$nd/kafka.log" >&2
			die "node $i did not answer within ${KAFKA_START_TIMEOUT}s (log: $nd/kafka.log)"
		fi
		sleep 0.3
	done
}

cmd_start_cluster() { # DIR N [ADDR...]
	d=${1:?usage: kafka.sh start-cluster DIR N [ADDR...]}
	n=${2:?usage: kafka.sh start-cluster DIR N [ADDR...]}
	shift 2
	case "$n" in '' | *[!0-9]*) die "start-cluster: N must be a number, not '$n'" ;; esac
	[ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "start-cluster: N must be 1..9"
	[ $# -eq 0 ] || [ $# -eq "$n" ] || die "start-cluster: give $n addresses or none"
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	need python3 "python3"
	need "$KCAT" "kcat"
	cmd_fetch
	if [ ! -f "$d/nodes" ]; then
		# first start: addresses, ports and the quorum are fixed here and kept for restarts
		voters=
		for i in $(seq 1 "$n"); do
			if [ $# -gt 0 ]; then
				a=$1
				shift
				port=${KAFKA_PORT:-9092}
				cport=${KAFKA_CONTROLLER_PORT:-9093}
			else
				a=127.0.0.1
				port=$(free_port)
				cport=$(free_port)
				while [ "$cport" = "$port" ]; do cport=$(free_port); done
			fi
			mkdir -p "$d/$i"
			echo "$a $port $cport" >"$d/$i/addr"
			echo "$a:$port" >"$d/$i/bootstrap"
			voters="$voters${voters:+,}$i@$a:$cport"
		done
		boot=
		for i in $(seq 1 "$n"); do
			read -r a port cport <"$d/$i/addr"
			write_cluster_config "$d/$i" "$i" "$a" "$port" "$cport" "$voters" "$n"
			write_log4j "$d/$i/log4j2.xml" "$d/$i/kafka.log" INFO
			write_log4j "$d/$i/tools-log4j2.xml" "$d/$i/tools.log" WARN
			boot="$boot${boot:+,}$a:$port"
		done
		cid=$(python3 -c 'import base64, uuid
print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')
		for i in $(seq 1 "$n"); do
			# shellcheck disable=SC2046
			"$JAVA" $(java_opts 256m) -Dlog4j2.configurationFile="$d/$i/tools-log4j2.xml" \
				-cp "$KAFKA_JARS/*" kafka.tools.StorageTool format --cluster-id="$cid" \
				-c "$d/$i/server.properties" >>"$d/$i/kafka.log" 2>&1 || {
				tail -n 20 "$d/$i/kafka.log" >&2
				die "could not format the storage of node $i (see $d/$i/kafka.log)"
			}
		done
		echo "$boot" >"$d/bootstrap"
		echo "$n" >"$d/nodes"
	fi
	n=$(cat "$d/nodes")
	# the JVMs start together (the quorum needs a majority), then each is waited for
	starters=
	for i in $(seq 1 "$n"); do
		live_pid "$d/$i" >/dev/null && continue
		(cmd_start_node "$d" "$i" "$n") &
		starters="$starters $!"
	done
	ok=1
	for sp in $starters; do
		wait "$sp" || ok=0
	done
	[ "$ok" = 1 ] || {
		cmd_stop_cluster "$d"
		die "the cluster in $d did not start"
	}
	cat "$d/bootstrap"
}

cmd_kill_node() { # DIR I
	nd="${1:?usage: kafka.sh kill-node DIR I}/${2:?usage: kafka.sh kill-node DIR I}"
	[ -d "$nd" ] || die "no node $2 in $1"
	nd=$(cd "$nd" && pwd)
	pid=$(live_pid "$nd") || return 0
	kill -KILL "$pid" 2>/dev/null || true
	end=$(($(date +%s) + 30))
	while live_pid "$nd" >/dev/null; do
		[ "$(date +%s)" -ge "$end" ] && die "node $2 (pid $pid) survived SIGKILL for 30 s"
		sleep 0.1
	done
	rm -f "$nd/pid"
}

cmd_stop_cluster() { # DIR
	[ -f "${1:?usage: kafka.sh stop-cluster DIR}/nodes" ] || return 0
	# together: the last node of a quorum stopped one by one cannot shut down cleanly
	stoppers=
	for i in $(seq 1 "$(cat "$1/nodes")"); do
		(cmd_stop "$1/$i") &
		stoppers="$stoppers $!"
	done
	for sp in $stoppers; do
		wait "$sp" || true
	done
}

sub=${1:-}
[ $# -gt 0 ] && shift
case "$sub" in
fetch) cmd_fetch ;;
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
restart)
	cmd_stop "${1:?usage: kafka.sh restart DIR}"
	cmd_start "$1"
	;;
status) live_pid "${1:?usage: kafka.sh status DIR}" >/dev/null ;;
start-cluster) cmd_start_cluster "$@" ;;
start-node)
	cmd_fetch
	cmd_start_node "${1:?usage: kafka.sh start-node DIR I}" "${2:?usage: kafka.sh start-node DIR I}"
	;;
stop-node) cmd_stop "${1:?usage: kafka.sh stop-node DIR I}/${2:?usage: kafka.sh stop-node DIR I}" ;;
kill-node) cmd_kill_node "$@" ;;
restart-node)
	cmd_stop "${1:?usage: kafka.sh restart-node DIR I}/${2:?usage: kafka.sh restart-node DIR I}"
	cmd_start_node "$1" "$2"
	;;
stop-cluster) cmd_stop_cluster "$@" ;;
tool) cmd_tool "$@" ;;
*) die "usage: kafka.sh fetch | start DIR | stop DIR | restart DIR | status DIR | tool DIR CLASS ARGS... | start-cluster DIR N [ADDR...] | start-node|stop-node|kill-node|restart-node DIR I | stop-cluster DIR" ;;
esac
