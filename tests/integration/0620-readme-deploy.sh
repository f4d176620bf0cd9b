#!/bin/sh
# 0620-readme-deploy.sh - the README's deployment steps, as written: the code blocks marked
# `<!-- deploy-steps -->` in README.md ("Running jibe on a server") run in order, verbatim, with
# the root of the install redirected to a staging root: every absolute /etc, /var and /usr path
# in them is rewritten under $JIBE_TMP/root, and the few commands that need a real root or
# would change the host (make's build and install, systemd-sysusers, useradd, install -o/-g)
# are run through stand-ins on PATH that keep what they do to the staging root. Then the
# configuration the README shows (the simulator's endpoint and login substituted) passes the
# installed `jibe check-config --dump` and `--connect`, and the installed `jibe run` keeps the
# simulator in sync until converged and exits 0 on SIGTERM.
# Fails if no block is marked, if a step fails, or if the steps stop installing jibe.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"
. "$JIBE_TOP/tests/integration/lib_run.sh"
ROOT=$JIBE_TMP/root
SHIM=$JIBE_TMP/shim
R=$JIBE_TMP/sim
mkdir -p "$ROOT" "$SHIM"

# The marked blocks: the ```sh fence right after each marker, to its closing fence.
awk '
	/<!-- deploy-steps/ { mark = 1; next }
	mark && /^[ \t]*```sh[ \t]*$/ { inb = 1; mark = 0; n++; next }
	inb && /^[ \t]*```[ \t]*$/ { inb = 0; next }
	inb { sub(/^[ \t]+/, ""); print }
	mark && NF { mark = 0 }
	END { if (n == 0) exit 1 }' "$JIBE_TOP/README.md" >"$JIBE_TMP/steps.txt" ||
	fail "README.md has no code block marked <!-- deploy-steps --> before a \`\`\`sh fence"
grep -q 'make install' "$JIBE_TMP/steps.txt" || fail "the README's deployment steps no longer run make install"
# the root redirected: an absolute /etc, /var or /usr path after a blank, = or > is staged
sed "s#\([ =>]\)/\(etc\|var\|usr\)/#\1$ROOT/\2/#g" "$JIBE_TMP/steps.txt" >"$JIBE_TMP/steps.sh"

# Stand-ins. make: the build under test is already built (tests/run.sh was given it), so a
# bare `make` only checks it is there; `make install` installs that build (IB=) into the root.
REAL_MAKE=$(command -v make)
cat >"$SHIM/make" <<EOF
#!/bin/sh
set -eu
[ -x "$JIBE_BUILD/jibe" ] || { echo "make (test): $JIBE_BUILD/jibe is not built" >&2; exit 1; }
[ \$# -eq 0 ] && exit 0
exec env -u MAKEFLAGS -u MAKELEVEL "$REAL_MAKE" -s --no-print-directory -C "$JIBE_TOP" IB="$JIBE_BUILD" DESTDIR="$ROOT" "\$@"
EOF
# systemd-sysusers/useradd: the user comes from the installed sysusers.d file; not on this host
cat >"$SHIM/systemd-sysusers" <<EOF
#!/bin/sh
grep -q '^u jibe ' "$ROOT"/usr/local/lib/sysusers.d/jibe.conf || { echo "systemd-sysusers (test): no user jibe in the installed sysusers.d file" >&2; exit 1; }
echo "user jibe" >"$JIBE_TMP/user-created"
EOF
cat >"$SHIM/useradd" <<EOF
#!/bin/sh
echo "user jibe" >"$JIBE_TMP/user-created"
EOF
# install: owner and group are the test's own (no user jibe here)
cat >"$SHIM/install" <<'EOF'
#!/bin/sh
n=$#
i=0
while [ "$i" -lt "$n" ]; do
	a=$1
	shift
	i=$((i + 1))
	case $a in
	-o | -g) shift; i=$((i + 1)) ;;
	-o* | -g*) ;;
	*) set -- "$@" "$a" ;;
	esac
done
exec /usr/bin/install "$@"
EOF
chmod 755 "$SHIM"/*

echo "--- the README's deployment steps, as run:"
cat "$JIBE_TMP/steps.sh"
(cd "$JIBE_TOP" && PATH="$SHIM:$ROOT/usr/local/bin:$PATH" sh -e "$JIBE_TMP/steps.sh") \
	>"$JIBE_TMP/steps.log" 2>&1 || { cat "$JIBE_TMP/steps.log"; fail "a README deployment step failed"; }
J=$ROOT/usr/local/bin/jibe
[ -x "$J" ] || fail "the README's steps did not install jibe at /usr/local/bin/jibe"
[ "$("$J" --version)" = "$("$JIBE" --version)" ] || fail "the installed jibe is not the build's"
[ -s "$JIBE_TMP/user-created" ] || fail "the README's steps create no user jibe"
for d in etc/jibe var/lib/jibe var/log/jibe; do
	[ -d "$ROOT/$d" ] || fail "the README's steps did not create /$d"
done
[ -f "$ROOT/etc/jibe/aa-password" ] || fail "the README's steps did not create /etc/jibe/aa-password"
[ -s "$ROOT/etc/jibe/jibe.cfg" ] || fail "the README's steps did not write /etc/jibe/jibe.cfg"

# The administrator's part: the password on the first line, the README's short configuration
# (the simulator's endpoint and login; http:// is allowed for it; short intervals for a test).
"$CTGEN" init --root "$R" --seed 31 >/dev/null
"$CTGEN" history --root "$R" --seed 31 --hours 1 >/dev/null
sim_start "$R" --quiet
converged && fail "the generated history should leave the index stale"
echo s3cret >"$ROOT/etc/jibe/aa-password"
cat >"$ROOT/etc/jibe/jibe.cfg" <<EOF
access_anywhere = {
  endpoint = "$SIM_URL";
  login = "admin";
  password_file = "$ROOT/etc/jibe/aa-password";
  allow_http = true;
};
scanner = { interval_s = 2; };
$(cat "$R/ctgen/jibe-self.cfg")
syncer = { method = "auto"; window_ms = 500; };
state_dir = "$ROOT/var/lib/jibe";
log_file = "$ROOT/var/log/jibe/jibe.log";
log_format = "text";
EOF
"$J" check-config -c "$ROOT/etc/jibe/jibe.cfg" --dump >"$JIBE_TMP/dump.out" 2>&1 ||
	{ cat "$JIBE_TMP/dump.out"; fail "the installed jibe check-config --dump rejects the README's configuration"; }
grep -q 's3cret' "$JIBE_TMP/dump.out" && fail "check-config --dump shows the password"
"$J" check-config -c "$ROOT/etc/jibe/jibe.cfg" --connect >"$JIBE_TMP/connect.out" 2>&1 ||
	{ cat "$JIBE_TMP/connect.out"; fail "the installed jibe check-config --connect failed"; }
grep -q '^ok: ' "$JIBE_TMP/connect.out" || { cat "$JIBE_TMP/connect.out"; fail "check-config --connect printed no ok: line"; }

RUN_DIR=$ROOT/var/log/jibe
"$J" run -c "$ROOT/etc/jibe/jibe.cfg" >>"$RUN_DIR/jibe.out" 2>&1 &
RUN_PID=$!
on_exit '[ -z "$RUN_PID" ] || kill -KILL "$RUN_PID" 2>/dev/null || true'
wait_converged 30
run_stop
[ -s "$ROOT/var/log/jibe/jibe.log" ] || fail "jibe wrote nothing to /var/log/jibe/jibe.log"
ls "$ROOT/var/lib/jibe" | grep -q . || fail "jibe kept no state in /var/lib/jibe"
sim_stop
echo "README deploy: $(grep -c . "$JIBE_TMP/steps.txt") commands from $(grep -c 'deploy-steps' "$JIBE_TOP/README.md") marked blocks ran under the staging root; the installed jibe converged"
