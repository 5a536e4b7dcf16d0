#!/usr/bin/env bash
# dagdoc sync against the fake Prefect (self-hosted server and Cloud,
# tests/fakes): what is stored, incrementality counted in requests, a bad
# API key (exit 2, nothing written), an unknown flow, a killed sync resumed.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

WORLD="$ROOT/tests/fakes/worlds/basic.json"
PY=/usr/bin/python3
ACCOUNT=11111111-1111-4111-8111-111111111111
WORKSPACE=22222222-2222-4222-8222-222222222222
config() {   # FILE URL [extra yaml lines]
	{
		echo "sources:"
		echo "  - name: flows"
		echo "    kind: prefect"
		echo "    url: $2"
		shift 2
		for l in "$@"; do echo "    $l"; done
	} >"$TMP/$1"
}
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
counts() { store_sql "$1" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tries) || ' ' || (SELECT count(*) FROM logs)"; }
# The log of the first failed try of a task whose name starts with $2.
first_failed_log() {
	store_log "$1" "SELECT hex(l.data) FROM logs l JOIN tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref
		JOIN runs r ON r.id = ti.run_ref WHERE ti.task_id LIKE '$2%' AND t.state = 'failed'
		ORDER BY r.logical_ms, t.try_number LIMIT 1"
}
SINCE=--since=3650d

# ---- self-hosted server, no auth --------------------------------------------
start_fake fake_prefect.py server --mode server --world "$WORLD"
config server.yaml "http://127.0.0.1:$port/api"
DB=$(new_store server)
run "$DAGDOC" sync --config "$TMP/server.yaml" --store "$DB" $SINCE
expect_rc "server: sync exits 0" 0
expect_out "server: summary" '^synced 3 DAGs from flows \(prefect [0-9.]+\): 31 runs \(31 new\), 122 tries, 99 logs \([0-9.]+ kB\)$'
eq "server: no progress line off a terminal" "$errout" ""
eq "server: runs, tries, logs stored" "$(counts "$DB")" "31 122 99"
eq "server: flows stored as DAGs" "$(store_sql "$DB" "SELECT group_concat(dag_id, ',') FROM (SELECT dag_id FROM dags ORDER BY dag_id) AS x")" "etl_daily,sync_crm,train_churn"
eq "server: flow runs keep their names" "$(store_sql "$DB" "SELECT count(*) FROM runs WHERE run_name IS NOT NULL AND run_name != ''")" "31"
eq "server: run states of sync_crm" "$(store_sql "$DB" "SELECT group_concat(state, ',') FROM (SELECT r.state FROM runs r JOIN dags d ON d.id = r.dag_ref WHERE d.dag_id = 'sync_crm' ORDER BY r.logical_ms) AS x")" \
	"success,success,success,success,success,failed,failed,crashed,success,late"
check "server: the failed transform's log is stored with its failure" \
	grep -q "AttributeError: 'DataFrame' object has no attribute 'append'" <(first_failed_log "$DB" transform)
eq "server: task runs keep their Prefect ids (for their logs)" "$(store_sql "$DB" "SELECT count(*) FROM task_instances WHERE external_id IS NULL")" "0"

before=$(wc -l <"$TMP/server.req")
run "$DAGDOC" sync --config "$TMP/server.yaml" --store "$DB" $SINCE
expect_rc "server: second sync exits 0" 0
expect_out "server: second sync summary" '31 runs \(0 new\), 2 tries, 0 logs \(0 bytes\)$'
tail -n +"$((before + 1))" "$TMP/server.req" >"$TMP/server.req2"
eq "server: second sync fetches no log" "$(grep -c '/logs/filter' "$TMP/server.req2")" "0"
# task_runs/filter serves both the flow's task list (read when a flow is new
# or has new runs) and the task runs of many flow runs at once: the first
# time the 3 flows' + one for all 31 runs; the second, one for the 2
# unfinished runs (their flows' definitions are younger than an hour).
eq "server: first sync asked for the task runs of every run at once" "$(head -n "$before" "$TMP/server.req" | grep -c 'task_runs/filter')" "4"
eq "server: second sync asks for the task runs of the 2 unfinished runs only" \
	"$(grep -c 'task_runs/filter' "$TMP/server.req2")" "1"
eq "server: nothing duplicated" "$(counts "$DB")" "31 122 99"

run "$DAGDOC" sync --config "$TMP/server.yaml" --store "$DB" $SINCE etl_dialy
expect_rc "server: unknown flow exits 2" 2
expect_err "server: unknown flow named" "^dagdoc sync: .*etl_dialy"
eq "server: unknown flow not stored" "$(store_sql "$DB" "SELECT count(*) FROM dags WHERE dag_id = 'etl_dialy'")" "0"

# ---- a killed sync, resumed ---------------------------------------------------
DB=$(new_store killed)
DAGDOC_TEST_SLOW_BATCH=4 "$DAGDOC" sync --config "$TMP/server.yaml" --store "$DB" $SINCE >"$TMP/k.out" 2>"$TMP/k.err" &
kpid=$!
for _ in $(seq 300); do grep -q "batch 4 open" "$TMP/k.err" && break; sleep 0.1; done
check "killed: writer reached batch 4" grep -q "batch 4 open" "$TMP/k.err"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
# the file's own check: SQLite only
[ "$BACKEND" = sqlite ] && eq "killed: integrity_check" "$(store_sql "$DB" "PRAGMA integrity_check")" "ok"
eq "killed: only the 3 committed runs" "$(store_sql "$DB" "SELECT count(*) FROM runs")" "3"
run "$DAGDOC" sync --config "$TMP/server.yaml" --store "$DB" $SINCE
expect_rc "killed: resumed sync exits 0" 0
eq "killed: same content as an uninterrupted sync" "$(counts "$DB")" "31 122 99"

# ---- Prefect Cloud, API key ---------------------------------------------------
export PF_KEY=pnu_e2eKey0123456789abcdef
start_fake fake_prefect.py cloud --mode cloud --world "$WORLD" --api-key "$PF_KEY"
CLOUD_URL="http://127.0.0.1:$port/api/accounts/$ACCOUNT/workspaces/$WORKSPACE"
config cloud.yaml "$CLOUD_URL" "api_key_env: PF_KEY"
DB=$(new_store cloud)
run "$DAGDOC" sync --config "$TMP/cloud.yaml" --store "$DB" $SINCE
expect_rc "cloud: sync exits 0" 0
eq "cloud: runs, tries, logs stored" "$(counts "$DB")" "31 122 99"
check "cloud: the key never reaches the store" store_lacks "$DB" "$PF_KEY"

BAD=$(new_store bad)
PF_KEY=pnu_wrong run "$DAGDOC" sync --config "$TMP/cloud.yaml" --store "$BAD" $SINCE
expect_rc "cloud: wrong key exits 2" 2
expect_err "cloud: wrong key explained" "^dagdoc sync: .*(401|[Uu]nauthori[sz]ed|key)"
expect_no "cloud: wrong key not echoed" "pnu_wrong"
eq "cloud: wrong key: nothing stored" "$(counts "$BAD")" "0 0 0"

finish
