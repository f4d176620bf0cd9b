#!/bin/sh
# run.sh - `make bench`: how fast `jibe events` reads big CloudTrail files, next to
# `gzip -dc` on the same file (the floor any gzip reader has to pay).
#
#   sh tests/bench/run.sh BUILD_DIR
#
# Generates once, cached under build/bench-data/, a 100 MB and a 1 GB (decompressed) log file
# with `jibe-ctgen huge` (mostly S3 data events of ~1.5 KB, some writes), then for each file
# times `gzip -dc FILE >/dev/null` and `jibe events --stats FILE >/dev/null`, best of 3 runs
# (interleaved, so both see the same machine state), and prints decompressed MB/s of each,
# their ratio, records/s and jibe's peak RSS (from wait4(), per process). It also checks that
# jibe's counts equal the generator's. Not a test: it prints figures and fails only when a
# command fails or the counts disagree.
# BENCH_RUNS=N changes the number of runs; BENCH_SIZES="100M 1G" picks the files.
set -eu
B=${1:?usage: run.sh BUILD_DIR}
B=$(cd "$B" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$TOP/build/bench-data
mkdir -p "$DATA"
[ -x "$B/jibe" ] && [ -x "$B/jibe-ctgen" ] || { echo "bench: build $B first" >&2; exit 1; }
command -v gzip >/dev/null || { echo "bench: gzip is missing (make deps)" >&2; exit 1; }

for size in ${BENCH_SIZES:-100M 1G}; do
	case $size in
	100M) bytes=104857600 ;;
	1G) bytes=1073741824 ;;
	*) echo "bench: unknown size $size (100M or 1G)" >&2; exit 1 ;;
	esac
	f=$DATA/huge-$size.json.gz
	if [ ! -s "$f" ] || [ ! -s "$f.stats.json" ]; then
		echo "bench: generating $f (once) ..."
		start=$(date +%s)
		"$B/jibe-ctgen" huge --out "$f" --bytes "$bytes" --seed 1 >/dev/null
		echo "bench: generated in $(( $(date +%s) - start )) s"
	fi
done

python3 - "$B/jibe" "$DATA" "${BENCH_RUNS:-3}" ${BENCH_SIZES:-100M 1G} <<'PY'
import json, os, subprocess, sys, time
jibe, data, runs, sizes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]

def run(argv, stderr_path=None):
    """Run argv with stdout to /dev/null; return (seconds, peak RSS KiB, exit code)."""
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    devnull = open(os.devnull, "wb")
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=devnull, stderr=err)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    devnull.close()
    if stderr_path:
        err.close()
    return dt, ru.ru_maxrss, p.returncode

failed = False
for size in sizes:
    f = os.path.join(data, "huge-%s.json.gz" % size)
    want = json.load(open(f + ".stats.json"))
    mb = want["bytes"] / 1e6
    gz_best = jb_best = None
    rss = 0
    errp = os.path.join(data, "jibe-%s.stderr" % size)
    for _ in range(runs):
        dt, _, rc = run(["gzip", "-dc", f])
        if rc != 0:
            sys.exit("bench: gzip -dc %s failed (exit %d)" % (f, rc))
        gz_best = dt if gz_best is None else min(gz_best, dt)
        dt, peak, rc = run([jibe, "events", "--stats", f], errp)
        if rc != 0:
            sys.exit("bench: jibe events %s failed (exit %d): %s" %
                     (f, rc, open(errp).read()[-500:]))
        jb_best = dt if jb_best is None else min(jb_best, dt)
        rss = max(rss, peak)
    lines = [l for l in open(errp).read().splitlines() if l.startswith("{")]
    got = json.loads(lines[-1]) if lines else {}
    bad = {k: (got.get(k), v) for k, v in want.items()
           if k not in ("records", "bytes", "compressed") and got.get(k) != v}
    label = "1 GB" if size == "1G" else "100 MB"
    print("%s file (%.0f MB decompressed, %.0f MB gzip, %d records): jibe %.0f MB/s, "
          "gzip -dc %.0f MB/s, ratio %.2f, %.0fk records/s, peak RSS %.1f MB"
          % (label, mb, want["compressed"] / 1e6, want["records"], mb / jb_best, mb / gz_best,
             gz_best / jb_best, want["records"] / jb_best / 1000, rss / 1024))
    if bad:
        print("  COUNTS DIFFER (jibe, expected): %s" % bad)
        failed = True
sys.exit(1 if failed else 0)
PY
