#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests.
#
#   eval "$(tests/lib/pg.sh start DIR)"
#       initdb + start a server in DIR (created if missing): trust auth,
#       except for the roles in group dd_password, which log in over TCP
#       with their password (scram-sha-256: a test can see a wrong one
#       refused); superuser role dagdoc, 127.0.0.1 on a free port, unix
#       socket in DIR, fsync off, small shared_buffers, log in DIR/log.  Prints
#         export DAGDOC_TEST_PG=postgresql://dagdoc@127.0.0.1:PORT
#         export DAGDOC_TEST_PG_DIR=DIR
#       and nothing else on stdout; fails with the log's tail on stderr.
#   tests/lib/pg.sh createdb NAME
#       (re)creates database NAME on $DAGDOC_TEST_PG, prints $DAGDOC_TEST_PG/NAME.
#       The database has SQLite's group_concat(x[, sep]) and hex(blob), in
#       pg_catalog (so no search_path hides them and pg_dump leaves them
#       out), so that the tests' queries read both backends alike.
#   tests/lib/pg.sh copydb SRC NAME
#       (re)creates database NAME on $DAGDOC_TEST_PG as a copy of database
#       SRC (its template: the functions above come along), prints
#       $DAGDOC_TEST_PG/NAME.  Nobody may be connected to SRC (the server
#       waits a few seconds for sessions that are ending).
#   tests/lib/pg.sh stop DIR
#       stops the server (immediate: nothing in it is worth keeping), removes DIR
#
# As root the server runs as the `postgres` user (or `nobody`): initdb and
# postgres refuse root.  DIR's parents must then let that user through
# (mode o+x).  Otherwise it runs as the current user.  PG_BIN overrides the
# directory of the server's binaries (default: the newest
# /usr/lib/postgresql/*/bin, else PATH).
set -u

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

pg_bin() {
	if [ -n "${PG_BIN:-}" ]; then
		echo "$PG_BIN"
		return
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
	elif command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
	fi
}

bin=$(pg_bin)
psql=psql
[ -n "$bin" ] && [ -x "$bin/psql" ] && psql=$bin/psql
usage="usage: $0 start DIR | createdb NAME | copydb SRC NAME | stop DIR"

# as_owner CMD...: runs CMD as the user the server runs as
owner=
if [ "$(id -u)" = 0 ]; then
	if id -u postgres >/dev/null 2>&1; then owner=postgres; else owner=nobody; fi
fi
as_owner() {
	if [ -n "$owner" ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

log_tail() {
	[ -f "$1/log" ] && tail -n 25 "$1/log" | sed 's/^/    /' >&2
}

start() {
	local dir=$1
	[ -n "$bin" ] && [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] ||
		die "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or PATH; install Debian's postgresql"
	mkdir -p "$dir" || die "cannot create $dir"
	dir=$(cd "$dir" && pwd)
	if [ -n "$owner" ]; then
		chown "$owner" "$dir" || die "cannot give $dir to $owner"
		as_owner test -w "$dir" ||
			die "$owner cannot write $dir: a parent directory does not let it through (chmod o+x the parents)"
	fi
	if ! as_owner "$bin/initdb" -D "$dir/data" -U dagdoc --auth=trust -E UTF8 --locale=C --no-sync \
		>"$dir/initdb.log" 2>&1; then
		echo "pg.sh: initdb failed in $dir/data:" >&2
		tail -n 25 "$dir/initdb.log" | sed 's/^/    /' >&2
		exit 1
	fi
	# first match wins: this line before initdb's trust lines
	as_owner sh -c 'f=$1/pg_hba.conf; { echo "host all +dd_password 127.0.0.1/32 scram-sha-256"; cat "$f"; } >"$f.new" &&
		mv "$f.new" "$f"' sh "$dir/data" || die "cannot write $dir/data/pg_hba.conf"
	local port attempt
	for attempt in 1 2 3 4 5; do
		port=$(free_port) || die "cannot find a free port (python3)"
		rm -f "$dir/log"
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 -s start \
			-o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=200" \
			>/dev/null 2>"$dir/pg_ctl.err"; then
			if ! "$psql" -X -q -v ON_ERROR_STOP=1 -d "postgresql://dagdoc@127.0.0.1:$port/postgres" \
				-c "CREATE ROLE dd_password NOLOGIN" >/dev/null 2>"$dir/pg_ctl.err"; then
				echo "pg.sh: cannot create role dd_password on the server in $dir/data:" >&2
				sed 's/^/    /' "$dir/pg_ctl.err" >&2
				as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1
				exit 1
			fi
			echo "export DAGDOC_TEST_PG=postgresql://dagdoc@127.0.0.1:$port"
			echo "export DAGDOC_TEST_PG_DIR=$dir"
			return 0
		fi
		# someone took the port between our probe and the server's bind: again
		grep -q 'could not bind\|Address already in use\|could not create any TCP/IP sockets' "$dir/log" 2>/dev/null ||
			break
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1
	done
	echo "pg.sh: the PostgreSQL server in $dir/data did not start (port $port, attempt $attempt):" >&2
	sed 's/^/    /' "$dir/pg_ctl.err" >&2
	log_tail "$dir"
	as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1
	exit 1
}

valid_name() {
	[[ "$1" =~ ^[A-Za-z0-9_]+$ ]] || die "database name '$1': letters, digits and _ only"
}

# recreate NAME [TEMPLATE] [SQL]: drops database NAME if it exists (whoever
# is connected), makes it anew (from TEMPLATE, else template1) and runs SQL
# (from stdin) in it, all in one psql: a test may make dozens of databases.
# From PostgreSQL 15 on, copying the template's files is the faster way
# with fsync off.
recreate() {
	: "${DAGDOC_TEST_PG:?DAGDOC_TEST_PG is not set: eval \"\$(tests/lib/pg.sh start DIR)\" first}"
	valid_name "$1"
	valid_name "${2:-template1}"
	{
		cat <<'SQL'
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
SELECT :SERVER_VERSION_NUM >= 150000 AS file_copy \gset
\if :file_copy
CREATE DATABASE :"db" TEMPLATE :"template" STRATEGY = FILE_COPY;
\else
CREATE DATABASE :"db" TEMPLATE :"template";
\endif
\connect :url
SQL
		cat
	} | PGOPTIONS="-c client_min_messages=warning" "$psql" -X -q -v ON_ERROR_STOP=1 -d "$DAGDOC_TEST_PG/postgres" \
		-v db="$1" -v template="${2:-template1}" -v url="$DAGDOC_TEST_PG/$1" >/dev/null
}

createdb() {
	local name=$1
	recreate "$name" "" <<'SQL' ||
CREATE FUNCTION pg_catalog.dd_gc_step(acc text, v anyelement, sep text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v::text ELSE acc || sep || v::text END $$;
CREATE FUNCTION pg_catalog.dd_gc_step(acc text, v anyelement) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT pg_catalog.dd_gc_step(acc, v, ',') $$;
CREATE AGGREGATE pg_catalog.group_concat(anyelement, text) (SFUNC = pg_catalog.dd_gc_step, STYPE = text);
CREATE AGGREGATE pg_catalog.group_concat(anyelement) (SFUNC = pg_catalog.dd_gc_step, STYPE = text);
CREATE FUNCTION pg_catalog.hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT upper(encode($1, 'hex')) $$;
SQL
		die "cannot create database $name on $DAGDOC_TEST_PG with SQLite's functions"
	echo "$DAGDOC_TEST_PG/$name"
}

copydb() {
	local src=$1 name=$2
	valid_name "$src"
	recreate "$name" "$src" </dev/null || die "cannot copy database $src to $name on $DAGDOC_TEST_PG"
	echo "$DAGDOC_TEST_PG/$name"
}

stop() {
	local dir=$1
	[ -d "$dir" ] || return 0
	if [ -f "$dir/data/postmaster.pid" ] && [ -n "$bin" ]; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -s stop >/dev/null 2>&1
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start | stop | createdb)
	[ $# -eq 2 ] || die "$usage"
	"$1" "$2"
	;;
copydb)
	[ $# -eq 3 ] || die "$usage"
	copydb "$2" "$3"
	;;
*) die "$usage" ;;
esac
