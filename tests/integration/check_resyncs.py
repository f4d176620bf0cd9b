#!/usr/bin/env python3
"""check_resyncs.py STATS EXPECTED_SYNC [LOG_BUCKET] - every resync the simulator saw was for something
docs/EVENTS.md makes actionable, and every actionable object got one (directly or through a
whole-bucket resync). Reads /sim/stats as saved by the test and ctgen's expected-sync.jsonl.

Event method: "sync" holds bucket/key of each syncOnProviderEvent with a key, "sync_buckets"
the whole-bucket ones. Refresh method: "refreshes" holds "bucket/folder/" of each applied
cloud refresh ("bucket/" for the bucket folder); an object counts as resynced when a folder
above it was refreshed (its own, or the nearest one the index had), a folder refresh is
allowed above an actionable object or anywhere in a bucket that needed a whole-bucket resync.
Refreshes in LOG_BUCKET (default ct-logs) are the scanner's and are not counted.
Exits 1 with the first differences."""
import json, sys

st = json.load(open(sys.argv[1]))
exp = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
objs = {e["bucket"] + "/" + e["key"] for e in exp if "key" in e}
bkts = {e["bucket"] for e in exp if "key" not in e}
synced = set(st.get("sync", {}))
sbk = set(st.get("sync_buckets", {}))
logb = sys.argv[3] if len(sys.argv) > 3 else "ct-logs"
refr = {f for f in st.get("refreshes", {}) if f.split("/", 1)[0] != logb}


def ancestors(o):
    parts = o.split("/")
    return {"/".join(parts[:i]) + "/" for i in range(1, len(parts))}


def fail(*what):
    print("resyncs differ from the actionable set:", *what, file=sys.stderr)
    sys.exit(1)


extra = synced - objs
if extra:
    fail("synced but not actionable", sorted(extra)[:10])
if not sbk <= bkts:
    fail("bucket resyncs not asked for", sorted(sbk - bkts))
allowed = set()
for o in objs:
    allowed |= ancestors(o)
bad = {f for f in refr if f not in allowed and f.split("/", 1)[0] not in bkts}
if bad:
    fail("folders refreshed that no actionable change is in", sorted(bad)[:10])
rbk = {b for b in bkts if b + "/" in refr}
missing = {o for o in objs - synced
           if o.split("/", 1)[0] not in sbk | rbk and not (ancestors(o) & refr)}
if missing:
    fail("actionable but never resynced", sorted(missing)[:10])
if not (synced or sbk or refr):
    fail("no resync at all")
print("resyncs: %d objects, %d buckets, %d folder refreshes" % (len(synced), len(sbk), len(refr)))
