#!/usr/bin/env python3
"""e2e.py - `make bench`, part 2: jibe end to end against the simulator, embedded
(`jibe run`) and distributed (jibe scan/parse/sync over a real Kafka broker), on the same
generated load in the same run.

    python3 tests/bench/e2e.py BUILD_DIR        (BENCH_MODES="embedded kafka" by default;
                                                 BENCH_METHODS="event refresh" by default: the
                                                 syncer methods; BENCH_SCAN=0 skips part 3;
                                                 BENCH_RDKAFKA="a=b c=d" passes librdkafka
                                                 properties in Kafka mode; BENCH_LATENCY=0
                                                 skips the latency runs; BENCH_KEEP=1 keeps
                                                 the work files and logs)

Prints, all measured in this run on this machine, for each mode and syncer method (event:
syncOnProviderEvent; refresh: cloud refresh of the changed folders):
 1. throughput: a generated CloudTrail history (ctgen history, same seed) synced from
    scratch: events/s and log files/s until the simulator's index equals the S3 truth;
 2. latency: single-object changes written one by one while jibe runs (scan interval
    given), from the moment the log file is visible to the moment the server got the
    object's sync call: p50 and p99;
then, per syncer method, a table of both modes side by side: resync calls, events/s to
the last resync call, and Kafka/embedded of each (the issue's targets: calls <= 1.1x,
events/s >= 0.5x);
and once (embedded):
 3. scan cost: Access Anywhere calls spent by one scan of an unchanged tree after 1,000 and
    after 100,000 processed files (it must not grow with the number of files).
Not a test: it fails only when something does not converge.
"""
import functools, gzip, json, os, random, shutil, signal, subprocess, sys, tempfile, time, urllib.request

import benchlib

B = os.path.abspath(sys.argv[1])
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KAFKA_SH = os.path.join(TOP, "deploy", "kafka", "kafka.sh")
JIBE, SIM, GEN = B + "/jibe", B + "/jibe-aa-sim", B + "/jibe-ctgen"
TMP = tempfile.mkdtemp(prefix="jibe-bench-")
print = functools.partial(print, flush=True)  # progress shows as it comes
METHOD = "event"
procs = []
results = {}  # (mode, method) -> (resync calls, events/s from start)


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def start_sim(root):
    return benchlib.start_sim(SIM, TMP, procs, root)


class Jibe:
    """jibe in one mode: `run` (one process) or the three stages over Kafka."""

    def __init__(self, mode, url, work, interval, brokers=None, prefix="jibe.", selfcfg=""):
        os.makedirs(work, exist_ok=True)
        json.dump({"endpoint": url, "login": "admin", "password": "s3cret"},
                  open(work + "/creds.json", "w"))
        os.chmod(work + "/creds.json", 0o600)
        kafka = ""
        if mode == "kafka":
            props = ", ".join('"%s"' % p for p in os.environ.get("BENCH_RDKAFKA", "").split() if p)
            kafka = ('kafka = { brokers = "%s"; topic_prefix = "%s"; partitions = 6; '
                     'replication = 1; rdkafka = [ %s ]; };\n' % (brokers, prefix, props))
        open(work + "/jibe.cfg", "w").write(
            'access_anywhere = { credentials_json = "%s/creds.json"; allow_http = true; };\n'
            'scanner = { interval_s = %d; parents_every = 1000; };\n'
            'syncer = { window_ms = 200; method = "%s"; };\n%s%s'
            'state_dir = "%s/state";\nlog_file = "%s/jibe.log";\nlog_level = "debug";\n'
            % (work, interval, METHOD, selfcfg, kafka, work, work))
        self.mode, self.cfg = mode, work + "/jibe.cfg"
        if mode == "kafka":
            # before the clock starts: the topics, and a first group request, which makes a
            # new broker create its offsets topic (a broker's first-use cost, not jibe's)
            sh(JIBE, "topics", "--create", "-c", self.cfg)
            sh(JIBE, "lag", "-c", self.cfg)

    def start(self):
        if self.mode == "kafka":
            self.ps = [subprocess.Popen([JIBE, st, "-c", self.cfg]) for st in ("scan", "parse", "sync")]
        else:
            self.ps = [subprocess.Popen([JIBE, "run", "-c", self.cfg])]
        procs.extend(self.ps)
        self.pid = self.ps[0].pid  # the scanner (or jibe run): SIGUSR1 scans now
        return self

    def stop(self):
        for p in self.ps:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=120)


def wait_equal(url, deadline_s):
    end = time.time() + deadline_s
    while not benchlib.get(url, "/sim/diff?exclude=ct-logs")["equal"]:
        if time.time() > end:
            sys.exit("bench: did not converge in %d s" % deadline_s)
        time.sleep(0.05)


def downloads(url):
    return sum(v for k, v in benchlib.get(url, "/sim/stats")["downloads"].items() if k.startswith("ct-logs/"))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def scan_calls(work, kick_pid, nscans_before):
    """Kick a scan and return the api_calls of the scan that follows."""
    log = work + "/jibe.log"
    os.kill(kick_pid, signal.SIGUSR1)
    end = time.time() + 600
    while True:
        lines = [l for l in open(log).read().splitlines() if "scan done" in l]
        if len(lines) > nscans_before:
            return int(lines[-1].split("api_calls=")[1].split()[0]), len(lines)
        if time.time() > end:
            sys.exit("bench: no scan finished")
        time.sleep(0.05)


def nscans(work):
    return sum(1 for l in open(work + "/jibe.log").read().splitlines() if "scan done" in l)


def resync_calls(st):
    # object and bucket resyncs (event method) or folder refreshes applied (refresh method);
    # the scanner's refreshes of the log bucket are not resyncs
    return (sum(st.get("sync", {}).values()) + sum(st.get("sync_buckets", {}).values())
            + sum(v for k, v in st.get("refreshes", {}).items() if not k.startswith("ct-logs/")))


def throughput_and_latency(mode, brokers=None):
    tag = mode + "-" + METHOD
    root = TMP + "/hist-" + tag
    sh(GEN, "init", "--root", root, "--seed", "5")
    sh(GEN, "history", "--root", root, "--seed", "5", "--hours", "12", "--rate", "120")
    nfiles = sum(1 for _ in open(root + "/ctgen/files.txt"))
    nevents = sum(1 for _ in open(root + "/ctgen/expected-events.jsonl"))
    sim, url = start_sim(root)
    selfcfg = open(root + "/ctgen/jibe-self.cfg").read()
    base = benchlib.get(url, "/sim/stats")
    jb = Jibe(mode, url, TMP + "/w1-" + tag, 1, brokers, "jibe.%s1." % tag.replace("-", ""), selfcfg)
    t0 = time.time()
    jb.start()
    t_first = None
    while True:
        n = downloads(url)
        if n and t_first is None:
            t_first = time.time()
        if n >= nfiles:
            break
        time.sleep(0.05)
    wait_equal(url, 600)
    t_conv = time.time() - t0
    # the index may equal the truth before every event went through (a bucket resync covers
    # a bucket's later events): the end is the last sync call, once none came for 2 s
    last, t_last = -1, time.time()
    while time.time() - t_last < 2.0:
        st = benchlib.get(url, "/sim/stats")
        n = resync_calls(st) - resync_calls(base)
        if n != last:
            last, t_last = n, time.time()
        time.sleep(0.05)
    dt = t_last - t0
    ds = t_last - t_first
    print("%s, method %s: throughput: %d log files, %d events: index equal to the truth after %.1f s; "
          "last of %d resync calls after %.1f s from start (%.0f events/s, %.0f log files/s), %.1f s "
          "from the first download (%.0f events/s); scan interval 1 s, dedup window 200 ms"
          % (mode, METHOD, nfiles, nevents, t_conv, last, dt, nevents / dt, nfiles / dt, ds,
             nevents / ds))
    results[(mode, METHOD)] = (last, nevents / dt)
    jb.stop()
    if os.environ.get("BENCH_LATENCY", "1") != "1":
        sim.send_signal(signal.SIGTERM)
        sim.wait()
        return

    # latency of single changes while running, scan interval 10 s
    # same state (directory or status topic) and topics: the history is not read again
    jb = Jibe(mode, url, TMP + "/w1-" + tag, 10, brokers, "jibe.%s1." % tag.replace("-", ""), selfcfg).start()
    time.sleep(1)
    lat = []
    day = time.strftime("%Y/%m/%d", time.gmtime())
    folder = "%s/truth/ct-logs/AWSLogs/111122223333/CloudTrail/us-east-1/%s" % (root, day)
    os.makedirs(folder, exist_ok=True)
    pending = {}
    rnd = random.Random(3)
    for i in range(40):
        key = "bench/latency-%03d.txt" % i
        obj = "%s/truth/prod-data/%s" % (root, key)
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        open(obj, "w").write("x" * (i + 1))
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        rec = {"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "PutObject",
               "eventTime": ts, "awsRegion": "us-east-1", "eventID": "lat-%d" % i,
               "recipientAccountId": "111122223333",
               "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIABENCH"},
               "requestParameters": {"bucketName": "prod-data", "key": key}}
        name = "111122223333_CloudTrail_us-east-1_%s_%016d.json.gz" % (
            time.strftime("%Y%m%dT%H%MZ", time.gmtime()), i)
        tmp = folder + "/.tmp-" + name
        open(tmp, "wb").write(gzip.compress(json.dumps({"Records": [rec]}).encode()))
        os.rename(tmp, folder + "/" + name)
        pending["prod-data/" + key] = time.time()
        end = time.time() + rnd.uniform(0.2, 0.8)
        while time.time() < end or (i == 39 and pending):
            missing = set(benchlib.get(url, "/sim/diff?bucket=prod-data").get("missing", []))
            for k in [k for k in pending if k not in missing]:
                lat.append(time.time() - pending.pop(k))
            if i == 39 and time.time() > end + 120:
                sys.exit("bench: latency changes not synced")
            time.sleep(0.02)
    print("%s, method %s: latency (file visible -> object in the index), scan interval 10 s, %d "
          "changes: p50 %.1f s, p99 %.1f s, max %.1f s"
          % (mode, METHOD, len(lat), pct(lat, 50), pct(lat, 99), max(lat)))
    jb.stop()
    sim.send_signal(signal.SIGTERM)
    sim.wait()


try:
    for mode in os.environ.get("BENCH_MODES", "embedded kafka").split():
      for METHOD in os.environ.get("BENCH_METHODS", "event refresh").split():
        if mode == "kafka":
            kd = TMP + "/kafka-" + METHOD
            sh("sh", KAFKA_SH, "fetch")
            sh("sh", KAFKA_SH, "start", kd)
            try:
                throughput_and_latency("kafka", open(kd + "/bootstrap").read().strip())
            finally:
                sh("sh", KAFKA_SH, "stop", kd)
        else:
            throughput_and_latency("embedded")
      METHOD = "event"

    for m in os.environ.get("BENCH_METHODS", "event refresh").split():
        e, k = results.get(("embedded", m)), results.get(("kafka", m))
        if not (e and k):
            continue
        print("method %s, same load, same run:" % m)
        print("  %-9s %13s %16s" % ("mode", "resync calls", "events/s"))
        print("  %-9s %13d %16.0f" % ("embedded", e[0], e[1]))
        print("  %-9s %13d %16.0f" % ("kafka", k[0], k[1]))
        print("  %-9s %12.2fx %15.2fx   (targets: calls <= 1.10x, events/s >= 0.50x)"
              % ("kafka/emb", k[0] / max(e[0], 1), k[1] / e[1]))

    if os.environ.get("BENCH_SCAN", "1") == "1":
        # 3. scan cost of an unchanged tree: 1,000 then 100,000 processed files
        root = TMP + "/flood"
        sh(GEN, "init", "--root", root, "--seed", "6")
        sh(GEN, "flood", "--root", root, "--seed", "7", "--files", "1000")
        sim, url = start_sim(root)
        jb = Jibe("embedded", url, TMP + "/w3", 3600, selfcfg=open(root + "/ctgen/jibe-self.cfg").read()).start()
        while downloads(url) < 1000:
            time.sleep(0.1)
        wait_equal(url, 300)
        time.sleep(2)  # let the done-callbacks reach the scanner state
        c1, n = scan_calls(TMP + "/w3", jb.pid, nscans(TMP + "/w3"))
        t0 = time.time()
        sh(GEN, "flood", "--root", root, "--seed", "8", "--files", "99000")
        gen_s = time.time() - t0
        n = nscans(TMP + "/w3")
        os.kill(jb.pid, signal.SIGUSR1)
        t0 = time.time()
        while downloads(url) < 100000:
            time.sleep(0.2)
        wait_equal(url, 900)
        flood_s = time.time() - t0
        time.sleep(2)
        c2, n = scan_calls(TMP + "/w3", jb.pid, nscans(TMP + "/w3"))
        print("flood: 99,000 more tiny log files processed in %.0f s (%.0f files/s; generated in %.0f s)"
              % (flood_s, 99000 / flood_s, gen_s))
        print("scan of an unchanged tree: %d Access Anywhere calls with 1,000 processed files, "
              "%d with 100,000" % (c1, c2))
        jb.stop()
        sim.send_signal(signal.SIGTERM)
        sim.wait()
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if os.environ.get("BENCH_KEEP") == "1":
        print("bench: work files (logs) kept in %s" % TMP)
    else:
        shutil.rmtree(TMP, ignore_errors=True)
