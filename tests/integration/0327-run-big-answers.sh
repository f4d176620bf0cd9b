#!/bin/sh
# 0327-run-big-answers.sh - the server sends 50 MB answers (valid JSON, padded with one huge
# field): first to every call, then to the listings only. `jibe run` stays under 100 MB of
# memory (VmHWM, read while it runs and at the end), logs a clear error naming the call and
# its limit, keeps running, and once the server sends normal answers again it converges.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
PAD=52428800       # 50 MB of padding in each answer
HWM_MAX=102400     # kB: 100 MB
"$CTGEN" init --root "$R" --seed 27 >/dev/null
"$CTGEN" history --root "$R" --seed 27 --hours 2 >/dev/null
sim_start "$R" --quiet
sim_post /sim/faults answer_pad_bytes=$PAD >/dev/null
RUN_INTERVAL=2 run_cfg "$W"
# Under AddressSanitizer freed memory is held back (256 MB by default) before reuse: keep that
# small so that VmHWM measures jibe, not the sanitizer (no effect on the release build).
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4:malloc_context_size=5" run_start "$W"

# The peak resident set of jibe so far (kB), failing the test once it passes the bound.
HWM=0
sample_hwm() {
	h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$RUN_PID/status" 2>/dev/null || true)
	[ -n "$h" ] || { run_log; fail "jibe run died"; }
	[ "$h" -le "$HWM" ] || HWM=$h
	[ "$HWM" -lt "$HWM_MAX" ] || { run_log; fail "jibe run reached VmHWM $HWM kB (limit $HWM_MAX kB)"; }
}
# true once the log shows the error for call $1 with limit $2 at least $3 times
logged() {
	sample_hwm
	n=$(grep -c "WARN .*Access Anywhere sent a [0-9]*-byte answer to $1, more than the $2-byte limit for this call" \
		"$W/jibe.log" 2>/dev/null || true)
	[ "${n:-0}" -ge "$3" ]
}

# Every answer padded: the sign-in (getToken, a small call: 1 MiB) fails, again and again.
wait_until 120 logged getToken 1048576 3
sim_get /sim/stats | json_check 'j["calls"].get("getToken", 0) >= 3' "getToken was not retried"

# Only the listings padded: a page of 1000 items may be 64 KiB + 1000 x 4 KiB.
sim_post /sim/faults answer_pad_bytes=$PAD answer_pad_function=getFolderContents >/dev/null
wait_until 120 logged getFolderContents 4161536 3
sample_hwm
echo "VmHWM under 50 MB answers: $HWM kB"

# Healed: jibe converges and still has not passed the bound.
sim_post /sim/faults answer_pad_bytes=0 >/dev/null
wait_converged 300
sample_hwm
echo "VmHWM at the end: $HWM kB"
run_stop
sim_stop
echo "ok: 50 MB answers refused with a clear error, memory bounded, converged after healing"
