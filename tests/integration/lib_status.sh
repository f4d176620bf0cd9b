# lib_status.sh - helpers for the tests of the shared status and the provider report
# (docs/STATUS.md; source after lib.sh and lib_run.sh).
#
#   status_root DIR HOURS  a generated deployment (jibe-ctgen, seed 7, HOURS of history) whose
#                          CloudTrail logs are split between two log buckets: the account
#                          trail stays in ct-logs (provider 101 "S3 Prod"), the organization
#                          trail moves to dr-logs, a new bucket of provider 102 "S3 DR"; so
#                          each provider has a log bucket of its own
#   inst_cfg DIR NAME SOURCE [EXTRA]
#                          run_cfg for one `jibe run` instance named NAME that scans the
#                          provider SOURCE only, publishing its status every 5 s into
#                          $STATUS_FOLDER and reporting every 3 s (report.interval_min 0.05);
#                          EXTRA (libconfig text) is appended
#   inst_start DIR         start `jibe run -c DIR/jibe.cfg`; its pid in DIR/pid (killed at exit)
#   inst_stop DIR          SIGTERM, wait for it (by its pid file); fails unless it exits 0
#   report_ok DIR EXPR     true when DIR/state/report.json exists and EXPR (python, over the
#                          report as j; helpers prov(j, name), src(j, name, bucket),
#                          inst(j, name)) is true
#   wait_report SECS DIR EXPR
#                          wait for report_ok, fail after SECS showing the report
#   diff_converged         the simulator's index equals the truth (both log buckets aside)
#   sim_counts             DL (log files downloaded), SY (resyncs) from /sim/stats, and
#                          FILES, RESYNCS: the same figures as expressions over a report

STATUS_FOLDER="/S3 Prod/ct-logs/jibe/status"

status_root() {
	"$CTGEN" init --root "$1" --seed 7 >/dev/null
	"$CTGEN" history --root "$1" --seed 7 --hours "$2" >/dev/null
	python3 - "$1" <<'PY' || fail "cannot split the generated logs into two log buckets"
import json, os, shutil, sys
root = sys.argv[1]
org = "AWSLogs/o-4k7ud2xq9m"
src = os.path.join(root, "truth", "ct-logs", org)
dst = os.path.join(root, "truth", "dr-logs", org)
os.makedirs(os.path.dirname(dst), exist_ok=True)
shutil.move(src, dst)
sim = json.load(open(os.path.join(root, "sim.json")))
for p in sim["providers"]:
    if p["id"] == "102":
        p["buckets"].append("dr-logs")
json.dump(sim, open(os.path.join(root, "sim.json"), "w"), indent=1)
idx = os.path.join(root, "index.jsonl")
out = []
for line in open(idx, encoding="utf-8"):
    e = json.loads(line)
    if e["b"] == "ct-logs" and e["k"].startswith(org + "/"):
        e["b"] = "dr-logs"
    out.append(json.dumps(e, ensure_ascii=False))
open(idx, "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
}

inst_cfg() {
	ic_dir=$1
	run_cfg "$ic_dir" "status = { instance = \"$2\"; folder = \"$STATUS_FOLDER\"; publish_s = 5;
  late_after_min = ${LATE_AFTER_MIN:-600.0}; };
report = { interval_min = 0.05; ${REPORT_UPLOAD:+upload_folder = \"$REPORT_UPLOAD\";} };
${4:-}"
	# scanner.sources: this instance scans one provider's log bucket
	sed -i "s|^scanner = {|scanner = {\n  sources = [ \"$3\" ];|" "$ic_dir/jibe.cfg"
}

inst_start() {
	"$JIBE" run -c "$1/jibe.cfg" >>"$1/jibe.out" 2>&1 &
	echo $! >"$1/pid"
	on_exit "kill -KILL $! 2>/dev/null || true"
}

inst_stop() {
	is_pid=$(cat "$1/pid")
	kill -TERM "$is_pid"
	is_rc=0
	wait "$is_pid" || is_rc=$?
	[ "$is_rc" -eq 0 ] || { tail -n 30 "$1/jibe.log" >&2; fail "jibe run ($1) exited with $is_rc after SIGTERM"; }
}

REPORT_PY='
import json, sys
def prov(j, name):
    return [p for p in j["providers"] if p["name"] == name][0]
def src(j, name, bucket):
    return [s for s in prov(j, name)["sources"] if s["bucket"] == bucket][0]
def inst(j, name):
    return [i for i in j["instances"] if i["instance"] == name][0]
try:
    j = json.load(open(sys.argv[1]))
    ok = eval("(" + sys.argv[2] + "\n)")
except Exception:
    ok = False
sys.exit(0 if ok else 1)
'

report_ok() {
	[ -s "$1/state/report.json" ] && python3 -c "$REPORT_PY" "$1/state/report.json" "$2"
}

wait_report() {
	wr_end=$(( $(date +%s) + $1 ))
	while ! report_ok "$2" "$3"; do
		if [ "$(date +%s)" -ge "$wr_end" ]; then
			head -c 3000 "$2/state/report.json" >&2 2>/dev/null || true
			tail -n 20 "$2/jibe.log" >&2 2>/dev/null || true
			fail "after $1 s, $2's report does not show: $3"
		fi
		sleep 0.2
	done
}

diff_converged() {
	sim_get "/sim/diff?exclude=ct-logs&exclude=dr-logs" |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["equal"] else 1)'
}

# sim_counts: what the simulator counted, to compare with a report: DL log files downloaded
# (each once), SY resync calls (objects and buckets); FILES and RESYNCS are the same figures
# as report_ok expressions over the report (j).
sim_counts() {
	sim_get /sim/stats >"$JIBE_TMP/stats.json"
	DL=$(json_get 'sum(n for k, n in j["downloads"].items() if "/AWSLogs/" in "/" + k)' <"$JIBE_TMP/stats.json")
	SY=$(json_get 'sum(j["sync"].values()) + sum(j["sync_buckets"].values())' <"$JIBE_TMP/stats.json")
	echo "simulator: $DL log files downloaded, $SY resyncs"
	[ "$DL" -gt 10 ] || fail "too few log files downloaded ($DL)"
	FILES='sum(s["files"]["processed"] + s["files"]["quarantined"] for p in j["providers"] for s in p["sources"])'
	RESYNCS='sum(b["resyncs"][m][r] for p in j["providers"] for b in p["buckets"] for m in ("event", "refresh") for r in ("ok", "failed"))'
}
