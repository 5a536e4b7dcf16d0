#!/usr/bin/env bash
# dagdoc sync against the fake Airflow (API v1 and v2, tests/fakes): what is
# stored, incrementality counted in requests, a permanent error mid-sync
# (exit 2, nothing half-written, resumed), a killed sync resumed, and a huge
# log capped with memory bounded.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

WORLD="$ROOT/tests/fakes/worlds/basic.json"
PY=/usr/bin/python3
config() {   # FILE PORT [extra yaml lines]
	{
		echo "sources:"
		echo "  - name: prod"
		echo "    kind: airflow"
		echo "    url: http://127.0.0.1:$2"
		shift 2
		for l in "$@"; do echo "    $l"; done
	} >"$TMP/$1"
}
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
# getlog STORE DAG RUN TASK TRY: the stored log text.
getlog() {
	store_log "$1" "SELECT hex(l.data) FROM logs l JOIN tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref
		JOIN runs r ON r.id = ti.run_ref JOIN dags d ON d.id = r.dag_ref
		WHERE d.dag_id = '$2' AND r.run_id = '$3' AND ti.task_id = '$4' AND t.try_number = $5"
}
counts() { store_sql "$1" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tries) || ' ' || (SELECT count(*) FROM logs)"; }

export AF_TOKEN=t0ken-e2e-9f8e7d AF_PASSWORD=pa55-e2e-4c3b
SINCE=--since=3650d

# ---- API v1 (Airflow 2.x), bearer token -----------------------------------
start_fake fake_airflow.py v1 --api v1 --world "$WORLD" --token "$AF_TOKEN"
config v1.yaml "$port" "token_env: AF_TOKEN"
DB=$(new_store v1)
run "$DAGDOC" sync --config "$TMP/v1.yaml" --store "$DB" $SINCE
expect_rc "v1: sync exits 0" 0
expect_out "v1: summary" '^synced 3 DAGs from prod \(airflow 2\.10\.5 \(api v1\)\): 31 runs \(31 new\), 122 tries, 99 logs \([0-9.]+ kB\)$'
eq "v1: no progress line off a terminal" "$errout" ""
# On a terminal (script(1) gives one): DAGs done of all, runs fetched of
# those to fetch, logs, bytes received, retries
script -qec "'$DAGDOC' sync --config '$TMP/v1.yaml' --store '$(new_store v1-tty)' $SINCE" /dev/null >"$TMP/tty.out" 2>&1
tr '\r' '\n' <"$TMP/tty.out" >"$TMP/tty.lines"
check "v1 on a terminal: the progress counts DAGs and runs N of M" \
	grep -qE '^sync prod: [0-3] of 3 DAGs, [0-9]+ of 31 runs, [0-9]+ logs?, [0-9.]+ [kM]?B, [0-9]+ retr' "$TMP/tty.lines"
check "v1 on a terminal: the last line has every DAG and run" \
	grep -qE '^sync prod: 3 of 3 DAGs, 31 of 31 runs, 99 logs, ' "$TMP/tty.lines"
check "v1 on a terminal: the progress line is cleared, then the summary" grep -qE $'^\e\\[Ksynced 3 DAGs from prod' "$TMP/tty.lines"
eq "v1: runs, tries, logs stored" "$(counts "$DB")" "31 122 99"
eq "v1: run states of etl_daily" "$(store_sql "$DB" "SELECT group_concat(state, ',') FROM (SELECT r.state FROM runs r JOIN dags d ON d.id = r.dag_ref WHERE d.dag_id = 'etl_daily' ORDER BY r.logical_ms) AS x")" \
	"success,success,success,success,failed,failed,failed,failed,failed,running"
eq "v1: retries of transform on 03-05" "$(store_sql "$DB" "SELECT group_concat(t.try_number || ':' || t.state, ',') FROM tries t JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref WHERE r.run_id = 'scheduled__2026-03-05T02:00:00+00:00' AND ti.task_id = 'transform'")" \
	"1:up_for_retry,2:failed"
check "v1: the failed try's log is stored and ends with its failure" \
	grep -q "AttributeError: 'DataFrame' object has no attribute 'append'" <(getlog "$DB" etl_daily scheduled__2026-03-05T02:00:00+00:00 transform 2)
check "v1: baseline: transform's last success (03-04) is stored" \
	grep -q "Marking task as SUCCESS" <(getlog "$DB" etl_daily scheduled__2026-03-04T02:00:00+00:00 transform 1)
# successful tries: those of each task's newest 10 runs (success_logs' default; of a mapped task
# the lowest map index) for quiet failures, and baselines (score_segments': map index 2)
eq "v1: successful tries' logs: of at most 10 runs per task" "$(store_sql "$DB" "SELECT count(*) || ' ' || max(n) || ' ' || sum(k) FROM (SELECT count(DISTINCT r.id) AS n, count(*) AS k FROM logs l JOIN tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref WHERE t.state = 'success' GROUP BY r.dag_ref, ti.task_id) AS x")" "11 10 82"
eq "v1: DAG dependencies" "$(store_sql "$DB" "SELECT group_concat(upstream || '>' || downstream, ',') FROM (SELECT upstream, downstream FROM task_deps p JOIN dags d ON d.id = p.dag_ref WHERE d.dag_id = 'etl_daily' ORDER BY 1) AS x")" \
	"extract>transform,load>notify,transform>load,wait_for_raw_events>extract"
eq "v1: import errors" "$(store_sql "$DB" "SELECT filename FROM import_errors")" "/opt/airflow/dags/quality/check_orders.py"
eq "v1: health snapshot" "$(store_sql "$DB" "SELECT scheduler_status || ' ' || metadatabase_status FROM health_snapshots")" "healthy healthy"
check "v1: the token never reaches the store" store_lacks "$DB" "$AF_TOKEN"

# Second sync: only the unfinished runs are asked for their task instances
# (both in one request), and no log at all.
before=$(wc -l <"$TMP/v1.req")
run "$DAGDOC" sync -v --config "$TMP/v1.yaml" --store "$DB" $SINCE
expect_rc "v1: second sync exits 0" 0
expect_out "v1: second sync summary" '^synced 3 DAGs from prod .*: 31 runs \(0 new\), 2 tries, 0 logs \(0 bytes\)$'
tail -n +"$((before + 1))" "$TMP/v1.req" >"$TMP/v1.req2"
eq "v1: second sync asks for the task instances of the 2 unfinished runs in one request" \
	"$(grep -c '/taskInstances' "$TMP/v1.req2") $(grep -c '/dags/~/dagRuns/~/taskInstances/list ' "$TMP/v1.req2")" "1 1"
eq "v1: second sync fetches no log" "$(grep -c '/logs/' "$TMP/v1.req2")" "0"
# the runs of all DAGs in one listing, from each DAG's cursor: its answer is
# a fraction of the whole window's (what a sync into an empty store gets)
listed_bytes() { sed -n 's#.*POST [^ ]*/dags/~/dagRuns/list -> 200 (\([0-9]*\) bytes.*#\1#p' "$1" | awk '{s += $1} END {print s + 0}'; }
cp "$TMP/err" "$TMP/second.err"
eq "v1: second sync: one run listing for the 3 DAGs" "$(grep -c 'dagRuns/list' "$TMP/v1.req2")" "1"
eq "v1: nothing duplicated" "$(counts "$DB")" "31 122 99"
# The logs of successful tries (quiet failures) cost the first sync their
# requests, and a second sync nothing: as many requests as with success_logs: 0.
config off.yaml "$port" "token_env: AF_TOKEN" "success_logs: 0"
before=$(wc -l <"$TMP/v1.req")
OFF=$(new_store off)
run "$DAGDOC" sync --config "$TMP/off.yaml" --store "$OFF" $SINCE
first_off=$(($(wc -l <"$TMP/v1.req") - before))
before=$(wc -l <"$TMP/v1.req")
run "$DAGDOC" sync --config "$TMP/off.yaml" --store "$OFF" $SINCE
second_off=$(($(wc -l <"$TMP/v1.req") - before))
first_on=$(head -n "$(($(wc -l <"$TMP/v1.req") - first_off - second_off))" "$TMP/v1.req" | wc -l)
eq "v1: a second sync makes as many requests with success logs as without" "$(wc -l <"$TMP/v1.req2")" "$second_off"
echo "    (requests: first sync $((first_on - $(wc -l <"$TMP/v1.req2"))) with success logs, $first_off without; second sync $(wc -l <"$TMP/v1.req2") and $second_off)"
run "$DAGDOC" sync -v --config "$TMP/v1.yaml" --store "$(new_store whole)" $SINCE
check "v1: second sync lists runs from the cursor, not the whole window ($(listed_bytes "$TMP/second.err") of $(listed_bytes "$TMP/err") bytes)" \
	test "$(( $(listed_bytes "$TMP/second.err") * 3 ))" -lt "$(listed_bytes "$TMP/err")"

# Unknown DAG: the connector's sentence, exit 2, nothing written.
run "$DAGDOC" sync --config "$TMP/v1.yaml" --store "$DB" $SINCE etl_dialy
expect_rc "v1: unknown DAG exits 2" 2
expect_err "v1: unknown DAG named" "^dagdoc sync: .*etl_dialy"
eq "v1: unknown DAG not stored" "$(store_sql "$DB" "SELECT count(*) FROM dags WHERE dag_id = 'etl_dialy'")" "0"

# Wrong token: permanent, exit 2, nothing written to a fresh store.
BAD=$(new_store bad)
AF_TOKEN=wrong run "$DAGDOC" sync --config "$TMP/v1.yaml" --store "$BAD" $SINCE
expect_rc "v1: wrong token exits 2" 2
expect_err "v1: wrong token explained" "^dagdoc sync: .*(401|[Uu]nauthori[sz]ed|token)"
expect_no "v1: wrong token not echoed" "wrong"
eq "v1: wrong token: nothing stored" "$(counts "$BAD")" "0 0 0"

# ---- an answer not in the API in the middle of a sync ----------------------
# The request for the runs' task instances comes back broken: those runs are
# left out (nothing of them stored), the DAG is stored, exit 3; the next sync
# fetches them.  (Task instances of many runs come in one request: here all
# 10 runs of etl_daily.)
cat >"$TMP/faults.json" <<'JSON'
[{"path": "/taskInstances/list$", "kind": "malformed", "times": 1}]
JSON
start_fake fake_airflow.py mid --api v1 --world "$WORLD" --token "$AF_TOKEN" --faults "$TMP/faults.json"
config mid.yaml "$port" "token_env: AF_TOKEN"
DB=$(new_store mid)
run "$DAGDOC" sync --config "$TMP/mid.yaml" --store "$DB" $SINCE etl_daily
expect_rc "mid-sync protocol error: a partial sync, exit 3" 3
expect_err "mid-sync protocol error: the connector's sentence" "^dagdoc sync: the store is incomplete: 10 runs were left out \(first: Airflow at .* (not JSON|malformed|protocol)"
eq "mid-sync error: those runs absent, the DAG stored" "$(store_sql "$DB" "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM dags), (SELECT count(*) FROM tasks)")" "0|1|5"
eq "mid-sync error: no orphan task instance" "$(store_sql "$DB" "SELECT count(*) FROM task_instances WHERE run_ref NOT IN (SELECT id FROM runs)")" "0"
# the file's own check: SQLite only
[ "$BACKEND" = sqlite ] && eq "mid-sync error: integrity" "$(store_sql "$DB" "PRAGMA integrity_check")" "ok"
run "$DAGDOC" sync --config "$TMP/mid.yaml" --store "$DB" $SINCE etl_daily
expect_rc "after the error, the next sync completes" 0
expect_out "the next sync stores the rest" '10 runs \(10 new\)'

# ---- a killed sync, resumed -----------------------------------------------
DB=$(new_store killed)
DAGDOC_TEST_SLOW_BATCH=7 "$DAGDOC" sync --config "$TMP/v1.yaml" --store "$DB" $SINCE >"$TMP/k.out" 2>"$TMP/k.err" &
kpid=$!
for _ in $(seq 300); do grep -q "batch 7 open" "$TMP/k.err" && break; sleep 0.1; done
check "killed: writer reached batch 7" grep -q "batch 7 open" "$TMP/k.err"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
[ "$BACKEND" = sqlite ] && eq "killed: integrity_check" "$(store_sql "$DB" "PRAGMA integrity_check")" "ok"
eq "killed: only the 6 committed runs" "$(store_sql "$DB" "SELECT count(*) FROM runs")" "6"
run "$DAGDOC" sync --config "$TMP/v1.yaml" --store "$DB" $SINCE
expect_rc "killed: resumed sync exits 0" 0
expect_out "killed: resumed sync stores the rest" '31 runs \(25 new\)'
eq "killed: same content as an uninterrupted sync" "$(counts "$DB")" "31 122 99"

# ---- API v2 (Airflow 3.x), username/password -> JWT ------------------------
start_fake fake_airflow.py v2 --api v2 --world "$WORLD" --user admin --password "$AF_PASSWORD"
config v2.yaml "$port" "username: admin" "password_env: AF_PASSWORD"
DB=$(new_store v2)
run "$DAGDOC" sync --config "$TMP/v2.yaml" --store "$DB" $SINCE
expect_rc "v2: sync exits 0" 0
expect_out "v2: summary" '^synced 3 DAGs from prod \(airflow [0-9.]+ \(api v2\)\): 31 runs \(31 new\), 122 tries, 99 logs'
eq "v2: runs, tries, logs stored" "$(counts "$DB")" "31 122 99"
check "v2: the failed try's log is stored" \
	grep -q "AttributeError: 'DataFrame' object has no attribute 'append'" <(getlog "$DB" etl_daily scheduled__2026-03-05T02:00:00+00:00 transform 2)
run "$DAGDOC" sync --config "$TMP/v2.yaml" --store "$DB" $SINCE
expect_out "v2: second sync fetches nothing finished" '31 runs \(0 new\), 2 tries, 0 logs'

# ---- a huge log: capped, memory bounded ------------------------------------
"$PY" - "$WORLD" "$TMP/huge.json" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
for r in w["runs"]:
    if r["dag_id"] == "etl_daily" and r["run_id"] == "scheduled__2026-03-05T02:00:00+00:00":
        for ti in r["task_instances"]:
            if ti["task_id"] == "transform":
                ti["tries"][1]["log_generate_mb"] = 120
json.dump(w, open(sys.argv[2], "w"))
PY
start_fake fake_airflow.py huge --api v1 --world "$TMP/huge.json" --token "$AF_TOKEN"
config huge.yaml "$port" "token_env: AF_TOKEN" "max_log_mb: 1"
DB=$(new_store huge)
/usr/bin/time -f '%M' -o "$TMP/rss" "$DAGDOC" sync --config "$TMP/huge.yaml" --store "$DB" $SINCE etl_daily >"$TMP/out" 2>"$TMP/err"
rc=$?
out=$(cat "$TMP/out") errout=$(cat "$TMP/err")
expect_rc "huge: sync exits 0" 0
eq "huge: the 120 MB log is stored capped at 1 MiB" "$(store_sql "$DB" "SELECT CAST(l.truncated AS integer) || ' ' || CASE WHEN l.text_size <= 1048576 THEN 1 ELSE 0 END || ' ' || CASE WHEN l.text_size > 900000 THEN 1 ELSE 0 END FROM logs l JOIN tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref WHERE r.run_id = 'scheduled__2026-03-05T02:00:00+00:00' AND ti.task_id = 'transform' AND t.try_number = 2")" "1 1 1"
check "huge: the failure at the end survives the cap" \
	grep -q "AttributeError: 'DataFrame' object has no attribute 'append'" <(getlog "$DB" etl_daily scheduled__2026-03-05T02:00:00+00:00 transform 2)
rss=$(cat "$TMP/rss")
check "huge: memory bounded (max RSS $rss kB < 100000 kB for a 120 MB log)" test "$rss" -lt 100000

finish
