#!/bin/sh
# 0420-kafka-lag-replay.sh - `jibe lag` and `jibe replay` against a real broker, checked with
# Kafka's own ConsumerGroupCommand and kcat: lag figures agree exactly partition by partition,
# time lag is positive where messages wait; a replay plan changes nothing; --execute is
# refused while a consumer of the group runs; then it moves the offsets (to the earliest, to a
# time between two batches, by a duration) and a new consumer of the group reads the replayed
# messages again. Bad arguments exit 2, an unreachable broker exits 1.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_kafka.sh"

TAB=$(printf '\t')
KCAT_PID=
stop_kcat() {
	if [ -n "$KCAT_PID" ]; then
		kill -TERM "$KCAT_PID" 2>/dev/null || true
		wait "$KCAT_PID" 2>/dev/null || true
		KCAT_PID=
	fi
}
on_exit stop_kcat

# ms since the epoch, and an ISO-8601 UTC time for a whole second
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }
iso() { python3 -c 'import sys, time; print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(sys.argv[1]))))' "$1"; }
clock_past_ms() { [ "$(now_ms)" -gt "$1" ]; }

# Usage errors first: no broker needed, exit 2 and a message.
usage_err() { # args...
	ue_rc=0
	"$JIBE" "$@" >"$JIBE_TMP/ue.out" 2>"$JIBE_TMP/ue.err" || ue_rc=$?
	[ "$ue_rc" -eq 2 ] || fail "jibe $*: exit $ue_rc, want 2 ($(cat "$JIBE_TMP/ue.err"))"
	[ -s "$JIBE_TMP/ue.err" ] || fail "jibe $*: no message on stderr"
}
B0=127.0.0.1:1
usage_err replay --brokers "$B0" --to-earliest
usage_err replay --brokers "$B0" --stage scan --to-earliest
usage_err replay --brokers "$B0" --stage parse
usage_err replay --brokers "$B0" --stage parse --to-earliest --by-duration 1d
usage_err replay --brokers "$B0" --stage parse --to-datetime yesterday
usage_err replay --brokers "$B0" --stage parse --to-datetime 2026-11-29T10:00:00
usage_err replay --brokers "$B0" --stage parse --to-datetime 2026-02-30T10:00:00Z
usage_err replay --brokers "$B0" --stage parse --by-duration 5x
usage_err replay --brokers "$B0" --stage parse --by-duration 0m
usage_err replay --brokers "$B0" --stage sync --to-earliest --bogus
usage_err replay --brokers "$B0" --stage sync --to-earliest --prefix 'bad prefix'
usage_err lag --brokers "$B0" --group
usage_err lag --brokers "$B0" --frobnicate
usage_err lag --brokers "$B0" --timeout 0
grep -q "unknown option '--frobnicate'" "$JIBE_TMP/ue.err" || true
"$JIBE" lag --help | grep -q "time lag" || fail "jibe lag --help"
"$JIBE" replay --help | grep -q -- "--to-datetime" || fail "jibe replay --help"

# No broker there: exit 1 with one clear line.
rc=0
"$JIBE" lag --brokers "$B0" --timeout 2 >"$JIBE_TMP/nb.out" 2>"$JIBE_TMP/nb.err" || rc=$?
[ "$rc" -eq 1 ] || fail "lag without a broker: exit $rc, want 1"
grep -q "no answer from Kafka at $B0" "$JIBE_TMP/nb.err" || fail "lag without a broker: $(cat "$JIBE_TMP/nb.err")"

kafka_start
B=$KAFKA_BOOTSTRAP
kafka_topics_create jibe.files 3
kafka_topics_create jibe.events 3

# Batch 1 (30 keyed messages), then a second boundary T, then batch 2 (20 messages): every
# batch-2 message is stamped after T, every batch-1 message before.
i=1
while [ "$i" -le 30 ]; do printf 'bucket-%d\tone-%d\n' $((i % 7)) "$i"; i=$((i + 1)); done | kafka_produce jibe.files
T_S=$(( $(now_ms) / 1000 + 1 ))
T=$(iso "$T_S")
wait_until 5 clock_past_ms $(( T_S * 1000 + 200 ))
i=1
while [ "$i" -le 20 ]; do printf 'bucket-%d\ttwo-%d\n' $((i % 7)) "$i"; i=$((i + 1)); done | kafka_produce jibe.files
kafka_consume jibe.files >"$JIBE_TMP/all"
[ "$(wc -l <"$JIBE_TMP/all")" -eq 50 ] || fail "expected 50 messages in jibe.files"
# per partition: end offset, first offset of batch 2 (the end when it has none)
awk -F'\t' '{ if (!($1 in end) || $2 + 1 > end[$1]) end[$1] = $2 + 1
	if ($4 ~ /^two-/ && (!($1 in two) || $2 < two[$1])) two[$1] = $2 }
	END { for (p = 0; p < 3; p++) print p, (p in end ? end[p] : 0), (p in two ? two[p] : (p in end ? end[p] : 0)) }' \
	"$JIBE_TMP/all" >"$JIBE_TMP/expect"
echo "partition end first-of-batch-2:"; cat "$JIBE_TMP/expect"

# The parse group reads 22 of them and commits (kcat commits what it read when it closes).
timeout 30 kcat -b "$B" -G jibe.parse -c 22 -q -X auto.offset.reset=earliest jibe.files >/dev/null ||
	kafka_fail "kcat could not consume in group jibe.parse"

# jibe lag agrees with ConsumerGroupCommand on every partition with a committed offset.
lag_vs_kafka() {
	"$JIBE" lag --brokers "$B" --json >"$JIBE_TMP/lag.json" || fail "jibe lag --json failed"
	kafka_group_describe jibe.parse >"$JIBE_TMP/cgc"
	awk '$1 == "jibe.parse" && $3 ~ /^[0-9]+$/ { print $2, $3, $4, $5, $6 }' "$JIBE_TMP/cgc" >"$JIBE_TMP/cgc.rows"
	[ -s "$JIBE_TMP/cgc.rows" ] || fail "ConsumerGroupCommand shows no partition: $(cat "$JIBE_TMP/cgc")"
	python3 - "$JIBE_TMP/lag.json" "$JIBE_TMP/cgc.rows" <<'EOF' || fail "jibe lag disagrees with ConsumerGroupCommand: $(cat "$JIBE_TMP/cgc")"
import json, sys
rows = json.load(open(sys.argv[1]))
ours = {(r["topic"], r["partition"]): r for r in rows if r["group"] == "jibe.parse"}
theirs = {}
for line in open(sys.argv[2]):
    t, p, cur, end, lag = line.split()
    theirs[(t, int(p))] = (cur, end, lag)
bad = []
for k, (cur, end, lag) in theirs.items():
    r = ours.get(k)
    if r is None:
        bad.append("missing %s" % (k,)); continue
    got = (str(r["committed"]) if r["committed"] is not None else "-", str(r["end"]), str(r["lag"]))
    if got != (cur, end, lag):
        bad.append("%s: jibe %s, kafka %s" % (k, got, (cur, end, lag)))
for k, r in ours.items():
    if r["committed"] is not None and k not in theirs:
        bad.append("jibe shows a commit kafka does not: %s" % (k,))
    if r["lag"] > 0 and not (r["time_lag_s"] and r["time_lag_s"] > 0):
        bad.append("%s: lag %d but time lag %r" % (k, r["lag"], r["time_lag_s"]))
    if r["lag"] == 0 and r["time_lag_s"] != 0:
        bad.append("%s: lag 0 but time lag %r" % (k, r["time_lag_s"]))
if sorted(p for (t, p) in ours) != [0, 1, 2]:
    bad.append("jibe lag does not show the 3 partitions of jibe.files: %s" % sorted(ours))
sync = [r for r in rows if r["group"] == "jibe.sync"]
if len(sync) != 3 or any(r["committed"] is not None or r["lag"] != 0 or r["topic"] != "jibe.events" for r in sync):
    bad.append("jibe.sync rows: %s" % sync)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}
lag_vs_kafka
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if sum(r["lag"] for r in j if r["group"]=="jibe.parse")==28 else 1)' \
	"$JIBE_TMP/lag.json" || fail "total lag of jibe.parse is not 50 - 22"
"$JIBE" lag --brokers "$B" --group jibe.parse >"$JIBE_TMP/lag.txt" || fail "jibe lag (table) failed"
cat "$JIBE_TMP/lag.txt"
grep -q "total lag 28 messages, oldest unconsumed" "$JIBE_TMP/lag.txt" || fail "table lacks the total"
! grep -q jibe.sync "$JIBE_TMP/lag.txt" || fail "--group jibe.parse also showed jibe.sync"

# The same through a configuration file (kafka.brokers, kafka.rdkafka passed through).
cat >"$JIBE_TMP/jibe.cfg" <<EOF
access_anywhere = { endpoint = "https://aa.example.com"; login = "jibe"; password_env = "JIBE_0420_PW"; };
kafka = { brokers = "$B"; rdkafka = [ "socket.keepalive.enable=true" ]; };
EOF
JIBE_0420_PW=unused "$JIBE" lag -c "$JIBE_TMP/jibe.cfg" --json >"$JIBE_TMP/lag2.json" || fail "jibe lag -c failed"
json_check 'len([r for r in j if r["group"] == "jibe.parse"]) == 3' "lag -c" <"$JIBE_TMP/lag2.json"

committed_rows() { # "partition offset" lines of jibe.parse from ConsumerGroupCommand, sorted
	kafka_group_describe jibe.parse | awk '$1 == "jibe.parse" && $3 ~ /^[0-9]+$/ { print $3, $4 }' | sort -n
}
committed_rows >"$JIBE_TMP/before"

# A plan changes nothing.
"$JIBE" replay --brokers "$B" --stage parse --to-earliest >"$JIBE_TMP/plan" 2>&1 || fail "replay plan: $(cat "$JIBE_TMP/plan")"
cat "$JIBE_TMP/plan"
grep -q "nothing changed" "$JIBE_TMP/plan" || fail "the plan does not say nothing changed"
[ "$(grep -c '^ *[0-9]' "$JIBE_TMP/plan")" -eq 3 ] || fail "the plan does not show 3 partitions"
"$JIBE" replay --brokers "$B" --stage parse --to-earliest --json >"$JIBE_TMP/plan.json" || fail "replay --json"
json_check 'len(j) == 3 and all(r["new"] == r["low"] == 0 and not r["executed"] for r in j)' "plan json" <"$JIBE_TMP/plan.json"
committed_rows >"$JIBE_TMP/after"
cmp -s "$JIBE_TMP/before" "$JIBE_TMP/after" || fail "a plan changed the offsets"

# A plan that moves forward warns.
"$JIBE" replay --brokers "$B" --stage parse --to-datetime 2099-01-01T00:00:00Z >"$JIBE_TMP/fwd" 2>&1 ||
	fail "replay into the future: $(cat "$JIBE_TMP/fwd")"
grep -q "FORWARD" "$JIBE_TMP/fwd" || fail "no warning for a forward move: $(cat "$JIBE_TMP/fwd")"

# --execute while a consumer of the group runs: refused, nothing changed.
kcat -b "$B" -G jibe.parse -q -X auto.offset.reset=earliest jibe.files >"$JIBE_TMP/live" 2>&1 &
KCAT_PID=$!
group_has_member() {
	"$JIBE" lag --brokers "$B" --group jibe.parse --json 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j and j[0]["members"] > 0 and j[0]["state"] == "Stable" else 1)'
}
wait_until 60 group_has_member
rc=0
"$JIBE" replay --brokers "$B" --stage parse --to-earliest --execute >"$JIBE_TMP/refused" 2>&1 || rc=$?
cat "$JIBE_TMP/refused"
[ "$rc" -eq 1 ] || fail "replay --execute with a live member: exit $rc, want 1"
grep -q "stop every 'jibe parse' process" "$JIBE_TMP/refused" || fail "the refusal does not say what to do"
# let the live consumer read and commit everything (kcat commits every few seconds)
group_lag_zero() {
	"$JIBE" lag --brokers "$B" --group jibe.parse --json 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j and all(r["lag"] == 0 and r["committed"] is not None for r in j) else 1)'
}
wait_until 60 group_lag_zero
stop_kcat
group_is_empty() {
	"$JIBE" lag --brokers "$B" --group jibe.parse --json 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j and j[0]["members"] == 0 else 1)'
}
wait_until 60 group_is_empty
# (the live consumer read to the end and committed on its way out)
committed_rows >"$JIBE_TMP/mid"
awk '{ print $1, $2 }' "$JIBE_TMP/expect" | cmp -s - "$JIBE_TMP/mid" || {
	cat "$JIBE_TMP/mid"
	fail "the live consumer did not commit the end of every partition"
}

# Executed: to the earliest. Kafka shows offset 0 everywhere; a new consumer reads all 50 again.
"$JIBE" replay --brokers "$B" --stage parse --to-earliest --execute >"$JIBE_TMP/ex1" 2>&1 ||
	fail "replay --to-earliest --execute: $(cat "$JIBE_TMP/ex1")"
cat "$JIBE_TMP/ex1"
[ "$(committed_rows | tr '\n' ' ')" = "0 0 1 0 2 0 " ] || fail "offsets after --to-earliest: $(committed_rows)"
kafka_group_consume jibe.parse jibe.files >"$JIBE_TMP/re1"
[ "$(wc -l <"$JIBE_TMP/re1")" -eq 50 ] || fail "after --to-earliest the group re-read $(wc -l <"$JIBE_TMP/re1") messages, not 50"

# Executed: to T, between the batches. Each partition at its first batch-2 message; a new
# consumer reads exactly batch 2.
"$JIBE" replay --brokers "$B" --stage parse --to-datetime "$T" --execute >"$JIBE_TMP/ex2" 2>&1 ||
	fail "replay --to-datetime $T --execute: $(cat "$JIBE_TMP/ex2")"
cat "$JIBE_TMP/ex2"
awk '{ print $1, $3 }' "$JIBE_TMP/expect" | cmp -s - "$(committed_rows >"$JIBE_TMP/c2"; echo "$JIBE_TMP/c2")" || {
	cat "$JIBE_TMP/c2"
	fail "offsets after --to-datetime $T are not the first of batch 2"
}
kafka_group_consume jibe.parse jibe.files >"$JIBE_TMP/re2"
[ "$(wc -l <"$JIBE_TMP/re2")" -eq 20 ] || fail "after --to-datetime the group re-read $(wc -l <"$JIBE_TMP/re2") messages, not 20"
! cut -f4 "$JIBE_TMP/re2" | grep -qv '^two-' || fail "batch-1 messages re-read after --to-datetime: $(cat "$JIBE_TMP/re2")"

# Executed: by a duration of one day, which covers everything: the earliest again.
"$JIBE" replay --brokers "$B" --stage parse --by-duration 1d --execute --json >"$JIBE_TMP/ex3.json" ||
	fail "replay --by-duration 1d --execute"
json_check 'len(j) == 3 and all(r["new"] == 0 and r["executed"] for r in j)' "by-duration json" <"$JIBE_TMP/ex3.json"
[ "$(committed_rows | tr '\n' ' ')" = "0 0 1 0 2 0 " ] || fail "offsets after --by-duration 1d: $(committed_rows)"

# The sync stage has a topic without messages: plan shows 3 partitions at 0.
"$JIBE" replay --brokers "$B" --stage sync --to-earliest --json >"$JIBE_TMP/sync.json" || fail "replay --stage sync"
json_check 'len(j) == 3 and all(r["group"] == "jibe.sync" and r["topic"] == "jibe.events" and r["committed"] is None for r in j)' \
	"sync plan" <"$JIBE_TMP/sync.json"
# A prefix without topics: exit 1, named.
rc=0
"$JIBE" replay --brokers "$B" --prefix other. --stage parse --to-earliest >"$JIBE_TMP/nt" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "other.files does not exist" "$JIBE_TMP/nt" || fail "missing topic: exit $rc: $(cat "$JIBE_TMP/nt")"
echo "ok: lag agrees with ConsumerGroupCommand; replay plans, refuses while running, moves offsets"
