#!/bin/sh
# 0020-check-config.sh - `jibe check-config`: the shipped example is the generator's output
# and loads (once its password file exists); broken files exit 1 with one line naming file,
# line and setting; notes for things that work but deserve attention; --dump never shows a
# secret; usage errors exit 2.
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

# Accepted with notes: a password in the file, a password file others can read, a token
# from the environment, http:// and insecure; no secret in any output.
chmod 644 "$T/aa-password"
cat >"$T/notes.cfg" <<EOF
access_anywhere = {
  endpoint = "http://127.0.0.1:9";
  login = "admin";
  password_file = "$T/aa-password";
  authtoken_env = "JIBE_IT_TOKEN";
  insecure = true;
};
EOF
JIBE_IT_TOKEN=$TOKEN "$JIBE" check-config -c "$T/notes.cfg" --dump >"$T/out" 2>"$T/err" || fail "notes.cfg rejected"
has "$T/out" "note: access_anywhere.password_file: $T/aa-password can be read by every user (mode 0644)"
has "$T/out" "note: access_anywhere.endpoint is http://"
has "$T/out" "note: access_anywhere.insecure is true"
has "$T/out" '# authtoken = "***";  (from authtoken_env)'
hasnt "$T/out" "$PW"
hasnt "$T/out" "$TOKEN"
hasnt "$T/err" "$PW"
printf 'access_anywhere = { endpoint = "https://x"; login = "a"; password = "%s"; };\n' "$PW" >"$T/inline.cfg"
"$JIBE" check-config -c "$T/inline.cfg" --dump >"$T/out" 2>&1 || fail "inline password rejected"
has "$T/out" "note: access_anywhere.password is written in $T/inline.cfg"
has "$T/out" 'password = "***";'
hasnt "$T/out" "$PW"

# Usage errors.
rc=0; "$JIBE" check-config --frob >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "unknown option: exit $rc"
rc=0; "$JIBE" check-config -c >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "-c without a file: exit $rc"
"$JIBE" check-config --help | grep -q "usage: jibe check-config" || fail "--help"
echo "check-config OK"
