#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 server for the fetch tests and benchmark.

    faulty.py --dir DIR [--port 0] [--latency MS] [--slow MS] [--cert PEM]

Binds 127.0.0.1, prints the chosen port on the first line of stdout, then
serves files from DIR.  The first path component picks the behaviour:

    /ok/FILE         200 with the file
    /404/ANY         404
    /fail-once/FILE  500 the first time for each path, then 200
    /truncate/FILE   Content-Length of the whole file, half the body, then close
    /stall/FILE      headers and a few bytes (never all), then nothing until shutdown
    /reset/FILE      close the connection without a response (TCP reset)
    /slow/FILE       200 after an extra --slow ms (default 500)
    /etag/FILE       200 with ETag and Last-Modified; 304 when If-None-Match
                     or If-Modified-Since match
    /redirect/FILE   302 to /ok/FILE
    /loop/ANY        302 to itself, forever
    /endless/ANY     200 without a length, then zeros as fast as they go, forever
    /endless-slow/ANY  the same at about 80 KiB/s (4 KiB every 50 ms)
    /drip/ANY        200 with a length of 1 MB, then one byte a second
    /garbage/ANY     200 with an HTML error page (text/html)
    /redirect-file/FILE  302 to file:///<DIR>/FILE (never to be followed)
    /_stats          JSON {path: requests served}, this path excluded
    /_conn           JSON {"active": open connections, "peak": most at once,
                     "requests": requests in progress, "peak_requests": most at once}
                     (the /_ paths are not counted as requests)
    /_reset          clear the counters (stats and peak)

--latency MS delays every answer (the /_ paths excepted).  --cert PEM (a
certificate and its key) serves HTTPS instead.  Python stdlib only.
"""
import argparse
import email.utils
import hashlib
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

lock = threading.Lock()
counts = {}
conn = {"active": 0, "peak": 0, "requests": 0, "peak_requests": 0}
failed_once = set()
stop = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faulty/1"
    disable_nagle_algorithm = True  # headers and body go in two writes

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        with lock:
            conn["active"] += 1
            conn["peak"] = max(conn["peak"], conn["active"])

    def finish(self):
        try:
            super().finish()
        finally:
            with lock:
                conn["active"] -= 1

    def send_json(self, obj):
        body = json.dumps(obj, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_body(self, code, body, headers=()):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_file(self, name):
        path = os.path.join(self.server.root, name)
        if ".." in name.split("/") or not os.path.isfile(path):
            return None, None
        with open(path, "rb") as f:
            return f.read(), os.stat(path)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_stats":
            with lock:
                return self.send_json(dict(counts))
        if path == "/_conn":
            with lock:
                return self.send_json(dict(conn))
        if path == "/_reset":
            with lock:
                counts.clear()
                failed_once.clear()
                conn["peak"] = conn["active"]
                conn["peak_requests"] = conn["requests"]
            return self.send_json({})
        with lock:
            counts[path] = counts.get(path, 0) + 1
            conn["requests"] += 1
            conn["peak_requests"] = max(conn["peak_requests"], conn["requests"])
        try:
            if self.server.latency:
                time.sleep(self.server.latency / 1000)
            mode, _, name = path.lstrip("/").partition("/")
            handler = getattr(self, "mode_" + mode.replace("-", "_"), None)
            if handler is None:
                return self.send_body(404, b"unknown mode\n")
            handler(path, name)
        finally:
            with lock:
                conn["requests"] -= 1

    def not_found(self):
        self.send_body(404, b"not found\n")

    def mode_ok(self, path, name):
        data, _ = self.read_file(name)
        if data is None:
            return self.not_found()
        self.send_body(200, data)

    def mode_404(self, path, name):
        self.not_found()

    def mode_fail_once(self, path, name):
        with lock:
            first = path not in failed_once
            failed_once.add(path)
        if first:
            return self.send_body(500, b"try again\n")
        self.mode_ok(path, name)

    def mode_truncate(self, path, name):
        data, _ = self.read_file(name)
        if data is None:
            return self.not_found()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def mode_stall(self, path, name):
        data, _ = self.read_file(name)
        if data is None:
            return self.not_found()
        # never the whole body: a complete response would let the client
        # reuse this connection, which nobody reads any more
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data[: min(4, len(data) - 1)])
        self.wfile.flush()
        stop.wait()
        self.close_connection = True

    def mode_reset(self, path, name):
        # SO_LINGER with a zero timeout makes close() send RST, not FIN
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def mode_slow(self, path, name):
        time.sleep(self.server.slow / 1000)
        self.mode_ok(path, name)

    def mode_etag(self, path, name):
        data, st = self.read_file(name)
        if data is None:
            return self.not_found()
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        mtime = int(st.st_mtime)
        headers = [("ETag", etag), ("Last-Modified", email.utils.formatdate(mtime, usegmt=True))]
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        fresh = False
        if inm is not None:
            fresh = etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        elif ims is not None:
            try:
                fresh = mtime <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                fresh = False
        if fresh:
            self.send_response(304)
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            return
        self.send_body(200, data, headers)

    def mode_redirect(self, path, name):
        self.send_body(302, b"", [("Location", "/ok/" + name)])

    def mode_loop(self, path, name):
        self.send_body(302, b"", [("Location", path)])

    def stream(self, chunk, pause, length=None):
        """Send 200, then chunk every pause seconds until shutdown or the client leaves."""
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            while not stop.is_set():
                self.wfile.write(chunk)
                self.wfile.flush()
                if pause:
                    stop.wait(pause)
        except OSError:
            pass

    def mode_endless(self, path, name):
        self.stream(b"\0" * 65536, 0)

    def mode_endless_slow(self, path, name):
        self.stream(b"\0" * 4096, 0.05)

    def mode_drip(self, path, name):
        self.stream(b"x", 1.0, length=1000000)

    def mode_garbage(self, path, name):
        body = b"<!DOCTYPE html>\n<html><body><h1>Service Unavailable</h1></body></html>\n"
        self.send_body(200, body, [("Content-Type", "text/html")])

    def mode_redirect_file(self, path, name):
        target = "file://" + os.path.join(self.server.root, name)
        self.send_body(302, b"", [("Location", target)])


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--latency", type=int, default=0, help="ms added to every request")
    ap.add_argument("--slow", type=int, default=500, help="ms added to /slow/ requests")
    ap.add_argument("--cert", help="serve HTTPS with this certificate and key (PEM)")
    args = ap.parse_args()

    srv = Server(("127.0.0.1", args.port), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.root = os.path.abspath(args.dir)
    srv.latency = args.latency
    srv.slow = args.slow
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        srv.server_close()


if __name__ == "__main__":
    sys.exit(main())
