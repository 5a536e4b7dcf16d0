#!/usr/bin/env bash
# Runs every unit test binary ($BUILD/tests/test_*, cmocka) and every
# end-to-end script (tests/e2e/*.sh), counts the cases and closes with
# "N passed, N failed".  Exits non-zero when anything failed.
#
# An e2e script reports each case as a line "ok - NAME" or "not ok - NAME"
# (tests/e2e/lib.sh does this) and exits non-zero when any case failed.
# TESTS=pattern limits the run to files whose name contains the pattern.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
export ROOT="$root"
export DAGDOC="${DAGDOC:-$root/$build/dagdoc}"
export SHARED="${SHARED:-$root/../shared}"
filter=${TESTS:-}
passed=0 failed=0 skipped=0
failures=()
skips=()
out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT
# dagdoc's caches (pattern prefilter, git answers) of this run, not the user's
export XDG_CACHE_HOME="$out_dir/cache"
# One throwaway PostgreSQL server for the run (the store's PostgreSQL half),
# unless one is given; without it those tests skip (fail under CI's
# DAGDOC_REQUIRE_SHARED=1).
pg_dir=
if [ -z "${DAGDOC_TEST_PG:-}" ] && [ -x "$root/tests/lib/pg.sh" ]; then
	pg_dir=$(mktemp -d /tmp/dagdoc-pg-XXXXXX)
	if pg_env=$("$root/tests/lib/pg.sh" start "$pg_dir" 2>"$out_dir/pg.err"); then
		eval "$pg_env"
	else
		echo "no PostgreSQL test server: $(tail -1 "$out_dir/pg.err")"
	fi
fi
trap '[ -n "$pg_dir" ] && "$root/tests/lib/pg.sh" stop "$pg_dir"; rm -rf "$out_dir"' EXIT

count_cmocka() {   # $1 = output file; sets p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
}

count_tap() {      # $1 = output file; sets p f k
	p=$(grep -c '^ok - ' "$1")
	f=$(grep -c '^not ok - ' "$1")
	k=$(grep -c '^skip - ' "$1")
}

run_one() {        # $1 = kind, $2 = name, rest = command
	local kind=$1 name=$2
	shift 2
	local log="$out_dir/$(basename "$name").log"
	"$@" >"$log" 2>&1
	local rc=$?
	k=0
	if [ "$kind" = unit ]; then count_cmocka "$log"; else count_tap "$log"; fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$k" -eq 0 ]; then p=1; fi
	skipped=$((skipped + k))
	if [ "$k" -ne 0 ]; then skips+=("$(grep -m1 '^skip - ' "$log" | cut -c8-)"); fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures+=("$name")
		echo "FAIL $name (exit $rc)"
		grep -E '^not ok|FAILED|ERROR|Assert|error|failed' "$log" | head -40 | sed 's/^/    /'
	else
		echo "pass $name ($p)"
	fi
}

for t in "$root/$build"/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	run_one unit "unit/$(basename "$t")" "$t"
done
for t in "$root"/tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue
	case "$t" in *"$filter"*) ;; *) continue ;; esac
	run_one e2e "e2e/$(basename "$t")" bash "$t"
done

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "failed: ${failures[*]}"
fi
for s in "${skips[@]}"; do echo "skipped: $s"; done
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
