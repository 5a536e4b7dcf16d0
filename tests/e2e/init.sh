#!/usr/bin/env bash
# The first run: `dagdoc init` writes a commented config from what it finds
# (sources in the environment, the git repository it runs in, its
# requirement files), never a secret's value, never over an existing file;
# with nothing configured, every command names the file and `dagdoc init`.
. "$(dirname "$0")/lib.sh"

repo="$TMP/pipelines"
mkdir -p "$repo/dags" "$repo/sub/dir"
git -C "$repo" init -q -b deploy
printf 'pandas==2.0.0\n' >"$repo/requirements.txt"
printf 'FROM apache/airflow:2.10.5-python3.11\n' >"$repo/Dockerfile"
printf 'notes\n' >"$repo/README.md"
cfg="$XDG_CONFIG_HOME/dagdoc/config.yaml"

run bash -c "cd '$repo/sub/dir' && DAGDOC_AIRFLOW_URL=https://airflow.example.com DAGDOC_AIRFLOW_USERNAME=ops \
	DAGDOC_AIRFLOW_PASSWORD=s3cretvalue42 PREFECT_API_URL=http://prefect.internal:4200/api \
	PREFECT_API_KEY=pnu_abcdefghijklmnop '$DAGDOC' init"
expect_rc "init writes the default config" 0
expect_out "says where" "^wrote $cfg\$"
expect_out "found the Airflow" 'found an Airflow at https://airflow\.example\.com \(DAGDOC_AIRFLOW_URL\)'
expect_out "found the Prefect API" 'found a Prefect API at http://prefect\.internal:4200/api'
expect_out "found the repository from a subfolder, with its branch" "found the git repository $repo \(branch deploy\)"
expect_out "found the requirement files" 'found requirement files Dockerfile, requirements\.txt'
expect_out "says what to do next" "^next: check it, then 'dagdoc sync' and 'dagdoc report'"
check "the file is private (0600)" test "$(stat -c %a "$cfg")" = 600
check "credentials go in as variable names" grep -q 'password_env: DAGDOC_AIRFLOW_PASSWORD' "$cfg"
check "the Prefect key as its variable" grep -q 'api_key_env: PREFECT_API_KEY' "$cfg"
check "no secret value in the file" bash -c "! grep -qE 's3cretvalue42|pnu_abc' '$cfg'"
check "the dags/ folder is mapped" grep -q 'to: dags/' "$cfg"
run env DAGDOC_AIRFLOW_PASSWORD=s3cretvalue42 "$DAGDOC" config
expect_rc "dagdoc reads what init wrote" 0
expect_out "with its sources" '^- name: airflow$'
expect_out "and the repository" "^- path: $repo\$"
expect_out "on the deployed branch" '^  branch: deploy$'

echo "# mine" >"$TMP/mine.yaml"
before=$(cat "$cfg")
run "$DAGDOC" init
expect_rc "a second init refuses" 2
expect_err "saying the file exists and was left" "already exists and was left as it is"
check "the file is unchanged" test "$(cat "$cfg")" = "$before"
run "$DAGDOC" init --config "$TMP/mine.yaml"
expect_rc "an existing --config file is not replaced either" 2
check "and keeps its content" test "$(cat "$TMP/mine.yaml")" = "# mine"

# nothing to find: a file that still loads and says what to add
mkdir -p "$TMP/empty"
run bash -c "cd '$TMP/empty' && '$DAGDOC' init --config '$TMP/new/first.yaml'"
expect_rc "init with nothing found" 0
expect_out "says it found nothing" 'found no source and no git repository'
expect_out "next step names the file" "next: add a source to it, then 'dagdoc sync --config $TMP/new/first.yaml'"
run "$DAGDOC" config --config "$TMP/new/first.yaml"
expect_rc "the empty-handed config loads" 0

# with nothing configured at all
rm -f "$cfg"
for cmd in sync "triage etl" report; do
	run $DAGDOC $cmd
	expect_rc "$cmd without a source: exit 2" 2
	expect_err "$cmd names the missing file and 'dagdoc init'" "no source is configured: $cfg does not exist.*run 'dagdoc init'"
	expect_no "$cmd does not point at --offline on an empty store" "\-\-offline' reads"
done
run "$DAGDOC" triage etl --offline
expect_rc "--offline on an empty store: exit 2" 2
expect_err "says the store is empty" 'the store .* is empty: nothing has been synced into it yet'
run "$DAGDOC" triage etl --offline --store "$TMP/other.db"
expect_err "an empty store named by --store: that one is named" "the store $TMP/other\.db is empty"
run "$DAGDOC" report --ofline
expect_rc "an option typo: exit 2" 2
expect_err "did you mean, for options too" "unknown option '--ofline' \(did you mean '--offline'\?\)"
finish
