#!/bin/sh
# 0720-status-kafka.sh - the shared status in the distributed mode: two `jibe scan` (one
# provider's log bucket each), one `jibe parse` and one `jibe sync` publish their status in
# the compacted status topic; once the index equals the truth, both scanners' reports list
# both providers with the right owner, verdict OK and the simulator's counts (log files
# downloaded, resyncs), every instance and a Kafka lag of 0 (the consumers' q_lag());
# `jibe status -c` reads the topic (exit 0); after
# one scanner stops, the other's report shows it missing within 3 publication intervals and
# its provider's source FAILING.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"
. "$JIBE_TOP/tests/integration/lib_status.sh"
R=$JIBE_TMP/root
status_root "$R" 2
sim_start "$R" --quiet
kafka_start
# one configuration per host: status.instance names the host, the command adds -scan, -parse, -sync
kcfg() { # DIR NAME SOURCE
	stages_cfg "$1" "status = { instance = \"$2\"; publish_s = 5; late_after_min = 600.0; };
report = { interval_min = 0.05; };"
	sed -i "s|^scanner = {|scanner = {\n  sources = [ \"$3\" ];|" "$1/jibe.cfg"
	sed -i "s|^log_level = .*|log_level = \"info\";\nlog_file = \"$1/jibe.log\";|" "$1/jibe.cfg"
}
A=$JIBE_TMP/east
B=$JIBE_TMP/west
kcfg "$A" east "S3 Prod"
kcfg "$B" west "S3 DR"
stages_topics "$A"
t0=$(date +%s)
stage_start y1 sync "$A"
stage_start p1 parse "$A"
stage_start s1 scan "$A"
STAGES_DIR=$B stage_start s2 scan "$B"
STAGES_DIR=$A
wait_until 120 diff_converged
echo "converged in $(( $(date +%s) - t0 )) s"

sim_counts
ALL="prov(j, 'S3 Prod')['owner'] == 'east-scan' and prov(j, 'S3 DR')['owner'] == 'west-scan'
 and src(j, 'S3 Prod', 'ct-logs')['verdict'] == 'OK' and src(j, 'S3 DR', 'dr-logs')['verdict'] == 'OK'
 and j['verdict'] == 'OK'
 and sorted(i['instance'] for i in j['instances'] if not i['missing']) == ['east-parse', 'east-scan', 'east-sync', 'west-scan']
 and inst(j, 'east-parse')['role'] == 'parse' and inst(j, 'east-sync')['owns'] == []
 and $FILES == $DL and $RESYNCS == $SY
 and j['backlog']['lag'] == 0"
wait_report 40 "$A" "$ALL"
wait_report 40 "$B" "$ALL"
# parse and sync write no report
[ ! -e "$A/state/report.json" ] || report_ok "$A" "j['generated_by'] == 'east-scan'" || fail "east's report is not its scanner's"

rc=0
"$JIBE" status -c "$A/jibe.cfg" >"$JIBE_TMP/status.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$JIBE_TMP/status.txt" >&2; fail "jibe status exited $rc with every source OK"; }
grep -q "west-scan" "$JIBE_TMP/status.txt" || { cat "$JIBE_TMP/status.txt" >&2; fail "jibe status does not show west-scan"; }

STAGES_DIR=$B stage_stop s2
STAGES_DIR=$A
t1=$(date +%s)
wait_report 40 "$A" "inst(j, 'west-scan')['missing'] and src(j, 'S3 DR', 'dr-logs')['verdict'] == 'FAILING'
 and 'west-scan' in src(j, 'S3 DR', 'dr-logs')['reason'] and src(j, 'S3 Prod', 'ct-logs')['verdict'] == 'OK'"
echo "west-scan shown missing $(( $(date +%s) - t1 )) s after it stopped (3 x publish_s = 15 s)"
rc=0
"$JIBE" status -c "$A/jibe.cfg" >"$JIBE_TMP/status2.txt" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$JIBE_TMP/status2.txt" >&2; fail "jibe status exited $rc with a source FAILING (want 1)"; }
stage_stop s1
stage_stop p1
stage_stop y1
sim_stop
echo "ok: the distributed mode's shared status: owners, figures, every instance, a missing scanner"
