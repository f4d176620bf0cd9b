#!/bin/sh
# 0020-check-config.sh - `jibe check-config`: the shipped example is the generator's output
# and loads (once its password file exists); broken files exit 1 with one line naming file,
# line and setting; warnings for settings that weaken security (logged again at WARN by every
# start of jibe run); http:// refused unless allowed; credentials in the address refused and
# never printed; --dump never shows a secret; log and state files 0640 (directories 0750)
# under umask 000; a renamed option's old name accepted with a note; usage errors exit 2.
set -eu
: "${JIBE:?}" "${JIBE_TOP:?}" "${JIBE_TMP:?}"
T=$JIBE_TMP
EX=$JIBE_TOP/deploy/jibe.cfg.example
PW='Integration-Pa55word'
TOKEN='Integration-TOKEN-77'
fail() { echo "FAIL: $*" >&2; exit 1; }
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks: $2"; }; }
hasnt() { ! grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 shows: $2"; }; }

# The example file is exactly what --example prints (regenerate it after changing the table).
"$JIBE" check-config --example >"$T/example" || fail "--example exit $?"
cmp -s "$T/example" "$EX" || { diff "$T/example" "$EX" | head -20; fail "deploy/jibe.cfg.example is stale"; }

# It loads with its password file in place; no notes for a file that follows the advice.
printf '%s\n' "$PW" >"$T/aa-password"
chmod 600 "$T/aa-password"
sed "s|password_file = \"/etc/jibe/aa-password\"|password_file = \"$T/aa-password\"|" "$EX" >"$T/jibe.cfg"
grep -q "password_file = \"$T/aa-password\"" "$T/jibe.cfg" || fail "example has no password_file line"
"$JIBE" check-config -c "$T/jibe.cfg" --dump >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "example rejected"; }
has "$T/out" "configuration OK"
hasnt "$T/out" "note:"
hasnt "$T/out" "warning:"
has "$T/out" 'endpoint = "https://fabric.example.com";'
has "$T/out" '# password = "***";  (from password_file)'
has "$T/out" 'prefixes = ( { bucket = "ct-logs"; prefix = "trails/org"; } );'
hasnt "$T/out" "$PW"
[ ! -s "$T/err" ] || fail "stderr not empty: $(cat "$T/err")"

# The dump is itself a valid configuration giving the same values.
sed '1,2d' "$T/out" >"$T/dumped.cfg"
"$JIBE" check-config --config="$T/dumped.cfg" --dump >"$T/out2" || fail "dump does not load"
sed '1,3d' "$T/out" >"$T/a"
sed '1,3d' "$T/out2" >"$T/b"
cmp -s "$T/a" "$T/b" || { diff "$T/a" "$T/b"; fail "dump of the dump differs"; }

# Broken files: exit 1, one line naming file, line and setting.
check_bad() { # line-expected message, file content on stdin
	want=$1
	cat >"$T/bad.cfg"
	rc=0
	"$JIBE" check-config -c "$T/bad.cfg" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$T/out" "$T/err"; fail "exit $rc, want 1 for: $want"; }
	[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err"; fail "not one line: $want"; }
	has "$T/err" "jibe check-config: $T/bad.cfg:$want"
	hasnt "$T/out" "configuration OK"
}
HEAD="access_anywhere = { endpoint = \"https://aa.example.com\"; login = \"admin\";
  password_file = \"$T/aa-password\"; };"
printf '%s\nsyncer = {\n  window_ms = 2000;\n  windw_ms = 10;\n};\n' "$HEAD" | check_bad "5: syncer.windw_ms: unknown setting (did you mean syncer.window_ms?)"
printf '%s\n\nqueue = { capacity = 5; };\n' "$HEAD" | check_bad "4: queue.capacity: must be between 10 and 10000000, not 5"
printf '%s\nparser = {\n max_record = "16 megs";\n};\n' "$HEAD" | check_bad "4: parser.max_record: \"16 megs\" is not a size"
printf '%s\nscanner = { interval_s = "often"; };\n' "$HEAD" | check_bad "3: scanner.interval_s: must be a whole number from 1 to 86400, not a string"
printf '%s\nsyncer = {\n  window_ms = ;\n};\n' "$HEAD" | check_bad "4: syntax error" # libconfig's words
printf 'access_anywhere = {\n  login = "admin";\n  password = "%s";\n  password_file = "%s";\n};\n' "$PW" "$T/aa-password" |
	check_bad "4: access_anywhere.password_file: password_file is also given by password (line 3)"
hasnt "$T/err" "$PW"
printf 'access_anywhere = {\n  login = "admin";\n  password_file = "%s";\n};\n' "$T/aa-password" |
	check_bad "1: access_anywhere.endpoint: not set"
printf '%s\n' "access_anywhere = { endpoint = \"https://x\"; login = \"a\";" "  password_file = \"$T/nope\"; };" |
	check_bad "2: access_anywhere.password_file: cannot read $T/nope"

rc=0
"$JIBE" check-config -c "$T/does-not-exist.cfg" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "missing file: exit $rc"
has "$T/err" "cannot read configuration file $T/does-not-exist.cfg"

# http:// is refused unless allow_http says it is a test simulator.
chmod 644 "$T/aa-password"
cat >"$T/http.cfg" <<EOF
access_anywhere = { endpoint = "http://127.0.0.1:9"; login = "admin"; password_file = "$T/aa-password"; };
EOF
rc=0; "$JIBE" check-config -c "$T/http.cfg" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "http:// without allow_http: exit $rc"
has "$T/err" "access_anywhere.endpoint: \"http://127.0.0.1:9\" is http://"
has "$T/err" "allow_http = true"
rc=0; "$JIBE" run -c "$T/http.cfg" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "jibe run with http:// and no allow_http: exit $rc"
has "$T/err" "allow_http = true"

# Accepted with warnings: a password in the file, a password file others can read, a token
# from the environment, http:// allowed and insecure; no secret in any output.
cat >"$T/notes.cfg" <<EOF
access_anywhere = {
  endpoint = "http://127.0.0.1:9";
  allow_http = true;
  login = "admin";
  password_file = "$T/aa-password";
  authtoken_env = "JIBE_IT_TOKEN";
  insecure = true;
};
EOF
JIBE_IT_TOKEN=$TOKEN "$JIBE" check-config -c "$T/notes.cfg" --dump >"$T/out" 2>"$T/err" || fail "notes.cfg rejected"
has "$T/out" "warning: access_anywhere.password_file: $T/aa-password holds a secret and can be read by every user (mode 0644)"
has "$T/out" "warning: access_anywhere.endpoint is http:// (allow_http = true)"
has "$T/out" "warning: access_anywhere.insecure is true"
has "$T/out" "allow_http = true;"
has "$T/out" '# authtoken = "***";  (from authtoken_env)'
hasnt "$T/out" "$PW"
hasnt "$T/out" "$TOKEN"
hasnt "$T/err" "$PW"
printf 'access_anywhere = { endpoint = "https://x"; login = "a"; password = "%s"; };\n' "$PW" >"$T/inline.cfg"
"$JIBE" check-config -c "$T/inline.cfg" --dump >"$T/out" 2>&1 || fail "inline password rejected"
has "$T/out" "warning: access_anywhere.password is written in $T/inline.cfg"
has "$T/out" 'password = "***";'
hasnt "$T/out" "$PW"

# A user name and password in the address: refused by check-config and at start, and the
# password is printed nowhere (not in the error, not in the log).
URLPW='Url-Secret-Pa55'
cat >"$T/userinfo.cfg" <<EOF
access_anywhere = { endpoint = "https://admin:$URLPW@aa.example.com"; login = "admin";
  password_file = "$T/aa-password"; };
log_file = "$T/userinfo.log";
state_dir = "$T/userinfo-state";
EOF
rc=0; "$JIBE" check-config -c "$T/userinfo.cfg" --dump >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "credentials in the endpoint: exit $rc"
has "$T/err" '"https://***@aa.example.com" has a user name or password written in the address'
rc=0; "$JIBE" run -c "$T/userinfo.cfg" >>"$T/out" 2>>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "jibe run with credentials in the endpoint: exit $rc"
hasnt "$T/out" "$URLPW"
hasnt "$T/err" "$URLPW"
[ ! -f "$T/userinfo.log" ] || hasnt "$T/userinfo.log" "$URLPW"
printf '{"endpoint": "https://u:%s@aa.example.com", "login": "l", "password": "p-1"}\n' "$URLPW" >"$T/ui.json"
chmod 600 "$T/ui.json"
printf 'access_anywhere = { credentials_json = "%s"; };\n' "$T/ui.json" >"$T/ui.cfg"
rc=0; "$JIBE" check-config -c "$T/ui.cfg" --dump >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "credentials in the JSON endpoint: exit $rc"
has "$T/err" "has a user name or password written in the address"
hasnt "$T/out" "$URLPW"
hasnt "$T/err" "$URLPW"

# `jibe run` logs each insecure setting at WARN when it starts (a group-readable password
# file, http:// allowed, a librdkafka secret written in the file), and under umask 000
# creates its log and state files 0640 and its directories 0750. Nothing listens on port 9:
# jibe keeps trying until SIGTERM.
chmod 640 "$T/aa-password"
W=$T/warn
mkdir -p "$W"
cat >"$W.cfg" <<EOF
access_anywhere = { endpoint = "http://127.0.0.1:9"; allow_http = true; login = "admin";
  password_file = "$T/aa-password"; max_retries = 0; };
kafka = { rdkafka = [ "sasl.password=$PW" ]; };
log_file = "$W/jibe.log";
state_dir = "$W/state";
EOF
L=$W/jibe.log
started() { [ -f "$L" ] && [ "$(grep -c "Access Anywhere is not reachable yet" "$L")" -ge "$1" ]; }
run_once() { # $1: how many starts the log must show
	(umask 000; exec "$JIBE" run -c "$W.cfg" >"$W/out" 2>&1) &
	RPID=$!
	i=0
	until started "$1"; do
		i=$((i + 1))
		[ $i -le 300 ] || { kill -KILL $RPID; cat "$L" "$W/out" >&2; fail "jibe run did not start"; }
		sleep 0.1
	done
	kill -TERM $RPID
	rc=0; wait $RPID || rc=$?
	[ "$rc" -eq 0 ] || { cat "$L" >&2; fail "jibe run exited $rc after SIGTERM"; }
}
run_once 1
has "$L" "WARN  run: insecure setting: access_anywhere.password_file: $T/aa-password holds a secret and can be read by its group (mode 0640)"
has "$L" "WARN  run: insecure setting: access_anywhere.endpoint is http:// (allow_http = true)"
has "$L" "WARN  run: insecure setting: kafka.rdkafka: the secret sasl.password is written in $W.cfg"
hasnt "$L" "$PW"
mode() { stat -c %a "$1"; }
[ "$(mode "$L")" = 640 ] || fail "log file mode $(mode "$L"), want 640"
n=0
for f in $(find "$W/state" -type f); do
	n=$((n + 1))
	[ "$(mode "$f")" = 640 ] || fail "$f: mode $(mode "$f"), want 640"
done
for d in $(find "$W/state" -type d); do
	[ "$(mode "$d")" = 750 ] || fail "$d: mode $(mode "$d"), want 750"
done
[ "$n" -ge 2 ] || { find "$W/state" >&2; fail "only $n state files to check"; }
# a log file left world-writable (by an older jibe under umask 000) is brought down to 0640
chmod 666 "$L"
run_once 2
[ "$(mode "$L")" = 640 ] || fail "old log file mode $(mode "$L"), want 640"

# A renamed option (scanner.provider_refresh_s is now parser.provider_refresh_s): the old
# name still loads, with a note saying what to write instead; the dump shows only the new
# name; giving both names is refused, naming both.
printf '%s\nscanner = {\n  provider_refresh_s = 600;\n};\n' "$HEAD" >"$T/old.cfg"
"$JIBE" check-config -c "$T/old.cfg" --dump >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "old name rejected"; }
has "$T/out" "note: $T/old.cfg:4: scanner.provider_refresh_s is deprecated"
has "$T/out" "write parser.provider_refresh_s instead"
sed -n '/^parser = {/,/^};/p' "$T/out" >"$T/grp"
has "$T/grp" "provider_refresh_s = 600;"
sed -n '/^scanner = {/,/^};/p' "$T/out" >"$T/grp"
hasnt "$T/grp" "provider_refresh_s"
[ ! -s "$T/err" ] || fail "stderr not empty: $(cat "$T/err")"
printf '%s\nparser = { provider_refresh_s = 600; };\n' "$HEAD" >"$T/new.cfg"
"$JIBE" check-config -c "$T/new.cfg" >"$T/out" 2>"$T/err" || { cat "$T/err"; fail "new name rejected"; }
hasnt "$T/out" "deprecated"
printf '%s\nscanner = { provider_refresh_s = 600; };\nparser = { provider_refresh_s = 700; };\n' "$HEAD" |
	check_bad "4: parser.provider_refresh_s: is the same option as scanner.provider_refresh_s (line 3)"
printf '%s\nparser = { provider_refresh_s = 600; };\nscanner = { provider_refresh_s = 700; };\n' "$HEAD" |
	check_bad "4: scanner.provider_refresh_s: is the deprecated name of parser.provider_refresh_s (line 3)"

# Usage errors.
rc=0; "$JIBE" check-config --frob >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc"
rc=0; "$JIBE" check-config -c >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "-c without a file: exit $rc"
"$JIBE" check-config --help | grep -q "usage: jibe check-config" || fail "--help"
echo "check-config OK"
