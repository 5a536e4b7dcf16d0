#!/usr/bin/env bash
# Classification benchmark (issue "Pattern library and log classifier"):
#  1. generates (once, cached in build-bench/) a mix of realistic logs:
#     BENCH_FILES files of BENCH_FILE_MB MB (default 32 x 10 = 320 MB),
#     mostly INFO noise in Airflow 2 / Airflow 3 JSON / Prefect formats with
#     whole failing and succeeding task logs from tests/fixtures/logs
#     sprinkled in (tests/bench/gen_logs.py);
#  2. `dagdoc classify` over all of it: MB/s and peak RSS;
#  3. the same with DAGDOC_NO_PREFILTER=1 (PCRE2 JIT on every line, no
#     Vectorscan pass) on one file: what the prefilter buys;
#  4. `rg -P -f` with the library's regexes on the same files, in the same
#     run.  rg cannot compile the whole library as one PCRE2 regex
#     ("regular expression is too large"), so the regexes go in chunks of
#     RG_CHUNK (default 100) and rg runs once per chunk (-j1, like dagdoc);
#     named groups become non-capturing (rg joins the regexes with '|' and
#     duplicate names would not compile).  rg -P is slow on this library,
#     so it searches the first RG_SAMPLE_MB (default 4) MB of the mix and its
#     MB/s is computed on that sample.  Prints the ratio.
# Target: dagdoc at least as fast as rg -P.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
PY=/usr/bin/python3
DAGDOC=${DAGDOC:-$root/build/dagdoc}
FILES=${BENCH_FILES:-32}
FILE_MB=${BENCH_FILE_MB:-10}
RG_CHUNK=${RG_CHUNK:-100}
RG_SAMPLE_MB=${RG_SAMPLE_MB:-4}
data=$root/build-bench/classify-mix
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x "$DAGDOC" ] || { echo "bench classify: build dagdoc first (make)"; exit 2; }
command -v rg >/dev/null || { echo "bench classify: ripgrep (rg) is not installed"; exit 2; }

stamp="$FILES x $FILE_MB $(cat tests/bench/gen_logs.py tests/fixtures/logs/* | md5sum | cut -c1-16)"
if [ "$(cat "$data/.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "generating $FILES x $FILE_MB MB of logs in $data ..."
	rm -rf "$data"
	$PY tests/bench/gen_logs.py "$data" "$FILES" "$FILE_MB" tests/fixtures/logs
	echo "$stamp" >"$data/.stamp"
fi
files=("$data"/mix-*)
bytes=$(cat "${files[@]}" | wc -c)
mb() { $PY -c "print('%.1f' % ($1 / 1048576))"; }

now() { date +%s.%N; }
rate() { $PY -c "print('%.1f' % (($1) / 1048576 / max($2, 1e-9)))"; }

# warm-up: builds (or loads) the cached prefilter database and the page cache
"$DAGDOC" classify --format json tests/fixtures/logs/a2_success_warnings.log >/dev/null || true
cat "${files[@]}" >/dev/null

# --- dagdoc classify, whole mix ------------------------------------------------
t0=$(now)
/usr/bin/time -f '%M' -o "$tmp/rss" "$DAGDOC" classify --format json "${files[@]}" >"$tmp/out.jsonl" || [ $? = 1 ]
t1=$(now)
secs=$($PY -c "print($t1 - $t0)")
rss=$(tail -1 "$tmp/rss")
dd_rate=$(rate "$bytes" "$secs")
nfail=$(grep -vc '"category":"none"' "$tmp/out.jsonl" || true)

# --- the same without the prefilter, one file ------------------------------------
one=${files[0]}
one_bytes=$(wc -c <"$one")
t0=$(now)
DAGDOC_NO_PREFILTER=1 "$DAGDOC" classify --format json "$one" >"$tmp/nopf.json" || [ $? = 1 ]
t1=$(now)
nopf_rate=$(rate "$one_bytes" "$($PY -c "print($t1 - $t0)")")
"$DAGDOC" classify --format json "$one" >"$tmp/pf.json" || [ $? = 1 ]
same=no
cmp -s "$tmp/nopf.json" "$tmp/pf.json" && same=yes

# --- rg -P -f with the library's regexes ------------------------------------------
$PY - "$tmp/regexes" <<'EOF'
import glob, re, sys, yaml
out = open(sys.argv[1], "w")
for f in sorted(glob.glob("patterns/*.yaml")):
    for p in (yaml.safe_load(open(f)) or {}).get("patterns") or []:
        m = p.get("match")
        for r in ([m] if isinstance(m, str) else m or []):
            out.write(re.sub(r"\(\?<([A-Za-z_]\w*)>", "(?:", r) + "\n")
EOF
nrx=$(wc -l <"$tmp/regexes")
split -l "$RG_CHUNK" -d -a 3 "$tmp/regexes" "$tmp/chunk."
head -c $((RG_SAMPLE_MB * 1048576)) "$one" >"$tmp/sample.log"
sample_bytes=$(wc -c <"$tmp/sample.log")
rg_status=ok
t0=$(now)
for c in "$tmp"/chunk.*; do
	rg -j1 -P -c -f "$c" "$tmp/sample.log" >/dev/null 2>"$tmp/rg.err" || [ $? = 1 ] || rg_status="error: $(head -1 "$tmp/rg.err")"
done
t1=$(now)
rg_rate=$(rate "$sample_bytes" "$($PY -c "print($t1 - $t0)")")
# for scale: one chunk (RG_CHUNK regexes) alone over the same sample
t0=$(now)
rg -j1 -P -c -f "$tmp/chunk.000" "$tmp/sample.log" >/dev/null 2>&1 || true
t1=$(now)
rg_one_rate=$(rate "$sample_bytes" "$($PY -c "print($t1 - $t0)")")

ratio=$($PY -c "print('%.1f' % ($dd_rate / max($rg_rate, 1e-9)))")
echo "classify: $(mb "$bytes") MB in ${#files[@]} files ($nfail with a failure)"
printf '  dagdoc classify          %8s MB/s   peak RSS %s MB   (%.2f s)\n' "$dd_rate" "$((rss / 1024))" "$secs"
printf '  without the prefilter    %8s MB/s   (PCRE2 JIT on every line, one file; same results: %s)\n' "$nopf_rate" "$same"
printf '  rg -P -f (%s regexes)   %8s MB/s   (%s chunks of %s, -j1, on a %s MB sample; %s)\n' "$nrx" "$rg_rate" \
	"$(ls "$tmp"/chunk.* | wc -l)" "$RG_CHUNK" "$(mb "$sample_bytes")" "$rg_status"
printf '  rg -P, one chunk only    %8s MB/s\n' "$rg_one_rate"
echo "  ratio dagdoc / rg -P     ${ratio}x   (target >= 1)"
[ "$same" = yes ] || { echo "bench classify: results differ with and without the prefilter"; exit 1; }
$PY -c "import sys; sys.exit(0 if $dd_rate >= $rg_rate else 1)" || { echo "bench classify: slower than rg -P"; exit 1; }
