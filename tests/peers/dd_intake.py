#!/usr/bin/env python3
"""A local stand-in for Datadog's HTTP v2 log intake and series API, for nocbox's end-to-end tests.

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
For each `POST /api/v2/series` (metrics, reference/datadog.md section 4):
  - `DD-API-KEY` as above                                             -> 403
  - `Content-Type` not application/json                              -> 400
  - `Content-Encoding` not gzip or deflate, or not decompressible     -> 400
  - over 512,000 bytes compressed, or 5,242,880 bytes or more after decompression -> 413
  - body not `{"series": [...]}` with at least one element, or an element without a non-empty
    `metric`, an integer `type` in 0..3, a non-empty `points` list of `{timestamp: int,
    value: finite number}`, `tags` (if present) a list of strings, `resources` (if present) a
    list of `{name: str, type: str}`, `interval` (if present) an integer               -> 400
  - a point more than 1 h in the past or 10 min in the future (a seconds/milliseconds mix-up)
                                                                       -> 400
  - otherwise every series element is appended to DIR/series.jsonl and 202 `{"errors":[]}` is
    answered.
Every request (accepted or not) adds one line to DIR/requests.jsonl:
  {"time", "method", "path", "entries", "points", "bytes", "gzip_bytes", "status", "error",
   "headers"}
(`entries`: logs or series elements; `gzip_bytes`: the body as received, whatever its encoding)
with header names lower-cased and the API key's value replaced by "<redacted>".

Fault injection: when DIR/mode holds a status code (503, 429, 500, 400, 413, 401, ...), every
POST is answered with that code and nothing is recorded in logs.jsonl or series.jsonl
(requests.jsonl still gets the line). Delete or empty the file to go back to normal.

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
SERIES_PATH = "/api/v2/series"
# Series API: over this compressed is refused; this many bytes or more decompressed is refused.
SERIES_MAX_WIRE = 512_000
SERIES_MAX_BYTES = 5_242_880
SERIES_MAX_AGE = 3600
SERIES_MAX_AHEAD = 600


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

    def record(self, request_line, entries, name="logs.jsonl"):
        with self.lock:
            if entries:
                with open(os.path.join(self.dir, name), "a", encoding="utf-8") as f:
                    for e in entries:
                        f.write(json.dumps(e, separators=(",", ":")) + "\n")
            with open(os.path.join(self.dir, "requests.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(request_line, separators=(",", ":")) + "\n")


def gunzip_limited(data, max_bytes=MAX_BYTES, wbits=16 + zlib.MAX_WBITS, name="gzip"):
    """Decompresses gzip data (all members; or zlib data for `deflate` with wbits=MAX_WBITS),
    refusing (413) more than max_bytes of output."""
    out = bytearray()
    rest = data
    while rest:
        d = zlib.decompressobj(wbits)
        try:
            out += d.decompress(rest, max_bytes + 1 - len(out))
        except zlib.error as e:
            raise Reject(400, f"body is not valid {name}: {e}") from None
        if len(out) > max_bytes:
            raise Reject(413, f"uncompressed body over {max_bytes} bytes")
        if not d.eof:
            raise Reject(400, f"{name} stream is truncated")
        rest = d.unused_data
    return bytes(out)


def check_series(raw, now):
    """The series elements of a v2 series body, or Reject(400) naming the first problem."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Reject(400, f"body is not JSON: {e}") from None
    series = body.get("series") if isinstance(body, dict) else None
    if not isinstance(series, list) or not series:
        raise Reject(400, 'body is not {"series": [...]} with at least one element')
    for i, s in enumerate(series):
        where = f"series[{i}]"
        if not isinstance(s, dict):
            raise Reject(400, f"{where} is not an object")
        if not isinstance(s.get("metric"), str) or not s["metric"]:
            raise Reject(400, f"{where}.metric is missing or empty")
        if type(s.get("type")) is not int or not 0 <= s["type"] <= 3:
            raise Reject(400, f"{where}.type is not an integer 0..3")
        if "interval" in s and type(s["interval"]) is not int:
            raise Reject(400, f"{where}.interval is not an integer")
        tags = s.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise Reject(400, f"{where}.tags is not a list of strings")
        res = s.get("resources", [])
        if not isinstance(res, list) or not all(
                isinstance(r, dict) and isinstance(r.get("name"), str)
                and isinstance(r.get("type"), str) for r in res):
            raise Reject(400, f"{where}.resources is not a list of {{name, type}}")
        points = s.get("points")
        if not isinstance(points, list) or not points:
            raise Reject(400, f"{where}.points is missing or empty")
        for j, p in enumerate(points):
            check_point(p, f"{where}.points[{j}]", now)
    return series


def check_point(p, where, now):
    if not isinstance(p, dict) or type(p.get("timestamp")) is not int:
        raise Reject(400, f"{where}.timestamp is not an integer")
    v = p.get("value")
    if type(v) not in (int, float) or v != v or v in (float("inf"), float("-inf")):
        raise Reject(400, f"{where}.value is not a finite number")
    ts = p["timestamp"]
    if ts < now - SERIES_MAX_AGE or ts > now + SERIES_MAX_AHEAD:
        raise Reject(400, f"{where}.timestamp {ts} is outside [now-1h, now+10min] (now {now})")


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
        known = self.path.split("?")[0] in (LOGS_PATH, SERIES_PATH)
        self.reply(405 if known else 404, b'{"errors":["POST only"]}')

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
                "points": 0, "bytes": 0, "gzip_bytes": 0, "status": 202, "error": None,
                "headers": self.headers_for_log()}
        entries = []
        series = self.path.split("?")[0] == SERIES_PATH
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
        store.record(line, entries, "series.jsonl" if series else "logs.jsonl")
        ok = line["status"] == 202
        accepted = b'{"errors":[]}' if series else b"{}"
        self.reply(line["status"], accepted if ok else json.dumps({"errors": [line["error"]]}).encode(),
                   close=close)

    def check(self, body, line):
        path = self.path.split("?")[0]
        if path not in (LOGS_PATH, SERIES_PATH):
            raise Reject(404, f"unknown path {self.path}")
        key = self.headers.get("DD-API-KEY")
        expected = self.server.api_key
        if not key or (expected is not None and key != expected):
            raise Reject(403, "missing or wrong DD-API-KEY")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise Reject(400, f"Content-Type {ctype or '(none)'} is not application/json")
        enc = self.headers.get("Content-Encoding", "").strip().lower()
        if path == SERIES_PATH:
            return self.check_series_body(body, enc, line)
        if enc != "gzip":
            raise Reject(400, f"Content-Encoding {enc or '(none)'} is not gzip")
        raw = gunzip_limited(body)
        line["bytes"] = len(raw)
        entries = check_entries(raw)
        line["entries"] = len(entries)
        return entries

    def check_series_body(self, body, enc, line):
        if enc not in ("gzip", "deflate"):
            raise Reject(400, f"Content-Encoding {enc or '(none)'} is not gzip or deflate")
        if len(body) > SERIES_MAX_WIRE:
            raise Reject(413, f"{len(body)} bytes compressed, over {SERIES_MAX_WIRE}")
        wbits = 16 + zlib.MAX_WBITS if enc == "gzip" else zlib.MAX_WBITS
        raw = gunzip_limited(body, SERIES_MAX_BYTES - 1, wbits, enc)
        line["bytes"] = len(raw)
        series = check_series(raw, int(time.time()))
        line["entries"] = len(series)
        line["points"] = sum(len(s["points"]) for s in series)
        return series


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # TLS handshake failures and client resets are normal in tests (e.g. a client that
        # rejects our certificate); one line instead of a traceback.
        err = sys.exc_info()[1]
        print(f"dd_intake: {client_address[0]}:{client_address[1]}: {err!r}", file=sys.stderr)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Local Datadog log intake and series API for tests.")
    p.add_argument("--cert", help="server certificate chain (PEM); omit with --key for plain HTTP")
    p.add_argument("--key", help="server private key (PEM)")
    p.add_argument("--port", type=int, default=0, help="0 = any free port (printed)")
    p.add_argument("--bind", default="127.0.0.1", help="loopback address to bind")
    p.add_argument("--out", required=True,
                   help="directory for logs.jsonl / series.jsonl / requests.jsonl / mode")
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
