#!/usr/bin/env bash
# `make demo`: builds the bundled example (a log folder and a git repository,
# see make_demo.py) in a temporary directory and runs dagdoc triage on it.
# No server, no network.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/dagdoc-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT
python3 "$root/examples/demo/make_demo.py" "$out"
echo "\$ dagdoc triage train_churn      # a 30-day Airflow log folder + the pipeline's git repository"
echo
set +e
"$root/dagdoc" triage train_churn --since 35d --config "$out/config.yaml" "$@"
rc=$?
set -e
echo
echo "(exit status $rc: 1 means the DAG is failing)"
[ "$rc" -le 1 ]
