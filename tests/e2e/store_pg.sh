#!/usr/bin/env bash
# The store on PostgreSQL: dagdoc store migrate --to URL, the same triage
# from both backends and from a configuration's store URL, the URL's
# password never printed wherever the store is named (migrate, config,
# errors; even a password too short to be masked), one sync per source at
# a time.  On the test server tests/run.sh starts ($DAGDOC_TEST_PG), or,
# run by hand, its own (need_pg); it runs under make check's sanitizers too.
source "$(dirname "$0")/lib.sh"
need_pg
pw=Sekr1tStorePassw0rd
# with_pw URL [PASSWORD]: URL with a password ($pw unless given)
with_pw() { sed "s#://\([^@/]*\)@#://\1:${2:-$pw}@#" <<<"$1"; }
# too short for the masking of secrets (under 6 bytes): only the URL's
# redaction keeps it out of messages
short=Xq7Zk

/usr/bin/python3 "$ROOT/examples/demo/make_demo.py" "$TMP/demo" >/dev/null
cd "$TMP/demo" || exit 1
run "$DAGDOC" sync --config config.yaml --since 35d
expect_rc "sync into the SQLite store" 0

db=$("$ROOT/tests/lib/pg.sh" createdb "dd_e2e_$$_a")
run "$DAGDOC" store migrate --config config.yaml --to "$(with_pw "$db")"
expect_rc "store migrate: exit 0" 0
expect_out "store migrate: rows per table" "^  runs +30$"
expect_out "store migrate: the store redacted" "into ${db#postgresql://}|into $db"
expect_no "store migrate: no password" "$pw"
run "$DAGDOC" store migrate --config config.yaml --to "$db"
expect_rc "store migrate into a store with data: exit 2" 2
expect_err "store migrate into a store with data: refused" "already holds data"
run "$DAGDOC" store migrate --config config.yaml --to /tmp/x.db
expect_rc "store migrate needs a URL" 2

"$DAGDOC" triage train_churn --since 35d --config config.yaml --offline >"$TMP/lite.txt" 2>&1
run "$DAGDOC" triage train_churn --since 35d --config config.yaml --offline --store "$(with_pw "$db")"
expect_rc "triage from the copy: failing" 1
check "triage from the copy reads as from the file" diff "$TMP/lite.txt" "$TMP/out"

# the demo's configuration with the copy as its store
{ printf 'store: %s\nstore_password_env: DD_TEST_STORE_PW\n' "$(with_pw "$db")"; grep -v '^store:' config.yaml; } >pg.yaml
DD_TEST_STORE_PW=$pw run "$DAGDOC" config --config pg.yaml
expect_out "config: the store redacted" "^store: $db$"
expect_out "config: store_password_env" "^store_password_env: DD_TEST_STORE_PW"
expect_no "config: no password" "$pw"
run "$DAGDOC" config --config pg.yaml
expect_err "config: store_password_env naming an unset variable is warned about" \
	"store_password_env names DD_TEST_STORE_PW, which is not set in the environment"
DD_TEST_STORE_PW=$pw run "$DAGDOC" triage train_churn --since 35d --config pg.yaml --offline
check "triage from the configuration's store URL reads as from the file" diff "$TMP/lite.txt" "$TMP/out"

# wherever else the store is named, its password is left out, even a short one
run "$DAGDOC" config --config config.yaml --store "$(with_pw "$db" "$short")"
expect_out "config --store URL: the store redacted" "^store: $db$"
expect_no "config --store URL: no password" "$short"
DAGDOC_STORE=$(with_pw "$db" "$short") run "$DAGDOC" config --config config.yaml
expect_out "config with DAGDOC_STORE: the store redacted" "^store: $db$"
expect_no "config with DAGDOC_STORE: no password" "$short"
gone=$DAGDOC_TEST_PG/dd_e2e_$$_none
run "$DAGDOC" triage train_churn --since 35d --config config.yaml --offline --store "$(with_pw "$gone" "$short")"
expect_rc "a store it cannot connect to: exit 2" 2
expect_err "a store it cannot connect to: named without its password" "cannot connect to the store $gone: "
expect_no "a store it cannot connect to: no password" "$short"

# a sync straight into a fresh database answers as the file store does
fresh=$("$ROOT/tests/lib/pg.sh" createdb "dd_e2e_$$_b")
# empty so far: the message names it, not the configuration's dagdoc.db,
# and without its password, from --store or DAGDOC_STORE alike
run "$DAGDOC" triage train_churn --since 35d --config config.yaml --offline --store "$(with_pw "$fresh" "$short")"
expect_rc "an empty store: exit 2" 2
expect_err "an empty store from --store: that one named, without its password" "the store $fresh is empty: "
DAGDOC_STORE=$(with_pw "$fresh" "$short") run "$DAGDOC" triage train_churn --since 35d --config config.yaml --offline
expect_err "an empty store from DAGDOC_STORE: named without its password" "the store $fresh is empty: "
expect_no "an empty store from DAGDOC_STORE: not even a short password" "$short"
run "$DAGDOC" sync --config config.yaml --since 35d --store "$fresh"
expect_rc "sync into PostgreSQL" 0
run "$DAGDOC" triage train_churn --since 35d --config config.yaml --offline --store "$fresh"
check "triage after a PostgreSQL sync reads as from the file" diff "$TMP/lite.txt" "$TMP/out"

# one sync per source: a second one, while the first holds a batch open, is told so
fresh=$("$ROOT/tests/lib/pg.sh" createdb "dd_e2e_$$_c")
DAGDOC_TEST_SLOW_BATCH=1 "$DAGDOC" sync --config config.yaml --since 35d --store "$(with_pw "$fresh")" \
	>"$TMP/first.out" 2>"$TMP/first.err" &
first=$!
for _ in $(seq 300); do grep -qs "batch 1 open" "$TMP/first.err" && break; sleep 0.1; done
check "the first sync holds a batch open" grep -q "batch 1 open" "$TMP/first.err"
run "$DAGDOC" sync --config config.yaml --since 35d --store "$(with_pw "$fresh")"
expect_rc "a second sync of the source: exit 2" 2
expect_err "a second sync of the source: told why" \
	"another dagdoc is syncing source demo on this store; wait for it to finish \(or stop it\) and run sync again"
expect_no "a second sync: no password" "$pw"
kill -INT "$first" 2>/dev/null
wait "$first" 2>/dev/null
run "$DAGDOC" sync --config config.yaml --since 35d --store "$fresh"
expect_rc "after it stopped, sync runs" 0
finish
