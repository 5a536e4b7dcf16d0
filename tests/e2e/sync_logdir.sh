#!/usr/bin/env bash
# dagdoc sync from a local Airflow log folder (tests/fixtures/logdir):
# what is stored, incrementality, symlinks, unknown DAGs, stores it refuses
# (not a store, another application's database, a newer schema), a huge log
# capped with memory bounded.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

FIX="$ROOT/tests/fixtures/logdir/current"
DB=$(store dagdoc)
cat >"$TMP/config.yaml" <<YAML
sources:
  - name: local
    kind: logs
    path: $FIX
    success_logs: 0
YAML
# success_logs: 0 keeps the log set to failed tries and baselines here; the
# logs of successful tries (quiet failures) are checked after.
q() { store_sql "$DB" "$1"; }
eq() {   # NAME ACTUAL EXPECTED
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}

run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d
expect_rc "sync of the log folder exits 0" 0
eq "summary line" "$out" "synced 2 DAGs from local (log folder $FIX): 6 runs (6 new), 12 tries, 8 logs (16.2 kB)"
eq "no progress line when stderr is not a terminal" "$errout" ""
eq "runs stored with their inferred states" "$(q "SELECT r.run_id || ' ' || r.state || ' ' || coalesce(r.run_type, '-')
  FROM runs r JOIN dags d ON d.id = r.dag_ref WHERE d.dag_id = 'etl_daily' ORDER BY r.logical_ms")" \
"scheduled__2026-03-01T02:00:00+00:00 success scheduled
scheduled__2026-03-02T02:00:00+00:00 success scheduled
scheduled__2026-03-03T02:00:00+00:00 failed scheduled
manual__2026-03-03T10:15:00.123456+00:00 failed manual"
eq "tries of the failing task, symlink to /etc/passwd not a try" "$(q "SELECT t.try_number || ' ' || t.state
  FROM tries t JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref
  WHERE r.run_id = 'scheduled__2026-03-03T02:00:00+00:00' ORDER BY t.try_number")" \
"1 up_for_retry
2 failed"
eq "mapped task instances" "$(q "SELECT ti.map_index || ' ' || ti.state FROM task_instances ti
  JOIN runs r ON r.id = ti.run_ref WHERE r.run_type = 'manual' AND ti.task_id = 'transform' ORDER BY 1")" \
"0 success
1 failed
2 success"
eq "no DAG from the symlink out of the folder" "$(q "SELECT group_concat(dag_id, ',') FROM (SELECT dag_id FROM dags ORDER BY dag_id) AS d")" "etl_daily,ml_train"
eq "logs: failed tries plus last-success baselines" "$(q "SELECT ti.task_id || '/' || ti.map_index || '/' || t.try_number || ' ' || t.state
  FROM logs l JOIN tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref
  JOIN runs r ON r.id = ti.run_ref ORDER BY r.logical_ms, ti.task_id, ti.map_index, t.try_number")" \
"train/-1/1 failed
train/-1/1 success
extract/-1/1 up_for_retry
extract/-1/2 success
extract/-1/1 up_for_retry
extract/-1/2 failed
transform/1/1 failed
transform/2/1 success"
eq "logs are stored compressed, not truncated" "$(q "SELECT count(*) FROM logs WHERE truncated = 0 AND length(data) < text_size AND missing = 0")" "8"
eq "dag tasks from the folders" "$(q "SELECT group_concat(task_id || ':' || coalesce(operator, '-'), ',') FROM (SELECT t.task_id, t.operator FROM tasks t JOIN dags d ON d.id = t.dag_ref WHERE d.dag_id = 'etl_daily' ORDER BY t.task_id) AS k")" \
"extract:PythonOperator,load:PythonOperator,transform:_PythonDecoratedOperator"
eq "no (empty) health snapshot for a log folder" "$(q "SELECT count(*) FROM health_snapshots")" "0"
if [ "$BACKEND" = sqlite ]; then
	eq "store schema version" "$(q "PRAGMA user_version")" "5"
	eq "store is in WAL mode" "$(q "PRAGMA journal_mode")" "wal"
	check "store is readable by its owner only" test "$(stat -c %a "$DB")" = 600
else
	eq "store schema version, the database named dagdoc's" \
		"$(q "SELECT group_concat(key || '=' || value, ' ') FROM (SELECT key, value FROM dagdoc_meta ORDER BY key) AS m")" \
		"application=dagdoc schema_version=5"
fi

run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d
expect_rc "second sync exits 0" 0
eq "second sync fetches nothing new" "$out" "synced 2 DAGs from local (log folder $FIX): 6 runs (0 new), 0 tries, 0 logs (0 bytes)"
eq "no duplicate rows" "$(q "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tries) || ' ' || (SELECT count(*) FROM logs)")" "6 12 8"

# The default success_logs (10): every successful try of this small folder is
# read too, each once; a second sync reads none.
sed '/success_logs/d' "$TMP/config.yaml" >"$TMP/quiet.yaml"
QUIET=$(store quiet)
run "$DAGDOC" sync --config "$TMP/quiet.yaml" --store "$QUIET" --since 3650d
expect_out "success logs: every successful try's log is stored" ', 12 tries, 12 logs '
eq "success logs: one per successful try" "$(store_sql "$QUIET" "SELECT count(*) FROM logs l JOIN tries t ON t.id = l.try_ref WHERE t.state = 'success'")" \
	"$(store_sql "$QUIET" "SELECT count(*) FROM tries WHERE state = 'success'")"
run "$DAGDOC" sync --config "$TMP/quiet.yaml" --store "$QUIET" --since 3650d
expect_out "success logs: a second sync reads no log" '6 runs \(0 new\), 0 tries, 0 logs'

run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d ml_train
expect_rc "sync of one named DAG exits 0" 0
expect_out "one DAG synced" '^synced 1 DAG from local .*: 2 runs \(0 new\)'

run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" etl_dialy
expect_rc "unknown DAG exits 2" 2
expect_err "unknown DAG: the connector's sentence" "^dagdoc sync: no DAG named etl_dialy in the log folder .*; did you mean etl_daily\?$"
eq "unknown DAG: nothing written" "$(q "SELECT count(*) FROM dags WHERE dag_id = 'etl_dialy'")" "0"

run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3x
expect_rc "bad --since exits 2" 2
expect_err "bad --since explained" "'3x' is not a duration"

# On a terminal (script(1) gives one) a progress line goes to stderr.
if command -v script >/dev/null; then
	script -qec "'$DAGDOC' sync --config '$TMP/config.yaml' --store '$(store tty)' --since 3650d" /dev/null >"$TMP/tty.out"
	check "progress line on a terminal" grep -q $'\rsync local: 2 of 2 DAGs, 6 of 6 runs, 8 logs, 42.4 kB, 0 retries\033\\[K' "$TMP/tty.out"
	check "progress line cleared before the summary" grep -q $'\r\033\\[Ksynced 2 DAGs from local' "$TMP/tty.out"
fi

# A store path that is not a store (a file: the SQLite side of --store).
if [ "$BACKEND" = sqlite ]; then
	echo "not a database at all, just text that is long enough to be a header" >"$TMP/notadb"
	run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$TMP/notadb"
	expect_rc "non-SQLite store exits 2" 2
	expect_err "non-SQLite store: path and what to do" "$TMP/notadb is not a dagdoc store .*another --store"
fi

# Another application's database (on PostgreSQL its table in the schema
# dagdoc would use): refused, untouched.
OTHER=$(store other)
store_sql "$OTHER" "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine')"
run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$OTHER"
expect_rc "foreign database exits 2" 2
if [ "$BACKEND" = sqlite ]; then
	expect_err "foreign SQLite database explained" "$OTHER is an SQLite database but not a dagdoc store.*pass another --store"
	eq "foreign SQLite database untouched" "$(store_sql "$OTHER" "SELECT count(*) FROM sqlite_master")" "1"
else
	expect_err "foreign PostgreSQL database explained" \
		"^dagdoc sync: the database $OTHER is not a dagdoc store \(1 table, view or sequence in schema public, no dagdoc_meta naming dagdoc\); dagdoc will not write into it: pass another --store \(an empty database, or a schema of its own through search_path\)$"
	eq "foreign PostgreSQL database untouched: its table alone" "$(store_sql "$OTHER" "SELECT group_concat(n.nspname || '.' || c.relname, ',')
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'")" "public.notes"
fi
eq "foreign database: its row kept" "$(store_sql "$OTHER" "SELECT group_concat(x, ',') FROM notes")" "mine"

# A store from a newer dagdoc (the schema version: SQLite's user_version,
# PostgreSQL's dagdoc_meta).
NEWER=$(copy_store "$DB" newer)
if [ "$BACKEND" = sqlite ]; then
	store_sql "$NEWER" "PRAGMA user_version = 7"
else
	store_sql "$NEWER" "UPDATE dagdoc_meta SET value = '7' WHERE key = 'schema_version'"
fi
run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$NEWER"
expect_rc "newer store exits 2" 2
expect_err "newer store explained" "this store was written by a newer dagdoc \(schema 7\); upgrade dagdoc or use another --store"

# A huge log (120 MB, cap 1 MiB): stored capped, head and tail kept, and
# memory stays bounded (max RSS well under the log's size).
BIG="$TMP/biglogs/dag_id=big/run_id=manual__2026-03-05T00:00:00+00:00/task_id=t"
mkdir -p "$BIG"
{
	echo "[2026-03-05T00:00:00.000+0000] {taskinstance.py:1369} INFO - Starting attempt 1 of 1"
	awk 'BEGIN { for (i = 0; i < 1500000; i++) printf "[2026-03-05T00:00:01.000+0000] {noise.py:1} INFO - row %09d processed ok, nothing to see\n", i }'
	echo "ValueError: the failure at the very end"
	echo "[2026-03-05T00:09:00.000+0000] {taskinstance.py:1412} INFO - Marking task as FAILED. dag_id=big, task_id=t"
} >"$BIG/attempt=1.log"
size=$(stat -c %s "$BIG/attempt=1.log")
cat >"$TMP/big.yaml" <<YAML
sources:
  - name: big
    kind: logs
    path: $TMP/biglogs
    max_log_mb: 1
YAML
BIGSTORE=$(store big)
/usr/bin/time -f '%M' -o "$TMP/rss" "$DAGDOC" sync --config "$TMP/big.yaml" --store "$BIGSTORE" --since 3650d >"$TMP/out" 2>"$TMP/err"
rc=$?
out=$(cat "$TMP/out")
expect_rc "huge log sync exits 0" 0
check "the log is over 100 MB" test "$size" -gt 100000000
eq "huge log stored capped" "$(store_sql "$BIGSTORE" "SELECT truncated || ' ' || CAST(text_size <= 1048576 AS INTEGER) || ' ' || CAST(text_size > 1000000 AS INTEGER) FROM logs")" "1 1 1"
rss_kb=$(cat "$TMP/rss")
check "memory bounded: max RSS ${rss_kb} kB < 100000 kB for a ${size}-byte log" test "$rss_kb" -lt 100000
# The head and the failure at the end survive the cap (the stored blob is
# plain zlib: store_log decompresses it independently of dagdoc).
store_log "$BIGSTORE" "SELECT hex(data) FROM logs" >"$TMP/big.log"
tail_ok=$(/usr/bin/python3 - "$TMP/big.log" <<'PY'
import sys
text = open(sys.argv[1]).read()
print(text.startswith("[2026-03-05T00:00:00.000+0000] {taskinstance.py:1369} INFO - Starting attempt 1 of 1\n"),
      "ValueError: the failure at the very end\n" in text, "bytes omitted; the log was longer than 1048576 bytes]" in text)
PY
)
eq "huge log keeps head, marker and the failure at the end" "$tail_ok" "True True True"
eq "huge log's try inferred failed from its last line" "$(store_sql "$BIGSTORE" "SELECT state FROM tries")" "failed"

finish
