#!/bin/sh
# build.sh - make the Debian package of jibe from a staging root (`make deb` calls it).
#
#   sh packaging/deb/build.sh STAGE OUT_DIR
#
# STAGE/debian/jibe holds the files as `make install PREFIX=/usr DESTDIR=...` put them. This
# strips the binary, compresses the man pages, writes DEBIAN/ (control with the run-time
# dependencies dpkg-shlibdeps finds in the binary, plus adduser for the postinst; the
# maintainer scripts of packaging/deb/; conffiles for /etc) and builds
# OUT_DIR/jibe_VERSION_ARCH.deb with dpkg-deb, owned by root without needing root.
# Prints the package's path. Tools: dpkg-dev (dpkg-shlibdeps), binutils (strip), gzip.
set -eu
STAGE=$1
OUT=$2
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$STAGE/debian/jibe
[ -x "$ROOT/usr/bin/jibe" ] || { echo "deb: $ROOT/usr/bin/jibe is missing (make install first)" >&2; exit 1; }

version=$(sed -n 's/^#define JB_VERSION "\(.*\)"/\1/p' "$TOP/common/jb.h")
[ -n "$version" ] || { echo "deb: no JB_VERSION in common/jb.h" >&2; exit 1; }
arch=$(dpkg --print-architecture)

strip --strip-unneeded --remove-section=.comment --remove-section=.note "$ROOT/usr/bin/jibe"
find "$ROOT/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
install -d "$ROOT/DEBIAN"
for s in postinst prerm postrm; do
	install -m 755 "$TOP/packaging/deb/$s" "$ROOT/DEBIAN/$s"
done
(cd "$ROOT" && find etc -type f | sed 's|^|/|' | sort) >"$ROOT/DEBIAN/conffiles"

# dpkg-shlibdeps reads debian/control (the package's name) in the current directory.
mkdir -p "$STAGE/debian"
printf 'Source: jibe\n\nPackage: jibe\nArchitecture: any\n' >"$STAGE/debian/control"
shlibs=$(cd "$STAGE" && dpkg-shlibdeps -O debian/jibe/usr/bin/jibe | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "deb: dpkg-shlibdeps found no libraries in the binary" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
cat >"$ROOT/DEBIAN/control" <<EOC
Package: jibe
Version: $version
Architecture: $arch
Maintainer: jibe maintainers <jibe@localhost>
Installed-Size: $size
Depends: $shlibs, adduser
Recommends: ca-certificates, logrotate
Section: admin
Priority: optional
Description: keep Access Anywhere's index of Amazon S3 in step with direct S3 writes
 jibe follows the CloudTrail logs of S3 buckets managed by Access Anywhere (File
 Fabric), finds each object created or deleted by anyone but Access Anywhere itself,
 and asks Access Anywhere to resync it. One process (jibe run), or one per stage
 over Kafka (jibe scan, parse, sync). The systemd units are installed disabled.
EOC
mkdir -p "$OUT"
deb="$OUT/jibe_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$deb" >/dev/null
echo "$deb"
