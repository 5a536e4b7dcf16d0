#!/usr/bin/python3
"""Check the fake servers against the official OpenAPI definitions.

Starts fake_airflow.py (v1, v2) and fake_prefect.py (server, cloud) on
tests/fakes/worlds/basic.json, calls every route each fake serves (success and
error cases), and checks each answer against the operation in the spec:

  - the status code is one the operation declares (or a documented deviation);
  - the Content-Type is one declared for that status (or a documented deviation);
  - the body validates against the response schema ($refs resolved in the
    document; OpenAPI 3.0 `nullable` translated for the v1 spec; 3.1 type lists
    as they are), with date-time/uuid formats checked;
  - no object carries a property its schema does not name (catches typos that
    the specs' open objects would let through);
  - a few exact values per case (what the world holds).

Then it checks coverage (every served route exercised; every route marked as
in-spec exists in the spec) and the fault injection, huge-log streaming and
latency knobs. Exits 1 listing every mismatch, 0 when clean.

Needs jsonschema and yaml: run with /usr/bin/python3 (Debian python3-jsonschema,
python3-yaml).
"""

import ast
import base64
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover
    sys.stderr.write("validate_specs.py needs python3-jsonschema and python3-yaml (%s); run it with "
                     "/usr/bin/python3 or apt-get install -y python3-jsonschema python3-yaml\n" % e)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SPECS = os.environ.get("DAGDOC_SPECS") or os.path.join(ROOT, "..", "shared", "specs")
WORLD = os.path.join(HERE, "worlds", "basic.json")

FAIL = []
CHECKS = [0]
TAP = "--tap" in sys.argv


def fail(msg):
    FAIL.append(msg)


def tap(name, before):
    """With --tap, one "ok - NAME" / "not ok - NAME" line per check (tests/run.sh counts them)."""
    if not TAP:
        return
    if len(FAIL) > before:
        print("not ok - %s" % name)
        for m in FAIL[before:]:
            print("    " + m[:1000])
    else:
        print("ok - %s" % name)


# ---------------------------------------------------------------------------- schemas

DT_RX = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
UUID_RX = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _dt(v):
    return not isinstance(v, str) or bool(DT_RX.match(v))


@FORMATS.checks("datetime")  # the v1 spec spells it so in places
def _dt2(v):
    return not isinstance(v, str) or bool(DT_RX.match(v))


@FORMATS.checks("uuid")
def _uuid(v):
    return not isinstance(v, str) or bool(UUID_RX.match(v))


def oas30_to_jsonschema(s):
    """OpenAPI 3.0 schema objects -> JSON Schema (draft 4): `nullable: true`
    becomes a null type/branch; OpenAPI-only keywords are dropped."""
    if isinstance(s, list):
        return [oas30_to_jsonschema(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {k: oas30_to_jsonschema(v) for k, v in s.items()
           if k not in ("discriminator", "readOnly", "writeOnly", "example", "deprecated", "xml", "externalDocs")}
    if out.pop("nullable", False):
        if "type" in out and "$ref" not in out and not any(k in out for k in ("anyOf", "oneOf", "allOf")):
            t = out["type"]
            out["type"] = [t, "null"] if isinstance(t, str) else list(t) + ["null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = list(out["enum"]) + [None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


class Spec:
    def __init__(self, name, path, base, oas30):
        self.name = name
        with open(path, encoding="utf-8") as f:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            self.doc = json.load(f) if path.endswith(".json") else yaml.load(f, Loader=loader)
        self.base = base
        self.oas30 = oas30
        if oas30:
            self.doc = oas30_to_jsonschema(self.doc)
            self.cls = jsonschema.Draft4Validator
        else:
            self.cls = jsonschema.Draft202012Validator
        self.resolver = jsonschema.RefResolver.from_schema(self.doc)
        self.ops = []
        for tpl, item in self.doc.get("paths", {}).items():
            rx = "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p)
                               for p in re.split(r"(\{[^}]+\})", tpl)) + "$"
            nparams = tpl.count("{")
            for m, op in item.items():
                if m in ("get", "post", "put", "patch", "delete"):
                    self.ops.append((m.upper(), re.compile(rx), nparams, tpl, op))

    def find(self, method, path):
        """The operation for a concrete path (literal segments beat params)."""
        if not path.startswith(self.base):
            return None, None
        rel = path[len(self.base):] or "/"
        best = None
        for m, rx, n, tpl, op in self.ops:
            if m == method and rx.match(rel) and (best is None or n < best[0]):
                best = (n, tpl, op)
        return (best[1], best[2]) if best else (None, None)

    def has_template(self, method, tpl):
        norm = re.sub(r"\{[^}]+\}", "{}", tpl[len(self.base):] if tpl.startswith(self.base) else tpl)
        return any(m == method and re.sub(r"\{[^}]+\}", "{}", t) == norm for m, _, _, t, _ in self.ops)

    def resolve(self, s):
        seen = 0
        while isinstance(s, dict) and "$ref" in s and seen < 20:
            _, s = self.resolver.resolve(s["$ref"])
            seen += 1
        return s

    def validate(self, schema, inst):
        v = self.cls(schema, resolver=self.resolver, format_checker=FORMATS)
        return ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", e.message[:300])
                for e in v.iter_errors(inst)]

    # strict check: properties no schema names
    def _props(self, s, inst):
        s = self.resolve(s)
        if not isinstance(s, dict):
            return {}, True
        props, open_ = {}, False
        if s.get("additionalProperties") not in (None, False):
            open_ = True
        if "properties" in s:
            props.update(s["properties"])
        has_comb = False
        for k in ("allOf", "anyOf", "oneOf"):
            for sub in s.get(k, []):
                r = self.resolve(sub)
                if not isinstance(r, dict):
                    continue
                t = r.get("type")
                if t == "null" or (t is not None and t != "object" and not (isinstance(t, list) and "object" in t)):
                    continue
                has_comb = True
                p2, o2 = self._props(r, inst)
                props.update(p2)
                open_ = open_ or o2
        if "properties" not in s and not has_comb:
            open_ = True  # free-form object
        return props, open_

    def unknown_keys(self, s, inst, path="", out=None):
        out = [] if out is None else out
        s = self.resolve(s)
        if isinstance(inst, dict):
            props, open_ = self._props(s, inst)
            for k, v in inst.items():
                if k in props:
                    self.unknown_keys(props[k], v, path + "/" + k, out)
                elif not open_:
                    out.append(path + "/" + k)
        elif isinstance(inst, list):
            items = None
            if isinstance(s, dict):
                cands = [s] + [self.resolve(x) for k in ("anyOf", "oneOf") for x in s.get(k, [])]
                for c in cands:
                    if isinstance(c, dict) and "items" in c:
                        items = c["items"]
                        break
            if items is not None:
                for i, v in enumerate(inst):
                    self.unknown_keys(items, v, "%s/%d" % (path, i), out)
        return out


# ---------------------------------------------------------------------------- documented deviations
# Where the real servers differ from their spec, the fakes follow the servers
# (shared/specs/*/NOTES.md). Each entry: spec name, operationId or "*", status,
# accepted content type, schema to use instead (None: the declared one), why.

V1_ERROR = {"type": "object", "required": ["type", "title", "status"],
            "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "number"},
                           "detail": {"type": ["string", "null"]}, "instance": {"type": "string"}}}
V1_TRIES = {"type": "object", "required": ["task_instances", "total_entries"],
            "properties": {"task_instances": {"type": "array",
                                              "items": {"$ref": "#/components/schemas/TaskInstanceHistory"}},
                           "total_entries": {"type": "integer"}}}
V1_TASKS = {"type": "object", "properties": {"tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                                            "total_entries": {"type": "integer"}}}
LOG_MSG = {"type": "object", "required": ["event"], "additionalProperties": True,
           "properties": {"timestamp": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
                          "event": {"type": "string"}}}
V2_LOG = {"type": "object", "required": ["content", "continuation_token"],
          "properties": {"content": {"anyOf": [{"type": "array", "items": LOG_MSG},
                                               {"type": "array", "items": {"type": "string"}}]},
                         "continuation_token": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
DETAIL = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}
PREFECT_422 = {"anyOf": [
    {"type": "object", "required": ["exception_message", "exception_detail", "request_body"],
     "properties": {"exception_message": {"const": "Invalid request received."},
                    "exception_detail": {"type": "array", "items": {
                        "type": "object", "required": ["type", "loc", "msg"],
                        "properties": {"type": {"type": "string"}, "loc": {"type": "array"}, "msg": {"type": "string"},
                                       "input": {}, "ctx": {"type": "object"}}}},
                    "request_body": {}}},
    DETAIL]}
PREFECT_EXC = {"type": "object", "required": ["exception_message"], "properties": {
    "exception_message": {"type": "string"}}}

DEVIATIONS = [
    ("v1", "*", "4xx", "application/problem+json", V1_ERROR,
     "Airflow 2 errors are RFC 7807 problem+json; detail is null when only a title is given (NOTES §2, §7)"),
    ("v1", "get_task_instance_tries", 200, "application/json", V1_TRIES,
     "the server's list key is task_instances, not task_instances_history (NOTES §6)"),
    ("v1", "get_mapped_task_instance_tries", 200, "application/json", V1_TRIES,
     "the server's list key is task_instances, not task_instances_history (NOTES §6)"),
    ("v1", "*", 400, "application/problem+json", V1_ERROR,
     "negative limit -> 400 'Page limit must be a positive integer'; malformed parameters -> connexion 400 "
     "(NOTES §2 Pagination)"),
    ("v1", "get_tasks", 200, "application/json", V1_TASKS,
     "TaskCollectionSchema dumps total_entries too (airflow/api_connexion/schemas/task_schema.py)"),
    ("v2", "get_log", 200, "application/json", V2_LOG,
     "StructuredLogMessage.timestamp is null for the source-group lines and for lines without a time (NOTES §7)"),
    ("v2", "get_log", 406, "application/json", DETAIL,
     "Accept other than json/ndjson -> 406 (NOTES §7)"),
    ("v2", "*", 422, "application/json", None, "FastAPI request validation"),
    ("prefect", "*", 422, "application/json", PREFECT_422,
     "422 body is exception_message/exception_detail/request_body, or {detail} for limit (NOTES §8, README)"),
    ("prefect", "*", 404, "application/json", DETAIL, "routes raise 404 {detail: ...} (NOTES §3, §6, §9)"),
    ("prefect", "*", 401, "application/json", {"anyOf": [PREFECT_EXC, DETAIL]},
     "401 {exception_message: Unauthorized} self-hosted, {detail} Cloud (NOTES §1)"),
    ("prefect", "*", 411, "application/json", DETAIL, "Cloud requires Content-Length on POST (NOTES §1)"),
    ("prefect", "*", 400, "application/json", DETAIL, "malformed X-PREFECT-API-VERSION (NOTES §1)"),
]


def deviation(spec, op_id, status):
    for s, o, st, ct, schema, why in DEVIATIONS:
        if s != spec or (o != "*" and o != op_id):
            continue
        if st == status or (st == "4xx" and 400 <= status < 500):
            return ct, schema, why
    return None


# ---------------------------------------------------------------------------- HTTP client


class Resp:
    def __init__(self, status, headers, body, error=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.error = error

    @property
    def ctype(self):
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def call(port, method, path, headers=None, body=None, timeout=20, raw_body=None, no_length=False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    if raw_body is not None:
        data = raw_body
    try:
        if no_length:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            conn.endheaders()
        else:
            conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        b = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, b)
    except (http.client.HTTPException, OSError) as e:
        return Resp(None, {}, b"", error=e)
    finally:
        conn.close()


class Fake:
    """One fake server process. start() returns at once; wait() blocks until
    its port file appears, so several fakes start in parallel."""

    def __init__(self, script, args, tmp, tag):
        self.port_file = os.path.join(tmp, tag + ".port")
        self.log = os.path.join(tmp, tag + ".requests")
        self.err = open(os.path.join(tmp, tag + ".stderr"), "w")
        self.script, self.args = script, args
        self.argv = [sys.executable, os.path.join(HERE, script)] + args + [
            "--port-file", self.port_file, "--request-log", self.log]
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=self.err)
        self.tag = tag
        self.port = None

    def wait(self):
        if self.port is not None:
            return self
        deadline = time.time() + 30
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit("fake %s did not start: %s" % (self.tag, open(self.err.name).read()[-2000:]))
            time.sleep(0.02)
        self.port = int(open(self.port_file).read())
        # the served routes, from the same code the process runs (--list-routes)
        sys.path.insert(0, HERE)
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        mod = __import__(self.script[:-3])
        app_cls = mod.AirflowApp if hasattr(mod, "AirflowApp") else mod.PrefectApp
        parser = mod.build_parser()
        app = app_cls(parser.parse_args(self.args + ["--port-file", "/dev/null"]))
        self.routes = [{"method": m, "path": t, "in_spec": sp} for m, t, sp in app.router.listing()]
        return self

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


# ---------------------------------------------------------------------------- the checker


class Checker:
    def __init__(self, spec, fake, auth_headers, extra_specs=()):
        self.spec = spec
        self.specs = [spec] + list(extra_specs)
        self.fake = fake
        self.auth = auth_headers
        self.hit = set()

    def route_of(self, method, path):
        raw = path.split("?")[0]
        for r in self.fake.routes:
            rx = "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p)
                               for p in re.split(r"(\{[a-z_]+\})", r["path"])) + "$"
            if r["method"] == method and re.match(rx, raw):
                return (r["method"], r["path"])
        return None

    def __call__(self, name, method, path, status, body=None, headers=None, auth=True, expect=None, raw=False,
                 **kw):
        """One request: checks status, spec conformance, then expect(resp)."""
        CHECKS[0] += 1
        before = len(FAIL)
        try:
            return self._call(name, method, path, status, body, headers, auth, expect, raw, **kw)
        finally:
            tap("%s %s (%s %s)" % (self.fake.tag, name, method, path.split("?")[0]), before)

    def _call(self, name, method, path, status, body, headers, auth, expect, raw, **kw):
        hdrs = dict(self.auth if auth else {})
        hdrs.update(headers or {})
        r = call(self.fake.port, method, path, hdrs, body, **kw)
        where = "%s %s: %s %s" % (self.fake.tag, name, method, path)
        rt = self.route_of(method, path)
        if rt:
            self.hit.add(rt)
        if r.error is not None:
            fail("%s: no response (%s)" % (where, r.error))
            return r
        if r.status != status:
            fail("%s: status %s, expected %s; body %s" % (where, r.status, status, r.body[:300]))
            return r
        if not raw:
            self.conform(where, method, path.split("?")[0], r)
        if expect:
            try:
                msg = expect(r)
            except Exception as e:  # an expectation that crashes is a failure too
                msg = "expectation raised %r" % (e,)
            if msg:
                fail("%s: %s" % (where, msg))
        return r

    def conform(self, where, method, path, r):
        spec, tpl, op = None, None, None
        for s in self.specs:
            tpl, op = s.find(method, path)
            if op is not None:
                spec = s
                break
        if op is None:
            fail("%s: no operation in the spec for this path" % where)
            return
        op_id = op.get("operationId", tpl)
        responses = op.get("responses", {})
        declared = responses.get(str(r.status)) or responses.get("default")
        dev = deviation(spec.name, op_id, r.status)
        schema = None
        ctypes = []
        if declared is not None:
            declared = spec.resolve(declared)
            content = declared.get("content") or {}
            ctypes = list(content)
            if r.ctype in content:
                schema = content[r.ctype].get("schema")
            elif "application/json" in content:
                schema = content["application/json"].get("schema")
        if dev is not None:
            dct, dschema, _why = dev
            if dschema is not None:
                schema = dschema
            ctypes = ctypes + [dct]
        if declared is None and dev is None:
            fail("%s: status %d is not declared by %s (declares %s)" % (where, r.status, op_id,
                                                                          ", ".join(responses)))
            return
        if ctypes and r.ctype not in ctypes:
            fail("%s: Content-Type %r, spec declares %s" % (where, r.ctype, ctypes))
            return
        if r.ctype in ("application/json", "application/problem+json"):
            try:
                inst = r.json()
            except ValueError as e:
                fail("%s: body is not JSON (%s)" % (where, e))
                return
            if schema is None:
                return
            for e in spec.validate(schema, inst):
                fail("%s: schema (%s %d): %s" % (where, op_id, r.status, e))
            extra = spec.unknown_keys(schema, inst)
            if extra:
                fail("%s: properties not in the schema of %s %d: %s" % (where, op_id, r.status,
                                                                         ", ".join(sorted(set(extra))[:10])))
        elif r.ctype == "application/x-ndjson":
            item = LOG_MSG  # StructuredLogMessage with a nullable timestamp (NOTES §7)
            for n, line in enumerate(r.body.decode().splitlines()):
                try:
                    obj = json.loads(line)
                except ValueError:
                    fail("%s: ndjson line %d is not JSON" % (where, n))
                    return
                for e in spec.validate(item, obj):
                    fail("%s: ndjson line %d: %s" % (where, n, e))
        elif r.ctype == "text/plain":
            try:
                r.body.decode("utf-8")
            except UnicodeDecodeError:
                fail("%s: text/plain body is not UTF-8" % where)

    def coverage(self):
        before = len(FAIL)
        CHECKS[0] += 1
        self._coverage()
        tap("%s: every served route exercised, every in-spec route in the spec" % self.fake.tag, before)

    def _coverage(self):
        for r in self.fake.routes:
            key = (r["method"], r["path"])
            if key not in self.hit:
                fail("%s: route %s %s was never exercised" % (self.fake.tag, r["method"], r["path"]))
            if r["in_spec"] and not any(s.has_template(r["method"], r["path"]) for s in self.specs):
                fail("%s: route %s %s is not in the spec" % (self.fake.tag, r["method"], r["path"]))


def parse_dt(s):
    import datetime
    return datetime.datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)


def q(s):
    return urllib.parse.quote(s, safe="")


def eq(get, want):
    def f(r):
        got = get(r.json()) if r.ctype in ("application/json", "application/problem+json") else \
            get(r.body.decode())
        if got != want:
            return "got %r, expected %r" % (got, want)
        return None
    return f


def all_of(*fs):
    def f(r):
        for g in fs:
            m = g(r)
            if m:
                return m
        return None
    return f


# ---------------------------------------------------------------------------- Airflow cases


def airflow_cases(c, api, world):
    v1 = api == "v1"
    b = "/api/v1" if v1 else "/api/v2"
    R = "scheduled__2026-03-06T02:00:00+00:00"
    RQ = q(R)
    ti = "%s/dags/etl_daily/dagRuns/%s/taskInstances" % (b, RQ)
    mapped_run = q("scheduled__2026-03-08T04:00:00+00:00")
    mti = "%s/dags/train_churn/dagRuns/%s/taskInstances" % (b, mapped_run)
    n_runs = sum(1 for r in world["runs"] if r["dag_id"] == "etl_daily")
    n_upfailed = sum(1 for r in world["runs"] for t in r["task_instances"] if t["state"] == "upstream_failed")
    nf = 404
    jsn = {"Accept": "application/json"}

    c("version", "GET", b + "/version", 200, auth=False, expect=eq(lambda j: j["version"],
                                                                  "2.10.5" if v1 else "3.2.0"))
    c("health", "GET", b + ("/health" if v1 else "/monitor/health"), 200, auth=False,
      expect=eq(lambda j: j["scheduler"]["status"], "healthy"))
    c("dags no auth", "GET", b + "/dags", 401, auth=False)
    c("dags", "GET", b + "/dags", 200, expect=eq(lambda j: (j["total_entries"], len(j["dags"])), (3, 3)))
    c("dags page", "GET", b + "/dags?limit=1&offset=1", 200,
      expect=eq(lambda j: [d["dag_id"] for d in j["dags"]], ["sync_crm"]))
    c("dags pattern", "GET", b + "/dags?dag_id_pattern=" + ("churn" if v1 else "%25churn%25"), 200,
      expect=eq(lambda j: [d["dag_id"] for d in j["dags"]], ["train_churn"]))
    if v1:
        c("dags only_active", "GET", b + "/dags?only_active=false&limit=500", 200,
          expect=eq(lambda j: j["total_entries"], 3))
        c("dags negative limit", "GET", b + "/dags?limit=-1", 400,
          expect=eq(lambda j: j["title"], "Page limit must be a positive integer"))
    else:
        c("dags negative limit", "GET", b + "/dags?limit=-1", 422,
          expect=eq(lambda j: j["detail"][0]["type"], "greater_than_equal"))
    c("dag", "GET", b + "/dags/etl_daily", 200, expect=eq(lambda j: j["fileloc"],
                                                          "/opt/airflow/dags/etl/etl_daily.py"))
    c("dag missing", "GET", b + "/dags/nope", nf,
      expect=eq(lambda j: j.get("title") if v1 else "x", "DAG not found" if v1 else "x"))
    c("dag details", "GET", b + "/dags/etl_daily/details", 200)
    c("dag details missing", "GET", b + "/dags/nope/details", nf)
    c("tasks", "GET", b + "/dags/etl_daily/tasks", 200,
      expect=eq(lambda j: sorted((t["task_id"], tuple(t["downstream_task_ids"])) for t in j["tasks"]),
                [("extract", ("transform",)), ("load", ("notify",)), ("notify", ()), ("transform", ("load",)),
                 ("wait_for_raw_events", ("extract",))]))
    c("tasks missing dag", "GET", b + "/dags/nope/tasks", nf)
    c("task", "GET", b + "/dags/etl_daily/tasks/extract", 200,
      expect=eq(lambda j: j["class_ref"]["class_name"], "PythonOperator"))
    c("task missing", "GET", b + "/dags/etl_daily/tasks/nope", nf)

    # dag runs
    c("runs", "GET", b + "/dags/etl_daily/dagRuns", 200, expect=eq(lambda j: j["total_entries"], n_runs))
    c("runs all", "GET", b + "/dags/~/dagRuns?limit=100", 200,
      expect=eq(lambda j: j["total_entries"], len(world["runs"])))
    c("runs page+order", "GET", b + "/dags/etl_daily/dagRuns?limit=2&offset=1&order_by=" +
      ("-execution_date" if v1 else "-logical_date"), 200,
      expect=eq(lambda j: [r["dag_run_id"] for r in j["dag_runs"]],
                ["scheduled__2026-03-09T02:00:00+00:00", "scheduled__2026-03-08T02:00:00+00:00"]))
    c("runs state", "GET", b + "/dags/etl_daily/dagRuns?state=failed", 200,
      expect=eq(lambda j: j["total_entries"], 5))
    c("runs start_date_gte", "GET", b + "/dags/etl_daily/dagRuns?start_date_gte=" + q("2026-03-09T00:00:00+00:00"),
      200, expect=eq(lambda j: j["total_entries"], 3))
    c("runs date window", "GET", b + "/dags/~/dagRuns?%s_gte=%s&%s_lte=%s" % (
        "execution_date" if v1 else "logical_date", q("2026-03-05T00:00:00Z"),
        "execution_date" if v1 else "logical_date", q("2026-03-05T23:59:59Z")), 200,
      expect=eq(lambda j: sorted(r["dag_id"] for r in j["dag_runs"]), ["etl_daily", "sync_crm", "train_churn"]))
    c("runs updated_at_gte", "GET", b + "/dags/~/dagRuns?updated_at_gte=" + q("2026-03-11T00:00:00Z"), 200,
      expect=eq(lambda j: sorted(r["dag_run_id"] for r in j["dag_runs"]),
                ["scheduled__2026-03-10T01:30:00+00:00", "scheduled__2026-03-10T02:00:00+00:00",
                 "scheduled__2026-03-10T04:00:00+00:00"]))
    c("runs unencoded plus", "GET", b + "/dags/etl_daily/dagRuns?start_date_gte=2026-03-09T00:00:00+00:00",
      400 if v1 else 422)
    if v1:
        c("runs negative limit", "GET", b + "/dags/etl_daily/dagRuns?limit=-5", 400)
    else:
        c("runs run_type", "GET", b + "/dags/train_churn/dagRuns?run_type=manual", 200,
          expect=eq(lambda j: [(r["run_type"], r["triggered_by"]) for r in j["dag_runs"]],
                    [("manual", "rest_api")]))
        c("runs missing dag", "GET", b + "/dags/nope/dagRuns", 404)
    c("runs list", "POST", b + "/dags/~/dagRuns/list", 200,
      body={"dag_ids": ["sync_crm"], "page_limit": 3, "order_by": "-start_date"},
      expect=eq(lambda j: (j["total_entries"], len(j["dag_runs"])), (10, 3)))
    c("runs list bad key", "POST", b + "/dags/~/dagRuns/list", 400 if v1 else 422, body={"nope": 1})
    if not v1:
        c("runs list literal", "POST", b + "/dags/etl_daily/dagRuns/list", 422, body={},
          expect=eq(lambda j: j["detail"][0]["type"], "literal_error"))
    c("run", "GET", b + "/dags/etl_daily/dagRuns/" + RQ, 200, expect=eq(lambda j: j["state"], "failed"))
    c("run late->queued", "GET", b + "/dags/sync_crm/dagRuns/" + q("scheduled__2026-03-10T01:30:00+00:00"), 200,
      expect=eq(lambda j: j["state"], "queued"))
    c("run missing", "GET", b + "/dags/etl_daily/dagRuns/nope", nf,
      expect=eq(lambda j: j["detail"], "DAGRun with DAG ID: 'etl_daily' and DagRun ID: 'nope' not found" if v1
                else "The DagRun with dag_id: `etl_daily` and run_id: `nope` was not found"))

    # task instances
    c("tis", "GET", ti, 200, expect=eq(lambda j: sorted((t["task_id"], t["state"]) for t in j["task_instances"]),
                                       [("extract", "success"), ("load", "upstream_failed"),
                                        ("notify", "upstream_failed"), ("transform", "failed"),
                                        ("wait_for_raw_events", "success")]))
    c("tis all state", "GET", b + "/dags/~/dagRuns/~/taskInstances?state=upstream_failed&limit=100", 200,
      expect=eq(lambda j: j["total_entries"], n_upfailed))
    c("tis none state", "GET", b + "/dags/~/dagRuns/~/taskInstances?state=none", 200,
      expect=eq(lambda j: sorted(t["task_id"] for t in j["task_instances"]),
                ["load", "notify", "transform", "upsert_accounts"]))
    c("tis list", "POST", b + "/dags/~/dagRuns/~/taskInstances/list", 200,
      body={"dag_ids": ["sync_crm"], "state": ["failed"], "page_limit": 10},
      expect=eq(lambda j: j["total_entries"], 3))
    c("tis list bad key", "POST", b + "/dags/~/dagRuns/~/taskInstances/list", 400 if v1 else 422, body={"x": 1})
    c("ti", "GET", ti + "/transform", 200, expect=eq(lambda j: (j["try_number"], j["max_tries"]), (2, 1)))
    c("ti missing", "GET", ti + "/nope", nf)
    c("tries", "GET", ti + "/transform/tries", 200,
      expect=eq(lambda j: [(t["try_number"], t["state"]) for t in j["task_instances"]],
                [(1, "up_for_retry"), (2, "failed")]))
    c("try", "GET", ti + "/transform/tries/1", 200, expect=eq(lambda j: j["hostname"], "worker-2"))
    c("try missing", "GET", ti + "/transform/tries/7", nf)
    c("mapped ti", "GET", mti + "/score_segments/2", 200, expect=eq(lambda j: j["state"], "failed"))
    c("mapped ti missing", "GET", mti + "/score_segments/9", nf)
    c("list mapped", "GET", mti + "/score_segments/listMapped", 200,
      expect=eq(lambda j: [t["map_index"] for t in j["task_instances"]], [0, 1, 2]))
    c("mapped tries", "GET", mti + "/score_segments/2/tries", 200,
      expect=eq(lambda j: j["total_entries"], 1))
    c("mapped try", "GET", mti + "/score_segments/1/tries/1", 200, expect=eq(lambda j: j["map_index"], 1))

    # logs
    lg = ti + "/transform/logs/1"
    if v1:
        c("log json", "GET", lg, 200, headers=jsn,
          expect=eq(lambda j: (j["content"][:52], "AttributeError: 'DataFrame'" in ast.literal_eval(j["content"])[0][1]),
                    ("[('worker-2', ' INFO - ::group::Log message source d", True)))
        c("log no accept -> json", "GET", lg, 200, headers={"Accept": ""},
          expect=eq(lambda j: j["content"][:3], "[('"))
        c("log */* -> text", "GET", lg, 200, headers={"Accept": "*/*"},
          expect=eq(lambda t: t.split("\n")[0], "worker-2"))
        c("log mixed accept -> text", "GET", lg, 200, headers={"Accept": "application/json, text/plain, */*"},
          expect=eq(lambda t: "Task failed with exception" in t, True))
        r = call(c.fake.port, "GET", lg, dict(c.auth, Accept="application/json"))
        tok = r.json().get("continuation_token") if r.status == 200 else "x"
        c("log token", "GET", lg + "?token=" + q(tok), 200, headers=jsn,
          expect=eq(lambda j: j["content"], "[('worker-2', '')]"))
        c("log full_content", "GET", lg + "?full_content=true&token=" + q(tok), 200, headers=jsn,
          expect=eq(lambda j: "::group::" in j["content"], True))
        c("log bad token", "GET", lg + "?token=abc.def", 400, headers=jsn,
          expect=eq(lambda j: j["detail"], "Bad Signature. Please use only the tokens provided by the API."))
        c("log try 0", "GET", ti + "/transform/logs/0", 200, headers=jsn,
          expect=eq(lambda j: j["content"], "[('default_host', 'Error fetching the logs. Try number 0 is invalid.')]"))
        c("log never ran", "GET", ti + "/load/logs/1", 200, headers=jsn,
          expect=eq(lambda j: "No host supplied" in j["content"], True))
        c("log missing ti", "GET", ti + "/nope/logs/1", 404, headers=jsn,
          expect=eq(lambda j: (j["title"], j["detail"]), ("TaskInstance not found", None)))
        c("log mapped", "GET", mti + "/score_segments/logs/1?map_index=2", 200, headers=jsn)
    else:
        c("log json", "GET", lg, 200, headers=jsn,
          expect=eq(lambda j: (j["content"][0]["event"], j["continuation_token"],
                               any("AttributeError" in x["event"] for x in j["content"])),
                    ("::group::Log message source details", None, True)))
        c("log default accept", "GET", lg, 200, headers={"Accept": "*/*"})
        c("log ndjson", "GET", lg, 200, headers={"Accept": "application/x-ndjson"},
          expect=eq(lambda t: json.loads(t.splitlines()[1])["event"], "::endgroup::"))
        c("log text/plain 406", "GET", lg, 406, headers={"Accept": "text/plain"},
          expect=eq(lambda j: j["detail"], "Only application/json or application/x-ndjson is supported"))
        c("log running token", "GET", b + "/dags/etl_daily/dagRuns/%s/taskInstances/extract/logs/1" %
          q("scheduled__2026-03-10T02:00:00+00:00"), 200, headers=jsn,
          expect=eq(lambda j: j["continuation_token"] is not None, True))
        c("log bad token", "GET", lg + "?token=abc.def", 400, raw=True)
        c("log try 0", "GET", ti + "/transform/logs/0", 200, headers=jsn,
          expect=eq(lambda j: j["content"], [{"level": "error",
                                              "event": "Error fetching the logs. Try number 0 is invalid."}]))
        c("log skipped", "GET", ti + "/load/logs/1", 200, headers=jsn,
          expect=eq(lambda j: j["content"], [{"event": "Task was skipped, no logs available."}]))
        c("log missing ti", "GET", ti + "/nope/logs/1", 404, headers=jsn,
          expect=eq(lambda j: j["detail"], "TaskInstance not found"))
        c("log mapped", "GET", mti + "/score_segments/logs/1?map_index=2", 200, headers=jsn)

    c("import errors", "GET", b + "/importErrors", 200, expect=eq(
        lambda j: (j["total_entries"], j["import_errors"][0]["filename"]),
        (1, "/opt/airflow/dags/quality/check_orders.py")))
    c("import error", "GET", b + "/importErrors/1", 200)
    c("import error missing", "GET", b + "/importErrors/99", nf)


def airflow_v2_auth(c, port):
    c("token", "POST", "/auth/token", 201, body={"username": "admin", "password": "secret"}, auth=False,
      expect=lambda r: None if r.json()["access_token"].count(".") == 2 else "access_token is not JWT-shaped")
    c("token form", "POST", "/auth/token", 201, auth=False,
      headers={"Content-Type": "application/x-www-form-urlencoded"}, raw_body=b"username=admin&password=secret")
    c("token cli", "POST", "/auth/token/cli", 201, body={"username": "admin", "password": "secret"}, auth=False)
    c("token bad password", "POST", "/auth/token", 401, body={"username": "admin", "password": "x"}, auth=False,
      expect=eq(lambda j: j["detail"], "Invalid credentials"))
    c("token missing field", "POST", "/auth/token", 422, body={"username": "admin"}, auth=False)
    c("bad jwt", "GET", "/api/v2/dags", 403, auth=False, headers={"Authorization": "Bearer nope"},
      expect=eq(lambda j: j["detail"], "Invalid JWT token"))


# ---------------------------------------------------------------------------- Prefect cases


def prefect_cases(c, base, cloud, world):
    n_ok = sum(1 for r in world["runs"] if r["state"] == "success")
    n_upfailed = sum(1 for r in world["runs"] for t in r["task_instances"] if t["state"] == "upstream_failed"
                     and r["start_date"])
    P = lambda p: base + p  # noqa: E731

    def filt(body):
        return body

    c("health", "GET", P("/health"), 200, auth=cloud, expect=eq(lambda j: j, True))
    c("ready", "GET", P("/ready"), 200, auth=cloud)
    c("version", "GET", P("/version"), 200, expect=eq(lambda j: j, "0.8.4"))
    c("admin version", "GET", P("/admin/version"), 200, expect=eq(lambda j: j, "3.8.3"))
    c("no auth", "POST", P("/flows/filter"), 401, body={}, auth=False)
    c("bad api version header", "GET", P("/admin/version"), 400, headers={"X-PREFECT-API-VERSION": "abc"})
    flows = c("flows", "POST", P("/flows/filter"), 200, body={"sort": "NAME_ASC"},
              expect=eq(lambda j: [f["name"] for f in j], ["etl_daily", "sync_crm", "train_churn"])).json()
    c("flows like", "POST", P("/flows/filter"), 200, body={"flows": {"name": {"like_": "CHURN"}}},
      expect=eq(lambda j: [f["name"] for f in j], ["train_churn"]))
    c("flows by run state", "POST", P("/flows/filter"), 200,
      body={"flow_runs": {"state": {"type": {"any_": ["CRASHED"]}}}},
      expect=eq(lambda j: [f["name"] for f in j], ["sync_crm"]))
    c("flow by name", "GET", P("/flows/name/etl_daily"), 200, expect=eq(lambda j: j["name"], "etl_daily"))
    c("flow by name missing", "GET", P("/flows/name/nope"), 404, expect=eq(lambda j: j, {"detail": "Flow not found"}))
    c("flow by id", "GET", P("/flows/" + flows[0]["id"]), 200)
    c("flow by bad id", "GET", P("/flows/not-a-uuid"), 422)
    deps = c("deployments", "POST", P("/deployments/filter"), 200, body={"flows": {"name": {"any_": ["sync_crm"]}}},
             expect=eq(lambda j: [(d["name"], d["work_pool_name"], d["status"]) for d in j],
                       [("default", "crm-pool", "NOT_READY")])).json()
    c("deployment", "GET", P("/deployments/" + deps[0]["id"]), 200)
    c("deployment by name", "GET", P("/deployments/name/sync_crm/default"), 200)
    c("deployment by name missing", "GET", P("/deployments/name/sync_crm/nope"), 404,
      expect=eq(lambda j: j, {"detail": "Deployment not found"}))

    runs = c("flow runs", "POST", P("/flow_runs/filter"), 200, body={"sort": "EXPECTED_START_TIME_ASC"},
             expect=eq(lambda j: len(j), 31)).json()
    c("flow runs page", "POST", P("/flow_runs/filter"), 200, body={"sort": "EXPECTED_START_TIME_ASC", "limit": 5,
                                                                   "offset": 30},
      expect=eq(lambda j: [r["id"] for r in j], [runs[30]["id"]]))
    c("flow runs failed", "POST", P("/flow_runs/filter"), 200,
      body={"flow_runs": {"state": {"type": {"any_": ["FAILED", "CRASHED"]}}}, "sort": "START_TIME_DESC"},
      expect=eq(lambda j: len(j), 9))
    c("flow runs late", "POST", P("/flow_runs/filter"), 200,
      body={"flow_runs": {"state": {"name": {"any_": ["Late"]}}}},
      expect=eq(lambda j: [(r["state_type"], r["state_name"], r["start_time"]) for r in j],
                [("SCHEDULED", "Late", None)]))
    c("flow runs by flow+time", "POST", P("/flow_runs/filter"), 200,
      body={"flows": {"id": {"any_": [flows[0]["id"]]}},
            "flow_runs": {"start_time": {"after_": "2026-03-09T00:00:00Z"}}, "sort": "START_TIME_ASC"},
      expect=eq(lambda j: [r["expected_start_time"] for r in j],
                ["2026-03-09T02:00:00Z", "2026-03-10T02:00:00Z", "2026-03-11T02:00:00Z"]))
    c("flow runs expected window", "POST", P("/flow_runs/filter"), 200,
      body={"flow_runs": {"expected_start_time": {"after_": "2026-03-05T00:00:00+00:00",
                                                  "before_": "2026-03-05T23:59:59+00:00"}}},
      expect=eq(lambda j: len(j), 3))
    c("flow runs by work pool", "POST", P("/flow_runs/filter"), 200,
      body={"work_pools": {"name": {"any_": ["crm-pool"]}}, "limit": 200}, expect=eq(lambda j: len(j), 10))
    c("flow runs limit 201", "POST", P("/flow_runs/filter"), 422, body={"limit": 201},
      expect=eq(lambda j: j, {"detail": "Invalid limit: must be less than or equal to 200."}))
    c("flow runs extra key", "POST", P("/flow_runs/filter"), 422, body={"flow_runs": {"end_time_x": {}}},
      expect=eq(lambda j: (j["exception_message"], j["exception_detail"][0]["type"]),
                ("Invalid request received.", "extra_forbidden")))
    c("flow runs bad sort", "POST", P("/flow_runs/filter"), 422, body={"sort": "START"})
    c("flow runs count", "POST", P("/flow_runs/count"), 200,
      body={"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}}, expect=eq(lambda j: j, n_ok))
    crashed = [r for r in runs if r["state_type"] == "CRASHED"][0]
    c("flow run", "GET", P("/flow_runs/" + crashed["id"]), 200,
      expect=eq(lambda j: j["state"]["message"], "Flow run infrastructure exited with non-zero status code 137."))
    c("flow run missing", "GET", P("/flow_runs/00000000-0000-4000-8000-000000000000"), 404,
      expect=eq(lambda j: j, {"detail": "Flow run not found"}))
    c("flow run bad id", "GET", P("/flow_runs/xyz"), 422)

    failed = [r for r in runs if r["state_type"] == "FAILED" and r["name"]][0]
    c("task runs", "POST", P("/task_runs/filter"), 200,
      body={"task_runs": {"flow_run_id": {"any_": [failed["id"]]}}, "sort": "EXPECTED_START_TIME_ASC",
            "limit": 200}, expect=lambda r: None if r.json() and all(
                t["flow_run_id"] == failed["id"] for t in r.json()) else "task runs of another flow run")
    etl5 = [r for r in runs if r["flow_id"] == flows[0]["id"] and r["expected_start_time"] == "2026-03-07T02:00:00Z"][0]
    trs5 = c("task runs etl", "POST", P("/task_runs/filter"), 200,
             body={"flow_runs": {"id": {"any_": [etl5["id"]]}}, "sort": "NAME_ASC"},
             expect=eq(lambda j: [(t["name"], t["state_name"], t["run_count"]) for t in j],
                       [("extract-0", "Completed", 1), ("load-0", "NotReady", 0), ("notify-0", "NotReady", 0),
                        ("transform-0", "Failed", 2), ("wait_for_raw_events-0", "Completed", 1)])).json()
    byname = {t["name"]: t for t in trs5}
    c("task run inputs", "GET", P("/task_runs/" + byname["load-0"]["id"]), 200,
      expect=eq(lambda j: j["task_inputs"], {"wait_for": [{"input_type": "task_run",
                                                           "id": byname["transform-0"]["id"]}]}))
    c("task runs by state", "POST", P("/task_runs/filter"), 200,
      body={"task_runs": {"state": {"name": {"any_": ["NotReady"]}}}, "limit": 200}, expect=eq(lambda j: len(j), n_upfailed))
    c("task runs count", "POST", P("/task_runs/count"), 200, body={"flow_runs": {"id": {"any_": [etl5["id"]]}}},
      expect=eq(lambda j: j, 5))
    c("task runs limit 500", "POST", P("/task_runs/filter"), 422, body={"limit": 500})
    # what the connector's fleet operations ask: id sets, counts, then pages
    two = [flows[0]["id"], flows[1]["id"]]
    since_runs = [r for r in runs if r["flow_id"] in two and r["expected_start_time"] >= "2026-03-08T00:00:00Z"]
    fleet = {"flows": {"id": {"any_": two}}, "flow_runs": {"expected_start_time": {"after_": "2026-03-08T00:00:00Z"}}}
    c("flow runs count of flows", "POST", P("/flow_runs/count"), 200, body=fleet, expect=eq(lambda j: j, len(since_runs)))
    c("flow runs of flows page 2", "POST", P("/flow_runs/filter"), 200,
      body=dict(fleet, sort="EXPECTED_START_TIME_ASC", limit=3, offset=3),
      expect=eq(lambda j: [r["id"] for r in j],
                [r["id"] for r in sorted(since_runs, key=lambda r: (r["expected_start_time"], r["id"]))][3:6]))
    c("flow runs count of deployments", "POST", P("/flow_runs/count"), 200,
      body={"deployments": {"id": {"any_": [d["id"] for d in deps]}}}, expect=eq(lambda j: j, 10))
    both = {"task_runs": {"flow_run_id": {"any_": [etl5["id"], failed["id"]]}}}
    n_both = len(c("task runs of flow runs", "POST", P("/task_runs/filter"), 200,
                   body=dict(both, sort="EXPECTED_START_TIME_ASC")).json())
    c("task runs count of flow runs", "POST", P("/task_runs/count"), 200, body=both, expect=eq(lambda j: j, n_both))
    c("task run missing", "GET", P("/task_runs/00000000-0000-4000-8000-000000000000"), 404,
      expect=eq(lambda j: j, {"detail": "Task run not found"}))

    tf = byname["transform-0"]
    c("flow run states", "GET", P("/flow_run_states/?flow_run_id=" + etl5["id"]), 200,
      expect=eq(lambda j: [s["name"] for s in j], ["Scheduled", "Pending", "Running", "Failed"]))
    c("flow run states no slash", "GET", P("/flow_run_states?flow_run_id=" + etl5["id"]), 307, raw=True,
      expect=lambda r: None if r.headers.get("location", "").startswith(P("/flow_run_states/?")) else
      "Location %r" % r.headers.get("location"))
    c("flow run states unknown", "GET", P("/flow_run_states/?flow_run_id=00000000-0000-4000-8000-000000000000"), 200,
      expect=eq(lambda j: j, []))
    c("flow run states missing param", "GET", P("/flow_run_states/"), 422)
    sts = c("task run states", "GET", P("/task_run_states/?task_run_id=" + tf["id"]), 200,
            expect=eq(lambda j: [(s["type"], s["name"]) for s in j],
                      [("PENDING", "Pending"), ("RUNNING", "Running"), ("SCHEDULED", "AwaitingRetry"),
                       ("RUNNING", "Retrying"), ("FAILED", "Failed")])).json()
    c("task run states no slash", "GET", P("/task_run_states?task_run_id=" + tf["id"]), 307, raw=True)
    c("flow run state by id", "GET", P("/flow_run_states/" + etl5["state_id"]), 200)
    c("flow run state by id missing", "GET", P("/flow_run_states/" + sts[0]["id"]), 404)
    c("task run state by id", "GET", P("/task_run_states/" + sts[-1]["id"]), 200,
      expect=eq(lambda j: j["message"], "Task run encountered an exception AttributeError: 'DataFrame' object has "
                                        "no attribute 'append'"))
    c("task run state by id missing", "GET", P("/task_run_states/" + etl5["state_id"]), 404)

    logs = c("logs", "POST", P("/logs/filter"), 200,
             body={"logs": {"flow_run_id": {"any_": [etl5["id"]]}}, "sort": "TIMESTAMP_ASC", "limit": 200}).json()
    c("logs page", "POST", P("/logs/filter"), 200,
      body={"logs": {"flow_run_id": {"any_": [etl5["id"]]}}, "limit": 10, "offset": 10},
      expect=eq(lambda j: [x["id"] for x in j], [x["id"] for x in logs[10:20]]))
    c("logs desc", "POST", P("/logs/filter"), 200,
      body={"logs": {"flow_run_id": {"any_": [etl5["id"]]}}, "sort": "TIMESTAMP_DESC", "limit": 3},
      expect=eq(lambda j: [x["id"] for x in j], [x["id"] for x in logs[::-1][:3]]))
    c("logs errors", "POST", P("/logs/filter"), 200,
      body={"logs": {"flow_run_id": {"any_": [etl5["id"]]}, "level": {"ge_": 40}}},
      expect=lambda r: None if all(x["level"] >= 40 for x in r.json()) and any(
          "AttributeError: 'DataFrame' object has no attribute 'append'" in x["message"] for x in r.json())
      else "level filter or traceback lines wrong")
    c("logs flow-level", "POST", P("/logs/filter"), 200,
      body={"logs": {"flow_run_id": {"any_": [etl5["id"]]}, "task_run_id": {"is_null_": True}}},
      expect=eq(lambda j: j[-1]["message"], "Finished in state Failed('1/5 states failed.')"))
    c("logs task", "POST", P("/logs/filter"), 200,
      body={"logs": {"task_run_id": {"any_": [tf["id"]]}, "timestamp": {"after_": "2026-03-07T02:07:00Z"}}},
      expect=lambda r: None if r.json() and all(x["task_run_id"] == tf["id"] for x in r.json()) else "wrong rows")
    c("logs limit 300", "POST", P("/logs/filter"), 422, body={"limit": 300})
    c("logs bad level", "POST", P("/logs/filter"), 422, body={"logs": {"level": {"ge_": "ERROR"}}})

    c("work pools", "POST", P("/work_pools/filter"), 200, body={},
      expect=eq(lambda j: [(p["name"], p["status"]) for p in j], [("crm-pool", "NOT_READY"), ("k8s-pool", "READY")]))
    c("work pool", "GET", P("/work_pools/k8s-pool"), 200)
    c("work pool missing", "GET", P("/work_pools/nope"), 404,
      expect=eq(lambda j: j, {"detail": 'Work pool "nope" not found.'}))
    c("workers", "POST", P("/work_pools/crm-pool/workers/filter"), 200, body={},
      expect=eq(lambda j: [(w["name"], w["status"]) for w in j], [("worker-crm-1", "OFFLINE")]))
    c("workers online", "POST", P("/work_pools/crm-pool/workers/filter"), 200,
      body={"workers": {"status": {"any_": ["ONLINE"]}}}, expect=eq(lambda j: j, []))
    c("workers missing pool", "POST", P("/work_pools/nope/workers/filter"), 404, body={})
    if cloud:
        c("cloud no content-length", "POST", P("/flow_runs/filter"), 411, no_length=True)


# ---------------------------------------------------------------------------- faults, streaming, latency


def bundle_checks(tmp, specs):
    """Airflow 3 runs of a Git DAG bundle: basic.json with train_churn's runs carrying
    bundle_version (a commit) and dag_version (its version_number), served by v2 as
    DAGRunResponse.bundle_version, dag_versions[] and the TI's dag_version."""
    world = json.load(open(WORLD))
    shas = ["6f1c2e0a9d4b7c3e5a8f0b2d4c6e8a0b1c3d5e7f", "a93e41d07c5b2f8e6d4c0a1b3e5f7a9c2d4e6f80"]
    for d in world["dags"]:
        if d["dag_id"] == "train_churn":
            d["bundle_name"] = "ml-repo"
            d["relative_fileloc"] = "dags/ml/train_churn.py"
    n = 0
    for r in world["runs"]:
        if r["dag_id"] == "train_churn":
            k = 0 if r["run_id"] < "scheduled__2026-03-06" else 1
            r["bundle_version"], r["dag_version"] = shas[k], k + 1
            n += 1
    path = os.path.join(tmp, "bundle-world.json")
    with open(path, "w") as f:
        json.dump(world, f)
    fake = Fake("fake_airflow.py", ["--api", "v2", "--world", path], tmp, "bundle-v2").wait()
    try:
        c = Checker(specs["v2"], fake, {})
        run = q("scheduled__2026-03-07T04:00:00+00:00")
        c("bundle run", "GET", "/api/v2/dags/train_churn/dagRuns/" + run, 200,
          expect=eq(lambda j: (j["bundle_version"], j["dag_versions"][0]["version_number"],
                               j["dag_versions"][0]["bundle_version"], j["dag_versions"][0]["bundle_name"]),
                    (shas[1], 2, shas[1], "ml-repo")))
        c("bundle runs", "GET", "/api/v2/dags/train_churn/dagRuns?limit=100", 200,
          expect=eq(lambda j: sorted({r["bundle_version"] for r in j["dag_runs"]}), sorted(shas)))
        c("bundle ti", "GET", "/api/v2/dags/train_churn/dagRuns/%s/taskInstances/build_features" % run, 200,
          expect=eq(lambda j: (j["dag_version"]["version_number"], j["dag_version"]["bundle_version"]), (2, shas[1])))
        c("bundle dag", "GET", "/api/v2/dags/train_churn/details", 200,
          expect=eq(lambda j: (j["bundle_name"], j["bundle_version"], j["relative_fileloc"],
                               j["latest_dag_version"]["version_number"]), ("ml-repo", shas[1], "dags/ml/train_churn.py", 2)))
    finally:
        fake.stop()


def fleet_checks(tmp, specs):
    """A generated fleet world (fleet:6x48x5): the batch endpoints the fleet
    operations use answer as the specs say, their pages under a stable order
    neither overlap nor miss, the server's page limit clamps silently
    (--max-page-limit), and the failure mix README.md promises is there."""

    def chk(name, cond, detail=""):
        CHECKS[0] += 1
        before = len(FAIL)
        if not cond:
            fail("fleet %s %s" % (name, detail))
        tap("fleet: " + name, before)

    for api in ("v1", "v2"):
        fake = Fake("fake_airflow.py", ["--api", api, "--world", "fleet:6x48x5:2", "--max-page-limit", "40"],
                    tmp, "fleet-" + api).wait()
        try:
            c = Checker(specs[api], fake, {})
            b = "/api/" + api
            ids = [d["dag_id"] for d in c("fleet dags", "GET", b + "/dags?limit=100", 200,
                                          expect=eq(lambda j: j["total_entries"], 6)).json()["dags"]]
            pages = []
            for off in range(0, 288, 40):
                r = c("fleet runs page %d" % off, "POST", b + "/dags/~/dagRuns/list", 200,
                      body={"dag_ids": ids, "order_by": "id", "page_offset": off, "page_limit": 1000},
                      expect=eq(lambda j: (j["total_entries"], len(j["dag_runs"]) <= 40), (288, True)))
                pages += [(x["dag_id"], x["dag_run_id"]) for x in r.json().get("dag_runs", [])]
            chk(api + " runs pages whole", len(pages) == 288 and len(set(pages)) == 288, "%d runs" % len(pages))
            states = {}
            for x in c("fleet runs states", "POST", b + "/dags/~/dagRuns/list", 200,
                       body={"dag_ids": ids, "page_limit": 40, "states": ["failed", "running", "queued"]}
                       ).json()["dag_runs"]:
                states[x["state"]] = states.get(x["state"], 0) + 1
            chk(api + " failure mix", states.get("failed", 0) > 0 and states.get("queued", 0) >= 1, str(states))
            body = {"dag_ids": [ids[0]], "dag_run_ids": [rid for d, rid in pages if d == ids[0]][:30],
                    "page_offset": 0, "page_limit": 1000}
            if api == "v2":
                body["order_by"] = "id"
            c("fleet tis list", "POST", b + "/dags/~/dagRuns/~/taskInstances/list", 200, body=body,
              expect=eq(lambda j: (j["total_entries"], len(j["task_instances"]),
                                   sorted({t["dag_id"] for t in j["task_instances"]})), (150, 40, [ids[0]])))
            failed = c("fleet tis failed", "POST", b + "/dags/~/dagRuns/~/taskInstances/list", 200,
                       body={"dag_ids": ids, "page_limit": 40, "state": ["failed"]}).json()["task_instances"]
            chk(api + " failed task instances retried", failed and all(t["try_number"] == 2 for t in failed),
                str([(t["task_id"], t["try_number"]) for t in failed[:3]]))
            if failed:
                t = failed[0]
                ti = "%s/dags/%s/dagRuns/%s/taskInstances/%s" % (b, t["dag_id"], q(t["dag_run_id"]), t["task_id"])
                c("fleet tries", "GET", ti + "/tries", 200,
                  expect=eq(lambda j: [(x["try_number"], x["state"]) for x in j["task_instances"]],
                            [(1, "up_for_retry"), (2, "failed")]))
                c("fleet log", "GET", ti + "/logs/2", 200, headers={"Accept": "application/json"})
        finally:
            fake.stop()


def fault_checks(tmp, specs):
    faults = [
        {"path": "^/api/v1/dags$", "kind": "429", "times": 1, "retry_after": "2"},
        {"path": "^/api/v1/importErrors$", "kind": "429", "times": 1, "retry_after": "Wed, 21 Oct 2026 07:28:00 GMT"},
        {"path": "^/api/v1/dags/etl_daily$", "kind": "500", "times": 1},
        {"path": "^/api/v1/dags/train_churn$", "kind": "502", "times": 1},
        {"path": "^/api/v1/dags/sync_crm$", "kind": "503", "times": 2, "retry_after": "1"},
        {"path": "/details$", "kind": "504", "times": 1},
        {"path": "/tasks$", "kind": "drop", "times": 1},
        {"path": "^/api/v1/version$", "kind": "slow", "times": 1, "delay_ms": 300},
        {"path": "^/api/v1/health$", "kind": "truncate", "times": 1},
        {"path": "^/api/v1/dags/~/dagRuns$", "kind": "malformed", "times": 1},
        {"path": "/importErrors/1$", "kind": "timeout", "times": 1, "delay_ms": 3000},
    ]
    fpath = os.path.join(tmp, "faults.json")
    with open(fpath, "w") as f:
        json.dump(faults, f)
    fake = Fake("fake_airflow.py", ["--api", "v1", "--world", WORLD, "--faults", fpath, "--latency-ms", "50"],
                tmp, "faults-v1").wait()
    try:
        p = fake.port

        def chk(name, cond, detail=""):
            CHECKS[0] += 1
            before = len(FAIL)
            if not cond:
                fail("faults %s %s" % (name, detail))
            tap("faults: " + name, before)

        r = call(p, "GET", "/api/v1/dags")
        chk("429 seconds", r.status == 429 and r.headers.get("retry-after") == "2", (r.status, r.headers))
        chk("429 spent", call(p, "GET", "/api/v1/dags").status == 200)
        r = call(p, "GET", "/api/v1/importErrors")
        chk("429 http-date", r.status == 429 and r.headers.get("retry-after") == "Wed, 21 Oct 2026 07:28:00 GMT")
        r = call(p, "GET", "/api/v1/dags/etl_daily")
        chk("500 html", r.status == 500 and r.ctype == "text/html" and b"Ooops" in r.body, (r.status, r.ctype))
        r = call(p, "GET", "/api/v1/dags/train_churn")
        chk("502 gateway", r.status == 502 and b"502 Bad Gateway" in r.body)
        r1, r2, r3 = (call(p, "GET", "/api/v1/dags/sync_crm") for _ in range(3))
        chk("503 twice then ok", (r1.status, r2.status, r3.status) == (503, 503, 200) and
            r1.headers.get("retry-after") == "1", (r1.status, r2.status, r3.status))
        chk("504", call(p, "GET", "/api/v1/dags/etl_daily/details").status == 504)
        r = call(p, "GET", "/api/v1/dags/etl_daily/tasks")
        chk("drop", r.status is None and r.error is not None, r.status)
        chk("after drop", call(p, "GET", "/api/v1/dags/etl_daily/tasks").status == 200)
        t0 = time.time()
        r = call(p, "GET", "/api/v1/version")
        chk("slow body intact", r.status == 200 and r.json()["version"] == "2.10.5")
        slow_s = time.time() - t0
        r = call(p, "GET", "/api/v1/health")
        chk("truncate", r.status is None and isinstance(r.error, http.client.IncompleteRead), r.error)
        r = call(p, "GET", "/api/v1/dags/~/dagRuns")
        bad = False
        try:
            r.json()
        except ValueError:
            bad = True
        chk("malformed", r.status == 200 and bad)
        r = call(p, "GET", "/api/v1/importErrors/1", timeout=0.5)
        chk("timeout", r.status is None and isinstance(r.error, socket.timeout), r.error)
        # latency is per request and concurrent (ThreadingHTTPServer)
        res = []
        ths = [threading.Thread(target=lambda: res.append(call(p, "GET", "/api/v1/version").status))
               for _ in range(8)]
        t0 = time.time()
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        conc_s = time.time() - t0
        chk("8 concurrent", res == [200] * 8, res)
        lines = open(fake.log).read().splitlines()
        chk("request log", any(line.endswith(" 0 fault=drop") for line in lines) and
            "GET /api/v1/dags 429 fault=429" in lines, lines[:3])
        print("# faults: slow body took %.2fs (delay 0.3s); 8 concurrent requests at 50 ms latency took %.3fs"
              % (slow_s, conc_s))
    finally:
        fake.stop()


def huge_log_checks(tmp, specs):
    fakes = []
    try:
        _huge_log_checks(tmp, specs, fakes)
    finally:
        for f in fakes:
            f.stop()


def _huge_log_checks(tmp, specs, fakes):
    world = json.load(open(WORLD))
    run = [r for r in world["runs"] if r["run_id"] == "scheduled__2026-03-06T02:00:00+00:00"
           and r["dag_id"] == "etl_daily"][0]
    tr = [t for t in run["task_instances"] if t["task_id"] == "transform"][0]["tries"][1]
    tr.pop("log", None)
    tr["log_generate_mb"] = 2
    wpath = os.path.join(tmp, "huge.json")
    with open(wpath, "w") as f:
        json.dump(world, f)
    path = "/dags/etl_daily/dagRuns/%s/taskInstances/transform/logs/2" % q(run["run_id"])

    def chk(name, cond, detail=""):
        CHECKS[0] += 1
        before = len(FAIL)
        if not cond:
            fail("huge log %s %s" % (name, detail))
        tap("huge log: " + name, before)

    f1 = Fake("fake_airflow.py", ["--api", "v1", "--world", wpath], tmp, "huge-v1")
    f2 = Fake("fake_airflow.py", ["--api", "v2", "--world", wpath], tmp, "huge-v2")
    f3 = Fake("fake_prefect.py", ["--mode", "server", "--world", wpath], tmp, "huge-prefect")
    fakes.extend([f1, f2, f3])
    f1.wait()
    r = call(f1.port, "GET", "/api/v1" + path, {"Accept": "application/json"})
    j = r.json()
    content = ast.literal_eval(j["content"])
    text = content[0][1]
    chk("v1 json size", 2 * 1024 * 1024 - 2000 < len(text) < 2 * 1024 * 1024 + 2000, len(text))
    chk("v1 json tail", "AttributeError: 'DataFrame' object has no attribute 'append'" in text[-2000:])
    chk("v1 json repr exact", j["content"] == repr([("worker-2", text)]))
    r = call(f1.port, "GET", "/api/v1" + path, {"Accept": "text/plain"})
    chk("v1 text", r.status == 200 and r.body.decode().endswith("Task exited with return code 1\n\n"))
    rss = 0
    with open("/proc/%d/status" % f1.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    print("# huge log: 2 MB log served; fake RSS %d kB" % rss)
    f2.wait()
    r = call(f2.port, "GET", "/api/v2" + path, {"Accept": "application/json"})
    j = r.json()
    chk("v2 json", j["continuation_token"] is None and j["content"][-1]["event"].endswith(
        "Task exited with return code 1"), j["content"][-1])
    errs = specs["v2"].validate(V2_LOG, j)
    chk("v2 json schema", not errs, errs[:3])
    r = call(f2.port, "GET", "/api/v2" + path, {"Accept": "application/x-ndjson"})
    chk("v2 ndjson", r.status == 200 and len(r.body.splitlines()) == len(j["content"]))
    f3.wait()
    runs = call(f3.port, "POST", "/api/flow_runs/filter", {"Content-Type": "application/json"},
                {"flows": {"name": {"any_": ["etl_daily"]}},
                 "flow_runs": {"expected_start_time": {"after_": "2026-03-07T02:00:00Z",
                                                       "before_": "2026-03-07T02:00:00Z"}}}).json()
    fid = runs[0]["id"]
    total, offset, last = 0, 0, None
    seen_tail = False
    ordered = True
    while True:
        page = call(f3.port, "POST", "/api/logs/filter", {}, {"logs": {"flow_run_id": {"any_": [fid]}},
                                                              "limit": 200, "offset": offset}).json()
        for x in page:
            t = parse_dt(x["timestamp"])
            if last is not None and t < last:
                ordered = False
            last = t
            if "object has no attribute 'append'" in x["message"]:
                seen_tail = True
        total += len(page)
        offset += 200
        if len(page) < 200:
            break
    chk("prefect paging", total > 10000 and seen_tail and ordered, (total, seen_tail, ordered))
    errs = call(f3.port, "POST", "/api/logs/filter", {}, {"logs": {"flow_run_id": {"any_": [fid]},
                                                                   "level": {"ge_": 40}}}).json()
    chk("prefect level filter skips noise", 0 < len(errs) < 20, len(errs))
    print("# huge log: prefect paged %d records in %d pages" % (total, offset // 200))


# ---------------------------------------------------------------------------- main


PHASES = []
_T = [time.time()]


def phase(name):
    now = time.time()
    PHASES.append("%s %.1fs" % (name, now - _T[0]))
    _T[0] = now


def main():
    t_start = time.time()
    for f in ("airflow/airflow-2.x-v1.yaml", "airflow/airflow-3.x-v2.yaml", "airflow/airflow-3.x-simple-auth.yaml",
              "prefect/prefect-3.x-openapi.json"):
        if not os.path.exists(os.path.join(SPECS, f)):
            sys.stderr.write("validate_specs: %s not found (set DAGDOC_SPECS)\n" % os.path.join(SPECS, f))
            return 2
    specs = {
        "v1": Spec("v1", os.path.join(SPECS, "airflow/airflow-2.x-v1.yaml"), "/api/v1", True),
        "v2": Spec("v2", os.path.join(SPECS, "airflow/airflow-3.x-v2.yaml"), "", False),
        "auth": Spec("v2", os.path.join(SPECS, "airflow/airflow-3.x-simple-auth.yaml"), "", False),
        "prefect": Spec("prefect", os.path.join(SPECS, "prefect/prefect-3.x-openapi.json"), "/api", False),
    }
    world = json.load(open(WORLD))
    tmp = tempfile.mkdtemp(prefix="dagdoc-fakes-")
    fakes = []
    try:
        acct, ws = "0b3c8a52-1f0e-4c1e-9a57-4d7d3e6a0c11", "5e2f6c1d-8a3b-4f9e-b1d2-7c3a9e0f4b22"
        fakes = [
            Fake("fake_airflow.py", ["--api", "v1", "--world", WORLD, "--user", "admin", "--password", "admin"],
                 tmp, "airflow-v1"),
            Fake("fake_airflow.py", ["--api", "v2", "--world", WORLD, "--user", "admin", "--password", "secret"],
                 tmp, "airflow-v2"),
            Fake("fake_prefect.py", ["--mode", "server", "--world", WORLD, "--auth-string", "admin:pass"],
                 tmp, "prefect-server"),
            Fake("fake_prefect.py", ["--mode", "cloud", "--world", WORLD, "--api-key", "pnu_testkey",
                                     "--account-id", acct, "--workspace-id", ws], tmp, "prefect-cloud"),
        ]
        f = fakes[0].wait()
        basic = "Basic " + base64.b64encode(b"admin:admin").decode()
        c = Checker(specs["v1"], f, {"Authorization": basic})
        airflow_cases(c, "v1", world)
        c("dags bearer rejected", "GET", "/api/v1/dags", 401, auth=False, headers={"Authorization": "Bearer x"})
        c.coverage()
        phase("airflow v1")

        f = fakes[1].wait()
        tok = call(f.port, "POST", "/auth/token", body={"username": "admin", "password": "secret"}).json()
        c = Checker(specs["v2"], f, {"Authorization": "Bearer " + tok["access_token"]}, [specs["auth"]])
        airflow_v2_auth(c, f.port)
        airflow_cases(c, "v2", world)
        c.coverage()
        phase("airflow v2")

        f = fakes[2].wait()
        c = Checker(specs["prefect"], f, {"Authorization": "Basic " + base64.b64encode(b"admin:pass").decode()})
        prefect_cases(c, "/api", False, world)
        c.coverage()
        phase("prefect server")

        f = fakes[3].wait()
        cbase = "/api/accounts/%s/workspaces/%s" % (acct, ws)
        cloud_spec = Spec("prefect", os.path.join(SPECS, "prefect/prefect-3.x-openapi.json"), cbase, False)
        c = Checker(cloud_spec, f, {"Authorization": "Bearer pnu_testkey"})
        prefect_cases(c, cbase, True, world)
        c.coverage()
        phase("prefect cloud")
        for fk in fakes:
            fk.stop()
        fakes = []
        fault_checks(tmp, specs)
        phase("faults")
        bundle_checks(tmp, specs)
        phase("bundles")
        fleet_checks(tmp, specs)
        phase("fleet")
        huge_log_checks(tmp, specs)
        phase("huge logs")
    finally:
        for fk in fakes:
            fk.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    dt = time.time() - t_start
    print("# phases: " + ", ".join(PHASES))
    if FAIL:
        if not TAP:
            for m in FAIL:
                print("MISMATCH " + m)
        print("# validate_specs: %d of %d checks failed (%.1fs)" % (len(FAIL), CHECKS[0], dt))
        return 1
    print("# validate_specs: all %d checks passed (%.1fs)" % (CHECKS[0], dt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
