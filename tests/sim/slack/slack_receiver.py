#!/usr/bin/env python3
"""slack_receiver.py - a local HTTPS stand-in for a Slack incoming webhook, for jibe's tests.

Records every POST it receives as one JSON line in --log (time, path, status answered, the
JSON body's "text"), and answers according to the first line of --mode-file, read at every
request (so a test changes the behaviour by rewriting the file):
  ok          200 "ok" (the default, also when the file is missing)
  429once:N   the next request gets 429 with Retry-After: N, later ones 200 (the file is
              rewritten to "ok" once the 429 was sent)
  500once     the next request gets 500, later ones 200
  hang        accept, read the request and never answer (until the server stops)
  404         404 "no_service" (a revoked webhook)
Listens on 127.0.0.1, port --port (0: any free port, written to --port-file), TLS with
--cert/--key. Runs until SIGTERM/SIGINT, or for --max-s seconds at most (default 600).
"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOP = threading.Event()
LOCK = threading.Lock()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--mode-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--max-s", type=float, default=600)
    a = ap.parse_args()

    def mode():
        try:
            with open(a.mode_file) as f:
                return (f.readline().strip() or "ok")
        except OSError:
            return "ok"

    def record(path, status, text):
        with LOCK, open(a.log, "a") as f:
            f.write(json.dumps({"t": time.time(), "path": path, "status": status, "text": text}) + "\n")

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            try:
                text = json.loads(body.decode("utf-8")).get("text")
            except (ValueError, AttributeError):
                text = None
            with LOCK:
                m = mode()
                if m.startswith("429once") or m == "500once":
                    with open(a.mode_file, "w") as f:
                        f.write("ok\n")
            if m == "hang":
                record(self.path, 0, text)
                while not STOP.wait(0.2):
                    pass
                return
            if m.startswith("429once"):
                status, extra, reply = 429, [("Retry-After", m.split(":", 1)[1] if ":" in m else "1")], b"rate_limited"
            elif m == "500once":
                status, extra, reply = 500, [], b"server_error"
            elif m == "404":
                status, extra, reply = 404, [], b"no_service"
            else:
                status, extra, reply = 200, [], b"ok"
            record(self.path, status, text)
            self.send_response(status)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, a.port_file)

    def stop(*_):
        STOP.set()
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    t = threading.Timer(a.max_s, stop)
    t.daemon = True
    t.start()
    srv.serve_forever(poll_interval=0.2)
    STOP.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
