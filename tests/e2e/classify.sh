#!/usr/bin/env bash
# dagdoc classify: the corpus tests/fixtures/logs (expected.tsv), the JSON
# shape, stdin, exit codes, redaction, user patterns, bad patterns, and
# bounded memory on a large streamed log.
# slow: tests/run.sh starts it first
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
LOGS="$ROOT/tests/fixtures/logs"
UNIT="$ROOT/tests/fixtures/patterns-unit"

# ---- the corpus: every log against its expected line ------------------------
while IFS=$'\t' read -r file category pattern ents; do
	case "$file" in '#'* | '') continue ;; esac
	run "$DAGDOC" classify --format json "$LOGS/$file"
	want_rc=1
	[ "$category" = none ] && want_rc=0
	verdict=$(printf '%s' "$out" | $PY -c '
import json, sys
want_cat, want_pat, want_ents = sys.argv[1], sys.argv[2], sys.argv[3].split()
want_stage = None
if "/" in want_cat:
    want_cat, want_stage = want_cat.split("/", 1)
try:
    d = json.loads(sys.stdin.read())
except Exception as e:
    print("output is not one JSON object: %s" % e); sys.exit(0)
bad = []
if d.get("category") != want_cat:
    bad.append("category %s, wanted %s" % (d.get("category"), want_cat))
if want_stage and d.get("stage") != want_stage:
    bad.append("stage %s, wanted %s" % (d.get("stage"), want_stage))
pat = d.get("pattern") or "-"
if pat != want_pat:
    bad.append("pattern %s, wanted %s" % (pat, want_pat))
for kv in want_ents:
    k, v = kv.split("=", 1)
    got = d.get("entities", {}).get(k)
    if got != v:
        bad.append("entity %s=%r, wanted %r" % (k, got, v))
if want_cat == "none" and (d.get("fingerprint") is not None or d.get("exception") is not None):
    bad.append("none must have no fingerprint and no exception")
if want_cat != "none" and not d.get("fingerprint"):
    bad.append("a failure must have a fingerprint")
print("; ".join(bad) if bad else "ok")
' "$category" "$pattern" "$ents")
	if [ "$verdict" = ok ] && [ "$rc" = "$want_rc" ]; then
		_pass "corpus $file"
	else
		_fail "corpus $file" "$verdict" "exit $rc (wanted $want_rc)" "stderr: ${errout:0:300}"
	fi
done <"$LOGS/expected.tsv"

# every log in the corpus has an expected line, and there are enough of them
check "corpus: every log is listed in expected.tsv" $PY -c '
import os, sys
d = sys.argv[1]
listed = {l.split("\t")[0] for l in open(os.path.join(d, "expected.tsv")) if l.strip() and not l.startswith("#")}
files = {f for f in os.listdir(d) if f != "expected.tsv"}
missing = files - listed
extra = listed - files
if missing or extra or len(files) < 25:
    print("missing:", sorted(missing), "extra:", sorted(extra), "count:", len(files)); sys.exit(1)
cats = {l.split("\t")[1].split("/")[0] for l in open(os.path.join(d, "expected.tsv")) if l.strip() and not l.startswith("#")}
need = {"dependency_upgrade", "stalled_upstream", "intermittent", "resource", "orchestrator", "config_credentials",
        "code_bug", "data_quality", "ml_training", "none", "unknown"}
if need - cats:
    print("categories without a case:", sorted(need - cats)); sys.exit(1)
' "$LOGS"

# ---- JSON shape ---------------------------------------------------------------
run "$DAGDOC" classify --format json "$LOGS/a2_config_conn_id_undefined.log" "$LOGS/a2_success_warnings.log" "$LOGS/a2_unknown_custom_exception.log"
expect_rc "json: several inputs, a failure among them -> 1" 1
check "json: one object per input with the documented keys and types" $PY -c '
import json, sys
lines = sys.argv[1].splitlines()
assert len(lines) == 3, "want 3 objects, got %d" % len(lines)
objs = [json.loads(l) for l in lines]
for d in objs:
    for k, t in [("input", str), ("category", str), ("confidence", (int, float)), ("entities", dict),
                 ("checks", list), ("fix", list), ("secondary", list), ("retries", dict), ("success", bool)]:
        assert isinstance(d[k], t), "%s: %r" % (k, d[k])
    for k in ("pattern", "title", "exception", "fingerprint", "lines", "excerpt"):
        assert k in d, "missing " + k
    for s in d["secondary"]:
        assert set(s) == {"pattern", "category", "line"} and isinstance(s["line"], int), s
f, s, u = objs
assert f["category"] == "config_credentials" and f["pattern"] and f["title"] and 0 < f["confidence"] <= 1
assert f["exception"]["type"] == "airflow.exceptions.AirflowNotFoundException", f["exception"]
assert f["exception"]["message"] == "The conn_id `warehouse_pg` isn'"'"'t defined", f["exception"]
assert len(f["fingerprint"]) == 16 and int(f["fingerprint"], 16) >= 0
first, last = f["lines"]
assert 1 <= first <= last, f["lines"]
assert "isn'"'"'t defined" in f["excerpt"], f["excerpt"]
assert f["checks"] and all("{conn_id}" not in c for c in f["checks"] + f["fix"]), f["checks"]
assert any("warehouse_pg" in c for c in f["checks"] + f["fix"]), (f["checks"], f["fix"])
assert s["category"] == "none" and s["pattern"] is None and s["success"] is True and s["lines"] is None
assert u["category"] == "unknown" and u["pattern"] is None and u["exception"]["type"] == "acme.errors.ReconcileMismatch"
assert len(u["fingerprint"]) == 16 and u["excerpt"]
' "$out"

# same failure in two runs -> same fingerprint; different failure -> different
a="$TMP/run_a.log"
b="$TMP/run_b.log"
sed -e 's/2025-03-04/2025-03-05/g' -e 's/Started process 1278/Started process 99231/' "$LOGS/a2_dep_pandas_append.log" >"$a"
sed -e 's/line 88, in build_features/line 91, in build_features/' "$LOGS/a2_dep_pandas_append.log" >"$b"
run "$DAGDOC" classify --format json "$LOGS/a2_dep_pandas_append.log" "$a" "$b" "$LOGS/a2_config_conn_id_undefined.log"
check "fingerprint: stable across runs and line numbers, differs between failures" $PY -c '
import json, sys
fp = [json.loads(l)["fingerprint"] for l in sys.argv[1].splitlines()]
assert fp[0] == fp[1] == fp[2], fp
assert fp[3] != fp[0], fp
' "$out"

# ---- stdin, exit codes, text -----------------------------------------------------
run bash -c "cat '$LOGS/a2_success_warnings.log' | '$DAGDOC' classify --format json"
expect_rc "stdin: success -> exit 0" 0
expect_out "stdin: input is -" '"input":"-"'
run "$DAGDOC" classify "$LOGS/a2_success_warnings.log" "$LOGS/prefect_success.log" "$LOGS/v1api_success.json"
expect_rc "text: all none -> exit 0" 0
expect_out "text: says the task succeeded" 'none - the task succeeded'
run "$DAGDOC" classify - <"$LOGS/a2_config_conn_id_undefined.log"
expect_rc "text: failure -> exit 1" 1
expect_out "text: category and pattern" '^-: config_credentials +cfg\.'
expect_out "text: exception" 'exception +airflow\.exceptions\.AirflowNotFoundException: The conn_id `warehouse_pg`'
expect_out "text: excerpt" "\\| .*isn't defined"
expect_out "text: checks filled" 'check +.*warehouse_pg'
expect_out "text: fingerprint" 'fingerprint [0-9a-f]{16}'
run "$DAGDOC" classify "$LOGS/a2_intermittent_remote_disconnected.log"
expect_out "text: retry evidence" 'retries +1 \(line'
run "$DAGDOC" classify "$TMP/does-not-exist.log" "$LOGS/a2_success_warnings.log"
expect_rc "unreadable file -> exit 2" 2
expect_err "unreadable file: message" 'dagdoc classify: cannot read .*does-not-exist.log: No such file'
expect_out "unreadable file: the other input is still classified" 'a2_success_warnings.log.*none'
run "$DAGDOC" classify --format yaml "$LOGS/a2_success_warnings.log"
expect_rc "bad --format -> exit 2" 2
expect_err "bad --format: message" 'format must be text or json'

# ---- redaction and control sequences in excerpts ---------------------------------
sec="$TMP/secret.log"
{
	printf '[2025-03-04T02:00:11.037+0000] {taskinstance.py:1361} INFO - Starting attempt 1 of 1\n'
	printf '[2025-03-04T02:00:12.037+0000] {base.py:84} INFO - \033[31mConnecting\033[0m to postgresql://loader:Sup3rS3cretPw@db.internal:5432/sales token=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n'
	printf '[2025-03-04T02:00:13.037+0000] {taskinstance.py:1943} ERROR - Task failed with exception\n'
	printf 'Traceback (most recent call last):\n  File "/opt/airflow/dags/x.py", line 3, in run\n    engine.connect()\n'
	printf 'psycopg2.OperationalError: connection to server at "db.internal" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user "loader" (postgresql://loader:Sup3rS3cretPw@db.internal:5432/sales)\n'
	printf '[2025-03-04T02:00:14.037+0000] {taskinstance.py:1400} INFO - Marking task as FAILED. dag_id=x, task_id=y\n'
} >"$sec"
run "$DAGDOC" classify --format json "$sec"
expect_rc "redaction: failure found" 1
expect_no "redaction: password never printed (json)" 'Sup3rS3cretPw'
expect_no "redaction: token never printed (json)" 'ghp_abcdefghijklmnop'
expect_no "redaction: no escape characters (json)" $'\033|\\\\u001b'
expect_out "redaction: excerpt still shows the line" 'postgresql://loader:\*\*\*\*@db.internal'
run "$DAGDOC" classify "$sec"
expect_no "redaction: password never printed (text)" 'Sup3rS3cretPw'
expect_no "redaction: no escape characters (text)" $'\033'

# ---- user pattern directories -------------------------------------------------------
printf 'Traceback (most recent call last):\n  File "/opt/airflow/dags/x.py", line 3, in run\nKeyError: '"'"'amount'"'"'\n' >"$TMP/key.log"
run env DAGDOC_PATTERNS_DIR="$UNIT" "$DAGDOC" classify --format json "$TMP/key.log"
expect_out "built-in dir from DAGDOC_PATTERNS_DIR" '"pattern":"t.keyerror","title":"A dictionary key was missing"'
mkdir -p "$XDG_CONFIG_HOME/dagdoc"
printf 'patterns:\n  - %s\n' "$ROOT/tests/fixtures/patterns-user" >"$XDG_CONFIG_HOME/dagdoc/config.yaml"
run env DAGDOC_PATTERNS_DIR="$UNIT" "$DAGDOC" classify --format json "$TMP/key.log"
expect_out "config pattern dir overrides by id" '"category":"data_quality","stage":"run","pattern":"t.keyerror"'
expect_out "override: its own entity" '"column":"amount"'
rm -f "$XDG_CONFIG_HOME/dagdoc/config.yaml"
run env DAGDOC_PATTERNS_DIR="$UNIT" "$DAGDOC" classify --format json --patterns "$ROOT/tests/fixtures/patterns-user" "$TMP/key.log"
expect_out "--patterns DIR overrides by id" '"category":"data_quality","stage":"run","pattern":"t.keyerror"'

# ---- broken user patterns: reported, exit 2, nothing classified ------------------------
run env DAGDOC_PATTERNS_DIR="$UNIT" "$DAGDOC" classify --patterns "$ROOT/tests/fixtures/patterns-bad" "$TMP/key.log"
expect_rc "bad patterns -> exit 2" 2
expect_err "bad patterns: regex error with offset" 'patterns-bad/a_regex.yaml:6: pattern bad.regex: regex error at offset 21: missing closing parenthesis'
expect_err "bad patterns: count" 'dagdoc classify: 12 problems in the pattern library'
run env DAGDOC_PATTERNS_DIR="$TMP/nowhere" "$DAGDOC" classify "$TMP/key.log"
expect_rc "missing built-in dir -> exit 2" 2
expect_err "missing built-in dir: message" 'cannot open pattern directory .*nowhere'

# ---- streaming: a large log in bounded memory ---------------------------------------
if [ -x /usr/bin/time ]; then
	gen() {
		$PY -c '
import sys
line = "[2025-03-04T02:00:11.037+0000] {logging_mixin.py:188} INFO - processed batch %d of rows with status ok and nothing to report at all here\n"
w = sys.stdout.write
for i in range(400000):
    w(line % i)
w("Traceback (most recent call last):\n  File \"/opt/airflow/dags/x.py\", line 3, in run\nKeyError: '"'"'amount'"'"'\n")
'
	}
	gen | /usr/bin/time -f '%M' -o "$TMP/rss" "$DAGDOC" classify --format json - >"$TMP/big.json" 2>"$TMP/big.err"
	rss=$(tail -1 "$TMP/rss")
	bytes=$(gen | wc -c)
	limit=102400
	# AddressSanitizer's quarantine and shadow memory are not the program's:
	# under `make check` only the result is checked
	if ldd "$DAGDOC" 2>/dev/null | grep -q 'libasan'; then limit=100000000; fi
	if [ "$rss" -lt "$limit" ] && grep -q '"lines":\[400001,400003\]' "$TMP/big.json"; then
		_pass "streaming: $((bytes / 1048576)) MB log in ${rss} KB peak RSS, decisive lines found"
	else
		_fail "streaming: bounded memory" "peak RSS ${rss} KB (limit $limit)" "$(head -c 400 "$TMP/big.json")"
	fi
fi

finish
