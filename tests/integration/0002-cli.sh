#!/bin/sh
# 0002-cli.sh - every command of `jibe --help` reads its command line the same way: --help
# prints its usage on stdout and exits 0; --version prints the version (as `jibe --version`)
# and exits 0; an unknown option, an option without its value and a missing -c FILE are
# usage errors: exit 2, the usage on stderr, nothing on stdout. Nothing here contacts a
# server or reads a configuration.
set -eu
: "${JIBE:?}" "${JIBE_TMP:?}"
T=$JIBE_TMP
fail() { echo "FAIL: $*" >&2; exit 1; }

"$JIBE" --help >"$T/help" || fail "jibe --help: exit $?"
version=$("$JIBE" --version) || fail "jibe --version: exit $?"
[ "$version" = "$("$JIBE" version)" ] || fail "jibe version and jibe --version differ"
# the version names the git revision (when built from a git tree) and the libraries
echo "$version" | grep -q '^jibe [0-9.]* (git [^)]*)$' || fail "no git revision in: $version"
if git -C "$JIBE_TOP" rev-parse --short=7 HEAD >/dev/null 2>&1; then
	echo "$version" | grep -q "(git $(git -C "$JIBE_TOP" rev-parse --short=7 HEAD)" ||
		fail "the git revision is not HEAD's ($(git -C "$JIBE_TOP" rev-parse --short=7 HEAD)): $version"
fi
echo "$version" | grep -q '^librdkafka [0-9.]*, libcurl [0-9.]*, zlib [0-9.]*, gzip inflate: ' ||
	fail "no library versions in: $version"
# the commands: the lines "  NAME  description" between "commands:" and the blank line after
cmds=$(sed -n '/^commands:/,/^$/p' "$T/help" | awk 'NF >= 2 { print $1 }')
[ "$(echo "$cmds" | wc -w)" -ge 10 ] || { cat "$T/help"; fail "too few commands in jibe --help: $cmds"; }

# usage_error DESC CMD ARGS...: exit 2, "usage:" on stderr after a line naming the command,
# stdout empty.
usage_error() {
	desc=$1
	shift
	rc=0
	"$JIBE" "$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 2 ] || { cat "$T/out" "$T/err"; fail "jibe $*: $desc: exit $rc, want 2"; }
	[ ! -s "$T/out" ] || { cat "$T/out"; fail "jibe $*: $desc: something on stdout"; }
	grep -q "^jibe $1: " "$T/err" || { cat "$T/err"; fail "jibe $*: $desc: no 'jibe $1:' message"; }
	grep -q "^usage: jibe " "$T/err" || { cat "$T/err"; fail "jibe $*: $desc: no usage on stderr"; }
}

n=0
for c in $cmds; do
	n=$((n + 1))
	for h in --help -h; do
		rc=0
		"$JIBE" "$c" "$h" >"$T/out" 2>"$T/err" || rc=$?
		[ "$rc" -eq 0 ] || { cat "$T/err"; fail "jibe $c $h: exit $rc"; }
		grep -q "^usage: jibe " "$T/out" || { cat "$T/out"; fail "jibe $c $h: no usage on stdout"; }
		[ ! -s "$T/err" ] || { cat "$T/err"; fail "jibe $c $h: something on stderr"; }
	done
	grep -q -- "--version" "$T/out" || fail "jibe $c --help does not mention --version"
	rc=0
	out=$("$JIBE" "$c" --version 2>"$T/err") || rc=$?
	[ "$rc" -eq 0 ] || { cat "$T/err"; fail "jibe $c --version: exit $rc"; }
	[ "$out" = "$version" ] || fail "jibe $c --version printed '$out', want '$version'"
	usage_error "unknown option" "$c" --no-such-option
	usage_error "unknown short option" "$c" -Z
	# options after others (the --help of a later position wins nothing: the error comes first)
	usage_error "unknown option before --help" "$c" --no-such-option --help
done

# jibe's own command line: the same rules.
for args in "" "--no-such-option" "-Z" "no-such-command"; do
	rc=0
	# shellcheck disable=SC2086
	"$JIBE" $args >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 2 ] && [ ! -s "$T/out" ] && grep -q "^usage: jibe COMMAND" "$T/err" ||
		{ cat "$T/out" "$T/err"; fail "jibe $args: exit $rc, want 2 with the usage on stderr only"; }
done
for h in -h --help help; do
	"$JIBE" $h | grep -q "^usage: jibe COMMAND" || fail "jibe $h"
done
# A command's options are read wherever they stand (after jibe's own were read up to it).
usage_error "unknown option after an operand" run extra --no-such-option
grep -q "unknown option '--no-such-option'" "$T/err" || { cat "$T/err"; fail "the option after an operand was not read"; }

# An option without its value, and the -c FILE a command needs.
for c in run scan parse sync topics redrive check-config lag replay; do
	usage_error "-c without its file" "$c" -c
	usage_error "--config without its file" "$c" --config
done
for c in run scan parse sync redrive; do
	usage_error "no -c FILE" "$c"
done
usage_error "no --create" topics -c "$T/none.cfg"
usage_error "an operand" run -c "$T/none.cfg" extra
usage_error "an operand" check-config extra
usage_error "no file" events
usage_error "--instance-id without its id" scan -c "$T/none.cfg" --instance-id
usage_error "--group without its name" lag --group

# The long forms --config=FILE and -cFILE are the same option (getopt_long): the file is
# read (and here missing: exit 1, not a usage error).
for a in "--config=$T/none.cfg" "-c$T/none.cfg"; do
	rc=0
	"$JIBE" check-config "$a" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "none.cfg" "$T/err" || { cat "$T/err"; fail "check-config $a: exit $rc"; }
done
# events: the first file ends the options, as before ("--stats" after a file is a file).
rc=0
"$JIBE" events "$T/missing.json.gz" --stats >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q -- "--stats: rejected" "$T/err" || { cat "$T/err"; fail "events FILE --stats: exit $rc"; }
echo "ok: $n commands read their command line the same way"
