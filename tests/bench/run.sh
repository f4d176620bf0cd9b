#!/bin/sh
# run.sh - `make bench`: how fast `jibe events` reads big CloudTrail files, next to the
# decompressors any gzip reader is measured against, on the same file in the same run:
# `gzip -dc` (zlib), `pigz -dc` and `igzip -dc` (Intel ISA-L, the floor on x86).
#
#   sh tests/bench/run.sh BUILD_DIR
#
# Generates once, cached under build/bench-data/, one log file per shape and size with
# `jibe-ctgen huge`:
#   mixed   mostly S3 reads of ~1.6 KB records, about 19 % writes (huge-SIZE.json.gz)
#   writes  the write-heavy shape: 40 % of the records are S3 object writes jibe acts on
#           (writes-SIZE.json.gz, `--writes 40`)
# then times, for each file, `jibe events --stats FILE >/dev/null` and each reference
# decompressor `-dc FILE >/dev/null`, BENCH_RUNS (5) rounds, every round running all the
# commands one after the other in a rotating order (paired: they see the same machine state),
# and prints a table per file: the median wall time and decompressed MB/s of each command, its
# speed over each reference's (x gzip, x pigz, x igzip: above 1 is faster) and its peak RSS
# (GNU time's, per process; wait4()'s, floored by Python's own, without it). It also checks that jibe's counts equal the generator's.
# Not a test: it prints figures and fails only when a command fails or the counts disagree.
#
# The flood: BENCH_FLOOD (5000) log files of three records each (records taken in order from
# the mixed 100M file, so real-looking ones; generated once under build/bench-data/flood-N/),
# read by one process per command over all the files, `jibe events --stats f1 ... fN` against
# `gzip -dc f1 ... fN` (and pigz, igzip): a process per file would time fork and exec, not the
# reader, and gzip -dc over a list is what a shell user runs. Printed as files/s and the same
# ratios; jibe's counts must add up to the records and agree between the jibe builds.
# BENCH_FLOOD=0 leaves it out.
#
# BENCH_SIZES="100M 1G" picks the sizes, BENCH_SHAPES="mixed writes" the shapes,
# BENCH_RUNS=N the rounds. BENCH_JIBE_ALSO="DIR/jibe ..." adds other jibe builds as rows of
# the same run, each PATH or NAME=PATH (e.g. build/release-zlib/jibe, made by
# `make INFLATE=zlib`, or before=OLD/build/release/jibe: the before and after of a change,
# paired). A missing pigz or igzip (make deps
# installs them) is left out with a note.
set -eu
B=${1:?usage: run.sh BUILD_DIR}
B=$(cd "$B" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$TOP/build/bench-data
mkdir -p "$DATA"
[ -x "$B/jibe" ] && [ -x "$B/jibe-ctgen" ] || { echo "bench: build $B first" >&2; exit 1; }
command -v gzip >/dev/null || { echo "bench: gzip is missing (make deps)" >&2; exit 1; }

for shape in ${BENCH_SHAPES:-mixed writes}; do
	case $shape in
	mixed) prefix=huge; extra="" ;;
	writes) prefix=writes; extra="--writes 40" ;;
	*) echo "bench: unknown shape $shape (mixed or writes)" >&2; exit 1 ;;
	esac
	for size in ${BENCH_SIZES:-100M 1G}; do
		case $size in
		100M) bytes=104857600 ;;
		1G) bytes=1073741824 ;;
		[1-9]*M) bytes=$((${size%M} * 1048576)) ;;
		*) echo "bench: unknown size $size (100M, 1G or another NM)" >&2; exit 1 ;;
		esac
		f=$DATA/$prefix-$size.json.gz
		if [ ! -s "$f" ] || [ ! -s "$f.stats.json" ]; then
			echo "bench: generating $f (once) ..."
			start=$(date +%s)
			# shellcheck disable=SC2086
			"$B/jibe-ctgen" huge --out "$f" --bytes "$bytes" --seed 1 $extra >/dev/null
			echo "bench: generated in $(( $(date +%s) - start )) s"
		fi
	done
done

flood=${BENCH_FLOOD:-5000}
if [ "$flood" -gt 0 ] && [ ! -s "$DATA/huge-100M.json.gz" ]; then
	echo "bench: generating $DATA/huge-100M.json.gz for the flood's records (once) ..."
	"$B/jibe-ctgen" huge --out "$DATA/huge-100M.json.gz" --bytes 104857600 --seed 1 >/dev/null
fi

python3 - "$B/jibe" "$DATA" "${BENCH_RUNS:-5}" "${BENCH_SHAPES:-mixed writes}" \
	"${BENCH_SIZES:-100M 1G}" "${BENCH_JIBE_ALSO:-}" "$flood" <<'PY'
import gzip, json, os, shutil, statistics, subprocess, sys, time
jibe, data, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
shapes, sizes, also = sys.argv[4].split(), sys.argv[5].split(), sys.argv[6].split()
nflood = int(sys.argv[7])

# Peak RSS: a process forked from this Python keeps Python's high-water mark (about 15 MB)
# through exec, so wait4() cannot see below it; GNU time forks the command from its own small
# process and reports the command's own peak. Without it, wait4()'s figure is shown.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
RSS_FILE = os.path.join(data, "rss.txt")

def run(argv, stderr_path=None, cwd=None):
    """Run argv with stdout to /dev/null; return (seconds, peak RSS KiB, exit code)."""
    err = open(stderr_path, "wb") if stderr_path else subprocess.DEVNULL
    devnull = open(os.devnull, "wb")
    if GNU_TIME:
        argv = [GNU_TIME, "-f", "%M", "-o", RSS_FILE] + argv
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=devnull, stderr=err, cwd=cwd)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    devnull.close()
    if stderr_path:
        err.close()
    peak = ru.ru_maxrss
    if GNU_TIME:
        try:
            peak = int(open(RSS_FILE).read().split()[-1])
        except (OSError, ValueError, IndexError):
            pass
    return dt, peak, rc

def jibe_label(name, path):
    """'jibe NAME (ISA-L 2.30.0)': the library from `jibe version` (older builds: zlib)."""
    out = subprocess.run([path, "version"], capture_output=True, text=True).stdout.strip()
    lib = out.split("(gzip inflate: ", 1)[1].rstrip(")") if "(gzip inflate: " in out else "zlib"
    return "jibe %s(%s)" % (name + " " if name else "", lib)

# BENCH_JIBE_ALSO entries: PATH or NAME=PATH (NAME defaults to the build directory's name)
jibes = [("", jibe)]
for a in also:
    name, path = a.split("=", 1) if "=" in a else (os.path.basename(os.path.dirname(os.path.abspath(a))), a)
    jibes.append((name, os.path.abspath(path)))
for _, p in jibes:
    if not os.access(p, os.X_OK):
        sys.exit("bench: %s is not an executable jibe" % p)
refs = []
for name in ("gzip", "pigz", "igzip"):
    if shutil.which(name):
        refs.append(name)
    else:
        print("bench: %s is missing (make deps installs it): left out" % name)
print("bench: median of %d rounds, commands interleaved; MB/s of decompressed JSON; "
      "x REF = speed over REF -dc (above 1: faster)" % runs)
if not GNU_TIME:
    print("bench: /usr/bin/time (Debian: time) is missing: peak RSS figures below 15 MB are "
          "this script's own")

failed = False
for shape in shapes:
    prefix = "huge" if shape == "mixed" else "writes"
    for size in sizes:
        f = os.path.join(data, "%s-%s.json.gz" % (prefix, size))
        want = json.load(open(f + ".stats.json"))
        mb = want["bytes"] / 1e6
        cmds = [(jibe_label(n, p), [p, "events", "--stats", f], p) for n, p in jibes]
        cmds += [("%s -dc" % r, [r, "-dc", f], None) for r in refs]
        times = {c[0]: [] for c in cmds}
        rss = {c[0]: 0 for c in cmds}
        errp = os.path.join(data, "jibe-%s-%s.stderr" % (shape, size))
        for k in range(runs):
            for i in range(len(cmds)):
                label, argv, jb = cmds[(i + k) % len(cmds)]
                dt, peak, rc = run(argv, errp if jb else None)
                if rc != 0:
                    sys.exit("bench: %s failed (exit %d)%s" % (
                        " ".join(argv), rc, (": " + open(errp).read()[-500:]) if jb else ""))
                times[label].append(dt)
                rss[label] = max(rss[label], peak)
                if jb:
                    lines = [l for l in open(errp).read().splitlines() if l.startswith("{")]
                    got = json.loads(lines[-1]) if lines else {}
                    bad = {key: (got.get(key), v) for key, v in want.items()
                           if key not in ("records", "bytes", "compressed") and got.get(key) != v}
                    if bad:
                        print("  %s: COUNTS DIFFER (jibe, expected): %s" % (label, bad))
                        failed = True
        med = {label: statistics.median(t) for label, t in times.items()}
        writes = want.get("put", 0) + want.get("delete", 0) + want.get("bucket", 0)
        print()
        print("%s shape, %s file: %.0f MB JSON, %.0f MB gzip, %d records of %.2f KB, %.0f %% "
              "S3 writes" % (shape, "1 GB" if size == "1G" else size.replace("M", " MB"), mb,
                             want["compressed"] / 1e6, want["records"],
                             want["bytes"] / want["records"] / 1e3,
                             100.0 * writes / want["records"]))
        head = "  %-34s %7s %7s" % ("command", "wall s", "MB/s")
        for r in refs:
            head += " %8s" % ("x " + r)
        head += " %9s %8s" % ("peak RSS", "krec/s")
        print(head)
        for label, _, jb in cmds:
            line = "  %-34s %7.3f %7.0f" % (label, med[label], mb / med[label])
            for r in refs:
                line += " %8.2f" % (med["%s -dc" % r] / med[label])
            line += " %6.1f MB" % (rss[label] / 1024)
            line += " %8s" % ("%.0f" % (want["records"] / med[label] / 1000) if jb else "")
            print(line)

def flood_files(n):
    """n gzip log files of three records each, cut from the mixed 100M file (cached)."""
    d = os.path.join(data, "flood-%d" % n)
    names = ["111122223333_CloudTrail_us-west-2_20261130T%02d%02dZ_f%05d.json.gz"
             % (i // 60 % 24, i % 60, i) for i in range(n)]
    done = os.path.join(d, "done")
    if os.path.exists(done):
        return d, names
    print("bench: generating %d three-record files under %s (once) ..." % (n, d))
    os.makedirs(d, exist_ok=True)
    dec = json.JSONDecoder()
    with gzip.open(os.path.join(data, "huge-100M.json.gz"), "rt") as f:
        text = f.read(3000 * 3 * n + 100)
    at = text.index("[") + 1
    for name in names:
        recs = []
        for _ in range(3):
            while text[at] in ", \n":
                at += 1
            start = at
            _, at = dec.raw_decode(text, at)
            recs.append(text[start:at])
        body = ('{"Records":[' + ",".join(recs) + "]}").encode()
        with open(os.path.join(d, name), "wb") as out:
            out.write(gzip.compress(body, 6, mtime=0))
    open(done, "w").close()
    return d, names

if nflood > 0:
    d, names = flood_files(nflood)
    mb = sum(len(gzip.open(os.path.join(d, x)).read()) for x in names) / 1e6
    cmds = [(jibe_label(n, p), [p, "events", "--stats"] + names, p) for n, p in jibes]
    cmds += [("%s -dc" % r, [r, "-dc"] + names, None) for r in refs]
    times = {c[0]: [] for c in cmds}
    rss = {c[0]: 0 for c in cmds}
    stats = {}
    errp = os.path.join(data, "jibe-flood.stderr")
    for k in range(runs):
        for i in range(len(cmds)):
            label, argv, jb = cmds[(i + k) % len(cmds)]
            dt, peak, rc = run(argv, errp if jb else None, cwd=d)
            if rc != 0:
                sys.exit("bench: %s ... failed (exit %d)%s" % (
                    " ".join(argv[:3]), rc, (": " + open(errp).read()[-500:]) if jb else ""))
            times[label].append(dt)
            rss[label] = max(rss[label], peak)
            if jb:
                lines = [l for l in open(errp).read().splitlines() if l.startswith("{")]
                stats[label] = json.loads(lines[-1]) if lines else {}
    for label, got in stats.items():
        if sum(got.values()) != 3 * nflood:
            print("  %s: COUNTS DIFFER: %d records counted, %d in the files"
                  % (label, sum(got.values()), 3 * nflood))
            failed = True
    if len(set(json.dumps(v, sort_keys=True) for v in stats.values())) > 1:
        print("  the jibe builds count differently: %s" % stats)
        failed = True
    med = {label: statistics.median(t) for label, t in times.items()}
    print()
    print("flood: %d log files of 3 records, %.1f MB JSON, one process per command over all "
          "the files" % (nflood, mb))
    head = "  %-34s %7s %8s" % ("command", "wall s", "files/s")
    for r in refs:
        head += " %8s" % ("x " + r)
    head += " %9s" % "peak RSS"
    print(head)
    for label, _, jb in cmds:
        line = "  %-34s %7.3f %8.0f" % (label, med[label], nflood / med[label])
        for r in refs:
            line += " %8.2f" % (med["%s -dc" % r] / med[label])
        line += " %6.1f MB" % (rss[label] / 1024)
        print(line)
sys.exit(1 if failed else 0)
PY
