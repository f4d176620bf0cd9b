#!/bin/sh
# 0535-metrics-kafka.sh - the distributed mode with metrics.listen, one address per process:
# jibe scan, parse and sync over a real broker converge a 2-hour history; each process's
# scrape passes `promtool check metrics`; the Kafka counters agree with each other and with
# the simulator (files produced by the scanner = consumed and done by the parser = log files;
# events produced by the parser = consumed and done by the syncer), the consumers' lag
# reaches 0 on their own assignment, and every process exits 0 on SIGTERM.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
. "$JIBE_TOP/tests/integration/lib_metrics.sh"
command -v promtool >/dev/null || fail "promtool is missing (make deps installs the prometheus package)"
RUN_INTERVAL=1 stages_deploy 51 2
PIDS=
for st in scan parse sync; do
	port=$(metrics_port)
	eval "PORT_$st=$port"
	{ cat "$W/jibe.cfg"; metrics_cfg "$port"; } >"$W/$st.cfg"
	"$JIBE" "$st" -c "$W/$st.cfg" >>"$W/$st.log" 2>&1 &
	eval "PID_$st=$!"
	PIDS="$PIDS $!"
done
on_exit 'for p in $PIDS; do kill -KILL $p 2>/dev/null || true; done'
logs() { for st in scan parse sync; do echo "--- $st.log" >&2; tail -n 15 "$W/$st.log" >&2; done; }
STAGES_NAMES=
stages_wait_converged 180 || { logs; exit 1; }
files=$(wc -l <"$R/ctgen/files.txt")

on() { eval "METRICS_PORT=\$PORT_$1"; }
settled() {
	on scan
	fp=$(metrics_sum jibe_kafka_produced_total topic=jibe.files)
	on parse
	fc=$(metrics_sum jibe_kafka_consumed_total topic=jibe.files)
	fd=$(metrics_sum jibe_kafka_committed_total topic=jibe.files)
	flag=$(metrics_sum jibe_kafka_consumer_lag_messages topic=jibe.files)
	ep=$(metrics_sum jibe_kafka_produced_total topic=jibe.events)
	pf=$(metrics_sum jibe_parse_files_total)
	on sync
	ec=$(metrics_sum jibe_kafka_consumed_total topic=jibe.events)
	ed=$(metrics_sum jibe_kafka_committed_total topic=jibe.events)
	elag=$(metrics_sum jibe_kafka_consumer_lag_messages topic=jibe.events)
	now="files: produced=$fp consumed=$fc done=$fd lag=$flag read=$pf (log files $files); events: produced=$ep consumed=$ec done=$ed lag=$elag"
	[ "$fp" -ge "$files" ] && [ "$fc" = "$fp" ] && [ "$fd" = "$fc" ] && [ "$flag" = 0 ] && [ "$pf" = "$files" ] &&
		[ "$ep" -gt 0 ] && [ "$ec" = "$ep" ] && [ "$ed" = "$ec" ] && [ "$elag" = 0 ]
}
end=$(( $(date +%s) + 30 ))
until settled; do
	[ "$(date +%s)" -lt "$end" ] || { logs; fail "Kafka metrics do not add up: $now"; }
	sleep 0.5
done
echo "$now"
for st in scan parse sync; do
	on "$st"
	metrics_body /metrics >"$JIBE_TMP/$st.txt"
	metrics_promtool "$JIBE_TMP/$st.txt"
	[ "$(metrics_code /readyz)" = 200 ] || fail "$st: /readyz is not 200: $(metrics_body /readyz)"
done
grep -q '^jibe_kafka_consumer_lag_messages{topic="jibe.files",partition="' "$JIBE_TMP/parse.txt" ||
	fail "the parser reports no per-partition lag"
for st in sync parse scan; do
	eval "p=\$PID_$st"
	kill -TERM "$p"
	rc=0
	wait "$p" || rc=$?
	[ "$rc" -eq 0 ] || { logs; fail "jibe $st exited $rc after SIGTERM"; }
done
PIDS=
kafka_stop 2>/dev/null || true
sim_stop
echo "ok: Kafka counters and lag add up in every stage's metrics"
