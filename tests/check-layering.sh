#!/bin/sh
# check-layering.sh - which folder may include which header (make check-layering, CI).
#
#   sh tests/check-layering.sh [ROOT]     check the tree at ROOT (default: this repository)
#   sh tests/check-layering.sh --self-test  check that each rule catches its violation
#
# Rules, on the #include lines of every .c and .h file (build/ and .git/ aside):
#  1. A stage file (every file of producer/ and consumer/) includes neither librdkafka's
#     rdkafka*.h nor libcurl's curl/*.h: the stages know only q.h, ktopic.h and aa.h (the
#     scanner store's Kafka backend reaches Kafka through common/ktopic.h).
#  2. A header of producer/ or consumer/ (the stage headers: the list is read from the two
#     folders) is included only from common/cli/ (the command layer), producer/, consumer/
#     and tests/.
#  3. A header of common/cli/ (cli.h, ...) is included only from common/cli/.
# Prints one line per violation (file:line: what, and the rule) and exits 1 if there is any.
set -eu


check() {
	root=$1
	(
		cd "$root" || exit 2
		stage_h=$(find producer consumer -maxdepth 1 -name '*.h' -type f 2>/dev/null |
			sed 's|.*/||' | sort -u)
		cli_h=$(find common/cli -maxdepth 1 -name '*.h' -type f 2>/dev/null | sed 's|.*/||' | sort -u)
		find . \( -path ./build -o -path ./.git \) -prune -o -type f -name '*.[ch]' -print |
			sed 's|^\./||' | sort |
			while IFS= read -r f; do
				grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^>"]+[>"]' "$f" |
					sed -E 's/^([0-9]+):[^<"]*[<"]([^>"]+)[>"].*/\1 \2/' |
					while read -r line inc; do
						echo "$f $line $inc"
					done
			done |
			awk -v stage_h="$stage_h" -v cli_h="$cli_h" '
			BEGIN {
				n = split(stage_h, a, "\n"); for (i = 1; i <= n; i++) if (a[i] != "") st[a[i]] = 1
				n = split(cli_h, a, "\n"); for (i = 1; i <= n; i++) if (a[i] != "") cl[a[i]] = 1
				bad = 0
			}
			{
				f = $1; line = $2; inc = $3; base = inc; sub(/.*\//, "", base)
				is_stage = (f ~ /^(producer|consumer)\//)
				in_cli = (f ~ /^common\/cli\//)
				kafka = (base ~ /^rdkafka.*\.h$/ || inc ~ /(^|\/)librdkafka\//)
				curl = (inc ~ /(^|\/)curl\//)
				if (is_stage && curl) {
					printf "%s:%s: includes <%s>: a stage (producer/, consumer/) must not know libcurl; call aa.h\n", f, line, inc
					bad++
				}
				if (is_stage && kafka) {
					printf "%s:%s: includes <%s>: a stage (producer/, consumer/) must not know librdkafka; use q.h or ktopic.h\n", f, line, inc
					bad++
				}
				if ((base in st) && !(is_stage || in_cli || f ~ /^tests\//)) {
					printf "%s:%s: includes stage header %s: only common/cli/, producer/, consumer/ and tests/ may\n", f, line, inc
					bad++
				}
				if ((base in cl) && !in_cli) {
					printf "%s:%s: includes command-layer header %s: only common/cli/ may\n", f, line, inc
					bad++
				}
			}
			END {
				if (bad) { printf "check-layering: %d violation(s)\n", bad; exit 1 }
			}'
	)
}

# Builds a small tree that respects every rule, checks it passes, then breaks one rule at a
# time and checks the violation is reported.
self_test() {
	t=$(mktemp -d "${TMPDIR:-/tmp}/jibe-layering.XXXXXX")
	trap 'rm -rf "$t"' EXIT INT TERM
	mkdir -p "$t/common/cli" "$t/producer" "$t/consumer" "$t/tests/unit" "$t/build/release"
	printf '#include "q.h"\n#include "aa.h"\n' >"$t/producer/scanner.c"
	printf '#include "scan_store.h"\n' >"$t/producer/scanner.h"
	: >"$t/producer/scan_store.h"
	printf '#include "ktopic.h"\n#include "scan_store.h"\n' >"$t/producer/scan_store_kafka.c"
	printf '#include "q.h"\n' >"$t/consumer/parser.c"
	: >"$t/consumer/parser.h"
	printf '#include <librdkafka/rdkafka.h>\n#include <curl/curl.h>\n' >"$t/common/q_kafka.c"
	printf '#include "cli.h"\n#include "scanner.h"\n#include "parser.h"\n' >"$t/common/cli/run.c"
	: >"$t/common/cli/cli.h"
	printf '#include <curl/curl.h>\n#include "parser.h"\n' >"$t/tests/unit/test_parser.c"
	printf '#include "cli.h"\n' >"$t/build/release/ignored.c"
	out=$(check "$t" 2>&1) || { echo "check-layering self-test: a clean tree failed:"; echo "$out"; exit 1; }

	fails=0
	# file, text appended, what the report must name
	for c in "consumer/parser.c|#include <curl/curl.h>|consumer/parser.c:2: includes <curl/curl.h>" \
		"producer/scanner.c|#  include <librdkafka/rdkafka.h>|producer/scanner.c:3: includes <librdkafka/rdkafka.h>" \
		"producer/scan_store_kafka.c|#include <librdkafka/rdkafka.h>|producer/scan_store_kafka.c:3: includes <librdkafka/rdkafka.h>" \
		"consumer/parser.h|#include \"rdkafka.h\"|consumer/parser.h:1: includes <rdkafka.h>" \
		"common/q_kafka.c|#include \"scanner.h\"|common/q_kafka.c:3: includes stage header scanner.h" \
		"common/q_kafka.c|#include \"scan_store.h\"|common/q_kafka.c:3: includes stage header scan_store.h" \
		"common/q_kafka.c|#include \"../consumer/parser.h\"|includes stage header ../consumer/parser.h" \
		"common/q_kafka.c|#include \"cli.h\"|common/q_kafka.c:3: includes command-layer header cli.h" \
		"producer/scanner.c|#include \"cli.h\"|producer/scanner.c:3: includes command-layer header cli.h" \
		"tests/unit/test_parser.c|#include \"cli.h\"|tests/unit/test_parser.c:3: includes command-layer header"; do
		file=${c%%|*}
		rest=${c#*|}
		text=${rest%%|*}
		want=${rest#*|}
		cp "$t/$file" "$t/$file.orig"
		printf '%s\n' "$text" >>"$t/$file"
		if out=$(check "$t" 2>&1); then
			echo "check-layering self-test: not caught: '$text' in $file"
			fails=$((fails + 1))
		elif ! printf '%s\n' "$out" | grep -qF "$want"; then
			echo "check-layering self-test: '$text' in $file: expected \"$want\", got:"
			echo "$out"
			fails=$((fails + 1))
		fi
		mv "$t/$file.orig" "$t/$file"
	done
	[ "$fails" -eq 0 ] || exit 1
	echo "check-layering self-test: 10 violations caught, the clean tree passes"
}

if [ "${1:-}" = "--self-test" ]; then
	self_test
	exit 0
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
check "$root"
echo "check-layering: ok (stages include neither rdkafka.h nor curl.h; stage and command-layer headers stay in their layers)"
