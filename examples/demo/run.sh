#!/usr/bin/env bash
# `make demo`: builds the bundled example (a 30-day Airflow log folder and
# the pipeline's git repository, see make_demo.py) and runs dagdoc triage
# on it.  No server, no network.  The demo is kept in $DEMO_DIR (default
# build/demo in the source tree) to explore; running again refreshes it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${DEMO_DIR:-$root/build/demo}
/usr/bin/python3 "$root/examples/demo/make_demo.py" "$out"
out=$(cd "$out" && pwd)
echo "\$ cd $out && dagdoc triage train_churn --since 35d      # 30 days of Airflow logs + the pipeline's repository"
echo
set +e
(cd "$out" && "$root/dagdoc" triage train_churn --since 35d --config config.yaml "$@")
rc=$?
set -e
echo
echo "(exit status $rc: 1 means the DAG is failing)"
echo
echo "The demo is in $out (config.yaml, logs/, repo/, dagdoc.db); to explore it:"
echo "  cd $out"
echo "  $root/dagdoc --config config.yaml triage train_churn --since 35d --explain"
echo "  $root/dagdoc --config config.yaml report --since 35d"
echo "  $root/dagdoc --config config.yaml runbook train_churn"
echo "'make demo' again rebuilds it with today's dates."
[ "$rc" -le 1 ]
