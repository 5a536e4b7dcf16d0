#!/usr/bin/env bash
# Faulty and hostile servers.  A proxy (tests/fakes/faulty_proxy.py) in
# front of the fakes damages answers; each case syncs through it, then
# syncs straight from the fake, and checks that
#  - the faulty sync said what was wrong (exit status, message) in a
#    bounded time,
#  - the store then equals the store of a healthy sync alone
#    (tests/lib/storedump.py: rows by name, logs by their text), and
#  - no credential, in any form dagdoc sends it (the password, the base64
#    "user:password" of Basic auth, the Airflow 3 token it is given, the
#    Prefect auth string), appears in any output: stdout, stderr with the
#    -v traces, the store's rows and logs (a Prefect Cloud API key too).
# Then what is not about the store: valid UTF-8 out of invalid logs, a
# *_env naming an unset variable, classify on an endless input, two syncs
# at once; and a store that cannot be used as it is: on SQLite a damaged
# file and a read-only one read with --offline, on PostgreSQL a database
# that is not there, a wrong password, and a user or sessions that may
# only read (sync refused and told why, --offline reads it).
# slow: tests/run.sh starts it first
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

WORLD="$ROOT/tests/fakes/worlds/basic.json"
PY=/usr/bin/python3
DUMP="$ROOT/tests/lib/storedump.py"
export AF_PASSWORD='pa55-w0rd-e2e-7Qx' PF_AUTH='admin:pf-s3cret-e2e-9Kd' PF_KEY='pnu_e2eK3yAbCdEf0123456789xyz'
B64_AF=$(printf '%s' "dagdoc:$AF_PASSWORD" | base64)
B64_PF=$(printf '%s' "$PF_AUTH" | base64)

eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}

# No credential in any of the files named (the store: its rows and its logs' text).
no_secrets() {   # NAME FILE...
	local name=$1 hits
	shift
	hits=$( { grep -alF -e "$AF_PASSWORD" -e "$B64_AF" -e "pf-s3cret-e2e-9Kd" -e "$B64_PF" -e "$PF_KEY" "$@";
	          grep -alE 'eyJ[A-Za-z0-9_-]{8,}\.eyJ' "$@"; } 2>/dev/null | sort -u)
	if [ -z "$hits" ]; then _pass "$name: no credential in any output"; else
		_fail "$name: a credential in" $hits; fi
}

# The store as text: its rows by name (.rows, what a case's store is compared
# by), its logs' text and everything it holds (.raw: the tables storedump.py
# leaves out too), for no_secrets.
store_text() {   # STORE PREFIX
	{ "$PY" "$DUMP" "$1" >"$2.rows" && "$PY" "$DUMP" --logs "$1" >"$2.logs" && store_dump "$1" >"$2.raw"; } 2>"$2.err" ||
		_fail "${2##*/}: the store can be read" "$(head -5 "$2.err")"
}

start_fake fake_airflow.py v1 --api v1 --world "$WORLD" --user dagdoc --password "$AF_PASSWORD"
PORT_v1=$port
start_fake fake_airflow.py v2 --api v2 --world "$WORLD" --user dagdoc --password "$AF_PASSWORD"
PORT_v2=$port
start_fake fake_prefect.py pf --mode server --world "$WORLD" --auth-string "$PF_AUTH"
PORT_pf=$port

config() {   # FILE API PORT [extra yaml lines]
	local file=$1 api=$2 p=$3
	shift 3
	{
		echo "sources:"
		echo "  - name: prod"
		if [ "$api" = pf ]; then
			echo "    kind: prefect"
			echo "    url: http://127.0.0.1:$p/api"
			echo "    auth_string_env: PF_AUTH"
		else
			echo "    kind: airflow"
			echo "    url: http://127.0.0.1:$p"
			echo "    username: dagdoc"
			echo "    password_env: AF_PASSWORD"
		fi
		echo "    timeout: 5"
		echo "    retry_after_max: 5"
		echo "    retry_budget: 3"
		for l in "$@"; do echo "    $l"; done
	} >"$file"
}

# A healthy sync of each API alone: the stores the cases must end equal to.
for api in v1 v2 pf; do
	port_var=PORT_$api
	config "$TMP/ref_$api.yaml" "$api" "${!port_var}"
	run "$DAGDOC" sync -v --config "$TMP/ref_$api.yaml" --store "$(store "ref_$api")" --since 3650d
	expect_rc "$api: a healthy sync exits 0" 0
	store_text "$(store "ref_$api")" "$TMP/ref_$api"
	no_secrets "$api: healthy sync" "$TMP/out" "$TMP/err" "$TMP/ref_$api".{rows,logs,raw}
done

# hostile NAME API RC ERR_REGEX MAX_SECONDS RULES [VAR=VALUE...] [-- extra yaml lines]
#   The sync through the proxy (in the environment VAR=VALUE) exits RC
#   (stderr matching ERR_REGEX) within MAX_SECONDS; after a healthy sync
#   the store equals the API's reference.
n=0
hostile() {
	local name=$1 api=$2 want_rc=$3 want_err=$4 max_s=$5 rules=$6
	local envs=() extra=() port_var=PORT_$2 t0 ms pp ppid db mk
	shift 6
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	extra=("$@")
	n=$((n + 1))
	printf '%s\n' "$rules" >"$TMP/rules$n.json"
	# (the store is made while the proxy starts: a new database takes a while)
	new_store "h$n" >"$TMP/h$n.store" &
	mk=$!
	start_fake faulty_proxy.py px$n --upstream "http://127.0.0.1:${!port_var}" --rules "$TMP/rules$n.json"
	pp=$port
	ppid=${_fake_pids[-1]}
	config "$TMP/faulty$n.yaml" "$api" "$pp" "${extra[@]}"
	config "$TMP/healthy$n.yaml" "$api" "${!port_var}" "${extra[@]}"
	wait "$mk"
	db=$(cat "$TMP/h$n.store")
	t0=$(date +%s%N)
	# (a sync that would never end is stopped at twice the bound, and fails it)
	run env "${envs[@]}" timeout -k 10 $((max_s * 2 + 30)) "$DAGDOC" sync -v --config "$TMP/faulty$n.yaml" \
		--store "$db" --since 3650d
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	kill "$ppid" 2>/dev/null
	cp "$TMP/out" "$TMP/faulty$n.out"
	cp "$TMP/err" "$TMP/faulty$n.err"
	expect_rc "$name: the faulty sync exits $want_rc" "$want_rc"
	[ -n "$want_err" ] && expect_err "$name: it says what was wrong" "$want_err"
	check "$name: within $max_s s (took $ms ms)" test "$ms" -lt $((max_s * 1000))
	run "$DAGDOC" sync -v --config "$TMP/healthy$n.yaml" --store "$db" --since 3650d
	cp "$TMP/out" "$TMP/healthy$n.out"
	cp "$TMP/err" "$TMP/healthy$n.err"
	expect_rc "$name: then a healthy sync exits 0" 0
	store_text "$db" "$TMP/h$n"
	if diff "$TMP/ref_$api.rows" "$TMP/h$n.rows" >"$TMP/h$n.diff"; then
		_pass "$name: the store equals a healthy sync's"
	else
		_fail "$name: the store equals a healthy sync's" "$(head -12 "$TMP/h$n.diff")"
	fi
	no_secrets "$name" "$TMP/faulty$n".{out,err} "$TMP/healthy$n".{out,err} "$TMP/h$n".{rows,logs,raw}
}

# ---- 1. malformed fields are rejected, reported, and fetched again --------
hostile "ti try_number a string" v1 3 'the store is incomplete: .*task instance .*try_number: a string \("1"\) where a whole number' 30 \
	'[{"path": "/taskInstances(/list)?$", "mode": "mutate", "set": {"try_number": "1"}}]'
hostile "ti wrong types" v1 3 'map_index: a string' 30 \
	'[{"path": "/taskInstances(/list)?$", "mode": "mutate", "set": {"map_index": "0", "hostname": 7}, "limit": 2}]'
hostile "ti 10^30" v1 3 'try_number: a number \(1e\+30\)' 30 \
	'[{"path": "/taskInstances(/list)?$", "mode": "mutate", "set": {"try_number": 1000000000000000000000000000000}, "limit": 1}]'
hostile "ti all null" v1 3 'task_id: missing' 30 \
	'[{"path": "/taskInstances(/list)?$", "mode": "nullify", "key": "task_id", "limit": 1}]'
hostile "tries wrong type" v1 3 'a try of task instance .*try_number' 30 \
	'[{"path": "/tries$", "mode": "mutate", "set": {"try_number": "2"}}]'
hostile "run date unreadable" v1 3 'logical_date: a string \("yesterday"\) is not an ISO 8601 time' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "mutate", "set": {"execution_date": "yesterday", "logical_date": "yesterday"}, "limit": 1}]'
hostile "run state not a string" v1 3 'state: a number \(7\)' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "mutate", "set": {"state": 7}, "limit": 1}]'
hostile "DAG list bad id" v1 3 'GET /api/v1/dags: DAG[^:]*: dag_id: a number \(42\)' 30 \
	'[{"path": "/dags$", "mode": "mutate", "set": {"dag_id": 42}, "limit": 1}]'
hostile "task list bad" v1 3 'downstream_task_ids' 30 \
	'[{"path": "/tasks$", "mode": "mutate", "set": {"downstream_task_ids": "load"}, "limit": 1}]'
hostile "import error bad" v1 3 'import error: filename: a number' 30 \
	'[{"path": "/importErrors$", "mode": "mutate", "set": {"filename": 5}}]'
hostile "v2: ti try_number a string" v2 3 'try_number: a string \("1"\)' 30 \
	'[{"path": "/taskInstances(/list)?$", "mode": "mutate", "set": {"try_number": "1"}, "limit": 1}]'
hostile "prefect: flow run date unreadable" pf 3 'expected_start_time: a string \("soon"\) is not an ISO 8601 time' 30 \
	'[{"path": "/flow_runs/filter$", "mode": "mutate", "set": {"expected_start_time": "soon", "start_time": "soon"}, "limit": 1}]'
hostile "prefect: run_count a string" pf 3 'run_count: a string \("2"\)' 30 \
	'[{"path": "/task_runs/filter$", "mode": "mutate", "set": {"run_count": "2"}, "limit": 1}]'
hostile "prefect: state timestamp a number" pf 3 'state history .*timestamp: a number' 30 \
	'[{"path": "/task_run_states/$", "mode": "mutate", "set": {"timestamp": 5}}]'
hostile "prefect: log record level a string" pf 3 'log record that fails its check: level: a string' 30 \
	'[{"path": "/logs/filter$", "mode": "mutate", "set": {"level": "ERROR"}, "limit": 1}]'
hostile "a page that is not JSON" v1 3 'with a body that is not JSON' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "body", "body": "{\"dag_runs\": [{\"dag_run_id\": ", "times": 1}]'

# ---- 2. a log is complete or not stored as complete -----------------------
hostile "gzip log cut short" v1 3 'could not be fetched .*gzip body cut short' 60 \
	'[{"path": "/logs/", "mode": "gzip-cut"}]'
hostile "v2: gzip log cut short" v2 3 'could not be fetched .*gzip body cut short' 60 \
	'[{"path": "/logs/", "mode": "gzip-cut"}]'
hostile "prefect: gzip log cut short" pf 3 'could not be fetched .*(gzip body cut short|not JSON)' 60 \
	'[{"path": "/logs/filter$", "mode": "gzip-cut"}]'
hostile "SSO sign-in page as a log" v1 3 'text/html where it was asked for text/plain \(an HTML page: the sign-in page' 30 \
	'[{"path": "/logs/", "mode": "html"}]'
hostile "v2: SSO sign-in page as a log" v2 3 'text/html where it was asked for application/x-ndjson' 30 \
	'[{"path": "/logs/", "mode": "html"}]'
hostile "not JSON where JSON was asked" v1 3 'answered GET .*/logs/.* with a body that is not JSON' 30 \
	'[{"path": "/logs/", "mode": "body", "body": "Log file does not exist"}]' DAGDOC_AIRFLOW_LOG_FORMAT=json

# ---- 3. credentials echoed back are masked -----------------------------------
hostile "echoed Basic credentials (400)" v1 3 'it sent Authorization: Basic \*\*\*\*' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "echo-auth", "status": 400, "times": 1}]'
# (task instances come many runs a request: one DAG's runs here)
hostile "echoed Basic credentials (500, text)" v1 3 '[0-9]+ runs were left out' 30 \
	'[{"path": "/taskInstances/list$", "request_body": "\"etl_daily\"", "mode": "echo-auth", "status": 500, "json": false}]'
hostile "v2: echoed token (400)" v2 3 'it sent Authorization: Bearer \*\*\*\*' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "echo-auth", "status": 400, "times": 1}]'
hostile "prefect: echoed Basic credentials (422)" pf 3 'it sent Authorization: Basic \*\*\*\*' 30 \
	'[{"path": "/flow_runs/filter$", "mode": "echo-auth", "status": 422, "times": 1}]'

# A Prefect Cloud API key echoed back.
start_fake fake_prefect.py cloud --mode cloud --world "$WORLD" --api-key "$PF_KEY"
printf '%s\n' '[{"path": "/flow_runs/filter$", "mode": "echo-auth", "status": 400}]' >"$TMP/cloud.json"
start_fake faulty_proxy.py cloudpx --upstream "http://127.0.0.1:$(cat "$TMP/cloud.port")" --rules "$TMP/cloud.json"
printf 'sources:\n  - name: flows\n    kind: prefect\n    url: http://127.0.0.1:%s/api/accounts/%s/workspaces/%s\n    api_key_env: PF_KEY\n' \
	"$port" 11111111-1111-4111-8111-111111111111 22222222-2222-4222-8222-222222222222 >"$TMP/cloud.yaml"
run "$DAGDOC" sync -v --config "$TMP/cloud.yaml" --store "$(store cloud)" --since 3650d
expect_rc "prefect cloud: echoed API key: a partial sync, exit 3" 3
expect_err "prefect cloud: echoed API key: masked" 'it sent Authorization: Bearer \*\*\*\*'
store_text "$(store cloud)" "$TMP/cloud"
no_secrets "prefect cloud: echoed API key" "$TMP/out" "$TMP/err" "$TMP/cloud".{rows,logs,raw}

# ---- 4. a gzip bomb stops at a multiple of max_log_mb -------------------------
hostile "gzip bomb" v1 3 'inflates to more than 8 MiB; dagdoc stopped decoding it' 60 \
	'[{"path": "/logs/", "mode": "gzip-bomb", "mb": 256}]' -- "max_log_mb: 1"

# ---- 5. every wait bounded ---------------------------------------------------------
hostile "Retry-After: 100000" v1 2 'asked to wait 1d 3h before trying again \(Retry-After: 100000\); dagdoc waits at most 5s per request \(retry_after_max\)' 20 \
	'[{"path": "/dagRuns(/list)?$", "mode": "retry-after", "value": "100000"}]'
hostile "Retry-After: a date in 2099" v1 2 'Retry-After: Thu, 01 Jan 2099 00:00:00 GMT' 20 \
	'[{"path": "/dagRuns(/list)?$", "mode": "retry-after", "value": "Thu, 01 Jan 2099 00:00:00 GMT"}]'
# (one request asks for every run's task instances here: when it fails, the
# runs are left out, a partial sync, not a server gone)
hostile "429 forever: the sync's retry budget" v1 3 'budget of 3s \(retry_budget\)' 30 \
	'[{"path": "/taskInstances(/list)?$", "mode": "retry-after", "value": "2"}]'
hostile "a header of 10 MB" v1 3 'with a response header too large to read' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "huge-header", "mb": 10, "times": 1}]'
hostile "the same page for ever" v1 3 'answered the same page twice in a row|claims [0-9]+ entries, past [0-9]+ pages' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "same-page"}]'
hostile "an answer at 1 byte a second" v1 0 '' 30 \
	'[{"path": "/dags$", "mode": "drip", "times": 1}]'
grep -q '/api/v1/dags?limit=100&offset=0 -> Operation timed out after 5[0-9]* milliseconds.*retry 1 in' "$TMP/faulty$n.err"
eq "drip: the attempt stopped at the 5 s timeout, then was retried" "$?" 0

# ---- 6. one retry policy: 500 is retried --------------------------------------
hostile "one 500" v1 0 '' 30 \
	'[{"path": "/dagRuns(/list)?$", "mode": "status", "status": 500, "body": "Internal Server Error", "times": 1}]'
check "500: the first answer was retried" grep -q ' -> 500 .*retry 1 in' "$TMP/faulty$n.err"
hostile "500 for one request's runs only" v1 3 'the store is incomplete: [0-9]+ runs were left out .*answered 500 to POST .*taskInstances/list' 40 \
	'[{"path": "/taskInstances/list$", "request_body": "\"etl_daily\"", "mode": "status", "status": 500}]'
check "500 for one request's runs: the DAGs were stored all the same" grep -q '^synced 3 DAGs' "$TMP/faulty$n.out"

# ---- a log that echoes the credentials is stored masked -------------------------
printf '%s\n' '[{"path": "/logs/", "mode": "echo-auth", "status": 200, "json": false}]' >"$TMP/echolog.json"
start_fake faulty_proxy.py echolog --upstream "http://127.0.0.1:$PORT_v1" --rules "$TMP/echolog.json"
config "$TMP/echolog.yaml" v1 "$port"
run "$DAGDOC" sync -v --config "$TMP/echolog.yaml" --store "$(store echolog)" --since 3650d
expect_rc "echo in a log: the sync exits 0" 0
store_text "$(store echolog)" "$TMP/echolog"
check "echo in a log: the log is stored, the credential masked" grep -q 'rejected: Authorization: Basic \*\*\*\*' "$TMP/echolog.logs"
no_secrets "echo in a log" "$TMP/out" "$TMP/err" "$TMP/echolog".{rows,logs,raw}

# ---- triage and report say when their sync left something out ---------------------
printf '%s\n' '[{"path": "/taskInstances(/list)?$", "mode": "mutate", "set": {"try_number": "1"}, "limit": 1}]' >"$TMP/rep.json"
start_fake faulty_proxy.py rep --upstream "http://127.0.0.1:$PORT_v1" --rules "$TMP/rep.json"
config "$TMP/rep.yaml" v1 "$port"
run "$DAGDOC" report --all --no-record --config "$TMP/rep.yaml" --store "$(store rep)" --since 3650d
expect_err "report: a store left incomplete by its sync is said" \
	'warning: the store is incomplete: [0-9]+ objects? the server sent failed (its|their) checks'
run "$DAGDOC" triage etl_daily --config "$TMP/rep.yaml" --store "$(store rep2)" --since 3650d
expect_err "triage: a store left incomplete by its sync is said" 'warning: the store is incomplete'

# ---- 7. invalid UTF-8 from logs: every JSON and HTML output is valid UTF-8 ----------
printf '%s\n' '[{"path": "/logs/", "mode": "bad-utf8", "marker": "AttributeError"}]' >"$TMP/utf8.json"
start_fake faulty_proxy.py utf8 --upstream "http://127.0.0.1:$PORT_v1" --rules "$TMP/utf8.json"
config "$TMP/utf8.yaml" v1 "$port"
run "$DAGDOC" sync --config "$TMP/utf8.yaml" --store "$(store utf8)" --since 3650d
expect_rc "bad UTF-8: the sync stores the logs" 0
utf8_json() {   # FILE: strict UTF-8, then JSON
	"$PY" -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1"
}
"$DAGDOC" triage etl_daily --offline --format json --config "$TMP/utf8.yaml" --store "$(store utf8)" --since 3650d >"$TMP/utf8.triage.json" 2>"$TMP/utf8.triage.err"
check "bad UTF-8: triage JSON is valid UTF-8 and JSON" utf8_json "$TMP/utf8.triage.json"
check "bad UTF-8: the excerpt says bytes were replaced" grep -q 'bytes that are not UTF-8 are shown as' "$TMP/utf8.triage.json"
"$DAGDOC" report --all --offline --no-record --format json --config "$TMP/utf8.yaml" --store "$(store utf8)" --since 3650d >"$TMP/utf8.report.json" 2>"$TMP/utf8.report.err"
check "bad UTF-8: report JSON is valid UTF-8 and JSON" utf8_json "$TMP/utf8.report.json"
# (a store that refused those bytes would leave DAGs out, with a warning)
says_nothing() { ! grep -H . "$@"; }
check "bad UTF-8: triage and report warn of nothing" says_nothing "$TMP/utf8.triage.err" "$TMP/utf8.report.err"
"$DAGDOC" report --all --offline --no-record --format html -o "$TMP/utf8.html" --config "$TMP/utf8.yaml" --store "$(store utf8)" --since 3650d >/dev/null 2>&1
check "bad UTF-8: the HTML report is valid UTF-8" "$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$TMP/utf8.html"
"$PY" "$DUMP" --logs "$(store utf8)" | grep -a AttributeError | head -1 >"$TMP/utf8.line"
printf "Traceback (most recent call last):\n  File \"/x.py\", line 3, in f\n" >"$TMP/utf8.log"
cat "$TMP/utf8.line" >>"$TMP/utf8.log"
"$DAGDOC" classify --format json "$TMP/utf8.log" >"$TMP/utf8.classify.json" 2>/dev/null
check "bad UTF-8: classify JSON is valid UTF-8 and JSON" utf8_json "$TMP/utf8.classify.json"

# ---- 8. a *_env naming a variable that is not set: said before any request ---------
config "$TMP/unset.yaml" v1 "$PORT_v1"
sed -i 's/password_env: AF_PASSWORD/password_env: DD_NOT_SET_ANYWHERE/' "$TMP/unset.yaml"
before=$(wc -l <"$TMP/v1.req")
run "$DAGDOC" sync --config "$TMP/unset.yaml" --store "$(store unset)" --since 3650d
expect_rc "unset variable: exit 2" 2
expect_err "unset variable: named with file:line" "^dagdoc sync: $TMP/unset.yaml:6: password_env names DD_NOT_SET_ANYWHERE, which is not set"
eq "unset variable: no request was made" "$(wc -l <"$TMP/v1.req")" "$before"
expect_no "unset variable: DAGDOC_AIRFLOW_* not blamed" 'DAGDOC_AIRFLOW'
printf 'store: %s\nstore: /etc/passwd\n' "$TMP/a.db" >"$TMP/dup.yaml"
run "$DAGDOC" config --config "$TMP/dup.yaml"
expect_rc "duplicate key: refused" 2
expect_err "duplicate key: file:line" "dup.yaml:2:1: 'store' is given twice"
"$PY" -c 'print("sources: " + "[" * 100000 + "]" * 100000)' >"$TMP/deep.yaml"
t0=$(date +%s%N)
run "$DAGDOC" config --config "$TMP/deep.yaml"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_err "100k levels of nesting: refused" 'nested more than 32 levels deep'
check "100k levels of nesting: at once (took $ms ms)" test "$ms" -lt 5000

# ---- 9. the smaller ones ----------------------------------------------------------------
t0=$(date +%s%N)
run timeout -k 5 90 "$DAGDOC" classify /dev/zero
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_rc "classify /dev/zero: ends, exit 2" 2
expect_err "classify /dev/zero: the documented cap" '/dev/zero: more than 512 MiB of input; classify reads at most 512 MiB'
check "classify /dev/zero: within 60 s (took $ms ms)" test "$ms" -lt 60000

# Two syncs at once count each run new once between them; each ran, or
# was told the other was syncing the source (SQLite: a lock file, PostgreSQL:
# an advisory lock), whichever got there first.
start_fake fake_airflow.py slow --api v1 --world "$WORLD" --user dagdoc --password "$AF_PASSWORD" --latency-ms 30
config "$TMP/two.yaml" v1 "$port"
TWO=$(store two)   # (not made in the background: both would make it)
"$DAGDOC" sync --config "$TMP/two.yaml" --store "$TWO" --since 3650d >"$TMP/two1.out" 2>"$TMP/two1.err" &
p1=$!
"$DAGDOC" sync --config "$TMP/two.yaml" --store "$TWO" --since 3650d >"$TMP/two2.out" 2>"$TMP/two2.err" &
p2=$!
wait $p1
rc1=$?
wait $p2
rc2=$?
new1=$(sed -n 's/.*runs (\([0-9]*\) new).*/\1/p' "$TMP/two1.out")
new2=$(sed -n 's/.*runs (\([0-9]*\) new).*/\1/p' "$TMP/two2.out")
eq "two syncs at once: 31 runs new between them ($new1 + $new2)" "$(( ${new1:-0} + ${new2:-0} ))" 31
ran_or_told() {   # RC STDERR
	[ "$1" = 0 ] && return 0
	[ "$1" = 2 ] && grep -q '^dagdoc sync: another dagdoc is syncing source prod on this store' "$2" && return 0
	echo "exit $1"
	cat "$2"
	return 1
}
check "two syncs at once: the first ran or was told why not (exit $rc1)" ran_or_told "$rc1" "$TMP/two1.err"
check "two syncs at once: the second ran or was told why not (exit $rc2)" ran_or_told "$rc2" "$TMP/two2.err"

if [ "$BACKEND" = sqlite ]; then
	# A damaged dagdoc store is called damaged (not "not a dagdoc store",
	# which sends the user to another --store).
	cp "$(store ref_v1)" "$TMP/damaged.db"
	sqlite3 "$TMP/damaged.db" "PRAGMA journal_mode = DELETE" >/dev/null
	"$PY" -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(16); f.write(b"\xff" * 52)' "$TMP/damaged.db"
	run "$DAGDOC" triage etl_daily --offline --store "$TMP/damaged.db"
	expect_rc "damaged store: exit 2" 2
	expect_err "damaged store: called damaged" "the store $TMP/damaged.db is damaged"
	expect_no "damaged store: not called another file" 'not a dagdoc store'

	# A store this user may not write, read with --offline.
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		mkdir -p "$TMP/ro"
		cp "$(store ref_v1)" "$TMP/ro/dagdoc.db"
		chmod 444 "$TMP/ro/dagdoc.db"
		chmod 555 "$TMP/ro"
		chmod 755 "$TMP"
		mkdir -p "$TMP/nobody" && chmod 777 "$TMP/nobody"
		run env HOME="$TMP/nobody" XDG_CONFIG_HOME="$TMP/nobody" XDG_CACHE_HOME="$TMP/nobody" \
			DAGDOC_PATTERNS_DIR="$ROOT/patterns" setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$DAGDOC" triage etl_daily --offline --store "$TMP/ro/dagdoc.db" --since 3650d
		expect_rc "read-only store: triage --offline reads it (a failing DAG: exit 1)" 1
		expect_out "read-only store: the triage" 'etl_daily'
		chmod 755 "$TMP/ro"
	else
		_pass "read-only store: skipped (needs root and setpriv to run as another user)"
	fi
else
	# The store is a database on a server: what stands in the way is the URL
	# or the user.  Each is said, with the store's URL but never the
	# password in it.  (Roles are the server's, shared by the scripts
	# running at once: named after this one.  tests/lib/pg.sh checks the
	# password of the roles in dd_password; it trusts every other.)
	STORE_PW='St0re-pw-e2e-4Lm'
	ref=$(store ref_v1)
	host=${DAGDOC_TEST_PG#*://}
	host=${host#*@}
	run "$DAGDOC" sync --config "$TMP/ref_v1.yaml" --store "postgresql://dagdoc:$STORE_PW@$host/dd$$_none" --since 3650d
	expect_rc "no such database: exit 2" 2
	expect_err "no such database: said, with the store's URL" \
		"^dagdoc sync: cannot connect to the store postgresql://dagdoc@$host/dd$$_none: .*database \"dd$$_none\" does not exist"
	expect_no "no such database: no password" "$STORE_PW"

	store_sql "$ref" "CREATE ROLE dd$$_pw LOGIN PASSWORD '$STORE_PW' IN ROLE dd_password" >/dev/null
	run "$DAGDOC" triage etl_daily --offline --store "postgresql://dd$$_pw:x$STORE_PW@$host/${ref##*/}" --since 3650d
	expect_rc "wrong password: exit 2" 2
	expect_err "wrong password: said, with the store's URL" \
		"^dagdoc triage: cannot connect to the store postgresql://dd$$_pw@$host/${ref##*/}: .*password authentication failed for user \"dd$$_pw\""
	expect_no "wrong password: not printed" "$STORE_PW"

	# A user that may only read: sync is refused, and told what to grant.
	store_sql "$ref" "CREATE ROLE dd$$_ro LOGIN PASSWORD '$STORE_PW' IN ROLE dd_password;
		GRANT SELECT ON ALL TABLES IN SCHEMA public TO dd$$_ro" >/dev/null
	run "$DAGDOC" sync --config "$TMP/ref_v1.yaml" --store "postgresql://dd$$_ro:$STORE_PW@$host/${ref##*/}" --since 3650d
	expect_rc "read-only user: sync exits 2" 2
	expect_err "read-only user: sync says what to grant" \
		"^dagdoc sync: opening the store: the store postgresql://dd$$_ro@$host/${ref##*/} refused \(this user may not write its tables\); grant the user the rights on the database's tables, or read it with --offline$"
	expect_no "read-only user: no password" "$STORE_PW"
	# ... and --offline reads it as it is, as it reads a file it may not write
	run "$DAGDOC" triage etl_daily --offline --store "postgresql://dd$$_ro:$STORE_PW@$host/${ref##*/}" --since 3650d
	expect_rc "read-only user: triage --offline reads the store (a failing DAG: exit 1)" 1
	expect_out "read-only user: the triage" 'etl_daily'
	expect_no "read-only user: triage: no password" "$STORE_PW"
	run "$DAGDOC" report --offline --store "postgresql://dd$$_ro:$STORE_PW@$host/${ref##*/}" --since 3650d
	expect_rc "read-only user: report --offline reads it (a failing DAG: exit 1)" 1
	expect_err "read-only user: ... and says it records nothing" 'is read-only here: this report.s failures are not recorded'
	# a server whose sessions are read-only (a standby, or set so): the same
	store_sql "$ref" "CREATE ROLE dd$$_rs LOGIN PASSWORD '$STORE_PW' IN ROLE dd_password;
		GRANT ALL ON ALL TABLES IN SCHEMA public TO dd$$_rs;
		ALTER ROLE dd$$_rs SET default_transaction_read_only = on" >/dev/null
	run "$DAGDOC" sync --config "$TMP/ref_v1.yaml" --store "postgresql://dd$$_rs:$STORE_PW@$host/${ref##*/}" --since 3650d
	expect_rc "read-only sessions: sync exits 2" 2
	expect_err "read-only sessions: said" 'refused \(its sessions are read-only: default_transaction_read_only is on\); read it with --offline'
	run "$DAGDOC" triage etl_daily --offline --store "postgresql://dd$$_rs:$STORE_PW@$host/${ref##*/}" --since 3650d
	expect_rc "read-only sessions: triage --offline reads the store (exit 1)" 1
fi

finish
