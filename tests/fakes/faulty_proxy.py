#!/usr/bin/env python3
"""A faulty (or hostile) HTTP proxy in front of one of the fakes: it passes
requests on to the upstream fake and damages the answers as its rules say.
Standard library only.

  faulty_proxy.py --upstream http://127.0.0.1:PORT --port-file PATH
                  [--rules RULES.json] [--request-log FILE]

RULES.json is a list; each request uses up the first rule that still has
uses left and whose `path` regex matches (re.search on the path without the
query string; `method` narrows it, and `request_body`, a regex the request's
body must match, too).  `times` defaults to -1 (every match).

| mode | what the client gets |
|---|---|
| mutate      | the upstream JSON with, in every object holding a key of `set`, that key set to the given value (`limit`: at most that many objects per answer) |
| nullify     | every object holding `key` has all its values set to null |
| drop        | every object holding `key` loses it |
| status      | `status` with `body` (default "") and `content_type`, `headers` |
| echo-auth   | `status` (default 400) with a body that quotes the request's Authorization header (`json`: in a JSON "detail", else text) |
| retry-after | `status` (default 429) with `Retry-After: <value>` |
| gzip-cut    | the upstream body gzip-compressed, cut at `fraction` (default 0.2), Content-Length matching the cut |
| gzip-bomb   | 200, Content-Encoding gzip: `mb` MB of log lines (default 200) in about 1/1000 of that |
| html        | 200 text/html: the sign-in page of an SSO proxy whose session expired |
| body        | 200 with `body` as `content_type` (default application/json) |
| bad-utf8    | the upstream body with invalid UTF-8 bytes put into lines holding `marker` (default "Error") |
| huge-header | the upstream answer plus a header of `mb` MB (default 10) |
| same-page   | a list endpoint that ignores offset and claims 10^9 entries: the first page, forever |
| drip        | the upstream answer, `bytes_per_s` (default 1) bytes a second |

Request log: one line per request, `METHOD TARGET STATUS[ rule=MODE]`.
Credentials are never logged.
"""

import argparse
import gzip
import http.client
import json
import os
import re
import socket
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit, parse_qsl, urlencode

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib as fl  # noqa: E402

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "te",
       "trailer", "upgrade", "proxy-connection", "host", "accept-encoding"}

SSO_PAGE = b"""<!DOCTYPE html>
<html><head><title>Sign in - Example SSO</title></head>
<body><form method="post" action="/oauth2/start"><h1>Your session has expired</h1>
<p>Sign in to continue to airflow.example.com</p><input name="user"><input type="password" name="pw">
<button>Sign in</button></form></body></html>
"""


def bomb(mb):
    """gzip of mb MB of one repeated log line, built once per size."""
    line = b"[2026-03-05T02:00:01.000+0000] {bomb.py:1} INFO - " + b"A" * 64 + b"\n"
    block = line * (1048576 // len(line) + 1)
    block = block[:1048576]
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(block) for _ in range(int(mb))]
    out.append(c.flush())
    return b"".join(out)


_bombs = {}


class Rules:
    def __init__(self, path):
        self.rules = []
        if path:
            with open(path) as f:
                self.rules = json.load(f)
        for r in self.rules:
            r.setdefault("times", -1)
            if r.get("mode") == "gzip-bomb":  # built before the first request
                mb = int(r.setdefault("mb", 200))
                _bombs.setdefault(mb, bomb(mb))
        self.lock = threading.Lock()

    def take(self, method, path, body=b""):
        with self.lock:
            for r in self.rules:
                if r["times"] == 0:
                    continue
                if r.get("method") and r["method"] != method:
                    continue
                if r.get("request_body") and not re.search(r["request_body"], body.decode("utf-8", "replace")):
                    continue
                if not re.search(r.get("path", ""), path):
                    continue
                if r["times"] > 0:
                    r["times"] -= 1
                return r
        return None


def walk(obj, fn):
    """Calls fn(dict) for every object in a JSON value, depth first."""
    if isinstance(obj, dict):
        fn(obj)
        for v in list(obj.values()):
            walk(v, fn)
    elif isinstance(obj, list):
        for v in obj:
            walk(v, fn)


def damage_json(rule, body):
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    mode = rule["mode"]
    count = [0]
    limit = rule.get("limit", -1)

    def fn(o):
        if limit >= 0 and count[0] >= limit:
            return
        if mode == "mutate":
            hit = False
            for k, v in rule["set"].items():
                if k in o:
                    o[k] = v
                    hit = True
            count[0] += hit
        elif mode == "nullify" and rule["key"] in o:
            for k in o:
                o[k] = None
            count[0] += 1
        elif mode == "drop" and rule["key"] in o:
            del o[rule["key"]]
            count[0] += 1

    walk(doc, fn)
    return json.dumps(doc).encode()


class App:
    def __init__(self, args):
        self.up = urlsplit(args.upstream)
        self.rules = Rules(args.rules)
        self.log = open(args.request_log, "a") if args.request_log else sys.stderr
        self.log_lock = threading.Lock()
        self.stop = threading.Event()
        self.args = args

    def reqlog(self, method, target, status, rule):
        with self.log_lock:
            self.log.write("%s %s %d%s\n" % (method, target, status, " rule=" + rule["mode"] if rule else ""))
            self.log.flush()

    def forward(self, method, target, headers, body):
        conn = http.client.HTTPConnection(self.up.hostname, self.up.port, timeout=60)
        hdrs = {k: v for k, v in headers.items() if k.lower() not in HOP}
        hdrs["Accept-Encoding"] = "identity"
        conn.request(method, target, body=body if body else None, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
        conn.close()
        return resp.status, out, data


def make_handler(app):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def _body(self):
            n = self.headers.get("Content-Length")
            return self.rfile.read(int(n)) if n else b""

        def _send(self, status, headers, body, extra=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _handle(self):
            method, target = self.command, self.path
            body = self._body()
            path = urlsplit(target).path
            rule = app.rules.take(method, path, body)
            mode = rule["mode"] if rule else None
            if mode == "same-page":
                parts = urlsplit(target)
                q = [(k, "0" if k == "offset" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
                target = parts.path + "?" + urlencode(q)
            if mode in ("status", "echo-auth", "retry-after", "html", "body", "gzip-bomb"):
                status, headers, data = self.synth(rule)
            else:
                status, headers, data = app.forward(method, target, dict(self.headers), body)
            app.reqlog(method, self.path, status, rule)
            extra = []
            ctype = dict((k.lower(), v) for k, v in headers).get("content-type", "")
            if mode in ("mutate", "nullify", "drop") and "json" in ctype and 200 <= status < 300:
                data = damage_json(rule, data)
            elif mode == "same-page" and "json" in ctype:
                try:
                    doc = json.loads(data)
                    if isinstance(doc, dict) and "total_entries" in doc:
                        doc["total_entries"] = 10 ** 9
                    data = json.dumps(doc).encode()
                except ValueError:
                    pass
            elif mode == "bad-utf8":
                marker = rule.get("marker", "Error").encode()
                data = b"\n".join(l + b" \xff\xfe\xc3(" if marker in l else l for l in data.split(b"\n"))
            elif mode == "gzip-cut":
                z = gzip.compress(data)
                data = z[: max(1, int(len(z) * rule.get("fraction", 0.2)))]
                extra.append(("Content-Encoding", "gzip"))
            elif mode == "huge-header":
                extra.append(("X-Padding", "x" * int(rule.get("mb", 10) * 1048576)))
            elif mode == "gzip-bomb":
                extra.append(("Content-Encoding", "gzip"))
            if mode == "drip":
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = max(1, int(rule.get("bytes_per_s", 1)))
                for i in range(0, len(data), step):
                    self.wfile.write(data[i:i + step])
                    self.wfile.flush()
                    if app.stop.wait(1.0):
                        break
                return
            self._send(status, headers, data, extra)

        def synth(self, rule):
            mode = rule["mode"]
            st = int(rule.get("status", {"echo-auth": 400, "retry-after": 429}.get(mode, 200)))
            if mode == "status":
                h = [("Content-Type", rule.get("content_type", "text/plain"))] + list(rule.get("headers", {}).items())
                return st, h, rule.get("body", "").encode()
            if mode == "echo-auth":
                auth = self.headers.get("Authorization", "")
                if rule.get("json", True):
                    body = json.dumps({"detail": "request rejected by the gateway; it sent Authorization: %s "
                                       "(and %s again)" % (auth, auth)}).encode()
                    return st, [("Content-Type", "application/json")], body
                return st, [("Content-Type", "text/plain")], ("rejected: Authorization: %s\n" % auth).encode()
            if mode == "retry-after":
                return st, [("Content-Type", "application/json"), ("Retry-After", str(rule["value"]))], \
                    b'{"detail": "slow down"}'
            if mode == "html":
                return st, [("Content-Type", "text/html; charset=utf-8")], SSO_PAGE
            if mode == "body":
                return st, [("Content-Type", rule.get("content_type", "application/json"))], rule["body"].encode()
            if mode == "gzip-bomb":
                mb = int(rule["mb"])
                return 200, [("Content-Type", rule.get("content_type", "text/plain"))], _bombs[mb]
            raise ValueError(mode)

        def do_GET(self):
            try:
                self._handle()
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                self.close_connection = True

        do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--rules")
    p.add_argument("--request-log")
    app = App(p.parse_args())
    return fl.listen_and_serve(app, make_handler(app))


if __name__ == "__main__":
    sys.exit(main())
