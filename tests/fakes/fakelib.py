"""Shared machinery of the fake orchestrator servers (standard library only).

- World loading: one JSON "world" (see README.md) normalised into plain objects
  that every fake maps onto its own API shape.
- Logs: inline text, files next to the world, or generated huge logs
  (log_generate_mb) that are produced line by line and never held in memory.
- HTTP: a ThreadingHTTPServer with per-request latency, fault injection
  (429/5xx/drop/slow/truncate/malformed/timeout), a request log, chunked
  streaming, a port file and a clean exit on SIGTERM.
"""

import base64
import collections
import datetime as _dt
import hashlib
import hmac
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

UTC = _dt.timezone.utc
NS = uuid.UUID("6f1c2a52-3d8e-4b57-9a61-0c5d2b7e9f10")


# --------------------------------------------------------------------------
# time and ids


def parse_ts(s):
    """ISO 8601 string -> aware datetime (UTC if no offset). None passes."""
    if s is None:
        return None
    if isinstance(s, _dt.datetime):
        return s if s.tzinfo else s.replace(tzinfo=UTC)
    t = str(s).strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    m = re.match(r"^(.*[T ]\d\d:\d\d(?::\d\d)?)(\.\d+)?([+-]\d\d:?\d\d)?$", t)
    if m and m.group(2) and len(m.group(2)) != 7:
        frac = (m.group(2)[1:] + "000000")[:6]
        t = m.group(1) + "." + frac + (m.group(3) or "")
    if m and m.group(3) and ":" not in m.group(3):
        off = m.group(3)
        t = t[: len(t) - len(off)] + off[:3] + ":" + off[3:]
    d = _dt.datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d


def parse_query_ts(s):
    """Strict RFC 3339 parse for query/body filters; raises ValueError.

    A '+' that was not percent-encoded arrives as a space (form decoding), as
    on the real servers; that is an invalid date-time there too.
    """
    if not isinstance(s, str) or not re.match(
        r"^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|z|[+-]\d\d:?\d\d)?)?$", s
    ):
        raise ValueError("not a date-time: %r" % (s,))
    return parse_ts(s)


def iso_v1(d):
    """Airflow 2 (marshmallow) style: 2026-03-04T02:00:00+00:00."""
    if d is None:
        return None
    return d.astimezone(UTC).isoformat()


def iso_z(d):
    """pydantic v2 style used by Airflow 3 and Prefect: ...Z."""
    if d is None:
        return None
    s = d.astimezone(UTC).isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def iso_prefect(d):
    if d is None:
        return None
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def airflow_log_ts(d):
    """Airflow 2 log asctime: 2022-06-12T13:00:00.123+0000."""
    d = d.astimezone(UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d" % (d.microsecond // 1000) + "+0000"


def compact_ts(d):
    return d.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def det_uuid(*parts):
    return str(uuid.uuid5(NS, "/".join(str(p) for p in parts)))


def seconds_between(a, b):
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 6)


def schedule_interval(s):
    """timedelta of a daily/hourly cron, preset or {"days","seconds"}; else None."""
    if s is None:
        return None
    if isinstance(s, dict):
        return _dt.timedelta(days=s.get("days", 0), seconds=s.get("seconds", 0))
    presets = {"@hourly": _dt.timedelta(hours=1), "@daily": _dt.timedelta(days=1), "@weekly": _dt.timedelta(days=7)}
    if s in presets:
        return presets[s]
    if re.match(r"^\d+ \d+ \* \* \*$", s):
        return _dt.timedelta(days=1)
    if re.match(r"^\d+ \* \* \* \*$", s):
        return _dt.timedelta(hours=1)
    return None


# --------------------------------------------------------------------------
# logs

AIRFLOW2_LINE = re.compile(
    r"^\[(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:[+-]\d{4}|[+-]\d\d:\d\d|Z)?)\]"
    r"(?: \{(?P<src>[^}]*)\})? (?P<level>[A-Z]+) - (?P<msg>.*)$"
)
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50, "FATAL": 50}


def parse_airflow_ts(s):
    s = s.replace(",", ".")
    return parse_ts(s.replace(" ", "T", 1))


class TextLog:
    """A log whose whole text is small enough to hold (inline or file)."""

    generated = False

    def __init__(self, text):
        self.text = text

    def chunks(self, size=65536):
        for i in range(0, len(self.text), size):
            yield self.text[i : i + size]

    def lines(self):
        return self.text.splitlines()

    def size(self):
        return len(self.text)


class FileLog(TextLog):
    def __init__(self, path):
        self.path = path

    @property
    def text(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def chunks(self, size=65536):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            while True:
                c = f.read(size)
                if not c:
                    return
                yield c

    def lines(self):
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                yield line.rstrip("\n")

    def size(self):
        return os.path.getsize(self.path)


class GeneratedLog:
    """An N-MB realistic Airflow 2 log: a header, fixed-width INFO noise lines
    (line i is a pure function of i, so any slice is produced on demand), and a
    failure tail. Never materialised."""

    generated = True

    def __init__(self, mb, ctx, tail_text=None):
        self.ctx = ctx  # dict: start, end, dag_id, task_id, run_id, try_number, tries_total, operator, host
        start, end = ctx["start"], ctx["end"]
        self.start = start
        self.head = self._head()
        self.tail = tail_text if tail_text is not None else self._default_tail()
        if not self.tail.endswith("\n"):
            self.tail += "\n"
        self.count, self.span_ms = 0, 1
        self.noise_len = len(self.noise_line(0))  # fixed width: every noise line has this length
        target = int(float(mb) * 1024 * 1024)
        self.count = max(0, (target - len(self.head) - len(self.tail)) // self.noise_len)
        span_ms = max(1, int(((end - start).total_seconds() - 2) * 1000))
        self.span_ms = span_ms

    def noise_ts(self, i):
        off = (i * self.span_ms) // max(1, self.count) if self.count else 0
        return self.start + _dt.timedelta(milliseconds=1000 + off)

    def noise_message(self, i):
        return (
            "Processed batch %08d: rows=1000 bytes=65536 elapsed=0.052s "
            "source=s3://warehouse/raw/events/part-%05d.parquet" % (i, i % 100000)
        )

    def noise_line(self, i):
        return "[%s] {logging_mixin.py:190} INFO - %s\n" % (airflow_log_ts(self.noise_ts(i)), self.noise_message(i))

    def iter_noise(self, i0, i1):
        """Fast path: yields (line without newline, pydantic-style ISO timestamp)
        for noise lines i0..i1-1; identical to noise_line()/noise_ts()."""
        base = self.start.replace(microsecond=0)
        us0 = self.start.microsecond
        span, count = self.span_ms, max(1, self.count)
        last_sec, sec_txt = None, None
        for i in range(i0, i1):
            off = 1000 + ((i * span) // count if self.count else 0)
            tot = us0 + off * 1000
            sec, micro = divmod(tot, 1000000)
            if sec != last_sec:
                sec_txt = (base + _dt.timedelta(seconds=sec)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
                last_sec = sec
            line = ("[%s.%03d+0000] {logging_mixin.py:190} INFO - Processed batch %08d: rows=1000 bytes=65536 "
                    "elapsed=0.052s source=s3://warehouse/raw/events/part-%05d.parquet") % (
                sec_txt, micro // 1000, i, i % 100000)
            iso = sec_txt + ((".%06d" % micro) if micro else "") + "Z"
            yield line, iso

    def _head(self):
        c = self.ctx
        t = airflow_log_ts(c["start"])
        return (
            "[%s] {local_task_job_runner.py:123} INFO - ::group::Pre task execution logs\n"
            "[%s] {taskinstance.py:2613} INFO - Dependencies all met for dep_context=non-requeueable deps "
            "ti=<TaskInstance: %s.%s %s [queued]>\n"
            "[%s] {taskinstance.py:2866} INFO - Starting attempt %d of %d\n"
            "[%s] {taskinstance.py:2889} INFO - Executing <Task(%s): %s> on %s\n"
            "[%s] {local_task_job_runner.py:123} INFO - ::endgroup::\n"
        ) % (
            t, t, c["dag_id"], c["task_id"], c["run_id"], t, c["try_number"], c["tries_total"],
            t, c["operator"], c["task_id"], c["run_id"], t,
        )

    def _default_tail(self):
        c = self.ctx
        t = airflow_log_ts(c["end"] - _dt.timedelta(seconds=1))
        t2 = airflow_log_ts(c["end"])
        return (
            "[%s] {taskinstance.py:3311} ERROR - Task failed with exception\n"
            "Traceback (most recent call last):\n"
            '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py", line 767, in _execute_task\n'
            "    result = _execute_callable(context=context, **execute_callable_kwargs)\n"
            '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/operators/python.py", line 235, in execute\n'
            "    return_value = self.execute_callable()\n"
            '  File "/opt/airflow/dags/etl/transform.py", line 88, in transform\n'
            "    frame = frame.append(batch)\n"
            '  File "/home/airflow/.local/lib/python3.11/site-packages/pandas/core/generic.py", line 6299, in __getattr__\n'
            "    return object.__getattribute__(self, name)\n"
            "AttributeError: 'DataFrame' object has no attribute 'append'\n"
            "[%s] {taskinstance.py:1225} INFO - Marking task as FAILED. dag_id=%s, task_id=%s, run_id=%s, "
            "execution_date=%s, start_date=%s, end_date=%s\n"
            "[%s] {local_task_job_runner.py:266} INFO - Task exited with return code 1\n"
        ) % (
            t, t2, c["dag_id"], c["task_id"], c["run_id"], compact_ts(c["logical_date"]),
            compact_ts(c["start"]), compact_ts(c["end"]), t2,
        )

    def chunks(self, size=65536):
        yield self.head
        per = max(1, size // self.noise_len)
        i = 0
        while i < self.count:
            n = min(per, self.count - i)
            yield "".join(line + "\n" for line, _ in self.iter_noise(i, i + n))
            i += n
        yield self.tail

    def lines(self):
        for ln in self.head.splitlines():
            yield ln
        for line, _ in self.iter_noise(0, self.count):
            yield line
        for ln in self.tail.splitlines():
            yield ln

    def size(self):
        return len(self.head) + self.count * self.noise_len + len(self.tail)


# --------------------------------------------------------------------------
# world


class Obj(dict):
    """dict with attribute access for the normalised world."""

    __getattr__ = dict.get

    def __setattr__(self, k, v):
        self[k] = v


# --------------------------------------------------------------------------
# a generated fleet world: --world fleet:DAGSxRUNSxTASKS[:SEED]

FLEET_RE = re.compile(r"^fleet:(\d+)x(\d+)x(\d+)(?::(\d+))?$")
FLEET_NOW = "2026-03-11T06:00:00+00:00"
FLEET_TASKS = ("extract", "clean", "enrich", "aggregate", "validate", "load", "publish", "index", "report", "notify")
FLEET_AREAS = ("orders", "payments", "users", "events", "billing", "search", "ads", "crm", "inventory", "shipping")
FLEET_LOG_MB = 0.002  # each try's generated log: a header, a few noise lines, its tail

# How broken DAGs fail from their onset on (the last line of the traceback as the library prints it).
FLEET_BREAKAGES = (
    ("/opt/airflow/dags/{area}/{task}.py", "row = lookup[record['customer_id']]", "KeyError: 'customer_id'"),
    ("/home/airflow/.local/lib/python3.11/site-packages/psycopg2/__init__.py",
     "conn = _connect(dsn, connection_factory=connection_factory, **kwasync)",
     'psycopg2.OperationalError: connection to server at "warehouse.internal" (10.0.3.12), port 5432 failed: '
     "Connection refused"),
    ("/home/airflow/.local/lib/python3.11/site-packages/botocore/client.py", "raise error_class(parsed_response, "
     "operation_name)", "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the "
     "GetObject operation: Access Denied"),
    ("/opt/airflow/dags/{area}/{task}.py", "import great_expectations as gx",
     "ModuleNotFoundError: No module named 'great_expectations'"),
)
FLEET_FLAKE = ("/home/airflow/.local/lib/python3.11/site-packages/requests/adapters.py",
               "raise ReadTimeout(e, request=request)",
               "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.partner.example', port=443): "
               "Read timed out. (read timeout=30)")
FLEET_SENSOR = ("/home/airflow/.local/lib/python3.11/site-packages/airflow/sensors/base.py",
                "raise AirflowSensorTimeout(message)",
                "airflow.exceptions.AirflowSensorTimeout: Sensor has timed out; run duration of 3600.0 seconds "
                "exceeded the specified timeout of 3600.0.")


class Fleet:
    """DAGS hourly DAGs of TASKS tasks, RUNS runs each ending at `now`, made
    from SEED alone (the same arguments give the same world).  Most DAGs are
    healthy; about one in thirty is broken (every run fails from an onset on,
    the tasks below the failing one upstream_failed); about one in eight has a
    flaky task that fails a try now and then and passes on its retry
    (try_number 2); one DAG's sensor times out every eighth run, failing the
    whole chain below it (an upstream_failed cascade); the last run of a DAG
    whose slot opened minutes ago is still running (or queued, not started).
    Runs are made at start; task instances on demand (task_instances)."""

    def __init__(self, n_dags, n_runs, n_tasks, seed=1):
        if not (1 <= n_dags <= 100000 and 1 <= n_runs <= 100000 and 1 <= n_tasks <= 1000):
            raise SystemExit("fleet:DAGSxRUNSxTASKS: each at least 1 (DAGS, RUNS <= 100000, TASKS <= 1000)")
        self.n_dags, self.n_runs, self.n_tasks, self.seed = n_dags, n_runs, n_tasks, seed
        self.now = parse_ts(FLEET_NOW)
        rng = random.Random(seed)
        self.profiles = []
        cascade = rng.randrange(n_dags) if n_dags > 1 else -1
        small = n_dags <= 4  # a small fleet (tests) has each kind: 0 broken, 1 flaky, the last cascading
        if small:
            cascade = n_dags - 1 if n_dags >= 3 else -1
        for i in range(n_dags):
            area = FLEET_AREAS[i % len(FLEET_AREAS)]
            p = {"dag_id": "%s_%s_%03d" % (area, "hourly", i), "area": area, "minute": (i * 7) % 60,
                 "fanout": i % 2 == 1 and n_tasks >= 3, "broken": None, "flaky": None, "cascade": i == cascade,
                 "host": "worker-%d" % (i % 6 + 1)}
            r = rng.random()
            if i != cascade and (r < 1 / 30.0 if not small else i == 0):
                p["broken"] = {"onset": n_runs - 1 - rng.randrange(max(1, n_runs // 4)),
                               "task": rng.randrange(n_tasks), "how": rng.randrange(len(FLEET_BREAKAGES))}
            elif i != cascade and (r < 1 / 30.0 + 1 / 8.0 if not small else i == 1):
                p["flaky"] = {"task": rng.randrange(n_tasks), "rate": 0.03 + rng.random() * 0.1}
            self.profiles.append(p)
        self.by_id = {p["dag_id"]: (i, p) for i, p in enumerate(self.profiles)}
        # the two shapes' edges, made once: ups[fanout][j], below[fanout][j] (task j and all below it)
        self.ups = {}
        self.below = {}
        for fan in (False, True):
            q = {"fanout": fan}
            self.ups[fan] = [[u for u in range(j) if j in self.downstream(q, u)] for j in range(n_tasks)]
            self.below[fan] = [self.upstream_closure(q, j) for j in range(n_tasks)]

    def task_ids(self):
        return [FLEET_TASKS[j % 10] + ("" if j < 10 else "_%d" % (j // 10)) for j in range(self.n_tasks)]

    def downstream(self, p, j):
        """Tasks below task j: a chain, or task 0 -> every middle task -> the last."""
        last = self.n_tasks - 1
        if j == last:
            return []
        if not p["fanout"]:
            return [j + 1]
        return list(range(1, last)) if j == 0 else [last]

    def upstream_closure(self, p, j):
        """Every task at or below task j."""
        out, todo = set(), [j]
        while todo:
            k = todo.pop()
            if k not in out:
                out.add(k)
                todo.extend(self.downstream(p, k))
        return out

    def task_seconds(self, i, j, k):
        """How long task j of run k of DAG i runs (each try)."""
        return 20 + (j * 13 + i * 7) % 50 + (k * 31 + j * 17 + i) % 5

    def flaky_fails(self, i, p, k):
        """Does the flaky task of DAG i fail its first try in run k?  (a hash, not a draw: cheap and fixed)"""
        h = ((self.seed * 1000003 + i) * 2654435761 + k * 40503) % 1000003
        return p["flaky"] is not None and h / 1000003.0 < p["flaky"]["rate"]

    def plan(self, i, p, k):
        """Run k of DAG i, as offsets in seconds from its start: for each task
        None (did not run: upstream failed or not reached) or (queued,
        [(start, end, state) of each try]); the failing task and its failure."""
        failing, how = None, None
        if p["broken"] and k >= p["broken"]["onset"]:
            failing, how = p["broken"]["task"], FLEET_BREAKAGES[p["broken"]["how"]]
        elif p["cascade"] and k % 8 == 3:
            failing, how = 0, FLEET_SENSOR
        flaky = p["flaky"]["task"] if self.flaky_fails(i, p, k) else None
        ups_of = self.ups[p["fanout"]]
        ends, plan = [], []
        for j in range(self.n_tasks):
            ups = ups_of[j]
            if any(ends[u] is None for u in ups):
                ends.append(None)
                plan.append(None)
                continue
            q = (max(ends[u] for u in ups) if ups else 0) + 1
            dur = self.task_seconds(i, j, k)
            t0, tries = q + 1, []
            n_tries = 2 if (j == failing or j == flaky) else 1
            for n in range(1, n_tries + 1):
                if j == failing:
                    st = "up_for_retry" if n < n_tries else "failed"
                elif j == flaky and n == 1:
                    st = "up_for_retry"
                else:
                    st = "success"
                tries.append((t0, t0 + dur, st))
                t0 += dur + 60  # retry_delay
            ends.append(tries[-1][1] if tries[-1][2] == "success" else None)
            plan.append((q, tries))
        return plan, failing, how

    def raw(self):
        ids = self.task_ids()
        dags = []
        for i, p in enumerate(self.profiles):
            tasks = []
            for j, tid in enumerate(ids):
                op = "ExternalTaskSensor" if p["cascade"] and j == 0 else "PythonOperator"
                tasks.append({"task_id": tid, "operator": op, "retries": 1,
                              "downstream": [ids[k] for k in self.downstream(p, j)]})
            dags.append({"dag_id": p["dag_id"], "fileloc": "/opt/airflow/dags/%s/%s.py" % (p["area"], p["dag_id"]),
                         "schedule": "%d * * * *" % p["minute"], "owners": [p["area"]], "tags": [p["area"], "hourly"],
                         "tasks": tasks})
        runs = []
        hour = _dt.timedelta(hours=1)
        for i, p in enumerate(self.profiles):
            for k in range(self.n_runs):
                logical = self.now - (self.n_runs - k) * hour - _dt.timedelta(minutes=p["minute"])
                runs.append(self.run_raw(i, p, k, logical, logical + hour))
        return {"version": "2.10.5", "versions": {"v1": "2.10.5", "v2": "3.2.0"}, "now": FLEET_NOW,
                "dags": dags, "runs": runs, "import_errors": []}

    def run_state(self, p, k):
        if p["broken"] and k >= p["broken"]["onset"]:
            return "failed"
        if p["cascade"] and k % 8 == 3:
            return "failed"
        return "success"

    def run_raw(self, i, p, k, logical, interval_end):
        queued = interval_end + _dt.timedelta(seconds=5)
        start = queued + _dt.timedelta(seconds=5)
        r = {"dag_id": p["dag_id"], "run_id": "scheduled__" + logical.isoformat(), "run_type": "scheduled",
             "logical_date": logical, "data_interval_start": logical, "data_interval_end": interval_end,
             "queued_at": queued, "start_date": start, "_k": k, "_i": i}
        if start > self.now:
            r.update(state="queued", start_date=None)
            return r
        plan, _, _ = self.plan(i, p, k)
        last = max(tr[-1][1] for _, tr in (x for x in plan if x))
        if start + _dt.timedelta(seconds=last) > self.now:
            r["state"] = "running"
        else:
            r["state"] = self.run_state(p, k)
            r["end_date"] = start + _dt.timedelta(seconds=last + 3)
        return r

    def task_instances(self, run):
        """The task instances (world format, times as datetimes) of a run."""
        i, k = run["_i"], run["_k"]
        p = self.profiles[i]
        ids = self.task_ids()
        ops = ["ExternalTaskSensor" if p["cascade"] and j == 0 else "PythonOperator" for j in range(self.n_tasks)]
        if run.start_date is None:
            return [{"task_id": tid, "state": None, "try_number": 0, "max_tries": 1, "operator": op}
                    for tid, op in zip(ids, ops)]
        plan, failing, how = self.plan(i, p, k)
        start, now = run.start_date, self.now
        out = []
        for j, step in enumerate(plan):
            ti = {"task_id": ids[j], "max_tries": 1, "operator": ops[j], "hostname": p["host"]}
            out.append(ti)
            if step is None:
                blocked = failing is not None and j != failing and j in self.below[p["fanout"]][failing]
                ti.update(state="upstream_failed" if blocked else None, try_number=0, hostname="")
                continue
            q, plan_tries = step
            qwhen = start + _dt.timedelta(seconds=q)
            tries = []
            for n, (t0, t1, st) in enumerate(plan_tries, 1):
                t0, t1 = start + _dt.timedelta(seconds=t0), start + _dt.timedelta(seconds=t1)
                if t0 > now:
                    break
                tr = {"try_number": n, "state": st, "start_date": t0, "end_date": t1, "hostname": p["host"],
                      "log_generate_mb": FLEET_LOG_MB}
                if t1 > now:
                    tr.update(state="running", end_date=None)
                else:
                    # the tail is written when the log is asked for (World.log_of)
                    tr["_tail"] = (p, ids[j], run.run_id, n, len(plan_tries), t1,
                                   None if st == "success" else how if j == failing else FLEET_FLAKE)
                tries.append(tr)
            if qwhen > now:
                ti.update(state=None, try_number=0, hostname="")
            elif not tries:
                ti.update(state="queued", try_number=1, queued_when=qwhen, hostname="")
            else:
                cur = tries[-1]
                ti.update(state=cur["state"], try_number=len(tries), queued_when=qwhen, start_date=cur["start_date"],
                          end_date=cur["end_date"], tries=tries)
        return out

    def tail(self, p, task_id, run_id, n, n_tries, end, how):
        """The end of a try's log: Airflow 2's lines, and the traceback of a failure."""
        t = airflow_log_ts(end)
        state = "SUCCESS" if how is None else ("UP_FOR_RETRY" if n < n_tries else "FAILED")
        lines = []
        if how is not None:
            path, code, last = how
            lines += ["[%s] {taskinstance.py:3311} ERROR - Task failed with exception" % t,
                      "Traceback (most recent call last):",
                      '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py", '
                      "line 767, in _execute_task",
                      "    result = _execute_callable(context=context, **execute_callable_kwargs)",
                      '  File "%s", line 88, in %s' % (path.format(area=p["area"], task=task_id), task_id),
                      "    " + code, last]
        lines += ["[%s] {taskinstance.py:1225} INFO - Marking task as %s. dag_id=%s, task_id=%s, run_id=%s, "
                  "execution_date=%s" % (t, state, p["dag_id"], task_id, run_id, compact_ts(end)),
                  "[%s] {local_task_job_runner.py:266} INFO - Task exited with return code %d" %
                  (t, 0 if how is None else 1)]
        return "\n".join(lines) + "\n"


class LazyRun(Obj):
    """A run of a generated world: its task instances are made when asked for
    (World.tis_of), so a fleet of 720,000 of them is never held at once."""

    @property
    def tis(self):
        return self["_world"].tis_of(self)


class World:
    TIS_CACHE_RUNS = 4096  # runs of a generated world whose task instances stay made

    def __init__(self, path):
        self.fleet = None
        m = FLEET_RE.match(path)
        if m:
            self.fleet = Fleet(*(int(g) for g in m.groups(default="1")))
            self.path = path
            self.dir = os.getcwd()
            raw = self.fleet.raw()
        else:
            self.path = os.path.abspath(path)
            self.dir = os.path.dirname(self.path)
            with open(self.path, encoding="utf-8") as f:
                raw = json.load(f)
        self.raw = raw
        self.version = raw.get("version", "2.10.5")
        versions = raw.get("versions") or {}
        self.version_v1 = versions.get("v1") or (self.version if self.version.startswith("2.") else "2.10.5")
        self.version_v2 = versions.get("v2") or (self.version if self.version.startswith("3.") else "3.2.0")
        self.version_prefect = versions.get("prefect") or "3.8.3"
        self.now = parse_ts(raw["now"]) if raw.get("now") else _dt.datetime.now(UTC).replace(microsecond=0)
        self.health = raw.get("health") or {}
        self.prefect = raw.get("prefect") or {}
        self.dags = []
        self.dag_by_id = {}
        for i, d in enumerate(raw.get("dags", [])):
            dag = Obj(d)
            dag.index = i
            dag.tasks = [Obj(t) for t in d.get("tasks", [])]
            dag.task_by_id = {t.task_id: t for t in dag.tasks}
            for t in dag.tasks:
                t.downstream = list(t.get("downstream") or [])
                t.upstream = []
            for t in dag.tasks:
                for dn in t.downstream:
                    if dn in dag.task_by_id:
                        dag.task_by_id[dn].upstream.append(t.task_id)
            dag.owners = d.get("owners") or ["airflow"]
            dag.tags = d.get("tags") or []
            dag.is_paused = bool(d.get("is_paused", False))
            dag.is_active = bool(d.get("is_active", True))
            dag.fileloc = d.get("fileloc") or "/opt/airflow/dags/%s.py" % dag.dag_id
            self.dags.append(dag)
            self.dag_by_id[dag.dag_id] = dag
        self._tis_cache = collections.OrderedDict()
        self._tis_lock = threading.Lock()
        runs = []
        for i, r in enumerate(raw.get("runs", [])):
            run = LazyRun(r) if self.fleet else Obj(r)
            run.order = i
            for k in ("logical_date", "queued_at", "start_date", "end_date", "data_interval_start",
                      "data_interval_end", "updated_at", "run_after", "last_scheduling_decision"):
                run[k] = parse_ts(r.get(k))
            if run.run_after is None:
                run.run_after = run.logical_date or run.queued_at or run.start_date
            if run.logical_date is None and r.get("run_type") != "manual":
                run.logical_date = run.run_after
            if run.data_interval_start is None:
                run.data_interval_start = run.logical_date
            if run.data_interval_end is None:
                dag = self.dag_by_id.get(run.dag_id)
                td = schedule_interval(dag.get("schedule")) if dag else None
                scheduled = r.get("run_type", "scheduled") == "scheduled"
                run.data_interval_end = run.logical_date + td if (td and scheduled and run.logical_date) \
                    else run.logical_date
            if run.updated_at is None:
                run.updated_at = run.end_date or run.start_date or run.queued_at or run.run_after
            if self.fleet:
                run["_world"] = self
            else:
                run.tis = [self._task_instance(run, ti, j) for j, ti in enumerate(r.get("task_instances", []))]
            runs.append(run)
        # Airflow's dag_run.id follows creation order.
        runs.sort(key=lambda r: (r.queued_at or r.run_after or r.start_date or self.now, r.order))
        self.runs_by_dag = {}
        for n, r in enumerate(runs, 1):
            r.id = n
            self.runs_by_dag.setdefault(r.dag_id, []).append(r)
        self.runs = runs
        self.run_by_key = {(r.dag_id, r.run_id): r for r in runs}
        self.import_errors = []
        for n, e in enumerate(raw.get("import_errors", []), 1):
            x = Obj(e)
            x.id = int(e.get("import_error_id", n))
            x.timestamp = parse_ts(e.get("timestamp")) or self.now
            self.import_errors.append(x)

    def _task_instance(self, run, ti, j):
        """One task instance of the world format, normalised."""
        t = Obj(ti)
        t.order = j
        t.run = run
        t.dag_id = run.dag_id
        t.map_index = int(ti.get("map_index", -1))
        t.try_number = int(ti.get("try_number", 0))
        t.max_tries = int(ti.get("max_tries", 0))
        for k in ("queued_when", "start_date", "end_date", "updated_at"):
            t[k] = parse_ts(ti.get(k))
        t.tries = []
        for tr in ti.get("tries", []):
            x = Obj(tr)
            x.ti = t
            x.try_number = int(tr.get("try_number"))
            x.start_date = parse_ts(tr.get("start_date"))
            x.end_date = parse_ts(tr.get("end_date"))
            x.hostname = tr.get("hostname", ti.get("hostname", ""))
            t.tries.append(x)
        t.tries.sort(key=lambda x: x.try_number)
        if t.start_date is None and t.tries:
            t.start_date = t.tries[-1].start_date
        if t.end_date is None and t.tries:
            t.end_date = t.tries[-1].end_date
        if t.updated_at is None:
            t.updated_at = t.end_date or t.start_date or t.queued_when or run.updated_at
        return t

    def tis_of(self, run):
        """The task instances of a generated run: made on demand, the last
        TIS_CACHE_RUNS runs' kept (one page after another reads the same runs)."""
        with self._tis_lock:
            tis = self._tis_cache.get(run.id)
            if tis is not None:
                self._tis_cache.move_to_end(run.id)
                return tis
        tis = [self._task_instance(run, ti, j) for j, ti in enumerate(self.fleet.task_instances(run))]
        with self._tis_lock:
            self._tis_cache[run.id] = tis
            while len(self._tis_cache) > self.TIS_CACHE_RUNS:
                self._tis_cache.popitem(last=False)
        return tis

    # ---- lookups

    def runs_of(self, dag_id):
        """The runs of one DAG ("~" or None: all), in id order (an index, not a scan)."""
        if dag_id in ("~", None):
            return list(self.runs)
        return list(self.runs_by_dag.get(dag_id, ()))

    def find_ti(self, dag_id, run_id, task_id, map_index=-1):
        run = self.run_by_key.get((dag_id, run_id))
        if run is None:
            return None
        for t in run.tis:
            if t.task_id == task_id and t.map_index == map_index:
                return t
        return None

    def operator_of(self, ti):
        dag = self.dag_by_id.get(ti.dag_id)
        task = dag.task_by_id.get(ti.task_id) if dag else None
        return ti.get("operator") or (task.get("operator") if task else None) or "PythonOperator"

    def log_of(self, tr):
        """Log object (TextLog/FileLog/GeneratedLog) of one try, or None."""
        ti = tr.ti
        run = ti.run
        if tr.get("log_generate_mb"):
            start = tr.start_date or ti.start_date or run.start_date or self.now
            end = tr.end_date or (start + _dt.timedelta(minutes=10))
            ctx = {
                "start": start, "end": end, "dag_id": ti.dag_id, "task_id": ti.task_id,
                "run_id": run.run_id, "try_number": tr.try_number, "tries_total": ti.max_tries + 1,
                "operator": self.operator_of(ti), "host": tr.hostname,
                "logical_date": run.logical_date or start,
            }
            tail = tr.get("log")
            if tail is None and tr.get("_tail"):
                tail = self.fleet.tail(*tr._tail)
            return GeneratedLog(tr.log_generate_mb, ctx, tail)
        if tr.get("log_file"):
            p = tr.log_file
            if not os.path.isabs(p):
                p = os.path.join(self.dir, p)
            return FileLog(p)
        if tr.get("log") is not None:
            return TextLog(tr.log)
        return None

    def log_relpath(self, ti, try_number):
        p = "dag_id=%s/run_id=%s/task_id=%s/" % (ti.dag_id, ti.run.run_id, ti.task_id)
        if ti.map_index >= 0:
            p += "map_index=%d/" % ti.map_index
        return p + "attempt=%d.log" % try_number


# --------------------------------------------------------------------------
# itsdangerous-compatible URL-safe signed tokens (the format Airflow 2 uses
# for continuation tokens and file tokens)


def _b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode())


SECRET = b"dagdoc-fake-secret-key"


def _signer_key(salt=b"itsdangerous"):
    return hashlib.sha1(salt + b"signer" + SECRET).digest()


def sign_token(obj, salt=b"itsdangerous"):
    payload = _b64(json.dumps(obj, separators=(",", ":")).encode())
    sig = hmac.new(_signer_key(salt), payload.encode(), hashlib.sha1).digest()
    return payload + "." + _b64(sig)


def unsign_token(tok, salt=b"itsdangerous"):
    """Returns the object or raises ValueError (bad signature)."""
    try:
        payload, sig = tok.rsplit(".", 1)
        want = hmac.new(_signer_key(salt), payload.encode(), hashlib.sha1).digest()
        if not hmac.compare_digest(want, _unb64(sig)):
            raise ValueError("bad signature")
        return json.loads(_unb64(payload))
    except ValueError:
        raise
    except Exception as e:  # malformed base64, json, missing dot
        raise ValueError(str(e))


def make_jwt(claims):
    header = _b64(json.dumps({"alg": "HS512", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(SECRET, (header + "." + body).encode(), hashlib.sha512).digest()
    return header + "." + body + "." + _b64(sig)


def check_jwt(tok):
    """Claims dict if the signature is ours, else None."""
    try:
        h, b, s = tok.split(".")
        want = hmac.new(SECRET, (h + "." + b).encode(), hashlib.sha512).digest()
        if not hmac.compare_digest(want, _unb64(s)):
            return None
        return json.loads(_unb64(b))
    except Exception:
        return None


# --------------------------------------------------------------------------
# HTTP plumbing


class Raw(str):
    """A piece of JSON text already encoded (fast paths)."""


def dumps(x):
    return x if isinstance(x, Raw) else json.dumps(x)


class HttpError(Exception):
    """Raised by handlers: carries a ready Response."""

    def __init__(self, resp):
        Exception.__init__(self, "http %d" % resp.status)
        self.resp = resp


class Response:
    def __init__(self, status, body=b"", content_type="application/json", headers=None, stream=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.content_type = content_type
        self.headers = list(headers or [])
        self.stream = stream  # iterator of bytes/str: sent chunked


def json_resp(status, obj, content_type="application/json", headers=None):
    return Response(status, json.dumps(obj, separators=(", ", ": ")).encode(), content_type, headers)


def text_resp(status, text, content_type="text/plain; charset=utf-8", headers=None):
    return Response(status, text.encode("utf-8"), content_type, headers)


def batched(gen, size=65536):
    """Join small str pieces into ~size chunks (fewer chunked-encoding frames)."""
    buf, n = [], 0
    for piece in gen:
        buf.append(piece)
        n += len(piece)
        if n >= size:
            yield "".join(buf)
            buf, n = [], 0
    if buf:
        yield "".join(buf)


def stream_resp(status, gen, content_type, headers=None):
    return Response(status, b"", content_type, headers, stream=batched(gen))


class Request:
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        parts = urlsplit(target)
        self.raw_path = parts.path
        self.path = unquote(parts.path)
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.params = {}

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[-1] if v else default

    def qlist(self, name):
        return list(self.query.get(name, []))

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


class Router:
    def __init__(self):
        self.routes = []

    def add(self, method, template, fn, spec=True):
        """template uses {name} for one path segment; spec=False marks a route
        that the orchestrator serves but its OpenAPI file does not list."""
        rx = ""
        for part in re.split(r"(\{[a-z_]+\})", template):
            if part.startswith("{") and part.endswith("}"):
                rx += "(?P<%s>[^/]+)" % part[1:-1]
            else:
                rx += re.escape(part)
        self.routes.append((method, re.compile("^" + rx + "$"), fn, template, spec))

    def match(self, method, raw_path):
        allowed = []
        for m, rx, fn, tpl, _ in self.routes:
            mo = rx.match(raw_path)
            if mo:
                if m == method:
                    return fn, {k: unquote(v) for k, v in mo.groupdict().items()}, tpl
                allowed.append(m)
        return None, allowed, None

    def listing(self):
        return [(m, tpl, spec) for m, _, _, tpl, spec in self.routes]


FAULT_KINDS = {"429", "500", "502", "503", "504", "drop", "slow", "truncate", "malformed", "timeout"}


class Faults:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.items = []
        if not path:
            return
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data.get("faults", [])
        for n, f in enumerate(data):
            kind = str(f.get("kind"))
            if kind not in FAULT_KINDS:
                raise SystemExit("faults[%d]: unknown kind %r (one of %s)" % (n, kind, ", ".join(sorted(FAULT_KINDS))))
            times = f.get("times", 1)
            self.items.append({
                "rx": re.compile(f.get("path", ".*")),
                "body_rx": re.compile(f["body"]) if f.get("body") else None,
                "method": f.get("method"),
                "kind": kind,
                "left": -1 if times is None or int(times) < 0 else int(times),
                "retry_after": f.get("retry_after"),
                "delay_ms": f.get("delay_ms"),
                "chunk_bytes": f.get("chunk_bytes"),
            })

    def take(self, method, path, body=b""):
        with self.lock:
            for f in self.items:
                if f["left"] == 0:
                    continue
                if f["method"] and f["method"].upper() != method:
                    continue
                if f["body_rx"] and not f["body_rx"].search(body.decode("utf-8", "replace")):
                    continue
                if f["rx"].search(path):
                    if f["left"] > 0:
                        f["left"] -= 1
                    return dict(f)
        return None


class ReqLog:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8") if path else sys.stderr

    def write(self, method, target, status, fault=None):
        line = "%s %s %s%s\n" % (method, target, status, (" fault=" + fault) if fault else "")
        with self.lock:
            self.f.write(line)
            self.f.flush()


def gateway_html(status):
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}[status]
    return (
        "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" % (status, reason, status, reason)
    )


class App:
    """Base class of a fake API. Subclasses fill self.router and implement
    authenticate(req) -> None or Response, and fault_response(status, fault)."""

    name = "fake"

    def __init__(self, args):
        self.args = args
        self.world = World(args.world)
        self.router = Router()
        self.faults = Faults(args.faults)
        self.reqlog = ReqLog(args.request_log)
        self.latency = (args.latency_ms or 0) / 1000.0
        self.stop = threading.Event()

    def authenticate(self, req):
        return None

    def fault_response(self, status, fault):
        return json_resp(status, {"detail": "fault"})

    def not_found(self, req):
        return json_resp(404, {"detail": "Not Found"})

    def method_not_allowed(self, req, allowed):
        return json_resp(405, {"detail": "Method Not Allowed"})

    def handle_exception(self, req, exc):
        return text_resp(500, "Internal Server Error")

    def dispatch(self, req):
        fn, params, tpl = self.router.match(req.method, req.raw_path)
        if fn is None:
            if params:
                return self.method_not_allowed(req, params)
            return self.not_found(req)
        req.params = params
        req.template = tpl
        try:
            return fn(req)
        except HttpError as e:
            return e.resp


def make_handler(app):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # TCP_NODELAY: headers and body go out as separate writes
        server_version = "uvicorn" if app.name != "airflow-v1" else "gunicorn"
        sys_version = ""

        def log_message(self, fmt, *a):  # silence default stderr logging
            pass

        def _read_body(self):
            n = self.headers.get("Content-Length")
            if n is None:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return b""
            return self.rfile.read(int(n))

        def _handle(self):
            method = self.command
            target = self.path
            body = self._read_body()
            if app.latency:
                time.sleep(app.latency)
            req = Request(method, target, self.headers, body)
            req.has_content_length = self.headers.get("Content-Length") is not None
            fault = app.faults.take(method, req.path, body or b"")
            kind = fault["kind"] if fault else None
            if kind == "drop":
                app.reqlog.write(method, target, 0, kind)
                self._drop()
                return
            if kind == "timeout":
                delay = (fault.get("delay_ms") or 30000) / 1000.0
                if app.stop.wait(delay):
                    self._drop()
                    return
            try:
                if kind in ("429", "500", "502", "503", "504"):
                    resp = app.fault_response(int(kind), fault)
                else:
                    resp = app.authenticate(req) or app.dispatch(req)
            except Exception as exc:  # a bug in the fake must still answer
                import traceback

                traceback.print_exc(file=sys.stderr)
                resp = app.handle_exception(req, exc)
            app.reqlog.write(method, target, resp.status, kind)
            self._send(resp, fault)

        def _drop(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _start(self, resp, extra=()):
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            for k, v in resp.headers:
                self.send_header(k, v)
            for k, v in extra:
                self.send_header(k, v)

        def _send(self, resp, fault):
            kind = fault["kind"] if fault else None
            if kind == "malformed":
                body = resp.body
                if resp.stream is not None:
                    body = b""
                    for c in resp.stream:
                        body += c.encode() if isinstance(c, str) else c
                        if len(body) > 65536:
                            break
                    resp.stream = None
                cut = max(1, (len(body) * 3) // 5)
                resp.body = body[:cut] + b'",]}'
            if resp.stream is None:
                body = resp.body
                if self.command == "HEAD":
                    body = b""
                if kind == "truncate":
                    self._start(resp, [("Content-Length", str(len(resp.body)))])
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self._drop()
                    return
                self._start(resp, [("Content-Length", str(len(body)))])
                self.end_headers()
                if kind == "slow":
                    self._trickle(body, fault)
                else:
                    self.wfile.write(body)
                return
            # streamed: chunked transfer encoding
            self._start(resp, [("Transfer-Encoding", "chunked")])
            self.end_headers()
            sent = 0
            try:
                for c in resp.stream:
                    if isinstance(c, str):
                        c = c.encode("utf-8")
                    if not c:
                        continue
                    if kind == "truncate" and sent > 0:
                        self._drop()
                        return
                    if kind == "slow":
                        self.wfile.write(b"%x\r\n" % len(c))
                        self._trickle(c, fault)
                        self.wfile.write(b"\r\n")
                    else:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
                    sent += len(c)
                if kind == "truncate":
                    self._drop()
                    return
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _trickle(self, body, fault):
            total = (fault.get("delay_ms") or 2000) / 1000.0
            step = int(fault.get("chunk_bytes") or max(1, (len(body) + 19) // 20))
            pieces = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
            pause = total / len(pieces)
            for p in pieces:
                self.wfile.write(p)
                self.wfile.flush()
                if app.stop.wait(pause):
                    break

        def do_GET(self):
            try:
                self._handle()
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                self.close_connection = True  # the client hung up; nothing to answer

        do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    return Handler


def add_common_args(p):
    p.add_argument("--world", required=True, help="world JSON file")
    p.add_argument("--port-file", required=True, help="write the bound port here once listening")
    p.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    p.add_argument("--latency-ms", type=int, default=0, help="sleep this long in every request")
    p.add_argument("--faults", help="faults JSON file")
    p.add_argument("--request-log", help="append 'METHOD TARGET STATUS' lines here (default stderr)")
    p.add_argument("--list-routes", action="store_true", help="print the served routes as JSON and exit")


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError, socket.timeout)):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


def serve(app):
    if app.args.list_routes:
        json.dump([{"method": m, "path": t, "in_spec": s} for m, t, s in app.router.listing()], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    return listen_and_serve(app, make_handler(app))


def listen_and_serve(app, handler):
    """Binds app.args.port (0: a free one), writes the port file, serves
    until SIGTERM/SIGINT (which set app.stop)."""
    httpd = _Server(("127.0.0.1", app.args.port), handler)
    port = httpd.server_address[1]
    tmp = app.args.port_file + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, app.args.port_file)

    def on_term(signum, frame):
        app.stop.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        httpd.serve_forever(poll_interval=0.1)
    finally:
        httpd.server_close()
    return 0


# --------------------------------------------------------------------------
# paging / matching helpers shared by the fakes


def sql_like(pattern, value, case_insensitive=True):
    """SQL LIKE with % and _ ; '|' separates alternatives (Airflow 3)."""
    for alt in pattern.split("|"):
        rx = ""
        for ch in alt:
            rx += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        if re.match("^" + rx + "$", value or "", (re.I if case_insensitive else 0) | re.S):
            return True
    return False


def sort_key_none_last(v):
    return (v is None, v if v is not None else 0)
