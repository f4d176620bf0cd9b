#!/bin/sh
# 0710-status-two-runs.sh - two `jibe run` instances, each scanning one provider's log bucket,
# share their status through the Access Anywhere folder status.folder (docs/STATUS.md): once
# the index equals the truth, both instances' report.json list both providers with the right
# owner and verdict OK, and the report's figures equal what the simulator counted (log files
# downloaded, resync calls); report.json and report.html are uploaded to report.upload_folder,
# one file each, replaced at each report; the run's report.html in headless Chromium shows the
# same (a screenshot in the test's log directory); `jibe status -c` prints the merged status and exits
# 0; after one instance stops, the other's report shows it missing within 3 publication
# intervals and its provider's source FAILING for that reason.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_status.sh"
R=$JIBE_TMP/root
A=$JIBE_TMP/east
B=$JIBE_TMP/west
status_root "$R" 2
sim_start "$R" --quiet
REPORT_UPLOAD="/S3 Prod/ct-logs/jibe/report"
inst_cfg "$A" east-1 "S3 Prod"
inst_cfg "$B" west-1 "S3 DR"
t0=$(date +%s)
inst_start "$A"
inst_start "$B"
wait_until 120 diff_converged
echo "converged in $(( $(date +%s) - t0 )) s"

sim_counts
BOTH="prov(j, 'S3 Prod')['owner'] == 'east-1' and prov(j, 'S3 DR')['owner'] == 'west-1'
 and src(j, 'S3 Prod', 'ct-logs')['verdict'] == 'OK' and src(j, 'S3 DR', 'dr-logs')['verdict'] == 'OK'
 and prov(j, 'S3 Prod')['verdict'] == 'OK' and prov(j, 'S3 DR')['verdict'] == 'OK'
 and not inst(j, 'east-1')['missing'] and not inst(j, 'west-1')['missing']
 and inst(j, 'east-1')['owns'] == ['101'] and inst(j, 'west-1')['owns'] == ['102']
 and $FILES == $DL and $RESYNCS == $SY"
# the report follows within a publication and a report interval (5 s + 3 s)
wait_report 30 "$A" "$BOTH"
wait_report 30 "$B" "$BOTH"
report_ok "$A" "j['verdict'] == 'OK' and j['generated_by'] == 'east-1'" || fail "east-1's report is not its own or not OK"

# The real report.html in a browser: headless Chromium's DOM holds both providers with their
# verdict and the simulator's figures; a screenshot goes to the test's log directory.
LOGD=${JIBE_BUILD:-$(dirname "$JIBE")}/test-logs/integration/0710-status-two-runs
mkdir -p "$LOGD"
cp "$A/state/report.html" "$LOGD/report.html"
CHROMIUM=$(command -v chromium || command -v chromium-browser) || fail "chromium is not installed (make deps)"
chrome() {
	timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$JIBE_TMP/chromium-profile" "$@" "file://$LOGD/report.html" 2>>"$LOGD/chromium.err"
}
chrome --dump-dom >"$LOGD/dom.html" || fail "chromium could not load report.html (see $LOGD/chromium.err)"
chrome --window-size=1100,1800 --screenshot="$LOGD/report.png" >/dev/null || fail "chromium took no screenshot"
head -c 8 "$LOGD/report.png" | od -An -c | grep -q 'P   N   G' || fail "the screenshot is not a PNG"
python3 - "$LOGD/dom.html" "$DL" <<'PY' || fail "the DOM of the run's report.html ($LOGD/dom.html) is not as expected"
import sys
from html.parser import HTMLParser

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.els, self.stack, self.text, self.section = [], [], {}, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("class") == "provider":
            self.section = a.get("data-provider")
        self.els.append((tag, a, self.section))
        if tag not in ("rect", "line", "meta", "br"):
            self.stack.append(len(self.els) - 1)
    def handle_endtag(self, tag):
        while self.stack:
            if self.els[self.stack.pop()][0] == tag:
                break
    def handle_data(self, d):
        for i in self.stack:
            self.text[i] = self.text.get(i, "") + d

dom = Dom()
dom.feed(open(sys.argv[1], encoding="utf-8").read())
els = dom.els
def cls(i, c): return c in els[i][1].get("class", "").split()
def figure(row, name):
    for j in range(row + 1, len(els)):
        if els[j][0] == "tr": break
        if els[j][1].get("data-figure") == name: return int(dom.text.get(j, "").strip())
    raise AssertionError("no figure " + name)
body = [a for t, a, _ in els if t == "body"][0]
assert body["data-verdict"] == "OK", body
rows = sorted((a["data-provider"], a["data-verdict"]) for i, (t, a, _) in enumerate(els) if t == "tr" and cls(i, "provider-row"))
assert rows == [("101", "OK"), ("102", "OK")], rows
srcs = {(s, a["data-bucket"]): i for i, (t, a, s) in enumerate(els) if t == "tr" and a.get("data-verdict") and a.get("data-bucket") in ("ct-logs", "dr-logs")}
assert set(srcs) == {("101", "ct-logs"), ("102", "dr-logs")}, srcs
done = sum(figure(i, "files_processed") + figure(i, "files_quarantined") for i in srcs.values())
assert done == int(sys.argv[2]), (done, sys.argv[2])
inst = {a["data-instance"]: a["data-missing"] for i, (t, a, _) in enumerate(els) if t == "tr" and cls(i, "instance")}
assert inst == {"east-1": "false", "west-1": "false"}, inst
print("DOM ok: %d elements, %d log files" % (len(els), done))
PY

# The uploaded report: one report.json and one report.html in the folder, replaced each time.
sim_get /sim/index >"$JIBE_TMP/index1.jsonl"
n_uploaded() {
	sim_get /sim/index | python3 -c 'import json, sys
n = [json.loads(l)["k"] for l in sys.stdin if l.strip()]
n = [k for k in n if k.startswith("jibe/report/")]
sys.exit(0 if sorted(n) == ["jibe/report/report.html", "jibe/report/report.json"] else 1)'
}
wait_until 20 n_uploaded
up1=$(sim_get /sim/stats | json_get 'j["calls"].get("uploader", 0)')
m1=$(md5sum <"$R/truth/ct-logs/jibe/report/report.json")
wait_until 20 sh -c "[ \"\$(md5sum <'$R/truth/ct-logs/jibe/report/report.json')\" != '$m1' ]"
n_uploaded || fail "the report folder holds more than one copy of the report"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["type"] == "report"' \
	"$R/truth/ct-logs/jibe/report/report.json" || fail "the uploaded report.json is not a report"
grep -q "S3 DR" "$R/truth/ct-logs/jibe/report/report.html" || fail "the uploaded report.html lacks a provider"
up2=$(sim_get /sim/stats | json_get 'j["calls"].get("uploader", 0)')
[ "$up2" -gt "$up1" ] || fail "no new upload ($up1 -> $up2)"

# `jibe status` reads the status folder: both instances, exit 0 while everything is OK.
rc=0
"$JIBE" status -c "$A/jibe.cfg" >"$JIBE_TMP/status.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$JIBE_TMP/status.txt" >&2; fail "jibe status exited $rc with every source OK"; }
grep -q "west-1" "$JIBE_TMP/status.txt" && grep -q "S3 Prod" "$JIBE_TMP/status.txt" ||
	{ cat "$JIBE_TMP/status.txt" >&2; fail "jibe status does not show both instances"; }

# One instance stops: after 3 publication intervals (15 s) the other shows it missing, and the
# provider it owned FAILING for that reason.
inst_stop "$B"
t1=$(date +%s)
wait_report 40 "$A" "inst(j, 'west-1')['missing'] and src(j, 'S3 DR', 'dr-logs')['verdict'] == 'FAILING'
 and 'west-1' in src(j, 'S3 DR', 'dr-logs')['reason'] and not inst(j, 'east-1')['missing']
 and src(j, 'S3 Prod', 'ct-logs')['verdict'] == 'OK' and j['verdict'] == 'FAILING'"
t2=$(date +%s)
echo "west-1 shown missing $((t2 - t1)) s after it stopped (3 x publish_s = 15 s)"
[ $((t2 - t1)) -ge 14 ] || fail "west-1 shown missing too early ($((t2 - t1)) s)"
rc=0
"$JIBE" status -c "$A/jibe.cfg" >"$JIBE_TMP/status2.txt" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$JIBE_TMP/status2.txt" >&2; fail "jibe status exited $rc with a source FAILING (want 1)"; }
inst_stop "$A"
sim_stop
echo "ok: two instances, one report, owners, figures, uploads, missing instance"
