#!/usr/bin/python3
"""A price API stand-in for tests: a real HTTP(S) server on 127.0.0.1 whose routes and faults are set by the test.

  price_server.py gencerts DIR
      Writes, with the openssl CLI, a test CA (ca.pem), a server certificate signed by it for 127.0.0.1/localhost
      (server.pem, server.key), and a self-signed "rogue" certificate for the same names (rogue.pem, rogue.key)
      that a client trusting only ca.pem must reject. Keys live in DIR only (a temp dir): never commit them.

  price_server.py serve [--port 0] [--cert server.pem --key server.key] [--routes routes.json]
      Listens on 127.0.0.1 (port 0: any free port) and prints "PORT <n>" on stdout once ready.

Control (same port, same scheme):
  POST /_control/routes    JSON {"<path>" or "<path>?<query>": ROUTE, ...}: adds or replaces routes
  POST /_control/reset     forget routes and the request log
  GET  /_control/requests  JSON list of {"method","path","query","headers","body"} received so far

ROUTE: {"status": 200, "body": "...", "headers": {...}, "content_type": "application/json",
        "fault": null | "hang" | "drip" | "truncate" | "huge" | "close",
        "delay_s": 0 (hang: seconds before answering; capped at 60),
        "drip_interval_s": 0.5 (drip: one byte per interval),
        "huge_bytes": 67108864 (huge: body size, sent without Content-Length)}
or {"sequence": [ROUTE, ...]}: successive requests get successive entries, the last one repeats.
A request matches "<path>?<query>" first, then "<path>"; nothing matches: 404.
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
ROUTES = {}
COUNTS = {}
REQUESTS = []
MAX_FAULT_S = 60.0


def gencerts(d):
    os.makedirs(d, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ext = os.path.join(d, "san.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=depotd test CA",
        "-keyout", os.path.join(d, "ca.key"), "-out", os.path.join(d, "ca.pem"))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", os.path.join(d, "server.key"), "-out", os.path.join(d, "server.csr"))
    run("x509", "-req", "-in", os.path.join(d, "server.csr"), "-CA", os.path.join(d, "ca.pem"),
        "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "2", "-extfile", ext,
        "-out", os.path.join(d, "server.pem"))
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", os.path.join(d, "rogue.key"), "-out", os.path.join(d, "rogue.pem"))


def pick(path, query):
    with LOCK:
        key = path + "?" + query if query else None
        name = key if key in ROUTES else path if path in ROUTES else None
        if name is None:
            return None
        r = ROUTES[name]
        if "sequence" in r:
            i = COUNTS.get(name, 0)
            COUNTS[name] = i + 1
            seq = r["sequence"]
            return seq[min(i, len(seq) - 1)]
        return r


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # close-delimited bodies, so "huge" can stream without a length

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError):
                self.request = None
                raise ConnectionAbortedError("TLS handshake failed")
            self.request.settimeout(None)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError, socket.timeout):
            pass

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="application/json", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body):
        u = urlsplit(self.path)
        with LOCK:
            REQUESTS.append({"method": self.command, "path": u.path, "query": u.query,
                             "headers": dict(self.headers.items()), "body": body.decode("utf-8", "replace")})
        return u

    def do_POST(self):
        n = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(n) if n else b""
        u = urlsplit(self.path)
        if u.path == "/_control/routes":
            with LOCK:
                for k, v in json.loads(body).items():
                    ROUTES[k] = v
                    COUNTS.pop(k, None)
            return self._send(200, "{}")
        if u.path == "/_control/reset":
            with LOCK:
                ROUTES.clear()
                COUNTS.clear()
                REQUESTS.clear()
            return self._send(200, "{}")
        self._serve(body)

    def do_GET(self):
        if urlsplit(self.path).path == "/_control/requests":
            with LOCK:
                return self._send(200, json.dumps(REQUESTS))
        self._serve(b"")

    def _serve(self, body):
        u = self._record(body)
        r = pick(u.path, u.query)
        if r is None:
            return self._send(404, '{"error":"no route"}')
        fault = r.get("fault")
        status = r.get("status", 200)
        data = r.get("body", "").encode()
        headers = r.get("headers", {})
        ctype = r.get("content_type", "application/json")
        if fault == "close":
            self.close_connection = True
            return
        if fault == "hang":
            time.sleep(min(float(r.get("delay_s", 30)), MAX_FAULT_S))
            return self._send(status, data, ctype, headers)
        if fault == "drip":
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.flush()
            interval = float(r.get("drip_interval_s", 0.5))
            deadline = time.monotonic() + MAX_FAULT_S
            for i in range(len(data)):
                if time.monotonic() > deadline:
                    break
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(interval)
            return
        if fault == "truncate":
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data) + 1000))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "huge":
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.end_headers()
            chunk = b"[" + b"0," * 32767 + b"0]"
            left = int(r.get("huge_bytes", 64 << 20))
            while left > 0:
                self.wfile.write(chunk[:left])
                left -= len(chunk)
            return
        self._send(status, data, ctype, headers)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # failed handshakes and dropped clients are what the tests provoke


def serve(argv):
    opts = {"--port": "0", "--cert": None, "--key": None, "--routes": None}
    it = iter(argv)
    for a in it:
        if a not in opts:
            sys.exit("unknown option " + a)
        opts[a] = next(it)
    if opts["--routes"]:
        with open(opts["--routes"]) as f:
            ROUTES.update(json.load(f))
    httpd = Server(("127.0.0.1", int(opts["--port"])), Handler)
    if opts["--cert"]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts["--cert"], opts["--key"])
        # Handshake in the request thread: a client that rejects the certificate must not stall the others.
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    print("PORT", httpd.server_address[1], flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "gencerts":
        gencerts(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        sys.exit(__doc__)
