#!/usr/bin/env python3
"""Generates the triage benchmark's pipeline history (tests/bench/triage.sh):
an Airflow 2 log folder for DAG bench_dag, RUNS hourly runs x TASKS tasks in
a chain (t00 >> t01 >> ...), the newest run started an hour ago.  Task t07
fails on all 3 tries from run ONSET on with pandas 2's removed
DataFrame.append (tasks after it are upstream_failed and have no log);
every other try succeeds.  Real Airflow 2 log lines, via
tests/scenarios/lib/scenario.py.

usage: gen_triage.py OUT_LOGDIR [RUNS [TASKS [ONSET]]]    defaults 1000 20 900
"""
import datetime as dt
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scenarios", "lib"))
import scenario  # noqa: E402


def main():
    out = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    ntasks = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    onset = int(sys.argv[4]) if len(sys.argv) > 4 else 900
    dag = {"dag_id": "bench_dag", "fileloc": "/opt/airflow/dags/bench/bench_dag.py", "hour": 0, "every_hours": 1,
           "runs": runs, "retries": 2,
           "tasks": [{"task_id": f"t{k:02d}", "info": [f"step {k}: processed {{rows}} rows"], "rows": [10000, 12000]}
                     for k in range(ntasks)],
           "outcomes": [{"runs": [onset, runs - 1], "task": "t07",
                         "tries": ["pandas_append", "pandas_append", "pandas_append"],
                         "params": {"file": "/opt/airflow/dags/bench/features.py", "line": 14}}]}
    now = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    n = 0
    for r in scenario.build_dag(dag, "logs", now, [0]):
        for ti in r["task_instances"]:
            for tr in ti["tries"]:
                d = os.path.join(out, f"dag_id={r['dag_id']}", f"run_id={r['run_id']}", f"task_id={ti['task_id']}")
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, f"attempt={tr['try_number']}.log"), "w") as f:
                    f.write(tr["log"])
                n += 1
    print(f"{runs} runs x {ntasks} tasks: {n} task logs in {out}")


if __name__ == "__main__":
    main()
