#!/usr/bin/env bash
# The JSON contract: every JSON output carries schema_version, and classify,
# triage and report outputs validate against schemas/*.schema.json, on the
# bundled demo (a log folder), the fake Airflow 2 and 3 and the fake
# Prefect, with and without --explain.  A schema that stopped describing
# the output fails here, so the files cannot drift from the code.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
CHECK=("$PY" "$ROOT/tests/lib/check_json.py")

valid() {   # NAME KIND FILE...
	local name=$1 kind=$2
	shift 2
	if "${CHECK[@]}" "$kind" "$@" >"$TMP/check.out" 2>&1; then _pass "$name"; else
		_fail "$name" "$(head -15 "$TMP/check.out")"; fi
}

D="$TMP/demo"
"$PY" "$ROOT/examples/demo/make_demo.py" "$D" >/dev/null || { echo "not ok - make_demo.py"; exit 1; }
C=(--config "$D/config.yaml" --store "$(store demo)")
"$DAGDOC" triage train_churn "${C[@]}" --since 35d --format json >"$TMP/demo-triage.json"
"$DAGDOC" triage train_churn "${C[@]}" --since 35d --format json --explain --offline >"$TMP/demo-triage-x.json"
"$DAGDOC" report "${C[@]}" --since 35d --format json --offline --no-record >"$TMP/demo-report.json"
"$DAGDOC" report "${C[@]}" --since 35d --format json --offline --no-record --explain >"$TMP/demo-report-x.json"
"$DAGDOC" classify --format json "$D"/logs/dag_id=train_churn/*/task_id=*/attempt=*.log >"$TMP/demo-classify.json"
"$DAGDOC" classify --format json - </dev/null >"$TMP/empty-classify.json"
check "every output says its schema_version" "$PY" -c '
import json, sys
for p in sys.argv[1:]:
    docs = [json.loads(l) for l in open(p) if l.strip()] if p.endswith("classify.json") else [json.load(open(p))]
    assert docs and all(d.get("schema_version") == 1 for d in docs), p' \
	"$TMP"/demo-*.json "$TMP/empty-classify.json"
valid "demo: triage" triage "$TMP/demo-triage.json" "$TMP/demo-triage-x.json"
valid "demo: report" report "$TMP/demo-report.json" "$TMP/demo-report-x.json"
valid "demo: classify, every log of the demo (failures and successes)" classify "$TMP/demo-classify.json" \
	"$TMP/empty-classify.json"

WORLD="$ROOT/tests/fakes/worlds/basic.json"
for api in v1 v2 prefect; do
	if [ $api = prefect ]; then
		start_fake fake_prefect.py "pf" --mode server --world "$WORLD"
		printf 'sources:\n  - name: flows\n    kind: prefect\n    url: http://127.0.0.1:%s/api\n' "$port" >"$TMP/$api.yaml"
	else
		start_fake fake_airflow.py "af$api" --api $api --world "$WORLD" --token js-t0ken-1
		printf 'sources:\n  - name: prod\n    kind: airflow\n    url: http://127.0.0.1:%s\n    token_env: JS_TOKEN\n' \
			"$port" >"$TMP/$api.yaml"
	fi
	export JS_TOKEN=js-t0ken-1
	for dag in etl_daily sync_crm train_churn; do
		"$DAGDOC" triage "$dag" --config "$TMP/$api.yaml" --store "$(store $api)" --since 3650d --format json \
			--explain >"$TMP/$api-$dag.json" 2>/dev/null
	done
	"$DAGDOC" report --config "$TMP/$api.yaml" --store "$(store $api)" --since 3650d --history 3650d --format json \
		--no-record --offline >"$TMP/$api-report.json" 2>/dev/null
	valid "$api: triage of every DAG" triage "$TMP/$api"-{etl_daily,sync_crm,train_churn}.json
	valid "$api: report" report "$TMP/$api-report.json"
done

# and the check can fail: a wrong type is caught
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["summary"]["runs"]="many"; json.dump(d, open(sys.argv[2],"w"))' \
	"$TMP/demo-triage.json" "$TMP/broken.json"
if "${CHECK[@]}" triage "$TMP/broken.json" >"$TMP/broken.out" 2>&1; then
	_fail "a broken output fails the check" "it passed"
else
	check "a broken output fails the check, naming the place" grep -q '/summary/runs' "$TMP/broken.out"
fi
finish
