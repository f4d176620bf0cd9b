#!/bin/sh
# soak.sh - kill -9 soak of jibe under a live load, in the embedded mode, the Kafka mode or both.
#
#   sh tests/soak/soak.sh BUILD_DIR          (what `make soak` runs)
#
# Environment:
#   SOAK_MODE=embedded|kafka|both   which deployment (default both)
#   SOAK_KILLS=N                    kill -9 rounds per mode (default 50)
#   SOAK_SEED=S                     the seed of the kill plan and of the load (default: random,
#                                   printed; the same seed replays the same plan)
#   SOAK_CONVERGE_S=SECS            deadline of each round's convergence (default 120)
#   SOAK_CEILING_S=SECS             ceiling of one mode's whole run (default 60 s a round + 600)
#   SOAK_MAX_DELAY_MS=MS            the latest moment of a kill after the round's start (3000)
#   SOAK_HISTORY_H=H                hours of CloudTrail history before the first kill (3, the least)
#   SOAK_KEEP=1                     keep the scratch directory (logs, simulator root)
#
# One round (soak_mode.sh): the load generator (jibe-ctgen flood, again and again) writes new
# objects and CloudTrail files while a randomly chosen jibe process is killed (-9) at a random
# moment and restarted; then the load stops and the round waits for convergence (the
# simulator's index equals the S3 truth). Each mode ends with the line
#   soak: N kills, M rounds converged, D duplicates, L lost
# and with SOAK_MODE=both a last such line sums the two. Exit 0 only when every round converged,
# nothing was lost and no jibe process exited on its own.
set -u
B=${1:?usage: soak.sh BUILD_DIR}
B=$(cd "$B" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export JIBE="$B/jibe" AASIM="$B/jibe-aa-sim" CTGEN="$B/jibe-ctgen" JIBE_BUILD="$B" JIBE_TOP="$TOP"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
MODE=${SOAK_MODE:-both}
KILLS=${SOAK_KILLS:-50}
SEED=${SOAK_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
CEIL=${SOAK_CEILING_S:-$((KILLS * 60 + 600))}
export SOAK_KILLS="$KILLS" SOAK_SEED="$SEED"
case "$MODE" in
embedded | kafka) modes=$MODE ;;
both) modes="embedded kafka" ;;
*) echo "soak: SOAK_MODE must be embedded, kafka or both (not $MODE)" >&2; exit 2 ;;
esac
echo "soak: seed $SEED (replay with SOAK_SEED=$SEED), $KILLS kills per mode, modes: $modes"
# JIBE_TMP from tests/run.sh (the short test) or a fresh directory
base=${JIBE_TMP:-}
own=
if [ -z "$base" ]; then
	base=$(mktemp -d "${TMPDIR:-/tmp}/jibe-soak.XXXXXX")
	own=1
fi
rc=0
skipped=0
tk=0 tm=0 td=0 tl=0
for m in $modes; do
	mkdir -p "$base/$m"
	JIBE_TMP="$base/$m" timeout -k 10 "$CEIL" sh "$TOP/tests/soak/soak_mode.sh" "$m"
	mrc=$?
	[ "$mrc" -eq 124 ] && echo "soak: $m mode stopped at its ceiling of $CEIL s (SOAK_CEILING_S)"
	[ "$mrc" -eq 77 ] && { echo "soak: $m mode skipped"; skipped=$((skipped + 1)); continue; }
	[ "$mrc" -eq 0 ] || rc=1
	if [ -f "$base/$m/summary" ]; then
		read -r k mc d l <"$base/$m/summary"
		tk=$((tk + k)) tm=$((tm + mc)) td=$((td + d)) tl=$((tl + l))
	else
		echo "soak: $m mode ended without a summary (see above)"
		rc=1
	fi
done
if [ "$MODE" = both ]; then
	echo "soak: both modes, seed $SEED:"
	echo "soak: $tk kills, $tm rounds converged, $td duplicates, $tl lost"
fi
if [ -n "$own" ]; then
	if [ "${SOAK_KEEP:-}" = 1 ] || [ "$rc" -ne 0 ]; then
		echo "soak: logs and the simulator root are in $base"
	else
		rm -rf "$base"
	fi
fi
# every mode skipped (no Kafka jars, say): tests/run.sh reports a skip
[ "$rc" -eq 0 ] && [ "$skipped" -gt 0 ] && [ "$tk" -eq 0 ] && rc=77
exit $rc
