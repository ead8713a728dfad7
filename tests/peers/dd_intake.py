#!/usr/bin/env python3
"""A local stand-in for Datadog's HTTP v2 log intake, for nocbox's end-to-end tests.

Checks the wire format as strictly as Datadog documents it and records what arrives:

    dd_intake.py --cert server.pem --key server.key --port 0 --out DIR [--api-key KEY]
                 [--bind 127.0.0.1] [--max-seconds 600]

Prints `LISTENING <port>` on stdout once ready. For each `POST /api/v2/logs`:
  - `DD-API-KEY` missing, or different from --api-key when given      -> 403
  - `Content-Type` not application/json                              -> 400
  - `Content-Encoding` not gzip (missing included), or not gunzippable -> 400
  - body not a JSON array, or an entry without `message`              -> 400
  - more than 1000 entries or more than 5,000,000 bytes uncompressed  -> 413
  - otherwise every entry is appended to DIR/logs.jsonl and 202 `{}` is answered.
Every request (accepted or not) adds one line to DIR/requests.jsonl:
  {"time", "method", "path", "entries", "bytes", "gzip_bytes", "status", "error", "headers"}
with header names lower-cased and the API key's value replaced by "<redacted>".

Fault injection: when DIR/mode holds a status code (503, 429, 500, 400, 413, 401, ...), every
POST is answered with that code and nothing is recorded in logs.jsonl (requests.jsonl still gets
the line). Delete or empty the file to go back to normal.

Without --cert/--key it serves plain HTTP. It binds loopback only (peerguard.py's rule: a lab
address is accepted only inside a lab namespace) and exits by itself after --max-seconds.
Standard library only (Python 3.11).
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True  # keep this folder free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peerguard import checked  # noqa: E402

MAX_ENTRIES = 1000
MAX_BYTES = 5_000_000
# A compressed body larger than this is refused unread (and the connection closed).
MAX_WIRE_BYTES = 64 * 1024 * 1024
LOGS_PATH = "/api/v2/logs"


class Reject(Exception):
    def __init__(self, status, error):
        super().__init__(error)
        self.status = status
        self.error = error


class Store:
    """Appends to the output files; one lock so lines from parallel requests never interleave."""

    def __init__(self, out_dir):
        self.dir = out_dir
        self.lock = threading.Lock()

    def forced_status(self):
        try:
            with open(os.path.join(self.dir, "mode"), encoding="utf-8") as f:
                text = f.read().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() and 100 <= int(text) <= 599 else None

    def record(self, request_line, entries):
        with self.lock:
            if entries:
                with open(os.path.join(self.dir, "logs.jsonl"), "a", encoding="utf-8") as f:
                    for e in entries:
                        f.write(json.dumps(e, separators=(",", ":")) + "\n")
            with open(os.path.join(self.dir, "requests.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(request_line, separators=(",", ":")) + "\n")


def gunzip_limited(data):
    """Decompresses gzip data (all members), refusing (413) more than MAX_BYTES of output."""
    out = bytearray()
    rest = data
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += d.decompress(rest, MAX_BYTES + 1 - len(out))
        except zlib.error as e:
            raise Reject(400, f"body is not valid gzip: {e}") from None
        if len(out) > MAX_BYTES:
            raise Reject(413, f"uncompressed body over {MAX_BYTES} bytes")
        if not d.eof:
            raise Reject(400, "gzip stream is truncated")
        rest = d.unused_data
    return bytes(out)


def check_entries(raw):
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Reject(400, f"body is not JSON: {e}") from None
    if not isinstance(body, list):
        raise Reject(400, "body is not a JSON array")
    if len(body) > MAX_ENTRIES:
        raise Reject(413, f"{len(body)} entries, over {MAX_ENTRIES}")
    for i, e in enumerate(body):
        if not isinstance(e, dict) or "message" not in e:
            raise Reject(400, f"entry {i} has no message")
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dd-intake-test/1"
    timeout = 30  # per-connection socket timeout: a stuck client cannot hold a thread forever

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, fmt, *args):
        pass  # requests.jsonl is the log

    def reply(self, status, body=b"{}", close=False):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(405 if self.path.split("?")[0] == LOGS_PATH else 404, b'{"errors":["POST only"]}')

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self.read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_WIRE_BYTES:
            raise Reject(413, f"request body of {length} bytes")
        return self.rfile.read(length)

    def read_chunked(self):
        out = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()
            if len(out) > MAX_WIRE_BYTES:
                raise Reject(413, "chunked body too large")

    def headers_for_log(self):
        # Names lower-cased: clients differ in case (curl sends `Content-Type`, hyper
        # `content-type`), and tests should not have to care.
        return {
            k.lower(): ("<redacted>" if k.lower() == "dd-api-key" else v)
            for k, v in self.headers.items()
        }

    def do_POST(self):
        store = self.server.store
        line = {"time": time.time(), "method": "POST", "path": self.path, "entries": 0,
                "bytes": 0, "gzip_bytes": 0, "status": 202, "error": None,
                "headers": self.headers_for_log()}
        entries = []
        close = False
        try:
            body = self.read_body()
            line["gzip_bytes"] = len(body)
            entries = self.check(body, line)
        except Reject as r:
            line["status"], line["error"], entries = r.status, r.error, []
            close = r.status == 413 and line["gzip_bytes"] == 0
        except (ValueError, OSError) as e:
            line["status"], line["error"], entries, close = 400, f"bad request: {e}", [], True
        forced = store.forced_status()
        if forced is not None:
            why = f"forced by mode file (would have been {line['status']})"
            line["status"], line["error"], entries = forced, why, []
        store.record(line, entries)
        ok = line["status"] == 202
        self.reply(line["status"], b"{}" if ok else json.dumps({"errors": [line["error"]]}).encode(),
                   close=close)

    def check(self, body, line):
        if self.path.split("?")[0] != LOGS_PATH:
            raise Reject(404, f"unknown path {self.path}")
        key = self.headers.get("DD-API-KEY")
        expected = self.server.api_key
        if not key or (expected is not None and key != expected):
            raise Reject(403, "missing or wrong DD-API-KEY")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise Reject(400, f"Content-Type {ctype or '(none)'} is not application/json")
        enc = self.headers.get("Content-Encoding", "").strip().lower()
        if enc != "gzip":
            raise Reject(400, f"Content-Encoding {enc or '(none)'} is not gzip")
        raw = gunzip_limited(body)
        line["bytes"] = len(raw)
        entries = check_entries(raw)
        line["entries"] = len(entries)
        return entries


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # TLS handshake failures and client resets are normal in tests (e.g. a client that
        # rejects our certificate); one line instead of a traceback.
        err = sys.exc_info()[1]
        print(f"dd_intake: {client_address[0]}:{client_address[1]}: {err!r}", file=sys.stderr)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Local Datadog log intake for tests.")
    p.add_argument("--cert", help="server certificate chain (PEM); omit with --key for plain HTTP")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--port", type=int, default=0, help="0 = any free port (printed)")
    p.add_argument("--bind", default="127.0.0.1", help="loopback address to bind")
    p.add_argument("--out", required=True, help="directory for logs.jsonl / requests.jsonl / mode")
    p.add_argument("--api-key", help="the only DD-API-KEY accepted (default: any non-empty key)")
    p.add_argument("--max-seconds", type=float, default=600, help="exit after this long")
    a = p.parse_args(argv)
    if bool(a.cert) != bool(a.key):
        p.error("--cert and --key go together")
    # Loopback only (or a lab address from inside a lab namespace): the shared folder rule.
    a.bind = checked(a.bind, "bind address")
    return a


def main(argv):
    a = parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    if ":" in a.bind:
        Server.address_family = socket.AF_INET6
    server = Server((a.bind, a.port), Handler)
    server.store = Store(a.out)
    server.api_key = a.api_key
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        # The handshake runs in the handler thread, so a silent client cannot block accept().
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    timer = threading.Timer(a.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
