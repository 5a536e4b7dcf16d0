#!/usr/bin/env python3
"""Builds and checks the end-to-end triage scenarios (tests/scenarios/NAME/).

    scenario.py build SCENARIO_DIR OUT      writes OUT/repo, OUT/logs or OUT/world.json,
                                            OUT/meta.json (dag, source, since, the first failed
                                            try of each task of the first DAG)
    scenario.py evidence SCENARIO_DIR       the "after_evidence" files' paths, one a line
    scenario.py check-evidence SCENARIO_DIR RC JSON BUILD_DIR
                                            the same for the triage run with --evidence, against
                                            "after_evidence"'s "expect"
    scenario.py check SCENARIO_DIR RC JSON [BUILD_DIR]
                                            compares a triage result with "expect" (BUILD_DIR:
                                            meta.json's recorded facts, explain.txt = the
                                            `triage --explain` text); prints one "ok -"/"not ok -"
                                            line, exits 1 on a miss

A scenario is tests/scenarios/NAME/scenario.json:

  description   one paragraph: what happened, what the right diagnosis is
  source        "logs" (Airflow 2 task log folder), "airflow-v1" (fake Airflow 2.x API),
                "airflow-v2" (fake Airflow 3.x API, JSON-lines logs), "prefect" (fake Prefect 3)
  dags          list of DAGs (the first is the one triaged):
                  {"dag_id", "fileloc", "hour", "retries", "runs", "every_hours" (default 24),
                   "tasks": [{"task_id", "operator", "info": [templates], "seconds": N|[from, to],
                              "rows": [from, to], "retries": N, "runs": [first, last], "upstream": [T, ...]}],
                                 (a chain in list order unless "upstream" names a task's upstreams: [] for
                                  a root; a task runs when none of its upstreams failed; "runs": the task
                                  exists only then)
                   "outcomes": [{"runs": [first, last], "task": T, "tries": [FAILURE|"ok"|"hang", ...] or ["queued"],
                                 "params": {...} or {"@": NAME, ...}}],
                   "import_error": {...}, "stop_after": N,
                   "bundle": {"name": "sales-repo", "relative_fileloc": "dags/sales/rollup.py",
                              "versions": [{"runs": [first, last], "commit": MESSAGE}, ...]}
                                 (Airflow 3 Git DAG bundle: those runs carry bundle_version = the id of the
                                  history commit with that message and dag_version k+1; "{bundle}" in frame
                                  paths is /tmp/airflow/dag_bundles/NAME/versions/<that id>),
                   "site": PATH  (the site-packages the worker runs from, e.g. a venv's
                                  /opt/venv/lib/python3.11/site-packages),
                   "prefect_dynamic_keys": true  (Prefect task runs named <task>-<3 hex digits>, as
                                  load_model-863, in place of <task>-0)}
  base          another scenario's directory name: start from its scenario.json, replace the
                keys given here (a variant on another source, say)
  params        {NAME: {...}}: failure parameters shared by several outcomes
  history       mkrepo.py commits whose "at" is "D<n> HH:MM": the calendar day of run n's logical
                date (D0 = the first run; negative and past-the-end days are fine)
  repo          {"deploy_lag": "6h", "map": true}  (map /opt/airflow/dags/ -> dags/ when true)
  expect        {"exit": 1, "kind": "dependency_change", "entity": {"package": "pandas"},
                 "task": "features", "commit_summary": "Bump ML deps" | null (no commit implicated)}
                and, where a scenario needs them (tests/scenarios/README.md, "Expectations"):
                  "change": {"package", "from", "to", "file"}   the rank-1 cause's first commit has
                        this requirement change (package names compared PEP 503-normalised; an
                        interpreter or base-image change is package "python", versions as written)
                  "outside_repository": {"file", "line"}       the rank-1 cause lists no commit and its
                        JSON "outside_repository" names the unpinned or loosely pinned line
                  (every rank-1 dependency_change must do one of the two, expected or not)
                  "link": WORD     the rank-1 first commit's JSON "links" holds WORD and the
                        `--explain` text of cause 1 has a line "   link     WORD: <detail>";
                        WORD is one of LINKS: "named in message", "frame", "lock graph", "interpreter"
                  "also": [{"kind", "entity", "task", "task_ids", "commit_summary"}]  each matches a
                        cause ranked below 1 (a second cause of a two-cause DAG)
                  "any_order": true  the expected cause and the "also" ones are the top 1 + len(also)
                        causes in any order (for causes of near-equal weight); "change" and "link"
                        then apply to the one matching the main expectation
                  "task_ids": [T]  the rank-1 cause's task_ids are exactly these (no suffix stripped)
                  "decoys": [MESSAGE]  no cause lists a commit with one of these summaries
                  "onset": "first_failed_try"  the rank-1 onset.first_bad_time is the start of the
                        first failed try of "task" (within 60 s, not the run's logical date), and its
                        first commit's time is before it
                "entity" "package" values are compared PEP 503-normalised.
  after_evidence  {"files": [PATH, ...], "expect": {...}}: command outputs an engineer pasted
                (PATH in the scenario's directory, else its base's); triage runs again, offline,
                with --evidence PATH..., and the result must meet this "expect" (the keys above)
                and: "established": "confirmed" | "refuted" | "open"  rank 1's verdict;
                "refuted": [KIND, ...]  a cause of each kind is listed, refuted; every pasted
                output is recognised and bears on a cause (no unrecognised or unused evidence).

Dates are relative to the day the scenario is built: run n of a DAG with R runs has
logical date (today - R - 1 + n) at HH:00 UTC and starts one day later (Airflow's
data-interval end), so the newest run started yesterday and `--since` of R + 10 days
covers every run whatever the date.  FAILURE names are the keys of FAILURES below
("trace": a traceback given whole, with chained causes and BashOperator output, see f_trace):
real exception texts and real log line formats of Airflow 2.9/2.10 (text), Airflow 3
(structlog JSON lines with error_detail) and Prefect 3 (API log records).
"""
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
A2_SITE = "/home/airflow/.local/lib/python3.11/site-packages"
A3_SITE = "/home/airflow/.local/lib/python3.12/site-packages"
PF_SITE = "/usr/local/lib/python3.12/site-packages"
HOSTS = ["worker-1.internal", "worker-2.internal"]


# ---- failures ----------------------------------------------------------------
# Each returns a dict:
#   lines    [(seconds_after_start, level, source, message)] logged before the failure
#   frames   traceback frames [(file, line, function, code)], outermost first (user + library)
#   exc      (qualified type, message)
#   end      "exception" (the task raised) or "sigkill" (the process was killed)
#   seconds  how long the try ran

def _p(params, key, default):
    return params.get(key, default)


def f_pandas_append(ctx, p):
    user = _p(p, "file", "/opt/airflow/dags/churn/features.py")
    site = ctx.site
    return {
        "lines": [(3, "INFO", f"{ctx.user_src}", _p(p, "info", "building features for 48211 customers"))],
        "frames": [(user, _p(p, "line", 14), _p(p, "func", "build_features"),
                    _p(p, "code", "df = df.append(extra, ignore_index=True)")),
                   (f"{site}/pandas/core/generic.py", 6299, "__getattr__",
                    "return object.__getattribute__(self, name)")],
        "exc": ("AttributeError", "'DataFrame' object has no attribute 'append'"),
        "end": "exception", "seconds": 9,
    }


def f_keyerror(ctx, p):
    user = p["file"]
    return {
        "lines": [(2, "INFO", ctx.user_src, _p(p, "info", "loaded 1842 active subscriptions"))],
        "frames": [(user, p["line"], p["func"], p["code"])] + [tuple(f) for f in p.get("more_frames", [])],
        "exc": ("KeyError", f"'{p['key']}'"),
        "end": "exception", "seconds": 6,
    }


def f_read_timeout(ctx, p):
    host, path = p["host"], p["path"]
    site = ctx.site
    return {
        "lines": [(1, "INFO", ctx.user_src, f"GET https://{host}{path}"),
                  (31, "WARNING", "connectionpool.py:870",
                   f"Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection "
                   f"broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='{host}', port=443): Read timed out. "
                   f"(read timeout=30)\")': {path}")],
        "frames": [(p["file"], p["line"], p["func"], p["code"]),
                   (f"{site}/requests/sessions.py", 602, "get", 'return self.request("GET", url, **kwargs)'),
                   (f"{site}/requests/sessions.py", 589, "request", "resp = self.send(prep, **send_kwargs)"),
                   (f"{site}/requests/sessions.py", 703, "send", "r = adapter.send(request, **kwargs)"),
                   (f"{site}/requests/adapters.py", 713, "send", "raise ReadTimeout(e, request=request)")],
        "exc": ("requests.exceptions.ReadTimeout",
                f"HTTPSConnectionPool(host='{host}', port=443): Read timed out. (read timeout=30)"),
        "end": "exception", "seconds": 62,
    }


def f_connection_error(ctx, p):
    host, path = p["host"], p["path"]
    site = ctx.site
    return {
        "lines": [(1, "INFO", ctx.user_src, f"GET https://{host}{path}")],
        "frames": [(p["file"], p["line"], p["func"], p["code"]),
                   (f"{site}/requests/sessions.py", 602, "get", 'return self.request("GET", url, **kwargs)'),
                   (f"{site}/requests/sessions.py", 589, "request", "resp = self.send(prep, **send_kwargs)"),
                   (f"{site}/requests/sessions.py", 703, "send", "r = adapter.send(request, **kwargs)"),
                   (f"{site}/requests/adapters.py", 700, "send", "raise ConnectionError(e, request=request)")],
        "exc": ("requests.exceptions.ConnectionError",
                f"HTTPSConnectionPool(host='{host}', port=443): Max retries exceeded with url: {path} "
                f"(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a2c1d5e90>: "
                f"Failed to establish a new connection: [Errno 111] Connection refused'))"),
        "end": "exception", "seconds": 4,
    }


def f_sensor_timeout(ctx, p):
    up_dag, up_task = p["upstream_dag"], p["upstream_task"]
    timeout, every = p.get("timeout", 3600), p.get("poke_interval", 600)
    when = (ctx.logical - dt.timedelta(hours=p.get("delta_hours", 0))).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    lines = [(k * every, "INFO", "external_task.py:266",
              f"Poking for tasks ['{up_task}'] in dag {up_dag} on {when} ... ")
             for k in range(timeout // every + 1)]
    site = ctx.site
    return {
        "lines": lines,
        "frames": [(f"{site}/airflow/sensors/base.py", 297, "execute",
                    "raise AirflowSensorTimeout(message)")],
        "exc": ("airflow.exceptions.AirflowSensorTimeout",
                f"Sensor has timed out; run duration of {timeout + 1.734:.6f} seconds exceeds the specified "
                f"timeout of {float(timeout)}."),
        "end": "exception", "seconds": timeout + 2, "library_only": True,
    }


def f_sigkill(ctx, p):
    rows = ctx.rows or 0
    return {
        "lines": [(2, "INFO", ctx.user_src, f"reading {rows:,} rows from events_raw for {ctx.logical:%Y-%m-%d}"),
                  (40, "INFO", ctx.user_src, f"loaded {rows:,} rows into memory; building session aggregates")],
        "frames": None, "exc": None, "end": "sigkill", "seconds": int(ctx.seconds or 600),
        "return_code": p.get("return_code", "-9"),     # or "Negsignal.SIGKILL" (Airflow 2 via Celery)
    }


def f_conn_missing(ctx, p):
    conn = p["conn_id"]
    site = ctx.site
    return {
        "lines": [],
        "frames": [(p["file"], p["line"], p["func"], p["code"]),
                   (f"{site}/airflow/providers/postgres/hooks/postgres.py", 175, "get_conn",
                    "conn = deepcopy(self.connection)"),
                   (f"{site}/airflow/utils/functools.py", 59, "__get__", "val = self.func(instance)"),
                   (f"{site}/airflow/providers/common/sql/hooks/sql.py", 222, "connection",
                    "return self.get_connection(getattr(self, self.conn_name_attr))"),
                   (f"{site}/airflow/hooks/base.py", 83, "get_connection",
                    "conn = Connection.get_connection_from_secrets(conn_id)"),
                   (f"{site}/airflow/models/connection.py", 537, "get_connection_from_secrets",
                    'raise AirflowNotFoundException(f"The conn_id `{conn_id}` isn\'t defined")')],
        "exc": ("airflow.exceptions.AirflowNotFoundException", f"The conn_id `{conn}` isn't defined"),
        "end": "exception", "seconds": 2,
    }


def f_dag_not_found(ctx, p):
    site = ctx.site
    return {
        "lines": [],
        "frames": [(f"{site}/airflow/task/task_runner/standard_task_runner.py", 117, "_start_by_fork",
                    "ret = args.func(args, dag=self.dag)"),
                   (f"{site}/airflow/cli/cli_config.py", 49, "command", "return func(*args, **kwargs)"),
                   (f"{site}/airflow/utils/cli.py", 115, "wrapper", "return f(*args, **kwargs)"),
                   (f"{site}/airflow/cli/commands/task_command.py", 441, "task_run",
                    "dag = get_dag(args.subdir, args.dag_id, args.read_from_db)"),
                   (f"{site}/airflow/utils/cli.py", 254, "get_dag", "raise AirflowException(")],
        "exc": ("airflow.exceptions.AirflowException",
                f"Dag '{ctx.dag_id}' could not be found; either it does not exist or it failed to parse."),
        "end": "exception", "seconds": 3, "library_only": True, "no_operator_frames": True,
    }


def f_raise(ctx, p):
    """The user's code raises p["exc"] (type, message) at p's frame; p["info"]
    is the line it logged first (e.g. the size of what it read)."""
    return {
        "lines": [(2, "INFO", ctx.user_src, p["info"])] if p.get("info") else [],
        "frames": [(p["file"], p["line"], p["func"], p["code"])] + [tuple(f) for f in p.get("more_frames", [])],
        "exc": tuple(p["exc"]),
        "end": "exception", "seconds": p.get("seconds", 4),
    }


def _subst(v, ctx):
    """{site}: the orchestrator's site-packages; {bundle}: the run's DAG bundle checkout;
    {date}: the run's logical date (Airflow's {{ ds }})."""
    if isinstance(v, str):
        return (v.replace("{site}", ctx.site).replace("{bundle}", ctx.bundle_path or "")
                .replace("{date}", f"{ctx.logical:%Y-%m-%d}"))
    return v


def _frames(ctx, rows):
    return [tuple(_subst(x, ctx) for x in f) for f in rows]


BASH_FRAMES = [("airflow/models/taskinstance.py", 767, "_execute_task",
                "result = _execute_callable(context=context, **execute_callable_kwargs)"),
               ("airflow/models/taskinstance.py", 733, "_execute_callable", "return ExecutionCallableRunner("),
               ("airflow/utils/operator_helpers.py", 252, "run", "return self.func(*args, **kwargs)"),
               ("airflow/models/baseoperator.py", 417, "wrapper", "return func(self, *args, **kwargs)"),
               ("airflow/operators/bash.py", 249, "execute", "raise AirflowException(")]


def f_trace(ctx, p):
    """A traceback given whole: p["frames"] (user and library frames, outermost first;
    "{site}" and "{bundle}" are replaced, a null code line prints none, as for
    compiled frames), p["exc"] [type, message], p["cause"] {"frames", "exc"}: the
    exception it was raised from ("The above exception was the direct cause ..."),
    p["info"] a line logged first, p["site"] the site-packages of this try (a new
    interpreter: /home/airflow/.local/lib/python3.12/site-packages).  With p["bash"] {"command": ...} (Airflow 2 only)
    the traceback is the output of a BashOperator's command, printed behind
    {subprocess.py:93} INFO - , and the task fails with BashOperator's own
    AirflowException."""
    if p.get("site"):
        ctx.site = p["site"]   # the interpreter moved: the worker's own frames move with it
    chain = []
    if p.get("cause"):
        chain.append((_frames(ctx, p["cause"]["frames"]), tuple(p["cause"]["exc"])))
    main = (_frames(ctx, p["frames"]), tuple(_subst(x, ctx) for x in p["exc"]))
    lines = [(2, "INFO", ctx.user_src, _subst(p["info"], ctx))] if p.get("info") else []
    seconds = p.get("seconds", 6)
    if not p.get("bash"):
        return {"lines": lines, "frames": main[0], "exc": main[1], "chain": chain,
                "end": "exception", "seconds": seconds}
    if ctx.flavour != "a2":
        raise SystemExit("f_trace: a bash command's output is rendered for Airflow 2 only")
    sub = [(0, "INFO", "subprocess.py:63", "Tmp dir root location: /tmp"),
           (0, "INFO", "subprocess.py:75", f"Running command: ['/usr/bin/bash', '-c', {_subst(p['bash']['command'], ctx)!r}]"),
           (0, "INFO", "subprocess.py:86", "Output:")]
    out = [_subst(x, ctx) for x in p["bash"].get("output", [])]
    for fr, exc in chain:
        out += traceback_text(fr, exc) + ["", "The above exception was the direct cause of the following exception:", ""]
    out += traceback_text(*main)
    sub += [(seconds - 1, "INFO", "subprocess.py:93", x) for x in out]
    code = p["bash"].get("exit", 1)
    sub.append((seconds, "INFO", "subprocess.py:97", f"Command exited with return code {code}"))
    return {"lines": lines + sub, "frames": [(f"{ctx.site}/{f}", ln, fn, c) for f, ln, fn, c in BASH_FRAMES],
            "exc": ("airflow.exceptions.AirflowException",
                    f"Bash command failed. The command returned a non-zero exit code {code}."),
            "end": "exception", "seconds": seconds, "library_only": True}


FAILURES = {
    "raise": f_raise,
    "trace": f_trace,
    "pandas_append": f_pandas_append,
    "keyerror": f_keyerror,
    "read_timeout": f_read_timeout,
    "connection_error": f_connection_error,
    "sensor_timeout": f_sensor_timeout,
    "sigkill": f_sigkill,
    "conn_missing": f_conn_missing,
    "dag_not_found": f_dag_not_found,
}


# ---- rendering one try -------------------------------------------------------

class Ctx:
    task_spec = None
    i = 0


def a2_ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def iso_z(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}Z"


def operator_frames(ctx):
    """The orchestrator's own frames above the user's callable."""
    s = ctx.site
    if ctx.flavour == "a2":
        return [(f"{s}/airflow/models/taskinstance.py", 767, "_execute_task",
                 "result = _execute_callable(context=context, **execute_callable_kwargs)"),
                (f"{s}/airflow/models/taskinstance.py", 733, "_execute_callable", "return ExecutionCallableRunner("),
                (f"{s}/airflow/utils/operator_helpers.py", 252, "run", "return self.func(*args, **kwargs)"),
                (f"{s}/airflow/models/baseoperator.py", 417, "wrapper", "return func(self, *args, **kwargs)"),
                (f"{s}/airflow/operators/python.py", 238, "execute", "return_value = self.execute_callable()"),
                (f"{s}/airflow/operators/python.py", 256, "execute_callable",
                 "return runner.run(*self.op_args, **self.op_kwargs)"),
                (f"{s}/airflow/utils/operator_helpers.py", 252, "run", "return self.func(*args, **kwargs)")]
    if ctx.flavour == "a3":
        return [(f"{s}/airflow/sdk/execution_time/task_runner.py", 867, "run",
                 "result = _execute_task(context=context, ti=ti, log=log)"),
                (f"{s}/airflow/sdk/execution_time/task_runner.py", 1159, "_execute_task",
                 "result = ctx.run(execute, context=context)"),
                (f"{s}/airflow/sdk/bases/operator.py", 397, "wrapper", "return func(self, *args, **kwargs)"),
                (f"{s}/airflow/providers/standard/operators/python.py", 216, "execute",
                 "return_value = self.execute_callable()"),
                (f"{s}/airflow/providers/standard/operators/python.py", 239, "execute_callable",
                 "return runner.run(*self.op_args, **self.op_kwargs)"),
                (f"{s}/airflow/sdk/execution_time/callback_runner.py", 81, "run",
                 "return func(*args, **kwargs)")]
    return [(f"{s}/prefect/task_engine.py", 1491, "run_context", "yield self"),
            (f"{s}/prefect/task_engine.py", 1563, "run_task_sync", "engine.call_task_fn(txn)"),
            (f"{s}/prefect/task_engine.py", 828, "call_task_fn",
             "result = call_with_parameters(self.task.fn, parameters)"),
            (f"{s}/prefect/utilities/callables.py", 208, "call_with_parameters", "return fn(*args, **kwargs)")]


def traceback_text(frames, exc, chain=()):
    """Python's traceback print-out; chain: the (frames, exc) this one was raised
    from, innermost cause first, each printed before it as Python does."""
    out = []
    for cf, ce in chain:
        out += traceback_text(cf, ce) + ["", "The above exception was the direct cause of the following exception:", ""]
    out.append("Traceback (most recent call last):")
    for f, ln, fn, code in frames:
        out.append(f'  File "{f}", line {ln}, in {fn}')
        if code:
            out.append(f"    {code}")
    typ, msg = exc
    out.append(f"{typ}: {msg}" if msg else typ)
    return out


def render_try(ctx, spec):
    """Text of one try's log and its end time.  spec: failure dict, or None for success."""
    t0 = ctx.start
    seconds = spec["seconds"] if spec else (ctx.seconds or 8)
    if spec and spec["end"] == "hang":
        seconds = 0
    end = t0 + dt.timedelta(seconds=seconds, milliseconds=417)
    if ctx.flavour == "a2":
        return render_a2(ctx, spec, t0, end), end
    if ctx.flavour == "a3":
        return render_a3(ctx, spec, t0, end), end
    return render_prefect(ctx, spec, t0, end), end


def user_lines(ctx):
    out = []
    fields = dict(rows=ctx.rows or 0, date=ctx.logical)
    fields.update(series_fields(ctx))
    for k, tmpl in enumerate(ctx.info):
        out.append((2 + k, "INFO", ctx.user_src, tmpl.format(**fields)))
    out += training_lines(ctx, 2 + len(ctx.info))
    return out


# ---- what successful tries log: numbers, input dates, training metrics ---------
# A task's "values", "dates" and "training" (see the docstring) vary from run to
# run as real ones do: a deterministic wobble, weekends, and the runs "set" names.

def wobble(*key):
    """A deterministic number in [-1, 1] for key."""
    h = hashlib.sha256("/".join(str(k) for k in key).encode()).digest()
    return int.from_bytes(h[:4], "big") / 0xFFFFFFFF * 2 - 1


def in_runs(spec, i):
    """The value "set" gives run i ("27-29": v or "5": v), or None."""
    for k, v in (spec or {}).items():
        lo, _, hi = str(k).partition("-")
        if int(lo) <= i <= int(hi or lo):
            return v
    return None


def series_fields(ctx):
    task = ctx.task_spec or {}
    out = {}
    for name, sp in task.get("values", {}).items():
        v = in_runs(sp.get("set"), ctx.i)
        if v is None:
            v = sp["base"] * (1 + sp.get("noise", 0.1) * wobble(ctx.dag_id, ctx.task_id, name, ctx.i))
            if sp.get("weekend") and ctx.logical.weekday() >= 5:
                v *= sp["weekend"]
        out[name] = v if sp.get("float") else int(round(v))
    for name, sp in task.get("dates", {}).items():
        lag = in_runs(sp.get("set"), ctx.i)
        if lag is None:
            lags = sp.get("lag", 1)
            lag = lags[ctx.i % len(lags)] if isinstance(lags, list) else lags
        out[name] = (ctx.logical - dt.timedelta(days=lag)).strftime(sp.get("format", "%Y-%m-%d"))
    return out


def loss_curve(ctx, sp, epochs):
    """[(train, val)] per epoch of one run; "bad" turns a run's curve into a NaN, a divergence,
    over-fitting or a far worse end."""
    bad = in_runs(sp.get("bad"), ctx.i)
    shift = 0.03 * wobble(ctx.dag_id, ctx.task_id, "run", ctx.i)
    out = []
    for e in range(epochs):
        t = 0.7 * pow(2.718281828, -0.35 * e) + 0.1 + 0.01 * wobble(ctx.task_id, ctx.i, e, "t")
        v = 0.6 * pow(2.718281828, -0.3 * e) + 0.3 + shift + 0.015 * wobble(ctx.task_id, ctx.i, e, "v")
        if bad == "nan" and e >= epochs // 2:
            t = v = float("nan")
        elif bad == "diverge" and e > 2:
            t = out[2][0] * pow(2.4, e - 2)
            v = out[2][1] * pow(2.0, e - 2)
        elif bad == "overfit" and e > epochs // 2 - 1:
            v = out[epochs // 2 - 1][1] * (1 + 0.12 * (e - epochs // 2 + 1))
        elif bad == "worse":
            t, v = t + 0.5, v + 0.6
        out.append((t, v))
    return out


def training_lines(ctx, off):
    sp = (ctx.task_spec or {}).get("training")
    if not sp:
        return []
    epochs = sp.get("epochs", 8)
    curve = loss_curve(ctx, sp, epochs)
    fmt = sp["format"]
    src = ctx.user_src
    out = []
    for e, (t, v) in enumerate(curve):
        if fmt == "keras":      # Keras 2 model.fit(verbose=1), the last update of each epoch's bar
            out.append((off + e, "INFO", src, f"Epoch {e + 1}/{epochs}"))
            out.append((off + e, "INFO", src, f"1875/1875 [==============================] - 5s 2ms/step - loss: {t:.4f} "
                                              f"- accuracy: {0.8 + 0.01 * e:.4f} - val_loss: {v:.4f} "
                                              f"- val_accuracy: {0.78 + 0.01 * e:.4f}"))
        elif fmt == "lightning":  # PyTorch Lightning's TQDM bar at the end of the epoch
            out.append((off + e, "INFO", src, f"Epoch {e}: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| "
                                              f"313/313 [00:05<00:00, 58.21it/s, v_num={ctx.i}, train_loss={t:.3f}, "
                                              f"val_loss={v:.3f}]"))
        elif fmt == "hf":       # Hugging Face Trainer: logging_steps twice an epoch, evaluation each epoch
            out.append((off + e, "INFO", src, str({"loss": round(t * 1.05, 4), "grad_norm": round(2.1 + 0.1 * e, 4),
                                                   "learning_rate": 5e-05 * (1 - (e + 0.5) / epochs), "epoch": e + 0.5})))
            out.append((off + e, "INFO", src, str({"loss": round(t, 4), "grad_norm": round(2.0 + 0.1 * e, 4),
                                                   "learning_rate": 5e-05 * (1 - (e + 1) / epochs), "epoch": float(e + 1)})))
            out.append((off + e, "INFO", src, str({"eval_loss": round(v, 4), "eval_runtime": 1.234,
                                                   "eval_samples_per_second": 810.2, "eval_steps_per_second": 101.3,
                                                   "epoch": float(e + 1)})))
        else:                   # a plain script's print()
            out.append((off + e, "INFO", src, f"epoch {e + 1} loss={t:.4f} val_loss={v:.4f}"))
    if fmt == "hf":
        out.append((off + epochs, "INFO", src, str({"train_runtime": 93.1, "train_samples_per_second": 64.4,
                                                    "train_steps_per_second": 8.05, "train_loss": 0.51,
                                                    "epoch": float(epochs)})))
    return out


def render_a2(ctx, spec, t0, end):
    dag, task, run_id = ctx.dag_id, ctx.task_id, ctx.run_id
    ti = f"<TaskInstance: {dag}.{task} {run_id}"
    job = 4000 + ctx.seq
    pid = 21000 + ctx.seq * 7

    def ln(t, src, level, msg):
        return f"[{a2_ts(t)}] {{{src}}} {level} - {msg}"

    out = [
        ln(t0, "local_task_job_runner.py:123", "INFO", "::group::Pre task execution logs"),
        ln(t0, "taskinstance.py:2614", "INFO", f"Dependencies all met for dep_context=non-requeueable deps ti={ti} [queued]>"),
        ln(t0, "taskinstance.py:2614", "INFO", f"Dependencies all met for dep_context=requeueable deps ti={ti} [queued]>"),
        ln(t0, "taskinstance.py:2867", "INFO", f"Starting attempt {ctx.attempt} of {ctx.tries_allowed}"),
        ln(t0, "taskinstance.py:2890", "INFO", f"Executing <Task({ctx.operator}): {task}> on {ctx.logical:%Y-%m-%d %H:%M:%S}+00:00"),
        ln(t0, "standard_task_runner.py:72", "INFO", f"Started process {pid} to run task"),
        ln(t0, "standard_task_runner.py:104", "INFO",
           f"Running: ['airflow', 'tasks', 'run', '{dag}', '{task}', '{run_id}', '--job-id', '{job}', '--raw', "
           f"'--subdir', 'DAGS_FOLDER/{ctx.fileloc_rel}', '--cfg-path', '/tmp/tmp{ctx.seq:05x}q']"),
        ln(t0, "standard_task_runner.py:105", "INFO", f"Job {job}: Subtask {task}"),
        ln(t0, "task_command.py:467", "INFO", f"Running {ti} [running]> on host {ctx.host}"),
        ln(t0, "taskinstance.py:732", "INFO", "::endgroup::"),
    ]
    if spec and spec.get("no_operator_frames"):
        # the worker could not load the DAG: nothing ran
        out = out[:8]
    body = spec["lines"] if spec and spec["lines"] else (user_lines(ctx) if not spec or spec["end"] != "hang" else [])
    if spec and spec["end"] == "hang":
        body = user_lines(ctx)[:1]
    for off, level, src, msg in body:
        out.append(ln(t0 + dt.timedelta(seconds=off), src, level, msg))
    stamp = (f"dag_id={dag}, task_id={task}, run_id={run_id}, execution_date={ctx.logical:%Y%m%dT%H%M%S}, "
             f"start_date={t0:%Y%m%dT%H%M%S}, end_date={end:%Y%m%dT%H%M%S}")
    if spec is None:
        if ctx.operator.endswith("Sensor"):
            out.append(ln(end, "base.py:336", "INFO", "Success criteria met. Exiting."))
        elif ctx.operator == "PythonOperator":
            out.append(ln(end, "python.py:240", "INFO", "Done. Returned value was: None"))
        out.append(ln(end, "taskinstance.py:1205", "INFO", f"Marking task as SUCCESS. {stamp}"))
        out.append(ln(end, "local_task_job_runner.py:243", "INFO", "Task exited with return code 0"))
        out.append(ln(end, "taskinstance.py:3503", "INFO", "1 downstream tasks scheduled from follow-on schedule check"))
        return "\n".join(out) + "\n"
    if spec["end"] == "hang":
        return "\n".join(out) + "\n"
    if spec["end"] == "sigkill":
        out.append(ln(end, "local_task_job_runner.py:243", "INFO",
                      f"Task exited with return code {spec.get('return_code', '-9')}"))
        out.append(ln(end, "taskinstance.py:3503", "INFO", "0 downstream tasks scheduled from follow-on schedule check"))
        return "\n".join(out) + "\n"
    typ, msg = spec["exc"]
    frames = spec["frames"] if spec.get("library_only") else operator_frames(ctx) + spec["frames"]
    if spec.get("no_operator_frames"):
        out.append(ln(end, "standard_task_runner.py:124", "ERROR", f"Failed to execute job {job} for task {task} ({msg}; {pid})"))
        out.extend(traceback_text(frames, spec["exc"]))
        out.append(ln(end, "local_task_job_runner.py:243", "INFO", "Task exited with return code 1"))
        return "\n".join(out) + "\n"
    out.append(ln(end, "taskinstance.py:3310", "ERROR", "Task failed with exception"))
    out.extend(traceback_text(frames, spec["exc"], spec.get("chain", ())))
    state = "UP_FOR_RETRY" if ctx.attempt < ctx.tries_allowed else "FAILED"
    out.append(ln(end, "taskinstance.py:1225", "INFO", f"Marking task as {state}. {stamp}"))
    out.append(ln(end, "standard_task_runner.py:110", "ERROR",
                  f"Failed to execute job {job} for task {task} ({msg}; {pid})"))
    out.append(ln(end, "local_task_job_runner.py:243", "INFO", "Task exited with return code 1"))
    out.append(ln(end, "taskinstance.py:3503", "INFO", "0 downstream tasks scheduled from follow-on schedule check"))
    return "\n".join(out) + "\n"


def render_a3(ctx, spec, t0, end):
    def j(t, level, event, logger, **kw):
        d = {"timestamp": iso_z(t), "level": level, "event": event, "logger": logger}
        d.update(kw)
        return json.dumps(d)

    out = [
        j(t0, "info", "DAG bundles loaded: dags-folder", "airflow.dag_processing.bundles.manager.DagBundlesManager"),
        j(t0, "info", f"Filling up the DagBag from {ctx.fileloc}", "airflow.models.dagbag.DagBag"),
        j(t0, "info", "Task instance is in running state", "task.stdout"),
        j(t0, "info", " Previous state of the Task instance: TaskInstanceState.QUEUED", "task.stdout"),
        j(t0, "info", f"Current task name:{ctx.task_id}", "task.stdout"),
        j(t0, "info", f"Dag name:{ctx.dag_id}", "task.stdout"),
    ]
    body = spec["lines"] if spec and spec["lines"] else user_lines(ctx)
    for off, level, src, msg in body:
        out.append(j(t0 + dt.timedelta(seconds=off), level.lower(), msg, "task.stdout" if src == ctx.user_src else "task"))
    if spec is None:
        out.append(j(end, "info", "Done. Returned value was: None", "airflow.task.operators.airflow.providers.standard.operators.python.PythonOperator"))
        out.append(j(end, "info", "Task instance in success state", "task.stdout"))
        out.append(j(end, "info", "Task finished", "supervisor", exit_code=0, duration=(end - t0).total_seconds(),
                     final_state="success"))
        return "\n".join(out) + "\n"
    if spec["end"] == "sigkill":
        out.append(j(end, "error", "Process exited abnormally", "supervisor", exit_code=-9))
        return "\n".join(out) + "\n"
    typ, msg = spec["exc"]
    frames = spec["frames"] if spec.get("library_only") else operator_frames(ctx) + spec["frames"]
    detail = [{"exc_type": typ.rsplit(".", 1)[-1], "exc_value": msg, "exc_notes": [], "syntax_error": None,
               "is_cause": False, "frames": [{"filename": f, "lineno": ln, "name": fn} for f, ln, fn, _ in frames]}]
    for cf, (ctyp, cmsg) in reversed(spec.get("chain", ())):
        detail.append({"exc_type": ctyp.rsplit(".", 1)[-1], "exc_value": cmsg, "exc_notes": [], "syntax_error": None,
                       "is_cause": True, "frames": [{"filename": f, "lineno": ln, "name": fn} for f, ln, fn, _ in cf]})
    out.append(j(end, "error", "Task failed with exception", "task", error_detail=detail))
    out.append(j(end, "info", "Task instance in failure state", "task.stdout"))
    out.append(j(end, "info", "Task start", "task.stdout"))
    out.append(j(end, "info", f"Task:<Task({ctx.operator}): {ctx.task_id}>", "task.stdout"))
    out.append(j(end, "info", f"Failure caused by {msg}", "task.stdout"))
    final = "up_for_retry" if ctx.attempt < ctx.tries_allowed else "failed"
    out.append(j(end, "info", "Task finished", "supervisor", exit_code=0, duration=(end - t0).total_seconds(),
                 final_state=final))
    return "\n".join(out) + "\n"


def render_prefect(ctx, spec, t0, end):
    """Prefect API log records of one task-run try, as JSON lines the fake turns
    into records (a traceback's plain lines join the record above them, as
    Prefect's API handler sends exc_info)."""
    def j(t, level, event):
        return json.dumps({"timestamp": iso_z(t), "level": level, "event": event})

    out = []
    body = spec["lines"] if spec and spec["lines"] else user_lines(ctx)
    for off, level, src, msg in body:
        out.append(j(t0 + dt.timedelta(seconds=off), level.lower(), msg))
    if spec is None:
        return "\n".join(out) + "\n"
    typ, msg = spec["exc"]
    short = typ.rsplit(".", 1)[-1]
    out.append(j(end, "error", f"Encountered exception during execution: {short}({msg!r})"))
    frames = operator_frames(ctx) + spec["frames"]
    out.extend(traceback_text(frames, spec["exc"], spec.get("chain", ())))
    return "\n".join(out) + "\n"


# ---- building a scenario -------------------------------------------------------

def lerp(v, i, n):
    if isinstance(v, list):
        return v[0] + (v[1] - v[0]) * (i / max(n - 1, 1))
    return v


def parse_at(at, day0):
    m = re.fullmatch(r"D(-?\d+)\s+(\d\d):(\d\d)", at)
    if not m:
        raise SystemExit(f"bad history date {at!r}: want 'D<n> HH:MM'")
    return day0 + dt.timedelta(days=int(m.group(1)), hours=int(m.group(2)), minutes=int(m.group(3)))


def outcome_for(dag, i, task_id):
    for o in dag.get("outcomes", []):
        lo, hi = o["runs"]
        if o["task"] == task_id and lo <= i <= hi:
            return o
    return None


def bundle_of(dag, i, shas):
    """(bundle_version, dag version number) of run i from the DAG's "bundle", or (None, None)."""
    b = dag.get("bundle")
    if not b:
        return None, None
    for k, v in enumerate(b["versions"]):
        if v["runs"][0] <= i <= v["runs"][1]:
            if v["commit"] not in shas:
                raise SystemExit(f"bundle version {v['commit']!r} is no commit message of the history")
            return shas[v["commit"]], k + 1
    return None, None


def dynamic_key(dag_id, run_id, task_id):
    """Prefect 3's short dynamic key of a task run name (load_model-863): 3 hex digits."""
    return hashlib.sha1(f"{dag_id}/{run_id}/{task_id}".encode()).hexdigest()[:3]


def build_dag(dag, source, today, seq, shared=None, shas=None, facts=None):
    """Runs of one DAG: list of world-format runs (tries carry 'log' text).
    shas: commit message -> id (for "bundle"); facts: filled with the first failed
    try of each task ({"first_failed_try": {task: {"start", "logical_date", "run_id"}}})."""
    n = dag["runs"]
    hour = dag.get("hour", 2)
    every = dt.timedelta(hours=dag.get("every_hours", 24))
    day0 = today - (n + 1) * every
    flavour = {"logs": "a2", "airflow-v1": "a2", "airflow-v2": "a3", "prefect": "pf"}[source]
    site = dag.get("site") or {"a2": A2_SITE, "a3": A3_SITE, "pf": PF_SITE}[flavour]
    fileloc = dag["fileloc"]
    runs = []
    last = dag.get("stop_after", n - 1)
    for i in range(min(n, last + 1)):
        logical = day0 + i * every + dt.timedelta(hours=hour)
        run_id = f"scheduled__{logical:%Y-%m-%dT%H:%M:%S}+00:00"
        t = logical + every + dt.timedelta(seconds=3)
        run = {"dag_id": dag["dag_id"], "run_id": run_id, "run_type": "scheduled", "logical_date": logical.isoformat(),
               "queued_at": (t - dt.timedelta(seconds=2)).isoformat(), "start_date": t.isoformat(), "note": None,
               "task_instances": []}
        if facts is not None:
            facts.setdefault("logical_dates", []).append(logical.isoformat())
            # Prefect has no logical date: a flow run's date is when it was expected to start
            facts.setdefault("run_starts", []).append((logical + every).isoformat())
        bver, dver = bundle_of(dag, i, shas or {})
        if bver:
            run["bundle_version"], run["dag_version"] = bver, dver
        blocked = False
        running = False
        states = {}
        prev = None
        for task in dag["tasks"]:
            tid = task["task_id"]
            if "runs" in task and not task["runs"][0] <= i <= task["runs"][1]:
                continue       # the task did not exist yet, or no longer
            ups = task.get("upstream", [prev] if prev else [])
            prev = tid
            blocked = any(states.get(u) in ("failed", "upstream_failed") for u in ups)
            retries = task.get("retries", dag.get("retries", 0))
            ti = {"task_id": tid, "map_index": -1, "operator": task.get("operator", "PythonOperator"),
                  "max_tries": retries, "hostname": HOSTS[i % 2], "tries": []}
            if dag.get("prefect_dynamic_keys"):
                ti["dynamic_key"] = dynamic_key(dag["dag_id"], run_id, tid)
            states[tid] = "upstream_failed" if blocked else None
            if blocked or running:
                ti.update(state="upstream_failed" if blocked else None, try_number=0,
                          start_date=None, end_date=None, queued_when=None)
                run["task_instances"].append(ti)
                continue
            o = outcome_for(dag, i, tid)
            plan = o["tries"] if o else ["ok"]
            params = dict(o.get("params", {})) if o else {}
            if "@" in params:          # {"@": NAME}: the scenario's shared "params"[NAME], then the rest
                params = dict((shared or {})[params.pop("@")], **params)
            ti["queued_when"] = (t - dt.timedelta(seconds=1)).isoformat()
            if plan == ["queued"]:     # queued and never picked up: no try has started
                ti.update(state="queued", try_number=0, start_date=None, end_date=None)
                run["task_instances"].append(ti)
                running = True
                continue
            ti["start_date"] = t.isoformat()
            for k, what in enumerate(plan):
                ctx = Ctx()
                seq[0] += 1
                ctx.seq, ctx.flavour, ctx.site = seq[0], flavour, site
                ctx.bundle_path = (f"/tmp/airflow/dag_bundles/{dag['bundle']['name']}/versions/{bver}"
                                   if bver else None)
                ctx.dag_id, ctx.task_id, ctx.run_id, ctx.logical = dag["dag_id"], tid, run_id, logical
                ctx.attempt, ctx.tries_allowed = k + 1, retries + 1
                ctx.operator = task.get("operator", "PythonOperator")
                ctx.fileloc = fileloc
                ctx.fileloc_rel = fileloc.split("/dags/", 1)[-1]
                ctx.host = HOSTS[(i + k) % 2]
                ctx.start = t
                ctx.user_src = task.get("log_source", "logging_mixin.py:190")
                ctx.info = task.get("info", [])
                ctx.task_spec, ctx.i = task, i
                ctx.rows = int(lerp(task["rows"], i, n)) if "rows" in task else None
                ctx.seconds = lerp(task.get("seconds", 8), i, n)
                if what == "ok":
                    spec = None
                elif what == "hang":
                    spec = {"end": "hang", "lines": [], "seconds": 0}
                else:
                    spec = FAILURES[what](ctx, params)
                text, end = render_try(ctx, spec)
                state = ("success" if spec is None else "running" if what == "hang" else
                         "up_for_retry" if k + 1 < len(plan) else "failed")
                ti["tries"].append({"try_number": k + 1, "state": state, "start_date": t.isoformat(),
                                    "end_date": None if what == "hang" else end.isoformat(),
                                    "hostname": ctx.host, "log": text})
                t = end + dt.timedelta(minutes=5 if k + 1 < len(plan) else 0, seconds=2)
            final = ti["tries"][-1]["state"]
            ti.update(state=final, try_number=len(plan), end_date=ti["tries"][-1]["end_date"])
            states[tid] = final
            bad = [tr for tr in ti["tries"] if tr["state"] in ("failed", "up_for_retry")]
            if bad and facts is not None and tid not in facts.setdefault("first_failed_try", {}):
                facts["first_failed_try"][tid] = {"start": bad[0]["start_date"], "logical_date": logical.isoformat(),
                                                  "run_id": run_id}
            if final == "running":
                running = True
            run["task_instances"].append(ti)
        blocked = any(v in ("failed", "upstream_failed") for v in states.values())
        run["state"] = "failed" if blocked else "running" if running else "success"
        run["end_date"] = None if running else t.isoformat()
        runs.append(run)
    return runs


def world_of(sc, runs, today, now):
    dags = []
    for d in sc["dags"]:
        tasks = d["tasks"]
        ups = {t["task_id"]: t.get("upstream", [tasks[k - 1]["task_id"]] if k else []) for k, t in enumerate(tasks)}
        dags.append({"dag_id": d["dag_id"], "fileloc": d["fileloc"], "is_paused": False, "owners": ["data"],
                     "schedule": f"0 {d.get('hour', 2)} * * *",
                     "start_date": (today - dt.timedelta(days=400)).isoformat(),
                     "tasks": [{"task_id": t["task_id"], "operator": t.get("operator", "PythonOperator"),
                                "retries": t.get("retries", d.get("retries", 0)),
                                "downstream": [u["task_id"] for u in tasks if t["task_id"] in ups[u["task_id"]]]}
                               for k, t in enumerate(tasks)]})
        if d.get("bundle"):
            dags[-1]["bundle_name"] = d["bundle"]["name"]
            dags[-1]["relative_fileloc"] = d["bundle"]["relative_fileloc"]
    errors = []
    for d in sc["dags"]:
        ie = d.get("import_error")
        if ie:
            errors.append({"filename": d["fileloc"], "stack_trace": ie["stack_trace"],
                           "timestamp": parse_at(ie["at"], today - dt.timedelta(days=d["runs"] + 1)).isoformat()})
    return {"version": sc.get("version", {"airflow-v1": "2.10.5", "airflow-v2": "3.0.6", "prefect": "3.4.11"}.get(
                sc["source"], "2.10.5")),
            "now": now.isoformat(), "dags": dags, "runs": runs, "import_errors": errors,
            "health": {"scheduler": {"status": "healthy", "latest_scheduler_heartbeat": now.isoformat()},
                       "metadatabase": {"status": "healthy"}}}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def load(sdir):
    """scenario.json; with "base": NAME, the scenario NAME's with these keys replaced
    (its "@file" paths stay relative to the base's directory)."""
    with open(os.path.join(sdir, "scenario.json")) as f:
        sc = json.load(f)
    if "base" in sc:
        bdir = os.path.join(os.path.dirname(os.path.normpath(sdir)), sc.pop("base"))
        base, _ = load(bdir)
        base.update(sc)
        return base, base.get("_dir", bdir)
    sc.setdefault("_dir", sdir)
    return sc, sc["_dir"]


def build(sdir, out):
    sc, sdir = load(sdir)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    today = now.replace(hour=0, minute=0, second=0)
    main = sc["dags"][0]
    day0 = today - dt.timedelta(days=main["runs"] + 1)
    os.makedirs(out, exist_ok=True)
    shas = make_repo(sc, sdir, out, day0)
    seq = [0]
    runs = []
    facts = {}
    for k, d in enumerate(sc["dags"]):
        runs.extend(build_dag(d, sc["source"], today, seq, sc.get("params"), shas, facts if k == 0 else None))
    if sc["source"] == "logs":
        for r in runs:
            for ti in r["task_instances"]:
                for tr in ti["tries"]:
                    write(os.path.join(out, "logs", f"dag_id={r['dag_id']}", f"run_id={r['run_id']}",
                                       f"task_id={ti['task_id']}", f"attempt={tr['try_number']}.log"), tr["log"])
    else:
        write(os.path.join(out, "world.json"), json.dumps(world_of(sc, runs, today, now), indent=1))
    meta = {"dag_id": main["dag_id"], "source": sc["source"], "since": f"{main['runs'] + 10}d",
            "deploy_lag": sc.get("repo", {}).get("deploy_lag", "6h"), "map": sc.get("repo", {}).get("map", True)}
    meta.update(facts)
    write(os.path.join(out, "meta.json"), json.dumps(meta))
    print(" ".join([meta["dag_id"], meta["source"], meta["since"], meta["deploy_lag"], "map" if meta["map"] else "nomap"]))


def make_repo(sc, sdir, out, day0):
    """OUT/repo from the scenario's history; returns {commit message: commit id}."""
    history = sc["history"]
    if isinstance(history, str):
        with open(os.path.join(sdir, history)) as f:
            history = json.load(f)
    def files_of(c):
        # "@path" is relative to the scenario directory; mkrepo reads it from there
        return {k: ("@" + os.path.abspath(os.path.join(sdir, v[1:])) if isinstance(v, str) and v.startswith("@") else v)
                for k, v in c.get("files", {}).items()}

    commits = [{"date": parse_at(c["at"], day0).isoformat(), "author": c.get("author", "Dev <dev@example.com>"),
                "message": c["message"], "files": files_of(c)} for c in history]
    for k in range(1, len(commits)):
        if commits[k]["date"] < commits[k - 1]["date"]:
            raise SystemExit(f"{sdir}: history is not in date order at {history[k]['message']!r}")
    write(os.path.join(out, "history.json"), json.dumps(commits, indent=1))
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "lib", "mkrepo.py"),
                    os.path.join(out, "history.json"), os.path.join(out, "repo")], check=True)
    log = subprocess.run(["git", "-C", os.path.join(out, "repo"), "log", "--format=%H %s"], check=True,
                         capture_output=True, text=True).stdout
    return {line[41:]: line[:40] for line in reversed(log.splitlines())}


# ---- checking a triage result ---------------------------------------------------

LINKS = ("named in message", "frame", "lock graph", "interpreter")


def pep503(name):
    return re.sub(r"[-_.]+", "-", name or "").lower()


def parse_time(v):
    if not v:
        return None
    try:
        return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None


def cause_misses(c, want, source, label):
    """What of one expected cause (kind, entity, task, task_ids, commit_summary) c lacks."""
    out = []
    if c.get("kind") != want["kind"]:
        out.append(f"{label} kind {c.get('kind')!r}, wanted {want['kind']!r}")
    ents = c.get("entities") or {}
    for k, v in want.get("entity", {}).items():
        got = ents.get(k)
        if (pep503(got) != pep503(v)) if k == "package" else (got != v):
            out.append(f"{label} entity {k}={got!r}, wanted {v!r}")
    # a Prefect task run is named after its task plus a dynamic key ("features-0")
    tasks = [re.sub(r"-\d+$", "", t) if source == "prefect" else t for t in (c.get("task_ids") or [])]
    if "task" in want and want["task"] not in tasks:
        out.append(f"{label} tasks {c.get('task_ids')}, wanted {want['task']!r} among them")
    if "task_ids" in want and sorted(c.get("task_ids") or []) != sorted(want["task_ids"]):
        out.append(f"{label} tasks {c.get('task_ids')}, wanted exactly {want['task_ids']}")
    commits = c.get("commits") or []
    if "commit_summary" in want:
        got = commits[0]["summary"] if commits else None
        if got != want["commit_summary"]:
            out.append(f"{label} first commit {got!r}, wanted {want['commit_summary']!r}")
    return out


def change_misses(top, exp):
    """A rank-1 dependency_change names its change (a commit moving the package, in a
    file, from -> to) or says it came from outside the repository."""
    out = []
    commits = top.get("commits") or []
    outside = top.get("outside_repository")
    want = exp.get("change")
    if exp.get("outside_repository"):
        w = exp["outside_repository"]
        if commits:
            out.append(f"rank 1 attaches commit {commits[0].get('summary')!r}; wanted none (the change came from "
                       "outside the repository)")
        if not isinstance(outside, dict):
            out.append(f"rank 1 outside_repository {outside!r}, wanted {{file: {w['file']!r}, line: {w['line']!r}}}")
        else:
            if outside.get("file") != w["file"]:
                out.append(f"rank 1 outside_repository.file {outside.get('file')!r}, wanted {w['file']!r}")
            if (outside.get("line") or "").strip() != w["line"]:
                out.append(f"rank 1 outside_repository.line {outside.get('line')!r}, wanted {w['line']!r}")
        return out
    pkg = want["package"] if want else (top.get("entities") or {}).get("package")
    rcs = commits[0].get("requirement_changes") or [] if commits else []
    hit = [r for r in rcs if pep503(r.get("package")) == pep503(pkg)]
    if not commits and not isinstance(outside, dict):
        out.append("rank-1 dependency_change names no change: no commit, and no outside_repository")
    elif commits and not hit:
        out.append(f"rank-1 first commit {commits[0].get('summary')!r} moves no {pkg!r} "
                   f"(requirement_changes {[(r.get('package'), r.get('from'), r.get('to')) for r in rcs]})")
    elif want:
        ok = [r for r in hit if r.get("file") == want["file"] and r.get("from") == want["from"]
              and r.get("to") == want["to"]]
        if not ok:
            out.append(f"rank-1 change {[(r.get('package'), r.get('from'), r.get('to'), r.get('file')) for r in hit]}, "
                       f"wanted {want['package']} {want['from']} -> {want['to']} in {want['file']}")
    return out


def explain_links(text):
    """The link words of the rank-1 cause in `triage --explain` text: its lines
    "   link     WORD: detail" (WORD one of LINKS)."""
    words, inside = [], False
    for line in text.splitlines():
        if re.match(r"^\d+\. ", line):
            if inside:
                break
            inside = line.startswith("1. ")
            continue
        m = re.match(r"^\s+link\s+([a-z ]+?)(?::|$)", line)
        if inside and m:
            words.append(m.group(1).strip())
    return words


def evidence_files(sdir):
    """The absolute paths of the scenario's "after_evidence" files (in its own
    directory, else its base's), one per line; nothing when it has none."""
    sc, bdir = load(sdir)
    for f in (sc.get("after_evidence") or {}).get("files", []):
        own = os.path.join(sdir, f)
        print(os.path.abspath(own if os.path.exists(own) else os.path.join(bdir, f)))


def evidence_misses(res, top, exp):
    """What the ranking after the pasted evidence lacks: rank 1's verdict
    ("established"), the kinds refuted, and every pasted output read and used."""
    out = []
    causes = res.get("causes") or []
    if "established" in exp and top.get("established") != exp["established"]:
        out.append(f"rank-1 established {top.get('established')!r}, wanted {exp['established']!r} "
                   f"(verdicts {[(v.get('verdict'), v.get('what')) for v in top.get('verdicts') or []]})")
    for kind in exp.get("refuted", []):
        if not any(c.get("kind") == kind and c.get("established") == "refuted" for c in causes):
            out.append(f"no {kind} cause is refuted: {[(c.get('kind'), c.get('established')) for c in causes]}")
    for key in ("unrecognised_evidence", "unused_evidence"):
        if res.get(key):
            out.append(f"{key}: {res.get(key)}")
    return out


def check(sdir, rc, json_path, build_dir=None, after_evidence=False):
    name = os.path.basename(os.path.normpath(sdir))
    sc = load(sdir)[0]
    exp = sc["after_evidence"]["expect"] if after_evidence else sc["expect"]
    if after_evidence:
        name += " (after evidence)"
    meta, explain = {}, None
    if build_dir:
        try:
            with open(os.path.join(build_dir, "meta.json")) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            pass
        try:
            with open(os.path.join(build_dir, "explain.txt")) as f:
                explain = f.read()
        except OSError:
            pass
    misses = []
    try:
        with open(json_path) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        print(f"not ok - scenario {name}: triage printed no JSON ({e}); exit {rc}")
        return 1
    if "exit" in exp and int(rc) != exp["exit"]:
        misses.append(f"exit {rc}, wanted {exp['exit']}")
    res["_meta"] = meta
    misses += quiet_misses(res, exp, sc["source"])
    causes = res.get("causes") or []
    if "kind" not in exp:
        # a DAG whose tasks all succeed: no cause, only what "quiet" and "status" ask
        if causes:
            misses.append(f"{len(causes)} cause(s), wanted none; rank 1: {causes[0].get('summary')!r}")
        return report(name, quiet_what(exp), misses, {}, [])
    top = causes[0] if causes else {}
    also = exp.get("also", [])
    if exp.get("any_order"):
        # the expected cause and each "also" are the top 1 + len(also) causes, in any order
        wants, pool = [exp] + also, list(causes[:1 + len(also)])
        for k, want in enumerate(wants):
            hit = next((c for c in pool if not cause_misses(c, want, sc["source"], "")), None)
            if hit is None:
                misses.append(f"no cause among the top {len(wants)} is {want['kind']} of task {want.get('task')!r}"
                              + (f" with commit {want['commit_summary']!r}" if want.get("commit_summary") else ""))
            else:
                pool.remove(hit)
                if k == 0:
                    top = hit
        also = []
    else:
        misses += cause_misses(top, exp, sc["source"], "rank-1")
    commits = top.get("commits") or []
    if exp["kind"] == "dependency_change" and top.get("kind") == "dependency_change":
        misses += change_misses(top, exp)
    if "link" in exp:
        links = commits[0].get("links") if commits else None
        if not isinstance(links, list) or exp["link"] not in links:
            misses.append(f"rank-1 first commit links {links!r}, wanted {exp['link']!r} among them")
        if explain is None:
            misses.append("no `triage --explain` output to read the link from")
        elif exp["link"] not in explain_links(explain):
            misses.append(f"--explain rank-1 link lines {explain_links(explain)}, wanted \"link     {exp['link']}: ...\"")
    for k, want in enumerate(also):
        found = [c for c in causes[1:] if not cause_misses(c, want, sc["source"], "")]
        if not found:
            misses.append(f"no cause below rank 1 is {want['kind']} of task {want.get('task')!r}"
                          + (f" with commit {want['commit_summary']!r}" if want.get("commit_summary") else "")
                          + "; " + "; ".join(f"rank {c.get('rank')}: " + ", ".join(cause_misses(c, want, sc["source"], "")
                                                                             or ["?"]) for c in causes[1:4]))
    for d in exp.get("decoys", []):
        for c in causes:
            if any(x.get("summary") == d for x in c.get("commits") or []):
                misses.append(f"rank {c.get('rank')} ({c.get('kind')}) lists the decoy commit {d!r}")
    if exp.get("onset") == "first_failed_try":
        ff = (meta.get("first_failed_try") or {}).get(exp.get("task"))
        got = parse_time((top.get("onset") or {}).get("first_bad_time"))
        if not ff:
            misses.append("the build recorded no first failed try for the task (build dir not given?)")
        else:
            want = parse_time(ff["start"])
            if not got or abs((got - want).total_seconds()) > 60:
                misses.append(f"rank-1 onset.first_bad_time {(top.get('onset') or {}).get('first_bad_time')!r}, wanted "
                              f"the first failed try's start {ff['start']} (logical date {ff['logical_date']})")
            ct = parse_time(commits[0].get("time")) if commits else None
            if ct and got and not ct < got:
                misses.append(f"rank-1 commit time {commits[0].get('time')} is not before the onset shown {got}")
    if after_evidence:
        misses += evidence_misses(res, top, exp)
    what = f"{exp['kind']}" + "".join(f" {k}={v}" for k, v in exp.get("entity", {}).items())
    if exp.get("quiet"):
        what += ", " + quiet_what(exp)
    if exp.get("commit_summary"):
        what += f", commit \"{exp['commit_summary']}\""
    if exp.get("outside_repository"):
        what += f", outside the repository ({exp['outside_repository']['line']} in {exp['outside_repository']['file']})"
    if exp.get("link"):
        what += f", link {exp['link']}"
    if exp.get("established"):
        what += f", {exp['established']} by the evidence"
    if exp.get("refuted"):
        what += f", {' and '.join(exp['refuted'])} refuted"
    return report(name, what, misses, top, causes)


def report(name, what, misses, top, causes):
    if misses:
        print(f"not ok - scenario {name}: {what}")
        for m in misses:
            print(f"    {m}")
        if top:
            print(f"    rank 1: {top.get('summary')} (confidence {top.get('confidence')})")
            for e in top.get("evidence", []):
                print(f"      evidence: {e}")
        for c in causes[1:4]:
            print(f"    rank {c.get('rank')}: {c.get('kind')}: {c.get('summary')} (confidence {c.get('confidence')})")
        return 1
    print(f"ok - scenario {name}: {what}")
    return 0


def quiet_what(exp):
    if "quiet" not in exp:
        return f"status {exp.get('status', '?')}"
    if not exp["quiet"]:
        return "no quiet failure"
    return "quiet " + ", ".join(f"{q['kind']} in {q['task']}" for q in exp["quiet"])


def quiet_misses(res, exp, source):
    """What of "quiet" (the quiet failures, exactly these kinds and tasks) and "status" res lacks."""
    out = []
    got = res.get("quiet_failures")
    if "status" in exp and (res.get("summary") or {}).get("status") != exp["status"]:
        out.append(f"summary.status {(res.get('summary') or {}).get('status')!r}, wanted {exp['status']!r}")
    if "quiet" not in exp:
        return out
    if not isinstance(got, list):
        return out + ["no \"quiet_failures\" list in the JSON"]

    def task_of(q):
        t = q.get("task_id") or ""
        return re.sub(r"-\d+$", "", t) if source == "prefect" else t

    left = list(got)
    for want in exp["quiet"]:
        hit = None
        for q in left:
            if q.get("kind") != want["kind"] or task_of(q) != want["task"]:
                continue
            if "what" in want and q.get("what") != want["what"]:
                continue
            hit = q
            break
        if hit is None:
            out.append(f"no quiet failure {want['kind']} in {want['task']}"
                       + (f" on {want['what']!r}" if "what" in want else "") + "; got: "
                       + "; ".join(f"{q.get('kind')} in {q.get('task_id')}: {q.get('detail')}" for q in got))
            continue
        left.remove(hit)
        if "onset_run" in want:
            key = "run_starts" if source == "prefect" else "logical_dates"
            dates = (res.get("_meta") or {}).get(key) or []
            got_t = parse_time((hit.get("onset") or {}).get("logical_date"))
            want_t = parse_time(dates[want["onset_run"]]) if want["onset_run"] < len(dates) else None
            if not want_t or got_t != want_t:
                out.append(f"quiet {want['kind']} onset {(hit.get('onset') or {}).get('logical_date')!r}, wanted run "
                           f"{want['onset_run']} ({dates[want['onset_run']] if want_t else '?'})")
        if "upstream_dag" in want and hit.get("upstream_dag") != want["upstream_dag"]:
            out.append(f"quiet {want['kind']} upstream_dag {hit.get('upstream_dag')!r}, wanted {want['upstream_dag']!r}")
        if "values" in want and len(hit.get("values") or []) < want["values"]:
            out.append(f"quiet {want['kind']}: {len(hit.get('values') or [])} values, wanted at least {want['values']}")
    for q in left:
        out.append(f"an unexpected quiet failure: {q.get('kind')} in {q.get('task_id')}: {q.get('detail')}")
    return out


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    elif len(sys.argv) == 6 and sys.argv[1] == "check-evidence":
        sys.exit(check(*sys.argv[2:], after_evidence=True))
    elif len(sys.argv) == 3 and sys.argv[1] == "evidence":
        evidence_files(sys.argv[2])
    else:
        sys.exit(__doc__)
