#!/usr/bin/env python3
"""A fake Slack-compatible incoming webhook, generic JSON receiver or
PagerDuty Events API v2 endpoint (standard library only).

    fake_webhook.py --port-file FILE --record FILE [--fail N] [--fail-status 500]
                    [--path /services/T000/B000/XXXX] [--reject STATUS]
                    [--kind slack|json|pagerduty] [--routing-key KEY]
                    [--retry-after SECONDS] [--delay SECONDS]

slack (default): accepts POST PATH with a JSON body {"text": ...} and
answers 200 "ok" as Slack does.  json: any JSON object, 200 "ok".
pagerduty: an event as the Events API v2 takes it (routing_key equal to
--routing-key, event_action trigger/resolve/acknowledge, dedup_key; a
trigger's payload with summary, source and severity) answers 202
{"status": "success", "message": "Event processed", "dedup_key": ...};
an invalid one 400 {"status": "invalid event", ...}.
The first N requests answer --fail-status (default 500) with Slack's
"rollup_error" body instead (with Retry-After when given).  --reject
STATUS answers every request with that status and body "invalid_payload"
(a permanent error).  A POST to another path answers 404 "no_service", a
body that is not what the kind takes 400 "invalid_payload" (Slack's own
answers).  --delay waits that long before answering each request.

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
import time
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
    ap.add_argument("--kind", choices=["slack", "json", "pagerduty"], default="slack")
    ap.add_argument("--routing-key", default="")
    ap.add_argument("--retry-after", default=None)
    ap.add_argument("--delay", type=float, default=0)
    args = ap.parse_args()
    lock = threading.Lock()
    state = {"seen": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, text, ctype="text/plain; charset=utf-8", retry_after=None):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
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
            if args.delay:
                time.sleep(args.delay)
            ctype, retry_after = "text/plain; charset=utf-8", None
            if self.path != args.path:
                status, text = 404, "no_service"
            elif args.reject:
                status, text = args.reject, "invalid_payload"
            elif k <= args.fail:
                status, text, retry_after = args.fail_status, "rollup_error", args.retry_after
            elif args.kind == "pagerduty":
                status, text = pagerduty(raw)
                ctype = "application/json"
            else:
                try:
                    body = json.loads(raw)
                    ok = isinstance(body, dict) and (args.kind == "json" or isinstance(body.get("text"), str))
                except ValueError:
                    ok = False
                status, text = (200, "ok") if ok else (400, "invalid_payload")
            with lock, open(args.record, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status,
                                    "content_type": self.headers.get("Content-Type"),
                                    "body": raw}) + "\n")
            self.answer(status, text, ctype, retry_after)

    def pagerduty(raw):
        """The Events API v2's answer to one event: 202, or 400 naming what is wrong."""
        errors = []
        try:
            e = json.loads(raw)
        except ValueError:
            e, errors = {}, ["Event object is not valid JSON"]
        if not isinstance(e, dict):
            e, errors = {}, ["Event object is not an object"]
        if e.get("routing_key") != args.routing_key:
            errors.append("Invalid routing key")
        if e.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        key = e.get("dedup_key")
        if not isinstance(key, str) or not key or len(key) > 255:
            errors.append("'dedup_key' is invalid")
        if e.get("event_action") == "trigger":
            p = e.get("payload") or {}
            if not isinstance(p.get("summary"), str) or not p["summary"] or len(p["summary"]) > 1024:
                errors.append("'payload.summary' is missing or invalid")
            if not isinstance(p.get("source"), str) or not p["source"]:
                errors.append("'payload.source' is missing or blank")
            if p.get("severity") not in ("critical", "error", "warning", "info"):
                errors.append("'payload.severity' is invalid")
        if errors:
            return 400, json.dumps({"status": "invalid event", "message": "Event object is invalid",
                                    "errors": errors})
        return 202, json.dumps({"status": "success", "message": "Event processed", "dedup_key": key})

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
