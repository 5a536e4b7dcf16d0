#!/usr/bin/env python3
"""Prints what a dagdoc store holds, in a canonical order, one row a line,
so that two stores can be compared with diff.

    storedump.py DB            the rows
    storedump.py --logs DB     every stored log's text, decompressed

Rows are keyed by names (DAG, run id, task id, map index, try number),
never by row ids.  Left out on purpose: what records when something was
fetched (sources.last_sync_ms, dags.updated_ms, logs.fetched_ms), the sync
cursors, health snapshots (one per sync), the classification cache and
report history.  A log is shown by its flags and the SHA-256 of its text.
"""
import hashlib
import sqlite3
import sys
import zlib

QUERIES = [
    ("source", "SELECT name, kind FROM sources ORDER BY name"),
    ("dag", "SELECT s.name, d.dag_id, d.fileloc, d.external_id, d.is_paused FROM dags d "
            "JOIN sources s ON s.id = d.source_id ORDER BY 1, 2"),
    ("task", "SELECT d.dag_id, t.task_id, t.operator, t.is_sensor FROM tasks t JOIN dags d ON d.id = t.dag_ref "
             "ORDER BY 1, 2"),
    ("dep", "SELECT d.dag_id, p.upstream, p.downstream FROM task_deps p JOIN dags d ON d.id = p.dag_ref "
            "ORDER BY 1, 2, 3"),
    ("run", "SELECT d.dag_id, r.run_id, r.run_name, r.state, r.run_type, r.logical_ms, r.queued_ms, r.start_ms, "
            "r.end_ms, r.note FROM runs r JOIN dags d ON d.id = r.dag_ref ORDER BY 1, 2"),
    ("ti", "SELECT d.dag_id, r.run_id, ti.task_id, ti.map_index, ti.state, ti.try_number, ti.max_tries, "
           "ti.operator, ti.hostname, ti.external_id, ti.queued_ms, ti.start_ms, ti.end_ms, ti.note "
           "FROM task_instances ti JOIN runs r ON r.id = ti.run_ref JOIN dags d ON d.id = r.dag_ref "
           "ORDER BY 1, 2, 3, 4"),
    ("try", "SELECT d.dag_id, r.run_id, ti.task_id, ti.map_index, t.try_number, t.state, t.hostname, "
            "t.queued_ms, t.start_ms, t.end_ms, t.note FROM tries t JOIN task_instances ti ON ti.id = t.ti_ref "
            "JOIN runs r ON r.id = ti.run_ref JOIN dags d ON d.id = r.dag_ref ORDER BY 1, 2, 3, 4, 5"),
    ("run_version", "SELECT d.dag_id, r.run_id, v.bundle_version, v.dag_version FROM run_versions v "
                    "JOIN runs r ON r.id = v.run_ref JOIN dags d ON d.id = r.dag_ref ORDER BY 1, 2"),
    ("import_error", "SELECT s.name, e.filename, e.stack_trace, e.timestamp_ms FROM import_errors e "
                     "JOIN sources s ON s.id = e.source_id ORDER BY 1, 2, 4"),
]

LOGS = ("SELECT d.dag_id, r.run_id, ti.task_id, ti.map_index, t.try_number, l.original_size, l.text_size, "
        "l.truncated, l.missing, l.reason, l.data FROM logs l JOIN tries t ON t.id = l.try_ref "
        "JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref "
        "JOIN dags d ON d.id = r.dag_ref ORDER BY 1, 2, 3, 4, 5")


def main():
    logs = sys.argv[1] == "--logs"
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[-1], uri=True)
    db.text_factory = bytes
    out = sys.stdout.buffer
    if logs:
        for (data,) in db.execute("SELECT data FROM logs WHERE data IS NOT NULL"):
            out.write(zlib.decompress(data) + b"\n")
        return 0
    for name, sql in QUERIES:
        for row in db.execute(sql):
            out.write(name.encode() + b"\t" + b"\t".join(repr(v).encode() for v in row) + b"\n")
    for row in db.execute(LOGS):
        *key, data = row
        text = zlib.decompress(data) if data is not None else b""
        out.write(b"log\t" + b"\t".join(repr(v).encode() for v in key) + b"\t" +
                  hashlib.sha256(text).hexdigest().encode() + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
