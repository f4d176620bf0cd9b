#!/bin/sh
# deps.sh - install the Debian packages jibe builds, tests and runs with.
# Idempotent: asks apt only for what is missing, and says nothing when all is present.
# Java 17 and Maven run the Kafka broker of the tests (deploy/kafka/kafka.sh fetch brings its jars).
# clang builds the second compiler's test suite (make test-clang) and, with libclang-rt-dev
# (libFuzzer and the sanitizer runtimes), the fuzzers (make fuzz); clang-format checks the
# layout of the sources (make format-check, .clang-format). libisal-dev (Intel ISA-L) is the
# fast gzip inflate of the CloudTrail reader (the Makefile falls back to zlib without it);
# isal (igzip) and pigz are the reference decompressors `make bench` times jibe against
# (GNU time measures each one's peak memory).
# prometheus brings promtool, which checks the metrics exposition and deploy/prometheus/ (tests 05xx).
set -eu
PKGS="build-essential pkg-config librdkafka-dev libcurl4-openssl-dev libcjson-dev zlib1g-dev
libconfig-dev libmicrohttpd-dev libcmocka-dev rclone kcat valgrind python3 curl gzip
openjdk-17-jdk-headless maven clang libclang-rt-dev clang-format libisal-dev isal pigz time prometheus"
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
