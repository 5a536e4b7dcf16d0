#!/usr/bin/env bash
# Credentials that arrive inside URLs and log text never reach output.
. "$(dirname "$0")/lib.sh"

export DAGDOC_AIRFLOW_URL='https://bob:s3cr3tPW@af.example.com/?token=abc123tok'
run "$DAGDOC" config
expect_out "config shows the source URL" 'url: https://bob:\*\*\*\*@af\.example\.com/'
expect_no "no password from the URL in config" 's3cr3tPW'
expect_no "no token from the URL's query in config" 'abc123tok'
unset DAGDOC_AIRFLOW_URL

hook='https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/aBcDeFgHiJkLmNoPqRsTuVwX'
printf 'Traceback (most recent call last):\n  File "/opt/airflow/dags/x.py", line 3, in f\n    post()\nValueError: cannot post to %s\n' "$hook" >"$TMP/hook.log"
run "$DAGDOC" classify --format json "$TMP/hook.log"
expect_rc "classify finds the failure" 1
expect_no "a Slack webhook URL in a log is redacted" 'aBcDeFgHiJkLmNoPqRsTuVwX'
printf 'sqlalchemy.exc.OperationalError: could not connect to postgresql://etl:TopSecretPw99@db:5432/wh\n' >"$TMP/dsn.log"
run "$DAGDOC" classify --format json "$TMP/dsn.log"
expect_no "a password in a connection URI in a log is redacted" 'TopSecretPw99'
finish
