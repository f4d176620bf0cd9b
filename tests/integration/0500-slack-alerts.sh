#!/bin/sh
# 0500-slack-alerts.sh - Slack alerts against a local HTTPS receiver (tests/sim/slack/, its
# certificate signed by a private authority made here and given as access_anywhere.ca_file):
#  - `jibe alert --test` is delivered (exit 0); with the system's authorities instead it is
#    refused by the TLS check (exit 1, a reason); a revoked webhook (404) is exit 1;
#  - a 429 with Retry-After: 2 is honoured: the post arrives again at least 2 s later;
#  - `jibe run` with failing resyncs (an outage of Access Anywhere): one message when it
#    starts, repeats with their count (repeat_min = 0.05: 3 s), one message when it clears;
#  - a quarantined log file and a dead letter are each said once, at once;
#  - no secret (the webhook's address, the password, the token) in any post or in the log;
#  - a receiver that accepts and never answers does not slow the pipeline: the same outage
#    and flood converge within a bound of the time measured with a receiver that answers,
#    and `jibe run` still stops promptly.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
RECV="$JIBE_TOP/tests/sim/slack/slack_receiver.py"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
T=$JIBE_TMP/tls
POSTS=$JIBE_TMP/posts.jsonl
MODE=$JIBE_TMP/mode
mkdir -p "$T" "$W"

# A private authority and the receiver's certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=jibe test CA" \
	-keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/srv.key" \
	-out "$T/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/ext.cnf"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-days 2 -extfile "$T/ext.cnf" -out "$T/srv.pem" >/dev/null 2>&1

echo ok >"$MODE"
: >"$POSTS"
python3 "$RECV" --cert "$T/srv.pem" --key "$T/srv.key" --log "$POSTS" --mode-file "$MODE" \
	--port-file "$JIBE_TMP/recv.port" --max-s 300 >"$JIBE_TMP/recv.log" 2>&1 &
RECV_PID=$!
on_exit 'kill -TERM "$RECV_PID" 2>/dev/null || true; wait "$RECV_PID" 2>/dev/null || true'
wait_until 20 test -s "$JIBE_TMP/recv.port"
SECRET_PATH="services/T0TEST/B0TEST/$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')"
HOOK="https://127.0.0.1:$(cat "$JIBE_TMP/recv.port")/$SECRET_PATH"
printf '%s\n' "$HOOK" >"$W/slack-webhook"
chmod 600 "$W/slack-webhook"

"$CTGEN" init --root "$R" --seed 21 >/dev/null
"$CTGEN" history --root "$R" --seed 21 --hours 2 >/dev/null
sim_start "$R" --quiet
ALERTS="alerts = { slack_webhook_file = \"$W/slack-webhook\"; repeat_min = 0.05; after_s = 1; timeout_ms = 2000; };"
RUN_INTERVAL=1 run_cfg "$W" "$ALERTS"
# the receiver's authority (the simulator itself is http://, so Access Anywhere does not use it)
sed -i "s|^  allow_http = true;|  allow_http = true;\n  ca_file = \"$T/ca.pem\";|" "$W/jibe.cfg"
grep -q "ca_file" "$W/jibe.cfg" || fail "ca_file not written"

nposts() { wc -l <"$POSTS" | tr -d ' '; }
# posts whose text matches a Python regular expression
count_posts() {
	python3 -c 'import json,re,sys
n=0
for l in open(sys.argv[1]):
    j=json.loads(l)
    if j["status"]==200 and j["text"] and re.search(sys.argv[2], j["text"]): n+=1
print(n)' "$POSTS" "$1"
}

# --- jibe alert --test: delivered; the system's authorities refuse the private one; 404
"$JIBE" alert --test -c "$W/jibe.cfg" >"$JIBE_TMP/test.out" 2>&1 || { cat "$JIBE_TMP/test.out" >&2; fail "jibe alert --test did not deliver"; }
grep -q "delivered" "$JIBE_TMP/test.out" || fail "no 'delivered' line: $(cat "$JIBE_TMP/test.out")"
[ "$(count_posts 'test message')" -eq 1 ] || fail "the test message did not arrive once: $(cat "$POSTS")"
grep -q "\"path\": \"/$SECRET_PATH\"" "$POSTS" || fail "the post did not go to the webhook's path"
sed "s|^  ca_file = .*||" "$W/jibe.cfg" >"$W/noca.cfg"
rc=0
"$JIBE" alert --test -c "$W/noca.cfg" >"$JIBE_TMP/noca.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "an untrusted certificate was accepted (exit $rc): $(cat "$JIBE_TMP/noca.out")"
grep -q "not delivered" "$JIBE_TMP/noca.out" || fail "no reason given: $(cat "$JIBE_TMP/noca.out")"
echo 404 >"$MODE"
rc=0
"$JIBE" alert --test -c "$W/jibe.cfg" >"$JIBE_TMP/404.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "HTTP 404" "$JIBE_TMP/404.out" || fail "a revoked webhook: exit $rc: $(cat "$JIBE_TMP/404.out")"
echo "alert --test: delivered; untrusted certificate: $(tail -n 1 "$JIBE_TMP/noca.out" | cut -c1-160)"

# --- 429 with Retry-After: 2, then 200
echo "429once:2" >"$MODE"
n0=$(nposts)
"$JIBE" alert --test -c "$W/jibe.cfg" >"$JIBE_TMP/429.out" 2>&1 || { cat "$JIBE_TMP/429.out" >&2; fail "not delivered after a 429"; }
python3 -c 'import json,sys
l=[json.loads(x) for x in open(sys.argv[1])][int(sys.argv[2]):]
assert [x["status"] for x in l]==[429,200], l
d=l[1]["t"]-l[0]["t"]
assert d>=2.0, "retried after %.2f s, before Retry-After" % d
print("429 honoured: the post came again %.2f s later" % d)' "$POSTS" "$n0" || fail "429 not honoured"

# --- jibe run: baseline, then an outage with the receiver answering
echo ok >"$MODE"
t_start=$(date +%s)
run_start "$W"
wait_converged 120
echo "converged $(( $(date +%s) - t_start )) s after the start"
wait_until 20 grep -q "Slack alerts on" "$W/jibe.log"

# One phase: resyncs fail for OUT_S seconds while new log files come, then the server heals;
# prints the seconds from healing to convergence.
OUT_S=7
phase() { # seed
	sim_post /sim/faults sync_fault=e500 >/dev/null
	"$CTGEN" flood --root "$R" --seed "$1" --files 10 >/dev/null
	sleep "$OUT_S"
	sim_post /sim/faults clear=1 >/dev/null
	p_t0=$(date +%s.%N)
	wait_converged 120
	p_t1=$(date +%s.%N)
	python3 -c "print('%.1f' % ($p_t1 - $p_t0))"
}
n_before=$(nposts)
t_ok=$(phase 31)
wait_until 30 sh -c "[ \"\$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)[\"text\"] and \"RESOLVED\" in json.loads(l)[\"text\"]))' '$POSTS')\" -ge 1 ]"
starts=$(count_posts '^jibe on .*: ERROR: Access Anywhere does not answer')
repeats=$(count_posts '^jibe on .*: still ERROR: [0-9]+ more time\(s\)')
clears=$(count_posts '^jibe on .*: RESOLVED after .*Access Anywhere does not answer')
[ "$starts" -eq 1 ] || fail "$starts start messages for one outage: $(tail -n +$((n_before + 1)) "$POSTS")"
[ "$repeats" -ge 1 ] || fail "no repeat with a count during a $OUT_S s outage (repeat every 3 s)"
[ "$clears" -eq 1 ] || fail "$clears clear messages"
sleep 3.2 # one repeat interval (3 s): no message may follow the clear
[ "$(count_posts 'Access Anywhere does not answer')" -eq $((starts + repeats + clears)) ] ||
	fail "messages after the outage cleared"
python3 -c 'import json,sys
for l in list(open(sys.argv[1]))[int(sys.argv[2]):]:
    print("  post:", json.loads(l)["text"][:150])' "$POSTS" "$n_before"

# --- a quarantined log file (WARNING) and a dead letter (ERROR), each said at once
sim_post /sim/faults sync_refuse_prefix=refused/ >/dev/null
DAY=$(date -u +%Y/%m/%d)
F="$R/truth/ct-logs/AWSLogs/111122223333/CloudTrail/us-east-1/$DAY"
mkdir -p "$F" "$R/truth/prod-data/refused"
echo "refused" >"$R/truth/prod-data/refused/obj.txt"
put_log() { # NAME KEY [damaged]: one PutObject of prod-data/KEY; damaged: a broken gzip header
	python3 - "$F" "$1" "$2" "${3:-}" <<'PY'
import gzip, json, os, sys, time
folder, name, key, damaged = sys.argv[1:5]
rec = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
       "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "awsRegion": "us-east-1",
       "eventID": "alert-" + name[-20:], "recipientAccountId": "111122223333",
       "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIAOTHER"},
       "requestParameters": {"bucketName": "prod-data", "key": key}}
data = gzip.compress(json.dumps({"Records": [rec]}).encode())
if damaged:
    data = b"\0" + data[1:]
open(os.path.join(folder, ".tmp-" + name), "wb").write(data)
os.rename(os.path.join(folder, ".tmp-" + name), os.path.join(folder, name))
PY
}
STAMP=$(date -u +%Y%m%dT%H%MZ)
put_log "111122223333_CloudTrail_us-east-1_${STAMP}_ALERTBAD00000001.json.gz" refused/bad.txt damaged
put_log "111122223333_CloudTrail_us-east-1_${STAMP}_ALERTREF00000001.json.gz" refused/obj.txt
wait_until 60 sh -c "[ \$(cat '$W/state/dead-letters.jsonl' 2>/dev/null | wc -l) -ge 2 ]"
wait_until 20 sh -c "[ \"\$(python3 -c 'import json,sys
print(sum(1 for l in open(sys.argv[1]) if \"dead letters\" in (json.loads(l)[\"text\"] or \"\")))' '$POSTS')\" -ge 1 ]"
[ "$(count_posts '^jibe on .*: WARNING \(provider [^,]+, source ct-logs\): log file .*ALERTBAD.* was set aside')" -eq 1 ] ||
	fail "no single WARNING for the quarantined log file: $(tail -n 3 "$POSTS")"
[ "$(count_posts '^jibe on .*: ERROR \(provider [^,]+, source prod-data\): 1 change\(s\) could not be resynced')" -eq 1 ] ||
	fail "no single ERROR for the dead letter: $(tail -n 3 "$POSTS")"
echo "quarantine and dead letter: $(count_posts 'set aside|dead letters') post(s)"
rm -f "$R/truth/prod-data/refused/obj.txt" # neither can be synced: the truth drops them
sim_post /sim/faults clear=1 >/dev/null

# --- the same with a receiver that accepts and never answers
echo hang >"$MODE"
n_hang=$(nposts)
t_hang=$(phase 32)
[ "$(nposts)" -gt "$n_hang" ] || fail "nothing was posted to the hanging receiver"
python3 -c "import sys; ok, hang = $t_ok, $t_hang
sys.exit(0 if hang <= 2 * ok + 8 else 1)" || fail "converged in $t_hang s with a hanging Slack, $t_ok s without"
t_stop0=$(date +%s)
run_stop
t_stop=$(( $(date +%s) - t_stop0 ))
[ "$t_stop" -le 15 ] || fail "jibe run took $t_stop s to stop with a hanging Slack"
grep -q "WARN  alert: .*could not be sent\|WARN  alert: Slack alerts: .* could not be sent" "$W/jibe.log" ||
	{ run_log; fail "the undelivered posts were not logged"; }

# --- no secret anywhere
for s in "$SECRET_PATH" "s3cret" "PERMANENT-TOKEN-1"; do
	! grep -qF "$s" "$W/jibe.log" "$W/jibe.out" || fail "a secret is in the log"
	python3 -c 'import json,sys
sys.exit(1 if any(sys.argv[2] in (json.loads(l)["text"] or "") for l in open(sys.argv[1])) else 0)' "$POSTS" "$s" ||
		fail "a secret is in a post"
done
"$JIBE" check-config -c "$W/jibe.cfg" --dump | grep -F "$SECRET_PATH" && fail "check-config shows the webhook"
grep "alert:" "$W/jibe.log" | cut -c1-300 || true
echo "figures: outage of $OUT_S s: converged ${t_ok} s after healing with Slack answering," \
	"${t_hang} s with Slack hanging; stop took ${t_stop} s; posts: $starts start, $repeats repeat(s), $clears clear"
sim_stop
echo "ok: Slack alerts started, repeated, cleared, honoured 429, kept secrets, and a hanging Slack slowed nothing"
