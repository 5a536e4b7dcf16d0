#!/usr/bin/env bash
# make bench: runs every tests/bench/*.sh (except this file) in name order.
# Each script prints its own figures; a script that fails makes the run fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for s in "$here"/*.sh; do
	[ "$(basename "$s")" = run.sh ] && continue
	echo "== $(basename "$s")"
	if ! bash "$s"; then
		echo "bench $(basename "$s") failed"
		status=1
	fi
done
exit $status
