#!/bin/sh
# 0021-check-config-ops.sh - `jibe check-config` catches what would fail at start: a file
# with three mistakes (an unknown setting, a value out of range, a kafka.rdkafka entry
# librdkafka rejects) gets all three reported in one run; every rejected rdkafka entry is
# named; a state_dir in /proc, or one this user cannot write, and a log_file whose folder does
# not exist are refused; --connect signs in to the simulator, finds the log roots and says
# "ok"/"FAILED" per check (a wrong password: FAILED, exit 1); a status.folder outside a bucket
# is a mistake, and --connect says whether it exists or can be made.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
T=$JIBE_TMP
has() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks: $2"; }; }

cat >"$T/pw" <<'EOF2'
s3cret
EOF2
chmod 600 "$T/pw"
base() {
	cat <<EOF2
access_anywhere = {
  endpoint = "https://fabric.example.com";
  login = "jibe-sync";
  password_file = "$T/pw";
};
state_dir = "$T/state";
EOF2
}

# Three mistakes, three lines, exit 1.
{
	base
	cat <<'EOF2'
scanner = { interval_sec = 5; };
syncer = { window_ms = 5; };
kafka = { rdkafka = [ "no.such.property=1", "linger.ms=5" ]; };
EOF2
} >"$T/three.cfg"
rc=0
"$JIBE" check-config -c "$T/three.cfg" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/out" "$T/err"; fail "three mistakes: exit $rc, want 1"; }
[ "$(grep -c "^jibe check-config: $T/three.cfg:" "$T/err")" -eq 3 ] || { cat "$T/err"; fail "not 3 mistakes reported"; }
has "$T/err" "scanner.interval_sec"
has "$T/err" "syncer.window_ms"
has "$T/err" "no.such.property"
has "$T/out" "3 mistake(s)"

# Every rejected rdkafka entry is named, the valid one is not.
{
	base
	echo 'kafka = { rdkafka = [ "socket.timeout.ms=abc", "linger.ms=5", "bogus.thing=1" ]; };'
} >"$T/kafka.cfg"
rc=0
"$JIBE" check-config -c "$T/kafka.cfg" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "bad rdkafka entries: exit $rc"
has "$T/err" "socket.timeout.ms"
has "$T/err" "bogus.thing"
! grep -q "linger.ms" "$T/err" || fail "a valid rdkafka entry was reported"

# state_dir in /proc; state_dir below a regular file; log_file in a missing folder.
for sd in /proc/jibe-state "$T/pw/state"; do
	base | sed "s|^state_dir = .*|state_dir = \"$sd\";|" >"$T/sd.cfg"
	rc=0
	"$JIBE" check-config -c "$T/sd.cfg" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$T/out" "$T/err"; fail "state_dir $sd accepted"; }
	has "$T/err" "state_dir: $sd"
done
{ base; echo "log_file = \"$T/no-such-dir/jibe.log\";"; } >"$T/lf.cfg"
rc=0
"$JIBE" check-config -c "$T/lf.cfg" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "log_file in a missing folder accepted"
has "$T/err" "LogsDirectory=jibe"
# A state_dir this user cannot write (as root: checked as nobody, which root's rights hide).
mkdir -p "$T/ro/state"
chmod 555 "$T/ro/state"
base | sed "s|^state_dir = .*|state_dir = \"$T/ro/state\";|" >"$T/ro/ro.cfg"
cp "$T/pw" "$T/ro/pw"
sed -i "s|password_file = .*|password_file = \"$T/ro/pw\";|" "$T/ro/ro.cfg"
as_user=
if [ "$(id -u)" -eq 0 ]; then
	if command -v setpriv >/dev/null; then
		chmod 755 "$T" "$T/ro"
		chmod 644 "$T/ro/ro.cfg"
		chown 65534 "$T/ro/pw"
		as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
	fi
fi
if [ "$(id -u)" -ne 0 ] || [ -n "$as_user" ]; then
	rc=0
	$as_user "$JIBE" check-config -c "$T/ro/ro.cfg" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$T/out" "$T/err"; fail "an unwritable state_dir was accepted"; }
	has "$T/err" "cannot be written by this user"
fi

# --connect against the simulator.
sim_make_root "$T/sim"
mkdir -p "$T/sim/truth/ct-logs/AWSLogs/111122223333/CloudTrail"
sim_start "$T/sim" --quiet
run_cfg "$T/c"
"$JIBE" check-config -c "$T/c/jibe.cfg" --connect >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "--connect failed"; }
has "$T/out" "ok: signed in to Access Anywhere at $SIM_URL as admin"
has "$T/out" "ok: log root S3 Prod/ct-logs/AWSLogs"
has "$T/out" "connect: every check passed"
# status.folder: outside a bucket is a mistake; --connect finds the bucket it will be made in,
# or says it cannot be made.
run_cfg "$T/sf" 'status = { folder = "/S3 Prod"; };'
rc=0
"$JIBE" check-config -c "$T/sf/jibe.cfg" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/out" "$T/err"; fail "status.folder outside a bucket: exit $rc"; }
has "$T/err" "status.folder: \"/S3 Prod\" is not inside a bucket"
run_cfg "$T/sf" 'status = { folder = "/S3 Prod/ct-logs/jibe/status"; };'
"$JIBE" check-config -c "$T/sf/jibe.cfg" --connect >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; fail "--connect with status.folder failed"; }
has "$T/out" "ok: status.folder /S3 Prod/ct-logs/jibe/status does not exist yet"
run_cfg "$T/sf" 'status = { folder = "/S3 Prod/no-such-bucket/jibe"; };'
rc=0
"$JIBE" check-config -c "$T/sf/jibe.cfg" --connect >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/out" "$T/err"; fail "--connect with a status.folder in no bucket: exit $rc"; }
has "$T/out" "FAILED: status.folder /S3 Prod/no-such-bucket/jibe cannot be made"
sed -i 's/"s3cret"/"wrong"/' "$T/c/jibe-config.json"
rc=0
"$JIBE" check-config -c "$T/c/jibe.cfg" --connect >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] || fail "--connect with a wrong password: exit $rc"
has "$T/out" "FAILED: sign in to Access Anywhere"
sim_stop
echo "ok: every mistake in one run, rdkafka entries, state_dir and log_file probes, --connect"
