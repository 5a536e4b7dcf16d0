#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (the store's PostgreSQL half).
#
#   eval "$(tests/lib/pg.sh start DIR)"   initdb into DIR (as an unprivileged
#        user: "postgres" when run as root), a free port on 127.0.0.1, the
#        unix socket in DIR, fsync off; prints the exports of
#        DAGDOC_TEST_PG (base URL without a database, user dagdoc, trust
#        authentication) and DAGDOC_TEST_PG_DIR
#   tests/lib/pg.sh createdb NAME          prints the URL of a fresh empty database
#   tests/lib/pg.sh stop DIR
#
# Minimal version; the test harness owner's fuller one replaces it.
set -euo pipefail

bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -n "$d" ] && [ -x "$d/initdb" ] || { echo "pg.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 1; }
	echo "$d"
}

as_owner() {   # runs "$@" as the server's owner
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
	dir=${2:?usage: pg.sh start DIR}
	bin=$(bindir)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	as_owner "$bin/initdb" -D "$dir/data" -A trust -U dagdoc >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
		"-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
	echo "export DAGDOC_TEST_PG=postgresql://dagdoc@127.0.0.1:$port"
	echo "export DAGDOC_TEST_PG_DIR=$dir"
	;;
createdb)
	name=${2:?usage: pg.sh createdb NAME}
	: "${DAGDOC_TEST_PG:?pg.sh: start a server first}"
	psql -q -X -v ON_ERROR_STOP=1 "$DAGDOC_TEST_PG/postgres" -c "CREATE DATABASE \"$name\"" >/dev/null
	echo "$DAGDOC_TEST_PG/$name"
	;;
stop)
	dir=${2:?usage: pg.sh stop DIR}
	bin=$(bindir)
	as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: pg.sh start DIR | createdb NAME | stop DIR" >&2
	exit 2
	;;
esac
