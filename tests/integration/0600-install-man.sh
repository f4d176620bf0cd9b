#!/bin/sh
# 0600-install-man.sh - `make install` honours PREFIX and DESTDIR: the binary, both man pages,
# the example configuration, the systemd units (naming the installed binary), the sysusers.d
# file and the logrotate file, each where it belongs and nothing else; the installed jibe runs.
# jibe(1) has a section for every command of `jibe --help` and the exit statuses 0, 1, 2;
# jibe.cfg(5) (check-config --man) documents exactly the settings of check-config --example
# with the same defaults, so the two cannot drift apart.
set -eu
: "${JIBE:?}" "${JIBE_TMP:?}" "${JIBE_TOP:?}" "${JIBE_BUILD:?}"
T=$JIBE_TMP
fail() { echo "FAIL: $*" >&2; exit 1; }

# the build under test, not one make would build: IB names its directory
env -u MAKEFLAGS -u MAKELEVEL make -s -C "$JIBE_TOP" --no-print-directory install \
	IB="$JIBE_BUILD" PREFIX=/opt/jb DESTDIR="$T/root" >"$T/make.log" 2>&1 ||
	{ cat "$T/make.log"; fail "make install failed"; }
(cd "$T/root" && find . -type f | sort) >"$T/files"
cat >"$T/want" <<EOW
./etc/logrotate.d/jibe
./opt/jb/bin/jibe
./opt/jb/lib/systemd/system/jibe-parse.service
./opt/jb/lib/systemd/system/jibe-scan.service
./opt/jb/lib/systemd/system/jibe-sync.service
./opt/jb/lib/systemd/system/jibe.service
./opt/jb/lib/sysusers.d/jibe.conf
./opt/jb/share/doc/jibe/jibe.cfg.example
./opt/jb/share/man/man1/jibe.1
./opt/jb/share/man/man5/jibe.cfg.5
EOW
diff "$T/want" "$T/files" || fail "make install put other files than these (- wanted, + installed)"
[ -x "$T/root/opt/jb/bin/jibe" ] || fail "the installed jibe is not executable"
[ "$("$T/root/opt/jb/bin/jibe" --version)" = "$("$JIBE" --version)" ] ||
	fail "the installed jibe is not the build's"
for u in jibe jibe-scan jibe-parse jibe-sync; do
	grep -q "^ExecStart=/opt/jb/bin/jibe " "$T/root/opt/jb/lib/systemd/system/$u.service" ||
		fail "$u.service does not start /opt/jb/bin/jibe"
done
cmp -s "$JIBE_TOP/deploy/jibe.cfg.example" "$T/root/opt/jb/share/doc/jibe/jibe.cfg.example" ||
	fail "the installed example configuration differs from deploy/jibe.cfg.example"

# jibe(1): every command, every exit status
"$JIBE" --help | sed -n '/^commands:/,/^$/p' | awk 'NF >= 2 { print $1 }' >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 10 ] || fail "too few commands in jibe --help"
while read -r c; do
	man_c=$(printf '%s' "$c" | sed 's/-/\\\\-/g')
	grep -q "^\.SS \"$man_c\( \|\"\)" "$JIBE_TOP/man/jibe.1" ||
		fail "man/jibe.1 has no section (.SS) for the command '$c'"
done <"$T/cmds"
sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$JIBE_TOP/man/jibe.1" >"$T/exit"
for rc in 0 1 2; do
	grep -qx "\.B $rc" "$T/exit" || fail "man/jibe.1: exit status $rc is not described"
done

# jibe.cfg(5) and the example file: the same settings, in the same order, same defaults
"$JIBE" check-config --example >"$T/example"
cmp -s "$T/example" "$JIBE_TOP/deploy/jibe.cfg.example" ||
	fail "deploy/jibe.cfg.example is not what check-config --example prints (regenerate it)"
"$JIBE" check-config --man >"$T/man5"
cmp -s "$T/man5" "$T/root/opt/jb/share/man/man5/jibe.cfg.5" ||
	fail "the installed jibe.cfg.5 is not what check-config --man prints"
awk '
	/^[a-z_]+ = \{$/ { g = $1 "."; next }
	/^\};$/ { g = ""; next }
	/^[ \t]*# Default: / { d = $0; sub(/^[ \t]*# Default: /, "", d); pend = 1; next }
	pend && /^[ \t]*(# )?[a-z_0-9]+ = .*;$/ {
		n = $0; sub(/^[ \t]*(# )?/, "", n); sub(/ = .*/, "", n)
		print g n "|" d; pend = 0
	}' "$T/example" >"$T/ex.list"
awk '
	/^\.TP$/ { tp = 1; next }
	tp && /^\.B / { n = substr($0, 4); tp = 0; next }
	/^Default: / && n != "" { print n "|" substr($0, 10); n = "" }
	{ tp = 0 }' "$T/man5" | sed 's/\\-/-/g; s/\\e/\\/g; s/\\&//g' >"$T/man.list"
[ "$(wc -l <"$T/ex.list")" -ge 30 ] || { cat "$T/ex.list"; fail "too few settings read from the example"; }
diff "$T/ex.list" "$T/man.list" ||
	fail "jibe.cfg(5) and check-config --example disagree (- example, + man page)"
if command -v groff >/dev/null 2>&1; then
	for p in "$JIBE_TOP/man/jibe.1" "$T/man5"; do
		groff -man -Tutf8 -ww -z "$p" 2>"$T/groff.err"
		[ ! -s "$T/groff.err" ] || { cat "$T/groff.err"; fail "groff warns about $p"; }
	done
fi
echo "install: $(wc -l <"$T/files") files under DESTDIR; jibe(1) covers $(wc -l <"$T/cmds") commands; jibe.cfg(5) $(wc -l <"$T/man.list") settings"
