#!/bin/sh
# 0520-metrics-run.sh - `jibe run` with metrics.listen: scrapes taken while it converges a
# generated 3-hour history pass `promtool check metrics`; at the end the counters equal the
# simulator's own counts (log files read, resync calls, Access Anywhere calls per function)
# and the latency histogram counts every resync; other paths are 404, other methods 405; a
# malformed request, a client that holds a connection open and 1,000 scrapes in a loop leave
# the process serving, converging and within a few MB of its memory.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
. "$JIBE_TOP/tests/integration/lib_metrics.sh"
command -v promtool >/dev/null || fail "promtool is missing (make deps installs the prometheus package)"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
"$CTGEN" init --root "$R" --seed 11 >/dev/null
"$CTGEN" history --root "$R" --seed 11 --hours 3 >/dev/null
sim_start "$R" --quiet
METRICS_PORT=$(metrics_port)
RUN_INTERVAL=1 run_cfg "$W" "$(metrics_cfg "$METRICS_PORT")"
# ASan keeps freed memory in a quarantine (256 MB by default): a small one, so that the
# memory check below sees leaks and growth, not the sanitizer (LSan checks leaks at exit)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8"
export ASAN_OPTIONS
run_start "$W"
wait_until 20 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $(metrics_url)/healthz)\" = 200 ]"

# Scrapes while it works: each one is valid exposition.
n=0
while ! converged; do
	n=$((n + 1))
	[ "$n" -le 600 ] || { run_log; fail "not converged after 600 scrapes"; }
	metrics_body /metrics >"$JIBE_TMP/scrape.txt"
	[ "$n" -le 5 ] && metrics_promtool "$JIBE_TMP/scrape.txt"
	sleep 0.2
done
metrics_body /metrics >"$JIBE_TMP/scrape.txt"
metrics_promtool "$JIBE_TMP/scrape.txt"
for m in jibe_build_info jibe_process_start_time_seconds jibe_scan_scans_total jibe_parse_files_total \
	jibe_sync_syncs_total jibe_aa_calls_total jibe_aa_call_duration_seconds_bucket \
	jibe_parse_file_size_bytes_count jibe_parse_file_duration_seconds_count jibe_sync_latency_seconds_count \
	jibe_sync_resyncs_total jibe_scan_last_success_time_seconds jibe_queue_depth \
	jibe_parse_newest_event_time_seconds jibe_sync_newest_applied_event_time_seconds; do
	grep -q "^$m" "$JIBE_TMP/scrape.txt" || fail "metric $m missing from the scrape"
done

# The counters equal the simulator's counts once both are settled (the supervisor copies the
# stages' counters every 200 ms).
files=$(wc -l <"$R/ctgen/files.txt")
counts_match() {
	sim_get /sim/stats >"$JIBE_TMP/stats.json"
	metrics_body /metrics >"$JIBE_TMP/scrape.txt"
	python3 - "$JIBE_TMP/stats.json" "$JIBE_TMP/scrape.txt" "$files" "${JIBE_SYNC_VARIANT:-event}" <<'PY'
import json, re, sys
st = json.load(open(sys.argv[1]))
files, variant = int(sys.argv[3]), sys.argv[4]
m = {}
for line in open(sys.argv[2]):
    if line.startswith("#"):
        continue
    name, _, rest = line.partition("{") if "{" in line.split(" ")[0] else (line.split(" ")[0], "", "")
    mm = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line.strip())
    labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', mm.group(2) or "")))
    m[(mm.group(1), labels)] = float(mm.group(3))
def total(name, **want):
    return sum(v for (n, l), v in m.items() if n == name and all(dict(l).get(k) == w for k, w in want.items()))
bad = []
def eq(what, a, b):
    if a != b:
        bad.append("%s: jibe says %s, expected %s" % (what, a, b))
dl = sum(v for k, v in st["downloads"].items() if k.startswith("ct-logs/"))
eq("jibe_parse_files_total", total("jibe_parse_files_total"), files)
eq("jibe_parse_files_total vs downloads", total("jibe_parse_files_total"), dl)
eq("jibe_parse_file_size_bytes_count", total("jibe_parse_file_size_bytes_count"), files)
eq("jibe_parse_file_duration_seconds_count{result=ok}", total("jibe_parse_file_duration_seconds_count", result="ok"), files)
ok = total("jibe_sync_resyncs_total", result="ok")
eq("jibe_sync_syncs_total", total("jibe_sync_syncs_total"), ok)
eq("jibe_sync_latency_seconds_count", total("jibe_sync_latency_seconds_count"), ok)
if variant == "event":
    eq("resyncs ok vs the simulator's syncOnProviderEvent", ok, st["calls"].get("syncOnProviderEvent", 0))
for fn, n in st["calls"].items():
    eq("jibe_aa_calls_total{function=%s}" % fn, total("jibe_aa_calls_total", function=fn), n)
    eq("jibe_aa_call_duration_seconds_count{function=%s}" % fn, total("jibe_aa_call_duration_seconds_count", function=fn), n)
eq("jibe_aa_calls_total (all)", total("jibe_aa_calls_total"), sum(st["calls"].values()))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}
end=$(( $(date +%s) + 20 ))
until counts_match 2>"$JIBE_TMP/diff.txt"; do
	[ "$(date +%s)" -lt "$end" ] || { cat "$JIBE_TMP/diff.txt" >&2; fail "metrics differ from the simulator's counts"; }
	sleep 0.3
done

# Other paths and methods.
[ "$(metrics_code /nope)" = 404 ] || fail "GET /nope should be 404"
ctype=$(curl -s -o /dev/null -w '%{content_type}' --max-time 10 "$(metrics_url)/metrics")
case "$ctype" in "text/plain; version=0.0.4"*) ;; *) fail "/metrics Content-Type is '$ctype', not the text format 0.0.4" ;; esac
c=$(curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 10 "$(metrics_url)/metrics" || true)
[ "$c" = 405 ] || fail "POST /metrics should be 405, got $c"

# Abuse: a malformed request, a client holding a connection open, then 1,000 scrapes.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$RUN_PID/status"; }
rss0=$(rss)
python3 - "$METRICS_PORT" <<'PY'
import socket, sys, time, urllib.request
port = int(sys.argv[1])
bad = socket.create_connection(("127.0.0.1", port))
bad.sendall(b"\x00\x01GARBAGE / HTTP/9.9\r\n\r\n" + b"A" * 70000 + b"\r\n\r\n")
try:
    bad.recv(100)
except OSError:
    pass
bad.close()
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
t0 = time.time()
for i in range(1000):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        assert r.status == 200
        r.read()
print("1000 scrapes in %.2f s (a slow client holding a connection)" % (time.time() - t0))
slow.close()
PY
rss1=$(rss)
echo "RSS before the abuse: $rss0 kB, after: $rss1 kB"
limit=8192
case "$JIBE_BUILD" in *asan*) limit=24576 ;; esac # the quarantine (8 MB) and ASan's own bookkeeping
[ $((rss1 - rss0)) -le "$limit" ] || fail "RSS grew by $((rss1 - rss0)) kB over 1,000 scrapes (limit $limit kB)"
[ "$(metrics_code /healthz)" = 200 ] || fail "/healthz is not 200 after the abuse"

# Still working: live changes converge.
"$CTGEN" flood --root "$R" --seed 12 --files 10 >/dev/null
if [ "${JIBE_SYNC_VARIANT:-event}" = refresh ]; then wait_converged 60; else wait_converged 20; fi
run_stop
sim_stop
echo "ok: valid exposition, counters equal the simulator's, 404/405, abuse survived"
