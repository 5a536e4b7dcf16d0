#!/usr/bin/env bash
# Fetch benchmark (issue "Connectors and incremental sync"):
#  1. 1,000 failed-try logs from the fake Airflow with 50 ms latency per
#     request, fetched by conn_fetch_logs at the default concurrency (8):
#     wall time against the lower bound requests x latency / concurrency
#     (target: within 1.5x).
#  2. `dagdoc sync` twice on the same world; the second finds nothing new:
#     how many requests it made and how long it took, at 50 ms latency
#     (target: only the run listings, well under a second).
# Run from the project root after `make` (make bench does both).
# LATENCY_MS, RUNS (x 2 tries) and API (v1|v2) may be set in the environment.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
LATENCY_MS=${LATENCY_MS:-50}
RUNS=${RUNS:-500}
API=${API:-v1}
PY=/usr/bin/python3
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

start_fake() {   # NAME ARGS... ; sets $port
	local name=$1
	shift
	rm -f "$tmp/$name.port"
	"$PY" tests/fakes/fake_airflow.py --port-file "$tmp/$name.port" --request-log "$tmp/$name.req" \
		"$@" 2>"$tmp/$name.err" &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/$name.port" ] && break; sleep 0.1; done
	port=$(cat "$tmp/$name.port")
}
stop_last() {
	local p=${pids[${#pids[@]}-1]}
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

mkdir -p build/bench
cc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude -Iconnectors -o build/bench/fetch_bench \
	tests/bench/fetch_bench.c build/libdagdoc.a \
	$(pkg-config --libs libcurl libcjson libpcre2-8 libgit2 sqlite3 libpq yaml-0.1 zlib) \
	$(pkg-config --exists libhs && pkg-config --libs libhs) -lm -lpthread
"$PY" tests/bench/gen_world.py --runs "$RUNS" --tries 2 "$tmp/world.json"

echo "== fetch: $((RUNS * 2)) failed-try logs, fake Airflow API $API, ${LATENCY_MS} ms per request"
start_fake lat --api "$API" --world "$tmp/world.json" --latency-ms "$LATENCY_MS"
build/bench/fetch_bench "http://127.0.0.1:$port" bench_dag 2 "$LATENCY_MS"
stop_last

if ! ./dagdoc help 2>/dev/null | grep -q '^  sync '; then
	echo "== second sync: skipped (no 'dagdoc sync' in this build)"
	exit 0
fi
echo "== sync twice; the second finds nothing new (${LATENCY_MS} ms per request)"
export XDG_CONFIG_HOME="$tmp/xdg" XDG_STATE_HOME="$tmp/xdg"
start_fake first --api "$API" --world "$tmp/world.json"
p=$port
t0=$(date +%s.%N)
DAGDOC_AIRFLOW_URL="http://127.0.0.1:$p" ./dagdoc sync --store "$tmp/store.db" --since 3650d
t1=$(date +%s.%N)
echo "first sync (no latency): $(wc -l <"$tmp/first.req") requests, $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s"
stop_last
start_fake second --api "$API" --world "$tmp/world.json" --port "$p" --latency-ms "$LATENCY_MS"
t0=$(date +%s.%N)
DAGDOC_AIRFLOW_URL="http://127.0.0.1:$p" ./dagdoc sync --store "$tmp/store.db" --since 3650d
t1=$(date +%s.%N)
echo "second sync: $(wc -l <"$tmp/second.req") requests, $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s:"
sed 's/?.*//; s/ [0-9]*$//' "$tmp/second.req" | sort | uniq -c | sed 's/^/  /'
stop_last
