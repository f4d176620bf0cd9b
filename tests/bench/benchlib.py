"""benchlib.py - what the end-to-end benches (e2e.py, metrics.py) share: starting the
simulator on a free port and reading its JSON answers."""
import json, os, subprocess, sys, time, urllib.request


def start_sim(sim, tmp, procs, root):
    """Start the simulator SIM over ROOT (its log in TMP/sim.log), add it to PROCS (the
    caller stops them) and return (process, base URL) once it listens (deadline 20 s)."""
    pf = os.path.join(tmp, "port-%d" % len(procs))
    p = subprocess.Popen([sim, "--root", root, "--port", "0", "--port-file", pf, "--quiet"],
                         stderr=open(os.path.join(tmp, "sim.log"), "ab"))
    procs.append(p)
    end = time.time() + 20
    while not (os.path.exists(pf) and os.path.getsize(pf)):
        if time.time() > end:
            sys.exit("bench: simulator did not start")
        time.sleep(0.05)
    return p, "http://127.0.0.1:%s" % open(pf).read().strip()


def get(url, path):
    """The JSON answer of GET URL+PATH."""
    with urllib.request.urlopen(url + path, timeout=120) as r:
        return json.load(r)
