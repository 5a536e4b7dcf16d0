#!/usr/bin/env bash
# Fleet benchmark (issue "Fleet scale"): a platform team's Airflow, served
# by the fake as a generated fleet (tests/fakes/README.md, "A generated
# fleet"), default 100 hourly DAGs x 720 runs x 10 tasks with a failure mix,
# LATENCY_MS per request, the source's concurrency CONCURRENCY.
#
#  1. First sync into an empty store: wall time against the lower bound
#     = the fewest requests the API allows for what was stored
#       x latency / concurrency
#     (target: within 1.5x).  The fewest requests: the DAG list, health
#     and import errors, each new DAG's definition (the DAG and its
#     tasks), pages of runs and of task instances at the server's page
#     limit, the try history of each task instance tried more than once
#     (the API has no batch form of it), and one request per log.
#  2. A second sync with nothing new: its requests (target: a few per
#     source, not per DAG) and time.
#  3. `dagdoc report --offline` over every DAG from the warm store (the
#     nightly report: 24 hours, 30 days of history): wall time (target:
#     under 10 s) and peak memory, run twice (the first classifies).
# The fleet's runs end at the present hour (FAKE_FLEET_NOW).
# Run from the project root after `make` (make bench does).  FLEET, API
# (v1|v2), LATENCY_MS and CONCURRENCY may be set in the environment;
# STORE_BACKEND=postgresql puts the store in a throwaway PostgreSQL server
# (tests/lib/pg.sh) instead of an SQLite file.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
FLEET=${FLEET:-100x720x10}
API=${API:-v1}
LATENCY_MS=${LATENCY_MS:-50}
CONCURRENCY=${CONCURRENCY:-8}
STORE_BACKEND=${STORE_BACKEND:-sqlite}
PAGE_LIMIT=100          # the fake's maximum_page_limit, Airflow's default
PY=/usr/bin/python3
tmp=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	[ "$STORE_BACKEND" = sqlite ] || tests/lib/pg.sh stop "$tmp/pg"
	[ -n "${BENCH_DIR:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

start_fake() {   # NAME ARGS... ; sets $port
	local name=$1
	shift
	rm -f "$tmp/$name.port" "$tmp/$name.req"
	"$PY" tests/fakes/fake_airflow.py --port-file "$tmp/$name.port" --request-log "$tmp/$name.req" \
		--max-page-limit "$PAGE_LIMIT" "$@" 2>"$tmp/$name.err" &
	pids+=($!)
	for _ in $(seq 600); do [ -s "$tmp/$name.port" ] && break; sleep 0.1; done
	port=$(cat "$tmp/$name.port")
}
secs() { awk "BEGIN { printf \"%.2f\", ($2 - $1) }"; }
case "$STORE_BACKEND" in
sqlite)
	store=$tmp/store.db
	rm -f "$store"*
	q() { sqlite3 "$store" "$1"; }
	;;
postgresql)
	chmod 711 "$tmp"   # the server's user goes through (as root it is postgres)
	eval "$(tests/lib/pg.sh start "$tmp/pg")"
	store=$(tests/lib/pg.sh createdb fleet)
	psql=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)/psql
	q() { "$psql" -X -q -A -t -d "$store" -c "$1"; }
	;;
*) echo "STORE_BACKEND is sqlite or postgresql" >&2; exit 2 ;;
esac

export XDG_CONFIG_HOME="$tmp/xdg" XDG_STATE_HOME="$tmp/xdg" XDG_CACHE_HOME="$tmp/cache"
# the fleet's runs end now, as a live deployment's do
export FAKE_FLEET_NOW=${FAKE_FLEET_NOW:-$(date -u +%Y-%m-%dT%H:00:00+00:00)}
t0=$(date +%s.%N)
start_fake fleet --api "$API" --world "fleet:$FLEET" --latency-ms "$LATENCY_MS"
t1=$(date +%s.%N)
cat >"$tmp/config.yaml" <<YAML
sources:
  - name: fleet
    kind: airflow
    url: http://127.0.0.1:$port
    concurrency: $CONCURRENCY
YAML
echo "== fleet $FLEET, fake Airflow API $API, ${LATENCY_MS} ms per request, concurrency $CONCURRENCY, store on $STORE_BACKEND (fake up in $(secs "$t0" "$t1") s)"

# 1. first sync
/usr/bin/time -f "%e %M" -o "$tmp/first.time" \
	./dagdoc sync --config "$tmp/config.yaml" --store "$store" --since 31d >"$tmp/first.out" || {
	echo "first sync failed:"; cat "$tmp/first.out"; exit 1; }
read -r first_s first_kb < <(tail -1 "$tmp/first.time")
first_req=$(wc -l <"$tmp/fleet.req")
dags=$(q "SELECT count(*) FROM dags")
runs=$(q "SELECT count(*) FROM runs")
tis=$(q "SELECT count(*) FROM task_instances")
retried=$(q "SELECT count(*) FROM task_instances WHERE try_number > 1")
logs=$(q "SELECT count(*) FROM logs")
# one version probe per API tried (v1: /api/v2/version 404, then /api/v1/version)
probes=$(grep -c '/version ' "$tmp/fleet.req" || true)
pages() { echo $(( ($1 + PAGE_LIMIT - 1) / PAGE_LIMIT )); }
min_req=$(( probes + $(pages "$dags") + 2 + 2 * dags + $(pages "$runs") + $(pages "$tis") + retried + logs ))
bound=$(awk "BEGIN { printf \"%.2f\", $min_req * $LATENCY_MS / 1000 / $CONCURRENCY }")
echo "first sync: $(cat "$tmp/first.out")"
echo "  stored: $dags DAGs, $runs runs, $tis task instances ($retried tried more than once), $logs logs"
echo "  requests: $first_req made, $min_req the fewest the API allows for that"
echo "  time: ${first_s} s; lower bound $min_req x ${LATENCY_MS} ms / $CONCURRENCY = ${bound} s;" \
	"ratio $(awk "BEGIN { printf \"%.2f\", $first_s / $bound }")x (target <= 1.5x); peak memory $((first_kb / 1024)) MB"
echo "  by endpoint:"
sed 's/?.*//; s/ [0-9]*$//; s#/dags/[^/ ]*/dagRuns/[^/ ]*/taskInstances/[^ ]*#/dags/D/dagRuns/R/taskInstances/…#; s#/dags/[^/~ ]*#/dags/D#' \
	"$tmp/fleet.req" | sort | uniq -c | sort -rn | sed 's/^/    /'

# 2. warm sync, nothing new
before=$(wc -l <"$tmp/fleet.req")
/usr/bin/time -f "%e %M" -o "$tmp/warm.time" \
	./dagdoc sync --config "$tmp/config.yaml" --store "$store" --since 31d >"$tmp/warm.out"
read -r warm_s warm_kb < <(tail -1 "$tmp/warm.time")
tail -n +"$((before + 1))" "$tmp/fleet.req" >"$tmp/warm.req"
echo "warm sync: $(cat "$tmp/warm.out")"
echo "  $(wc -l <"$tmp/warm.req") requests for $dags DAGs, ${warm_s} s, peak memory $((warm_kb / 1024)) MB:"
sed 's/?.*//; s/ [0-9]*$//' "$tmp/warm.req" | sort | uniq -c | sed 's/^/    /'

# 3. the nightly report over every DAG from the warm store: the last 24
# hours, each DAG's 30 days of history; the first one classifies every
# stored log, the next reads the classifications back
for pass in first second; do
	/usr/bin/time -f "%e %M" -o "$tmp/report.time" \
		./dagdoc report --config "$tmp/config.yaml" --store "$store" --offline --since 24h \
		--history 30d --no-record >"$tmp/report.out" 2>"$tmp/report.err" || true
	read -r report_s report_kb < <(tail -1 "$tmp/report.time")
	echo "report --offline over $dags DAGs ($pass): ${report_s} s (target < 10 s), peak memory" \
		"$((report_kb / 1024)) MB; $(sed -n 2p "$tmp/report.out")"
	grep -m3 . "$tmp/report.err" | sed 's/^/  stderr: /' || true
done
