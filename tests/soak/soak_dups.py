#!/usr/bin/env python3
"""soak_dups.py STATS EVENTS BOUNDS - print how many resyncs the simulator saw beyond one per
load batch that changed the object (the duplicates of at-least-once delivery).

STATS is /sim/stats as saved, EVENTS ctgen's expected-events.jsonl, BOUNDS the line count of
EVENTS after each load batch (history, then each flood), one a line. An object (or a whole
bucket, for bucket events) changed by B batches may be resynced B times; every resync beyond
that counts. Resyncs of objects no batch changed count too (none are expected)."""
import json
import sys

st = json.load(open(sys.argv[1]))
events = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
bounds = [int(x) for x in open(sys.argv[3]) if x.strip()]
allowed_obj, allowed_bkt = {}, {}
start = 0
for end in bounds:
    objs, bkts = set(), set()
    for e in events[start:end]:
        if "key" in e:
            objs.add(e["bucket"] + "/" + e["key"])
        else:
            bkts.add(e["bucket"])
    for o in objs:
        allowed_obj[o] = allowed_obj.get(o, 0) + 1
    for b in bkts:
        allowed_bkt[b] = allowed_bkt.get(b, 0) + 1
    start = max(start, end)
dups = sum(max(0, n - allowed_obj.get(k, 0)) for k, n in st.get("sync", {}).items())
dups += sum(max(0, n - allowed_bkt.get(k, 0)) for k, n in st.get("sync_buckets", {}).items())
print(dups)
