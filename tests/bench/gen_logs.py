#!/usr/bin/python3
"""Generates the benchmark mix for tests/bench/classify.sh: N files of about
SIZE MB each, mostly INFO noise (Airflow 2 text, Airflow 3 JSON lines,
Prefect console) with whole failing and succeeding task logs from
tests/fixtures/logs sprinkled in.  Deterministic (fixed seed).

usage: gen_logs.py OUTDIR FILES SIZE_MB FIXTURES_DIR
"""
import json, os, random, sys

out, nfiles, size_mb, fixtures = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rnd = random.Random(20260322)
os.makedirs(out, exist_ok=True)

A2_NOISE = [
    "{logging_mixin.py:188} INFO - Processed batch %d of %d (rows=%d)",
    "{base.py:84} INFO - Using connection ID 'postgres_default' for task execution.",
    "{sql.py:418} INFO - Running statement: SELECT id, amount, created_at FROM orders WHERE created_at >= '2025-03-0%d', parameters: None",
    "{sql.py:427} INFO - Rows affected: %d",
    "{http.py:175} INFO - Sending 'GET' to url: https://api.example.com/v2/items?page=%d&per_page=%d",
    "{subprocess.py:93} INFO - %d/%d [==============================] - 3s 12ms/step - loss: 0.%d - accuracy: 0.9%d",
    "{s3.py:1322} INFO - Downloading s3://datalake-raw/events/dt=2025-03-04/part-%05d-%d.parquet",
    "{taskinstance.py:1159} INFO - Dependencies all met for dep_context=requeueable deps ti=<TaskInstance: etl_daily.load_%d scheduled__2025-03-04T02:00:00+00:00 [queued]>",
    "{logging_mixin.py:188} WARNING - /usr/local/lib/python3.11/site-packages/airflow/models/baseoperator.py:%d RemovedInAirflow3Warning: Param `schedule_interval` is deprecated and will be removed in a future release. Please use `schedule` instead. %d",
    "{python.py:194} INFO - Done. Returned value was: %d items, %d skipped",
    "{pod_manager.py:466} INFO - [base] 2025-03-04 02:00:%02d,%03d INFO - step %d finished",
]
PREFECT_NOISE = [
    "| INFO    | Task run 'transform-%d' - Processed %d records from partition %d",
    "| INFO    | Flow run 'brave-otter' - Created task run 'load-%d' for task 'load' (%d)",
    "| DEBUG   | prefect.client - Connecting to API at http://127.0.0.1:4200/api/ %d %d",
]
A3_NOISE = [
    "Processed batch %d of %d",
    "Rows affected: %d",
    "Downloading s3://datalake-raw/events/part-%05d.parquet (%d bytes)",
]

def nums(fmt):
    return fmt % tuple(rnd.randrange(1, 99999) for _ in range(fmt.count("%")))

def a2_line(i):
    return "[2025-03-04T02:%02d:%02d.%03d+0000] %s\n" % ((i // 60) % 60, i % 60, i % 1000, nums(rnd.choice(A2_NOISE)))

def prefect_line(i):
    return "%02d:%02d:%02d.%03d %s\n" % ((i // 3600) % 24, (i // 60) % 60, i % 60, i % 1000, nums(rnd.choice(PREFECT_NOISE)))

def a3_line(i):
    return json.dumps({"timestamp": "2026-01-14T17:%02d:%02d.%06dZ" % ((i // 60) % 60, i % 60, i % 1000000),
                       "level": "info", "event": nums(rnd.choice(A3_NOISE)), "logger": "task.stdout"},
                      separators=(",", ":")) + "\n"

fx = {}
for f in sorted(os.listdir(fixtures)):
    if f == "expected.tsv" or f.endswith(".json"):
        continue
    fx[f] = open(os.path.join(fixtures, f)).read()
by_kind = {
    "a2": [t for f, t in fx.items() if f.startswith("a2_")],
    "prefect": [t for f, t in fx.items() if f.startswith("prefect_")],
    "a3": [t for f, t in fx.items() if f.startswith("a3_")],
}
target = int(size_mb * 1024 * 1024)
for n in range(nfiles):
    kind = "a2" if n % 8 < 6 else ("prefect" if n % 8 == 6 else "a3")
    gen = {"a2": a2_line, "prefect": prefect_line, "a3": a3_line}[kind]
    parts, size, i = [], 0, 0
    while size < target:
        if i % 20000 == 19999:           # a whole task log every 20000 lines
            s = rnd.choice(by_kind[kind])
        else:
            s = gen(i)
        parts.append(s)
        size += len(s)
        i += 1
    ext = "jsonl" if kind == "a3" else "log"
    with open(os.path.join(out, "mix-%02d-%s.%s" % (n, kind, ext)), "w") as fp:
        fp.write("".join(parts))
