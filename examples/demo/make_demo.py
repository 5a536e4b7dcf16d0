#!/usr/bin/env python3
"""Generates the bundled example: an Airflow 2 log folder and a git repository.

    make_demo.py OUT

OUT/logs     Airflow's task log layout (dag_id=/run_id=/task_id=/attempt=N.log) for
             DAG train_churn: 30 daily runs ending yesterday; from run 25 on, task
             `features` fails on every try with pandas 2's removed DataFrame.append.
OUT/repo     the pipeline's repository with dated commits: the culprit bumps pandas
             1.5.3 -> 2.0.0 the evening before the first failure; around it sit a
             dev-only requirement bump, an unrelated DAG change and doc commits,
             some newer than the culprit.
OUT/config.yaml  a dagdoc configuration with the folder as a `logs` source.
The log lines follow Airflow 2.9's formats; the dates follow today's.
"""
import datetime as dt
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DAG = "train_churn"
TASKS = ["extract", "features", "train"]
RUNS = 30
ONSET = 24          # index of the first failing run
RETRIES = 2         # tries = RETRIES + 1


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def line(t, src, level, msg):
    return f"[{ts(t)}] {{{src}}} {level} - {msg}\n"


def task_log(run_id, logical, task, attempt, ok, start):
    t = start
    ti = f"<TaskInstance: {DAG}.{task} {run_id}"
    out = [
        line(t, "local_task_job_runner.py:123", "INFO", "::group::Pre task execution logs"),
        line(t, "taskinstance.py:2612", "INFO", f"Dependencies all met for dep_context=non-requeueable deps ti={ti} [queued]>"),
        line(t, "taskinstance.py:2612", "INFO", f"Dependencies all met for dep_context=requeueable deps ti={ti} [queued]>"),
        line(t, "taskinstance.py:2865", "INFO", f"Starting attempt {attempt} of {RETRIES + 1}"),
        line(t, "taskinstance.py:2888", "INFO", f"Executing <Task(PythonOperator): {task}> on {logical:%Y-%m-%d %H:%M:%S}+00:00"),
        line(t, "standard_task_runner.py:72", "INFO", f"Started process {4000 + attempt * 17} to run task"),
        line(t, "standard_task_runner.py:104", "INFO", f"Running: ['airflow', 'tasks', 'run', '{DAG}', '{task}', '{run_id}', '--job-id', '{900 + attempt}', '--raw', '--subdir', 'DAGS_FOLDER/churn/train_churn.py', '--cfg-path', '/tmp/tmpk2x9']"),
        line(t, "task_command.py:467", "INFO", f"Running {ti} [running]> on host worker-1.internal"),
        line(t, "taskinstance.py:731", "INFO", "::endgroup::"),
    ]
    t += dt.timedelta(seconds=2)
    if task == "extract":
        out.append(line(t, "logging_mixin.py:190", "INFO", "extracted 48211 rows from warehouse.customers"))
    elif task == "train":
        out.append(line(t, "logging_mixin.py:190", "INFO", "fitted GradientBoostingClassifier: auc=0.871"))
    else:
        out.append(line(t, "logging_mixin.py:190", "INFO", "building features for 48211 customers"))
    t += dt.timedelta(seconds=40 if task == "train" else 8)
    end = t
    stamp = f"dag_id={DAG}, task_id={task}, run_id={run_id}, execution_date={logical:%Y%m%dT%H%M%S}, start_date={start:%Y%m%dT%H%M%S}, end_date={end:%Y%m%dT%H%M%S}"
    if ok:
        out.append(line(t, "python.py:240", "INFO", "Done. Returned value was: None"))
        out.append(line(t, "taskinstance.py:1205", "INFO", f"Marking task as SUCCESS. {stamp}"))
        out.append(line(t, "local_task_job_runner.py:243", "INFO", "Task exited with return code 0"))
        return "".join(out), end
    out.append(line(t, "taskinstance.py:3310", "ERROR", "Task failed with exception"))
    out.append(
        "Traceback (most recent call last):\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py", line 767, in _execute_task\n'
        "    result = _execute_callable(context=context, **execute_callable_kwargs)\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py", line 733, in _execute_callable\n'
        "    return ExecutionCallableRunner(\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/operators/python.py", line 235, in execute\n'
        "    return_value = self.execute_callable()\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/airflow/operators/python.py", line 252, in execute_callable\n'
        "    return self.python_callable(*self.op_args, **self.op_kwargs)\n"
        '  File "/opt/airflow/dags/churn/features.py", line 14, in build_features\n'
        "    df = df.append(extra, ignore_index=True)\n"
        '  File "/home/airflow/.local/lib/python3.11/site-packages/pandas/core/generic.py", line 6204, in __getattr__\n'
        "    return object.__getattribute__(self, name)\n"
        "AttributeError: 'DataFrame' object has no attribute 'append'\n")
    state = "UP_FOR_RETRY" if attempt <= RETRIES else "FAILED"
    out.append(line(t, "taskinstance.py:1225", "INFO", f"Marking task as {state}. {stamp}"))
    out.append(line(t, "standard_task_runner.py:110", "ERROR", f"Failed to execute job {900 + attempt} for task {task} ('DataFrame' object has no attribute 'append'; {4000 + attempt * 17})"))
    out.append(line(t, "local_task_job_runner.py:243", "INFO", "Task exited with return code 1"))
    return "".join(out), end


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


FEATURES_PY = '''"""Feature building for the churn model."""
import pandas as pd


def load_extra():
    return pd.DataFrame({"customer_id": [], "tenure": []})


def build_features(**context):
    df = pd.read_parquet("/data/churn/customers.parquet")
    extra = load_extra()
    # keep late-arriving customers
    df["tenure"] = df["tenure"].fillna(0)
    df = df.append(extra, ignore_index=True)
    df.to_parquet("/data/churn/features.parquet")
'''

DAG_PY = '''from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.python import PythonOperator

from churn.features import build_features

with DAG("train_churn", start_date=datetime(2025, 1, 1), schedule="0 2 * * *",
         default_args={"retries": 2, "retry_delay": timedelta(minutes=5)}) as dag:
    extract = PythonOperator(task_id="extract", python_callable=lambda: None)
    features = PythonOperator(task_id="features", python_callable=build_features)
    train = PythonOperator(task_id="train", python_callable=lambda: None)
    extract >> features >> train
'''


def main(out):
    today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - dt.timedelta(days=RUNS)
    logs = os.path.join(out, "logs")
    for i in range(RUNS):
        logical = first + dt.timedelta(days=i) + dt.timedelta(hours=2)
        run_id = f"scheduled__{logical:%Y-%m-%dT%H:%M:%S}+00:00"
        t = logical + dt.timedelta(days=1, seconds=5)
        for task in TASKS:
            base = os.path.join(logs, f"dag_id={DAG}", f"run_id={run_id}", f"task_id={task}")
            if task == "train" and i >= ONSET:
                break          # upstream failed: never ran, no log
            failing = task == "features" and i >= ONSET
            for attempt in range(1, (RETRIES + 2) if failing else 2):
                text, t = task_log(run_id, logical, task, attempt, not failing, t)
                write(os.path.join(base, f"attempt={attempt}.log"), text)
                t += dt.timedelta(minutes=5)

    onset_day = first + dt.timedelta(days=ONSET)      # logical date of the first bad run
    culprit = onset_day + dt.timedelta(hours=15, minutes=12)   # 17:12, before it runs the next night
    iso = lambda d: d.isoformat()
    history = [
        {"date": iso(first - dt.timedelta(days=40)), "author": "A. Lee <alee@example.com>", "message": "Churn pipeline",
         "files": {"requirements.txt": "pandas==1.5.3\nnumpy==1.24.4\nscikit-learn==1.2.2\npyarrow==12.0.1\n",
                   "requirements-dev.txt": "-r requirements.txt\npytest==7.4.0\nruff==0.1.6\n",
                   "dags/churn/train_churn.py": DAG_PY, "dags/churn/features.py": FEATURES_PY,
                   "dags/reporting/weekly_report.py": "SCHEDULE = '0 6 * * 1'\n",
                   "README.md": "# pipelines\n"}},
        {"date": iso(first + dt.timedelta(days=10, hours=11)), "author": "M. Okafor <mo@example.com>",
         "message": "Document the churn features", "files": {"README.md": "# pipelines\n\nchurn: daily features and model\n"}},
        {"date": iso(culprit), "author": "J. Doe <jdoe@example.com>", "message": "Bump ML deps",
         "files": {"requirements.txt": "pandas==2.0.0\nnumpy==1.24.4\nscikit-learn==1.3.0\npyarrow==12.0.1\n"}},
        {"date": iso(culprit + dt.timedelta(hours=1, minutes=28)), "author": "M. Okafor <mo@example.com>",
         "message": "Bump pytest", "files": {"requirements-dev.txt": "-r requirements.txt\npytest==8.0.0\nruff==0.1.6\n"}},
        {"date": iso(culprit + dt.timedelta(hours=2, minutes=3)), "author": "S. Park <spark@example.com>",
         "message": "Move weekly report to Tuesdays", "files": {"dags/reporting/weekly_report.py": "SCHEDULE = '0 6 * * 2'\n"}},
        {"date": iso(onset_day + dt.timedelta(days=3, hours=9)), "author": "M. Okafor <mo@example.com>",
         "message": "Fix typo in README", "files": {"README.md": "# pipelines\n\nchurn: daily features and model.\n"}},
    ]
    hist_path = os.path.join(out, "history.json")
    write(hist_path, json.dumps(history, indent=1))
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "lib", "mkrepo.py"), hist_path,
                    os.path.join(out, "repo")], check=True)
    # paths relative to the config file's folder: the demo can be moved
    write(os.path.join(out, "config.yaml"),
          "store: dagdoc.db\n"
          "sources:\n"
          "  - name: demo\n    kind: logs\n    path: logs\n"
          "repos:\n"
          "  - path: repo\n    deploy_lag: 6h\n"
          "    map:\n      - from: /opt/airflow/dags/\n        to: dags/\n")


MARK = ".dagdoc-demo"
BUILT = ("logs", "repo", "history.json", "config.yaml", "dagdoc.db", "dagdoc.db-wal", "dagdoc.db-shm", MARK)


def prepare(out):
    """An empty or new folder is used as is; an earlier demo is refreshed
    (what this script wrote is removed first); anything else is refused."""
    if os.path.isdir(out) and os.listdir(out):
        if not os.path.exists(os.path.join(out, MARK)):
            sys.exit(f"make_demo.py: {out} holds other files and no earlier demo; "
                     "give a new or empty folder")
        for name in BUILT:
            p = os.path.join(out, name)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.remove(p)
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, MARK), "built by examples/demo/make_demo.py; run it again to refresh\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_demo.py DIR   (a new or empty folder, or an earlier demo to refresh)")
    prepare(sys.argv[1])
    main(sys.argv[1])
