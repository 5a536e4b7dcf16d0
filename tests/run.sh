#!/usr/bin/env bash
# Runs every unit test binary ($BUILD/tests/test_*, cmocka) and every
# end-to-end script (tests/e2e/*.sh), counts the cases and closes with
# "N passed, N failed".  Exits non-zero when anything failed.
#
# An e2e script reports each case as a line "ok - NAME" or "not ok - NAME"
# (tests/e2e/lib.sh does this) and exits non-zero when any case failed.
# TESTS=pattern limits the run to files whose name contains the pattern.
#
# JOBS=N runs N tests at a time (default: twice the number of cores).  Each
# test's output is kept in its own file and reported in the same order as a
# serial run: units, then e2e scripts by name.  Each script runs in a
# folder of its own under the run's temporary folder.  Scripts with a line
# "# slow" start first (both runs of them).  TIMES=1 adds how long each
# took, slowest first, before the closing lines.
#
# A script with a line "# backends: sqlite postgresql" runs twice, the
# second time as NAME[postgresql] with DAGDOC_TEST_BACKEND=postgresql;
# "# backends: postgresql" runs only that way.  They share one throwaway
# PostgreSQL server (tests/lib/pg.sh), started here when any such script or
# a unit test is selected (test_store runs on both too); DAGDOC_TEST_PG is
# its URL (or, when set already, names the server to use).  Without PostgreSQL those runs are
# skipped, or fail the run when DAGDOC_REQUIRE_SHARED=1 (CI).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
export ROOT="$root"
export DAGDOC="${DAGDOC:-$root/$build/dagdoc}"
export SHARED="${SHARED:-$root/../shared}"
filter=${TESTS:-}
# (twice the cores: the scripts mostly wait on fakes, servers and sleeps)
jobs=${JOBS:-$(( $(nproc 2>/dev/null || echo 2) * 2 ))}
# DAGDOC_TEST_BACKENDS: the backends the "# backends" scripts run on
# (default both; `make check` runs them on sqlite only: the sanitizers see
# the same code, the store's PostgreSQL half through its unit tests)
run_backends=${DAGDOC_TEST_BACKENDS:-sqlite postgresql}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || jobs=2
passed=0 failed=0 skipped=0
failures=()
skips=()
out_dir=$(mktemp -d)
pg_dir=$out_dir/pg
# the PostgreSQL server, when one runs, is stopped before its folder goes
trap '[ -d "$pg_dir" ] && "$root/tests/lib/pg.sh" stop "$pg_dir"; rm -rf "$out_dir"' EXIT
# dagdoc's caches (pattern prefilter, git answers) of this run, not the user's;
# shared by the tests that run at once: a cache file is written to a
# temporary name and renamed (dd_write_file_atomic)
export XDG_CACHE_HOME="$out_dir/cache"

count_cmocka() {   # $1 = output file; sets p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | awk '{s+=$1} END {print s+0}')
}

count_tap() {      # $1 = output file; sets p f k
	p=$(grep -c '^ok - ' "$1")
	f=$(grep -c '^not ok - ' "$1")
	k=$(grep -c '^skip - ' "$1")
}

# The test list: kinds[i], names[i], and the command in cmds[i] (words
# separated by newlines; no test path holds one).
kinds=() names=() cmds=()
add() {            # $1 = kind, $2 = name, rest = command
	kinds+=("$1")
	names+=("$2")
	shift 2
	local IFS=$'\n'
	cmds+=("$*")
}
backends() {       # $1 = script: the backends it runs on
	local b
	b=$(sed -n 's/^# backends: *//p' "$1" | head -1)
	echo "${b:-sqlite}"
}

for t in "$root/$build"/tests/test_*; do
	[ -x "$t" ] || continue
	case "${t##*/}" in *"$filter"*) ;; *) continue ;; esac
	add unit "unit/$(basename "$t")" "$t"
done
n_pg=0
for t in "$root"/tests/e2e/*.sh; do
	[ -f "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue
	case "${t##*/}" in *"$filter"*) ;; *) continue ;; esac
	b=" $(backends "$t") "
	case "$b" in *" sqlite "*) add e2e "e2e/$(basename "$t")" bash "$t" ;; esac
	case " $run_backends " in *" postgresql "*) ;; *) continue ;; esac
	case "$b" in *" postgresql "*)
		add pg "e2e/$(basename "$t")[postgresql]" env DAGDOC_TEST_BACKEND=postgresql bash "$t"
		n_pg=$((n_pg + 1)) ;;
	esac
done

# One PostgreSQL server for the run, when a selected test may want one
# (the [postgresql] runs, the store's unit tests), unless DAGDOC_TEST_PG
# names one already.
pg_ok=0
n_unit=0
for k in "${kinds[@]}"; do [ "$k" = unit ] && n_unit=$((n_unit + 1)); done
if [ -n "${DAGDOC_TEST_PG:-}" ]; then
	pg_ok=1
elif [ "$n_pg" -gt 0 ] || [ "$n_unit" -gt 0 ]; then
	chmod 711 "$out_dir"   # the server's user (not root) goes through to $pg_dir
	if pg_env=$("$root/tests/lib/pg.sh" start "$pg_dir" 2>"$out_dir/pg.err"); then
		eval "$pg_env"
		pg_ok=1
	elif [ "${DAGDOC_REQUIRE_SHARED:-0}" = 1 ]; then
		failed=$((failed + 1))
		failures+=("postgresql")
		echo "FAIL postgresql: the test server did not start (DAGDOC_REQUIRE_SHARED=1)"
		sed 's/^/    /' "$out_dir/pg.err"
	else
		# the unit tests that need it say so themselves
		skipped=$((skipped + n_pg))
		skips+=("postgresql not available ($n_pg scripts' [postgresql] runs; $(head -1 "$out_dir/pg.err"))")
	fi
fi

# report N: the counts and the pass/FAIL line of test N, from its files
report() {
	local i=$1 name=${names[$1]} log="$out_dir/$1.log" rc
	[ "${kinds[$i]}" = pg ] && [ "$pg_ok" = 0 ] && return   # counted above: skipped or failed
	rc=$(cat "$out_dir/$1.rc")
	k=0
	if [ "${kinds[$i]}" = unit ]; then count_cmocka "$log"; else count_tap "$log"; fi
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

# Start each test in the background, at most $jobs at once, the slow ones
# first (a script's "# slow" line; both of its runs): the run ends when its
# longest test does, so that one must not start last.  Report the finished
# ones in list order as soon as all before them are reported.
order=()
for pass in slow rest; do
	for i in "${!names[@]}"; do
		slow=0
		if [ "${kinds[$i]}" != unit ]; then
			f=${names[$i]#e2e/}
			grep -q '^# slow' "$root/tests/e2e/${f%%\[*}" && slow=1
		fi
		{ [ "$pass" = slow ] && [ "$slow" = 1 ]; } || { [ "$pass" = rest ] && [ "$slow" = 0 ]; } && order+=("$i")
	done
done
next=0
flush() {
	while [ "$next" -lt "${#names[@]}" ] && [ -f "$out_dir/$next.rc" ]; do
		report "$next"
		next=$((next + 1))
	done
}
for i in "${order[@]}"; do
	if [ "${kinds[$i]}" = pg ] && [ "$pg_ok" = 0 ]; then
		echo 0 >"$out_dir/$i.rc"
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
		flush
	done
	IFS=$'\n' read -r -d '' -a cmd <<<"${cmds[$i]}"
	# a script in a folder of its own: a stray relative path lands there, not
	# in the repository (the unit tests read their fixtures from the repository)
	wd=$root
	[ "${kinds[$i]}" = unit ] || { wd=$out_dir/$i.cwd; mkdir "$wd"; }
	(
		cd "$wd" || exit
		t0=$EPOCHREALTIME
		"${cmd[@]}" >"$out_dir/$i.log" 2>&1 </dev/null
		echo $? >"$out_dir/$i.rc.tmp"
		echo "$t0 $EPOCHREALTIME" >"$out_dir/$i.time"
		mv "$out_dir/$i.rc.tmp" "$out_dir/$i.rc"
	) &
done
wait
flush

# TIMES=1: how long each test took (wall clock), slowest first
if [ "${TIMES:-0}" = 1 ]; then
	echo
	for i in "${!names[@]}"; do
		[ -f "$out_dir/$i.time" ] || continue
		read -r t0 t1 <"$out_dir/$i.time"
		echo "$t0 $t1 ${names[$i]}"
	done | awk '{ printf "time %7.1f s  %s\n", $2 - $1, $3 }' | sort -k2,2nr
fi
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
