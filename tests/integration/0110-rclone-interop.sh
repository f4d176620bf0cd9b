#!/bin/sh
# 0110-rclone-interop.sh - Debian's rclone (backend filefabric, the public client of Access
# Anywhere) talks to jibe-aa-sim: lists the root, a bucket and a nested folder, downloads
# files byte for byte, uploads one (it lands in the truth and the index) and sees it listed,
# makes folders (mkdir), deletes a file (deletefile), an empty folder (rmdir) and a full one
# (purge), checking the truth and the index (/sim/diff) after each.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"

command -v rclone >/dev/null || fail "rclone is not installed (make deps)"
R=$JIBE_TMP/root
T=$R/truth
sim_make_root "$R"
mkdir -p "$T/prod-data/reports/2026/q4" "$T/prod-media/img"
printf 'hello from the truth\n' >"$T/prod-data/reports/2026/q4/summary.txt"
head -c 1500000 /dev/urandom >"$T/prod-media/img/big.bin"
printf 'x' >"$T/prod-data/space name+plus.txt"

sim_start "$R"
export HOME="$JIBE_TMP" XDG_CONFIG_HOME="$JIBE_TMP/.config" XDG_CACHE_HOME="$JIBE_TMP/.cache"
REMOTE=":filefabric,url='$SIM_URL',permanent_token=PERMANENT-TOKEN-1:"
rc() {
	rclone --config /dev/null --retries 1 --low-level-retries 2 "$@" 2>>"$JIBE_TMP/rclone.log"
}

out=$(rc lsf "$REMOTE") || fail "rclone lsf of the root"
[ "$out" = "S3 Prod/" ] || fail "root listing: '$out'"
out=$(rc lsf "${REMOTE}S3 Prod") || fail "rclone lsf of the provider"
[ "$out" = "ct-logs/
prod-data/
prod-media/" ] || fail "provider listing: '$out'"
out=$(rc lsf "${REMOTE}S3 Prod/prod-data") || fail "rclone lsf of a bucket"
[ "$out" = "reports/
space name+plus.txt" ] || fail "bucket listing: '$out'"
out=$(rc lsf "${REMOTE}S3 Prod/prod-data/reports/2026/q4") || fail "rclone lsf of a nested folder"
[ "$out" = "summary.txt" ] || fail "nested listing: '$out'"
out=$(rc lsf -R "${REMOTE}S3 Prod/prod-media") || fail "rclone lsf -R"
[ "$out" = "img/
img/big.bin" ] || fail "recursive listing: '$out'"

out=$(rc cat "${REMOTE}S3 Prod/prod-data/reports/2026/q4/summary.txt") || fail "rclone cat"
[ "$out" = "hello from the truth" ] || fail "rclone cat gave '$out'"
rc copy "${REMOTE}S3 Prod/prod-media/img" "$JIBE_TMP/down" || fail "rclone copy (download)"
cmp -s "$JIBE_TMP/down/big.bin" "$T/prod-media/img/big.bin" || fail "downloaded bytes differ"

head -c 777777 /dev/urandom >"$JIBE_TMP/up.bin"
rc copyto "$JIBE_TMP/up.bin" "${REMOTE}S3 Prod/prod-data/incoming/new dir/up.bin" || fail "rclone copyto (upload)"
cmp -s "$JIBE_TMP/up.bin" "$T/prod-data/incoming/new dir/up.bin" || fail "uploaded bytes are not in the truth"
out=$(rc lsl "${REMOTE}S3 Prod/prod-data/incoming") || fail "listing the upload"
case "$out" in *"777777 "*"new dir/up.bin"*) ;; *) fail "upload not listed: '$out'" ;; esac
sim_get /sim/diff | json_check 'j["equal"]' "index and truth after the upload"
printf 'small' >"$JIBE_TMP/small.txt"
rc copyto "$JIBE_TMP/small.txt" "${REMOTE}S3 Prod/prod-data/small.txt" || fail "rclone copyto (small upload)"
out=$(rc cat "${REMOTE}S3 Prod/prod-data/small.txt") || fail "rclone cat of the upload"
[ "$out" = small ] || fail "uploaded small.txt reads back as '$out'"
rc check --size-only --one-way "$JIBE_TMP/down" "${REMOTE}S3 Prod/prod-media/img" || fail "rclone check --size-only"
sim_get /sim/stats | json_check 'j["calls"]["doCompleteUpload"]==2 and j["calls"]["uploader"]==2 and j["downloads"]["prod-media/img/big.bin"]==1 and j["downloads"]["prod-data/small.txt"]==1' "stats after rclone"

# ---- mkdir: a nested folder lands in the truth and the index
rc mkdir "${REMOTE}S3 Prod/prod-data/made/by rclone" || fail "rclone mkdir"
[ -d "$T/prod-data/made/by rclone" ] || fail "rclone mkdir did not create the folder in the truth"
out=$(rc lsf "${REMOTE}S3 Prod/prod-data/made") || fail "listing the new folder"
[ "$out" = "by rclone/" ] || fail "mkdir listing: '$out'"
sim_rpc_id() { # path below the root -> fi_id ("" when absent)
	SIM_TOKEN=$(sim_rpc getToken us_login=admin us_pwd=s3cret | json_get 'j["token"]')
	sim_rpc checkPathExists pid=0 "path=$1" | json_get 'j["file"]["fi_id"] if j["exists"]=="y" else ""'
}
[ -n "$(sim_rpc_id "S3 Prod/prod-data/made/by rclone")" ] || fail "the new folder is not in the index"
sim_get /sim/diff | json_check 'j["equal"]' "index and truth after mkdir"

# ---- deletefile: the object leaves the truth and the index
rc deletefile "${REMOTE}S3 Prod/prod-data/small.txt" || fail "rclone deletefile"
[ -e "$T/prod-data/small.txt" ] && fail "rclone deletefile left the object in the truth"
[ -z "$(sim_rpc_id "S3 Prod/prod-data/small.txt")" ] || fail "the deleted file is still in the index"
out=$(rc lsf "${REMOTE}S3 Prod/prod-data") || fail "listing after deletefile"
case "$out" in *small.txt*) fail "deleted file still listed: '$out'" ;; esac
sim_get /sim/diff | json_check 'j["equal"]' "index and truth after deletefile"

# ---- rmdir: an empty folder goes; a folder with files is refused and stays
rc rmdir "${REMOTE}S3 Prod/prod-data/made/by rclone" || fail "rclone rmdir of an empty folder"
[ -e "$T/prod-data/made/by rclone" ] && fail "rclone rmdir left the folder in the truth"
[ -z "$(sim_rpc_id "S3 Prod/prod-data/made/by rclone")" ] || fail "the removed folder is still in the index"
rc rmdir "${REMOTE}S3 Prod/prod-data/incoming" && fail "rclone rmdir removed a folder with files"
[ -f "$T/prod-data/incoming/new dir/up.bin" ] || fail "a refused rmdir removed data"
sim_get /sim/diff | json_check 'j["equal"]' "index and truth after rmdir"

# ---- purge: a folder with subfolders and files goes at once (doDeleteFolder)
rc purge "${REMOTE}S3 Prod/prod-data/incoming" || fail "rclone purge"
[ -e "$T/prod-data/incoming" ] && fail "rclone purge left the folder in the truth"
[ -z "$(sim_rpc_id "S3 Prod/prod-data/incoming")" ] || fail "the purged folder is still in the index"
out=$(rc lsf "${REMOTE}S3 Prod/prod-data") || fail "listing after purge"
[ "$out" = "made/
reports/
space name+plus.txt" ] || fail "bucket after purge: '$out'"
sim_get /sim/diff | json_check 'j["equal"]' "index and truth after purge"
sim_get /sim/stats | json_check 'j["calls"]["doDeleteFile"]==1 and j["calls"]["doDeleteFolder"]==2 and j["calls"]["doCreateNewFolder"]>=4' "stats after the deletes"

sim_stop
echo "PASS"
