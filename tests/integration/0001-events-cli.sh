#!/bin/sh
# 0001-events-cli.sh - `jibe events` against hand-checked expectations: the exact event
# lines and counts of docs/EVENTS.md on a realistic log; every kind of damaged file is rejected
# with one line naming it and its reason, exit 1, while the good files around it are still
# read in full; usage errors exit 2.
set -eu
: "${JIBE:?}" "${JIBE_TOP:?}" "${JIBE_TMP:?}"
D=$JIBE_TOP/tests/data/events
T=$JIBE_TMP
fail() { echo "FAIL: $*" >&2; exit 1; }

OPTS="--self-key AKIAACCESSANYWHERE01 --self-agent SMEStorage --bucket prod-data=101 --bucket prod-media=101 --sync-start 101=2026-11-29T06:00:00Z"

gzip -c "$D/good.json" >"$T/good.json.gz"
# shellcheck disable=SC2086
"$JIBE" events --stats $OPTS "$T/good.json.gz" >"$T/out" 2>"$T/err" || fail "exit $? on a good file"
cmp -s "$T/out" "$D/good.expected.jsonl" || { diff "$T/out" "$D/good.expected.jsonl"; fail "event lines differ"; }
python3 - "$T/err" "$D/good.expected-stats.json" <<'PY' || fail "stats differ"
import json, sys
got = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
want = json.load(open(sys.argv[2]))
assert list(got) == ["malformed","not_s3","failed","not_write","self","unmanaged","covered","put","delete","bucket"], got
assert got == want, (got, want)
PY

# The same log as three gzip members, split inside a record, reads the same.
python3 - "$D/good.json" "$T/members.json.gz" <<'PY'
import gzip, sys
d = open(sys.argv[1], "rb").read()
a, b = 7, len(d) // 2 + 5
open(sys.argv[2], "wb").write(gzip.compress(d[:a]) + gzip.compress(d[a:b]) + gzip.compress(d[b:]))
PY
# shellcheck disable=SC2086
"$JIBE" events $OPTS "$T/members.json.gz" >"$T/out2" || fail "multi-member gzip rejected"
cmp -s "$T/out2" "$D/good.expected.jsonl" || fail "multi-member gzip read differently"

# Damaged files, each between good ones.
python3 - "$D/good.json" "$T" <<'PY'
import gzip, sys, os
d = open(sys.argv[1], "rb").read()
t = sys.argv[2]
gz = gzip.compress(d)
w = lambda n, b: open(os.path.join(t, n), "wb").write(b)
w("truncated.json.gz", gz[: len(gz) // 2])
bad = bytearray(gz); bad[-6] ^= 0xFF; w("badcrc.json.gz", bytes(bad))        # CRC-32 trailer
bad = bytearray(gz); bad[len(gz) // 2] ^= 0x55; w("corrupt.json.gz", bytes(bad))
w("plain.json.gz", d)                                                     # not gzip
w("notjson.json.gz", gzip.compress(b"<html>503 Service Unavailable</html>"))
w("norecords.json.gz", gzip.compress(b'{"awsAccountId":"1","files":[]}'))
w("recordsobj.json.gz", gzip.compress(b'{"Records":{"eventName":"PutObject"}}'))
w("garbage-after.json.gz", gz + b"\x00\x01garbage")
w("json-garbage.json.gz", gzip.compress(d + b" trailing"))
w("badutf8.json.gz", gzip.compress(d.replace(b"alice", b"al\xffce", 1)))
w("empty.json.gz", b"")
w("bomb.json.gz", gzip.compress(b'{"Records":[' + b" " * (3 << 20) + b"]}"))
w("111122223333_CloudTrail-Digest_eu-west-1_t_eu-west-1_20261129T100000Z.json.gz", gz)
ins = d.replace(b'"eventType":"AwsApiCall"', b'"eventType":"AwsCloudTrailInsight"')
w("insight.json.gz", gzip.compress(ins))
PY
BAD="truncated badcrc corrupt plain notjson norecords recordsobj garbage-after json-garbage badutf8 empty bomb insight"
set -- "$T/good.json.gz"
for b in $BAD; do set -- "$@" "$T/$b.json.gz" "$T/good.json.gz"; done
set -- "$@" "$T/111122223333_CloudTrail-Digest_eu-west-1_t_eu-west-1_20261129T100000Z.json.gz" "$T/missing.json.gz"
# shellcheck disable=SC2086
rc=0; "$JIBE" events --stats --max-bytes 2M $OPTS "$@" >"$T/out3" 2>"$T/err3" || rc=$?
[ "$rc" -eq 1 ] || fail "exit $rc with damaged files, want 1"
nbad=$(echo $BAD | wc -w); nbad=$((nbad + 2))
ngood=$((nbad - 1))
[ "$(grep -c 'rejected: ' "$T/err3")" -eq "$nbad" ] || { cat "$T/err3"; fail "want $nbad rejection lines"; }
for b in $BAD missing 111122223333_CloudTrail-Digest; do
	grep -q "/$b[^ ]*: rejected: ." "$T/err3" || { cat "$T/err3"; fail "no reason given for $b"; }
done
grep -q "truncated.json.gz: rejected: .*truncated" "$T/err3" || fail "truncation not named"
grep -q "bomb.json.gz: rejected: .*limit" "$T/err3" || fail "size limit not named"
grep -q "garbage-after.json.gz: rejected: .*after the end of the gzip" "$T/err3" || fail "trailing garbage not named"
grep -q "Digest.*digest file" "$T/err3" || fail "digest not named"
grep -q "insight.json.gz: rejected: .*Insights" "$T/err3" || fail "insights not named"
grep -q "notjson.json.gz: rejected: .*not valid JSON\|notjson.json.gz: rejected: .*not a JSON" "$T/err3" || fail "non-JSON not named"
# Good files around the bad ones were read in full: every good copy printed all its events.
# (Damaged copies of the log may print the events found before the damage: those stand.)
[ "$(grep -c '"id":"e-001"' "$T/out3")" -ge "$ngood" ] || fail "a good file was not read in full"
python3 - "$T/err3" "$nbad" "$ngood" <<'PY' || fail "stats after damaged files"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
nbad, ngood = int(sys.argv[2]), int(sys.argv[3])
assert s["malformed"] >= nbad + ngood, s     # one per rejected file, plus e-017 per good copy
assert s["put"] >= 4 * ngood and s["bucket"] >= ngood, s
PY
# An insights file never yields an event.
rc=0; "$JIBE" events "$T/insight.json.gz" >"$T/out4" 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] && [ ! -s "$T/out4" ] || fail "insights file gave events or exit $rc"

# Usage errors exit 2 and say why.
for args in "" "--bogus x" "--bucket nobucket" "--sync-start 101=yesterday" "--max-bytes 12Q f"; do
	rc=0
	# shellcheck disable=SC2086
	"$JIBE" events $args >/dev/null 2>"$T/uerr" || rc=$?
	[ "$rc" -eq 2 ] && [ -s "$T/uerr" ] || fail "usage error '$args' gave exit $rc"
done
"$JIBE" events --help | grep -q "self-key" || fail "help"
echo "ok: events cli"
