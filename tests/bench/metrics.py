#!/usr/bin/env python3
"""metrics.py - `make bench`, part 4: what metrics.listen costs. The same generated
CloudTrail history is synced from scratch by `jibe run` with metrics off and on (scraped
every second while on), in interleaved rounds of the same run, on this machine:

    python3 tests/bench/metrics.py BUILD_DIR     (BENCH_METRICS_ROUNDS=3 rounds of each,
                                                  BENCH_METRICS_HOURS=6 hours of history at
                                                  BENCH_METRICS_RATE=600 actions a minute)

Prints per setting the medians of: parser throughput (log files/s and MB/s from the first
download to the last), end to end (events/s from start to the last resync call), and the
process's peak RSS. Not a test: it fails only when something does not converge.
"""
import functools, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

import benchlib

B = os.path.abspath(sys.argv[1])
JIBE, SIM, GEN = B + "/jibe", B + "/jibe-aa-sim", B + "/jibe-ctgen"
TMP = tempfile.mkdtemp(prefix="jibe-bench-metrics-")
ROUNDS = int(os.environ.get("BENCH_METRICS_ROUNDS", "3"))
HOURS = os.environ.get("BENCH_METRICS_HOURS", "6")
print = functools.partial(print, flush=True)
procs = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_sim(root):
    return benchlib.start_sim(SIM, TMP, procs, root)


def resyncs(st):
    return sum(st.get("sync", {}).values()) + sum(st.get("sync_buckets", {}).values())


def peak_rss_kb(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def one_round(root, nfiles, nbytes, nevents, on, k):
    sim, url = start_sim(root)
    work = "%s/w-%s-%d" % (TMP, "on" if on else "off", k)
    os.makedirs(work)
    json.dump({"endpoint": url, "login": "admin", "password": "s3cret"}, open(work + "/creds.json", "w"))
    os.chmod(work + "/creds.json", 0o600)
    port = free_port()
    open(work + "/jibe.cfg", "w").write(
        'access_anywhere = { credentials_json = "%s/creds.json"; allow_http = true; };\n'
        'scanner = { interval_s = 1; parents_every = 1000; };\n'
        'syncer = { window_ms = 200; };\n%s%s'
        'state_dir = "%s/state";\nlog_file = "%s/jibe.log";\n'
        % (work, open(root + "/ctgen/jibe-self.cfg").read(),
           'metrics = { listen = "127.0.0.1:%d"; };\n' % port if on else "", work, work))
    t0 = time.time()
    p = subprocess.Popen([JIBE, "run", "-c", work + "/jibe.cfg"])
    procs.append(p)
    stop = threading.Event()
    scrapes = [0]

    def scraper():
        while not stop.wait(1.0):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
                    r.read()
                    scrapes[0] += 1
            except OSError:
                pass

    th = threading.Thread(target=scraper)
    if on:
        th.start()
    t_first = None
    rss = 0
    while True:
        n = sum(v for f, v in benchlib.get(url, "/sim/stats")["downloads"].items() if f.startswith("ct-logs/"))
        if n and t_first is None:
            t_first = time.time()
        if n >= nfiles:
            t_dl = time.time()
            break
        rss = max(rss, peak_rss_kb(p.pid))
        if time.time() - t0 > 900:
            sys.exit("bench: not all files downloaded in 900 s")
        time.sleep(0.02)
    end = time.time() + 600
    while not benchlib.get(url, "/sim/diff?exclude=ct-logs")["equal"]:
        if time.time() > end:
            sys.exit("bench: did not converge")
        time.sleep(0.05)
    last, t_last = -1, time.time()
    while time.time() - t_last < 2.0:
        n = resyncs(benchlib.get(url, "/sim/stats"))
        if n != last:
            last, t_last = n, time.time()
        time.sleep(0.05)
    rss = max(rss, peak_rss_kb(p.pid))
    stop.set()
    if on:
        th.join()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=120)
    sim.send_signal(signal.SIGTERM)
    sim.wait()
    dl_s = max(t_dl - t_first, 1e-3)
    return {"files_s": nfiles / dl_s, "mb_s": nbytes / dl_s / 1e6, "events_s": nevents / (t_last - t0),
            "rss_mb": rss / 1024.0, "scrapes": scrapes[0]}


try:
    root = TMP + "/hist"
    subprocess.run([GEN, "init", "--root", root, "--seed", "5"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([GEN, "history", "--root", root, "--seed", "5", "--hours", HOURS, "--rate", os.environ.get("BENCH_METRICS_RATE", "600")],
                   check=True, stdout=subprocess.DEVNULL)
    files = [l.strip() for l in open(root + "/ctgen/files.txt") if l.strip()]
    nbytes = sum(os.path.getsize(root + "/truth/ct-logs/" + f) for f in files)
    nevents = sum(1 for _ in open(root + "/ctgen/expected-events.jsonl"))
    pristine = TMP + "/pristine"
    shutil.copytree(root, pristine, symlinks=True)
    res = {False: [], True: []}
    for k in range(ROUNDS):
        for on in (False, True):
            shutil.rmtree(root)
            shutil.copytree(pristine, root, symlinks=True)  # the index starts stale again
            res[on].append(one_round(root, len(files), nbytes, nevents, on, k))
    print("metrics cost: jibe run syncing %d log files (%.1f MB), %d events from scratch; %d rounds "
          "each, interleaved; medians (min-max)" % (len(files), nbytes / 1e6, nevents, ROUNDS))
    print("  %-44s %-22s %-22s %-22s %s" % ("", "parser files/s", "parser MB/s", "end to end events/s",
                                            "peak RSS MB"))
    for on in (False, True):
        r = res[on]
        cols = []
        for key in ("files_s", "mb_s", "events_s", "rss_mb"):
            v = [x[key] for x in r]
            cols.append("%.1f (%.1f-%.1f)" % (statistics.median(v), min(v), max(v)))
        label = ("metrics on, scraped every 1 s (%d scrapes)" % sum(x["scrapes"] for x in r)) if on \
            else "metrics off"
        print("  %-44s %-22s %-22s %-22s %s" % (label, cols[0], cols[1], cols[2], cols[3]))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)
