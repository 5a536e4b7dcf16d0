#!/usr/bin/env bash
# Crash safety: a sync killed with SIGKILL inside a batch leaves the store
# intact with only whole batches, and the next sync
# completes; Ctrl-C (SIGINT) stops after the current batch with exit 2.
# Intact is the file's own checks on SQLite (PRAGMA integrity_check,
# foreign_key_check); on PostgreSQL the server ends the killed writer's
# session, which rolls its transaction back and releases its sync lock.
#
# DAGDOC_TEST_SLOW_BATCH=N (test only, see src/cmd/cli_session.c) makes each run
# batch print "dagdoc sync: test: batch K open" inside its transaction and
# batch N wait there, so the kill lands mid-transaction deterministically.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

FIX="$ROOT/tests/fixtures/logdir/current"
DB=$(store killed)
cat >"$TMP/config.yaml" <<YAML
sources:
  - name: local
    kind: logs
    path: $FIX
YAML
q() { store_sql "$DB" "$1"; }
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
# Waits (up to 30 s) until CMD... succeeds.
wait_for() {
	for _ in $(seq 300); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# PostgreSQL: the dagdoc sessions on this store's database, each as its
# state and how many advisory locks (the sync lock) it holds
pg_writers() {
	q "SELECT a.state || ' ' || count(l.pid) FROM pg_stat_activity a
	  LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
	  WHERE a.datname = current_database() AND a.application_name = 'dagdoc' GROUP BY a.pid, a.state"
}
no_writer() { [ -z "$(pg_writers)" ]; }
pid=
stop_writer() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=; }
at_exit stop_writer

# 1. SIGKILL while batch 3 (the third run of etl_daily) is open.
DAGDOC_TEST_SLOW_BATCH=3 "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d \
	>"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
check "writer reaches batch 3 inside its transaction" wait_for grep -q "batch 3 open" "$TMP/k.err"
[ "$BACKEND" = postgresql ] &&
	eq "the writer's session is inside a transaction, holding the source's sync lock" "$(pg_writers)" "idle in transaction 1"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
krc=$?
pid=
eq "writer died of SIGKILL" "$krc" "137"
if [ "$BACKEND" = sqlite ]; then
	eq "integrity_check after SIGKILL" "$(q "PRAGMA integrity_check")" "ok"
	eq "foreign keys consistent" "$(q "PRAGMA foreign_key_check")" ""
else
	# the server notices the closed connection on its own, soon but not at once
	check "the server ends the killed writer's session: its transaction rolled back, its sync lock released" \
		wait_for no_writer
fi
eq "only the two committed run batches are stored" "$(q "SELECT group_concat(run_id, ' ') FROM (SELECT run_id FROM runs ORDER BY logical_ms) AS r")" \
	"scheduled__2026-03-01T02:00:00+00:00 scheduled__2026-03-02T02:00:00+00:00"
eq "the killed batch left no task instance behind" "$(q "SELECT count(*) FROM task_instances ti LEFT JOIN runs r ON r.id = ti.run_ref WHERE r.id IS NULL OR r.run_id LIKE '%03-03%'")" "0"

run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d
expect_rc "next sync completes" 0
expect_out "next sync stores the rest" '^synced 2 DAGs from local .*: 6 runs \(4 new\), 7 tries, 12 logs'
eq "store complete after resume" "$(q "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tries) || ' ' || (SELECT count(*) FROM logs)")" "6 12 12"
if [ "$BACKEND" = sqlite ]; then
	eq "integrity_check after resume" "$(q "PRAGMA integrity_check")" "ok"
	eq "foreign keys consistent after resume" "$(q "PRAGMA foreign_key_check")" ""
fi

# 2. SIGINT while batch 2 is open: that batch commits, then exit 2.
DB=$(store interrupted)
DAGDOC_TEST_SLOW_BATCH=2 "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d \
	>"$TMP/i.out" 2>"$TMP/i.err" &
pid=$!
check "writer reaches batch 2" wait_for grep -q "batch 2 open" "$TMP/i.err"
kill -INT "$pid"
wait "$pid"
irc=$?
pid=
eq "Ctrl-C exits 2" "$irc" "2"
check "Ctrl-C says how to finish" grep -q "^dagdoc sync: interrupted; run the same command again to finish$" "$TMP/i.err"
eq "Ctrl-C: the open batch was committed, nothing after it" "$(q "SELECT count(*) FROM runs")" "2"
[ "$BACKEND" = sqlite ] && eq "integrity_check after Ctrl-C" "$(q "PRAGMA integrity_check")" "ok"
run "$DAGDOC" sync --config "$TMP/config.yaml" --store "$DB" --since 3650d
expect_rc "sync after Ctrl-C completes" 0
eq "store complete after Ctrl-C and resume" "$(q "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tries) || ' ' || (SELECT count(*) FROM logs)")" "6 12 12"

finish
