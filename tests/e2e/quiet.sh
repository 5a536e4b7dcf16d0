#!/usr/bin/env bash
# Quiet failures end to end on a log folder (the quiet_value_airflow2
# scenario's data): triage says "degraded" and exits with degraded_exit,
# the nightly report has its own section (text, Markdown, JSON, the HTML
# sparkline), and a healthy noisy DAG says nothing.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
SC="$ROOT/tests/scenarios"
build() {   # SCENARIO DIR: the scenario's log folder and repository; echoes the DAG id
	"$PY" "$SC/lib/scenario.py" build "$SC/$1" "$2" >"$2.meta" 2>"$2.err" && cut -d' ' -f1 "$2.meta"
}
config() {   # FILE LOGS [root lines]
	{
		echo "sources:"
		echo "  - name: local"
		echo "    kind: logs"
		echo "    path: $2"
		shift 2
		for l in "$@"; do echo "$l"; done
	} >"$TMP/$1"
}

dag=$(build quiet_value_airflow2 "$TMP/value")
config value.yaml "$TMP/value/logs"
config strict.yaml "$TMP/value/logs" "degraded_exit: 1"

run "$DAGDOC" triage "$dag" --config "$TMP/value.yaml" --store "$(store value)" --since 40d
expect_rc "triage: degraded only exits 0 by default" 0
expect_out "triage: the headline says degraded" "^orders_daily — degraded: 30 of the last 30 runs succeeded, but 2 quiet failures$"
expect_out "triage: the quiet failure with its numbers and onset" \
	'^   value +load_orders: "Loaded # rows into warehouse\.orders" logged 0, where it usually logs [0-9,]+ \(median of the 7 runs before; since run scheduled__'
run "$DAGDOC" triage "$dag" --config "$TMP/strict.yaml" --store "$(store value)" --since 40d --offline
expect_rc "triage: degraded_exit: 1 makes it exit 1" 1
run "$DAGDOC" triage "$dag" --config "$TMP/value.yaml" --store "$(store value)" --since 40d --offline --format md
expect_out "triage md: the quiet failures" '^\*\*Quiet failures\*\* \(the task succeeded\)$'

run "$DAGDOC" report --config "$TMP/value.yaml" --store "$(store value)" --since 40d --offline --no-record
expect_rc "report: degraded only exits 0 by default" 0
expect_out "report: its own section" '^quiet failures \(the task succeeded\)$'
expect_out "report: DAG.task kind and detail" '^   orders_daily\.load_orders value: "Inserted # rows into warehouse\.orders_daily" logged 0'
expect_out "report: the DAG is healthy but degraded" '^healthy: orders_daily \(30 runs, degraded\)$'
run "$DAGDOC" report --config "$TMP/strict.yaml" --store "$(store value)" --since 40d --offline --no-record
expect_rc "report: degraded_exit: 1 makes it exit 1" 1
run "$DAGDOC" report --config "$TMP/value.yaml" --store "$(store value)" --since 40d --offline --no-record --format json
check "report json: quiet_failures with values and onset" "$PY" - "$TMP/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
q = j["quiet_failures"]
assert j["summary"]["degraded"] == 1, j["summary"]
assert [(x["dag_id"], x["task_id"], x["kind"]) for x in q] == [("orders_daily", "load_orders", "value")] * 2, q
x = q[0]
assert x["what"] == "Loaded # rows into warehouse.orders" and x["now"] == 0 and x["usual"] > 100000, x
assert len(x["values"]) == 10 and [v["value"] for v in x["values"][-3:]] == [0, 0, 0], x["values"]
assert x["onset"]["run_id"] == x["values"][7]["run_id"], x["onset"]
t = j["dags"][0]["triage"]
assert t["summary"]["status"] == "degraded" and len(t["quiet_failures"]) == 2, t["summary"]
PY
run "$DAGDOC" report --config "$TMP/value.yaml" --store "$(store value)" --since 40d --offline --no-record --format html
expect_out "report html: the quiet failures table" '<table id="quiet">'
expect_out "report html: an inline SVG sparkline with the onset marked" '<svg class="spark" [^>]*><path d="M[0-9.]+ [0-9.]+ L[^"]*"/><circle '
expect_out "report html: the values on hover" '<title>[0-9,]+, [0-9,]+, .*, 0, 0, 0</title></svg>'
expect_no "report html: no script" '<script'

# a healthy DAG whose numbers move as real ones do says nothing
dag=$(build quiet_healthy_noisy_airflow2 "$TMP/healthy")
config healthy.yaml "$TMP/healthy/logs" "degraded_exit: 1"
run "$DAGDOC" triage "$dag" --config "$TMP/healthy.yaml" --store "$(store healthy)" --since 40d
expect_rc "healthy noisy: exit 0 even with degraded_exit: 1" 0
expect_out "healthy noisy: healthy" '^sales_daily — healthy: 30 of the last 30 runs succeeded$'
expect_no "healthy noisy: no quiet failure" 'quiet failure'
finish
