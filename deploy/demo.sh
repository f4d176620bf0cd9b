#!/bin/sh
# demo.sh - `make demo`: jibe's main job on the embedded default, end to end, on this machine.
# `make demo-kafka` (DEMO_MODE=kafka): the same with the distributed mode, every stage its own
# process (one scanner, two parsers, two syncers) over a real single-node Kafka broker.
#
# Generates a deployment (two Access Anywhere providers, six data buckets, a CloudTrail log
# bucket with three hours of history from three accounts), starts the Access Anywhere
# simulator on it, runs `jibe run` against it, lets live changes arrive three times, and
# shows the index converging to the S3 truth. Everything lives in a temporary directory
# that is removed at the end (DEMO_KEEP=1 keeps it). Needs the build (make does it).
set -eu
B=${1:-build/release}
B=$(cd "$B" && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/jibe-demo.XXXXXX")
SIM_PID=
JIBE_PID=
STAGE_PIDS=
MODE=${DEMO_MODE:-embedded}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cleanup() {
	[ -n "$JIBE_PID" ] && kill -TERM "$JIBE_PID" 2>/dev/null && wait "$JIBE_PID" 2>/dev/null
	for p in $STAGE_PIDS; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	[ "$MODE" = kafka ] && sh "$TOP/deploy/kafka/kafka.sh" stop "$D/kafka" >/dev/null 2>&1
	[ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	if [ "${DEMO_KEEP:-}" = 1 ]; then echo "demo: files kept in $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
stats() {
	curl -sS "$URL/sim/diff?exclude=ct-logs" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("index vs S3 truth: %s (missing %d, extra %d, stale %d)" % ("EQUAL" if d["equal"] else "differs",
      d.get("n_missing", 0), d.get("n_extra", 0), d.get("n_stale", 0)))'
	curl -sS "$URL/sim/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("server saw: %d log files downloaded, %d object resyncs, %d bucket resyncs" % (
      sum(v for k, v in s["downloads"].items() if k.startswith("ct-logs/")),
      sum(s["sync"].values()), sum(s.get("sync_buckets", {}).values())))'
	if [ "$MODE" = kafka ]; then
		"$B/jibe" lag -c "$D/jibe.cfg" | sed 's/^/  /'
	else
		grep "progress:" "$D/jibe.log" | tail -n 1 | sed 's/.*progress: /jibe: /'
	fi
}
equal() { curl -sS "$URL/sim/diff?exclude=ct-logs" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["equal"] else 1)'; }
wait_equal() {
	n=0
	until equal; do
		n=$((n + 1))
		[ $n -gt 600 ] && { echo "demo: did not converge in 120 s; see $D/jibe.log"; DEMO_KEEP=1; exit 1; }
		[ $((n % 25)) -eq 0 ] && stats
		sleep 0.2
	done
}

say "generating a deployment with 3 hours of CloudTrail history in $D"
"$B/jibe-ctgen" init --root "$D/aa" --seed 42 >/dev/null
"$B/jibe-ctgen" history --root "$D/aa" --seed 42 --hours 3 >/dev/null
echo "$(wc -l <"$D/aa/ctgen/files.txt") log files, $(wc -l <"$D/aa/ctgen/expected-events.jsonl") object changes to sync"

say "starting the Access Anywhere simulator"
"$B/jibe-aa-sim" --root "$D/aa" --port 0 --port-file "$D/port" --quiet 2>"$D/sim.log" &
SIM_PID=$!
i=0
until [ -s "$D/port" ]; do i=$((i + 1)); [ $i -gt 100 ] && { echo "demo: simulator did not start"; exit 1; }; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$D/port")"
echo "listening on $URL"
stats

printf '{"endpoint": "%s", "login": "admin", "password": "s3cret"}\n' "$URL" >"$D/jibe-config.json"
chmod 600 "$D/jibe-config.json"
if [ "$MODE" = kafka ]; then
	say "starting a single-node Kafka broker (KRaft) from the Maven Central jars"
	sh "$TOP/deploy/kafka/kafka.sh" fetch
	BOOT=$(sh "$TOP/deploy/kafka/kafka.sh" start "$D/kafka" | tail -n 1)
	BOOT=$(cat "$D/kafka/bootstrap")
	echo "broker at $BOOT"
	cat >"$D/jibe.cfg" <<EOF2
access_anywhere = { credentials_json = "$D/jibe-config.json"; allow_http = true; };
scanner = { interval_s = 5; };
$(cat "$D/aa/ctgen/jibe-self.cfg")
kafka = { brokers = "$BOOT"; topic_prefix = "jibe."; partitions = 4; replication = 1; };
status = { publish_s = 5; };
report = { interval_min = 0.1; };
state_dir = "$D/state";
EOF2
	"$B/jibe" topics --create -c "$D/jibe.cfg"
	say "starting jibe scan, 2 x jibe parse, 2 x jibe sync (logs in $D/*.log)"
	for st in scan:s1 parse:p1 parse:p2 sync:y1 sync:y2; do
		"$B/jibe" "${st%%:*}" -c "$D/jibe.cfg" --instance-id "demo-${st##*:}" 2>"$D/${st##*:}.log" &
		STAGE_PIDS="$STAGE_PIDS $!"
	done
else
	say "starting jibe run (scan every 5 s; log in $D/jibe.log)"
	cat >"$D/jibe.cfg" <<EOF2
access_anywhere = { credentials_json = "$D/jibe-config.json"; allow_http = true; };
scanner = { interval_s = 5; };
$(cat "$D/aa/ctgen/jibe-self.cfg")
status = { publish_s = 5; };
report = { interval_min = 0.1; };
state_dir = "$D/state";
log_file = "$D/jibe.log";
EOF2
	"$B/jibe" run -c "$D/jibe.cfg" &
	JIBE_PID=$!
fi
start=$(date +%s)
wait_equal
echo "converged after $(( $(date +%s) - start )) s"
stats

for round in 1 2 3; do
	say "live changes, round $round: applications write to S3 directly, CloudTrail logs it"
	"$B/jibe-ctgen" flood --root "$D/aa" --seed $((100 + round)) --files 30 >/dev/null
	start=$(date +%s)
	equal && echo "(already equal?)" || stats
	wait_equal
	echo "converged after $(( $(date +%s) - start )) s"
	stats
done

say "the provider report (every report.interval_min; here 6 s) and jibe status"
# A report made after the last convergence: its files figure equals what the server served.
since=$(( $(date +%s) * 1000 ))
n=0
until [ -s "$D/state/report.json" ] && python3 -c '
import json, sys
sys.exit(0 if json.load(open(sys.argv[1]))["generated_ms"] > int(sys.argv[2]) + 5000 else 1)' \
	"$D/state/report.json" "$since" 2>/dev/null; do
	n=$((n + 1))
	[ $n -gt 300 ] && { echo "demo: no report in 60 s; see the logs in $D"; DEMO_KEEP=1; exit 1; }
	sleep 0.2
done
"$B/jibe" status -c "$D/jibe.cfg" 2>/dev/null || true
echo "report: $D/state/report.html and report.json (DEMO_KEEP=1 keeps them; open the HTML in a browser)"

say "stopping jibe (SIGTERM: finishes in-flight work, saves state)"
if [ "$MODE" = kafka ]; then
	for p in $STAGE_PIDS; do kill -TERM "$p"; wait "$p"; done
	STAGE_PIDS=
	echo "consumer groups after the stop:"
	"$B/jibe" lag -c "$D/jibe.cfg" | sed 's/^/  /'
else
	kill -TERM "$JIBE_PID"
	wait "$JIBE_PID"
	JIBE_PID=
	tail -n 2 "$D/jibe.log"
fi
say "done: Access Anywhere's index equals the S3 truth"
