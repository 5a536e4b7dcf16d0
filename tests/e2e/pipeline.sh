#!/usr/bin/env bash
# One pipeline (session.h): triage, runbook and report give the same causes
# for the same DAG and store, and the link into the orchestrator's UI comes
# from what the sync stored, so it is the same online, --offline, and
# --offline with the server gone; on Airflow 2 (API v1, grid links) and
# Airflow 3 (API v2, run links).
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
# The causes of a triage JSON on stdin: rank, kind, confidence, fingerprint, summary.
causes() { "$PY" -c 'import json,sys
t=json.load(sys.stdin)
for k in ("dags",):
    if k in t: t=[d for d in t["dags"] if d["dag_id"]==sys.argv[1]][0]["triage"]
for c in t["causes"]: print(c["rank"], c["kind"], c["confidence"], c["fingerprint"], c["summary"])' "$1"; }
field() { "$PY" -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"; }

for api in v1 v2; do
	if [ $api = v1 ]; then
		start_fake fake_airflow.py "af$api" --api v1 --world "$ROOT/tests/fakes/worlds/basic.json" --token pl-t0ken-7
		auth='    token_env: AF_TOKEN'
		want_link="http://127\\.0\\.0\\.1:$port/dags/etl_daily/grid\\?dag_run_id=scheduled__"
	else
		start_fake fake_airflow.py "af$api" --api v2 --world "$ROOT/tests/fakes/worlds/basic.json" \
			--user admin --password pl-Pass-7
		auth=$'    username: admin\n    password_env: AF_PASSWORD'
		want_link="http://127\\.0\\.0\\.1:$port/dags/etl_daily/runs/scheduled__[^/]+/tasks/"
	fi
	[ -n "$port" ] || { _fail "$api: the fake started" "$(cat "$TMP/af$api.err")"; continue; }
	pid=${_fake_pids[${#_fake_pids[@]}-1]}
	cfg=$TMP/$api.yaml
	printf 'sources:\n  - name: prod\n    kind: airflow\n    url: http://127.0.0.1:%s\n%s\n' "$port" "$auth" >"$cfg"
	export AF_TOKEN=pl-t0ken-7 AF_PASSWORD=pl-Pass-7
	D=("$DAGDOC" --config "$cfg" --store "$(store $api)")

	run "$DAGDOC" triage --config "$cfg" --store "$(store $api)" --since 3650d --format json etl_daily
	expect_rc "$api: triage online exits 1 (failing)" 1
	online=$(printf '%s' "$out" | causes)
	link_online=$(printf '%s' "$out" | field ui_url)
	check "$api: the UI link has the version's form" grep -Eq "^$want_link" <<<"$link_online"

	run "$DAGDOC" triage --config "$cfg" --store "$(store $api)" --since 3650d --format json --offline etl_daily
	eq "$api: triage --offline: the same causes" "$(printf '%s' "$out" | causes)" "$online"
	eq "$api: triage --offline: the same link" "$(printf '%s' "$out" | field ui_url)" "$link_online"

	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	run "$DAGDOC" triage --config "$cfg" --store "$(store $api)" --since 3650d --format json --offline etl_daily
	eq "$api: server gone, --offline: the same link" "$(printf '%s' "$out" | field ui_url)" "$link_online"

	run "$DAGDOC" report --config "$cfg" --store "$(store $api)" --since 3650d --history 3650d --format json \
		--offline --no-record etl_daily
	eq "$api: report: the same causes as triage" "$(printf '%s' "$out" | causes etl_daily)" "$online"

	run "$DAGDOC" runbook --config "$cfg" --store "$(store $api)" --since 3650d --offline etl_daily
	top=$(printf '%s\n' "$online" | head -1)
	summary=${top#* * * * }
	conf=$(printf '%s' "$top" | cut -d' ' -f3)
	check "$api: runbook: the same top cause" grep -qF "cause    $summary (confidence $(printf '%.2f' "$conf")" <<<"$out"
	check "$api: runbook: the same link" grep -qF "link     $link_online" <<<"$out"
done
unset AF_TOKEN AF_PASSWORD

# Health that is visible.  The fake's world ended in March: its daily,
# unpaused DAG has had no scheduled run for months when the sync read it.
cfg=$TMP/v1.yaml
run "$DAGDOC" triage --config "$cfg" --store "$(store v1)" --since 3650d --offline etl_daily
expect_rc "not running: exit 1" 1
expect_out "says it is not running, since when and how often it ran" \
	'^etl_daily — NOT RUNNING: no scheduled run since the one of 2026-03-[0-9]+ [0-9:]+ \(they came every 1d\), and the DAG is not paused'
run "$DAGDOC" triage --config "$cfg" --store "$(store v1)" --since 3650d --offline --format json etl_daily
check "JSON: not_running, the last scheduled run, the cadence" "$PY" -c 'import json,sys
s=json.load(sys.stdin)["summary"]
assert s["not_running"] and not s["paused"] and s["failing"] and s["cadence_seconds"] == 86400 and s["last_scheduled_run"].startswith("2026-03-"), s' <<<"$out"
run "$DAGDOC" report --config "$cfg" --store "$(store v1)" --since 24h --history 3650d --offline --no-record
expect_rc "report: a DAG that stopped running is a problem (exit 1)" 1
expect_out "report: it is listed with why, though it did not run in the period" \
	'^\[prod\] etl_daily — NOT RUNNING: no scheduled run since the one of 2026-03-[0-9]+ '
store_sql "$(store v1)" "UPDATE dags SET is_paused = 1 WHERE dag_id = 'etl_daily'"
run "$DAGDOC" report --config "$cfg" --store "$(store v1)" --since 24h --history 3650d --offline --no-record
expect_rc "report: a paused DAG that did not run is left out (exit 0)" 0
run "$DAGDOC" triage --config "$cfg" --store "$(store v1)" --since 3650d --offline etl_daily
expect_out "a paused DAG is labelled paused" '^etl_daily \(paused\) — [0-9]+ of the last'
expect_no "and is not called not running" 'NOT RUNNING'
finish
