#!/bin/sh
# 0200-events-vs-ctgen.sh - `jibe events` against jibe-ctgen's expectations on generated
# deployments: for two seeds (one window inside a day, one across midnight) 6 hours of
# history plus a small flood, then every log file of files.txt in one run; the multiset of
# event lines must equal expected-events.jsonl (without "file") and the --stats counts must
# equal expected-stats.json. Also: the generator is deterministic (same seed twice gives the
# same files, expectations, index and truth), the logs agree with the truth, and the tricky
# things the generator promises (digests, other services, late files in past day folders,
# odd keys, records without requestParameters.key) are really there.
set -eu
: "${JIBE:?}" "${CTGEN:?}" "${JIBE_TMP:?}"
T=$JIBE_TMP
fail() { echo "FAIL: $*" >&2; exit 1; }

gen() { # dir seed now
	"$CTGEN" init --root "$1" --seed "$2" --now "$3" >/dev/null || fail "ctgen init seed $2"
	"$CTGEN" history --root "$1" --seed "$2" --hours 6 --now "$3" >/dev/null ||
		fail "ctgen history seed $2"
}

check() { # dir
	python3 - "$JIBE" "$1" <<'PY' || fail "jibe events disagrees with ctgen in $1"
import collections, gzip, json, os, subprocess, sys
jibe, root = sys.argv[1], sys.argv[2]
cg = os.path.join(root, "ctgen")
files = open(os.path.join(cg, "files.txt"), encoding="utf-8").read().split("\n")
files = [f for f in files if f]
args = open(os.path.join(cg, "events-args")).read().split()
logdir = os.path.join(root, "truth", "ct-logs")
p = subprocess.run([jibe, "events"] + args + ["--stats"] + files, cwd=logdir,
                   capture_output=True)
if p.returncode != 0:
    sys.exit("jibe events exit %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
err_lines = [l for l in p.stderr.decode().splitlines() if l.strip().startswith("{")]
stats = json.loads(err_lines[-1])
want_stats = json.load(open(os.path.join(cg, "expected-stats.json")))
if stats != want_stats:
    sys.exit("stats differ:\n  jibe  %s\n  ctgen %s" % (stats, want_stats))
def canon(d):
    d = dict(d)
    d.pop("file", None)
    return json.dumps(d, sort_keys=True, ensure_ascii=False)
got = collections.Counter(canon(json.loads(l)) for l in p.stdout.decode().splitlines() if l)
want = collections.Counter(canon(json.loads(l)) for l in
                           open(os.path.join(cg, "expected-events.jsonl"), encoding="utf-8") if l.strip())
if got != want:
    print("only from jibe:", list((got - want).elements())[:5], file=sys.stderr)
    print("only expected:", list((want - got).elements())[:5], file=sys.stderr)
    sys.exit("event lines differ: %d from jibe, %d expected" % (sum(got.values()), sum(want.values())))
print("%s: %d files, %d events, stats %s" % (root, len(files), sum(got.values()), stats))
PY
}

properties() { # dir
	python3 - "$1" <<'PY' || fail "generated deployment $1 lacks something promised"
import gzip, json, os, sys
root = sys.argv[1]
cg = os.path.join(root, "ctgen")
logdir = os.path.join(root, "truth", "ct-logs")
files = [f for f in open(os.path.join(cg, "files.txt"), encoding="utf-8").read().split("\n") if f]
listed = set(files)
assert len(listed) == len(files), "a log file listed twice"
allfiles = []
for d, _, fs in os.walk(logdir):
    for f in fs:
        allfiles.append(os.path.relpath(os.path.join(d, f), logdir))
assert not [f for f in allfiles if ".tmp-" in f], "temporary file left behind"
digests = [f for f in allfiles if "/CloudTrail-Digest/" in f]
assert digests and all("_CloudTrail-Digest_" in f for f in digests), "no digest files"
assert not listed & set(digests), "digest listed as a log"
assert [f for f in allfiles if "/vpcflowlogs/" in f], "no other-service folder"
assert [f for f in files if f.startswith("AWSLogs/o-")], "no organization trail"
assert [f for f in files if not f.startswith("AWSLogs/o-")], "no account trail"
assert all(f in set(allfiles) for f in files), "listed file missing"
accts = {f.split("/CloudTrail/")[0].split("/")[-1] for f in files}
regions = {f.split("/CloudTrail/")[1].split("/")[0] for f in files}
assert len(accts) >= 3 and len(regions) >= 3, (accts, regions)
ev = [json.loads(l) for l in open(os.path.join(cg, "expected-events.jsonl"), encoding="utf-8")]
keys = [e["key"] for e in ev if "key" in e]
assert any(" " in k for k in keys) and any("+" in k for k in keys), "no space/+ keys"
assert any("%" in k for k in keys) and any(ord(c) > 127 for k in keys for c in k), "no %/unicode"
assert any(len(k.encode()) > 600 for k in keys), "no long key"
assert {e["op"] for e in ev} == {"put", "delete", "bucket"}, "an op is missing"
assert {e["event"] for e in ev} >= {"PutObject", "CopyObject", "CompleteMultipartUpload",
                                    "DeleteObject", "DeleteObjects"}, "a write event is missing"
stats = json.load(open(os.path.join(cg, "expected-stats.json")))
assert all(v > 0 for v in stats.values()), "a category is empty: %s" % stats
# late files: written (named) on a day before the first event of the window, and records
# without requestParameters.key; truth agrees with the logs (last successful write wins)
import time
mtimes = [os.stat(os.path.join(logdir, f)).st_mtime for f in files]
late = [f for f, m in zip(files, mtimes)
        if f.split("/CloudTrail/")[1].split("/", 1)[1][:10] < time.strftime("%Y/%m/%d", time.gmtime(m))]
assert late, "no file is delivered after its day (into a past day's folder)"
assert mtimes == sorted(mtimes), "files.txt is not in delivery order"
nokey = 0
last = {}
bulk = {}
managed = {"prod-data", "prod-media", "dr-archive", "team-share", "assets.example.com"}
puts = {"PutObject", "CopyObject", "CompleteMultipartUpload", "PostObject"}
for f in files:
    recs = json.loads(gzip.open(os.path.join(logdir, f)).read())["Records"]
    for r in recs:
        if r.get("eventSource") != "s3.amazonaws.com" or r.get("errorCode"):
            continue
        rp = r.get("requestParameters") or {}
        name = r["eventName"]
        if name not in puts and name not in ("DeleteObject", "DeleteObjects"):
            continue
        b = rp.get("bucketName") or [x["ARN"][13:] for x in r["resources"] if x["type"] == "AWS::S3::Bucket"][0]
        if b not in managed:
            continue
        if name == "DeleteObjects":
            bulk.setdefault(b, []).append(r["eventTime"])
            continue
        k = rp.get("key")
        if not k:
            objs = [x["ARN"] for x in r["resources"] if x["type"] == "AWS::S3::Object" and "ARN" in x]
            if not objs:
                continue
            nokey += 1
            k = objs[0][len("arn:aws:s3:::" + b + "/"):]
        prev = last.get((b, k))
        t = r["eventTime"]
        if prev and prev[0] == t:
            last[(b, k)] = (t, None)  # two writes in one second: order unknown
        elif not prev or prev[0] < t:
            last[(b, k)] = (t, name in puts)
assert nokey > 0, "no write record without requestParameters.key"
checked = 0
for (b, k), (t, present) in last.items():
    if present is None or any(bt >= t for bt in bulk.get(b, [])):
        continue
    exists = os.path.isfile(os.path.join(root, "truth", b, k))
    assert exists == present, "truth disagrees with the logs on %s/%s (last write %s)" % (b, k, t)
    checked += 1
assert checked > 100, checked
# the index (Access Anywhere at its last sync, plus its own writes) differs from the truth
# only where jibe is expected to sync
sync = [json.loads(l) for l in open(os.path.join(cg, "expected-sync.jsonl"), encoding="utf-8")]
objs = {(x["bucket"], x["key"]) for x in sync if "key" in x}
whole = {x["bucket"] for x in sync if "key" not in x}
index = {}
for l in open(os.path.join(root, "index.jsonl"), encoding="utf-8"):
    x = json.loads(l)
    if x["b"] in managed:
        index[(x["b"], x["k"])] = (x["s"], x["m"])
truth = {}
for b in managed:
    base = os.path.join(root, "truth", b)
    for d, _, fs in os.walk(base):
        for f in fs:
            st = os.stat(os.path.join(d, f))
            truth[(b, os.path.relpath(os.path.join(d, f), base))] = (st.st_size, int(st.st_mtime))
differ = {k for k in set(index) | set(truth) if index.get(k) != truth.get(k)}
unexplained = [k for k in differ if k not in objs and k[0] not in whole]
assert not unexplained, "index and truth differ where nothing is to sync: %s" % unexplained[:5]
assert differ, "index equals truth: nothing for jibe to do"
print("%s: properties hold (%d late files, %d keys checked against the truth, %d index/truth differences all to sync)"
      % (root, len(late), checked, len(differ)))
PY
}

gen "$T/a" 1 2026-11-29T10:00:00Z
gen "$T/b" 2 2026-11-30T02:30:00Z
properties "$T/a"
properties "$T/b"
"$CTGEN" flood --root "$T/a" --seed 1 --files 1500 --now 2026-11-29T10:20:00Z >/dev/null ||
	fail "ctgen flood"
check "$T/a"
check "$T/b"

# The same seed twice: identical results, byte for byte.
gen "$T/a2" 1 2026-11-29T10:00:00Z
"$CTGEN" flood --root "$T/a2" --seed 1 --files 1500 --now 2026-11-29T10:20:00Z >/dev/null ||
	fail "ctgen flood (again)"
for f in ctgen/files.txt ctgen/expected-events.jsonl ctgen/expected-stats.json \
	ctgen/expected-sync.jsonl ctgen/events-args index.jsonl sim.json; do
	cmp -s "$T/a/$f" "$T/a2/$f" || fail "$f differs between two runs with seed 1"
done
diff -r "$T/a/truth" "$T/a2/truth" >/dev/null || fail "truth differs between two runs with seed 1"
cmp -s "$T/a/ctgen/expected-events.jsonl" "$T/b/ctgen/expected-events.jsonl" &&
	fail "seeds 1 and 2 gave the same events"

# history runs once per directory
"$CTGEN" history --root "$T/a" --seed 1 --hours 6 2>/dev/null && fail "second history accepted"
echo "PASS"
