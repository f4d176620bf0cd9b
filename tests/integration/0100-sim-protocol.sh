#!/bin/sh
# 0100-sim-protocol.sh - jibe-aa-sim answers the PROTOCOL.md calls with curl: logins, token
# expiry, paging a 2500-file folder, refresh, getFile, uploads, syncOnProviderEvent with
# /sim/diff, index snapshot/restore, full sync, fault injection, unknown functions and
# garbage parameters; it stops cleanly (no sanitizer report).
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"

R=$JIBE_TMP/root
T=$R/truth
sim_make_root "$R"
python3 - "$T" <<'EOF'
import os, sys
t = sys.argv[1]
os.makedirs(f"{t}/prod-data/flood")
for i in range(2500):
    with open(f"{t}/prod-data/flood/f{i:05d}.txt", "w") as f:
        f.write(str(i))
os.makedirs(f"{t}/prod-data/docs")
for n in ("old.txt", "keep.txt", "sp ace+%\u00fc.txt"):
    with open(f"{t}/prod-data/docs/{n}", "w") as f:
        f.write("content of " + n)
with open(f"{t}/prod-data/docs/.tmp-ignored", "w") as f:
    f.write("half written")
EOF
head -c 200000 /dev/urandom >"$T/prod-media/blob.bin"

sim_start "$R"

# ---- appliance info and logins
sim_rpc getApplianceInfo | json_check 'j["status"]=="ok" and j["softwareversionlabel"]=="2106.01"' "appliance info"
sim_rpc loginUser login=admin password=wrong | json_check 'j["status"]=="login_failed"' "wrong password"
sim_rpc getTokenByAuthToken authtoken=NOPE | json_check 'j["status"]=="login_failed"' "wrong authtoken"
sim_rpc getFolderContents fi_pid=0 | json_check 'j["status"]=="login_token_expired"' "call without login"
sim_rpc getFolderContents fi_pid=0 token=0123456789abcdef | json_check 'j["status"]=="login_token_expired"' "unknown token"
PW_TOKEN=$(sim_rpc loginUser login=admin password=s3cret | json_get 'j["token"]')
[ -n "$PW_TOKEN" ] || fail "loginUser gave no token"
sim_rpc getFolderContents fi_pid= token="$PW_TOKEN" |
	json_check 'j["status"]=="ok" and j["total"]=="1" and j["filelist"][0]["fi_name"]=="S3 Prod"' "root listing (password session)"
sim_login
grep -q "s3cret\|PERMANENT-TOKEN-1\|$SIM_TOKEN\|$PW_TOKEN" "$SIM_LOG" && fail "a secret reached the log"

# ---- providers, buckets, tasks
PI=$(sim_rpc getProviderInfo)
echo "$PI" | json_check 'j["status"]=="ok" and j["providers"][0]["pi_id"]=="101" and j["providers"][0]["accesskey"]=="AKIAAASELFKEY0000001"' "provider info"
echo "$PI" | json_check '[b["name"] for b in j["providers"][0]["buckets"]]==["prod-data","prod-media","ct-logs"]' "bucket list"
echo "$PI" | json_check 'j["providers"][0]["lastsync"]["completed"]=="2026-11-29 06:20:00" and j["providers"][0]["lastsync"]["filesindexed"]=="12345"' "last sync"
DATA_ID=$(echo "$PI" | json_get 'j["providers"][0]["buckets"][0]["fi_id"]')
MEDIA_ID=$(echo "$PI" | json_get 'j["providers"][0]["buckets"][1]["fi_id"]')
TASK=$(echo "$PI" | json_get 'j["providers"][0]["lastsync"]["taskid"]')
sim_rpc getUserBackgroundTasks | json_check 'len(j["tasks"])==1 and j["tasks"][0]["bt_status"]=="c" and j["tasks"][0]["bt_completed"]=="2026-11-29 06:20:00"' "background tasks"
sim_rpc getUserBackgroundTasks taskid="$TASK" | json_check 'len(j["tasks"])==1 and j["tasks"][0]["bt_statusdata"]=="12345"' "one task"
sim_rpc getUserBackgroundTasks taskid=no-such-task | json_check 'j["status"]=="ok" and j["tasks"]==[]' "unknown task"

# ---- checkPathExists
sim_rpc checkPathExists pid= path="S3 Prod/prod-data/docs/keep.txt" |
	json_check 'j["exists"]=="y" and j["file"]["fi_type"]=="0" and j["file"]["fi_size"]==str(len("content of keep.txt"))' "checkPathExists file"
sim_rpc checkPathExists pid="$DATA_ID" path="docs/nope.txt" | json_check 'j["status"]=="ok" and j["exists"]=="n"' "checkPathExists missing"
FLOOD_ID=$(sim_rpc checkPathExists pid="$DATA_ID" path=flood | json_get 'j["file"]["fi_id"]')
DOCS_ID=$(sim_rpc checkPathExists pid="$DATA_ID" path=docs | json_get 'j["file"]["fi_id"]')

# ---- paging through 2500 files
sim_rpc getFolderContents fi_pid="$DATA_ID" count=1000 |
	json_check '[i["fi_name"] for i in j["filelist"]]==["docs","flood"] and all(i["fi_type"]=="1" for i in j["filelist"])' "bucket listing"
for from in 0 1000 2000; do
	sim_rpc getFolderContents fi_pid="$FLOOD_ID" count=1000 from=$from subfolders=y options=filelist >"$JIBE_TMP/page$from.json"
done
python3 - "$JIBE_TMP" <<'EOF' || fail "paging through the flood folder"
import json, sys
names = []
for frm, want in ((0, 1000), (1000, 1000), (2000, 500)):
    j = json.load(open(f"{sys.argv[1]}/page{frm}.json"))
    assert j["status"] == "ok" and j["total"] == "2500", j.get("total")
    assert int(j["from"]) == frm
    assert len(j["filelist"]) == want, len(j["filelist"])
    names += [i["fi_name"] for i in j["filelist"]]
assert names == [f"f{i:05d}.txt" for i in range(2500)], "order"
EOF
sim_rpc getFolderContents fi_pid="$FLOOD_ID" count=1000 from=2500 | json_check 'j["filelist"]==[] and j["total"]=="2500"' "page past the end"

# ---- getFile
KEEP_ID=$(sim_rpc checkPathExists pid="$DOCS_ID" path=keep.txt | json_get 'j["file"]["fi_id"]')
BLOB_ID=$(sim_rpc checkPathExists pid="$MEDIA_ID" path=blob.bin | json_get 'j["file"]["fi_id"]')
curl -sS -o "$JIBE_TMP/blob.out" -w '%{http_code}' "$SIM_URL/api/rpc.php" -d function=getFile \
	-d token="$SIM_TOKEN" -d fi_id="$BLOB_ID" >"$JIBE_TMP/code"
[ "$(cat "$JIBE_TMP/code")" = 200 ] || fail "getFile http $(cat "$JIBE_TMP/code")"
cmp -s "$JIBE_TMP/blob.out" "$T/prod-media/blob.bin" || fail "getFile bytes differ"
code=$(curl -sS -o "$JIBE_TMP/nf.json" -w '%{http_code}' "$SIM_URL/api/rpc.php" -d function=getFile -d token="$SIM_TOKEN" -d fi_id=999999)
[ "$code" = 404 ] || fail "getFile of an unknown id: http $code"
json_check 'j["status"]=="not_found"' "getFile unknown id" <"$JIBE_TMP/nf.json"
code=$(curl -sS -o "$JIBE_TMP/rg.out" -w '%{http_code}' -H 'Range: bytes=100-199' "$SIM_URL/api/rpc.php" -d function=getFile -d token="$SIM_TOKEN" -d fi_id="$BLOB_ID")
[ "$code" = 206 ] || fail "ranged getFile: http $code"
tail -c +101 "$T/prod-media/blob.bin" | head -c 100 | cmp -s - "$JIBE_TMP/rg.out" || fail "ranged getFile bytes"

# ---- refresh sees a new and a deleted file in the truth; the index alone does not
printf new >"$T/prod-data/docs/.tmp-new" && mv "$T/prod-data/docs/.tmp-new" "$T/prod-data/docs/new.txt"
rm "$T/prod-data/docs/old.txt"
sim_get /sim/diff | json_check 'not j["equal"] and j["missing"]==["prod-data/docs/new.txt"] and j["extra"]==["prod-data/docs/old.txt"]' "diff before refresh"
sim_rpc getFolderContents fi_pid="$DOCS_ID" | json_check '"old.txt" in [i["fi_name"] for i in j["filelist"]] and "new.txt" not in [i["fi_name"] for i in j["filelist"]]' "listing without refresh"
sim_rpc getFolderContents fi_pid="$DOCS_ID" refresh=y |
	json_check 'j["refreshresult"]["status"]=="ok" and sorted(i["fi_name"] for i in j["filelist"])==["keep.txt","new.txt","sp ace+%\u00fc.txt"]' "listing with refresh"
sim_get /sim/diff | json_check 'j["equal"]' "diff after refresh"
sim_rpc getFile fi_id="$KEEP_ID" >"$JIBE_TMP/keep.out"
[ "$(cat "$JIBE_TMP/keep.out")" = "content of keep.txt" ] || fail "getFile keep.txt"

# ---- syncOnProviderEvent: put, delete (prunes folders), bucket, errors
mkdir -p "$T/prod-data/deep/x"
printf deep >"$T/prod-data/deep/x/y z.txt"
sim_get '/sim/diff?bucket=prod-data' | json_check 'j["missing"]==["prod-data/deep/x/y z.txt"] and j["n_missing"]==1' "diff sees the put"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-data "key=deep/x/y z.txt" event=put | json_check 'j["status"]=="ok" and j["result"]=="updated"' "sync put"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-data "key=deep/x/y z.txt" event=put | json_check 'j["result"]=="unchanged"' "sync put again"
sim_get /sim/diff | json_check 'j["equal"]' "diff after sync put"
sim_rpc checkPathExists pid="$DATA_ID" "path=deep/x/y z.txt" | json_check 'j["exists"]=="y" and j["file"]["fi_size"]=="4"' "synced file listed"
rm -r "$T/prod-data/deep"
sim_get /sim/diff | json_check 'j["extra"]==["prod-data/deep/x/y z.txt"]' "diff sees the delete"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-data "key=deep/x/y z.txt" event=delete | json_check 'j["result"]=="removed"' "sync delete"
sim_rpc checkPathExists pid="$DATA_ID" path=deep | json_check 'j["exists"]=="n"' "empty folders pruned"
python3 -c 'import os, sys
for i in range(300):
    os.makedirs(f"{sys.argv[1]}/d{i % 7}", exist_ok=True)
    open(f"{sys.argv[1]}/d{i % 7}/o{i}.dat", "w").write("x" * i)' "$T/prod-media"
rm "$T/prod-media/blob.bin"
sim_get /sim/diff | json_check 'j["n_missing"]==300 and j["n_extra"]==1' "diff before bucket sync"
sim_get '/sim/diff?exclude=prod-media' | json_check 'j["equal"]' "diff excluding a bucket"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-media event=bucket | json_check 'j["result"]=="bucket" and j["synced"]=="300"' "bucket sync"
sim_get /sim/diff | json_check 'j["equal"]' "diff after bucket sync"
sim_rpc syncOnProviderEvent pi_id=999 bucket=prod-media | json_check 'j["status"]=="not_found"' "sync unknown provider"
sim_rpc syncOnProviderEvent pi_id=101 bucket=other-bucket key=a | json_check 'j["status"]=="not_found"' "sync unknown bucket"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-data key=../../etc/passwd | json_check 'j["status"]=="bad_request"' "sync bad key"
sim_get /sim/stats | json_check 'j["sync"]["prod-data/deep/x/y z.txt"]==3 and j["sync_buckets"]["prod-media"]==1 and j["downloads"]["prod-media/blob.bin"]==2' "stats"

# ---- uploads, folders, deletes
UP_FOLDER=$(sim_rpc doCreateNewFolder fi_pid="$DATA_ID" fi_name=uploads | json_get 'j["file"]["fi_id"]')
[ -d "$T/prod-data/uploads" ] || fail "doCreateNewFolder did not create the folder in the truth"
sim_rpc doCreateNewFolder fi_pid=0 fi_name=nope | json_check 'j["status"]=="bad_request"' "folder outside a bucket"
head -c 123457 /dev/urandom >"$JIBE_TMP/up.bin"
NAME="up load+%.bin"
CODE=$(sim_rpc doInitUpload fi_pid="$UP_FOLDER" "fi_name=$NAME" fi_size=123457 fi_structtype=g \
	"fi_localtime=2020-08-11 10:10:04" | json_get 'j["uploadcode"]')
B64=$(printf '%s' "$NAME" | base64)
curl -sS -X PUT --data-binary @"$JIBE_TMP/up.bin" "$SIM_URL/cgi-bin/uploader/uploader1.cgi/$B64?$CODE" |
	json_check "j['success']=='y' and j['filesize']=='123457' and j['md5']=='$(md5sum <"$JIBE_TMP/up.bin" | cut -c1-32)'" "uploader answer"
sim_rpc doCompleteUpload uploadcode="$CODE" fi_size=123457 "remotetime=2020-08-11 10:10:04" |
	json_check 'j["status"]=="ok" and j["uploadedsize"]=="123457" and j["file"]["fi_name"]=="up load+%.bin" and j["file"]["fi_localtime"]=="2020-08-11 10:10:04"' "doCompleteUpload"
cmp -s "$JIBE_TMP/up.bin" "$T/prod-data/uploads/$NAME" || fail "uploaded bytes are not in the truth"
sim_get /sim/diff | json_check 'j["equal"]' "diff after upload"
sim_rpc doCompleteUpload uploadcode="$CODE" | json_check 'j["status"]=="not_found"' "upload code is single use"
UP_ID=$(sim_rpc checkPathExists pid="$UP_FOLDER" "path=$NAME" | json_get 'j["file"]["fi_id"]')
sim_rpc doDeleteFile fi_id="$UP_ID" | json_check "j['status']=='ok' and j['deleted']==['$UP_ID']" "doDeleteFile"
[ -e "$T/prod-data/uploads/$NAME" ] && fail "doDeleteFile left the object in the truth"
sim_get /sim/diff | json_check 'j["equal"]' "diff after delete"

# ---- index snapshot and restore; full provider sync
sim_get /sim/index >"$JIBE_TMP/snap.jsonl"
grep -q '"k":"flood/f02499.txt"' "$JIBE_TMP/snap.jsonl" || fail "index snapshot misses a file"
curl -sS -X POST --data-binary 'not json' "$SIM_URL/sim/index" | json_check 'j["status"]=="bad_request"' "bad index rejected"
printf '{"b":"prod-data","k":"ghost.txt","s":1,"m":1}\n' | curl -sS -X POST --data-binary @- "$SIM_URL/sim/index" | json_check 'j["status"]=="ok"' "index replaced"
sim_get /sim/diff | json_check 'j["extra"]==["prod-data/ghost.txt"] and j["n_missing"]>2800' "diff of a replaced index"
curl -sS -X POST --data-binary @"$JIBE_TMP/snap.jsonl" "$SIM_URL/sim/index" | json_check 'j["status"]=="ok"' "index restored"
sim_get /sim/diff | json_check 'j["equal"]' "diff after restore"
sim_get /sim/index | cmp -s - "$JIBE_TMP/snap.jsonl" || fail "restored index differs from the snapshot"
rm "$T/prod-data/flood/f00000.txt"
sim_post '/sim/fullsync?provider=101' | json_check 'j["status"]=="ok"' "fullsync"
sim_get /sim/diff | json_check 'j["equal"]' "diff after fullsync"
sim_rpc getProviderInfo | json_check "j['providers'][0]['lastsync']['taskid']!='$TASK' and j['providers'][0]['lastsync']['filesindexed']=='2802'" "lastsync after fullsync"
sim_post '/sim/fullsync?provider=nope' | json_check 'j["status"]=="not_found"' "fullsync unknown provider"

# ---- token expiry
sim_post /sim/faults token_lifetime_s=1 | json_check 'j["token_lifetime_s"]==1' "set token lifetime"
expired() { sim_rpc getFolderContents fi_pid=0 | json_check 'j["status"]=="login_token_expired"' >/dev/null 2>&1; }
wait_until 10 expired
sim_post /sim/faults token_lifetime_s=3600 >/dev/null
sim_rpc getFolderContents fi_pid=0 | json_check 'j["status"]=="login_token_expired"' "expired token stays expired"
sim_login
sim_rpc getFolderContents fi_pid=0 | json_check 'j["status"]=="ok"' "new session after expiry"

# ---- injected HTTP errors and latency
sim_post /sim/reset >/dev/null
sim_post /sim/faults seed=42 error500_rate=0.3 error429_rate=0.2 >/dev/null
i=0
: >"$JIBE_TMP/codes"
while [ $i -lt 300 ]; do
	echo "url = \"$SIM_URL/api/rpc.php\""
	echo 'data = "function=getApplianceInfo&token=*"'
	echo 'write-out = "%{http_code}\n"'
	echo 'output = /dev/null'
	i=$((i + 1))
done >"$JIBE_TMP/curl.cfg"
curl -sS -K "$JIBE_TMP/curl.cfg" >"$JIBE_TMP/codes"
n500=$(grep -c '^500$' "$JIBE_TMP/codes" || true)
n429=$(grep -c '^429$' "$JIBE_TMP/codes" || true)
n200=$(grep -c '^200$' "$JIBE_TMP/codes" || true)
echo "fault injection: 500=$n500 429=$n429 200=$n200"
[ $((n500 + n429 + n200)) -eq 300 ] || fail "unexpected status codes"
[ "$n500" -ge 60 ] && [ "$n500" -le 120 ] || fail "500 rate 0.3 gave $n500/300"
[ "$n429" -ge 35 ] && [ "$n429" -le 95 ] || fail "429 rate 0.2 gave $n429/300"
sim_get /sim/stats | json_check "j['http_errors_injected']==$((n500 + n429)) and j['calls']['getApplianceInfo']==$n200" "stats count injected errors"
sim_post /sim/faults error500_rate=0 error429_rate=0 latency_ms=300 >/dev/null
t0=$(date +%s%N)
sim_rpc getApplianceInfo >/dev/null
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 300 ] || fail "latency_ms=300 not honoured"
head -c 50000 /dev/urandom >"$T/prod-media/slow.bin"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-media key=slow.bin event=put | json_check 'j["result"]=="updated"' "sync slow.bin"
SLOW_ID=$(sim_rpc checkPathExists pid="$MEDIA_ID" path=slow.bin | json_get 'j["file"]["fi_id"]')
sim_post /sim/faults latency_ms=0 slow_body_bps=100000 >/dev/null
t0=$(date +%s%N)
curl -sS -o "$JIBE_TMP/slow.out" "$SIM_URL/api/rpc.php" -d function=getFile -d token="$SIM_TOKEN" -d fi_id="$SLOW_ID"
t1=$(date +%s%N)
cmp -s "$JIBE_TMP/slow.out" "$T/prod-media/slow.bin" || fail "slow getFile bytes differ"
[ $(( (t1 - t0) / 1000000 )) -ge 400 ] || fail "slow_body_bps=100000 served 50000 bytes in $(( (t1 - t0) / 1000000 )) ms"
sim_post /sim/faults clear=1 | json_check 'j["slow_body_bps"]==0 and j["error500_rate"]==0' "faults cleared"
sim_post /sim/faults error500_rate=2 | json_check 'j["status"]=="bad_request"' "bad fault rate"

# ---- unknown functions and garbage (ids below buckets changed when the index was replaced)
FLOOD_ID=$(sim_rpc checkPathExists pid="$DATA_ID" path=flood | json_get 'j["file"]["fi_id"]')
KEEP_ID=$(sim_rpc checkPathExists pid="$DATA_ID" path=docs/keep.txt | json_get 'j["file"]["fi_id"]')
sim_rpc noSuchFunction | json_check 'j["status"]=="unknown_function"' "unknown function"
curl -sS "$SIM_URL/api/rpc.php" -d token=x | json_check 'j["status"]=="unknown_function"' "no function"
sim_rpc getFolderContents fi_pid=abc | json_check 'j["status"]=="not_found"' "garbage fi_pid"
sim_rpc getFolderContents fi_pid="$FLOOD_ID" count=-5 | json_check 'j["status"]=="bad_request"' "negative count"
sim_rpc getFolderContents fi_pid="$FLOOD_ID" from=xyz | json_check 'j["status"]=="bad_request"' "garbage from"
sim_rpc getFolderContents fi_pid=99999999999999999999999 | json_check 'j["status"]=="not_found"' "huge fi_pid"
sim_rpc getFolderContents fi_pid="$KEEP_ID" | json_check 'j["status"]=="bad_request"' "listing a file"
sim_rpc doInitUpload fi_pid="$DATA_ID" fi_name=../x | json_check 'j["status"]=="bad_request"' "upload name with a slash"
sim_rpc doCompleteUpload uploadcode=nope | json_check 'j["status"]=="not_found"' "unknown upload code"
sim_rpc checkPathExists pid="$DATA_ID" path=../../../../etc | json_check 'j["exists"]=="n"' "path with .."
sim_rpc "$(head -c 5000 /dev/zero | tr '\0' A)" | json_check 'j["status"]=="unknown_function"' "long function name"
head -c 100000 /dev/urandom | curl -sS -X POST --data-binary @- "$SIM_URL/api/rpc.php" >/dev/null || true
curl -sS -X PUT --data-binary 'x' "$SIM_URL/cgi-bin/uploader/uploader1.cgi/!!!?nope" | json_check 'j["success"]=="n"' "uploader with a bad code"
curl -sS "$SIM_URL/nowhere" | json_check 'j["status"]=="not_found"' "unknown path"
curl -sS "$SIM_URL/sim/nothing" | json_check 'j["status"]=="not_found"' "unknown /sim path"
sim_rpc getApplianceInfo | json_check 'j["status"]=="ok"' "still alive after garbage"

sim_stop

# ---- a start from DIR/index.jsonl uses exactly that index; a bad one stops the start
printf '{"b":"prod-data","k":"only-in-index.txt","s":3,"m":5}\n{"b":"prod-data","k":"empty/dir/"}\n' >"$R/index.jsonl"
sim_start "$R" --quiet
sim_login
sim_get /sim/diff | json_check 'j["extra"]==["prod-data/only-in-index.txt"] and j["n_missing"]>2800' "diff after a start from index.jsonl"
sim_rpc checkPathExists pid= "path=S3 Prod/prod-data/empty/dir" | json_check 'j["exists"]=="y"' "empty folder from index.jsonl"
sim_stop
printf '{"b":"prod-data","k":"a"}\n{"b":"no-such-bucket","k":"x"}\n' >"$R/index.jsonl"
if "$AASIM" --root "$R" --quiet 2>"$JIBE_TMP/bad.err"; then fail "started with a bad index.jsonl"; fi
grep -q "line 2" "$JIBE_TMP/bad.err" || fail "bad index.jsonl message: $(cat "$JIBE_TMP/bad.err")"
echo "PASS"
