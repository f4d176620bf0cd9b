#!/usr/bin/env python3
"""naa_flow.py - drive jibe-aa-sim through the public Python client's flow (login by
password, listings, checkPathExists, asynchronous refresh, multipart upload, GET download,
failed and cut downloads, deletes, background tasks, one-element lists as objects), with
the Python standard library only (urllib), written from tests/sim/aasim/PROTOCOL.md.

usage: naa_flow.py --url http://127.0.0.1:PORT --truth DIR/truth [--login L --password P]

Every step asserts its outcome; the first failure prints "FAIL: <step>: <why>" and exits 1.
The simulator's /sim/faults and /sim/fullsync endpoints set up the failure cases.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

STEP = "start"


def fail(why):
    print(f"FAIL: {STEP}: {why}", file=sys.stderr)
    sys.exit(1)


def check(cond, why):
    if not cond:
        fail(why)


def step(name):
    global STEP
    STEP = name
    print(f"-- {name}")


def as_list(v):
    """A one-element list may arrive as the element itself."""
    if v is None:
        return []
    return [v] if isinstance(v, dict) else list(v)


class ApiError(Exception):
    def __init__(self, function, status, message):
        super().__init__(f"{function}: {status}: {message}")
        self.status = status


class Client:
    def __init__(self, url):
        self.url = url.rstrip("/")
        self.token = "*"

    def rpc(self, function, **fields):
        body = {"function": function, "token": self.token, "apiformat": "json"}
        body.update({k: "" if v is None else str(v) for k, v in fields.items()})
        data = urllib.parse.urlencode(body).encode()
        req = urllib.request.Request(f"{self.url}/api/rpc.php", data=data, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.urlopen(req, timeout=60) as resp:
            text = resp.read()
        try:
            j = json.loads(text)
        except ValueError:
            fail(f"{function}: not JSON: {text[:200]!r}")
        if j.get("status") != "ok":
            raise ApiError(function, j.get("status"), j.get("statusmessage"))
        return j

    def login(self, user, password):
        j = self.rpc("gettoken", us_login=user, us_pwd=password)
        self.token = j["token"]
        return j

    def list_folder(self, fi_pid, **extra):
        fields = dict(fi_pid=fi_pid, **{"from": 0}, count=0, fi_type="", showpath="y")
        fields.update(extra)
        return self.rpc("getFolderContents", **fields)

    def names(self, fi_pid):
        return sorted(i["fi_name"] for i in as_list(self.list_folder(fi_pid)["filelist"]))

    def path_id(self, path, pid=0):
        j = self.rpc("checkPathExists", path=path, pid=pid, options="")
        return j["file"]["fi_id"] if j.get("exists") == "y" else None

    def refresh(self, fi_pid, poll=0.05, limit=20.0):
        """Start a background refresh and wait for it; returns (token, polls while syncing,
        the listings seen while it was still syncing)."""
        fields = {"refresh": "y", "refreshtype": "a", "count": 1, "options": "basic_fields"}
        deadline = time.monotonic() + limit
        token = ""
        while not token:
            check(time.monotonic() < deadline, "no refresh token")
            j = self.list_folder(fi_pid, **fields)
            token = (j.get("refreshresult") or {}).get("token", "")
            if not token:
                time.sleep(poll)
        fields["refreshtoken"] = token
        fields["count"] = 0
        syncing, seen = 0, []
        while True:
            check(time.monotonic() < deadline, "refresh never finished")
            time.sleep(poll)
            j = self.list_folder(fi_pid, **fields)
            if j.get("stillsyncing"):
                syncing += 1
                seen.append(sorted(i["fi_name"] for i in as_list(j["filelist"])))
                continue
            return token, syncing, seen

    def upload(self, fi_pid, name, data):
        init = self.rpc("doInitUpload", fi_name=name, fi_filename=name, fi_pid=fi_pid,
                        fi_size=len(data), responsetype="json")
        code = init.get("uploadcode")
        check(code, f"doInitUpload gave no uploadcode: {init}")
        boundary = "naa-flow-" + hashlib.md5(os.urandom(16)).hexdigest()
        head = (f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="datafile"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        body = head + data + f"\r\n--{boundary}--\r\n".encode()
        req = urllib.request.Request(f"{self.url}/cgi-bin/uploader/uploader1.cgi?{code}",
                                     data=body, method="POST")
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        with urllib.request.urlopen(req, timeout=60) as resp:
            up = json.loads(resp.read())
        check(up.get("success") == "y", f"uploader: {up}")
        done = self.rpc("doCompleteUpload", uploadcode=code, fi_size=len(data))
        check(done.get("file", {}).get("fi_id"), f"doCompleteUpload gave no file: {done}")
        return up, done

    def download(self, fi_id):
        """GET getfile. Returns (bytes, Content-Length or None) or raises RuntimeError with
        the decoded error headers, or for a body shorter than Content-Length."""
        q = urllib.parse.urlencode({"token": self.token, "function": "getfile", "fi_id": fi_id})
        try:
            resp = urllib.request.urlopen(f"{self.url}/api/rpc.php?{q}", timeout=60)
        except urllib.error.HTTPError as e:
            resp = e
        with resp:
            h = resp.headers
            err = h.get("X-NAA-DOWNLOAD-ERROR") or h.get("X-SME-DOWNLOAD-ERROR")
            if resp.status // 100 != 2 or err:
                parts = [f"http {resp.status}"]
                if err:
                    parts.append(base64.b64decode(err).decode("utf-8", "replace"))
                st = h.get("X-NAA-DOWNLOAD-ERROR-STATUS") or h.get("X-SME-DOWNLOAD-ERROR-STATUS")
                if st:
                    parts.append(f"status={st}")
                perr = h.get("X-PROVIDER-DOWNLOAD-ERROR")
                if perr:
                    parts.append("provider: " + base64.b64decode(perr).decode("utf-8", "replace"))
                if h.get("X-PROVIDER-DOWNLOAD-ERROR-CODE"):
                    parts.append(f"provider_code={h['X-PROVIDER-DOWNLOAD-ERROR-CODE']}")
                raise RuntimeError("download failed: " + "; ".join(parts))
            length = h.get("Content-Length")
            got = bytearray()
            try:
                while True:
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    got += chunk
            except http.client.IncompleteRead as e:
                got += e.partial
            except (ConnectionError, OSError):
                pass
        if length is not None and len(got) != int(length):
            raise RuntimeError(f"incomplete download: expected {length} bytes, got {len(got)}")
        return bytes(got), length

    def tasks(self, **fields):
        return self.rpc("getUserBackgroundTasks", **fields)


def sim_post(url, path, **fields):
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{url}{path}", data=data,
                                                       method="POST"), timeout=60) as r:
        return json.loads(r.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--login", default="admin")
    ap.add_argument("--password", default="s3cret")
    a = ap.parse_args()
    c = Client(a.url)
    faults = lambda **f: sim_post(a.url, "/sim/faults", **f)

    step("getToken with a wrong password fails")
    try:
        c.login(a.login, a.password + "x")
        fail("a wrong password gave a session")
    except ApiError as e:
        check(e.status == "login_failed", f"status {e.status}")
    check(c.token == "*", "token changed after a failed login")

    step("getToken by password")
    j = c.login(a.login, a.password)
    check(len(c.token) == 32 and len(j.get("lastlogin", "")) == 19, f"answer {j}")

    step("root listing")
    root = as_list(c.list_folder(0)["filelist"])
    check([i["fi_name"] for i in root] == ["S3 Prod"], f"root: {root}")
    check(root[0]["fi_type"] == "1" and root[0]["isbucket"] == "n", f"provider item {root[0]}")
    prov = as_list(c.list_folder(root[0]["fi_id"])["filelist"])
    check(all(i["isbucket"] == "y" for i in prov), f"buckets {prov}")

    step("checkPathExists")
    bucket = c.path_id("S3 Prod/prod-data")
    docs = c.path_id("S3 Prod/prod-data/docs")
    check(bucket and docs, "prod-data or docs missing")
    check(c.path_id("docs/readme.txt", bucket), "docs/readme.txt relative to the bucket")
    check(c.path_id("S3 Prod/prod-data/nope.txt") is None, "a missing path exists")

    step("asynchronous refresh: a file added to the truth shows only once done")
    before = c.names(docs)
    check(before == ["readme.txt"], f"docs before {before}")
    with open(os.path.join(a.truth, "prod-data", "docs", ".tmp-fresh"), "w") as f:
        f.write("fresh from S3")
    os.rename(os.path.join(a.truth, "prod-data", "docs", ".tmp-fresh"),
              os.path.join(a.truth, "prod-data", "docs", "fresh.txt"))
    check(c.names(docs) == before, "the listing changed without a refresh")
    faults(refresh_ms=1000)
    token, syncing, seen = c.refresh(docs)
    check(len(token) == 32, f"token {token!r}")
    check(syncing >= 1, "never saw stillsyncing (refresh_ms=1000)")
    check(all(s == before for s in seen), f"listing changed while syncing: {seen}")
    check(c.names(docs) == ["fresh.txt", "readme.txt"], f"after the refresh: {c.names(docs)}")
    faults(refresh_ms=150)

    step("multipart upload (datafile)")
    data = os.urandom(70001) + b"end"
    up, done = c.upload(docs, "uploaded.bin", data)
    check(up["md5"] == hashlib.md5(data).hexdigest(), f"md5 {up}")
    check(int(up["filesize"]) == len(data), f"filesize {up}")
    check(done["file"]["fi_name"] == "uploaded.bin" and int(done["file"]["fi_size"]) == len(data),
          f"file {done['file']}")
    with open(os.path.join(a.truth, "prod-data", "docs", "uploaded.bin"), "rb") as f:
        check(f.read() == data, "the truth does not hold the uploaded bytes")
    up_id = done["file"]["fi_id"]

    step("GET getfile downloads byte for byte")
    got, length = c.download(up_id)
    check(got == data and int(length) == len(data), f"{len(got)} bytes, Content-Length {length}")

    step("a failed download (X-NAA-DOWNLOAD-ERROR)")
    faults(download_error_rate=1)
    try:
        c.download(up_id)
        fail("download_error_rate=1 gave the file")
    except RuntimeError as e:
        msg = str(e)
        check("Download failed" in msg and "status=" in msg and "provider: " in msg and
              "provider_code=" in msg, f"error {msg}")
    faults(download_error_rate=0)

    step("a cut download is detected by Content-Length")
    faults(download_cut_rate=1)
    try:
        c.download(up_id)
        fail("a cut download passed")
    except RuntimeError as e:
        check(f"expected {len(data)} bytes, got {len(data) // 2}" in str(e), str(e))
    faults(download_cut_rate=0)
    got, _ = c.download(up_id)
    check(got == data, "download after the faults")

    step("delete a file")
    j = c.rpc("doDeleteFile", fi_id=up_id)
    check(up_id in as_list(j.get("deleted")) and j.get("backgroundtask") in (0, "0"), f"answer {j}")
    check(not os.path.exists(os.path.join(a.truth, "prod-data", "docs", "uploaded.bin")),
          "the object is still in the truth")
    check(c.path_id("uploaded.bin", docs) is None, "the file is still in the index")

    step("delete a folder")
    folder = c.rpc("doCreateNewFolder", fi_name="tmp folder", fi_pid=bucket)["file"]
    check(os.path.isdir(os.path.join(a.truth, "prod-data", "tmp folder")), "folder not in the truth")
    c.upload(folder["fi_id"], "inner.txt", b"inner")
    j = c.rpc("doDeleteFolder", fi_id=folder["fi_id"])
    check(folder["fi_id"] in as_list(j.get("deleted")), f"answer {j}")
    check(not os.path.exists(os.path.join(a.truth, "prod-data", "tmp folder")),
          "the folder is still in the truth")
    check(c.path_id("tmp folder", bucket) is None, "the folder is still in the index")

    step("background tasks (Python shape): no active sync, the latest completed one")
    j = c.tasks(statusfilter="a,w,p", typefilter="sync", limit=1)
    check("response" in j and int(j["response"]["total"]) == 0, f"active syncs {j}")
    old = {t["bt_id"] for t in as_list(c.tasks(statusfilter="completed", typefilter="sync")
                                       ["response"]["tasks"])}
    check(len(old) == 1, f"completed syncs before the full sync: {old}")
    sim_post(a.url, "/sim/fullsync?provider=101")
    j = c.tasks(statusfilter="completed", typefilter="sync", limit=1000)
    done_tasks = as_list(j["response"]["tasks"])
    check(int(j["response"]["total"]) == len(done_tasks) == 2, f"completed syncs {j}")
    check(all(t["bt_type"] == "sync" and t["bt_status"] == "completed" and
              t["callback"] in ("ReSync", "InitialSync") and t["bt_data"]["pi_id"] == "101"
              for t in done_tasks), f"tasks {done_tasks}")
    latest = max(done_tasks, key=lambda t: t["bt_completed"])
    check(latest["bt_id"] not in old, f"the latest completed sync is not the new one: {latest}")
    check(c.tasks(typefilter="custom")["response"]["total"] == "0", "custom tasks listed")

    step("a task by bt_id (Python shape) and by taskid (rclone shape)")
    j = c.tasks(bt_id=latest["bt_id"])
    t = [x for x in as_list(j["response"]["tasks"]) if str(x["bt_id"]) == str(latest["bt_id"])]
    check(len(t) == 1 and t[0]["bt_status"].lower() == "completed", f"bt_id {j}")
    j = c.tasks(taskid=latest["bt_id"])
    check("response" not in j and j["total"] == "1" and as_list(j["tasks"])[0]["bt_status"] == "c",
          f"taskid {j}")
    j = c.tasks(taskid="no-such-task")
    check(as_list(j["tasks"]) == [], f"unknown taskid {j}")

    step("one-element lists as objects")
    faults(single_object=1)
    j = c.list_folder(0)
    check(isinstance(j["filelist"], dict) and as_list(j["filelist"])[0]["fi_name"] == "S3 Prod",
          f"filelist {j['filelist']!r}")
    j = c.tasks(bt_id=latest["bt_id"])
    check(isinstance(j["response"]["tasks"], dict) and
          as_list(j["response"]["tasks"])[0]["bt_id"] == latest["bt_id"], f"tasks {j}")
    check(c.names(docs) == ["fresh.txt", "readme.txt"], "a two-element list")
    faults(single_object=0)
    print("naa_flow: all steps passed")


if __name__ == "__main__":
    try:
        main()
    except (ApiError, urllib.error.URLError, OSError, KeyError, ValueError) as e:
        fail(f"{type(e).__name__}: {e}")
