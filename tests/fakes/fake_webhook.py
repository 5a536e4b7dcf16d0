#!/usr/bin/env python3
"""A fake Slack-compatible incoming webhook (standard library only).

    fake_webhook.py --port-file FILE --record FILE [--fail N] [--fail-status 500]
                    [--path /services/T000/B000/XXXX] [--reject STATUS]

Accepts POST PATH with a JSON body {"text": ...} and answers 200 "ok" as
Slack does.  The first N requests answer --fail-status (default 500) with
Slack's "rollup_error" body instead.  --reject STATUS answers every
request with that status and body "invalid_payload" (a permanent error).
A POST to another path answers 404 "no_service", a body that is not JSON
or has no string "text" 400 "invalid_payload" (Slack's own answers).

Every request is appended to --record as one JSON line:
{"path": ..., "status": ..., "content_type": ..., "body": <the raw body text>}.
The bound port is written to --port-file once listening.  SIGTERM exits.
"""
import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--path", default="/services/T000/B000/XXXXSECRET")
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=500)
    ap.add_argument("--reject", type=int, default=0)
    args = ap.parse_args()
    lock = threading.Lock()
    state = {"seen": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.answer(405, "invalid_method")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode("utf-8", "replace")
            with lock:
                state["seen"] += 1
                k = state["seen"]
            if self.path != args.path:
                status, text = 404, "no_service"
            elif args.reject:
                status, text = args.reject, "invalid_payload"
            elif k <= args.fail:
                status, text = args.fail_status, "rollup_error"
            else:
                try:
                    ok = isinstance(json.loads(raw).get("text"), str)
                except (ValueError, AttributeError):
                    ok = False
                status, text = (200, "ok") if ok else (400, "invalid_payload")
            with lock, open(args.record, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status,
                                    "content_type": self.headers.get("Content-Type"),
                                    "body": raw}) + "\n")
            self.answer(status, text)

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *a: threading.Thread(target=srv.shutdown).start())
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
