#!/usr/bin/env bash
# Several dagdoc processes at once on one PostgreSQL store: a sync of the
# fake Airflow (v1) and a sync of the fake Prefect, each paused (SIGSTOP)
# mid-sync, holding its source's lock and an open batch; meanwhile a second
# sync of the Airflow source must refuse ("another dagdoc is syncing
# source"); then both resume while a report and a triage read the store;
# at the end two on-call triages of one DAG run at the same time.
# Afterwards every row is checked: each table's natural keys (and states)
# equal those of the same two syncs run one after the other into a fresh
# SQLite store, that reference holds what the fakes serve, and no natural
# key is stored twice.  The pauses come from signals and the sync's own
# "batch N open" line, not from sleeps.
# PostgreSQL only: SQLite has one writer at a time by construction.
# ROUNDS=N repeats the whole exercise N times (default 1).
# backends: postgresql
DAGDOC_TEST_BACKEND=postgresql   # its stores are PostgreSQL ones, run by hand too
. "$(dirname "$0")/lib.sh"

WORLD="$ROOT/tests/fakes/worlds/basic.json"
PY=/usr/bin/python3
SINCE=--since=3650d
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}

# Each request of the fakes takes 50 ms, so a sync lasts long enough to be
# caught between its "batch 3 open" line and its end (checked, not assumed).
export AF_TOKEN=cc-t0ken-5150
start_fake fake_airflow.py af --api v1 --world "$WORLD" --token "$AF_TOKEN" --latency-ms 50
af_port=$port
start_fake fake_prefect.py pf --mode server --world "$WORLD" --latency-ms 50
pf_port=$port
if [ -z "$af_port" ] || [ -z "$pf_port" ]; then
	_fail "the fakes started" "$(cat "$TMP/af.err" "$TMP/pf.err")"
	finish
fi
cat >"$TMP/config.yaml" <<EOF
sources:
  - name: air
    kind: airflow
    url: http://127.0.0.1:$af_port
    token_env: AF_TOKEN
  - name: flows
    kind: prefect
    url: http://127.0.0.1:$pf_port/api
EOF
C=(--config "$TMP/config.yaml")
# the reference reads the same world from fakes without the latency
start_fake fake_airflow.py af_ref --api v1 --world "$WORLD" --token "$AF_TOKEN"
sed "s/:$af_port\$/:$port/" "$TMP/config.yaml" >"$TMP/ref.yaml"
start_fake fake_prefect.py pf_ref --mode server --world "$WORLD"
sed -i "s/:$pf_port\/api/:$port\/api/" "$TMP/ref.yaml"

# The rows by natural key, one table after another, sorted: what must be
# the same whichever way the syncs ran.
KEY="s.name || '|' || d.dag_id"
RUN="$KEY || '|' || r.run_id"
TI="$RUN || '|' || ti.task_id || '|' || ti.map_index"
TRY="$TI || '|' || t.try_number"
FROM_D="dags d JOIN sources s ON s.id = d.source_id"
J_D="JOIN dags d ON d.id = r.dag_ref JOIN sources s ON s.id = d.source_id"
FROM_R="runs r $J_D"
FROM_TI="task_instances ti JOIN runs r ON r.id = ti.run_ref $J_D"
FROM_T2="tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref $J_D"
FROM_T="tries t JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref $J_D"
dump() {   # STORE FILE: every table's natural keys and what was stored under them
	local q
	: >"$2.tmp"
	for q in "'source|' || name || '|' || kind FROM sources" \
		"'dag|' || $KEY || '|' || d.is_paused FROM $FROM_D" \
		"'task|' || $KEY || '|' || k.task_id FROM tasks k JOIN dags d ON d.id = k.dag_ref JOIN sources s ON s.id = d.source_id" \
		"'dep|' || $KEY || '|' || p.upstream || '>' || p.downstream FROM task_deps p JOIN dags d ON d.id = p.dag_ref JOIN sources s ON s.id = d.source_id" \
		"'run|' || $RUN || '|' || r.state || '|' || r.logical_ms FROM $FROM_R" \
		"'ti|' || $TI || '|' || ti.state || '|' || ti.try_number FROM $FROM_TI" \
		"'try|' || $TRY || '|' || t.state FROM $FROM_T" \
		"'log|' || $TRY || '|' || l.text_size || '|' || l.truncated || '|' || l.missing || '|' || hex(l.data)
			FROM logs l JOIN $FROM_T2" \
		"'import_error|' || s.name || '|' || e.filename FROM import_errors e JOIN sources s ON s.id = e.source_id"; do
		store_sql "$1" "SELECT $q" >>"$2.tmp" || return 1
	done
	LC_ALL=C sort "$2.tmp" >"$2"
}
same_rows() {   # STORE FILE: STORE's dump (into FILE) is the reference's; else the lines that differ
	dump "$1" "$2" || return 1
	diff "$TMP/ref.dump" "$2" >"$2.diff" && return 0
	cut -c1-160 "$2.diff"   # a log's data is long
	return 1
}
per_dag() {   # STORE: runs, task instances, tries, logs per DAG
	store_sql "$1" "SELECT $KEY,
		(SELECT count(*) FROM runs r WHERE r.dag_ref = d.id),
		(SELECT count(*) FROM task_instances ti JOIN runs r ON r.id = ti.run_ref WHERE r.dag_ref = d.id),
		(SELECT count(*) FROM tries t JOIN task_instances ti ON ti.id = t.ti_ref JOIN runs r ON r.id = ti.run_ref WHERE r.dag_ref = d.id),
		(SELECT count(*) FROM logs l JOIN tries t ON t.id = l.try_ref JOIN task_instances ti ON ti.id = t.ti_ref
			JOIN runs r ON r.id = ti.run_ref WHERE r.dag_ref = d.id)
		FROM $FROM_D" | LC_ALL=C sort
}
twice() {   # STORE: natural keys stored more than once, in any table
	store_sql "$1" "SELECT 'dag ' || $KEY FROM $FROM_D GROUP BY s.name, d.dag_id HAVING count(*) > 1"
	store_sql "$1" "SELECT 'run ' || $RUN FROM $FROM_R GROUP BY s.name, d.dag_id, r.run_id HAVING count(*) > 1"
	store_sql "$1" "SELECT 'ti ' || $TI FROM $FROM_TI GROUP BY s.name, d.dag_id, r.run_id, ti.task_id, ti.map_index HAVING count(*) > 1"
	store_sql "$1" "SELECT 'try ' || $TRY FROM $FROM_T GROUP BY s.name, d.dag_id, r.run_id, ti.task_id, ti.map_index, t.try_number HAVING count(*) > 1"
	store_sql "$1" "SELECT 'log ' || $TRY FROM logs l JOIN $FROM_T2
		GROUP BY s.name, d.dag_id, r.run_id, ti.task_id, ti.map_index, t.try_number HAVING count(*) > 1"
	store_sql "$1" "SELECT 'task ' || $KEY || ' ' || k.task_id FROM tasks k JOIN dags d ON d.id = k.dag_ref JOIN sources s ON s.id = d.source_id
		GROUP BY s.name, d.dag_id, k.task_id HAVING count(*) > 1"
}

# The reference: the same syncs, one after the other, into a SQLite file.
REF="$TMP/ref.db"
run "$DAGDOC" sync --config "$TMP/ref.yaml" --store "$REF" --source air $SINCE
expect_rc "reference: the Airflow sync alone exits 0" 0
run "$DAGDOC" sync --config "$TMP/ref.yaml" --store "$REF" --source flows $SINCE
expect_rc "reference: the Prefect sync alone exits 0" 0
check "reference: every table read" dump "$REF" "$TMP/ref.dump"
eq "reference: runs in the dump" "$(grep -c '^run|' "$TMP/ref.dump")" 62
# what the fakes serve (tests/fakes/worlds/basic.json, as sync_airflow.sh and sync_prefect.sh count it)
eq "reference: each source's runs, tries and logs as the fakes serve them" \
	"$(store_sql "$REF" "SELECT s.name, count(DISTINCT r.id), count(DISTINCT t.id), count(DISTINCT l.try_ref)
		FROM sources s JOIN dags d ON d.source_id = s.id LEFT JOIN runs r ON r.dag_ref = d.id
		LEFT JOIN task_instances ti ON ti.run_ref = r.id LEFT JOIN tries t ON t.ti_ref = ti.id
		LEFT JOIN logs l ON l.try_ref = t.id GROUP BY s.name ORDER BY s.name")" \
	$'air|31|122|99\nflows|31|122|99'
per_dag "$REF" >"$TMP/ref.per_dag"

# wait_line FILE REGEX PID: until FILE has a line matching REGEX (or PID ended)
wait_line() {
	for _ in $(seq 1200); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -qE "$2" "$1" 2>/dev/null; return; }
		sleep 0.05
	done
	return 1
}
# midway NAME PID ERR: PID printed "batch 3 open" and is stopped before it
# finished (so it holds its source's lock and an open batch)
midway() {
	local name=$1 pid=$2 err=$3
	if wait_line "$err" 'batch 3 open' "$pid" && kill -STOP "$pid" 2>/dev/null &&
		! grep -q '^synced ' "$TMP/$name.out"; then
		_pass "round $round: the $name sync is paused mid-sync"
		return 0
	fi
	_fail "round $round: the $name sync is paused mid-sync" "stderr: $(tail -5 "$err")" "stdout: $(cat "$TMP/$name.out")"
	return 1
}

for round in $(seq "${ROUNDS:-1}"); do
	S=$(new_store "shared$round")
	[ -n "$S" ] || { _fail "round $round: a database for the store" "pg.sh createdb failed"; break; }
	rm -f "$TMP"/*.out "$TMP"/*.err2

	# two syncs of different sources, each paused once it is writing
	DAGDOC_TEST_SLOW_BATCH=999999 "$DAGDOC" sync "${C[@]}" --store "$S" --source air $SINCE \
		>"$TMP/air.out" 2>"$TMP/air.err2" &
	air_pid=$!
	midway air "$air_pid" "$TMP/air.err2" || { kill -CONT "$air_pid"; wait "$air_pid"; break; }
	DAGDOC_TEST_SLOW_BATCH=999999 "$DAGDOC" sync "${C[@]}" --store "$S" --source flows $SINCE \
		>"$TMP/flows.out" 2>"$TMP/flows.err2" &
	flows_pid=$!
	if ! midway flows "$flows_pid" "$TMP/flows.err2"; then
		kill -CONT "$air_pid" "$flows_pid"
		wait "$air_pid" "$flows_pid"
		break
	fi

	# the Airflow source is locked: a second sync of it refuses at once
	# (timeout: waiting for the paused one would hang)
	run timeout 60 "$DAGDOC" sync "${C[@]}" --store "$S" --source air $SINCE
	check "round $round: a second sync of the same source fails (exit $rc)" test "$rc" != 0 -a "$rc" != 124
	expect_err "round $round: ... saying another dagdoc is syncing it" 'another dagdoc is syncing source'

	# a DAG with committed runs, for the triage
	dag=$(store_sql "$S" "SELECT d.dag_id FROM dags d JOIN sources s ON s.id = d.source_id
		WHERE s.name = 'air' AND EXISTS (SELECT 1 FROM runs r WHERE r.dag_ref = d.id) ORDER BY d.dag_id LIMIT 1")
	check "round $round: the paused Airflow sync committed its first runs" test -n "$dag"

	# both resume; a report and a triage read while they write
	kill -CONT "$air_pid" "$flows_pid"
	"$DAGDOC" report "${C[@]}" --store "$S" --since 3650d --history 3650d --offline --format json \
		>"$TMP/report.out" 2>"$TMP/report.err2" &
	report_pid=$!
	"$DAGDOC" triage "${dag:-etl_daily}" "${C[@]}" --store "$S" --source air --since 3650d --offline --format json \
		>"$TMP/triage.out" 2>"$TMP/triage.err2" &
	triage_pid=$!

	wait "$air_pid"
	air_rc=$?
	wait "$flows_pid"
	flows_rc=$?
	wait "$report_pid"
	report_rc=$?
	wait "$triage_pid"
	triage_rc=$?
	rc=$air_rc out=$(cat "$TMP/air.out") errout=$(cat "$TMP/air.err2")
	expect_rc "round $round: the Airflow sync exits 0" 0
	expect_out "round $round: ... and stored all of its source" '^synced 3 DAGs from air .*: 31 runs \(31 new\), 122 tries, 99 logs'
	rc=$flows_rc out=$(cat "$TMP/flows.out") errout=$(cat "$TMP/flows.err2")
	expect_rc "round $round: the Prefect sync exits 0" 0
	expect_out "round $round: ... and stored all of its source" '^synced 3 DAGs from flows .*: 31 runs \(31 new\), 122 tries, 99 logs'
	# 0 or 1: what it read may or may not hold a failing DAG yet; 2 would be an error
	rc=$report_rc out=$(cat "$TMP/report.out") errout=$(cat "$TMP/report.err2")
	if [ "$rc" -le 1 ]; then _pass "round $round: the report during the syncs exits 0 or 1 (no error)"; else
		_fail "round $round: the report during the syncs exits 0 or 1 (no error)" "exit $rc" "stderr: ${errout:0:600}"; fi
	check "round $round: ... and its JSON is whole" "$PY" "$ROOT/tests/lib/check_json.py" report "$TMP/report.out"
	rc=$triage_rc out=$(cat "$TMP/triage.out") errout=$(cat "$TMP/triage.err2")
	if [ "$rc" -le 1 ]; then _pass "round $round: the triage during the syncs exits 0 or 1 (no error)"; else
		_fail "round $round: the triage during the syncs exits 0 or 1 (no error)" "exit $rc" "stderr: ${errout:0:600}"; fi
	check "round $round: ... and its JSON is whole" "$PY" "$ROOT/tests/lib/check_json.py" triage "$TMP/triage.out"

	# every row
	check "round $round: the store holds what the two syncs one after the other stored ($(wc -l <"$TMP/ref.dump") rows)" \
		same_rows "$S" "$TMP/pg.dump"
	check "round $round: runs, task instances, tries and logs per DAG as in the reference" \
		diff "$TMP/ref.per_dag" <(per_dag "$S")
	twice "$S" >"$TMP/twice" 2>&1
	check "round $round: no natural key stored twice (and the queries ran)" \
		sh -c "! test -s '$TMP/twice'"

	# two on-call engineers triage the same failing DAG at once, both
	# classifying afresh: the same diagnosis, one cached classification per try
	store_sql "$S" "DELETE FROM classifications"
	for i in 1 2; do
		"$DAGDOC" triage etl_daily "${C[@]}" --store "$S" --source air --since 3650d --offline --format json \
			>"$TMP/oncall$i.out" 2>"$TMP/oncall$i.err" &
		oncall_pid[i]=$!
	done
	for i in 1 2; do
		wait "${oncall_pid[i]}"
		rc=$? out=$(cat "$TMP/oncall$i.out") errout=$(cat "$TMP/oncall$i.err")
		expect_rc "round $round: on-call triage $i at the same time: a failing DAG (exit 1)" 1
	done
	causes() { "$PY" -c 'import json, sys; print(json.dumps([[c["category"], c.get("pattern"), c.get("fingerprint")] for c in json.load(open(sys.argv[1]))["causes"]]))' "$1"; }
	eq "round $round: ... both name the same causes" "$(causes "$TMP/oncall1.out")" "$(causes "$TMP/oncall2.out")"
	check "round $round: ... the first cause is pandas' removed method" grep -q '"dep.pandas-removed-method"' "$TMP/oncall1.out"
	# (the cache's key makes a second row impossible: a race would be an error)
	check "round $round: ... neither reports an error" sh -c "! grep -q . '$TMP/oncall1.err' '$TMP/oncall2.err'"
	check "round $round: ... and classified (the cache was filled again)" \
		test "$(store_sql "$S" "SELECT count(*) FROM classifications")" -gt 0
done
finish
