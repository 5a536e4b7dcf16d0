#!/usr/bin/env bash
# A fleet (the fake's generated world, tests/fakes/README.md): the sync asks
# for data, not for DAGs.  Its requests follow the data (pages of runs and
# task instances, the try history of tasks tried twice, one per log), a
# second sync with nothing new makes a few requests whatever the number of
# DAGs, an interrupted sync keeps what it stored and the next one does not
# start over, and several sources sync at once.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
wait_for() {   # FILE REGEX: up to 30 s
	for _ in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
q() { store_sql "$1" "$2"; }
config() {   # FILE PORT [extra yaml lines]
	local file=$1 p=$2
	shift 2
	{
		echo "sources:"
		echo "  - name: fleet"
		echo "    kind: airflow"
		echo "    url: http://127.0.0.1:$p"
		for l in "$@"; do echo "    $l"; done
	} >"$file"
}
# the fleet's runs end at the present hour, as a live deployment's do
export FAKE_FLEET_NOW=$(date -u +%Y-%m-%dT%H:00:00+00:00)

for api in v1 v2; do
	# ---- 1. a first sync: what the data needs, no request per run -----------
	start_fake fake_airflow.py "f$api" --api "$api" --world fleet:12x40x4:7
	config "$TMP/$api.yaml" "$port"
	DB=$(new_store "$api")
	run "$DAGDOC" sync --config "$TMP/$api.yaml" --store "$DB" --since 31d
	expect_rc "$api: first sync exits 0" 0
	expect_out "$api: 12 DAGs, 480 runs" '^synced 12 DAGs from fleet .*: 480 runs \(480 new\)'
	eq "$api: every task instance stored" "$(q "$DB" "SELECT count(*) FROM task_instances")" 1920
	req="$TMP/f$api.req"
	tis=$(q "$DB" "SELECT count(*) FROM task_instances")
	retried=$(q "$DB" "SELECT count(*) FROM task_instances WHERE try_number > 1")
	logs=$(q "$DB" "SELECT count(*) FROM logs")
	# pages of 100: 5 of runs, 20 of task instances
	eq "$api: run listings: pages of 100 for all DAGs at once" "$(grep -c '/dagRuns/list ' "$req")" 5
	eq "$api: task instance listings: pages of 100 across runs" "$(grep -c '/taskInstances/list ' "$req")" \
		$(( (tis + 99) / 100 ))
	eq "$api: a try history only for tasks tried more than once" "$(grep -cE '/tries[ ?]' "$req")" "$retried"
	eq "$api: one request per log" "$(grep -c '/logs/' "$req")" "$logs"
	check "$api: some task was retried (the fleet's flaky DAGs)" test "$retried" -gt 0
	eq "$api: no per-run task instance request" "$(grep -cE 'dagRuns/[^~/ ]+/taskInstances[ ?]' "$req")" 0
	if [ "$BACKEND" = postgresql ]; then
		# a report right after a first sync is planned on what the tables hold
		eq "$api: a first sync has PostgreSQL analyse what it wrote" \
			"$(q "$DB" "SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL AND relname IN ('runs', 'task_instances', 'tries', 'logs')")" 4
	fi

	# ---- 2. nothing new: a few requests, not one per DAG -----------------------
	before=$(wc -l <"$req")
	run "$DAGDOC" sync --config "$TMP/$api.yaml" --store "$DB" --since 31d
	expect_rc "$api: second sync exits 0" 0
	expect_out "$api: second sync: 480 runs, none new" '480 runs \(0 new\)'
	second=$(( $(wc -l <"$req") - before ))
	# version probes, the DAG list, health, import errors, one run listing,
	# and the runs still running at "now" (one request for all of them)
	check "$api: second sync: at most 10 requests for 12 DAGs (made $second)" test "$second" -le 10
	tail -n +"$((before + 1))" "$req" >"$TMP/second.req"
	eq "$api: second sync: no DAG definition read again" "$(grep -cE '/dags/[a-z_0-9]+(/tasks)? ' "$TMP/second.req")" 0
	eq "$api: second sync: no log" "$(grep -c '/logs/' "$TMP/second.req")" 0
	run "$DAGDOC" sync --config "$TMP/$api.yaml" --store "$DB" --since 31d
	eq "$api: a third sync: still nothing duplicated" "$(q "$DB" "SELECT count(*) FROM task_instances")" 1920
done

# ---- the same on Prefect: a flow plays the DAG, task runs of many flow runs per request
start_fake fake_prefect.py pf --mode server --world fleet:8x30x4:7
cat >"$TMP/pf.yaml" <<YAML
sources:
  - name: fleet
    kind: prefect
    url: http://127.0.0.1:$port/api
YAML
DB=$(new_store pf)
run "$DAGDOC" sync --config "$TMP/pf.yaml" --store "$DB" --since 31d
expect_rc "prefect: first sync exits 0" 0
expect_out "prefect: 8 flows, 240 runs" '^synced 8 DAGs from fleet .*: 240 runs \(240 new\)'
# (a flow run not started yet has no task runs)
check "prefect: the task runs stored, each once" test "$(q "$DB" "SELECT count(*) FROM task_instances")" -gt 900
# the 8 flows' own task lists, then pages of 200 task runs across flow runs
# (and a count when a page comes back full)
check "prefect: task runs asked for many flow runs at once ($(grep -c '/task_runs/filter ' "$TMP/pf.req") requests for 240 runs)" \
	test "$(grep -c '/task_runs/filter ' "$TMP/pf.req")" -le 14
before=$(wc -l <"$TMP/pf.req")
run "$DAGDOC" sync --config "$TMP/pf.yaml" --store "$DB" --since 31d
expect_out "prefect: second sync: 240 runs, none new" '240 runs \(0 new\)'
second=$(( $(wc -l <"$TMP/pf.req") - before ))
check "prefect: second sync: at most 10 requests for 8 flows (made $second)" test "$second" -le 10

# ---- 3. an interrupted sync keeps what it stored; the next does not start over --
start_fake fake_airflow.py int --api v1 --world fleet:6x60x4:3 --latency-ms 5
config "$TMP/int.yaml" "$port"
DB=$(new_store int)
DAGDOC_TEST_SLOW_BATCH=150 "$DAGDOC" sync --config "$TMP/int.yaml" --store "$DB" --since 31d \
	>"$TMP/int.out" 2>"$TMP/int.err" &
pid=$!
check "interrupt: the sync reaches its 150th run" wait_for "$TMP/int.err" "batch 150 open"
kill -INT "$pid"
wait "$pid"
rc=$?
eq "interrupt: exits 2" "$rc" 2
check "interrupt: says how to finish" grep -q "interrupted; run the same command again to finish" "$TMP/int.err"
kept=$(q "$DB" "SELECT count(*) FROM runs")
check "interrupt: the runs fetched before are kept ($kept)" test "$kept" -ge 149
eq "interrupt: every kept run is whole" \
	"$(q "$DB" "SELECT count(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM task_instances t WHERE t.run_ref = r.id)")" 0
before=$(wc -l <"$TMP/int.req")
run "$DAGDOC" sync --config "$TMP/int.yaml" --store "$DB" --since 31d
expect_rc "interrupt: the next sync finishes" 0
expect_out "interrupt: it adds only the runs not kept" "360 runs \\($((360 - kept)) new\\)"
tail -n +"$((before + 1))" "$TMP/int.req" >"$TMP/int2.req"
pages=$(grep -c '/taskInstances/list ' "$TMP/int2.req")
check "interrupt: the next sync asks for fewer task instance pages than a whole sync ($pages < 15)" \
	test "$pages" -lt 15
eq "interrupt: 360 runs, 1440 task instances, once each" \
	"$(q "$DB" "SELECT count(*), (SELECT count(*) FROM task_instances) FROM runs")" "360|1440"
# the logs of the runs stored before the interrupt are fetched too: as many
# as a sync that was never interrupted stores
WHOLE=$(new_store int-whole)
run "$DAGDOC" sync --config "$TMP/int.yaml" --store "$WHOLE" --since 31d
eq "interrupt: then every log a whole sync stores" "$(q "$DB" "SELECT count(*) FROM logs")" \
	"$(q "$WHOLE" "SELECT count(*) FROM logs")"

# ---- 4. several sources at once ------------------------------------------------
start_fake fake_airflow.py s1 --api v1 --world fleet:3x24x3:5
p1=$port
start_fake fake_airflow.py s2 --api v2 --world fleet:4x24x3:6
p2=$port
cat >"$TMP/two.yaml" <<YAML
sources:
  - name: one
    kind: airflow
    url: http://127.0.0.1:$p1
  - name: two
    kind: airflow
    url: http://127.0.0.1:$p2
YAML
TWO=$(new_store two)
run "$DAGDOC" sync --config "$TMP/two.yaml" --store "$TWO" --since 31d
expect_rc "two sources: sync exits 0" 0
expect_out "two sources: a line for the first" '^synced 3 DAGs from one .*: 72 runs \(72 new\)'
expect_out "two sources: a line for the second" '^synced 4 DAGs from two .*: 96 runs \(96 new\)'
eq "two sources: both in the store" \
	"$(q "$TWO" "SELECT s.name, count(*) FROM runs r JOIN dags d ON d.id = r.dag_ref JOIN sources s ON s.id = d.source_id GROUP BY s.name ORDER BY s.name" | tr '\n' ' ')" \
	"one|72 two|96 "
if command -v script >/dev/null; then
	script -qec "'$DAGDOC' sync --config '$TMP/two.yaml' --store '$(new_store two-tty)' --since 31d" /dev/null >"$TMP/tty.out" 2>&1
	tr '\r' '\n' <"$TMP/tty.out" >"$TMP/tty.lines"
	check "two sources on a terminal: a line for the first" grep -q '^sync one: 3 of 3 DAGs, 72 of 72 runs' "$TMP/tty.lines"
	check "two sources on a terminal: a line for the second" grep -q '^sync two: 4 of 4 DAGs, 96 of 96 runs' "$TMP/tty.lines"
	check "two sources on a terminal: redrawn in place (cursor up)" grep -q $'\033\\[1A' "$TMP/tty.out"
fi
finish
