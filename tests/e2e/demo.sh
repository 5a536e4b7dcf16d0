#!/usr/bin/env bash
# The bundled demo as a new user meets it: make_demo.py builds a folder
# whose config reads its paths from its own folder (so it can be moved and
# explored from anywhere), refreshes an earlier demo in place, and refuses
# a folder holding anything else.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
D="$TMP/demo"

run "$PY" "$ROOT/examples/demo/make_demo.py" "$D"
expect_rc "builds into a new folder" 0
check "the config names its paths relative to its folder" grep -qx 'store: dagdoc.db' "$D/config.yaml"

# from another working directory, the relative paths are the config's folder's
mkdir -p "$TMP/elsewhere"
run bash -c "cd '$TMP/elsewhere' && '$DAGDOC' triage train_churn --since 35d --config '$D/config.yaml'"
expect_rc "triage from another folder finds the failing DAG" 1
expect_out "the culprit commit, from the repository beside the config" 'Bump ML deps'
check "the store is written beside the config" test -s "$D/dagdoc.db"
check "and not in the working directory" test ! -e "$TMP/elsewhere/dagdoc.db"

# a moved demo still works
mv "$D" "$TMP/moved"
run "$DAGDOC" triage train_churn --since 35d --offline --config "$TMP/moved/config.yaml"
expect_rc "a moved demo triages offline from its own store" 1
expect_out "same answer after the move" 'pandas 1\.5\.3 -> 2\.0\.0'
mv "$TMP/moved" "$D"

# refresh in place
run "$PY" "$ROOT/examples/demo/make_demo.py" "$D"
expect_rc "building again over an earlier demo refreshes it" 0
run "$DAGDOC" triage train_churn --since 35d --config "$D/config.yaml"
expect_rc "the refreshed demo triages" 1
expect_out "with the same culprit" 'Bump ML deps'

mkdir -p "$TMP/other" && echo x >"$TMP/other/notes.txt"
run "$PY" "$ROOT/examples/demo/make_demo.py" "$TMP/other"
expect_rc "a folder with other files is refused" 1
expect_err "saying why" 'holds other files and no earlier demo'
check "and left as it was" test "$(ls "$TMP/other")" = notes.txt
run "$PY" "$ROOT/examples/demo/make_demo.py"
expect_rc "no folder: usage" 1
expect_err "usage line" '^usage: make_demo.py DIR'
finish
