#!/usr/bin/env bash
# Crash safety: a sync killed with SIGKILL inside a batch leaves the store
# intact (PRAGMA integrity_check) with only whole batches, and the next sync
# completes; Ctrl-C (SIGINT) stops after the current batch with exit 2.
#
# DAGDOC_TEST_SLOW_BATCH=N (test only, see src/cmd/cli_session.c) makes each run
# batch print "dagdoc sync: test: batch K open" inside its transaction and
# batch N wait there, so the kill lands mid-transaction deterministically.
. "$(dirname "$0")/lib.sh"

FIX="$ROOT/tests/fixtures/logdir/current"
DB="$TMP/dagdoc.db"
cat >"$TMP/config.yaml" <<YAML
sources:
  - name: local
    kind: logs
    path: $FIX
YAML
q() { sqlite3 "$DB" "$1"; }
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
# Waits (up to 30 s) until file $1 contains $2.
wait_for() {
	for _ in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
pid=
stop_writer() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
at_exit stop_writer

# 1. SIGKILL while batch 3 (the third run of etl_daily) is open.
DAGDOC_TEST_SLOW_BATCH=3 "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d \
	>"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
check "writer reaches batch 3 inside its transaction" wait_for "$TMP/k.err" "batch 3 open"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
krc=$?
pid=
eq "writer died of SIGKILL" "$krc" "137"
eq "integrity_check after SIGKILL" "$(q "PRAGMA integrity_check")" "ok"
eq "only the two committed run batches are stored" "$(q "SELECT group_concat(run_id, ' ') FROM (SELECT run_id FROM runs ORDER BY logical_ms)")" \
	"scheduled__2026-03-01T02:00:00+00:00 scheduled__2026-03-02T02:00:00+00:00"
eq "the killed batch left no task instance behind" "$(q "SELECT count(*) FROM task_instances ti LEFT JOIN runs r ON r.id = ti.run_ref WHERE r.id IS NULL OR r.run_id LIKE '%03-03%'")" "0"
eq "foreign keys consistent" "$(q "PRAGMA foreign_key_check")" ""

run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d
expect_rc "next sync completes" 0
expect_out "next sync stores the rest" '^synced 2 DAGs from local .*: 6 runs \(4 new\), 7 tries, 12 logs'
eq "store complete after resume" "$(q "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tries) || ' ' || (SELECT count(*) FROM logs)")" "6 12 12"
eq "integrity_check after resume" "$(q "PRAGMA integrity_check")" "ok"

# 2. SIGINT while batch 2 is open: that batch commits, then exit 2.
rm -f "$DB" "$DB-wal" "$DB-shm"
DAGDOC_TEST_SLOW_BATCH=2 "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d \
	>"$TMP/i.out" 2>"$TMP/i.err" &
pid=$!
check "writer reaches batch 2" wait_for "$TMP/i.err" "batch 2 open"
kill -INT "$pid"
wait "$pid"
irc=$?
pid=
eq "Ctrl-C exits 2" "$irc" "2"
check "Ctrl-C says how to finish" grep -q "^dagdoc sync: interrupted; run the same command again to finish$" "$TMP/i.err"
eq "Ctrl-C: the open batch was committed, nothing after it" "$(q "SELECT count(*) FROM runs")" "2"
eq "integrity_check after Ctrl-C" "$(q "PRAGMA integrity_check")" "ok"
run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d
expect_rc "sync after Ctrl-C completes" 0
eq "store complete after Ctrl-C and resume" "$(q "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tries) || ' ' || (SELECT count(*) FROM logs)")" "6 12 12"

finish
