#!/bin/sh
# 0205-ctgen-digests.sh - jibe-ctgen's log file validation, checked independently (Python's
# hashlib and gzip): with --digests every digest
# parses, names itself, lists log files that exist with that SHA-256 (of the uncompressed content),
# links to the previous one by path and hash, backfill digests hold exactly the files
# delivered after their hour's digest, and the scenarios (hidden, deleted, flipped, removed
# digest) are what the manifest says; --no-digests writes none; the default output still has
# its placeholder digests and no manifest. Then the simulator's test device: a file of
# DIR/hidden.txt is left out of every listing (the API and rclone lsf) but checkPathExists
# finds it and getFile serves its bytes.
set -eu
: "${AASIM:?}" "${CTGEN:?}" "${JIBE:?}" "${JIBE_TMP:?}" "${JIBE_TOP:?}"
. "$JIBE_TOP/tests/integration/lib.sh"

NOW=2026-12-01T10:20:00Z

A=$JIBE_TMP/on
"$CTGEN" init --root "$A" --seed 21 --now "$NOW" >/dev/null || fail "ctgen init"
"$CTGEN" history --root "$A" --seed 21 --hours 6 --now "$NOW" --digests --hidden 2 --deleted 1 \
	--flipped 1 --gaps 1 >/dev/null || fail "ctgen history --digests"

python3 - "$A" <<'PY' || fail "ctgen's digests do not hold what they promise"
import collections, gzip, hashlib, json, os, sys
root = sys.argv[1]
cg = os.path.join(root, "ctgen")
logdir = os.path.join(root, "truth", "ct-logs")
summary = json.load(open(os.path.join(cg, "digests.json")))
man = [json.loads(l) for l in open(os.path.join(cg, "digests.jsonl")) if l.strip()]
per_file = {}
for l in open(os.path.join(cg, "digest-files.jsonl"), encoding="utf-8"):
    if l.strip():
        d = json.loads(l)
        per_file[d["file"]] = d
files = [f for f in open(os.path.join(cg, "files.txt"), encoding="utf-8").read().split("\n") if f]
def sha(path):
    # CloudTrail's hashValue is over the uncompressed content (as the AWS CLI checks it)
    return hashlib.sha256(gzip.decompress(open(path, "rb").read())).hexdigest()
def ok(cond, msg):
    if not cond:
        sys.exit(msg)

ok(summary["validation"] == "on", "validation is not on")
ok(len(man) == summary["digests"] and summary["digests"] > 20, "digest count %d" % len(man))
ok(len(summary["hidden"]) == 2 and len(summary["deleted"]) == 1 and
   len(summary["flipped"]) == 1 and len(summary["removed_digests"]) == 1, "scenario counts")
ok(summary["backfill"] > 0, "no backfill digest")
# every digest on disk is in the manifest and the other way round (removed ones excepted)
on_disk = set()
for d, _, names in os.walk(logdir):
    for n in names:
        p = os.path.relpath(os.path.join(d, n), logdir)
        if "/CloudTrail-Digest/" in p:
            on_disk.add(p)
removed = set(summary["removed_digests"])
ok(on_disk == {m["path"] for m in man} - removed, "digests on disk differ from the manifest")
ok(all(not os.path.exists(os.path.join(logdir, p)) for p in removed), "a removed digest exists")

listed = collections.Counter()
hash_of = {m["path"]: m["sha256"] for m in man}
bodies = {}
for m in man:
    if m["removed"]:
        continue
    path = os.path.join(logdir, m["path"])
    ok(sha(path) == m["sha256"], "digest %s: SHA-256 differs from the manifest" % m["path"])
    j = json.loads(gzip.decompress(open(path, "rb").read()))
    bodies[m["path"]] = j
    for k in ("awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket",
              "digestS3Object", "digestPublicKeyFingerprint", "digestSignatureAlgorithm",
              "newestEventTime", "oldestEventTime", "previousDigestS3Bucket",
              "previousDigestS3Object", "previousDigestHashValue", "previousDigestHashAlgorithm",
              "previousDigestSignature", "logFiles"):
        ok(k in j, "digest %s lacks %s" % (m["path"], k))
    ok(j["digestS3Object"] == m["path"] and j["digestS3Bucket"] == "ct-logs", "self path")
    ok(j["digestEndTime"] == m["end"] and j["digestStartTime"] == m["start"], "times")
    ok(("/%s/CloudTrail-Digest/%s/" % (j["awsAccountId"], m["region"])) in m["path"], "folder")
    name = os.path.basename(m["path"])
    ok(name.startswith("%s_CloudTrail-Digest_%s_" % (j["awsAccountId"], m["region"])), "name")
    ok(name.endswith("_backfill.json.gz") == m["backfill"], "backfill name")
    stamp = m["end"].replace("-", "").replace(":", "")
    ok(("_" + stamp) in name, "name stamp is not the end time")
    ok(len(j["logFiles"]) == m["files"], "file count")
    times = []
    for lf in j["logFiles"]:
        ok(lf["s3Bucket"] == "ct-logs" and lf["hashAlgorithm"] == "SHA-256", "log file fields")
        f = lf["s3Object"]
        listed[f] += 1
        info = per_file[f]
        ok(info["digest"] == m["path"] and info["sha256"] == lf["hashValue"], "per-file manifest")
        p = os.path.join(logdir, f)
        if info["scenario"] == "deleted":
            ok(not os.path.exists(p) and f not in files, "deleted file still there: " + f)
            continue
        got = sha(p)
        recs = json.loads(gzip.decompress(open(p, "rb").read()))["Records"]
        et = sorted(r["eventTime"] for r in recs)
        ok(lf["oldestEventTime"] == et[0] and lf["newestEventTime"] == et[-1], "event times " + f)
        times += et
        if info["scenario"] == "flipped":
            ok(got != lf["hashValue"] and got == info["stored_sha256"], "flipped file hash " + f)
        else:
            ok(got == lf["hashValue"], "log file %s: SHA-256 differs from its digest" % f)
        # regular digests list what arrived by their end, backfills what came later
        delivered = os.stat(p).st_mtime
        end = json_end = m["end"]
        import calendar, time
        end_t = calendar.timegm(time.strptime(end, "%Y-%m-%dT%H:%M:%SZ"))
        ok((delivered > end_t) == m["backfill"], "delivery time vs digest for " + f)
    if times:
        ok(j["oldestEventTime"] == min(times) and j["newestEventTime"] == max(times), "digest times")

# chains: per account and region, regular digests in end order
chains = collections.defaultdict(list)
for m in man:
    if not m["backfill"]:
        chains[(m["account"], m["region"])].append(m)
ok(len(chains) == 6, "%d chains, want 6" % len(chains))
gaps = 0
for key, ms in chains.items():
    ms.sort(key=lambda m: m["end"])
    ok(ms[0]["previous"] is None, "first digest of %s has a previous one" % (key,))
    for a, b in zip(ms, ms[1:]):
        ok(b["start"] == a["end"] and b["previous"] == a["path"], "chain %s broken" % (key,))
        if b["path"] in bodies:
            jb = bodies[b["path"]]
            ok(jb["previousDigestS3Object"] == a["path"], "previousDigestS3Object")
            ok(jb["previousDigestHashValue"] == hash_of[a["path"]], "previousDigestHashValue")
            if a["path"] in bodies:
                ok(sha(os.path.join(logdir, a["path"])) == jb["previousDigestHashValue"], "hash")
            else:
                gaps += 1  # b points at a digest that is gone
    if ms[0]["path"] in bodies:
        ok(bodies[ms[0]["path"]]["previousDigestS3Object"] is None, "first previous not null")
ok(gaps == 1, "%d chain gaps, want 1" % gaps)
for m in man:
    if m["backfill"]:
        reg = [r for r in man if not r["backfill"] and r["end"] == m["end"] and
               r["account"] == m["account"] and r["region"] == m["region"]]
        ok(len(reg) == 1 and m["previous"] == reg[0]["path"], "backfill not tied to its digest")

# every log file is listed once, or not yet (its hour's digest is not due)
undig = set(summary["undigested"])
for f in files:
    ok(listed[f] == 1 or (f in undig and listed[f] == 0), "log file in %d digests: %s" % (listed[f], f))
ok(all(v == 1 for v in listed.values()), "a file is listed twice")
ok(set(summary["deleted"]) <= set(listed) and not set(summary["deleted"]) & set(files), "deleted")
hidden_txt = [l for l in open(os.path.join(root, "hidden.txt")).read().split("\n") if l]
ok(hidden_txt == ["ct-logs/" + f for f in summary["hidden"]], "hidden.txt")
ok(all(f in files and per_file[f]["actionable"] > 0 for f in summary["hidden"]), "hidden files")
print("%d digests (%d backfill), %d log files listed, %d not yet" %
      (len(man), summary["backfill"], sum(listed.values()), len(undig)))
PY

# the expectations still hold with the scenarios: jibe events over files.txt (the deleted file
# is in none of them, the flipped one still inflates) gives expected-stats.json
python3 - "$JIBE" "$A" <<'PY' || fail "expectations of a --digests history disagree with jibe events"
import json, os, subprocess, sys
jibe, root = sys.argv[1], sys.argv[2]
cg = os.path.join(root, "ctgen")
files = [f for f in open(os.path.join(cg, "files.txt"), encoding="utf-8").read().split("\n") if f]
args = open(os.path.join(cg, "events-args")).read().split()
p = subprocess.run([jibe, "events"] + args + ["--stats"] + files,
                   cwd=os.path.join(root, "truth", "ct-logs"), capture_output=True)
if p.returncode != 0:
    sys.exit("jibe events exit %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
stats = json.loads([l for l in p.stderr.decode().splitlines() if l.strip().startswith("{")][-1])
want = json.load(open(os.path.join(cg, "expected-stats.json")))
if stats != want:
    sys.exit("stats differ:\n  jibe  %s\n  ctgen %s" % (stats, want))
events = sum(1 for l in p.stdout.decode().splitlines() if l)
want_events = sum(1 for l in open(os.path.join(cg, "expected-events.jsonl"), encoding="utf-8") if l.strip())
if events != want_events:
    sys.exit("%d events from jibe, %d expected" % (events, want_events))
PY

# validation off: no digest at all; the default: placeholder digests, no manifest
B=$JIBE_TMP/off
"$CTGEN" init --root "$B" --seed 21 --now "$NOW" >/dev/null || fail "ctgen init (off)"
"$CTGEN" history --root "$B" --seed 21 --hours 2 --now "$NOW" --no-digests >/dev/null ||
	fail "ctgen history --no-digests"
[ -z "$(find "$B/truth/ct-logs" -path '*CloudTrail-Digest*' -type f)" ] || fail "--no-digests wrote digests"
grep -q '"validation":"off"' "$B/ctgen/digests.json" || fail "digests.json does not say validation off"
C=$JIBE_TMP/default
"$CTGEN" init --root "$C" --seed 21 --now "$NOW" >/dev/null || fail "ctgen init (default)"
"$CTGEN" history --root "$C" --seed 21 --hours 2 --now "$NOW" >/dev/null || fail "ctgen history"
[ -n "$(find "$C/truth/ct-logs" -path '*CloudTrail-Digest*' -type f)" ] || fail "default lost its digests"
[ ! -e "$C/ctgen/digests.json" ] && [ ! -e "$C/hidden.txt" ] || fail "default output changed"
"$CTGEN" history --root "$C" --seed 21 --hours 2 --hidden 1 >/dev/null 2>&1 &&
	fail "--hidden without --digests was accepted"

# the simulator: hidden from listings, served by path
sim_start "$A" --quiet
sim_login
HID=$(head -n 1 "$A/hidden.txt")
KEY=${HID#ct-logs/}
DIRK=${KEY%/*}
NAME=${KEY##*/}
FID=$(sim_rpc checkPathExists pid=0 path="S3 Prod/ct-logs/$KEY" | json_get 'j["file"]["fi_id"] if j.get("exists") == "y" else ""')
[ -n "$FID" ] || fail "checkPathExists does not find the hidden file"
DID=$(sim_rpc checkPathExists pid=0 path="S3 Prod/ct-logs/$DIRK" | json_get 'j["file"]["fi_id"]')
# refresh the folder so every sibling is in the index, then list it
RT=$(sim_rpc getFolderContents fi_pid="$DID" refresh=y refreshtype=a | json_get 'j["refreshresult"].get("token", "")')
if [ -n "$RT" ]; then
	refreshed() { sim_rpc getFolderContents fi_pid="$DID" refreshtoken="$RT" | json_check '"stillsyncing" not in j' >/dev/null 2>&1; }
	wait_until 20 refreshed
fi
sim_rpc getFolderContents fi_pid="$DID" >"$JIBE_TMP/list.json"
N_TRUTH=$(find "$A/truth/ct-logs/$DIRK" -maxdepth 1 -type f | wc -l)
N_HID=$(grep -c "^ct-logs/$DIRK/[^/]*\$" "$A/hidden.txt")
python3 - "$JIBE_TMP/list.json" "$NAME" "$((N_TRUTH - N_HID))" <<'PY' || fail "the listing shows the hidden file or loses others"
import json, sys
j = json.load(open(sys.argv[1]))
fl = j["filelist"] if isinstance(j["filelist"], list) else [j["filelist"]]
names = [f["fi_name"] for f in fl]
if sys.argv[2] in names:
    sys.exit("hidden file listed")
if len(names) != int(sys.argv[3]) or int(j["total"]) != len(names):
    sys.exit("listed %d (total %s), want %s" % (len(names), j["total"], sys.argv[3]))
PY
sim_rpc getFile fi_id="$FID" >"$JIBE_TMP/got.gz"
cmp -s "$JIBE_TMP/got.gz" "$A/truth/ct-logs/$KEY" || fail "getFile does not serve the hidden file's bytes"
if command -v rclone >/dev/null; then
	export HOME="$JIBE_TMP" XDG_CONFIG_HOME="$JIBE_TMP/.config" XDG_CACHE_HOME="$JIBE_TMP/.cache"
	out=$(rclone --config /dev/null --retries 1 --low-level-retries 2 lsf \
		":filefabric,url='$SIM_URL',permanent_token=PERMANENT-TOKEN-1:S3 Prod/ct-logs/$DIRK" \
		2>>"$JIBE_TMP/rclone.log") || fail "rclone lsf of the hidden file's folder"
	[ -n "$out" ] || fail "rclone lsf lists nothing"
	printf '%s\n' "$out" | grep -qxF "$NAME" && fail "rclone lsf shows the hidden file"
fi
sim_stop
echo "PASS: digests consistent, scenarios as recorded, hidden file unlisted but served by path"
