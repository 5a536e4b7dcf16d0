#!/usr/bin/env python3
"""Fake Airflow REST API server: v1 (Airflow 2.x, /api/v1) or v2 (Airflow 3.x,
/api/v2 + /auth/token), serving one world file. Standard library only.

  fake_airflow.py --api v1|v2 --world WORLD.json --port-file PATH
                  [--latency-ms N] [--faults FAULTS.json] [--request-log FILE]
                  [--token T | --user U --password P] [--token-ttl S]

Shapes follow shared/specs/airflow/*.yaml and, where the real server differs
from its spec, shared/specs/airflow/NOTES.md (the real server wins).
"""

import argparse
import base64
import datetime as _dt
import hmac
import collections
import json
import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakelib as fl  # noqa: E402
from fakelib import HttpError, det_uuid, json_resp, text_resp, stream_resp  # noqa: E402

MAX_PAGE = 100  # [api] maximum_page_limit, Airflow's default (--max-page-limit)
QUERY_CACHE = 64  # batch listings kept whole: their pages are asked for one after another

OPERATOR_MODULES = {
    "PythonOperator": "airflow.operators.python",
    "BranchPythonOperator": "airflow.operators.python",
    "PythonVirtualenvOperator": "airflow.operators.python",
    "BashOperator": "airflow.operators.bash",
    "EmptyOperator": "airflow.operators.empty",
    "TriggerDagRunOperator": "airflow.operators.trigger_dagrun",
    "ExternalTaskSensor": "airflow.sensors.external_task",
    "FileSensor": "airflow.sensors.filesystem",
    "TimeDeltaSensor": "airflow.sensors.time_delta",
    "PythonSensor": "airflow.sensors.python",
    "SqlSensor": "airflow.providers.common.sql.sensors.sql",
    "HttpSensor": "airflow.providers.http.sensors.http",
    "S3KeySensor": "airflow.providers.amazon.aws.sensors.s3",
    "KubernetesPodOperator": "airflow.providers.cncf.kubernetes.operators.pod",
    "SQLExecuteQueryOperator": "airflow.providers.common.sql.operators.sql",
    "PostgresOperator": "airflow.providers.postgres.operators.postgres",
    "_PythonDecoratedOperator": "airflow.decorators.python",
}

V1_RUN_TYPES = {"asset_triggered": "dataset_triggered", "asset_materialization": "manual"}
V2_RUN_TYPES = {"dataset_triggered": "asset_triggered"}
RUN_STATE = {"late": "queued", "crashed": "failed", "cancelled": "failed", "scheduled": "queued", "pending": "queued"}
TI_STATES_V2 = {"removed", "scheduled", "queued", "running", "success", "restarting", "failed", "up_for_retry",
                "up_for_reschedule", "upstream_failed", "skipped", "deferred"}
TI_STATES_V1 = TI_STATES_V2 | {"none"}


def pyd_ts(d):
    """pydantic v2 datetime: offset kept, zero offset written Z."""
    s = d.isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def run_state(r):
    s = r.get("state") or "queued"
    return RUN_STATE.get(s, s)


def ti_state(t):
    s = t.get("state")
    if s in (None, "none", "no_status"):
        return None
    return s


def schedule_info(dag):
    """(v1 schedule_interval object, timetable_summary, description, interval timedelta)"""
    s = dag.get("schedule", dag.get("schedule_interval"))
    if s is None:
        return None, None, "Never, external triggers only", None
    if isinstance(s, dict):
        td = _dt.timedelta(days=s.get("days", 0), seconds=s.get("seconds", 0))
        obj = {"__type": "TimeDelta", "days": td.days, "seconds": td.seconds, "microseconds": 0}
        return obj, str(td), "", td
    presets = {"@hourly": ("0 * * * *", "At 0 minutes past the hour", _dt.timedelta(hours=1)),
               "@daily": ("0 0 * * *", "At 00:00", _dt.timedelta(days=1)),
               "@weekly": ("0 0 * * 0", "At 00:00, only on Sunday", _dt.timedelta(days=7))}
    if s in presets:
        cron, desc, td = presets[s]
        return {"__type": "CronExpression", "value": s}, s, desc, td
    m = re.match(r"^(\d+) (\d+) \* \* \*$", s)
    if m:
        desc = "At %02d:%02d" % (int(m.group(2)), int(m.group(1)))
        return {"__type": "CronExpression", "value": s}, s, desc, _dt.timedelta(days=1)
    m = re.match(r"^(\d+) \* \* \* \*$", s)
    if m:
        return ({"__type": "CronExpression", "value": s}, s, "At %s minutes past the hour" % m.group(1),
                _dt.timedelta(hours=1))
    return {"__type": "CronExpression", "value": s}, s, dag.get("timetable_description", ""), None


class AirflowApp(fl.App):
    def __init__(self, args):
        fl.App.__init__(self, args)
        self.api = args.api
        self.name = "airflow-" + self.api
        w = self.world
        self.version = w.version_v1 if self.api == "v1" else w.version_v2
        self.doc_link = "https://airflow.apache.org/docs/apache-airflow/%s/stable-rest-api-ref.html" % self.version
        self.token_ttl = args.token_ttl
        if args.token and (args.user or args.password):
            raise SystemExit("use --token or --user/--password, not both")
        if (args.user is None) != (args.password is None):
            raise SystemExit("--user and --password go together")
        self.auth_mode = "token" if args.token else "basic" if args.user else None
        if args.max_page_limit < 1:
            raise SystemExit("--max-page-limit: at least 1")
        self.max_page = args.max_page_limit
        self._queries = collections.OrderedDict()
        self._queries_lock = threading.Lock()
        self._routes()

    # ------------------------------------------------------------------ errors

    def v1_json(self, status, obj, content_type="application/json", headers=None):
        # Airflow 2 (Flask) pretty-prints; a fleet's pages go compact, which
        # json's C encoder writes several times faster, so the fake keeps up
        # with a benchmark's concurrency
        if self.world.fleet:
            return fl.Response(status, json.dumps(obj, sort_keys=True, separators=(",", ":")).encode() + b"\n",
                               content_type, headers)
        return fl.Response(status, json.dumps(obj, sort_keys=True, indent=2).encode() + b"\n", content_type, headers)

    def problem(self, status, title, detail=None, headers=None):
        link = {400: "BadRequest", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound",
                405: "MethodNotAllowed", 409: "AlreadyExists", 500: "Unknown"}.get(status)
        typ = "%s#section/Errors/%s" % (self.doc_link, link) if link else "about:blank"
        return self.v1_json(status, {"detail": detail, "status": status, "title": title, "type": typ},
                            "application/problem+json", headers)

    def err(self, status, v1_title, v1_detail, v2_detail):
        if self.api == "v1":
            return HttpError(self.problem(status, v1_title, v1_detail))
        return HttpError(json_resp(status, {"detail": v2_detail}))

    def v2_invalid(self, errors):
        return HttpError(json_resp(422, {"detail": errors}))

    def bad_param(self, where, name, value, kind, msg=None):
        """Input validation failure: 400 problem (v1, connexion) or 422 (v2, pydantic)."""
        if self.api == "v1":
            detail = {
                "int": "%r is not of type 'integer'" % value,
                "datetime": "%r is not a 'date-time'" % value,
                "min0": "%s is less than the minimum of 0" % value,
                "number": "%r is not of type 'number'" % value,
                "bool": "%r is not of type 'boolean'" % value,
            }.get(kind, msg or "invalid")
            return HttpError(self.problem(400, "Bad Request", detail))
        e = {
            "int": {"type": "int_parsing", "loc": [where, name],
                    "msg": "Input should be a valid integer, unable to parse string as an integer", "input": value},
            "datetime": {"type": "datetime_from_date_parsing", "loc": [where, name],
                         "msg": "Input should be a valid datetime or date, invalid character in year",
                         "input": value, "ctx": {"error": "invalid character in year"}},
            "min0": {"type": "greater_than_equal", "loc": [where, name],
                     "msg": "Input should be greater than or equal to 0", "input": value, "ctx": {"ge": 0}},
            "number": {"type": "float_parsing", "loc": [where, name],
                       "msg": "Input should be a valid number, unable to parse string as a number", "input": value},
            "bool": {"type": "bool_parsing", "loc": [where, name],
                     "msg": "Input should be a valid boolean, unable to interpret input", "input": value},
        }.get(kind) or {"type": "value_error", "loc": [where, name], "msg": msg or "invalid", "input": value}
        return self.v2_invalid([e])

    def fault_response(self, status, fault):
        hdrs = []
        if fault.get("retry_after") is not None:
            hdrs.append(("Retry-After", str(fault["retry_after"])))
        if status in (502, 503, 504):
            return fl.Response(status, fl.gateway_html(status), "text/html", hdrs)
        if status == 429:
            # Airflow has no rate limiting of its own: a 429 comes from a proxy
            # in front of it; we answer in the API's error shape.
            if self.api == "v1":
                r = self.problem(429, "Too Many Requests", "Rate limit exceeded. Retry later.", hdrs)
                return r
            return json_resp(429, {"detail": "Too Many Requests"}, headers=hdrs)
        if self.api == "v1":
            # Flask's 500 handler (airflow.www.views.show_traceback): an HTML page.
            html = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>Airflow 500</title></head>\n<body>\n"
                    "<h1> Ooops! </h1>\n<div><pre>Something bad has happened. For security reasons detailed "
                    "information about the error is not logged.</pre></div>\n</body>\n</html>\n")
            return fl.Response(500, html, "text/html; charset=utf-8", hdrs)
        return text_resp(500, "Internal Server Error", headers=hdrs)

    def not_found(self, req):
        if self.api == "v1" and req.path.startswith("/api/v1"):
            return self.problem(404, "Not Found",
                                "The requested URL was not found on the server. If you entered the URL manually "
                                "please check your spelling and try again.")
        return json_resp(404, {"detail": "Not Found"})

    def method_not_allowed(self, req, allowed):
        if self.api == "v1":
            return self.problem(405, "Method Not Allowed", "The method is not allowed for the requested URL.")
        return json_resp(405, {"detail": "Method Not Allowed"}, headers=[("Allow", ", ".join(sorted(set(allowed))))])

    def handle_exception(self, req, exc):
        return self.fault_response(500, {})

    # ------------------------------------------------------------------ auth

    PUBLIC_V1 = {"/api/v1/health", "/api/v1/version"}
    PUBLIC_V2 = {"/api/v2/monitor/health", "/api/v2/version", "/auth/token", "/auth/token/cli"}

    def authenticate(self, req):
        if self.auth_mode is None:
            return None
        hdr = req.header("Authorization") or ""
        if self.api == "v1":
            if req.path in self.PUBLIC_V1:
                return None
            ok = False
            if self.auth_mode == "basic" and hdr.startswith("Basic "):
                try:
                    user, _, pw = base64.b64decode(hdr[6:]).decode().partition(":")
                    ok = hmac.compare_digest(user, self.args.user) and hmac.compare_digest(pw, self.args.password)
                except Exception:
                    ok = False
            elif self.auth_mode == "token" and hdr.startswith("Bearer "):
                ok = hmac.compare_digest(hdr[7:].strip(), self.args.token)
            if ok:
                return None
            return self.problem(401, "Unauthorized", None,
                                [("WWW-Authenticate", "Basic" if self.auth_mode == "basic" else "Bearer")])
        if req.path in self.PUBLIC_V2:
            return None
        if not hdr.lower().startswith("bearer ") or not hdr[7:].strip():
            return json_resp(401, {"detail": "Not authenticated"}, headers=[("WWW-Authenticate", "Bearer")])
        tok = hdr[7:].strip()
        if self.auth_mode == "token" and hmac.compare_digest(tok, self.args.token):
            return None
        claims = fl.check_jwt(tok)
        if claims is None:
            return json_resp(403, {"detail": "Invalid JWT token"})
        if claims.get("exp", 0) + self.args.jwt_leeway < time.time():
            return json_resp(401, {"detail": "Token Expired"})
        return None

    def post_token(self, req):
        ctype = (req.header("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            q = fl.parse_qs(req.body.decode("utf-8", "replace"))
            body = {k: v[-1] for k, v in q.items()}
        elif ctype == "application/json":
            try:
                body = req.json() if req.body else None
            except ValueError:
                return json_resp(422, {"detail": [{"type": "json_invalid", "loc": ["body", 0],
                                                   "msg": "JSON decode error", "input": {},
                                                   "ctx": {"error": "Expecting value"}}]})
        else:
            return json_resp(415, {"detail": "Unsupported Media Type: %s" % ctype})
        if not isinstance(body, dict):
            return json_resp(422, {"detail": [{"type": "model_attributes_type", "loc": ["body"],
                                               "msg": "Input should be a valid dictionary or object to extract "
                                                      "fields from", "input": body}]})
        errors = []
        for k in ("username", "password"):
            if k not in body:
                errors.append({"type": "missing", "loc": ["body", k], "msg": "Field required", "input": body})
            elif not isinstance(body[k], str):
                errors.append({"type": "string_type", "loc": ["body", k], "msg": "Input should be a valid string",
                               "input": body[k]})
        for k in body:
            if k not in ("username", "password"):
                errors.append({"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted",
                               "input": body[k]})
        if errors:
            return json_resp(422, {"detail": errors})
        if self.auth_mode == "basic":
            ok = hmac.compare_digest(body["username"], self.args.user) and \
                hmac.compare_digest(body["password"], self.args.password)
        else:
            ok = self.auth_mode is None
        if not ok:
            return json_resp(401, {"detail": "Invalid credentials"})
        now = int(time.time())
        ttl = self.token_ttl if req.path == "/auth/token" else min(self.token_ttl, 3600)
        claims = {"sub": body["username"], "role": "ADMIN", "iss": [], "aud": "apache-airflow", "nbf": now,
                  "exp": int(time.time() + ttl + 0.999), "iat": now, "jti": det_uuid("jti", now, time.monotonic_ns())}
        return json_resp(201, {"access_token": fl.make_jwt(claims)})

    # ------------------------------------------------------------------ params

    def qint(self, req, name, default=None):
        v = req.q(name)
        if v is None or v == "":
            return default
        try:
            return int(v)
        except ValueError:
            raise self.bad_param("query", name, v, "int")

    def qbool(self, req, name, default=None):
        v = req.q(name)
        if v is None:
            return default
        lv = v.lower()
        if lv in ("true", "1", "yes", "on", "t", "y"):
            return True
        if lv in ("false", "0", "no", "off", "f", "n"):
            return False
        raise self.bad_param("query", name, v, "bool")

    def qdate(self, req, name):
        v = req.q(name)
        if v is None:
            return None
        try:
            return fl.parse_query_ts(v)
        except ValueError:
            raise self.bad_param("query", name, v, "datetime")

    def qnum(self, req, name):
        v = req.q(name)
        if v is None:
            return None
        try:
            return float(v)
        except ValueError:
            raise self.bad_param("query", name, v, "number")

    def page(self, req, default_v2=50):
        limit = self.qint(req, "limit", None)
        offset = self.qint(req, "offset", 0)
        if offset < 0:
            raise self.bad_param("query", "offset", str(offset), "min0")
        if self.api == "v1":
            if limit is None:
                limit = 100
            if limit < 0:
                raise HttpError(self.problem(400, "Page limit must be a positive integer"))
            if limit == 0:
                limit = 100
            return min(limit, self.max_page), offset
        if limit is None:
            limit = default_v2
        if limit < 0:
            raise self.bad_param("query", "limit", str(limit), "min0")
        return min(limit, self.max_page), offset

    def range_filter(self, items, req, base, getter, body=None):
        """Apply <base>_gte/_lte (v1) and also _gt/_lt (v2) filters."""
        ops = ("gte", "lte") if self.api == "v1" else ("gte", "gt", "lte", "lt")
        for op in ops:
            name = "%s_%s" % (base, op)
            if body is not None:
                raw = body.get(name)
                if raw is None:
                    continue
                try:
                    bound = fl.parse_query_ts(raw) if base != "duration" else float(raw)
                except (ValueError, TypeError):
                    raise self.bad_param("body", name, raw, "datetime" if base != "duration" else "number")
            elif base == "duration":
                bound = self.qnum(req, name)
            else:
                bound = self.qdate(req, name)
            if bound is None:
                continue
            cmp = {"gte": lambda a, b: a >= b, "gt": lambda a, b: a > b,
                   "lte": lambda a, b: a <= b, "lt": lambda a, b: a < b}[op]
            items = [x for x in items if getter(x) is not None and cmp(getter(x), bound)]
        return items

    def order(self, items, keys, allowed, mapping):
        for key in reversed(keys):
            desc = key.startswith("-")
            k = key[1:] if desc else key
            if k not in allowed:
                if self.api == "v1":
                    raise HttpError(self.problem(
                        400, "Ordering with '%s' is disallowed or the attribute does not exist on the model" % k))
                raise HttpError(json_resp(400, {
                    "detail": "Ordering with '%s' is disallowed or the attribute does not exist on the model" % k}))
            get = mapping.get(k, lambda x, k=k: x.get(k))
            present = [x for x in items if get(x) is not None]
            missing = [x for x in items if get(x) is None]
            present.sort(key=get, reverse=desc)
            # NULLs sort last ascending and first descending (PostgreSQL).
            items = missing + present if desc else present + missing
        return items

    # ------------------------------------------------------------------ serialisers

    def tstamp(self, d):
        return fl.iso_v1(d) if self.api == "v1" else fl.iso_z(d)

    def dag_version(self, dag, run=None):
        """The DagVersionResponse a run (or, without one, the DAG's latest) ran with.  A world
        run may carry "bundle_version" (the Git DAG bundle's commit) and "dag_version" (its
        version_number); the DAG's "bundle_name" names the bundle (default dags-folder)."""
        if run is None:
            vers = [r for r in self.world.runs_by_dag.get(dag.dag_id, ()) if r.get("bundle_version")]
            run = max(vers, key=lambda r: (r.get("dag_version") or 1, r.queued_at or r.run_after)) if vers else None
        if run is None or not run.get("bundle_version"):
            created = self.world.now - _dt.timedelta(days=30)
            return {"id": det_uuid("dag_version", dag.dag_id), "version_number": 1, "dag_id": dag.dag_id,
                    "bundle_name": dag.get("bundle_name", "dags-folder"), "bundle_version": None,
                    "created_at": fl.iso_z(created), "dag_display_name": dag.get("dag_display_name", dag.dag_id),
                    "bundle_url": None}
        num = run.get("dag_version") or 1
        # created when the dag processor first parsed that version: before its first run
        first = min((r.queued_at or r.run_after) for r in self.world.runs_by_dag.get(dag.dag_id, ())
                    if (r.get("dag_version") or 1) == num and r.get("bundle_version"))
        return {"id": det_uuid("dag_version", dag.dag_id, str(num)), "version_number": num, "dag_id": dag.dag_id,
                "bundle_name": dag.get("bundle_name", "dags-folder"), "bundle_version": run.bundle_version,
                "created_at": fl.iso_z(first - _dt.timedelta(minutes=47)),
                "dag_display_name": dag.get("dag_display_name", dag.dag_id), "bundle_url": None}

    def file_token(self, dag):
        return fl.sign_token(dag.fileloc, salt=b"itsdangerous")

    def next_dagrun(self, dag):
        if dag.get("next_dagrun"):
            return fl.parse_ts(dag.next_dagrun)
        _, _, _, td = schedule_info(dag)
        sched = [r.logical_date for r in self.world.runs_by_dag.get(dag.dag_id, ()) if r.logical_date
                 and r.get("run_type", "scheduled") == "scheduled"]
        if td is None or not sched:
            return None
        return max(sched) + td

    def last_parsed(self, dag):
        return fl.parse_ts(dag.get("last_parsed_time")) or (self.world.now - _dt.timedelta(seconds=42))

    def dag_obj(self, dag, details=False):
        w = self.world
        sched, summary, desc, td = schedule_info(dag)
        nxt = self.next_dagrun(dag)
        nxt_end = nxt + td if (nxt and td) else nxt
        has_ie = any(e.get("filename") == dag.fileloc for e in w.import_errors)
        name = dag.get("dag_display_name", dag.dag_id)
        start = fl.parse_ts(dag.get("start_date")) or min(
            [r.logical_date for r in w.runs_by_dag.get(dag.dag_id, ()) if r.logical_date] or [w.now])
        if self.api == "v1":
            o = {
                "dag_id": dag.dag_id, "dag_display_name": name, "root_dag_id": None, "is_paused": dag.is_paused,
                "is_active": dag.is_active, "is_subdag": False, "last_parsed_time": fl.iso_v1(self.last_parsed(dag)),
                "last_pickled": None, "last_expired": None, "scheduler_lock": None, "pickle_id": None,
                "default_view": "grid", "fileloc": dag.fileloc, "file_token": self.file_token(dag),
                "owners": dag.owners, "description": dag.get("description"), "schedule_interval": sched,
                "timetable_description": desc, "tags": [{"name": t} for t in dag.tags],
                "max_active_tasks": 16, "max_active_runs": dag.get("max_active_runs", 16),
                "has_task_concurrency_limits": False, "has_import_errors": has_ie,
                "next_dagrun": fl.iso_v1(nxt), "next_dagrun_data_interval_start": fl.iso_v1(nxt),
                "next_dagrun_data_interval_end": fl.iso_v1(nxt_end), "next_dagrun_create_after": fl.iso_v1(nxt_end),
                "max_consecutive_failed_dag_runs": 0,
            }
            if details:
                o.update({
                    "timezone": "Timezone('UTC')", "catchup": bool(dag.get("catchup", False)), "orientation": "LR",
                    "concurrency": 16, "start_date": fl.iso_v1(start), "dag_run_timeout": None,
                    "dataset_expression": None, "doc_md": dag.get("doc_md"), "params": {}, "end_date": None,
                    "is_paused_upon_creation": None, "last_parsed": fl.iso_v1(self.last_parsed(dag)),
                    "template_search_path": None, "render_template_as_native_obj": False,
                })
            return o
        rel = dag.get("relative_fileloc") or dag.fileloc
        if rel.startswith("/opt/airflow/dags/"):
            rel = rel[len("/opt/airflow/dags/"):]
        o = {
            "dag_id": dag.dag_id, "dag_display_name": name, "is_paused": dag.is_paused,
            "is_stale": not dag.is_active, "last_parsed_time": fl.iso_z(self.last_parsed(dag)),
            "last_parse_duration": 0.412, "last_expired": None, "bundle_name": dag.get("bundle_name", "dags-folder"),
            "bundle_version": self.dag_version(dag)["bundle_version"], "relative_fileloc": rel, "fileloc": dag.fileloc,
            "description": dag.get("description"), "timetable_summary": summary, "timetable_description": desc,
            "timetable_partitioned": False,
            "tags": [{"name": t, "dag_id": dag.dag_id, "dag_display_name": name} for t in dag.tags],
            "max_active_tasks": 16, "max_active_runs": dag.get("max_active_runs", 16),
            "max_consecutive_failed_dag_runs": 0, "has_task_concurrency_limits": False,
            "has_import_errors": has_ie, "next_dagrun_logical_date": fl.iso_z(nxt),
            "next_dagrun_data_interval_start": fl.iso_z(nxt), "next_dagrun_data_interval_end": fl.iso_z(nxt_end),
            "next_dagrun_run_after": fl.iso_z(nxt_end), "allowed_run_types": None, "owners": dag.owners,
            "file_token": self.file_token(dag),
        }
        if details:
            active = sum(1 for r in w.runs_by_dag.get(dag.dag_id, ()) if run_state(r) in ("running", "queued"))
            o.update({
                "catchup": bool(dag.get("catchup", False)), "dag_run_timeout": None, "asset_expression": None,
                "doc_md": dag.get("doc_md"), "start_date": fl.iso_z(start), "end_date": None,
                "is_paused_upon_creation": None, "params": {}, "render_template_as_native_obj": False,
                "template_search_path": None, "timezone": "UTC", "last_parsed": fl.iso_z(self.last_parsed(dag)),
                "default_args": {"owner": dag.owners[0], "retries": 0}, "owner_links": {}, "is_favorite": False,
                "active_runs_count": active, "concurrency": 16, "latest_dag_version": self.dag_version(dag),
            })
        return o

    def task_obj(self, dag, t):
        op = t.get("operator", "PythonOperator")
        module = t.get("module") or OPERATOR_MODULES.get(op, "airflow.models.baseoperator")
        retries = t.get("retries", 0)
        start = fl.parse_ts(dag.get("start_date"))
        retry_delay = {"__type": "TimeDelta", "days": 0, "seconds": int(t.get("retry_delay_s", 300)),
                       "microseconds": 0}
        timeout = None
        if t.get("execution_timeout_s"):
            s = int(t.execution_timeout_s)
            timeout = {"__type": "TimeDelta", "days": s // 86400, "seconds": s % 86400, "microseconds": 0}
        is_sensor = op.endswith("Sensor")
        if self.api == "v1":
            return {
                "class_ref": {"module_path": module, "class_name": op}, "task_id": t.task_id,
                "task_display_name": t.task_id, "owner": dag.owners[0], "start_date": fl.iso_v1(start),
                "end_date": None, "trigger_rule": t.get("trigger_rule", "all_success"), "extra_links": [],
                "depends_on_past": False, "is_mapped": bool(t.get("is_mapped", False)), "wait_for_downstream": False,
                "retries": float(retries), "queue": t.get("queue", "default"), "executor": None,
                "pool": t.get("pool", "default_pool"), "pool_slots": 1.0, "execution_timeout": timeout,
                "retry_delay": retry_delay, "retry_exponential_backoff": False, "priority_weight": 1.0,
                "weight_rule": "downstream", "ui_color": "#e6f1f2" if is_sensor else "#ffefeb",
                "ui_fgcolor": "#000", "template_fields": ["templates_dict", "op_args", "op_kwargs"]
                if "Python" in op else [], "downstream_task_ids": sorted(t.downstream), "doc_md": t.get("doc_md"),
            }
        return {
            "task_id": t.task_id, "task_display_name": t.task_id, "owner": dag.owners[0],
            "start_date": fl.iso_z(start), "end_date": None, "trigger_rule": t.get("trigger_rule", "all_success"),
            "depends_on_past": False, "wait_for_downstream": False, "retries": float(retries),
            "queue": t.get("queue", "default"), "pool": t.get("pool", "default_pool"), "pool_slots": 1.0,
            "execution_timeout": timeout, "retry_delay": retry_delay, "retry_exponential_backoff": 0.0,
            "priority_weight": 1.0, "weight_rule": "downstream",
            "ui_color": "#e6f1f2" if is_sensor else "#ffefeb", "ui_fgcolor": "#000",
            "template_fields": ["templates_dict", "op_args", "op_kwargs"] if "Python" in op else [],
            "downstream_task_ids": sorted(t.downstream), "doc_md": t.get("doc_md"), "operator_name": op,
            "params": {}, "class_ref": {"module_path": module, "class_name": op},
            "is_mapped": bool(t.get("is_mapped", False)), "extra_links": [],
        }

    def run_obj(self, r):
        dag = self.world.dag_by_id.get(r.dag_id)
        rt = r.get("run_type", "scheduled")
        if self.api == "v1":
            return {
                "dag_run_id": r.run_id, "dag_id": r.dag_id, "logical_date": fl.iso_v1(r.logical_date),
                "execution_date": fl.iso_v1(r.logical_date), "start_date": fl.iso_v1(r.start_date),
                "end_date": fl.iso_v1(r.end_date), "data_interval_start": fl.iso_v1(r.data_interval_start),
                "data_interval_end": fl.iso_v1(r.data_interval_end),
                "last_scheduling_decision": fl.iso_v1(r.last_scheduling_decision or r.end_date or r.start_date),
                "run_type": V1_RUN_TYPES.get(rt, rt), "state": run_state(r),
                "external_trigger": bool(r.get("external_trigger", rt == "manual")), "conf": r.get("conf") or {},
                "note": r.get("note"),
            }
        rt2 = V2_RUN_TYPES.get(rt, rt)
        trig = r.get("triggered_by") or {"scheduled": "timetable", "manual": "rest_api", "backfill": "backfill",
                                         "asset_triggered": "asset"}.get(rt2, "timetable")
        return {
            "dag_run_id": r.run_id, "dag_id": r.dag_id, "logical_date": fl.iso_z(r.logical_date),
            "queued_at": fl.iso_z(r.queued_at), "start_date": fl.iso_z(r.start_date), "end_date": fl.iso_z(r.end_date),
            "duration": fl.seconds_between(r.start_date, r.end_date),
            "data_interval_start": fl.iso_z(r.data_interval_start), "data_interval_end": fl.iso_z(r.data_interval_end),
            "run_after": fl.iso_z(r.run_after),
            "last_scheduling_decision": fl.iso_z(r.last_scheduling_decision or r.end_date or r.start_date),
            "run_type": rt2, "state": run_state(r), "triggered_by": trig,
            "triggering_user_name": r.get("triggering_user_name", "admin" if rt2 == "manual" else None),
            "conf": r.get("conf") or {}, "note": r.get("note"),
            "dag_versions": [self.dag_version(dag, r)] if dag else [], "bundle_version": r.get("bundle_version"),
            "dag_display_name": dag.get("dag_display_name", r.dag_id) if dag else r.dag_id, "partition_key": None,
        }

    def _ti_common(self, t, state, try_number, start, end, hostname, pid):
        op = self.world.operator_of(t)
        dur = t.get("duration") if start is t.start_date and t.get("duration") is not None else \
            fl.seconds_between(start, end)
        o = {
            "task_id": t.task_id, "task_display_name": t.task_id, "dag_id": t.dag_id, "dag_run_id": t.run.run_id,
            "start_date": self.tstamp(start), "end_date": self.tstamp(end), "duration": dur, "state": state,
            "try_number": try_number, "map_index": t.map_index, "max_tries": t.max_tries,
            "hostname": hostname if hostname is not None else "", "unixname": "airflow",
            "pool": t.get("pool", "default_pool"), "pool_slots": 1, "queue": t.get("queue", "default"),
            "priority_weight": t.get("priority_weight", 1), "operator": op,
            "queued_when": self.tstamp(t.queued_when), "pid": pid, "executor": None, "executor_config": "{}",
        }
        if self.api == "v2":
            dag = self.world.dag_by_id.get(t.dag_id)
            o["dag_display_name"] = dag.get("dag_display_name", t.dag_id) if dag else t.dag_id
            o["operator_name"] = op
            o["scheduled_when"] = self.tstamp(t.get("scheduled_when") and fl.parse_ts(t.scheduled_when)
                                              or t.queued_when)
            o["dag_version"] = self.dag_version(dag, t.run) if dag else None
        return o

    def pid_of(self, t, try_number):
        if t.get("pid") is not None:
            return t.pid
        return None if try_number == 0 else 1000 + (sum(map(ord, t.task_id + t.run.run_id)) * 7 + try_number) % 30000

    def ti_obj(self, t):
        o = self._ti_common(t, ti_state(t), t.try_number, t.start_date, t.end_date, t.get("hostname", ""),
                            self.pid_of(t, t.try_number))
        if self.api == "v1":
            o.update({"execution_date": fl.iso_v1(t.run.logical_date), "sla_miss": None, "rendered_map_index": None,
                      "rendered_fields": {}, "trigger": None, "triggerer_job": None, "note": t.get("note")})
        else:
            o.update({"id": det_uuid("ti", t.dag_id, t.run.run_id, t.task_id, t.map_index),
                      "logical_date": fl.iso_z(t.run.logical_date), "run_after": fl.iso_z(t.run.run_after),
                      "note": t.get("note"), "rendered_map_index": None, "rendered_fields": {}, "trigger": None,
                      "triggerer_job": None})
        return o

    def try_obj(self, t, tr):
        last = tr is t.tries[-1]
        st = tr.get("state") or (ti_state(t) if last else "failed")
        return self._ti_common(t, st, tr.try_number, tr.start_date, tr.end_date, tr.hostname,
                               self.pid_of(t, tr.try_number))

    # ------------------------------------------------------------------ routes

    def _routes(self):
        R = self.router.add
        if self.api == "v1":
            b = "/api/v1"
            R("GET", b + "/version", self.get_version)
            R("GET", b + "/health", self.get_health)
        else:
            b = "/api/v2"
            R("POST", "/auth/token", self.post_token)
            R("POST", "/auth/token/cli", self.post_token)
            R("GET", b + "/version", self.get_version)
            R("GET", b + "/monitor/health", self.get_health)
        R("GET", b + "/dags", self.get_dags)
        R("GET", b + "/dags/{dag_id}", self.get_dag)
        R("GET", b + "/dags/{dag_id}/details", self.get_dag_details)
        R("GET", b + "/dags/{dag_id}/tasks", self.get_tasks)
        R("GET", b + "/dags/{dag_id}/tasks/{task_id}", self.get_task)
        R("GET", b + "/dags/{dag_id}/dagRuns", self.get_dag_runs)
        # v1 names the batch routes with a literal ~ (other ids fall through to
        # the GET-only run/TI routes: 405); v2 types the path id Literal["~"].
        R("POST", b + ("/dags/~/dagRuns/list" if self.api == "v1" else "/dags/{dag_id}/dagRuns/list"),
          self.post_dag_runs_list)
        R("GET", b + "/dags/{dag_id}/dagRuns/{dag_run_id}", self.get_dag_run)
        ti = b + "/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances"
        R("GET", ti, self.get_tis)
        R("POST", (b + "/dags/~/dagRuns/~/taskInstances/list") if self.api == "v1" else ti + "/list",
          self.post_tis_list)
        R("GET", ti + "/{task_id}", self.get_ti)
        R("GET", ti + "/{task_id}/listMapped", self.get_mapped_tis)
        R("GET", ti + "/{task_id}/tries", self.get_tries)
        R("GET", ti + "/{task_id}/tries/{task_try_number}", self.get_try)
        R("GET", ti + "/{task_id}/logs/{task_try_number}" if self.api == "v1" else ti + "/{task_id}/logs/{try_number}",
          self.get_log)
        R("GET", ti + "/{task_id}/{map_index}", self.get_ti)
        R("GET", ti + "/{task_id}/{map_index}/tries", self.get_tries)
        R("GET", ti + "/{task_id}/{map_index}/tries/{task_try_number}", self.get_try)
        R("GET", b + "/importErrors", self.get_import_errors)
        R("GET", b + "/importErrors/{import_error_id}", self.get_import_error)

    # ------------------------------------------------------------------ handlers

    def ok(self, obj, status=200):
        if self.api == "v1":
            return self.v1_json(status, obj)
        return json_resp(status, obj)

    def get_version(self, req):
        git = {"2.10.5": ".release:b93c3db6b1641b0840bd15ac7d05bc58ff2cccbf"}.get(self.version)
        if self.api == "v2":
            git = git or ".release:74b0fd98f9876374c52a2d4acd891497c3b93774"
        return self.ok({"version": self.version, "git_version": git})

    def get_health(self, req):
        h = self.world.health
        now = self.world.now

        def comp(name, hb_key, default_healthy):
            c = h.get(name)
            if c is None:
                if not default_healthy:
                    return {"status": None, hb_key: None}
                return {"status": "healthy", hb_key: self.tstamp(now - _dt.timedelta(seconds=3))}
            hb = c.get(hb_key)
            return {"status": c.get("status"), hb_key: self.tstamp(fl.parse_ts(hb)) if hb else None}

        o = {"metadatabase": {"status": (h.get("metadatabase") or {}).get("status", "healthy")},
             "scheduler": comp("scheduler", "latest_scheduler_heartbeat", True),
             "triggerer": comp("triggerer", "latest_triggerer_heartbeat", False),
             "dag_processor": comp("dag_processor", "latest_dag_processor_heartbeat", False)}
        return self.ok(o)

    def find_dag(self, dag_id):
        dag = self.world.dag_by_id.get(dag_id)
        if dag is None:
            raise self.err(404, "DAG not found", "DAG with dag_id: '%s' not found" % dag_id,
                           "Dag with id %s was not found" % dag_id)
        return dag

    def get_dags(self, req):
        limit, offset = self.page(req)
        dags = list(self.world.dags)
        if self.api == "v1":
            if self.qbool(req, "only_active", True):
                dags = [d for d in dags if d.is_active]
            pat = req.q("dag_id_pattern")
            if pat:
                dags = [d for d in dags if pat.lower() in d.dag_id.lower()]
            order = [req.q("order_by") or "dag_id"]
        else:
            if self.qbool(req, "exclude_stale", True):
                dags = [d for d in dags if d.is_active]
            pat = req.q("dag_id_pattern")
            if pat:
                dags = [d for d in dags if fl.sql_like(pat, d.dag_id)]
            owners = req.qlist("owners")
            if owners:
                dags = [d for d in dags if set(owners) & set(d.owners)]
            order = req.qlist("order_by") or ["dag_id"]
        paused = self.qbool(req, "paused", None)
        if paused is not None:
            dags = [d for d in dags if d.is_paused == paused]
        tags = req.qlist("tags")
        if tags:
            dags = [d for d in dags if set(tags) & set(d.tags)]
        dags = self.order(dags, order, {"dag_id", "last_parsed_time", "next_dagrun", "fileloc", "dag_display_name",
                                         "is_paused"},
                          {"dag_display_name": lambda d: d.get("dag_display_name", d.dag_id)})
        total = len(dags)
        return self.ok({"dags": [self.dag_obj(d) for d in dags[offset:offset + limit]], "total_entries": total})

    def get_dag(self, req):
        return self.ok(self.dag_obj(self.find_dag(req.params["dag_id"])))

    def get_dag_details(self, req):
        return self.ok(self.dag_obj(self.find_dag(req.params["dag_id"]), details=True))

    def get_tasks(self, req):
        dag = self.find_dag(req.params["dag_id"])
        key = req.q("order_by") or "task_id"
        desc = key.startswith("-")
        k = key.lstrip("-")
        objs = [self.task_obj(dag, t) for t in dag.tasks]
        if objs and k not in objs[0]:
            raise self.err(400, "Bad Request", "'%s' object has no attribute '%s'" % ("BaseOperator", k),
                           "'%s' object has no attribute '%s'" % ("SerializedBaseOperator", k))
        objs.sort(key=lambda o: fl.sort_key_none_last(o.get(k)), reverse=desc)
        return self.ok({"tasks": objs, "total_entries": len(objs)})

    def get_task(self, req):
        dag = self.find_dag(req.params["dag_id"])
        t = dag.task_by_id.get(req.params["task_id"])
        if t is None:
            raise self.err(404, "Task not found", "Task with id '%s' not found" % req.params["task_id"],
                           "Task with id %s not found" % req.params["task_id"])
        return self.ok(self.task_obj(dag, t))

    # ---- dag runs

    RUN_ORDER_V1 = {"id", "state", "dag_id", "execution_date", "dag_run_id", "start_date", "end_date", "updated_at",
                    "external_trigger", "conf"}
    RUN_ORDER_V2 = {"id", "state", "dag_id", "run_id", "logical_date", "run_after", "start_date", "end_date",
                    "updated_at", "conf", "duration", "dag_run_id"}
    RUN_GET = {
        "execution_date": lambda r: r.logical_date, "logical_date": lambda r: r.logical_date,
        "dag_run_id": lambda r: r.run_id, "run_id": lambda r: r.run_id, "state": run_state,
        "external_trigger": lambda r: r.get("run_type") == "manual", "conf": lambda r: json.dumps(r.get("conf") or {}),
        "duration": lambda r: fl.seconds_between(r.start_date, r.end_date),
    }

    def filter_runs(self, runs, req, body=None):
        src = body if body is not None else None
        if self.api == "v1":
            runs = self.range_filter(runs, req, "execution_date", lambda r: r.logical_date, src)
            ranges = ["start_date", "end_date"] + (["updated_at"] if body is None else [])
        else:
            runs = self.range_filter(runs, req, "logical_date", lambda r: r.logical_date, src)
            runs = self.range_filter(runs, req, "run_after", lambda r: r.run_after, src)
            runs = self.range_filter(runs, req, "duration", lambda r: fl.seconds_between(r.start_date, r.end_date),
                                     src)
            ranges = ["start_date", "end_date"] + (["updated_at"] if body is None else [])
        for base in ranges:
            runs = self.range_filter(runs, req, base, lambda r, b=base: r.get(b), src)
        states = (body.get("states") if body is not None else req.qlist("state")) or []
        if states:
            valid = {"queued", "running", "success", "failed"}
            for s in states:
                if s not in valid:
                    if self.api == "v1":
                        raise HttpError(self.problem(400, "Bad Request",
                                                     "'%s' is not one of %s" % (s, sorted(valid))))
                    raise self.v2_invalid([{"type": "enum", "loc": ["query" if body is None else "body", "state"],
                                            "msg": "Input should be 'queued', 'running', 'success' or 'failed'",
                                            "input": s, "ctx": {"expected": "'queued', 'running', 'success' or "
                                                                            "'failed'"}}])
            runs = [r for r in runs if run_state(r) in states]
        if self.api == "v2" and body is None:
            rts = req.qlist("run_type")
            if rts:
                runs = [r for r in runs if V2_RUN_TYPES.get(r.get("run_type", "scheduled"),
                                                            r.get("run_type", "scheduled")) in rts]
            for pname, get in (("run_id_pattern", lambda r: r.run_id), ("dag_id_pattern", lambda r: r.dag_id)):
                pat = req.q(pname)
                if pat:
                    runs = [r for r in runs if fl.sql_like(pat, get(r))]
        return runs

    def get_dag_runs(self, req):
        dag_id = req.params["dag_id"]
        if dag_id != "~" and self.api == "v2":
            self.find_dag(dag_id)
        limit, offset = self.page(req)
        runs = self.filter_runs(self.world.runs_of(dag_id), req)
        if self.api == "v1":
            runs = self.order(runs, [req.q("order_by") or "id"], self.RUN_ORDER_V1, self.RUN_GET)
        else:
            runs = self.order(runs, req.qlist("order_by") or ["id"], self.RUN_ORDER_V2, self.RUN_GET)
        return self.ok({"dag_runs": [self.run_obj(r) for r in runs[offset:offset + limit]],
                        "total_entries": len(runs)})

    def read_body(self, req, allowed):
        try:
            body = req.json()
        except ValueError:
            if self.api == "v1":
                raise HttpError(self.problem(400, "Bad Request", "Request body is not valid JSON"))
            raise self.v2_invalid([{"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error",
                                    "input": {}, "ctx": {"error": "Expecting value"}}])
        if body is None:
            body = {}
        if not isinstance(body, dict):
            if self.api == "v1":
                raise HttpError(self.problem(400, "Bad Request", "%r is not of type 'object'" % (body,)))
            raise self.v2_invalid([{"type": "model_attributes_type", "loc": ["body"],
                                    "msg": "Input should be a valid dictionary or object to extract fields from",
                                    "input": body}])
        extra = [k for k in body if k not in allowed]
        if extra:
            if self.api == "v1":
                raise HttpError(self.problem(400, "Bad Request", str({k: ["Unknown field."] for k in extra})))
            raise self.v2_invalid([{"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not "
                                    "permitted", "input": body[k]} for k in extra])
        return body

    def body_page(self, body):
        lim = body.get("page_limit", 100)
        off = body.get("page_offset", 0)
        for name, v in (("page_limit", lim), ("page_offset", off)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise self.bad_param("body", name, v, "int")
        if off < 0:
            raise self.bad_param("body", "page_offset", off, "min0")
        if self.api == "v1":
            if lim < 1:
                raise HttpError(self.problem(400, "Bad Request", "%d is less than the minimum of 1" % lim))
        elif lim < 0:
            raise self.bad_param("body", "page_limit", lim, "min0")
        return min(lim, self.max_page), off

    def post_dag_runs_list(self, req):
        if req.params.get("dag_id", "~") != "~":
            if self.api == "v2":
                raise self.v2_invalid([{"type": "literal_error", "loc": ["path", "dag_id"],
                                        "msg": "Input should be '~'", "input": req.params["dag_id"],
                                        "ctx": {"expected": "'~'"}}])
            return self.method_not_allowed(req, ["GET", "POST"])
        if self.api == "v1":
            allowed = {"order_by", "page_offset", "page_limit", "dag_ids", "states", "execution_date_gte",
                       "execution_date_lte", "start_date_gte", "start_date_lte", "end_date_gte", "end_date_lte"}
        else:
            allowed = {"order_by", "page_offset", "page_limit", "dag_ids", "states", "conf_contains"}
            for base in ("run_after", "logical_date", "start_date", "end_date", "duration"):
                for op in ("gte", "gt", "lte", "lt"):
                    allowed.add("%s_%s" % (base, op))
        body = self.read_body(req, allowed)
        limit, offset = self.body_page(body)

        def listing():
            runs = self.runs_of_dags(body.get("dag_ids"))
            runs = self.filter_runs(runs, req, body)
            return self.order(runs, [body.get("order_by") or "id"],
                              self.RUN_ORDER_V1 if self.api == "v1" else self.RUN_ORDER_V2, self.RUN_GET)
        runs = self.query(req, body, listing)
        return self.ok({"dag_runs": [self.run_obj(r) for r in runs[offset:offset + limit]],
                        "total_entries": len(runs)})

    def query(self, req, body, listing):
        """The whole answer of a batch listing (before paging), made once for
        the pages that follow: the client asks for all of them at once."""
        key = (req.raw_path, json.dumps({k: v for k, v in body.items() if k not in ("page_limit", "page_offset")},
                                        sort_keys=True))
        with self._queries_lock:
            hit = self._queries.get(key)
            if hit is not None:
                self._queries.move_to_end(key)
                return hit
        items = listing()
        with self._queries_lock:
            self._queries[key] = items
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return items

    def runs_of_dags(self, dag_ids):
        """The runs of these DAGs (all when none), in id order, from the index."""
        if not dag_ids:
            return list(self.world.runs)
        runs = [r for d in set(dag_ids) for r in self.world.runs_by_dag.get(d, ())]
        runs.sort(key=lambda r: r.id)
        return runs

    def find_run(self, dag_id, run_id):
        r = self.world.run_by_key.get((dag_id, run_id))
        if r is None:
            raise self.err(404, "DAGRun not found",
                           "DAGRun with DAG ID: '%s' and DagRun ID: '%s' not found" % (dag_id, run_id),
                           "The DagRun with dag_id: `%s` and run_id: `%s` was not found" % (dag_id, run_id))
        return r

    def get_dag_run(self, req):
        return self.ok(self.run_obj(self.find_run(req.params["dag_id"], req.params["dag_run_id"])))

    # ---- task instances

    TI_ORDER_V2 = {"id", "state", "duration", "start_date", "end_date", "map_index", "try_number", "logical_date",
                   "run_after", "data_interval_start", "data_interval_end", "rendered_map_index", "operator",
                   "run_id", "dag_id", "task_id", "pool", "queue", "queued_dttm", "hostname", "pid",
                   "priority_weight"}

    def all_tis(self, dag_id, run_id):
        if dag_id != "~" and run_id != "~":
            r = self.world.run_by_key.get((dag_id, run_id))
            return list(r.tis) if r else []
        return [t for r in self.world.runs_of(dag_id) if run_id in ("~", r.run_id) for t in r.tis]

    def ti_duration(self, t):
        return t.get("duration") if t.get("duration") is not None else fl.seconds_between(t.start_date, t.end_date)

    def filter_tis(self, tis, req, body=None):
        src = body
        if self.api == "v1":
            tis = self.range_filter(tis, req, "execution_date", lambda t: t.run.logical_date, src)
        else:
            tis = self.range_filter(tis, req, "logical_date", lambda t: t.run.logical_date, src)
            tis = self.range_filter(tis, req, "run_after", lambda t: t.run.run_after, src)
        for base in ("start_date", "end_date") + (("updated_at",) if body is None else ()):
            tis = self.range_filter(tis, req, base, lambda t, b=base: t.get(b), src)
        tis = self.range_filter(tis, req, "duration", self.ti_duration, src)
        states = (body.get("state") if body is not None else req.qlist("state")) or []
        if states:
            valid = TI_STATES_V1 if self.api == "v1" else TI_STATES_V2 | {"none", "no_status"}
            want = set()
            for s in states:
                if s is None:
                    want.add(None)
                    continue
                if s not in valid:
                    if self.api == "v1":
                        raise HttpError(self.problem(400, "Bad Request", "'%s' is not one of %s" % (
                            s, sorted(TI_STATES_V1))))
                    raise self.v2_invalid([{"type": "value_error", "loc": ["query" if body is None else "body",
                                                                            "state"],
                                            "msg": "Value error, Invalid value for state. Valid values are %s" %
                                                   ", ".join(sorted(TI_STATES_V2)), "input": s}])
                want.add(None if s in ("none", "no_status") else s)
            tis = [t for t in tis if ti_state(t) in want]
        for key in ("pool", "queue", "executor"):
            vals = (body.get(key) if body is not None else req.qlist(key)) or []
            if vals:
                dflt = {"pool": "default_pool", "queue": "default", "executor": None}[key]
                tis = [t for t in tis if t.get(key, dflt) in vals]
        if body is not None:
            for key, get in (("dag_ids", lambda t: t.dag_id), ("dag_run_ids", lambda t: t.run.run_id),
                             ("task_ids", lambda t: t.task_id)):
                if body.get(key):
                    want = set(body[key])
                    tis = [t for t in tis if get(t) in want]
        elif self.api == "v2":
            if req.q("task_id"):
                tis = [t for t in tis if t.task_id == req.q("task_id")]
            for name, get in (("try_number", lambda t: t.try_number), ("map_index", lambda t: t.map_index)):
                vals = req.qlist(name)
                if vals:
                    try:
                        ints = {int(v) for v in vals}
                    except ValueError:
                        raise self.bad_param("query", name, vals[0], "int")
                    tis = [t for t in tis if get(t) in ints]
            ops = req.qlist("operator")
            if ops:
                tis = [t for t in tis if self.world.operator_of(t) in ops]
            for pname, get in (("run_id_pattern", lambda t: t.run.run_id), ("dag_id_pattern", lambda t: t.dag_id)):
                pat = req.q(pname)
                if pat:
                    tis = [t for t in tis if fl.sql_like(pat, get(t))]
        return tis

    TI_GET = {"run_id": lambda t: t.run.run_id, "logical_date": lambda t: t.run.logical_date,
              "run_after": lambda t: t.run.run_after, "state": ti_state, "operator": lambda t: t.get("operator"),
              "id": lambda t: (t.run.id, t.order), "queued_dttm": lambda t: t.queued_when}

    def order_tis(self, tis, keys):
        getters = dict(self.TI_GET)
        getters["duration"] = self.ti_duration
        return self.order(tis, keys, self.TI_ORDER_V2, getters)

    def get_tis(self, req):
        dag_id, run_id = req.params["dag_id"], req.params["dag_run_id"]
        if self.api == "v2":
            if dag_id != "~":
                self.find_dag(dag_id)
                if run_id != "~":
                    self.find_run(dag_id, run_id)
        limit, offset = self.page(req)
        tis = self.filter_tis(self.all_tis(dag_id, run_id), req)
        if self.api == "v2":
            tis = self.order_tis(tis, req.qlist("order_by") or ["map_index"])
        return self.ok({"task_instances": [self.ti_obj(t) for t in tis[offset:offset + limit]],
                        "total_entries": len(tis)})

    def post_tis_list(self, req):
        if req.params.get("dag_id", "~") != "~" or req.params.get("dag_run_id", "~") != "~":
            if self.api == "v2":
                errs = [{"type": "literal_error", "loc": ["path", k], "msg": "Input should be '~'",
                         "input": req.params[k], "ctx": {"expected": "'~'"}}
                        for k in ("dag_id", "dag_run_id") if req.params[k] != "~"]
                raise self.v2_invalid(errs)
            return self.not_found(req)
        allowed = {"page_offset", "page_limit", "dag_ids", "dag_run_ids", "task_ids", "state", "pool", "queue",
                   "executor", "duration_gte", "duration_lte", "start_date_gte", "start_date_lte", "end_date_gte",
                   "end_date_lte"}
        if self.api == "v1":
            allowed |= {"execution_date_gte", "execution_date_lte"}
        else:
            allowed |= {"order_by", "duration_gt", "duration_lt", "start_date_gt", "start_date_lt", "end_date_gt",
                        "end_date_lt"}
            for base in ("run_after", "logical_date"):
                for op in ("gte", "gt", "lte", "lt"):
                    allowed.add("%s_%s" % (base, op))
        body = self.read_body(req, allowed)
        limit, offset = self.body_page(body)

        def listing():
            # the runs named, from the index: a fleet's 720,000 task instances are not scanned
            runs = self.runs_of_dags(body.get("dag_ids"))
            if body.get("dag_run_ids"):
                want = set(body["dag_run_ids"])
                runs = [r for r in runs if r.run_id in want]
            tis = self.filter_tis([t for r in runs for t in r.tis], req, body)
            if self.api == "v2":
                tis = self.order_tis(tis, [body.get("order_by") or "map_index"])
            return tis
        tis = self.query(req, body, listing)
        return self.ok({"task_instances": [self.ti_obj(t) for t in tis[offset:offset + limit]],
                        "total_entries": len(tis)})

    def map_index_of(self, req):
        if "map_index" in req.params:
            try:
                return int(req.params["map_index"])
            except ValueError:
                raise self.bad_param("path", "map_index", req.params["map_index"], "int")
        if self.api == "v2":
            return self.qint(req, "map_index", -1)
        return -1

    def ti_missing(self, dag_id, run_id, task_id, mi, v1_title="Task instance not found"):
        return self.err(404, v1_title, None,
                        "The Task Instance with dag_id: `%s`, run_id: `%s`, task_id: `%s` and map_index: `%d` was "
                        "not found" % (dag_id, run_id, task_id, mi))

    def lookup_ti(self, req):
        p = req.params
        mi = self.map_index_of(req)
        t = self.world.find_ti(p["dag_id"], p["dag_run_id"], p["task_id"], mi)
        if t is None:
            raise self.ti_missing(p["dag_id"], p["dag_run_id"], p["task_id"], mi)
        return t

    def get_ti(self, req):
        if "map_index" not in req.params and self.api == "v2":
            req.query.pop("map_index", None)
        return self.ok(self.ti_obj(self.lookup_ti(req)))

    def get_mapped_tis(self, req):
        p = req.params
        dag = self.find_dag(p["dag_id"])
        if p["task_id"] not in dag.task_by_id:
            raise self.err(404, "Task id %s not found" % p["task_id"], None,
                           "Task id %s not found" % p["task_id"])
        self.find_run(p["dag_id"], p["dag_run_id"])
        limit, offset = self.page(req)
        tis = [t for t in self.all_tis(p["dag_id"], p["dag_run_id"]) if t.task_id == p["task_id"] and t.map_index >= 0]
        tis = self.filter_tis(tis, req)
        if self.api == "v1":
            tis = self.order(tis, [req.q("order_by") or "map_index"], {"map_index", "state", "start_date",
                                                                        "end_date", "duration", "try_number"},
                             {"state": ti_state, "duration": self.ti_duration})
        else:
            tis = self.order_tis(tis, req.qlist("order_by") or ["map_index"])
        return self.ok({"task_instances": [self.ti_obj(t) for t in tis[offset:offset + limit]],
                        "total_entries": len(tis)})

    def get_tries(self, req):
        t = self.lookup_ti(req)
        rows = [self.try_obj(t, tr) for tr in t.tries]
        if not rows and self.api == "v2":
            p = req.params
            raise HttpError(json_resp(404, {
                "detail": "The Task Instance with dag_id: `%s`, run_id: `%s`, task_id: `%s` and map_index: `%d` "
                          "was not found" % (p["dag_id"], p["dag_run_id"], p["task_id"], t.map_index)}))
        # The real v1 server answers with the key "task_instances" (NOTES.md §6),
        # not the spec's "task_instances_history", and ignores limit/offset.
        return self.ok({"task_instances": rows, "total_entries": len(rows)})

    def get_try(self, req):
        t = self.lookup_ti(req)
        try:
            n = int(req.params["task_try_number"])
        except ValueError:
            raise self.bad_param("path", "task_try_number", req.params["task_try_number"], "int")
        for tr in t.tries:
            if tr.try_number == n:
                return self.ok(self.try_obj(t, tr))
        p = req.params
        raise self.err(404, "Task instance not found", None,
                       "The Task Instance with dag_id: `%s`, run_id: `%s`, task_id: `%s`, try_number: `%d` and "
                       "map_index: `%d` was not found" % (p["dag_id"], p["dag_run_id"], p["task_id"], n, t.map_index))

    # ---- logs

    def log_parts(self, t, n):
        """(host, header_text, log object or None, fallback text) of try n."""
        tr = next((x for x in t.tries if x.try_number == n), None)
        rel = self.world.log_relpath(t, n)
        local = "/opt/airflow/logs/" + rel
        if tr is None:
            host = t.get("hostname") or ""
            if self.api == "v2" and ti_state(t) in ("skipped", "upstream_failed") and n <= max(1, t.try_number):
                return host, None, None, None, "skipped"
            return host, None, None, self.unreadable(host, rel), "missing"
        host = tr.hostname or ""
        log = self.world.log_of(tr)
        if log is None:
            return host, None, None, self.unreadable(host, rel), "missing"
        if host in ("", "localhost"):
            src = "*** Found local files:\n***   * %s\n" % local
        else:
            src = "*** Found logs served from host http://%s:8793/log/%s\n" % (host, rel)
        return host, src, log, None, "ok"

    @staticmethod
    def unreadable(host, rel):
        if not host:
            return ("*** Could not read served logs: Invalid URL 'http://:8793/log/%s': No host supplied\n" % rel)
        return ("*** Could not read served logs: Client error '404 NOT FOUND' for url "
                "'http://%s:8793/log/%s'\n" % (host, rel))

    def get_log(self, req):
        p = req.params
        nkey = "task_try_number" if self.api == "v1" else "try_number"
        try:
            n = int(p[nkey])
        except ValueError:
            raise self.bad_param("path", nkey, p[nkey], "int")
        if self.api == "v2" and n < 0:
            raise self.bad_param("path", "try_number", p[nkey], "min0")
        mi = self.qint(req, "map_index", -1)
        full = self.qbool(req, "full_content", False)
        token = req.q("token")
        meta = None
        if token is not None:
            try:
                meta = fl.unsign_token(token)
            except ValueError:
                raise self.err(400, "Bad Request", "Bad Signature. Please use only the tokens provided by the API.",
                               "Bad Signature. Please use only the tokens provided by the API.")
        t = self.world.find_ti(p["dag_id"], p["dag_run_id"], p["task_id"], mi)
        if t is None:
            if self.api == "v1":
                raise HttpError(self.problem(404, "TaskInstance not found"))
            raise HttpError(json_resp(404, {"detail": "TaskInstance not found"}))
        if self.api == "v1":
            return self.log_v1(req, t, n, full, meta)
        return self.log_v2(req, t, n, full, meta)

    @staticmethod
    def accept_v1(header):
        """werkzeug best_match(["text/plain", "application/json"]); None if no header."""
        if not header:
            return None
        entries = []
        for part in header.split(","):
            bits = [b.strip() for b in part.split(";")]
            q = 1.0
            for b in bits[1:]:
                if b.startswith("q="):
                    try:
                        q = float(b[2:])
                    except ValueError:
                        q = 0.0
            entries.append((bits[0].lower(), q))
        best, best_q = None, 0.0
        for offer in ("text/plain", "application/json"):
            q = 0.0
            for mt, eq in entries:
                if mt == offer or mt == "*/*" or mt == offer.split("/")[0] + "/*":
                    q = max(q, eq)
            if q > best_q:
                best, best_q = offer, q
        return best

    def _running(self, t, n):
        return ti_state(t) in ("running", "deferred") and n == t.try_number

    def log_v1(self, req, t, n, full, meta):
        mode = self.accept_v1(req.header("Accept"))
        if n < 1:
            host, text = "default_host", "Error fetching the logs. Try number %d is invalid." % n
            if mode == "text/plain":
                return stream_resp(200, iter(["%s\n%s\n" % (host, text)]), "text/plain")
            tok = fl.sign_token({"end_of_log": True})
            return self.v1_json(200, {"content": repr([(host, text)]), "continuation_token": tok})
        host, src, log, fallback, status = self.log_parts(t, n)
        end_of_log = not self._running(t, n)
        header = ""
        if src is not None:
            header = " INFO - ::group::Log message source details\n" + src + " INFO - ::endgroup::\n"
        if status == "skipped":
            header, fallback = "", ""
        pos = 0
        if meta is not None and not full:
            pos = int(meta.get("log_pos", 0) or 0)
            header = ""
        if mode == "text/plain":
            def gen():
                yield host + "\n" + header
                if log is not None:
                    skipped = 0
                    for c in log.chunks():
                        if skipped + len(c) <= pos:
                            skipped += len(c)
                            continue
                        if skipped < pos:
                            c = c[pos - skipped:]
                            skipped = pos
                        yield c
                else:
                    yield fallback or ""
                yield "\n"
            return stream_resp(200, gen(), "text/plain")
        if log is not None and log.generated:
            return self.log_v1_json_stream(host, header, log, end_of_log)
        text = log.text if log is not None else (fallback or "")
        body = header + text[pos:]
        tok = fl.sign_token({"end_of_log": end_of_log, "log_pos": len(text)})
        return self.v1_json(200, {"content": repr([(host, body)]), "continuation_token": tok})

    def log_v1_json_stream(self, host, header, log, end_of_log):
        """JSON for a generated (huge) log, streamed: content is the repr of
        [(host, text)] with text escaped piecewise exactly as repr() would
        (the generated text holds both quote kinds, so repr picks ')."""
        size = log.size()

        # repr() uses " only when the text holds ' and no "; the header and
        # noise lines hold neither quote, so the tail decides.
        dq = "'" in log.tail and '"' not in log.tail
        q = '"' if dq else "'"

        def esc(s):
            r = repr(s + "'")[1:-2] if dq else repr(s + "'\"")[1:-4]
            return json.dumps(r)[1:-1]

        def gen():
            yield '{\n  "content": "' + esc_pre(host) + esc(header)
            for c in log.chunks():
                yield esc(c)
            tok = fl.sign_token({"end_of_log": end_of_log, "log_pos": size})
            yield json.dumps(q + ")]")[1:-1] + "\",\n  \"continuation_token\": " + json.dumps(tok) + "\n}\n"

        def esc_pre(h):
            return json.dumps("[(" + repr(h) + ", " + q)[1:-1]

        return stream_resp(200, gen(), "application/json")

    def structured(self, log, sources):
        """Yield StructuredLogMessage dicts the way Airflow 3 shows a log."""
        yield {"timestamp": None, "event": "::group::Log message source details", "sources": sources}
        yield {"timestamp": None, "event": "::endgroup::"}
        if log is None:
            return
        if log.generated:
            yield from self._structured_generated(log)
            return
        ts = None
        for line in log.lines():
            if not line:
                continue
            if line.startswith("{"):
                try:
                    obj = json.loads(line)
                    if isinstance(obj, dict) and "event" in obj:
                        if "timestamp" in obj and obj["timestamp"]:
                            try:
                                ts = fl.parse_ts(obj["timestamp"])
                                obj["timestamp"] = pyd_ts(ts)
                            except ValueError:
                                pass
                        yield obj
                        continue
                except ValueError:
                    pass
            m = fl.AIRFLOW2_LINE.match(line)
            if m:
                try:
                    ts = fl.parse_airflow_ts(m.group("ts"))
                except ValueError:
                    pass
            yield {"event": line, "timestamp": pyd_ts(ts) if ts else None}

    def _structured_generated(self, log):
        """Generated logs: head/tail parsed, noise lines built directly
        (the same objects structured() would make, much faster)."""
        ts = None
        for line in log.head.splitlines():
            m = fl.AIRFLOW2_LINE.match(line)
            if m:
                ts = fl.parse_airflow_ts(m.group("ts"))
            yield {"event": line, "timestamp": pyd_ts(ts) if ts else None}
        last = None
        for line, iso in log.iter_noise(0, log.count):
            last = iso
            yield fl.Raw('{"event": "%s", "timestamp": "%s"}' % (line, iso))
        if last is not None:
            ts = fl.parse_ts(last)
        for line in log.tail.splitlines():
            if not line:
                continue
            m = fl.AIRFLOW2_LINE.match(line)
            if m:
                ts = fl.parse_airflow_ts(m.group("ts"))
            yield {"event": line, "timestamp": pyd_ts(ts) if ts else None}

    def log_v2(self, req, t, n, full, meta):
        accept = (req.header("Accept") or "*/*").strip().lower()
        if accept.startswith("application/x-ndjson"):
            mode = "ndjson"
        elif accept.startswith("application/json") or accept.startswith("*/*"):
            mode = "json"
        else:
            return json_resp(406, {"detail": "Only application/json or application/x-ndjson is supported"})
        token = None
        if n < 1:
            items = iter([{"level": "error", "event": "Error fetching the logs. Try number %d is invalid." % n}])
        else:
            host, src, log, fallback, status = self.log_parts(t, n)
            if status == "skipped":
                items = iter([{"event": "Task was skipped, no logs available."}])
            elif status == "missing":
                items = iter([{"timestamp": None, "event": "::group::Log message source details",
                               "sources": []},
                              {"timestamp": None, "event": "::endgroup::"},
                              {"timestamp": None, "event": fallback.strip()}])
            else:
                rel = self.world.log_relpath(t, n)
                srcs = ["/opt/airflow/logs/" + rel] if host in ("", "localhost") else \
                    ["http://%s:8793/log/%s" % (host, rel)]
                items = self.structured(log, srcs)
                if meta is not None and not full:
                    skip = int(meta.get("log_pos", 0) or 0)
                    items = (x for i, x in enumerate(self.structured(log, srcs)) if i >= skip)
            if self._running(t, n):
                token = fl.sign_token({"end_of_log": False, "log_pos": 0})
        if mode == "ndjson":
            hdrs = [("Airflow-Continuation-Token", token)] if token else []
            return stream_resp(200, (fl.dumps(x) + "\n" for x in items), "application/x-ndjson", hdrs)

        def gen():
            yield '{"content": ['
            first = True
            for x in items:
                yield ("" if first else ", ") + fl.dumps(x)
                first = False
            yield '], "continuation_token": %s}' % json.dumps(token)
        return stream_resp(200, gen(), "application/json")

    # ---- import errors

    def ie_obj(self, e):
        o = {"import_error_id": e.id, "timestamp": self.tstamp(e.timestamp), "filename": e.get("filename"),
             "stack_trace": e.get("stack_trace", "")}
        if self.api == "v2":
            o["bundle_name"] = e.get("bundle_name", "dags-folder")
        return o

    def get_import_errors(self, req):
        limit, offset = self.page(req)
        errs = list(self.world.import_errors)
        if self.api == "v2" and req.q("filename_pattern"):
            errs = [e for e in errs if fl.sql_like(req.q("filename_pattern"), e.get("filename", ""))]
        keys = [req.q("order_by") or "import_error_id"] if self.api == "v1" else \
            (req.qlist("order_by") or ["id"])
        errs = self.order(errs, keys, {"import_error_id", "id", "timestamp", "filename"},
                          {"import_error_id": lambda e: e.id, "id": lambda e: e.id})
        return self.ok({"import_errors": [self.ie_obj(e) for e in errs[offset:offset + limit]],
                        "total_entries": len(errs)})

    def get_import_error(self, req):
        try:
            n = int(req.params["import_error_id"])
        except ValueError:
            raise self.bad_param("path", "import_error_id", req.params["import_error_id"], "int")
        for e in self.world.import_errors:
            if e.id == n:
                return self.ok(self.ie_obj(e))
        raise self.err(404, "Import error not found", "The ImportError with import_error_id: `%d` was not found" % n,
                       "The ImportError with import_error_id: `%d` was not found" % n)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--api", choices=["v1", "v2"], required=True)
    fl.add_common_args(p)
    p.add_argument("--max-page-limit", type=int, default=MAX_PAGE,
                   help="[api] maximum_page_limit: larger limits are clamped to it silently (default 100)")
    p.add_argument("--token", help="accept Authorization: Bearer TOKEN")
    p.add_argument("--user", help="v1: basic auth user; v2: simple auth manager user for POST /auth/token")
    p.add_argument("--password")
    p.add_argument("--token-ttl", type=int, default=86400,
                   help="v2 JWT lifetime in seconds ([api_auth] jwt_expiration_time, default 86400)")
    p.add_argument("--jwt-leeway", type=int, default=10,
                   help="v2 seconds a token stays valid past exp ([api_auth] jwt_leeway, default 10)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    return fl.serve(AirflowApp(args))


if __name__ == "__main__":
    sys.exit(main())
