#!/bin/sh
# 0610-systemd-units.sh - deploy/systemd has a unit for every long-running command (run, scan,
# parse, sync), each Type=notify as user jibe with its state, log and configuration
# directories, a reload that sends SIGHUP (what README says SIGHUP does: reopen the log
# file), and hardening that `systemd-analyze security --offline=yes` rates 2.0 or less.
set -eu
: "${JIBE_TMP:?}" "${JIBE_TOP:?}"
T=$JIBE_TMP
fail() { echo "FAIL: $*" >&2; exit 1; }
MAX=2.0

for pair in jibe:run jibe-scan:scan jibe-parse:parse jibe-sync:sync; do
	u=$JIBE_TOP/deploy/systemd/${pair%%:*}.service
	[ -f "$u" ] || fail "no unit ${pair%%:*}.service for jibe ${pair##*:}"
	grep -q "^ExecStart=/usr/bin/jibe ${pair##*:} -c /etc/jibe/jibe.cfg$" "$u" ||
		fail "${u##*/}: ExecStart is not 'jibe ${pair##*:} -c /etc/jibe/jibe.cfg'"
	for line in Type=notify User=jibe StateDirectory=jibe LogsDirectory=jibe \
		ConfigurationDirectory=jibe 'ExecReload=/bin/kill -HUP $MAINPID' WatchdogSec=60; do
		grep -qxF "$line" "$u" || fail "${u##*/}: no '$line'"
	done
done
grep -q 'SIGHUP. reopens\( \|$\)' "$JIBE_TOP/README.md" || fail "README no longer says what SIGHUP does"

command -v systemd-analyze >/dev/null ||
	{ echo "SKIP: systemd-analyze is missing (Debian package systemd; make deps installs it)"; exit 77; }
n=0
for u in "$JIBE_TOP"/deploy/systemd/*.service; do
	(cd "$T" && systemd-analyze security --offline=yes "$u") >"$T/out" 2>&1 || true
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' "$T/out")
	[ -n "$score" ] || { cat "$T/out"; fail "no score from systemd-analyze for ${u##*/}"; }
	echo "${u##*/}: exposure $score"
	awk -v s="$score" -v m="$MAX" 'BEGIN { exit !(s <= m) }' ||
		{ grep '✗' "$T/out" | head -n 30; fail "${u##*/} scores $score, more than $MAX"; }
	n=$((n + 1))
done
[ "$n" -eq 4 ] || fail "$n units in deploy/systemd, want 4"
