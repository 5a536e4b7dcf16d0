#!/usr/bin/env python3
"""Writes a synthetic fake-server world (tests/fakes/README.md format) for
connector tests and the fetch benchmark.

  gen_world.py --runs N [--tries K] [--success] [--log-mb M] [--version V] OUT.json

One DAG "bench_dag" with tasks extract -> load.  Each of the N runs (one a
day, oldest first from 2026-01-01) has `extract` tried K times: tries
1..K-1 up_for_retry and try K failed (so K failed-try logs per run), and
`load` upstream_failed; with --success every run succeeds on its only try.
--log-mb gives the last try of the first run a generated log of M MB.
"""
import argparse
import datetime as dt
import json


def iso(d):
    return d.isoformat()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--tries", type=int, default=1)
    p.add_argument("--success", action="store_true")
    p.add_argument("--log-mb", type=int, default=0)
    p.add_argument("--version", default="2.10.5")
    p.add_argument("out")
    a = p.parse_args()

    t0 = dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.timezone.utc)
    runs = []
    for i in range(a.runs):
        logical = t0 + dt.timedelta(days=i)
        start = logical + dt.timedelta(days=1, seconds=5)
        run_id = "scheduled__" + iso(logical)
        tries = []
        k = 1 if a.success else a.tries
        for n in range(1, k + 1):
            ts = start + dt.timedelta(minutes=5 * (n - 1))
            state = "success" if a.success else ("failed" if n == k else "up_for_retry")
            stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
            log = ("[%s] {taskinstance.py:2866} INFO - Starting attempt %d of %d\n"
                   "[%s] {taskinstance.py:2889} INFO - Executing <Task(PythonOperator): extract> on %s\n"
                   % (stamp, n, k, stamp, iso(logical)))
            log += "".join("[%s] {extract.py:%d} INFO - fetched page %d of events (run %d try %d)\n"
                           % (stamp, 40 + j, j, i, n) for j in range(12))
            if state != "success":
                log += ("[%s] {taskinstance.py:3311} ERROR - Task failed with exception\n"
                        "Traceback (most recent call last):\n"
                        "  File \"/opt/airflow/dags/bench/extract.py\", line 57, in extract\n"
                        "    rows = client.fetch(cursor)\n"
                        "ConnectionResetError: [Errno 104] Connection reset by peer (run %d try %d)\n"
                        % (stamp, i, n))
            tr = {"try_number": n, "state": state, "start_date": iso(ts),
                  "end_date": iso(ts + dt.timedelta(minutes=2)), "hostname": "worker-%d" % (i % 4)}
            if a.log_mb and i == 0 and n == k:
                tr["log_generate_mb"] = a.log_mb
            else:
                tr["log"] = log
            tries.append(tr)
        last = tries[-1]
        ext = {"task_id": "extract", "map_index": -1, "state": last["state"], "try_number": k,
               "max_tries": k - 1, "operator": "PythonOperator", "hostname": last["hostname"],
               "queued_when": iso(start - dt.timedelta(seconds=2)), "start_date": last["start_date"],
               "end_date": last["end_date"], "tries": tries}
        load = {"task_id": "load", "map_index": -1,
                "state": "success" if a.success else "upstream_failed",
                "try_number": 1 if a.success else 0, "max_tries": 0, "operator": "PythonOperator",
                "tries": []}
        if a.success:
            load.update({"start_date": last["end_date"], "end_date": last["end_date"], "hostname": "worker-0"})
            load["tries"] = [{"try_number": 1, "state": "success", "start_date": last["end_date"],
                              "end_date": last["end_date"], "hostname": "worker-0", "log": "ok\n"}]
        runs.append({"dag_id": "bench_dag", "run_id": run_id, "run_type": "scheduled",
                     "state": "success" if a.success else "failed",
                     "logical_date": iso(logical), "queued_at": iso(start - dt.timedelta(seconds=4)),
                     "start_date": iso(start), "end_date": last["end_date"], "note": None,
                     "task_instances": [ext, load]})
    world = {
        "version": a.version,
        "now": iso(t0 + dt.timedelta(days=a.runs + 1)),
        "dags": [{"dag_id": "bench_dag", "fileloc": "/opt/airflow/dags/bench/bench_dag.py",
                  "is_paused": False, "owners": ["data"], "schedule": "0 2 * * *",
                  "tasks": [{"task_id": "extract", "operator": "PythonOperator", "downstream": ["load"]},
                            {"task_id": "load", "operator": "PythonOperator", "downstream": []}]}],
        "runs": runs,
        "import_errors": [],
        "health": {"scheduler": {"status": "healthy",
                                 "latest_scheduler_heartbeat": iso(t0 + dt.timedelta(days=a.runs))},
                   "metadatabase": {"status": "healthy"}},
    }
    with open(a.out, "w") as f:
        json.dump(world, f)


if __name__ == "__main__":
    main()
