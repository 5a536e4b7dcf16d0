# Shared helpers for end-to-end scripts: source it, call the checks, end
# with `finish`.  Each check prints "ok - NAME" or "not ok - NAME" plus
# what differed; finish exits non-zero when any check failed.
#
#   run CMD...                  runs CMD, keeps $out (stdout), $errout (stderr), $rc
#   expect_rc NAME N            the last run exited N
#   expect_out NAME REGEX       stdout of the last run matches (grep -E)
#   expect_err NAME REGEX       stderr of the last run matches
#   expect_no NAME REGEX        neither stdout nor stderr matches
#   check NAME CMD...           CMD exits 0
#   start_fake SCRIPT NAME ARGS...  starts tests/fakes/SCRIPT on a free port (request log
#                               $TMP/NAME.req, stderr $TMP/NAME.err), sets $port; stopped at exit
#   start_hook NAME ARGS...     the same for tests/fakes/fake_webhook.py (requests in $TMP/NAME.rec)
#   new_store NAME              prints a fresh store for --store: $TMP/NAME.db, or with
#                               DAGDOC_TEST_BACKEND=postgresql a new database's URL
#   store NAME                  the store NAME of this test: made fresh by its first call
#                               (new_store), the same one after
#   copy_store SRC NAME         prints a fresh store NAME holding what store SRC holds (a copy
#                               of the file, or a database made from SRC as its template);
#                               no dagdoc may have SRC open
#   store_sql STORE SQL         runs SQL on STORE (sqlite3 or psql), rows '|'-separated, no header
#   store_dump STORE            everything STORE holds, to grep for what must not be there
#   store_lacks STORE TEXT      STORE can be read and holds no TEXT (for check)
#   store_log STORE SQL         prints the log whose zlib data SQL selects as hex(...) ("<none>")
#   need_pg                     a PostgreSQL server for a script that needs one whatever
#                               $BACKEND is (DAGDOC_TEST_PG; started here when unset)
#
# A script that runs on both backends says so in a line "# backends: sqlite
# postgresql" (tests/run.sh reads it); $BACKEND is the one of this run.
: "${DAGDOC:?DAGDOC must name the binary}"
: "${ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${SHARED:=$ROOT/../shared}"
_failed=0
TMP=$(mktemp -d)
_cleanup_fns=()
trap 'for f in "${_cleanup_fns[@]}"; do $f; done; rm -rf "$TMP"' EXIT
at_exit() { _cleanup_fns+=("$1"); }

# Commands run with an empty configuration and store unless a test says otherwise.
export XDG_CONFIG_HOME="$TMP/config" XDG_STATE_HOME="$TMP/state" HOME="$TMP/home"
unset DAGDOC_AIRFLOW_URL DAGDOC_AIRFLOW_USERNAME DAGDOC_AIRFLOW_PASSWORD DAGDOC_AIRFLOW_TOKEN \
      PREFECT_API_URL PREFECT_API_KEY PREFECT_API_AUTH_STRING DAGDOC_STORE NO_COLOR
mkdir -p "$HOME"

run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	errout=$(cat "$TMP/err")
}

_pass() { echo "ok - $1"; }
_fail() {
	echo "not ok - $1"
	shift
	for l in "$@"; do printf '    %s\n' "$l"; done
	_failed=$((_failed + 1))
}

expect_rc() {
	if [ "$rc" = "$2" ]; then _pass "$1"; else _fail "$1" "exit $rc, wanted $2" "stdout: ${out:0:600}" "stderr: ${errout:0:600}"; fi
}
expect_out() {
	if grep -Eq -- "$2" <<<"$out"; then _pass "$1"; else _fail "$1" "stdout lacks /$2/" "stdout: ${out:0:800}" "stderr: ${errout:0:400}"; fi
}
expect_err() {
	if grep -Eq -- "$2" <<<"$errout"; then _pass "$1"; else _fail "$1" "stderr lacks /$2/" "stderr: ${errout:0:800}"; fi
}
expect_no() {
	if grep -Eq -- "$2" <<<"$out$errout"; then _fail "$1" "output has /$2/" "stdout: ${out:0:600}" "stderr: ${errout:0:600}"; else _pass "$1"; fi
}
check() {
	local name=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then _pass "$name"; else _fail "$name" "$(head -20 "$TMP/check.out")"; fi
}
_fake_pids=()
_stop_fakes() { for p in "${_fake_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
at_exit _stop_fakes
start_fake() {
	local script=$1 name=$2
	shift 2
	rm -f "$TMP/$name.port"
	/usr/bin/python3 "$ROOT/tests/fakes/$script" --port-file "$TMP/$name.port" \
		--request-log "$TMP/$name.req" "$@" 2>"$TMP/$name.err" &
	_fake_pids+=($!)
	for _ in $(seq 100); do
		[ -s "$TMP/$name.port" ] && break
		sleep 0.1
	done
	port=$(cat "$TMP/$name.port" 2>/dev/null)
}
# start_hook NAME ARGS...: tests/fakes/fake_webhook.py on a free port, answering on
# $SECRET_PATH (requests recorded in $TMP/NAME.rec, stderr $TMP/NAME.err); sets $port,
# $hook_pid; stopped at exit
start_hook() {
	local name=$1
	shift
	/usr/bin/python3 "$ROOT/tests/fakes/fake_webhook.py" --port-file "$TMP/$name.port" --record "$TMP/$name.rec" \
		--path "${SECRET_PATH:-/services/T000/B000/XXXXSECRET}" "$@" 2>"$TMP/$name.err" &
	hook_pid=$!
	_fake_pids+=($hook_pid)
	for _ in $(seq 100); do
		[ -s "$TMP/$name.port" ] && break
		sleep 0.05
	done
	port=$(cat "$TMP/$name.port" 2>/dev/null)
}
# ---- the store's backend ------------------------------------------------
# SQLite by default.  With DAGDOC_TEST_BACKEND=postgresql, stores are
# databases on the server $DAGDOC_TEST_PG (tests/run.sh starts one per run);
# without it (a script run by hand) this script starts its own in $TMP.
# No PostgreSQL: the script ends in one skip line, or fails when
# DAGDOC_REQUIRE_SHARED=1.
BACKEND=${DAGDOC_TEST_BACKEND:-sqlite}
_pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
_psql=${_pg_bin:+$_pg_bin/}psql
_pg_dump=${_pg_bin:+$_pg_bin/}pg_dump
# need_pg: $DAGDOC_TEST_PG names a server (tests/run.sh's, or one started
# here in $TMP for this script alone)
need_pg() {
	[ -n "${DAGDOC_TEST_PG:-}" ] && return 0
	chmod 711 "$TMP"   # the server's user (postgres, when we are root) goes through
	if _pg_env=$("$ROOT/tests/lib/pg.sh" start "$TMP/pg" 2>"$TMP/pg.err"); then
		eval "$_pg_env"
		_stop_pg() { "$ROOT/tests/lib/pg.sh" stop "$TMP/pg"; }
		at_exit _stop_pg
	elif [ "${DAGDOC_REQUIRE_SHARED:-0}" = 1 ]; then
		_fail "postgresql: a test server starts" "$(cat "$TMP/pg.err")"
		exit 1
	else
		echo "skip - postgresql not available: $(head -1 "$TMP/pg.err")"
		exit 0
	fi
}
case "$BACKEND" in
sqlite) ;;
postgresql) need_pg ;;
*)
	_fail "DAGDOC_TEST_BACKEND=$BACKEND is known" "sqlite or postgresql"
	exit 1
	;;
esac
_n_stores=0
new_store() {
	case "$BACKEND" in
	sqlite)
		rm -f "$TMP/$1.db" "$TMP/$1.db-wal" "$TMP/$1.db-shm"
		echo "$TMP/$1.db"
		;;
	postgresql)
		"$ROOT/tests/lib/pg.sh" createdb "$(_pg_db "$1")"
		;;
	esac
}
# _pg_db NAME: the database of store NAME, unique on the server that the
# scripts running at once share
_pg_db() { printf 'dd%s_%s' "$$" "$1" | tr -c 'A-Za-z0-9_' _ | cut -c1-63; }
copy_store() {
	case "$BACKEND" in
	sqlite)
		local to
		to=$(new_store "$2") && cp "$1" "$to" && echo "$to"
		;;
	postgresql) "$ROOT/tests/lib/pg.sh" copydb "${1##*/}" "$(_pg_db "$2")" ;;
	esac
}
store() {
	if [ ! -e "$TMP/stores/$1" ]; then
		mkdir -p "$TMP/stores"
		new_store "$1" >"$TMP/stores/$1.tmp" && mv "$TMP/stores/$1.tmp" "$TMP/stores/$1"
	fi
	cat "$TMP/stores/$1"
}
_is_url() { case "$1" in postgres://* | postgresql://*) return 0 ;; esac; return 1; }
# psql prints as sqlite3 does: unaligned, '|' between columns, no header,
# NULL empty.  tests/lib/pg.sh createdb gives each database SQLite's
# group_concat(x[, sep]) and hex(blob), so one query serves both.
store_sql() {
	if _is_url "$1"; then
		PGOPTIONS="-c client_min_messages=warning" "$_psql" -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$1" -c "$2"
	else
		sqlite3 "$1" "$2"
	fi
}
store_dump() {
	if _is_url "$1"; then
		"$_pg_dump" --data-only "$1"
	else
		cat "$1" && if [ -f "$1-wal" ]; then cat "$1-wal"; fi
	fi
}
store_lacks() {
	store_dump "$1" >"$TMP/dump" || { echo "cannot read the store $1"; return 1; }
	[ -s "$TMP/dump" ] || { echo "the store $1 is empty"; return 1; }
	! grep -aqF -- "$2" "$TMP/dump"
}
store_log() {
	store_sql "$1" "$2" | /usr/bin/python3 -c 'import sys, zlib
h = sys.stdin.read().strip()
sys.stdout.write(zlib.decompress(bytes.fromhex(h)).decode() if h else "<none>")'
}
# yesterday_reports STORE: the reports STORE recorded so far were made a day earlier
yesterday_reports() {
	store_sql "$1" "UPDATE report_history SET report_ms = report_ms - 86400000"
}
# need_shared NAME PATH: PATH is data beside the repository (../shared), which
# a user's clone does not have.  Without it the script ends here with one
# "skip - NAME: ..." line, unless DAGDOC_REQUIRE_SHARED=1 (CI), where a
# missing PATH is a failure.
need_shared() {
	[ -e "$2" ] && return 0
	if [ "${DAGDOC_REQUIRE_SHARED:-0}" = 1 ]; then
		_fail "$1: $2 is present" "DAGDOC_REQUIRE_SHARED=1 and $2 is missing (set SHARED to the folder beside the repository)"
		finish
	fi
	echo "skip - $1: $2 is not here (it lives beside the repository, not in it); DAGDOC_REQUIRE_SHARED=1 makes this a failure"
	exit 0
}
finish() {
	[ "$_failed" -eq 0 ]
	exit $?
}
