#!/usr/bin/env bash
# Configuration: file, environment, masking, errors with file:line:col.
. "$(dirname "$0")/lib.sh"

# Environment only.
export DAGDOC_AIRFLOW_URL=http://airflow.example:8080 DAGDOC_AIRFLOW_TOKEN=s3cr3t-t0ken-value
export PREFECT_API_URL=http://prefect.example:4200/api PREFECT_API_KEY=pnu_supersecretkey
run "$DAGDOC" config
expect_rc "config from environment exits 0" 0
expect_out "airflow source from DAGDOC_AIRFLOW_URL" 'url: http://airflow.example:8080'
expect_out "prefect source from PREFECT_API_URL" 'url: http://prefect.example:4200/api'
expect_out "token masked" 'token: ["'"'"']?\*\*\*\*'
expect_out "api key masked" 'api_key: ["'"'"']?\*\*\*\*'
expect_no "token never printed" 's3cr3t-t0ken-value'
expect_no "api key never printed" 'pnu_supersecretkey'
expect_out "default store under XDG_STATE_HOME" "store: $XDG_STATE_HOME/dagdoc/dagdoc.db"

# A complete file; credentials from named variables.
mkdir -p "$XDG_CONFIG_HOME/dagdoc"
cat >"$XDG_CONFIG_HOME/dagdoc/config.yaml" <<'YAML'
store: ~/dagdoc-test.db
patterns: [~/my-patterns]
sources:
  - name: prod
    kind: airflow
    url: https://airflow.prod.example
    username: admin
    password_env: PROD_AIRFLOW_PASSWORD
    concurrency: 4
    max_log_mb: 8
  - name: local
    kind: logs
    path: /var/log/airflow
repos:
  - path: ~/src/pipelines
    deploy_lag: 2h
    map:
      - from: /opt/airflow/dags/
        to: dags/
YAML
chmod 600 "$XDG_CONFIG_HOME/dagdoc/config.yaml"
export PROD_AIRFLOW_PASSWORD=hunter2-very-secret
run "$DAGDOC" config
expect_rc "config file exits 0" 0
expect_out "file source read" 'name: prod'
expect_out "home expanded in store" "store: $HOME/dagdoc-test.db"
expect_out "password from the named variable is masked" 'password: ["'"'"']?\*\*\*\*'
expect_no "password never printed" 'hunter2-very-secret'
expect_out "deploy lag shown as written" 'deploy_lag: 2h$'
expect_out "map kept" 'from: /opt/airflow/dags/'
expect_out "default requirement globs" 'requirements\*\.txt'
expect_out "concurrency read" 'concurrency: 4'
expect_out "env airflow source not added when the file has one" 'name: prefect'
expect_no "file airflow source wins over DAGDOC_AIRFLOW_URL" 'airflow.example:8080'

run "$DAGDOC" config --store /tmp/other.db
expect_out "--store overrides the file" 'store: /tmp/other.db'
DAGDOC_STORE=/tmp/env.db run "$DAGDOC" config
expect_out "DAGDOC_STORE overrides the file" 'store: /tmp/env\.db$'
DAGDOC_STORE=/tmp/env.db run "$DAGDOC" config --store /tmp/other.db
expect_out "--store overrides DAGDOC_STORE" 'store: /tmp/other\.db$'

# Errors: file, line, column, what was expected.
bad="$TMP/bad.yaml"
printf 'sources:\n  - name: x\n    kind: airflow\n    urll: http://x\n' >"$bad"
run "$DAGDOC" config --config "$bad"
expect_rc "unknown key exits 2" 2
expect_err "unknown key located and listed" "$bad:4:5: unknown key 'urll' in a source; expected one of: name, kind, url"

printf 'sources:\n  - name: x\n    kind: oozie\n    url: http://x\n' >"$bad"
run "$DAGDOC" config --config "$bad"
expect_err "bad kind located" "$bad:3:11: kind must be airflow, prefect or logs, not 'oozie'"

printf 'sources:\n  - name: x\n    kind: airflow\n    url: [unclosed\n' >"$bad"
run "$DAGDOC" config --config "$bad"
expect_rc "broken YAML exits 2" 2
expect_err "broken YAML located" "$bad:[0-9]+:[0-9]+: "

printf 'sources:\n  - name: x\n    kind: airflow\n' >"$bad"
run "$DAGDOC" config --config "$bad"
expect_err "missing url explained" "$bad:2:5: source x needs 'url'"

printf 'sources:\n  - {name: x, kind: airflow, url: "http://x", concurrency: lots}\n' >"$bad"
run "$DAGDOC" config --config "$bad"
expect_err "bad number explained" "'concurrency' must be a whole number from 1 to 64, not 'lots'"

run "$DAGDOC" config --config "$TMP/missing.yaml"
expect_rc "missing explicit file exits 2" 2
expect_err "missing file named" "cannot read the configuration $TMP/missing.yaml"

# A literal secret in a group-readable file is warned about, and never printed.
lit="$TMP/literal.yaml"
printf 'sources:\n  - name: x\n    kind: airflow\n    url: http://x\n    token: literal-token-abc\n' >"$lit"
chmod 644 "$lit"
run "$DAGDOC" config --config "$lit"
expect_rc "literal secret still loads" 0
expect_err "literal secret warned" "source x holds a literal token"
expect_err "readable file warned" "readable by group or others; run: chmod 600"
expect_no "literal token never printed" 'literal-token-abc'
chmod 600 "$lit"
run "$DAGDOC" config --config "$lit"
expect_no "no permission warning at 600" 'readable by group'
finish
