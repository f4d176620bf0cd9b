#!/bin/sh
# 0700-report-html.sh - report.html opens in a real browser: `jibe status --files ... --html F`
# renders the documents of tests/data/status/ (four instances, one missing, LATE and FAILING
# sources, advice, a problem whose text carries markup, two unreadable documents), headless
# Chromium loads F (--dump-dom) and the DOM must hold the verdicts, the order, the figures and
# the marks report.c's header comment calls stable, with the data's markup as text only; a
# screenshot goes to the test's log directory. Also `jibe status`'s exit codes: 0 OK, 1 LATE
# or FAILING, 2 usage or configuration error. Skipped (77) only when chromium is not installed.
set -eu
: "${JIBE:?}" "${JIBE_TOP:?}" "${JIBE_TMP:?}"
: "${JIBE_BUILD:=$(dirname "$JIBE")}"
T=$JIBE_TMP
D=$JIBE_TOP/tests/data/status
NOW=2026-12-01T12:00:20Z
LOGD=$JIBE_BUILD/test-logs/integration/0700-report-html
fail() { echo "FAIL: $*" >&2; exit 1; }

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: chromium is not installed (Debian: apt-get install chromium; make deps installs it)"
	exit 77
fi
mkdir -p "$LOGD"

# exit codes
rc=0
"$JIBE" status --now "$NOW" --files "$D/east-1.json" >"$T/ok.txt" || rc=$?
[ "$rc" -eq 0 ] || fail "an all-OK status exits $rc, not 0"
grep -q '^OK  2 providers, 2 sources: 2 OK' "$T/ok.txt" || fail "all-OK table: $(head -n 1 "$T/ok.txt")"
rc=0
"$JIBE" status --now "$NOW" --json --files "$D/west-2.json" >"$T/late.json" || rc=$?
[ "$rc" -eq 1 ] || fail "a LATE and FAILING status exits $rc, not 1"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["type"]=="report" and j["verdict"]=="FAILING", j["verdict"]' "$T/late.json" ||
	fail "--json is not the report"
for args in "--json --html $T/x.html --files $D/east-1.json" "--files" "--now yesterday --files $D/east-1.json" \
	"$D/east-1.json" "--files $T/no-such.json" "-c $T/no-such.cfg"; do
	rc=0
	# shellcheck disable=SC2086
	"$JIBE" status $args >"$T/usage.out" 2>"$T/usage.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "jibe status $args exits $rc, not 2"
	[ -s "$T/usage.err" ] || fail "jibe status $args says nothing on stderr"
done
grep -q 'configuration error' "$T/usage.err" || fail "a bad -c FILE is not called a configuration error"

# the report of the whole deployment
rc=0
"$JIBE" status --now "$NOW" --html "$T/report.html" --files "$D/east-1.json" "$D/east-1-old.json" \
	"$D/west-2.json" "$D/sync-1.json" "$D/gone-3.json" "$D/bad-notjson.json" "$D/bad-version.json" \
	>"$T/html.out" || rc=$?
[ "$rc" -eq 1 ] || fail "the deployment's report exits $rc, not 1"
cp "$T/report.html" "$LOGD/report.html"

chrome() {
	timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$T/chromium-profile" "$@" "file://$T/report.html" 2>>"$LOGD/chromium.err"
}
chrome --dump-dom >"$LOGD/dom.html" || fail "chromium could not load report.html (see $LOGD/chromium.err)"
chrome --window-size=1100,3000 --screenshot="$LOGD/report.png" >/dev/null ||
	fail "chromium could not take a screenshot (see $LOGD/chromium.err)"
[ -s "$LOGD/report.png" ] || fail "no screenshot in $LOGD"
head -c 8 "$LOGD/report.png" | od -An -c | grep -q 'P   N   G' || fail "the screenshot is not a PNG"

python3 - "$LOGD/dom.html" <<'PY' || fail "the DOM of report.html (in $LOGD/dom.html) is not as expected"
import sys
from html.parser import HTMLParser

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.els = []      # (tag, attrs, element index of the enclosing section.provider)
        self.stack = []
        self.text = {}     # element index -> its text
        self.section = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and a.get("class") == "provider":
            self.section = a.get("data-provider")
        self.els.append((tag, a, self.section))
        if tag not in ("rect", "line", "meta", "br"):
            self.stack.append(len(self.els) - 1)
    def handle_endtag(self, tag):
        if tag == "section":
            self.section = None
        while self.stack:
            i = self.stack.pop()
            if self.els[i][0] == tag:
                break
    def handle_data(self, d):
        for i in self.stack:
            self.text[i] = self.text.get(i, "") + d

dom = Dom()
dom.feed(open(sys.argv[1], encoding="utf-8").read())
els = dom.els
def find(tag=None, section=None, **want):
    out = []
    for i, (t, a, s) in enumerate(els):
        if tag and t != tag: continue
        if section is not None and s != section: continue
        if all(a.get(k.replace("_", "-")) == v for k, v in want.items()):
            out.append(i)
    return out
def one(**kw):
    r = find(**kw)
    assert len(r) == 1, (kw, len(r))
    return r[0]
def cls(i, c): return c in els[i][1].get("class", "").split()
def figure(row, name):
    # the td with data-figure=name after row, before the next tr
    for j in range(row + 1, len(els)):
        t, a, _ = els[j]
        if t == "tr": break
        if a.get("data-figure") == name: return dom.text.get(j, "").strip()
    raise AssertionError("no figure %s" % name)

body = one(tag="body")
assert els[body][1]["data-verdict"] == "FAILING", els[body][1]
rows = [els[i][1] for i in find(tag="tr") if cls(i, "provider-row")]
assert [r["data-verdict"] for r in rows] == ["FAILING", "FAILING", "FAILING", "LATE", "OK"], rows
assert [r["data-provider"] for r in rows] == ["505", "404", "303", "202", "101"], rows
sec = one(tag="section", id="provider-5")
assert els[sec][1]["data-provider"] == "101" and els[sec][1]["data-verdict"] == "OK", els[sec][1]
assert els[one(tag="section", id="provider-4")][1]["data-verdict"] == "LATE"

src = one(tag="tr", data_bucket="archive-logs", data_verdict="LATE")
src = one(tag="tr", section="101", data_bucket="ct-logs", data_verdict="OK")
assert figure(src, "files_found") == "120" and figure(src, "files_processed") == "118"
assert figure(src, "files_quarantined") == "2"
assert one(tag="tr", section="303", data_bucket="media-logs", data_verdict="FAILING")
bk = one(tag="tr", section="101", data_bucket="prod-data")
assert (figure(bk, "events"), figure(bk, "resyncs_ok"), figure(bk, "resyncs_failed")) == ("630", "120", "0"), \
    (figure(bk, "events"), figure(bk, "resyncs_ok"))
assert (figure(bk, "latency_p50_s"), figure(bk, "latency_p99_s")) == ("10", "60")
bk = one(tag="tr", section="505", data_bucket="shared-data")
assert (figure(bk, "resyncs_failed"), figure(bk, "dead")) == ("3", "3")

charts = [i for i in find(tag="svg", section="101") if cls(i, "chart")]
assert [els[i][1]["data-series"] for i in charts] == ["events", "resyncs"], charts
assert els[charts[0]][1]["data-total"] == "15" and els[charts[1]][1]["data-total"] == "13"
bars = [i for i in find(tag="rect", section="101")]
assert len(bars) == 3 + 3, len(bars)  # events in 3 slots, resyncs in 3 (aligned across instances)

kinds = sorted(els[i][1]["data-kind"] + "/" + els[i][1]["data-bucket"] for i in find(tag="li") if cls(i, "advice"))
assert kinds == ["log_bucket_writes/ct-logs", "read_events/ct-logs", "read_events/media-logs"], kinds

probs = [i for i in find(tag="li") if cls(i, "problem")]
assert len(probs) == 5, len(probs)
q = [i for i in probs if els[i][1]["data-kind"] == "quarantine"][0]
assert "log file <img src=x onerror=alert(1)> & \"quoted\" 'name'.json.gz" in dom.text[q], dom.text[q]
assert "What to do:" in dom.text[q]
assert els[q][2] == "101", els[q]  # under its provider's section
assert [els[i][2] for i in probs if els[i][1]["data-kind"] == "aa_outage"] == ["303"]
assert [els[i][2] for i in probs if els[i][1]["data-kind"] != "quarantine" and els[i][1]["data-kind"] != "aa_outage"] == [None] * 3
assert [els[i][1]["data-kind"] for i in probs].count("bad_status") == 2
# the data's markup stayed text: no element came from it, nothing loads or runs
assert not find(tag="img") and not find(tag="script") and not find(tag="link") and not find(tag="iframe")
assert all("src" not in a for _, a, _ in els)
name = [i for i in find(tag="h2", section="505")][0]
assert "R&D <Shared> \"west's\"" in dom.text[name], dom.text[name]

inst = {els[i][1]["data-instance"]: els[i][1]["data-missing"] for i in find(tag="tr") if cls(i, "instance")}
assert inst == {"east-1": "false", "gone-3": "true", "sync-1": "false", "west-2": "false"}, inst
print("DOM ok: %d elements" % len(els))
PY
echo "PASS: report.html in chromium: verdicts, order, figures, advice, escaping (screenshot $LOGD/report.png)"
