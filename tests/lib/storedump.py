#!/usr/bin/env python3
"""Prints what a dagdoc store holds, in a canonical order, one row a line,
so that two stores can be compared with diff.

    storedump.py STORE            the rows
    storedump.py --logs STORE     every stored log's text, decompressed

STORE is an SQLite file (read with Python's sqlite3, read-only) or a
postgresql:// URL (read with psql, in read-only transactions: the newest
/usr/lib/postgresql/*/bin/psql, else psql on PATH).  The same content
prints the same from both: each value as JSON (an integer as a number, text
as a string, NULL as null, so NULL and '' differ), a table's rows sorted by
what is printed (not by the backend's collation or NULL order), a log's
zlib data read hex-encoded.

Rows are keyed by names (DAG, run id, task id, map index, try number),
never by row ids.  Left out on purpose: what records when something was
fetched (sources.last_sync_ms, dags.updated_ms, logs.fetched_ms), the sync
cursors, health snapshots (one per sync), the classification cache and
report history.  A log is shown by its flags and the SHA-256 of its text
(null when no text is stored).  --logs prints the texts in the order of
their tries' names.
"""
import glob
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import zlib

# (name, columns, FROM ...): a table's rows, one line each
QUERIES = [
    ("source", "s.name, s.kind", "sources s"),
    ("dag", "s.name, d.dag_id, d.fileloc, d.external_id, d.is_paused",
     "dags d JOIN sources s ON s.id = d.source_id"),
    ("task", "d.dag_id, t.task_id, t.operator, t.is_sensor", "tasks t JOIN dags d ON d.id = t.dag_ref"),
    ("dep", "d.dag_id, p.upstream, p.downstream", "task_deps p JOIN dags d ON d.id = p.dag_ref"),
    ("run", "d.dag_id, r.run_id, r.run_name, r.state, r.run_type, r.logical_ms, r.queued_ms, r.start_ms, "
            "r.end_ms, r.note", "runs r JOIN dags d ON d.id = r.dag_ref"),
    ("ti", "d.dag_id, r.run_id, ti.task_id, ti.map_index, ti.state, ti.try_number, ti.max_tries, "
           "ti.operator, ti.hostname, ti.external_id, ti.queued_ms, ti.start_ms, ti.end_ms, ti.note",
     "task_instances ti JOIN runs r ON r.id = ti.run_ref JOIN dags d ON d.id = r.dag_ref"),
    ("try", "d.dag_id, r.run_id, ti.task_id, ti.map_index, t.try_number, t.state, t.hostname, "
            "t.queued_ms, t.start_ms, t.end_ms, t.note",
     "tries t JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref "
     "JOIN dags d ON d.id = r.dag_ref"),
    ("run_version", "d.dag_id, r.run_id, v.bundle_version, v.dag_version",
     "run_versions v JOIN runs r ON r.id = v.run_ref JOIN dags d ON d.id = r.dag_ref"),
    ("import_error", "s.name, e.filename, e.stack_trace, e.timestamp_ms",
     "import_errors e JOIN sources s ON s.id = e.source_id"),
]

# A log's key, its flags, then its data hex-encoded ({hex} is the backend's
# expression for it).
LOG_KEY = "d.dag_id, r.run_id, ti.task_id, ti.map_index, t.try_number"
LOGS = ("log", LOG_KEY + ", l.original_size, l.text_size, l.truncated, l.missing, l.reason, {hex}",
        "logs l JOIN tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref "
        "JOIN runs r ON r.id = ti.run_ref JOIN dags d ON d.id = r.dag_ref")
LOG_TEXTS = ("text", LOG_KEY + ", {hex}", LOGS[2] + " WHERE l.data IS NOT NULL")


def psql_path():
    """The newest /usr/lib/postgresql/*/bin/psql (as tests/e2e/lib.sh finds it), else psql on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"),
                   key=lambda path: [int(n) for n in re.findall(r"\d+", path)])
    return found[-1] if found else "psql"


def sqlite_rows(path, queries):
    """{name: [row tuple, ...]} of queries on the SQLite file path."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    # text that is not UTF-8 is shown, not refused (PostgreSQL cannot hold any)
    db.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
    rows = {}
    for name, cols, frm in queries:
        rows[name] = [tuple(r) for r in db.execute("SELECT %s FROM %s" % (cols.format(hex="hex(l.data)"), frm))]
    return rows


def pg_rows(url, queries):
    """{name: [row tuple, ...]} of queries on the PostgreSQL database url, by
    one psql: each row comes back as a JSON array led by its query's name."""
    script = ""
    for name, cols, frm in queries:
        script += "SELECT json_build_array('%s', %s) FROM %s;\n" % (name, cols.format(hex="encode(l.data, 'hex')"), frm)
    env = dict(os.environ, PGCLIENTENCODING="UTF8",
               PGOPTIONS="-c default_transaction_read_only=on -c client_min_messages=warning")
    p = subprocess.run([psql_path(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"],
                       input=script.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if p.returncode != 0:
        sys.exit("storedump.py: psql could not read the store: " + p.stderr.decode(errors="replace").strip())
    rows = {name: [] for name, _, _ in queries}
    for line in p.stdout.decode("utf-8").split("\n"):
        if line:
            name, *row = json.loads(line)
            rows[name].append(tuple(row))
    return rows


def show(values):
    """values as printed: JSON each (ASCII only), tab-separated."""
    return "\t".join(json.dumps(v) for v in values).encode()


def unzip(hexdata):
    """A log's text from its data as selected (hex), None for no data."""
    return zlib.decompress(bytes.fromhex(hexdata)) if hexdata is not None else None


def main():
    logs = sys.argv[1] == "--logs"
    store = sys.argv[-1]
    queries = [LOG_TEXTS] if logs else QUERIES + [LOGS]
    if store.startswith(("postgresql://", "postgres://")):
        rows = pg_rows(store, queries)
    else:
        rows = sqlite_rows(store, queries)
    out = sys.stdout.buffer
    if logs:
        for *key, data in sorted(rows["text"], key=lambda r: show(r[:-1])):
            out.write(unzip(data) + b"\n")
        return 0
    for name, _, _ in QUERIES:
        for line in sorted(show(r) for r in rows[name]):
            out.write(name.encode() + b"\t" + line + b"\n")
    lines = []
    for *key, data in rows["log"]:
        text = unzip(data)
        lines.append(show(key) + b"\t" + (hashlib.sha256(text).hexdigest().encode() if text is not None else b"null"))
    for line in sorted(lines):
        out.write(b"log\t" + line + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
