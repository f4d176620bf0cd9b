#!/bin/sh
# 0715-status-verdicts.sh - the verdicts of the provider report follow what happens, and `jibe
# status -c` (no status folder: this instance's state_dir/status.json) is a monitoring check:
# OK (exit 0) after convergence; FAILING (exit 1) while Access Anywhere fails every call, with
# the reason; OK again once it answers and a new log file arrives; LATE (exit 1) once no new
# log file came for status.late_after_min (0.2 min here); OK (exit 0) when a new one arrives.
# Each LATE and FAILING is alerted once in Slack (a local receiver) and RESOLVED when over.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_status.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 11 >/dev/null
"$CTGEN" history --root "$R" --seed 11 --hours 1 >/dev/null
sim_start "$R" --quiet
# A Slack receiver (tests/sim/slack/) over TLS with a private authority: the verdicts alert.
T=$JIBE_TMP/tls
POSTS=$JIBE_TMP/posts.jsonl
mkdir -p "$T" "$W"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jibe test CA" \
	-keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/srv.key" \
	-out "$T/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/ext.cnf"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-days 2 -extfile "$T/ext.cnf" -out "$T/srv.pem" >/dev/null 2>&1
echo ok >"$JIBE_TMP/mode"
: >"$POSTS"
python3 "$JIBE_TOP/tests/sim/slack/slack_receiver.py" --cert "$T/srv.pem" --key "$T/srv.key" --log "$POSTS" \
	--mode-file "$JIBE_TMP/mode" --port-file "$JIBE_TMP/recv.port" --max-s 300 >"$JIBE_TMP/recv.log" 2>&1 &
RECV_PID=$!
on_exit 'kill -TERM "$RECV_PID" 2>/dev/null || true; wait "$RECV_PID" 2>/dev/null || true'
wait_until 20 test -s "$JIBE_TMP/recv.port"
printf 'https://127.0.0.1:%s/services/T0/B0/x\n' "$(cat "$JIBE_TMP/recv.port")" >"$W/slack-webhook"
chmod 600 "$W/slack-webhook"
# posts whose text matches a Python regular expression
posts() {
	python3 -c 'import json,re,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["status"] == 200 and re.search(sys.argv[2], json.loads(l)["text"] or "")))' "$POSTS" "$1"
}
posted() { [ "$(posts "$1")" -ge "${2:-1}" ]; }

run_cfg "$W" "status = { instance = \"solo\"; publish_s = 5; late_after_min = 0.2; };
report = { interval_min = 0.05; };
alerts = { slack_webhook_file = \"$W/slack-webhook\"; repeat_min = 60.0; after_s = 1; };"
sed -i "s|^  allow_http = true;|  allow_http = true;\n  ca_file = \"$T/ca.pem\";|" "$W/jibe.cfg"
T0=$(date +%s)
run_start "$W"
wait_converged 60
echo "converged after $(( $(date +%s) - T0 )) s"

# exit code of `jibe status -c` is want (0 or 1)
status_exit() {
	se_rc=0
	"$JIBE" status -c "$W/jibe.cfg" >"$JIBE_TMP/status.out" 2>&1 || se_rc=$?
	[ "$se_rc" -eq "$1" ]
}
V='src(j, "S3 Prod", "ct-logs")["verdict"]'
wait_report 20 "$W" "$V == 'OK' and j['verdict'] == 'OK'"
wait_until 10 status_exit 0

# Access Anywhere fails every call: the scans fail, the source is FAILING.
sim_post /sim/faults error500_rate=1 >/dev/null
kill -USR1 "$RUN_PID" # scan now
wait_report 40 "$W" "$V == 'FAILING' and 'scan' in src(j, 'S3 Prod', 'ct-logs')['reason'] and j['verdict'] == 'FAILING'"
wait_until 10 status_exit 1
grep -q "FAILING" "$JIBE_TMP/status.out" || { cat "$JIBE_TMP/status.out" >&2; fail "jibe status does not say FAILING"; }
wait_until 20 posted 'ct-logs of S3 Prod is FAILING'
echo "$(( $(date +%s) - T0 )) s: ct-logs of S3 Prod is FAILING"

# It answers again, and a new log file arrives: OK.
sim_post /sim/faults error500_rate=0 >/dev/null
"$CTGEN" flood --root "$R" --seed 12 --files 2 >/dev/null
kill -USR1 "$RUN_PID"
wait_report 40 "$W" "$V == 'OK'"
wait_until 10 status_exit 0
wait_until 20 posted 'RESOLVED.*ct-logs of S3 Prod is FAILING'
echo "$(( $(date +%s) - T0 )) s: RESOLVED.*ct-logs of S3 Prod is FAILING"

# No new log file for 12 s: LATE, said with the threshold.
wait_report 40 "$W" "$V == 'LATE' and 'LATE after' in src(j, 'S3 Prod', 'ct-logs')['reason']"
wait_until 10 status_exit 1
grep -q "LATE" "$JIBE_TMP/status.out" || { cat "$JIBE_TMP/status.out" >&2; fail "jibe status does not say LATE"; }
wait_until 20 posted 'ct-logs of S3 Prod is LATE'
echo "$(( $(date +%s) - T0 )) s: ct-logs of S3 Prod is LATE"

# A new log file: OK again, and the check passes.
"$CTGEN" flood --root "$R" --seed 13 --files 1 >/dev/null
kill -USR1 "$RUN_PID"
wait_report 30 "$W" "$V == 'OK'"
wait_until 10 status_exit 0
wait_until 20 posted 'RESOLVED.*ct-logs of S3 Prod is LATE'
echo "$(( $(date +%s) - T0 )) s: RESOLVED.*ct-logs of S3 Prod is LATE"
# each problem said once when it started (repeat_min is an hour)

run_stop
sim_stop
echo "ok: OK, FAILING and back, LATE and back; jibe status exits 0 or 1 accordingly"
