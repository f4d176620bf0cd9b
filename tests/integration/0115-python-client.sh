#!/bin/sh
# 0115-python-client.sh - the public Python client's flow against jibe-aa-sim, by
# naa_flow.py (standard library only): getToken by password, root listing, checkPathExists,
# asynchronous refresh until done, multipart upload, GET download, failed and cut downloads,
# deletes, background tasks in both shapes, one-element lists as objects. Then the index
# equals the truth and the simulator stops cleanly.
set -eu
. "$JIBE_TOP/tests/integration/lib.sh"

R=$JIBE_TMP/root
T=$R/truth
sim_make_root "$R"
mkdir -p "$T/prod-data/docs"
printf 'read me\n' >"$T/prod-data/docs/readme.txt"

sim_start "$R"
python3 "$JIBE_TOP/tests/integration/naa_flow.py" --url "$SIM_URL" --truth "$T" ||
	fail "naa_flow.py (the Python client's flow)"
sim_get /sim/diff | json_check 'j["equal"]' "index and truth after the Python flow"
sim_get /sim/stats | json_check 'j["calls"]["getToken"]==2 and j["calls"]["doCompleteUpload"]==2 and j["calls"]["uploader"]==2 and j["refreshes"]=={"prod-data/docs/":1} and j["download_errors_injected"]==1 and j["download_cuts_injected"]==1' "stats after the Python flow"
sim_post /sim/faults | json_check 'j["single_object"]==0 and j["download_error_rate"]==0 and j["download_cut_rate"]==0' "faults reset by the flow"
sim_stop
echo "PASS"
