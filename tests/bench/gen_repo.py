#!/usr/bin/env python3
"""Writes the triage benchmark's repository with git fast-import:
N commits an hour apart, the newest at END (ISO 8601, default now).

    gen_repo.py N DEST [END]

The first commit adds the pipeline: dags/bench/bench_dag.py, dags/bench/
features.py (the file of the failing frame, line 14, never changed again,
so blaming it walks the whole history) and requirements.txt.  Each later
commit changes one of 200 modules under src/; every 50th instead moves a
pin in requirements.txt (pandas 1.x, numpy) as mkrepo.py --bulk does.
"""
import datetime as dt
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = open(os.path.join(os.path.dirname(HERE), "scenarios", "common", "features.py")).read()
DAG = "from airflow import DAG\n\nwith DAG('bench_dag', schedule='@hourly') as dag:\n    pass\n"


def blob(path, body):
    data = body.encode()
    return f"M 644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def main():
    n, dest = int(sys.argv[1]), sys.argv[2]
    end = dt.datetime.fromisoformat(sys.argv[3]) if len(sys.argv) > 3 else dt.datetime.now(dt.timezone.utc)
    t_end = int(end.timestamp())
    os.makedirs(dest)
    subprocess.run(["git", "-C", dest, "init", "-q", "-b", "main"], check=True)
    out = []
    for i in range(n):
        t = t_end - (n - 1 - i) * 3600
        msg = (f"change {i}\n" if i else "Bench pipeline\n").encode()
        out.append(f"commit refs/heads/main\nmark :{i + 1}\n"
                   f"author Dev <dev@example.com> {t} +0000\ncommitter Dev <dev@example.com> {t} +0000\n"
                   f"data {len(msg)}\n".encode() + msg)
        if i:
            out.append(f"from :{i}\n".encode())
        if i == 0:
            out.append(blob("dags/bench/bench_dag.py", DAG))
            out.append(blob("dags/bench/features.py", FEATURES))
            out.append(blob("requirements.txt", "pandas==1.0.0\nnumpy==1.0.0\n"))
        elif i % 50 == 0:
            out.append(blob("requirements.txt", f"pandas==1.{i // 50}.0\nnumpy==1.{i % 7}.0\n"))
        else:
            out.append(blob(f"src/mod{i % 200}.py", f"line {i}\n"))
    subprocess.run(["git", "-C", dest, "fast-import", "--quiet"], input=b"".join(out), check=True)
    subprocess.run(["git", "-C", dest, "checkout", "-q", "main"], check=True)


if __name__ == "__main__":
    main()
