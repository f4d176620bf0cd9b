#!/bin/sh
# 0530-metrics-promtool.sh - deploy/prometheus/: the example scrape configuration and the
# alert rules pass `promtool check config` and `promtool check rules`, and the rules' unit
# tests (jibe-alerts.test.yml: a LATE source, dead-lettered resyncs) pass `promtool test rules`.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
command -v promtool >/dev/null || fail "promtool is missing (make deps installs the prometheus package)"
D=$JIBE_TOP/deploy/prometheus
promtool check config "$D/prometheus.yml" >"$JIBE_TMP/out" 2>&1 || { cat "$JIBE_TMP/out" >&2; fail "promtool check config"; }
promtool check rules "$D/jibe-alerts.yml" >"$JIBE_TMP/out" 2>&1 || { cat "$JIBE_TMP/out" >&2; fail "promtool check rules"; }
(cd "$D" && promtool test rules jibe-alerts.test.yml) >"$JIBE_TMP/out" 2>&1 || { cat "$JIBE_TMP/out" >&2; fail "promtool test rules"; }
echo "ok: scrape config, alert rules and their tests"
