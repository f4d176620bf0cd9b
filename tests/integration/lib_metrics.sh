# lib_metrics.sh - helpers for the tests of jibe's metrics endpoint (source after lib.sh).
#
#   metrics_port                 print a free TCP port of 127.0.0.1
#   metrics_cfg PORT             the libconfig text that turns the endpoint on at PORT (set
#                                METRICS_PORT=PORT yourself: this runs in a $(...) subshell)
#   metrics_url                  http://127.0.0.1:$METRICS_PORT
#   metrics_code PATH            the HTTP status of GET PATH (000: no answer)
#   metrics_body PATH            the body of GET PATH
#   metrics_sum NAME [K=V ...]   the sum of every sample of NAME whose labels include K=V
#                                (0 when there is none), from one scrape
#   metrics_promtool FILE        promtool check metrics < FILE: fails the test on any output

METRICS_PORT=

metrics_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

metrics_cfg() {
	printf 'metrics = {\n  listen = "127.0.0.1:%s";\n};\n' "$1"
}

metrics_url() {
	echo "http://127.0.0.1:$METRICS_PORT"
}

metrics_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$(metrics_url)$1" || true
}

metrics_body() {
	curl -sS --max-time 10 "$(metrics_url)$1"
}

metrics_sum() {
	ms_name=$1
	shift
	metrics_body /metrics | python3 -c '
import re, sys
name, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
total = 0.0
for line in sys.stdin:
    if line.startswith("#"):
        continue
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line.strip())
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r"(\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"", m.group(3) or ""))
    if all(labels.get(k) == v for k, v in want.items()):
        total += float(m.group(4))
print(int(total) if total == int(total) else total)
' "$ms_name" "$@"
}

metrics_promtool() {
	mp_out=$(promtool check metrics <"$1" 2>&1) || { echo "$mp_out" >&2; fail "promtool check metrics failed on $1"; }
	[ -z "$mp_out" ] || { echo "$mp_out" >&2; fail "promtool check metrics reports problems in $1"; }
}
