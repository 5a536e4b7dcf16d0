#!/usr/bin/env bash
# The Airflow connector through the binary (dagdoc sync against the fake
# Airflow): v2 token exchange and version detection, --verbose traces with
# no credentials in them, one-sentence errors (401, DAG typo, connection
# refused, TLS, a body that is not JSON), retries on 429/503 survived, and
# the warning for insecure: true.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

WORLD="$ROOT/tests/fakes/worlds/basic.json"
PY=/usr/bin/python3
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
SINCE=--since=3650d
PW=pw-e2e-Q7w8e9
TOKEN=tok-e2e-Z1x2c3

# ---- Airflow 3 (API v2): username/password exchanged for a token ----------
start_fake fake_airflow.py v2 --api v2 --world "$WORLD" --user admin --password "$PW"
export DAGDOC_AIRFLOW_URL="http://127.0.0.1:$port" DAGDOC_AIRFLOW_USERNAME=admin DAGDOC_AIRFLOW_PASSWORD="$PW"
run "$DAGDOC" sync -v --store "$(store v2)" $SINCE etl_daily
expect_rc "v2: sync with a token from /auth/token exits 0" 0
expect_out "v2: detected from /api/v2/version" '\(airflow 3\.2\.0 \(api v2\)\)'
expect_err "v2: --verbose traces the token exchange" "^dagdoc: http: POST http://127\.0\.0\.1:$port/auth/token -> 201 \("
expect_err "v2: --verbose traces the run listing" "^dagdoc: http: POST http://127\.0\.0\.1:$port/api/v2/dags/~/dagRuns/list -> 200 \("
expect_err "v2: --verbose traces the NDJSON log fetches" "GET http://127\.0\.0\.1:$port/api/v2/dags/etl_daily/dagRuns/scheduled__2026-03-05T02%3A00%3A00%2B00%3A00/taskInstances/transform/logs/2\?map_index=-1&full_content=true -> 200"
expect_no "v2: the password is in no output" "$PW"
expect_no "v2: no Authorization header in traces" "Authorization|Bearer ey"
eq "v2: one token exchange" "$(grep -c '^POST /auth/token 201' "$TMP/v2.req")" "1"

DAGDOC_AIRFLOW_PASSWORD=wrong-Pw-555 run "$DAGDOC" sync -v --store "$(store v2b)" $SINCE etl_daily
expect_rc "v2: a bad password exits 2" 2
expect_err "v2: a bad password is one sentence naming the variables" \
	"did not give a token for the username and password \(401: Invalid credentials\); check DAGDOC_AIRFLOW_USERNAME and DAGDOC_AIRFLOW_PASSWORD$"
expect_no "v2: the bad password is in no output" "wrong-Pw-555"

run "$DAGDOC" sync --store "$(store v2)" $SINCE etl_dayly
expect_rc "v2: a DAG typo exits 2" 2
expect_err "v2: a DAG typo gets a suggestion" "no DAG named etl_dayly on airflow; did you mean etl_daily\?$"
unset DAGDOC_AIRFLOW_USERNAME DAGDOC_AIRFLOW_PASSWORD

# ---- Airflow 2 (API v1), bearer token --------------------------------------
start_fake fake_airflow.py v1 --api v1 --world "$WORLD" --token "$TOKEN"
export DAGDOC_AIRFLOW_URL="http://127.0.0.1:$port"
DAGDOC_AIRFLOW_TOKEN=bad-Token-777 run "$DAGDOC" sync -v --store "$(store v1)" $SINCE
expect_rc "v1: a bad token exits 2" 2
expect_err "v1: 401 is one sentence naming DAGDOC_AIRFLOW_TOKEN" \
	"Airflow at http://127\.0\.0\.1:$port rejected the credentials \(401: Unauthorized\); check DAGDOC_AIRFLOW_TOKEN$"
expect_no "v1: the bad token is in no output" "bad-Token-777"
DAGDOC_AIRFLOW_TOKEN="$TOKEN" run "$DAGDOC" sync -v --store "$(store v1)" $SINCE sync_crm
expect_rc "v1: the right token syncs" 0
expect_out "v1: detected from /api/v1/version" '\(airflow 2\.10\.5 \(api v1\)\)'
expect_err "v1: logs are fetched as text/plain" "GET http://127\.0\.0\.1:$port/api/v1/dags/sync_crm/dagRuns/[^ ]+/taskInstances/fetch_accounts/logs/1\?map_index=-1&full_content=true -> 200"
expect_no "v1: the token is in no output" "$TOKEN"

# ---- faults: retried, or one sentence --------------------------------------
cat >"$TMP/faults.json" <<'EOF'
[{"path": "/dagRuns/list$", "kind": "429", "times": 1, "retry_after": "1"},
 {"path": "/taskInstances/list$", "kind": "503", "times": 2},
 {"path": "/api/v1/importErrors$", "kind": "429", "times": 1, "retry_after": "Thu, 01 Jan 2026 00:00:00 GMT"}]
EOF
start_fake fake_airflow.py faults --api v1 --world "$WORLD" --faults "$TMP/faults.json"
export DAGDOC_AIRFLOW_URL="http://127.0.0.1:$port"
run "$DAGDOC" sync -v --store "$(store f)" $SINCE sync_crm
expect_rc "faults: 429 (Retry-After both forms) and 503 are retried" 0
expect_err "faults: the retry is traced with its reason" "-> 429 \([0-9]+ bytes, [0-9]+ ms\); retry 1 in 1\.0 s \(Retry-After\)$"
eq "faults: each fault answered once or twice, then 200" \
	"$(grep -c ' fault=' "$TMP/faults.req") $(grep -c '/dagRuns/list 200$' "$TMP/faults.req")" "4 1"

echo '[{"path": "/api/v1/dags$", "kind": "malformed", "times": 1}]' >"$TMP/malformed.json"
start_fake fake_airflow.py malformed --api v1 --world "$WORLD" --faults "$TMP/malformed.json"
DAGDOC_AIRFLOW_URL="http://127.0.0.1:$port" run "$DAGDOC" sync --store "$(store m)" $SINCE
expect_rc "malformed: exits 2" 2
expect_err "malformed: one sentence" "Airflow at http://127\.0\.0\.1:$port answered GET /api/v1/dags\?limit=100&offset=0 with a body that is not JSON"

# ---- unreachable, TLS --------------------------------------------------------
free_port=$("$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()')
DAGDOC_AIRFLOW_URL="http://127.0.0.1:$free_port" run "$DAGDOC" sync --store "$(store x)" $SINCE
expect_rc "refused: exits 2" 2
expect_err "refused: one sentence" \
	"cannot reach http://127\.0\.0\.1:$free_port: connection refused \(3 attempts\); is the Airflow webserver running and is DAGDOC_AIRFLOW_URL right\?$"

start_fake fake_airflow.py tls --api v1 --world "$WORLD"
DAGDOC_AIRFLOW_URL="https://127.0.0.1:$port" run "$DAGDOC" sync --store "$(store x)" $SINCE
expect_rc "TLS: https to a plain server exits 2" 2
expect_err "TLS: one sentence" "TLS handshake with 127\.0\.0\.1 failed \(.*\); check that DAGDOC_AIRFLOW_URL uses the right scheme and port, or set ca_file$"
mkdir -p "$TMP/cfg"
cat >"$TMP/cfg/insecure.yaml" <<EOF
sources:
  - name: lab
    kind: airflow
    url: https://127.0.0.1:$port
    insecure: true
EOF
run "$DAGDOC" sync --config "$TMP/cfg/insecure.yaml" --store "$(store x)" $SINCE
expect_err "insecure: true prints a warning" "^dagdoc: warning: TLS verification is OFF for https://127\.0\.0\.1:$port \(insecure: true\)"

finish
