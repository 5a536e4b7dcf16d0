#!/usr/bin/env bash
# End-to-end triage scenarios: every tests/scenarios/NAME/scenario.json is
# built (tests/scenarios/lib/scenario.py: run data + a dated git history),
# served (a log folder, or the fake Airflow v1/v2 or Prefect server on
# 127.0.0.1), synced and triaged with --format json, and the result is
# compared with the scenario's "expect": exit status, rank-1 kind, key
# entity, task and first implicated commit, the change a dependency cause
# names, the link `--explain` prints, other causes, decoys and the onset time
# (tests/scenarios/lib/scenario.py's docstring).  A scenario with
# "after_evidence" is triaged again, offline, with the command outputs it
# carries pasted through --evidence, and checked against what they establish.  Adding a scenario = adding a
# directory (tests/scenarios/README.md lists them).
#   SCENARIOS="a b"  runs only those
#   VERBOSE=1        prints `triage --explain` for every miss
#   KEEP=DIR         copies the built data, stores and results to DIR
# backends: sqlite postgresql
# slow: tests/run.sh starts it first
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
SC="$ROOT/tests/scenarios"
pid=

stop_fake() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	fi
}
at_exit stop_fake

# serve_world DIR SCRIPT ARGS...: starts a fake server on the scenario's world; sets $port.
serve_world() {
	local d=$1 script=$2
	shift 2
	rm -f "$d/port"
	"$PY" "$ROOT/tests/fakes/$script" --world "$d/world.json" --port-file "$d/port" "$@" 2>"$d/fake.err" &
	pid=$!
	port=
	for _ in $(seq 100); do
		[ -s "$d/port" ] && break
		sleep 0.05
	done
	port=$(cat "$d/port" 2>/dev/null)
	[ -n "$port" ]
}

names=${SCENARIOS:-$(cd "$SC" && for d in */scenario.json; do echo "${d%/scenario.json}"; done)}
for name in $names; do
	dir="$SC/$name"
	wd="$TMP/$name"
	mkdir -p "$wd"
	if ! meta=$("$PY" "$SC/lib/scenario.py" build "$dir" "$wd" 2>"$wd/build.err"); then
		_fail "scenario $name: build" "$(tail -5 "$wd/build.err")"
		continue
	fi
	read -r dag source since lag map <<<"$meta"
	{
		echo "sources:"
		echo "  - name: $name"
		case $source in
		logs) echo "    kind: logs"; echo "    path: $wd/logs" ;;
		airflow-v1 | airflow-v2) echo "    kind: airflow"; echo "    url: http://127.0.0.1:PORT" ;;
		prefect) echo "    kind: prefect"; echo "    url: http://127.0.0.1:PORT/api" ;;
		esac
		echo "repos:"
		echo "  - path: $wd/repo"
		echo "    deploy_lag: $lag"
		if [ "$map" = map ]; then
			echo "    map:"
			echo "      - from: /opt/airflow/dags/"
			echo "        to: dags/"
		fi
	} >"$wd/config.yaml"
	case $source in
	airflow-v1 | airflow-v2) serve_world "$wd" fake_airflow.py --api "${source#airflow-}" ;;
	prefect) serve_world "$wd" fake_prefect.py --mode server ;;
	*) true ;;
	esac || {
		_fail "scenario $name: the fake server did not start" "$(tail -5 "$wd/fake.err")"
		stop_fake
		continue
	}
	sed -i "s/PORT/$port/" "$wd/config.yaml"
	run "$DAGDOC" triage "$dag" --config "$wd/config.yaml" --store "$(store "$name")" --since "$since" --format json
	printf '%s\n' "$out" >"$wd/triage.json"
	if [ "$rc" -gt 1 ]; then
		_fail "scenario $name: triage exited $rc" "stderr: ${errout:0:800}"
		stop_fake
		continue
	fi
	# the --explain text: which link tied the failure to its change (expect "link")
	"$DAGDOC" triage "$dag" --config "$wd/config.yaml" --store "$(store "$name")" --since "$since" \
		--offline --explain >"$wd/explain.txt" 2>&1
	if "$PY" "$SC/lib/scenario.py" check "$dir" "$rc" "$wd/triage.json" "$wd" >"$wd/check.out"; then
		cat "$wd/check.out"
	else
		cat "$wd/check.out"
		_failed=$((_failed + 1))
		[ -n "${VERBOSE:-}" ] && sed 's/^/    | /' "$wd/explain.txt"
	fi
	# the engineer pastes the outputs of the checks: the ranking after them
	mapfile -t evfiles < <("$PY" "$SC/lib/scenario.py" evidence "$dir")
	if [ "${#evfiles[@]}" -gt 0 ]; then
		run "$DAGDOC" triage "$dag" --config "$wd/config.yaml" --store "$(store "$name")" --since "$since" \
			--offline --format json --evidence "${evfiles[@]}"
		printf '%s\n' "$out" >"$wd/triage_evidence.json"
		"$DAGDOC" triage "$dag" --config "$wd/config.yaml" --store "$(store "$name")" --since "$since" \
			--offline --explain >"$wd/explain_evidence.txt" 2>&1
		if "$PY" "$SC/lib/scenario.py" check-evidence "$dir" "$rc" "$wd/triage_evidence.json" "$wd" \
			>"$wd/check_evidence.out"; then
			cat "$wd/check_evidence.out"
		else
			cat "$wd/check_evidence.out"
			_failed=$((_failed + 1))
			[ -n "${VERBOSE:-}" ] && sed 's/^/    | /' "$wd/explain_evidence.txt"
		fi
	fi
	stop_fake
done
# Every triage JSON the scenarios produced (quiet failures, verdicts, links,
# outside_repository...) follows the contract in schemas/triage.schema.json.
mapfile -t outputs < <(find "$TMP" -name 'triage*.json' -size +0 | sort)
if [ "${#outputs[@]}" -gt 0 ]; then
	if "$PY" "$ROOT/tests/lib/check_json.py" triage "${outputs[@]}" >"$TMP/schema.out" 2>&1; then
		_pass "scenarios: all ${#outputs[@]} triage outputs follow schemas/triage.schema.json"
	else
		_fail "scenarios: the triage outputs follow schemas/triage.schema.json" "$(head -10 "$TMP/schema.out")"
	fi
fi
[ -n "${KEEP:-}" ] && cp -r "$TMP"/. "$KEEP"/
finish
