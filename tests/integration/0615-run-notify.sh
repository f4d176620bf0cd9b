#!/bin/sh
# 0615-run-notify.sh - `jibe run` under a service manager's notify socket (what systemd gives a
# Type=notify unit: NOTIFY_SOCKET, here an abstract name, and WATCHDOG_USEC): READY=1 comes
# once jibe has signed in and its first scan has ended, never before; WATCHDOG=1 follows at
# half the interval; STATUS= carries the running line; SIGHUP (ExecReload) reopens the log
# file; SIGTERM sends STOPPING=1 and exits 0. A listener of the test records the datagrams.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
R=$JIBE_TMP/root
W=$JIBE_TMP/run
N=$JIBE_TMP/notify.txt
"$CTGEN" init --root "$R" --seed 11 >/dev/null
"$CTGEN" history --root "$R" --seed 11 --hours 1 >/dev/null
sim_start "$R" --quiet

name="jibe-test-notify-$$"
: >"$N"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(65536).decode().replace("\n", " | ") + "\n")
        f.flush()
' "$name" "$N" &
LISTEN_PID=$!
on_exit 'kill -TERM "$LISTEN_PID" 2>/dev/null || true; wait "$LISTEN_PID" 2>/dev/null || true'
wait_until 10 test -e "$N.ready"

RUN_INTERVAL=2 run_cfg "$W"
NOTIFY_SOCKET="@$name" WATCHDOG_USEC=1000000 run_start "$W"
wait_until 60 grep -q '^READY=1' "$N"
grep -q 'STATUS=.*running' "$N" || { cat "$N"; fail "READY=1 without the running STATUS"; }
# READY=1 only after the first scan ended: the log has its line before
grep -q 'scan' "$W/jibe.log" || fail "no scan in the log"
ready_line=$(grep -n '^READY=1' "$N" | head -n 1 | cut -d: -f1)
[ "$(head -n "$ready_line" "$N" | grep -c '^READY=1')" -eq 1 ] || fail "READY=1 sent twice"
wait_until 10 sh -c "tail -n +$((ready_line + 1)) '$N' | grep -q '^WATCHDOG=1'"
n0=$(grep -c '^WATCHDOG=1' "$N")
wait_until 10 sh -c "[ \$(grep -c '^WATCHDOG=1' '$N') -ge $((n0 + 3)) ]"

kill -HUP "$RUN_PID"
wait_until 10 grep -q 'log file reopened' "$W/jibe.log"
run_stop
wait_until 10 grep -q '^STOPPING=1' "$N"
grep -c '^READY=1' "$N" | grep -qx 1 || fail "READY=1 more than once"
echo "notify: $(grep -c '^WATCHDOG=1' "$N") WATCHDOG=1, $(grep -c '^STATUS=progress' "$N") progress STATUS, READY and STOPPING once"
