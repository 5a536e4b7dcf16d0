#!/usr/bin/env bash
# The Prefect connector through the binary (dagdoc sync against the fake
# Prefect): self-hosted with basic auth and Prefect Cloud with an API key,
# --verbose traces with no credentials in them, one-sentence errors (401,
# missing key, flow typo, connection refused), 429/503 retried.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

WORLD="$ROOT/tests/fakes/worlds/basic.json"
PY=/usr/bin/python3
ACCOUNT=11111111-1111-4111-8111-111111111111
WORKSPACE=22222222-2222-4222-8222-222222222222
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
SINCE=--since=3650d
AUTH=admin:pf-e2e-Secret-42
KEY=pnu_e2eKEY0987654321

# ---- self-hosted server, basic auth -----------------------------------------
start_fake fake_prefect.py srv --mode server --world "$WORLD" --auth-string "$AUTH"
export PREFECT_API_URL="http://127.0.0.1:$port/api" PREFECT_API_AUTH_STRING="$AUTH"
run "$DAGDOC" sync -v --store "$(store srv)" $SINCE sync_crm
expect_rc "server: sync exits 0" 0
expect_out "server: version from /admin/version" '\(prefect 3\.8\.3\)'
expect_err "server: --verbose traces the log pages" "^dagdoc: http: POST http://127\.0\.0\.1:$port/api/logs/filter -> 200 \("
expect_err "server: --verbose traces the state history" "GET http://127\.0\.0\.1:$port/api/task_run_states/\?task_run_id=[0-9a-f-]+ -> 200"
expect_no "server: the auth string is in no output" "pf-e2e-Secret-42"
expect_no "server: nor its base64" "$(printf %s "$AUTH" | base64)"
eq "server: Crashed and Late runs kept as such" \
	"$(store_sql "$(store srv)" "SELECT group_concat(state, ',') FROM (SELECT state FROM runs ORDER BY logical_ms) AS x")" \
	"success,success,success,success,success,failed,failed,crashed,success,late"

PREFECT_API_AUTH_STRING=admin:nope-Pw-31 run "$DAGDOC" sync -v --store "$(store srv2)" $SINCE
expect_rc "server: bad auth exits 2" 2
expect_err "server: 401 is one sentence naming PREFECT_API_AUTH_STRING" \
	"Prefect at http://127\.0\.0\.1:$port rejected the credentials \(401: Unauthorized\); check PREFECT_API_AUTH_STRING \(user:password, as the server's PREFECT_SERVER_API_AUTH_STRING\)$"
expect_no "server: the bad auth string is in no output" "nope-Pw-31"

run "$DAGDOC" sync --store "$(store srv)" $SINCE etl_dayly
expect_rc "server: a flow typo exits 2" 2
expect_err "server: a flow typo gets a suggestion" "no flow named etl_dayly on prefect; did you mean etl_daily\?$"
unset PREFECT_API_AUTH_STRING

# ---- Prefect Cloud, API key, faults ------------------------------------------
cat >"$TMP/faults.json" <<'EOF'
[{"path": "/flow_runs/filter$", "kind": "429", "times": 1, "retry_after": "1"},
 {"path": "/logs/filter$", "kind": "503", "times": 2}]
EOF
start_fake fake_prefect.py cloud --mode cloud --world "$WORLD" --api-key "$KEY" --faults "$TMP/faults.json"
export PREFECT_API_URL="http://127.0.0.1:$port/api/accounts/$ACCOUNT/workspaces/$WORKSPACE"
run "$DAGDOC" sync --store "$(store cloud)" $SINCE
expect_rc "cloud: no key exits 2" 2
expect_err "cloud: no key is said before any request" "Prefect Cloud needs an API key; set PREFECT_API_KEY$"
eq "cloud: no request was sent without a key" "$(wc -l <"$TMP/cloud.req" | tr -d ' ')" "0"

PREFECT_API_KEY=pnu_WRONG123 run "$DAGDOC" sync -v --store "$(store cloud)" $SINCE
expect_rc "cloud: a bad key exits 2" 2
expect_err "cloud: 401 is one sentence naming PREFECT_API_KEY" \
	"Prefect Cloud at http://127\.0\.0\.1:$port rejected the credentials \(401: Invalid authentication credentials\); check PREFECT_API_KEY"
expect_no "cloud: the bad key is in no output" "pnu_WRONG123"

PREFECT_API_KEY="$KEY" run "$DAGDOC" sync -v --store "$(store cloud)" $SINCE sync_crm
expect_rc "cloud: 429 and 503 are retried, sync exits 0" 0
expect_out "cloud: described with its workspace" "\(prefect cloud \(workspace $WORKSPACE\)\)"
expect_err "cloud: the 429 retry is traced with its reason" "/flow_runs/filter -> 429 \([0-9]+ bytes, [0-9]+ ms\); retry 1 in 1\.0 s \(Retry-After\)$"
expect_no "cloud: the key is in no output" "$KEY"
eq "cloud: the faults were met" "$(grep -c ' fault=' "$TMP/cloud.req")" "3"

# ---- unreachable --------------------------------------------------------------
free_port=$("$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()')
PREFECT_API_URL="http://127.0.0.1:$free_port/api" run "$DAGDOC" sync --store "$(store x)" $SINCE
expect_rc "refused: exits 2" 2
expect_err "refused: one sentence" \
	"cannot reach http://127\.0\.0\.1:$free_port: connection refused \(3 attempts\); is the Prefect server running and is PREFECT_API_URL right\?$"

finish
