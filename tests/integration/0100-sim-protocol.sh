#!/bin/sh
# 0100-sim-protocol.sh - jibe-aa-sim answers the PROTOCOL.md calls with curl: logins
# (getToken, getTokenByAuthToken, case-insensitive names), token expiry, paging a 2500-file
# folder, fi_provider/isbucket, the asynchronous refresh (token, stillsyncing, quiet period,
# stuck), one-element lists as objects, getFile by POST and GET (Range, error headers, cut
# bodies), uploads (raw PUT and multipart POST, JSON and XML answers), both background task
# shapes and their filters, syncOnProviderEvent with /sim/diff (and switched off), index
# snapshot/restore, full sync, fault injection, removed and unknown functions and garbage
# parameters; it stops cleanly (no sanitizer report).
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

# ---- appliance info and logins (function names are case-insensitive)
sim_rpc getApplianceInfo | json_check 'j["status"]=="ok" and j["softwareversionlabel"]=="2106.01"' "appliance info"
sim_rpc getToken us_login=admin us_pwd=wrong | json_check 'j["status"]=="login_failed" and "token" not in j' "wrong password"
sim_rpc getToken us_login=nobody us_pwd=s3cret | json_check 'j["status"]=="login_failed"' "unknown login"
sim_rpc getToken | json_check 'j["status"]=="login_failed"' "getToken without fields"
sim_rpc getTokenByAuthToken authtoken=NOPE | json_check 'j["status"]=="login_failed"' "wrong authtoken"
sim_rpc getFolderContents fi_pid=0 | json_check 'j["status"]=="login_token_expired"' "call without login"
sim_rpc getFolderContents fi_pid=0 token=0123456789abcdef | json_check 'j["status"]=="login_token_expired"' "unknown token"
sim_rpc gettoken us_login=admin us_pwd=s3cret >"$JIBE_TMP/login.json"
json_check 'j["status"]=="ok" and len(j["token"])==32 and len(j["lastlogin"])==19 and "autologincode" in j' "gettoken (lower case)" <"$JIBE_TMP/login.json"
PW_TOKEN=$(json_get 'j["token"]' <"$JIBE_TMP/login.json")
sim_rpc GETTOKEN us_login=admin us_pwd=s3cret | json_check 'j["status"]=="ok" and j["token"]!="'"$PW_TOKEN"'"' "GETTOKEN (upper case)"
sim_rpc getfoldercontents fi_pid= token="$PW_TOKEN" |
	json_check 'j["status"]=="ok" and j["total"]=="1" and j["filelist"][0]["fi_name"]=="S3 Prod"' "root listing (password session, lower-case name)"
sim_rpc getTokenByAuthToken authtoken=PERMANENT-TOKEN-1 |
	json_check 'j["status"]=="ok" and j["userid"]=="1" and j["allowloginremember"]=="y" and len(j["lastlogin"])==19 and "autologincode" in j' "getTokenByAuthToken answer"
sim_login
grep -q "s3cret\|PERMANENT-TOKEN-1\|$SIM_TOKEN\|$PW_TOKEN" "$SIM_LOG" && fail "a secret reached the log"
sim_get /sim/stats | json_check 'j["calls"]["getToken"]==5 and j["calls"]["getFolderContents"]==3 and "gettoken" not in j["calls"]' "stats count under the canonical name"

# ---- removed calls
sim_rpc loginUser login=admin password=s3cret | json_check 'j["status"]=="unknown_function"' "loginUser is gone"
sim_rpc getProviderInfo | json_check 'j["status"]=="unknown_function"' "getProviderInfo is gone"

# ---- providers and buckets from listings: fi_provider and isbucket
sim_rpc getFolderContents fi_pid=0 | json_check 'j["filelist"][0]["fi_provider"]=="101" and j["filelist"][0]["isbucket"]=="n" and "fi_provider" not in j["folder"] and "isbucket" not in j["folder"]' "provider folder item"
PROV_ID=$(sim_rpc getFolderContents fi_pid=0 | json_get 'j["filelist"][0]["fi_id"]')
sim_rpc getFolderContents fi_pid="$PROV_ID" >"$JIBE_TMP/prov.json"
json_check '[i["fi_name"] for i in j["filelist"]]==["ct-logs","prod-data","prod-media"] and all(i["isbucket"]=="y" and i["fi_provider"]=="101" and "fi_bucket" not in i for i in j["filelist"])' "bucket folders" <"$JIBE_TMP/prov.json"
DATA_ID=$(json_get '[i["fi_id"] for i in j["filelist"] if i["fi_name"]=="prod-data"][0]' <"$JIBE_TMP/prov.json")
MEDIA_ID=$(json_get '[i["fi_id"] for i in j["filelist"] if i["fi_name"]=="prod-media"][0]' <"$JIBE_TMP/prov.json")
sim_rpc getFolderContents fi_pid="$DATA_ID" | json_check 'all(i["isbucket"]=="n" and i["fi_provider"]=="101" for i in j["filelist"]) and j["folder"]["isbucket"]=="y"' "items inside a bucket"

# ---- background tasks: rclone shape (taskid) and Python shape (bt_id, filters)
TASK=sync-101-1
sim_rpc getUserBackgroundTasks taskid="$TASK" |
	json_check 'j["status"]=="ok" and j["total"]=="1" and len(j["tasks"])==1 and j["tasks"][0]["bt_status"]=="c" and j["tasks"][0]["bt_statusdata"]=="12345" and j["tasks"][0]["bt_completed"]=="2026-11-29 06:20:00" and "response" not in j' "rclone shape"
sim_rpc getUserBackgroundTasks taskid=no-such-task | json_check 'j["status"]=="ok" and j["tasks"]==[] and j["total"]=="0"' "unknown task (rclone shape)"
sim_rpc getUserBackgroundTasks >"$JIBE_TMP/tasks.json"
json_check '"tasks" not in j and j["response"]["total"]=="1" and len(j["response"]["tasks"])==1' "Python shape" <"$JIBE_TMP/tasks.json"
json_check '(lambda t: t["bt_id"]=="sync-101-1" and t["bt_type"]=="sync" and t["bt_status"]=="completed" and t["callback"]=="ReSync" and t["bt_data"]=={"callback":"ReSync","pi_id":"101"} and t["bt_title"]=="Resync of provider S3 Prod" and t["bt_added"]=="2026-11-29 06:00:00")(j["response"]["tasks"][0])' "task fields" <"$JIBE_TMP/tasks.json"
sim_rpc getUserBackgroundTasks typefilter=sync statusfilter=completed | json_check 'j["response"]["total"]=="1"' "typefilter=sync statusfilter=completed"
sim_rpc getUserBackgroundTasks typefilter=sync statusfilter=a,w,p limit=1 | json_check 'j["response"]["total"]=="0" and j["response"]["tasks"]==[]' "no active sync"
sim_rpc getUserBackgroundTasks typefilter=custom | json_check 'j["response"]["total"]=="0"' "typefilter=custom"
sim_rpc getUserBackgroundTasks bt_id="$TASK" | json_check 'j["response"]["tasks"][0]["bt_id"]=="'"$TASK"'"' "bt_id"
sim_rpc getUserBackgroundTasks bt_id=nope | json_check 'j["response"]["tasks"]==[] and j["response"]["total"]=="0"' "unknown bt_id"
sim_rpc getUserBackgroundTasks limit=-1 | json_check 'j["status"]=="bad_request"' "bad limit"

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

# ---- getFile by GET with query fields (the Python client's form), lower-case name
curl -sS -o "$JIBE_TMP/blob.get" -D "$JIBE_TMP/blob.hdr" -G "$SIM_URL/api/rpc.php" -d function=getfile \
	-d token="$SIM_TOKEN" --data-urlencode fi_id="$BLOB_ID" || fail "GET getfile"
cmp -s "$JIBE_TMP/blob.get" "$T/prod-media/blob.bin" || fail "GET getfile bytes differ"
grep -qi '^content-length: 200000' "$JIBE_TMP/blob.hdr" || fail "GET getfile: no Content-Length"
grep -qi '^content-type: application/octet-stream' "$JIBE_TMP/blob.hdr" || fail "GET getfile: content type"
grep -qi 'download-error' "$JIBE_TMP/blob.hdr" && fail "download error headers on a good download"
curl -sS -G "$SIM_URL/api/rpc.php" -d function=getfoldercontents -d token="$SIM_TOKEN" -d fi_pid="$DOCS_ID" |
	json_check 'j["status"]=="ok" and j["total"]=="3"' "getFolderContents by GET"

# ---- asynchronous refresh: token -> stillsyncing -> done; the listing changes only when done
names() { json_get 'sorted(i["fi_name"] for i in ([j["filelist"]] if isinstance(j["filelist"], dict) else j["filelist"]))'; }
printf new >"$T/prod-data/docs/.tmp-new" && mv "$T/prod-data/docs/.tmp-new" "$T/prod-data/docs/new.txt"
rm "$T/prod-data/docs/old.txt"
sim_get /sim/diff | json_check 'not j["equal"] and j["missing"]==["prod-data/docs/new.txt"] and j["extra"]==["prod-data/docs/old.txt"]' "diff before refresh"
sim_rpc getFolderContents fi_pid="$DOCS_ID" | json_check '"old.txt" in [i["fi_name"] for i in j["filelist"]] and "new.txt" not in [i["fi_name"] for i in j["filelist"]] and "refreshresult" not in j' "listing without refresh"
OLD_NAMES='["keep.txt", "old.txt", "sp ace+%\u00fc.txt"]'
NEW_NAMES='["keep.txt", "new.txt", "sp ace+%\u00fc.txt"]'
# 20 s: the five checks below run while it is pending, even on a loaded machine (4 s was not)
sim_post /sim/faults refresh_ms=20000 | json_check 'j["refresh_ms"]==20000' "set refresh_ms"
sim_rpc getFolderContents fi_pid="$DOCS_ID" refresh=y refreshtype=a >"$JIBE_TMP/r1.json"
json_check 'j["refreshresult"]["status"]=="ok" and len(j["refreshresult"]["token"])==32 and "stillsyncing" not in j' "refresh started" <"$JIBE_TMP/r1.json"
[ "$(names <"$JIBE_TMP/r1.json")" = "$OLD_NAMES" ] || fail "the answer that starts a refresh shows the old index: $(names <"$JIBE_TMP/r1.json")"
RTOK=$(json_get 'j["refreshresult"]["token"]' <"$JIBE_TMP/r1.json")
sim_rpc getFolderContents fi_pid="$DOCS_ID" refresh=y refreshtype=a | json_check 'j["refreshresult"]["token"]=="'"$RTOK"'"' "a second refresh=y while one runs gives its token"
sim_rpc getFolderContents fi_pid="$DOCS_ID" refresh=y refreshtype=a refreshtoken="$RTOK" >"$JIBE_TMP/r2.json"
json_check 'j["stillsyncing"] is True and "refreshresult" not in j' "stillsyncing while it runs" <"$JIBE_TMP/r2.json"
[ "$(names <"$JIBE_TMP/r2.json")" = "$OLD_NAMES" ] || fail "listing changed before the refresh was done"
sim_get /sim/stats | json_check 'j["refresh_started"]==1 and j["refresh_pending"]==1 and j["refreshes"]=={}' "stats while refreshing"
done_refresh() { sim_rpc getFolderContents fi_pid="$DOCS_ID" refreshtoken="$RTOK" >"$JIBE_TMP/r3.json" && [ "$(json_get '"stillsyncing" not in j' <"$JIBE_TMP/r3.json")" = true ]; }
wait_until 40 done_refresh
[ "$(names <"$JIBE_TMP/r3.json")" = "$NEW_NAMES" ] || fail "listing after the refresh: $(names <"$JIBE_TMP/r3.json")"
sim_get /sim/diff | json_check 'j["equal"]' "diff after refresh"
sim_get /sim/stats | json_check 'j["refreshes"]=={"prod-data/docs/":1} and j["refresh_started"]==1 and j["refresh_pending"]==0' "stats after refresh"
sim_rpc getFolderContents fi_pid="$DOCS_ID" refreshtoken=0123456789abcdef0123456789abcdef | json_check '"stillsyncing" not in j and j["status"]=="ok"' "unknown refresh token"
# due refreshes are applied whether or not anyone polls; a bucket folder is refreshable
printf b >"$T/prod-data/top.txt"
sim_post /sim/faults refresh_ms=0 >/dev/null
sim_rpc getFolderContents fi_pid="$DATA_ID" refresh=y refreshtype=a | json_check 'len(j["refreshresult"]["token"])==32 and "top.txt" not in [i["fi_name"] for i in j["filelist"]]' "refresh of a bucket folder"
sim_get /sim/stats | json_check 'j["refreshes"]["prod-data/"]==1' "bucket refresh applied without polling"
sim_rpc checkPathExists pid="$DATA_ID" path=top.txt | json_check 'j["exists"]=="y"' "bucket refresh result"
# above buckets nothing is started
sim_rpc getFolderContents fi_pid=0 refresh=y refreshtype=a | json_check 'j["refreshresult"]["status"]=="ok" and "token" not in j["refreshresult"]' "no refresh of the root"
sim_rpc getFolderContents fi_pid="$PROV_ID" refresh=y refreshtype=a | json_check '"token" not in j["refreshresult"]' "no refresh of a provider folder"
# quiet period: a folder refreshed recently gets no token
sim_post /sim/faults refresh_quiet_ms=60000 | json_check 'j["refresh_quiet_ms"]==60000' "set refresh_quiet_ms"
sim_rpc getFolderContents fi_pid="$DOCS_ID" refresh=y refreshtype=a | json_check 'j["refreshresult"]["status"]=="ok" and "token" not in j["refreshresult"]' "quiet period: no token"
sim_post /sim/faults refresh_quiet_ms=0 >/dev/null
# a stuck refresh says stillsyncing forever and applies nothing
printf late >"$T/prod-data/docs/late.txt"
sim_post /sim/faults refresh_stuck=1 refresh_ms=0 | json_check 'j["refresh_stuck"]==1' "set refresh_stuck"
STOK=$(sim_rpc getFolderContents fi_pid="$DOCS_ID" refresh=y refreshtype=a | json_get 'j["refreshresult"]["token"]')
sleep 0.5
sim_rpc getFolderContents fi_pid="$DOCS_ID" refreshtoken="$STOK" >"$JIBE_TMP/r4.json"
json_check 'j["stillsyncing"] is True and "late.txt" not in [i["fi_name"] for i in j["filelist"]]' "stuck refresh" <"$JIBE_TMP/r4.json"
sim_post /sim/faults refresh_stuck=0 >/dev/null
sim_rpc getFolderContents fi_pid="$DOCS_ID" refreshtoken="$STOK" | json_check '"stillsyncing" not in j and "late.txt" in [i["fi_name"] for i in j["filelist"]]' "unstuck refresh is applied"
rm "$T/prod-data/docs/late.txt" "$T/prod-data/top.txt"
sim_post /sim/faults clear=1 | json_check 'j["refresh_ms"]==150 and j["refresh_stuck"]==0' "refresh faults cleared"
sim_rpc getFolderContents fi_pid="$DATA_ID" refresh=y refreshtype=a >/dev/null
sim_rpc getFolderContents fi_pid="$DOCS_ID" refresh=y refreshtype=a >/dev/null
wait_until 10 eval 'sim_get /sim/stats | json_check "j[\"refresh_pending\"]==0" >/dev/null 2>&1'
sim_get /sim/diff | json_check 'j["equal"]' "diff after the clean-up refreshes"
sim_rpc getFile fi_id="$KEEP_ID" >"$JIBE_TMP/keep.out"
[ "$(cat "$JIBE_TMP/keep.out")" = "content of keep.txt" ] || fail "getFile keep.txt"

# ---- one-element lists as objects (fault and sim.json), filelist and tasks
sim_rpc getFolderContents fi_pid=0 | json_check 'isinstance(j["filelist"], list)' "one-element list is a list by default"
sim_post /sim/faults single_object=1 | json_check 'j["single_object"]==1' "set single_object"
sim_rpc getFolderContents fi_pid=0 | json_check 'isinstance(j["filelist"], dict) and j["filelist"]["fi_name"]=="S3 Prod"' "one-element filelist as an object"
sim_rpc getFolderContents fi_pid="$FLOOD_ID" count=1 from=7 | json_check 'isinstance(j["filelist"], dict) and j["filelist"]["fi_name"]=="f00007.txt" and j["total"]=="2500"' "one-element page as an object"
sim_rpc getFolderContents fi_pid="$PROV_ID" | json_check 'isinstance(j["filelist"], list) and len(j["filelist"])==3' "longer lists stay lists"
sim_rpc getFolderContents fi_pid="$FLOOD_ID" from=2500 | json_check 'j["filelist"]==[]' "empty lists stay lists"
sim_rpc getUserBackgroundTasks | json_check 'isinstance(j["response"]["tasks"], dict) and j["response"]["tasks"]["bt_id"]=="sync-101-1"' "one task as an object (Python shape)"
sim_rpc getUserBackgroundTasks taskid=sync-101-1 | json_check 'isinstance(j["tasks"], dict) and j["tasks"]["bt_status"]=="c"' "one task as an object (rclone shape)"
sim_post /sim/faults single_object=0 >/dev/null
sim_post /sim/faults single_object=yes | json_check 'j["status"]=="bad_request"' "bad single_object"

# ---- injected download errors and cut bodies
sim_post /sim/faults download_error_rate=1 | json_check 'j["download_error_rate"]==1 and j["download_error_http"]==200' "set download_error_rate"
code=$(curl -sS -o "$JIBE_TMP/de.out" -D "$JIBE_TMP/de.hdr" -w '%{http_code}' -G "$SIM_URL/api/rpc.php" -d function=getfile -d token="$SIM_TOKEN" -d fi_id="$BLOB_ID")
[ "$code" = 200 ] || fail "download error: http $code (want 200)"
python3 - "$JIBE_TMP/de.hdr" "$JIBE_TMP/de.out" <<'EOF' || fail "download error headers"
import base64, sys
h = {}
for line in open(sys.argv[1], encoding="latin-1"):
    if ":" in line:
        k, v = line.split(":", 1)
        h[k.strip().lower()] = v.strip()
for k in ("x-naa-download-error", "x-sme-download-error", "x-provider-download-error"):
    assert base64.b64decode(h[k]).decode(), k
assert "Download failed" in base64.b64decode(h["x-naa-download-error"]).decode()
assert h["x-naa-download-error-status"] and h["x-sme-download-error-status"] and h["x-provider-download-error-code"]
assert h["content-type"].startswith("text/html")
assert open(sys.argv[2]).read() == "<html><body>Download failed</body></html>"
EOF
sim_post /sim/faults download_error_http=503 download_error_legacy=1 >/dev/null
code=$(curl -sS -o /dev/null -D "$JIBE_TMP/de2.hdr" -w '%{http_code}' "$SIM_URL/api/rpc.php" -d function=getFile -d token="$SIM_TOKEN" -d fi_id="$BLOB_ID")
[ "$code" = 503 ] || fail "download_error_http=503 gave http $code"
grep -qi '^x-sme-download-error:' "$JIBE_TMP/de2.hdr" || fail "legacy download error: no X-SME-DOWNLOAD-ERROR"
grep -qi '^x-naa-download-error\|^x-provider-download-error' "$JIBE_TMP/de2.hdr" && fail "legacy download error carries the new headers"
sim_post /sim/faults download_error_http=99 | json_check 'j["status"]=="bad_request"' "bad download_error_http"
sim_post /sim/faults download_error_rate=0 download_error_legacy=0 download_error_http=200 download_cut_rate=1 >/dev/null
curl -sS -o "$JIBE_TMP/cut.out" -D "$JIBE_TMP/cut.hdr" "$SIM_URL/api/rpc.php" -d function=getFile -d token="$SIM_TOKEN" -d fi_id="$BLOB_ID" 2>/dev/null && fail "curl did not notice the cut body"
grep -qi '^content-length: 200000' "$JIBE_TMP/cut.hdr" || fail "cut download: Content-Length is not the full size"
[ "$(wc -c <"$JIBE_TMP/cut.out")" -eq 100000 ] || fail "cut download gave $(wc -c <"$JIBE_TMP/cut.out") bytes (want 100000)"
head -c 100000 "$T/prod-media/blob.bin" | cmp -s - "$JIBE_TMP/cut.out" || fail "cut download bytes"
sim_post /sim/faults download_cut_rate=0 >/dev/null
sim_get /sim/stats | json_check 'j["download_errors_injected"]==2 and j["download_cuts_injected"]==1' "download fault counters"

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
sim_get /sim/stats | json_check 'j["sync"]["prod-data/deep/x/y z.txt"]==3 and j["sync_buckets"]["prod-media"]==1 and j["downloads"]["prod-media/blob.bin"]==4' "stats"
sim_post /sim/faults sync_event_off=1 | json_check 'j["sync_event_off"]==1' "set sync_event_off"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-media event=bucket | json_check 'j["status"]=="unknown_function"' "syncOnProviderEvent switched off"
sim_get /sim/stats | json_check 'j["sync_buckets"]["prod-media"]==1 and j["calls"]["syncOnProviderEvent"]==8' "switched-off call counted, nothing synced"
sim_post /sim/faults sync_event_off=0 >/dev/null
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-media event=bucket | json_check 'j["result"]=="bucket"' "syncOnProviderEvent back on"

# ---- uploads, folders, deletes
UP_FOLDER=$(sim_rpc doCreateNewFolder fi_pid="$DATA_ID" fi_name=uploads | json_get 'j["file"]["fi_id"]')
[ -d "$T/prod-data/uploads" ] || fail "doCreateNewFolder did not create the folder in the truth"
sim_rpc doCreateNewFolder fi_pid=0 fi_name=nope | json_check 'j["status"]=="bad_request"' "folder outside a bucket"
head -c 123457 /dev/urandom >"$JIBE_TMP/up.bin"
NAME="up load+%.bin"
CODE=$(sim_rpc doInitUpload fi_pid="$UP_FOLDER" "fi_name=$NAME" fi_size=123457 fi_structtype=g responsetype=json \
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
sim_rpc doDeleteFile fi_id="$UP_ID" completedeletion=n | json_check "j['status']=='ok' and j['deleted']==['$UP_ID'] and j['errors']==[] and j['fi_id']=='$UP_ID' and j['backgroundtask']==0" "doDeleteFile"
[ -e "$T/prod-data/uploads/$NAME" ] && fail "doDeleteFile left the object in the truth"
sim_get /sim/diff | json_check 'j["equal"]' "diff after delete"
# the Python client's form: fi_name + fi_filename, multipart POST field datafile, JSON answer
head -c 54321 /dev/urandom >"$JIBE_TMP/mp.bin"
MD5=$(md5sum <"$JIBE_TMP/mp.bin" | cut -c1-32)
CODE=$(sim_rpc doinitupload fi_pid="$UP_FOLDER" fi_name=mp.bin fi_filename=mp.bin fi_size=54321 responsetype=json | json_get 'j["uploadcode"]')
curl -sS -F "datafile=@$JIBE_TMP/mp.bin;type=application/octet-stream" -F other=field "$SIM_URL/cgi-bin/uploader/uploader1.cgi?$CODE" |
	json_check "j=={'success':'y','filesize':'54321','md5':'$MD5'}" "multipart uploader answer (JSON)"
sim_rpc doCompleteUpload uploadcode="$CODE" fi_size=54321 | json_check 'j["status"]=="ok" and j["file"]["fi_name"]=="mp.bin" and j["uploadedsize"]=="54321"' "doCompleteUpload after multipart"
cmp -s "$JIBE_TMP/mp.bin" "$T/prod-data/uploads/mp.bin" || fail "multipart upload bytes are not in the truth"
# fi_filename alone names the file; without responsetype=json the uploader answers in XML
CODE=$(sim_rpc doInitUpload fi_pid="$UP_FOLDER" fi_filename=x.bin fi_size=5 | json_get 'j["uploadcode"]')
printf 12345 | curl -sS -X PUT --data-binary @- "$SIM_URL/cgi-bin/uploader/uploader1.cgi/$(printf x.bin | base64)?$CODE" >"$JIBE_TMP/up.xml"
grep -q '^<?xml version="1.0" encoding="UTF-8"?><response><success>y</success><filesize>5</filesize><md5>827ccb0eea8a706c4c34a16891f84e7b</md5></response>$' "$JIBE_TMP/up.xml" ||
	fail "XML uploader answer: $(cat "$JIBE_TMP/up.xml")"
sim_rpc doCompleteUpload uploadcode="$CODE" remotefilesize=999 | json_check 'j["status"]=="ok" and j["file"]["fi_name"]=="x.bin"' "remotefilesize is not an alias any more"
# fault uploader_xml forces XML even after responsetype=json; errors are XML too
sim_post /sim/faults uploader_xml=1 | json_check 'j["uploader_xml"]==1' "set uploader_xml"
CODE=$(sim_rpc doInitUpload fi_pid="$UP_FOLDER" fi_name=y.bin responsetype=json | json_get 'j["uploadcode"]')
curl -sS -F "datafile=@$JIBE_TMP/mp.bin" "$SIM_URL/cgi-bin/uploader/uploader1.cgi?$CODE" | grep -q "<success>y</success><filesize>54321</filesize><md5>$MD5</md5>" || fail "uploader_xml: no XML answer"
sim_rpc doAbortUpload uploadcode="$CODE" | json_check 'j["status"]=="ok"' "doAbortUpload"
curl -sS -X PUT --data-binary x "$SIM_URL/cgi-bin/uploader/uploader1.cgi/eA==?nope" | grep -q '<success>n</success><error>unknown upload code</error>' || fail "uploader_xml: XML error"
sim_post /sim/faults uploader_xml=0 >/dev/null
CODE=$(sim_rpc doInitUpload fi_pid="$UP_FOLDER" fi_name=z.bin responsetype=json | json_get 'j["uploadcode"]')
curl -sS -F "notdatafile=@$JIBE_TMP/mp.bin" "$SIM_URL/cgi-bin/uploader/uploader1.cgi?$CODE" | json_check 'j["success"]=="n" and "datafile" in j["error"]' "multipart without datafile"
curl -sS -X POST -H 'Content-Type: multipart/form-data' --data-binary 'garbage' "$SIM_URL/cgi-bin/uploader/uploader1.cgi?$CODE" | json_check 'j["success"]=="n"' "multipart without a boundary"
curl -sS -X POST -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "$(printf '%s\r\n%s\r\n\r\nabc' --XyZ 'Content-Disposition: form-data; name="datafile"; filename="z.bin"')" "$SIM_URL/cgi-bin/uploader/uploader1.cgi?$CODE" >/dev/null || true
curl -sS -X POST --data-binary 'raw' "$SIM_URL/cgi-bin/uploader/uploader1.cgi?$CODE" | json_check 'j["success"]=="n"' "raw POST without a name in the path"
sim_rpc doAbortUpload uploadcode="$CODE" | json_check 'j["status"]=="ok"' "abort after bad multipart posts"
sim_get /sim/diff | json_check 'j["equal"]' "diff after the uploads"

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
sim_rpc getUserBackgroundTasks typefilter=sync statusfilter=completed >"$JIBE_TMP/t2.json"
json_check 'j["response"]["total"]=="2" and [t["bt_id"] for t in j["response"]["tasks"]]==["sync-101-1","sync-101-2"]' "fullsync adds a task" <"$JIBE_TMP/t2.json"
json_check '(lambda t: t["callback"]=="ReSync" and t["bt_status"]=="completed" and t["bt_statusdata"]=="2804" and t["bt_data"]["pi_id"]=="101" and t["bt_completed"]>="2026")(j["response"]["tasks"][1])' "the fullsync task" <"$JIBE_TMP/t2.json"
sim_rpc getUserBackgroundTasks taskid=sync-101-2 | json_check 'j["tasks"][0]["bt_status"]=="c"' "fullsync task (rclone shape)"
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
rm "$R/index.jsonl"

# ---- sim.json: refresh_ms, refresh_quiet_ms, single_as_object, sync_on_provider_event,
# last_sync.callback and last_sync.running
python3 - "$R/sim.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
j.update(refresh_ms=50, refresh_quiet_ms=30000, single_as_object=True, sync_on_provider_event=False)
j["providers"][0]["last_sync"].update(callback="InitialSync", running=True)
json.dump(j, open(sys.argv[1], "w"))
EOF
sim_start "$R" --quiet
sim_login
sim_get /sim/faults | json_check 'j["refresh_ms"]==50 and j["refresh_quiet_ms"]==30000 and j["single_object"]==1 and j["sync_event_off"]==1' "faults show sim.json settings"
sim_rpc syncOnProviderEvent pi_id=101 bucket=prod-data | json_check 'j["status"]=="unknown_function"' "sync_on_provider_event=false"
sim_rpc getUserBackgroundTasks >"$JIBE_TMP/t3.json"
json_check 'len(j["response"]["tasks"])==2 and j["response"]["total"]=="2"' "completed + running task" <"$JIBE_TMP/t3.json"
json_check '(lambda a, b: a["callback"]=="InitialSync" and a["bt_status"]=="completed" and a["bt_title"]=="Initial sync of provider S3 Prod" and b["callback"]=="ReSync" and b["bt_status"]=="w" and b["bt_added"]>a["bt_completed"] and b["bt_completed"]=="0000-00-00 00:00:00")(*j["response"]["tasks"])' "task details" <"$JIBE_TMP/t3.json"
sim_rpc getUserBackgroundTasks statusfilter=a,w,p typefilter=sync limit=1 | json_check 'j["response"]["total"]=="1" and j["response"]["tasks"]["bt_status"]=="w"' "running task filtered (one element as an object)"
DATA_ID=$(sim_rpc checkPathExists pid= "path=S3 Prod/prod-data" | json_get 'j["file"]["fi_id"]')
RTOK=$(sim_rpc getFolderContents fi_pid="$DATA_ID" refresh=y refreshtype=a | json_get 'j["refreshresult"]["token"]')
[ -n "$RTOK" ] || fail "no refresh token"
wait_until 10 eval 'sim_get /sim/stats | json_check "j[\"refreshes\"]=={\"prod-data/\":1}" >/dev/null 2>&1'
sim_rpc getFolderContents fi_pid="$DATA_ID" refresh=y refreshtype=a | json_check '"token" not in j["refreshresult"]' "refresh_quiet_ms from sim.json"
sim_stop
printf '{"users":[{"login":"a","password":"b"}],"providers":[{"id":"1","name":"P","buckets":[]}],"refresh_ms":"soon"}' >"$R/sim.json"
if "$AASIM" --root "$R" --quiet 2>"$JIBE_TMP/bad.err"; then fail "started with a bad refresh_ms"; fi
grep -q "refresh_ms" "$JIBE_TMP/bad.err" || fail "bad refresh_ms message: $(cat "$JIBE_TMP/bad.err")"
echo "PASS"
