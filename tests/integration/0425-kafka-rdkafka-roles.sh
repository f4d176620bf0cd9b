#!/bin/sh
# 0425-kafka-rdkafka-roles.sh - kafka.rdkafka entries with the documented "producer." and
# "consumer." prefixes reach the right clients of every Kafka user: check-config accepts them,
# the scanner (transport and status store), parser and syncer start and converge, `jibe lag`,
# `jibe replay` and `jibe topics --create` work with them; an unknown property is refused by
# check-config and by every command, naming kafka.rdkafka; check-config --connect checks the
# topics' partition counts against kafka.partitions. The status topic's records are
# versioned (msg.h), and the bare "done" of older scanners still counts.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"
. "$JIBE_TOP/tests/integration/lib_stages.sh"

STAGES_RDKAFKA='"producer.linger.ms=5", "consumer.fetch.wait.max.ms=50", "socket.keepalive.enable=true"'
export STAGES_RDKAFKA
stages_deploy 43 2
"$JIBE" check-config -c "$W/jibe.cfg" >"$JIBE_TMP/cc.out" 2>&1 || fail "check-config: $(cat "$JIBE_TMP/cc.out")"
# --connect: signs in, finds the log root, and checks the topics' partitions against the config
"$JIBE" check-config -c "$W/jibe.cfg" --connect >"$JIBE_TMP/cc.out" 2>&1 || fail "check-config --connect: $(cat "$JIBE_TMP/cc.out")"
grep -q "^ok: Kafka topic jibe.events has 3 partition(s)$" "$JIBE_TMP/cc.out" || fail "no partition verdict: $(cat "$JIBE_TMP/cc.out")"
grep -q "^connect: every check passed$" "$JIBE_TMP/cc.out" || fail "--connect: $(cat "$JIBE_TMP/cc.out")"
sed 's/partitions = 3;/partitions = 4;/' "$W/jibe.cfg" >"$JIBE_TMP/p4.cfg"
rc=0
"$JIBE" check-config -c "$JIBE_TMP/p4.cfg" --connect >"$JIBE_TMP/cc.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "--connect with a wrong partition count: exit $rc"
grep -q "^FAILED: Kafka topic jibe.files has 3 partition(s), kafka.partitions says 4" "$JIBE_TMP/cc.out" ||
	fail "no FAILED partition verdict: $(cat "$JIBE_TMP/cc.out")"
stage_start s1 scan "$W"
stage_start p1 parse "$W"
stage_start y1 sync "$W"
# a stage that refused to start fails the test at once, with its log
scan_done() {
	for sd in s1 p1 y1; do
		kill -0 "$(stage_pid $sd)" 2>/dev/null || { stages_log; fail "jibe stage $sd exited"; }
	done
	grep -q "scan done" "$W/s1.log"
}
wait_until 60 scan_done
stages_wait_converged 180

"$JIBE" lag -c "$W/jibe.cfg" --json >"$JIBE_TMP/lag.json" 2>"$JIBE_TMP/lag.err" ||
	fail "jibe lag -c with producer./consumer. properties: $(cat "$JIBE_TMP/lag.err")"
json_check 'len([r for r in j if r["group"] == "jibe.parse"]) == 3' "lag -c" <"$JIBE_TMP/lag.json"
stage_stop s1
stage_stop p1
stage_stop y1
# The status topic holds versioned records: the scanner's processed files (msg.h's struct
# msg_status, keyed by the file's path) and each instance's status (docs/STATUS.md, keyed
# instance/<name>).
kafka_consume jibe.status >"$JIBE_TMP/status"
[ -s "$JIBE_TMP/status" ] || fail "the scanner wrote nothing to jibe.status"
awk -F'\t' '$3 !~ /^instance\//' "$JIBE_TMP/status" >"$JIBE_TMP/status.files"
[ -s "$JIBE_TMP/status.files" ] || fail "no processed-file record in jibe.status"
! cut -f4 "$JIBE_TMP/status.files" | grep -qv '^{"v":1,"type":"status","state":"done","at_ms":[0-9]*}$' ||
	fail "jibe.status holds file records that are not versioned status records: $(cut -f4 "$JIBE_TMP/status.files" | sort -u | head -3)"
awk -F'\t' '$3 ~ /^instance\//' "$JIBE_TMP/status" >"$JIBE_TMP/status.inst"
for role in scan parse sync; do
	grep -q "	instance/[^	]*	{\"v\":1,\"type\":\"instance_status\",.*\"role\":\"$role\"," "$JIBE_TMP/status.inst" ||
		fail "no versioned status of a $role instance in jibe.status: $(cut -f3 "$JIBE_TMP/status.inst" | sort -u | tr '\n' ' ')"
done
# Scanners before the versioned record wrote a bare "done": rewrite every record so, and one as
# a value no jibe can read. A scanner on another host (nothing local) reads them: it publishes
# again only the file of the unreadable record.
cut -f3 "$JIBE_TMP/status.files" | sort -u >"$JIBE_TMP/keys"
{ sed '$d' "$JIBE_TMP/keys" | sed 's/$/\tdone/'; tail -n 1 "$JIBE_TMP/keys" | sed 's/$/\t{"v":9}/'; } |
	kafka_produce jibe.status
files_end() { "$JIBE" lag -c "$W/jibe.cfg" --group jibe.parse --json | python3 -c 'import json,sys; print(sum(r["end"] for r in json.load(sys.stdin)))'; }
before=$(files_end)
W2=$JIBE_TMP/host2
mkdir -p "$W2"
sed "s|$W/state|$W2/state|" "$W/jibe.cfg" >"$W2/jibe.cfg"
stage_start s2 scan "$W2"
wait_until 60 grep -q "scan done" "$W2/s2.log"
after=$(files_end)
[ "$after" -eq $((before + 1)) ] || fail "the scanner on legacy records published $((after - before)) files, want 1"
grep -q "not status records jibe can read" "$W2/s2.log" || fail "no warning about the unreadable status record"
STAGES_DIR=$W2 stage_stop s2
STAGES_DIR=$W

"$JIBE" replay -c "$W/jibe.cfg" --stage parse --to-earliest >"$JIBE_TMP/plan" 2>&1 ||
	fail "jibe replay -c with producer./consumer. properties: $(cat "$JIBE_TMP/plan")"
grep -q "nothing changed" "$JIBE_TMP/plan" || fail "replay plan: $(cat "$JIBE_TMP/plan")"
"$JIBE" replay -c "$W/jibe.cfg" --stage sync --to-earliest --execute >"$JIBE_TMP/ex" 2>&1 ||
	fail "jibe replay --execute with producer./consumer. properties: $(cat "$JIBE_TMP/ex")"
"$JIBE" topics --create -c "$W/jibe.cfg" >"$JIBE_TMP/topics" 2>&1 || fail "jibe topics --create: $(cat "$JIBE_TMP/topics")"

# A property librdkafka does not know: refused everywhere, kafka.rdkafka named.
sed 's|"socket.keepalive.enable=true"|"consumer.no.such.property=1"|' "$W/jibe.cfg" >"$W/bad.cfg"
for cmd in check-config lag scan; do
	rc=0
	"$JIBE" "$cmd" -c "$W/bad.cfg" >"$JIBE_TMP/bad.out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "jibe $cmd accepted an unknown librdkafka property"
	grep -q "kafka.rdkafka" "$JIBE_TMP/bad.out" || fail "jibe $cmd: the refusal does not name kafka.rdkafka: $(cat "$JIBE_TMP/bad.out")"
	grep -q "no.such.property" "$JIBE_TMP/bad.out" || fail "jibe $cmd: the refusal does not name the property: $(cat "$JIBE_TMP/bad.out")"
done
sim_stop
echo "ok: producer./consumer. properties work for every Kafka client"
