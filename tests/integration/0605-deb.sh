#!/bin/sh
# 0605-deb.sh - `make deb` builds a Debian package of the build under test; unpacked with
# dpkg-deb -x into a temporary root it holds exactly jibe's files (binary, man pages, example
# configuration, the four systemd units, sysusers.d, logrotate), declares only run-time
# dependencies (the shared libraries dpkg-shlibdeps finds, adduser; no -dev package), marks
# /etc files as conffiles, creates the jibe user in its postinst, enables no unit, and the
# unpacked jibe runs (--version).
set -eu
: "${JIBE:?}" "${JIBE_TMP:?}" "${JIBE_TOP:?}" "${JIBE_BUILD:?}"
T=$JIBE_TMP
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps strip; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (make deps installs dpkg-dev)"; exit 77; }
done

env -u MAKEFLAGS -u MAKELEVEL make -s -C "$JIBE_TOP" --no-print-directory deb \
	IB="$JIBE_BUILD" DEB_DIR="$T/deb" >"$T/make.log" 2>&1 ||
	{ cat "$T/make.log"; fail "make deb failed"; }
deb=$(tail -n 1 "$T/make.log")
[ -f "$deb" ] || { cat "$T/make.log"; fail "make deb did not name a package"; }
case "$deb" in */jibe_*_"$(dpkg --print-architecture)".deb) ;; *) fail "unexpected package name $deb" ;; esac

dpkg-deb -x "$deb" "$T/root"
(cd "$T/root" && find . ! -type d | sort) >"$T/files"
cat >"$T/want" <<EOW
./etc/logrotate.d/jibe
./usr/bin/jibe
./usr/lib/systemd/system/jibe-parse.service
./usr/lib/systemd/system/jibe-scan.service
./usr/lib/systemd/system/jibe-sync.service
./usr/lib/systemd/system/jibe.service
./usr/lib/sysusers.d/jibe.conf
./usr/share/doc/jibe/jibe.cfg.example
./usr/share/man/man1/jibe.1.gz
./usr/share/man/man5/jibe.cfg.5.gz
EOW
diff "$T/want" "$T/files" || fail "the package holds other files than these (- wanted, + packaged)"
dpkg-deb -c "$deb" | awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' ||
	fail "files of the package not owned by root"

[ "$("$T/root/usr/bin/jibe" --version)" = "$("$JIBE" --version)" ] ||
	fail "the packaged jibe does not print the build's version"
"$T/root/usr/bin/jibe" --help >/dev/null || fail "the packaged jibe --help failed"
gzip -dc "$T/root/usr/share/man/man5/jibe.cfg.5.gz" | cmp -s - "$JIBE_BUILD/man/jibe.cfg.5" ||
	fail "the packaged jibe.cfg.5 is not the build's"
for u in jibe jibe-scan jibe-parse jibe-sync; do
	grep -q '^ExecStart=/usr/bin/jibe ' "$T/root/usr/lib/systemd/system/$u.service" ||
		fail "$u.service does not start /usr/bin/jibe"
done

dpkg-deb -f "$deb" Package Version Architecture Depends >"$T/control"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
echo "$depends" | grep -q 'libc6' || fail "Depends does not name libc6: $depends"
echo "$depends" | grep -q 'libcurl' || fail "Depends does not name libcurl: $depends"
echo "$depends" | grep -q 'librdkafka1' || fail "Depends does not name librdkafka1: $depends"
echo "$depends" | grep -qw 'adduser' || fail "Depends does not name adduser (postinst): $depends"
echo "$depends" | tr ',' '\n' | grep -E -e '-dev( |$)' -e 'build-essential|cmocka|clang|valgrind|openjdk|maven' &&
	fail "Depends names a build or test package: $depends"
# deploy/deps.sh runtime (what a server needs, per the README) names every dependency
sh "$JIBE_TOP/deploy/deps.sh" runtime --list >"$T/runtime"
sanitized=0
if nm -D "$JIBE" 2>/dev/null | grep -q ' __asan_init'; then sanitized=1; fi
for p in $(echo "$depends" | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/:.*//' | tr -d ' '); do
	# a sanitizer build (make test-asan, test-clang) brings its runtime's libraries
	[ "$sanitized" = 1 ] && case "$p" in libasan[0-9]* | libubsan[0-9]* | libgcc-s1 | libstdc++6) continue ;; esac
	grep -qx "$p" "$T/runtime" || fail "the package depends on $p, which deploy/deps.sh runtime does not list"
done

dpkg-deb -e "$deb" "$T/ctl"
[ "$(cat "$T/ctl/conffiles")" = "/etc/logrotate.d/jibe" ] || fail "conffiles: $(cat "$T/ctl/conffiles")"
{ grep -q 'getent passwd jibe' "$T/ctl/postinst" && grep -q 'adduser .*--system' "$T/ctl/postinst"; } || fail "the postinst does not create the system user jibe"
grep -v '^[[:space:]]*#' "$T/ctl/postinst" | grep -E 'systemctl (--[a-z-]+ )*(enable|start)' && fail "the postinst enables or starts a unit"
[ ! -e "$T/root/etc/systemd" ] || fail "the package enables a unit (files under /etc/systemd)"
sh -n "$T/ctl/postinst" && sh -n "$T/ctl/prerm" && sh -n "$T/ctl/postrm" || fail "a maintainer script does not parse"
echo "package: $deb, $(wc -l <"$T/files") files"
