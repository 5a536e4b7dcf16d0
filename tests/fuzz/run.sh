#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/*.c against the library objects
# (clang -fsanitize=fuzzer,address, into build-fuzz/) and runs each for
# $1 seconds (default 20).  Exits non-zero when a build fails or a target
# finds a crash, a leak or a timeout (the reproducer is kept in build-fuzz/).
#
#   tests/fuzz/run.sh [SECONDS]          (make fuzz FUZZ_SECONDS=N)
#
# Seeds: tests/fuzz/seeds/<target>/ when it exists, plus the fixtures that
# fit the target (pattern files for fuzz_patterns*, the examples' Python
# files for fuzz_pyimports, configuration files for fuzz_config, logs for
# the log readers; the JSON, dependency-file, Retry-After and pasted-evidence
# targets have their own seeds only).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-20}
out=$root/build-fuzz
cd "$root" || exit 2
export DAGDOC_NO_CACHE=1

san="-fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer"
if ! make --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1 -g" SAN="$san" build-fuzz/libdagdoc.a >"$out.build.log" 2>&1; then
	mkdir -p "$out"
	mv -f "$out.build.log" "$out/build.log" 2>/dev/null
	echo "fuzz: building the library failed; see $out/build.log"
	tail -20 "$out/build.log"
	exit 2
fi
mkdir -p "$out"
mv -f "$out.build.log" "$out/build.log"

pkgs="libcurl libcjson libpcre2-8 libgit2 sqlite3 libpq yaml-0.1 zlib libhs"
cflags="-std=c11 -Wall -Wextra -Werror -O1 -g -Iinclude -Iconnectors $(pkg-config --cflags $pkgs) -DDD_DATADIR=\"/usr/local/share/dagdoc\" -DDD_VERSION=\"fuzz\""
libs="$(pkg-config --libs $pkgs) -lm -lpthread"
status=0
for src in tests/fuzz/*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	bin=$out/$name
	# shellcheck disable=SC2086
	if ! clang $cflags -fsanitize=fuzzer,address -fno-omit-frame-pointer -o "$bin" "$src" build-fuzz/libdagdoc.a $libs 2>"$out/$name.build.log"; then
		echo "not ok - fuzz $name: build failed"
		sed 's/^/    /' "$out/$name.build.log" | head -20
		status=1
		continue
	fi
	corpus=$out/corpus-$name
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/seeds/$name" ]; then cp -f tests/fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null; fi
	case "$name" in
	fuzz_pattern*) cp -f patterns/*.yaml tests/fixtures/patterns-*/*.yaml "$corpus"/ 2>/dev/null ;;
	fuzz_pyimports) cp -f examples/*/*.py "$corpus"/ 2>/dev/null ;;
	fuzz_config) cp -f examples/*.yaml "$corpus"/ 2>/dev/null ;;
	fuzz_airflow_json | fuzz_prefect_json | fuzz_reqparse | fuzz_retry_after | fuzz_evidence) ;;
	*) for f in tests/fixtures/logs/*; do cp -f "$f" "$corpus/"; done 2>/dev/null ;;
	esac
	(cd "$out" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 "$corpus") >"$out/$name.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log" | tail -1)
	if [ "$rc" -eq 0 ]; then
		echo "ok - fuzz $name: ${runs:-?} runs in ${secs}s, no crash"
	else
		echo "not ok - fuzz $name: exit $rc; see $out/$name.log (reproducer: $out/crash-* / leak-* / timeout-*)"
		grep -E 'ERROR|SUMMARY|Test unit written' "$out/$name.log" | head -8 | sed 's/^/    /'
		status=1
	fi
done
exit $status
