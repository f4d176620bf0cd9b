#!/bin/sh
# deps.sh - install the Debian packages jibe runs, builds and tests with.
#
#   sh deploy/deps.sh [all]        everything CI needs: build, every test, fuzzing, benchmarks
#                                  (`make deps`, which also fetches the Kafka jars)
#   sh deploy/deps.sh demo         what `make demo` (embedded mode) needs: the build and the
#                                  simulator's libraries, python3 and curl; no Java, no Maven
#   sh deploy/deps.sh runtime      what a server that runs jibe needs (the Debian package
#                                  declares the same libraries; tests/integration/0605 checks)
#   sh deploy/deps.sh MODE --list  print that list, one package a line, install nothing
#
# Idempotent: asks apt only for what is missing, and says nothing when all is present.
# Run time: the shared libraries of the binary, ca-certificates (TLS to Access Anywhere and
# Kafka), adduser (the package's postinst creates the user jibe), logrotate (the rotation of
# log_file, deploy/logrotate/jibe).
# Java 17 and Maven run the Kafka broker of the tests (deploy/kafka/kafka.sh fetch brings its jars).
# clang builds the second compiler's test suite (make test-clang) and, with libclang-rt-dev
# (libFuzzer and the sanitizer runtimes), the fuzzers (make fuzz); clang-format checks the
# layout of the sources (make format-check, .clang-format). libisal-dev (Intel ISA-L) is the
# fast gzip inflate of the CloudTrail reader (the Makefile falls back to zlib without it);
# isal (igzip) and pigz are the reference decompressors `make bench` times jibe against
# (GNU time measures each one's peak memory). dpkg-dev builds the package (make deb, test 0605);
# systemd brings systemd-analyze, which rates the units' hardening (test 0610); prometheus
# brings promtool, which checks the metrics exposition and deploy/prometheus/ (tests 0520-0535).
# chromium (headless) loads report.html as a browser would and dumps its DOM (test 0700).
# iproute2 (ip netns, veth, bridge) makes the test hosts of the failure tests 08xx
# (tests/integration/lib_netns.sh). gdb prints the threads of a stage that does not stop
# (tests/integration/lib_stages.sh).
set -eu
RUNTIME="libc6 librdkafka1 libcurl4 libcjson1 zlib1g libconfig9 libisal2 libmicrohttpd12
ca-certificates adduser logrotate"
DEMO="build-essential pkg-config librdkafka-dev libcurl4-openssl-dev libcjson-dev zlib1g-dev
libconfig-dev libmicrohttpd-dev libisal-dev python3 curl gzip"
ALL="$DEMO libcmocka-dev rclone kcat valgrind openjdk-17-jdk-headless maven clang libclang-rt-dev
clang-format isal pigz time dpkg-dev systemd openssl
prometheus chromium iproute2 gdb"
case "${1:-all}" in
all) PKGS=$ALL ;;
demo) PKGS=$DEMO ;;
runtime) PKGS=$RUNTIME ;;
*) echo "usage: deps.sh [all | demo | runtime] [--list]" >&2; exit 2 ;;
esac
if [ "${2:-}" = --list ]; then
	for p in $PKGS; do echo "$p"; done
	exit 0
fi
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
