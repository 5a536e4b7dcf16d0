#!/usr/bin/env bash
# dagdoc runbook: a DAG's runbook in under 25 lines (the demo log folder and
# the fake Airflow, whose grid URL is the link), a pattern's runbook, and an
# unknown id (exit 2 with a suggestion).
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
lines() { printf '%s\n' "$out" | wc -l; }

# ---- the demo (a log folder: no UI) -----------------------------------------
"$PY" "$ROOT/examples/demo/make_demo.py" "$TMP/demo" >/dev/null || { echo "not ok - make_demo.py"; exit 1; }
RB=("$DAGDOC" runbook --config "$TMP/demo/config.yaml" --store "$(store demo)" --since 35d)
run "${RB[@]}" train_churn
expect_rc "demo: exit 1 (failing)" 1
check "demo: at most 24 lines" test "$(lines)" -le 24
expect_out "demo: state first" '^train_churn \(demo\) — FAILING: 6 of the last 30 runs failed, since 20[0-9-]+ 02:05 UTC$'
expect_out "demo: top cause with confidence" '^cause    Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0 \(confidence 0\.95, dependency_change\)$'
expect_out "demo: failure" "^failure  AttributeError: 'DataFrame' object has no attribute 'append'$"
expect_out "demo: failing task and run" '^task     features in run scheduled__20[0-9-]+T02:00:00\+00:00 \(6/6 runs since onset failed\)$'
expect_out "demo: the commit" '^change   [0-9a-f]{7} "Bump ML deps"'
expect_out "demo: no UI for a log folder" '^link     none: source is a log folder, which has no UI$'
expect_out "demo: numbered checks in order" '^checks \(in order\)$'
expect_out "demo: first check" '^  1\. pip show pandas'
expect_out "demo: fix" '^  - pin pandas==1\.5\.3 in requirements\.txt'
eq "demo: the fix follows the checks" "$(printf '%s\n' "$out" | grep -n -E '^(checks|fix)' | cut -d: -f2 | tr '\n' ' ')" "checks (in order) fix "
eq "demo: no line over 170 characters" "$(printf '%s\n' "$out" | awk 'length > 170' | wc -l)" "0"

# ---- a healthy DAG: the demo's runs before the onset --------------------------
cp -r "$TMP/demo/logs" "$TMP/healthy"
for d in "$TMP"/healthy/dag_id=train_churn/run_id=*; do
	if grep -rqE 'Marking task as FAILED|UP_FOR_RETRY' "$d"; then rm -rf "$d"; fi
done
printf 'sources:\n  - name: h\n    kind: logs\n    path: %s\n' "$TMP/healthy" >"$TMP/healthy.yaml"
run "$DAGDOC" runbook --config "$TMP/healthy.yaml" --store "$(store healthy)" --since 35d train_churn
expect_rc "healthy: exit 0" 0
expect_out "healthy: state" '^train_churn \(h\) — healthy: 24 of the last 24 runs succeeded$'
expect_out "healthy: the last run" '^last run 20[0-9-]+ 02:00 success \(scheduled__'
check "healthy: at most 24 lines" test "$(lines)" -le 24

# ---- a pattern's runbook ----------------------------------------------------
run "${RB[@]}" dep.import-name-removed
expect_rc "pattern: exit 0" 0
expect_out "pattern: title" '^dep\.import-name-removed — '
expect_out "pattern: checks" '^  1\. pip show \{package\}$'
expect_out "pattern: fix" '^fix$'
check "pattern: at most 24 lines" test "$(lines)" -le 24

# ---- an unknown id ----------------------------------------------------------
run "${RB[@]}" dep.import-name-remove
expect_rc "unknown id: exit 2" 2
expect_err "unknown id: suggests the pattern" "did you mean the pattern 'dep\.import-name-removed'\?"
run "${RB[@]}" --offline no_such_thing_at_all
expect_rc "unknown id offline: exit 2" 2
expect_err "unknown id offline: says what is missing" "no DAG named 'no_such_thing_at_all' in the store and no pattern with that id"
expect_err "unknown id offline: points at the pattern list" "'dagdoc patterns list' shows them"
run "${RB[@]}"
expect_rc "no id: exit 2" 2

# ---- the fake Airflow: the link to the grid ------------------------------------
pids=()
stop_fakes() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
at_exit stop_fakes
"$PY" "$ROOT/tests/fakes/fake_airflow.py" --api v1 --world "$ROOT/tests/fakes/worlds/basic.json" \
	--port-file "$TMP/af.port" --token rb-t0ken-31337 2>"$TMP/af.err" &
pids+=($!)
for _ in $(seq 100); do
	[ -s "$TMP/af.port" ] && break
	sleep 0.05
done
port=$(cat "$TMP/af.port")
printf 'sources:\n  - name: prod\n    kind: airflow\n    url: http://127.0.0.1:%s\n    token_env: AF_TOKEN\n' "$port" >"$TMP/af.yaml"
export AF_TOKEN=rb-t0ken-31337
run "$DAGDOC" runbook --config "$TMP/af.yaml" --store "$(store af)" --since 3650d etl_daily
expect_rc "airflow: exit 1 (failing)" 1
check "airflow: at most 24 lines" test "$(lines)" -le 24
expect_out "airflow: state" '^etl_daily \(prod\) — FAILING: 5 of the last 10 runs failed, since 2026-03-06 02:02 UTC$'
# The ongoing pandas failure, not the extract blip a retry already fixed.
expect_out "airflow: top cause with confidence" '^cause    Dependency change: .* \(confidence 0\.[0-9]{2}, dependency_change\)$'
expect_out "airflow: the grid link to the failing run and task" \
	"^link     http://127\.0\.0\.1:$port/dags/etl_daily/grid\?dag_run_id=scheduled__2026-03-08T02%3A00%3A00%2B00%3A00&task_id=transform$"
# The other causes: extract still running in the world's newest run (started
# in March, synced now: stuck), the sensor's upstream stall, the extract blip.
expect_out "airflow: the next cause" '^also     3 other causes, next: .*; details: dagdoc triage etl_daily$'
expect_no "airflow: the token is never printed" 'rb-t0ken-31337'
run "$DAGDOC" runbook --config "$TMP/af.yaml" --store "$(store af)" --since 3650d etl_daly
expect_rc "airflow: a mistyped DAG: exit 2" 2
expect_err "airflow: a mistyped DAG: suggests it" "etl_daily"
finish
