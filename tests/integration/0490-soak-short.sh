#!/bin/sh
# alongside: most of its time is the random wait before each kill and the scanner's 1 s interval
# 0490-soak-short.sh - the short variant of `make soak` (tests/soak/soak.sh): 6 rounds per
# mode of kill -9 of a random jibe process at a random moment under a live load (jibe-ctgen
# flood), in the embedded mode (`jibe run`) and the Kafka mode (scan, two parsers, two
# syncers); every round converges (index equals truth), nothing is lost, no process exits on
# its own. The seed is fixed so that a failure replays:
# SOAK_SEED=490 SOAK_KILLS=6 SOAK_MAX_DELAY_MS=1500 make soak
set -eu
: "${JIBE_TMP:?run through tests/run.sh}"
rc=0
SOAK_MODE=both SOAK_KILLS=6 SOAK_SEED=${SOAK_SEED:-490} SOAK_MAX_DELAY_MS=1500 \
	SOAK_CONVERGE_S=60 SOAK_CEILING_S=200 sh "$JIBE_TOP/tests/soak/soak.sh" "$JIBE_BUILD" \
	>"$JIBE_TMP/soak.out" 2>&1 || rc=$?
cat "$JIBE_TMP/soak.out"
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "FAIL: the short soak failed (exit $rc)"; exit 1; }
grep -qx 'soak: 12 kills, 12 rounds converged, [0-9]* duplicates, 0 lost' "$JIBE_TMP/soak.out" ||
	{ echo "FAIL: no summary line of 12 kills, 12 rounds converged, 0 lost"; exit 1; }
echo "ok: short soak, 6 kills per mode, every round converged"
