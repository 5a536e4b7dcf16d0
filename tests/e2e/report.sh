#!/usr/bin/env bash
# dagdoc report on the bundled demo (a log folder + git repository): each
# format, -o FILE written atomically, the exit status (1 failing, 0 healthy),
# the HTML grid (at the top of each DAG, glyphs, the legend, wall-clock
# tooltips, the duration trend; against the fake Airflow 2, Airflow 3 and
# Prefect: rows in the DAG's order and each cell a link to its try's log),
# new vs recurring over two successive reports, and --post to a fake
# Slack-compatible webhook (retried on 500, a 404 is a clear error, the URL
# never printed).
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
D="$TMP/demo"
"$PY" "$ROOT/examples/demo/make_demo.py" "$D" >/dev/null || { echo "not ok - make_demo.py"; exit 1; }
CFG="$D/config.yaml"
R=("$DAGDOC" report --config "$CFG" --since 35d)
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
# mkdags SRC_LOGS DEST_LOGS DAG failing|healthy: a DAG folder derived from the
# demo's train_churn (failing: a KeyError instead, so another fingerprint;
# healthy: only its runs without a failed try).
mkdags() {
	"$PY" - "$@" <<'PY'
import os, sys
src, dest, dag, mode = sys.argv[1:5]
base = os.path.join(src, "dag_id=train_churn")
for run in sorted(os.listdir(base)):
    logs = [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(base, run)) for f in fs]
    texts = {p: open(p).read() for p in logs}
    if mode == "healthy" and any("Marking task as FAILED" in t or "UP_FOR_RETRY" in t for t in texts.values()):
        continue
    for p, text in texts.items():
        out = os.path.join(dest, "dag_id=" + dag, os.path.relpath(p, base))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        text = text.replace("train_churn", dag).replace("AttributeError: 'DataFrame' object has no attribute 'append'",
                                                        "KeyError: 'customer_id'")
        with open(out, "w") as f:
            f.write(text)
PY
}

# ---- text ------------------------------------------------------------------
run "${R[@]}" --store "$(store text)" --format text
expect_rc "text: exit 1 when a DAG is failing" 1
expect_out "text: summary line" '^1 DAG ran: 1 failing, 0 recovered, 0 healthy; failures: 1 new, 0 recurring$'
expect_out "text: the failing DAG and its top cause" '^   failing   train_churn \(demo\): Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0, confidence 0\.95 \[new\]$'
expect_out "text: the commit" '"Bump ML deps"'
expect_out "text: grid row of the failing task (8 good, 6 failed)" '^   features \.{8}X{6}$'
expect_out "text: grid row of the run states" '^   run      \.{8}X{6}$'
eq "text: nothing on stderr" "$errout" ""

# ---- Markdown --------------------------------------------------------------
run "${R[@]}" --store "$(store md)" --format md --no-record
expect_rc "md: exit 1" 1
expect_out "md: summary table row" '^\| `train_churn` \| demo \| failing \| Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0 \| 0\.95 \| \*\*new\*\* \|$'
expect_out "md: heading per DAG" '^### train_churn — 6 of the last 30 runs failed'
eq "md: code fences balanced" "$(( $(grep -c '^```' "$TMP/out") % 2 ))" "0"
expect_no "md: no ANSI colour" $'\x1b\\['

# ---- JSON ------------------------------------------------------------------
run "${R[@]}" --store "$(store json)" --format json --no-record
expect_rc "json: exit 1" 1
check "json: shape" "$PY" - "$TMP/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert sorted(j) == ["dags", "flaky_tasks", "fleet_causes", "new_failures", "notes", "quiet_failures",
                     "recurring_failures", "report", "schema_version", "sources", "summary"], sorted(j)
assert j["quiet_failures"] == [] and j["summary"]["degraded"] == 0, (j["quiet_failures"], j["summary"])
s = j["summary"]
assert (s["dags"], s["failing"], s["recovered"], s["healthy"], s["new_failures"], s["recurring_failures"],
        s["sources_failed"]) == (1, 1, 0, 0, 1, 0, 0), s
assert j["report"]["since"] == "35d"
assert j["sources"] == [{"name": "demo", "kind": "logs", "describe": "log folder " + sys.argv[1].rsplit("/", 1)[0]
                         + "/demo/logs", "synced": True, "error": None}], j["sources"]
d = j["dags"][0]
assert (d["source"], d["dag_id"], d["status"], d["runs_in_period"], d["failed_in_period"]) == \
    ("demo", "train_churn", "failing", 30, 6), d
c = d["triage"]["causes"][0]
assert c["failure"] == "AttributeError: 'DataFrame' object has no attribute 'append'", c["failure"]
assert c["checks"] and c["fix"], c
nf = j["new_failures"]
assert len(nf) == 1 and nf[0]["dag_id"] == "train_churn" and nf[0]["fingerprint"] == c["fingerprint"], nf
assert d["history"][0] == {"fingerprint": c["fingerprint"], "in_report": True, "new": True,
                           "earlier_reports": 0, "first_reported": None}, d["history"]
g = d["grid"]
assert len(g["runs"]) == 14 and g["tasks"] == ["extract", "features", "train"], (len(g["runs"]), g["tasks"])
assert len(g["cells"]) == 3 and all(len(row) == 14 for row in g["cells"]), "cells: one row per task, one per run"
assert "".join("X" if c["state"] == "failed" else "." for c in g["cells"][1]) == "." * 8 + "X" * 6, g["cells"][1]
assert g["cells"][1][-1]["category"] == "dependency_upgrade", g["cells"][1][-1]
assert g["cells"][1][-1]["error"] == c["failure"], g["cells"][1][-1]
assert [r["state"] for r in g["runs"]] == ["success"] * 8 + ["failed"] * 6, g["runs"]
# the wall clock the HTML tooltips show; a log folder has no UI, so no links
assert all(r["started"] and r["started"] >= r["logical_date"] and r["url"] is None for r in g["runs"]), g["runs"][0]
assert g["cells"][1][-1]["started"] and g["cells"][1][-1]["ended"] >= g["cells"][1][-1]["started"], g["cells"][1][-1]
assert g["cells"][2][-1]["state"] == "none" and g["cells"][2][-1]["started"] is None, g["cells"][2][-1]
assert all(c["url"] is None for row in g["cells"] for c in row)
PY

# ---- HTML and -o -------------------------------------------------------------
mkdir -p "$TMP/outdir"
run "${R[@]}" --store "$(store html)" --format html -o "$TMP/outdir/report.html" --no-record
expect_rc "html -o: exit 1" 1
eq "html -o: nothing on stdout" "$out" ""
eq "html -o: only the report in the directory (no temporary left)" "$(ls "$TMP/outdir")" "report.html"
check "html: a complete page" grep -q '^</main></body></html>$' "$TMP/outdir/report.html"
check "html: summary section" grep -q '<section id="summary"><h2>Summary</h2>' "$TMP/outdir/report.html"
check "html: the DAG's section" grep -q '<section class="dag" id="dag-demo-train_churn">' "$TMP/outdir/report.html"
eq "html: 14 run cells + 3 tasks x 14 cells" "$(grep -c '<rect ' "$TMP/outdir/report.html")" "56"
eq "html: no script, nothing from the network" "$(grep -Ec '<script|<link|src="http|@import|url\(' "$TMP/outdir/report.html")" "0"
# --explain is honoured in HTML too: the weights and the sum
run "${R[@]}" --store "$(store html)" --format html --explain --no-record
expect_out "html --explain: the evidence with its weights" '<b>why \(evidence weights\)</b><ul><li>\+[0-9]\.[0-9]{2} '
expect_out "html --explain: the sum and the confidence" '<li>= [0-9.]+  -&gt; confidence 1 - e\^-'
# the same answer in every format: as many checks and fixes in text, md,
# JSON and HTML
run "${R[@]}" --store "$(store html)" --format json --no-record
nfix=$("$PY" -c 'import json,sys; c=json.load(sys.stdin)["dags"][0]["triage"]["causes"][0]; print(len(c["fix"]), len(c["checks"]))' <<<"$out")
run "${R[@]}" --store "$(store html)" --format html --no-record
html_n=$("$PY" -c '
import re,sys
h=sys.stdin.read(); c=h[h.index("class=\"cause"):]
def n(label): m=re.search("<b>"+label+"</b><ul>(.*?)</ul>", c); return m.group(1).count("<li>")
print(n("fix"), n("checks"))' <<<"$out")
eq "html shows the fixes and checks JSON has" "$html_n" "$nfix"
run "${R[@]}" --store "$(store html)" --format md --no-record
first_cause=$(awk '/^\*\*1\. /{c=1} /^\*\*2\. |^```/{c=0} c' <<<"$out")
md_n="$(grep -c '^- fix: ' <<<"$first_cause") $(grep -c '^- check: ' <<<"$first_cause")"
eq "md shows the fixes and checks JSON has" "$md_n" "$nfix"
# Markdown for chat: no backslash escapes Slack would show (-> and < as they read)
expect_out "md: an arrow stays an arrow" '^\*\*1\. Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0\*\*'
expect_no "md: no backslash before > or [" '\\[>[]'
# -o replaces an existing file whole; a missing directory is an error (2).
echo stale >"$TMP/outdir/report.txt"
run "${R[@]}" --store "$(store html)" -o "$TMP/outdir/report.txt" --no-record
expect_rc "-o text: exit 1" 1
check "-o text: the old content replaced" grep -q '^1 DAG ran: 1 failing' "$TMP/outdir/report.txt"
check "-o text: no stale line" bash -c "! grep -q '^stale' '$TMP/outdir/report.txt'"
run "${R[@]}" --store "$(store html)" -o "$TMP/nodir/report.html" --no-record
expect_rc "-o into a missing directory: exit 2" 2
expect_err "-o into a missing directory: says so" 'cannot write .*/nodir/report\.html.*: No such file or directory'
run "${R[@]}" --store "$(store html)" --format pdf
expect_rc "--format pdf: exit 2" 2
expect_err "--format pdf: lists the formats" 'text, md, json or html'

# ---- the HTML grid ------------------------------------------------------------
# grid.py HTML SECTION: the rows of a DAG's grid (one per line), then each
# cell's link (one per line, "-" for none): a cell is an <a href> (or a <g>)
# holding its tooltip, square and glyph.
cat >"$TMP/grid.py" <<'PY'
import html, re, sys
page = open(sys.argv[1]).read()
sec = re.search(r'<section class="dag" id="%s">(.*?)</section>' % re.escape(sys.argv[2]), page, re.S).group(1)
svg = sec[sec.index('<svg class="grid"'):sec.index("</svg>")]
print("rows " + " ".join(re.findall(r'<text x="0" y="\d+"><title>([^<]*)</title>', svg)))
for m in re.finditer(r'<(a href="([^"]*)"|g)><title>([^<]*)</title><rect[^>]*data-state="([^"]*)"', svg):
    if not m.group(3).startswith("run "):
        print("cell %s %s" % (m.group(4), html.unescape(m.group(2)) if m.group(2) else "-"))
PY
H="$TMP/outdir/report.html"
check "html grid: at the top of the DAG, before the causes" "$PY" -c '
import sys; d = open(sys.argv[1]).read()
assert -1 < d.index("<svg class=\"grid\"") < d.index("<div class=\"cause")' "$H"
eq "html grid: glyphs beside the colours (8 + 30 successes, 6 + 6 failures: runs + tasks)" \
	"$(grep -o '>[✓✕]</text>' "$H" | sort | uniq -c | tr -s ' ')" " 38 >✓</text>
 12 >✕</text>"
for want in 'success' 'failed, unclassified' 'passed on retry' 'upstream failed' 'skipped' 'running or queued' \
	'never ran (no task instance)' 'duration of successful tries, oldest to newest' 'failed: dependency_upgrade'; do
	check "html legend: $want" grep -qF -- "$want</span>" "$H"
done
eq "html grid: the never-ran cells have a dotted outline" \
	"$(grep -c '<rect class="none"[^>]*stroke-dasharray' "$H")" "6"
day='2026-\d\d-\d\d'
tip="<title>features in run scheduled__${day}T02:00:00\\+00:00\\nlogical date $day 02:00 UTC\\n"
tip+="started $day \\d\\d:\\d\\d UTC, took \\d+m\\nthis try: started $day \\d\\d:\\d\\d UTC, took \\d+s\\n"
tip+="state: failed, try 3\\ncategory: dependency_upgrade\\n"
check "html grid: a tooltip with the run, its logical date and when the try ran, how long, its state and try" \
	grep -Pzoq "$tip" "$H"
check "html grid: column labels are when each run started" \
	grep -Eq '</title>[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}</text>' "$H"
eq "html grid: a duration trend per task" "$(grep -c '<g class="trend"><title>[a-z]*: successful tries took' "$H")" "3"
eq "html grid: a log folder has no UI: no cell links" "$(grep -c '<a href="http' "$H")" "0"

# Against the fakes: rows in the DAG's order (not by name), each cell a link
# to its try's log in that UI, the same offline.
for ui in v1 v2 prefect; do
	if [ $ui = prefect ]; then
		start_fake fake_prefect.py "pf" --mode server --world "$ROOT/tests/fakes/worlds/basic.json"
		src="kind: prefect"$'\n'"    url: http://127.0.0.1:$port/api"
	else
		start_fake fake_airflow.py "af$ui" --api $ui --world "$ROOT/tests/fakes/worlds/basic.json" \
			--token g-t0ken
		src="kind: airflow"$'\n'"    url: http://127.0.0.1:$port"$'\n'"    token_env: AF_TOKEN"
	fi
	printf 'sources:\n  - name: s\n    %s\n' "$src" >"$TMP/ui$ui.yaml"
	for mode in online offline; do
		[ $mode = offline ] && off=--offline || off=
		AF_TOKEN=g-t0ken run "$DAGDOC" report --config "$TMP/ui$ui.yaml" --store "$(store ui$ui)" --since 3650d \
			--history 3650d --format html -o "$TMP/ui$ui-$mode.html" --no-record $off etl_daily
		expect_rc "$ui $mode: exit 1 (failing)" 1
		"$PY" "$TMP/grid.py" "$TMP/ui$ui-$mode.html" dag-s-etl_daily >"$TMP/ui$ui-$mode.grid"
	done
	eq "$ui: rows in the DAG's order" "$(head -1 "$TMP/ui$ui-online.grid")" \
		"rows wait_for_raw_events extract transform load notify"
	eq "$ui: --offline links the same" "$(cat "$TMP/ui$ui-offline.grid")" "$(cat "$TMP/ui$ui-online.grid")"
	AF_TOKEN=g-t0ken run "$DAGDOC" report --config "$TMP/ui$ui.yaml" --store "$(store ui$ui)" --since 3650d \
		--history 3650d --format json --no-record --offline etl_daily
	eq "$ui: JSON has the HTML's links" "$(printf '%s' "$out" | "$PY" -c '
import json, sys
g = json.load(sys.stdin)["dags"][0]["grid"]
print("rows " + " ".join(g["tasks"]))
for row in g["cells"]:
    for c in row:
        print("cell %s %s" % (c["state"], c["url"] or "-"))' | sort)" "$(sort "$TMP/ui$ui-online.grid")"
	eq "$ui: every cell that ran is a link, the others none" \
		"$(awk '$1 == "cell" { print ($2 == "none") == ($3 == "-") }' "$TMP/ui$ui-online.grid" | sort -u)" "1"
	run_id='scheduled__2026-03-[0-9]{2}T02%3A00%3A00%2B00%3A00'
	case $ui in
	v1) want="/dags/etl_daily/grid\\?dag_run_id=$run_id&task_id=[a-z_]+&tab=logs" ;;
	v2) want="/dags/etl_daily/runs/$run_id/tasks/[a-z_]+\\?try_number=[1-9]" ;;
	prefect) want="/runs/task-run/[0-9a-f-]{36}" ;;
	esac
	want="^cell failed http://127\\.0\\.0\\.1:$port$want\$"
	check "$ui: a failed cell links to its try's log" grep -Eq "$want" "$TMP/ui$ui-online.grid"
done

# ---- all healthy: exit 0 ----------------------------------------------------
mkdags "$D/logs" "$TMP/healthy/logs" ok_dag healthy
printf 'sources:\n  - name: h\n    kind: logs\n    path: %s\n' "$TMP/healthy/logs" >"$TMP/healthy.yaml"
run "$DAGDOC" report --config "$TMP/healthy.yaml" --store "$(store healthy)" --since 35d
expect_rc "healthy: exit 0" 0
expect_out "healthy: summary" '^1 DAG ran: 0 failing, 0 recovered, 1 healthy; failures: 0 new, 0 recurring$'
expect_out "healthy: listed" '^healthy: ok_dag \(24 runs\)$'

# ---- new vs recurring over two successive reports ------------------------------
cp -r "$D/logs" "$TMP/fleet"
printf 'sources:\n  - name: fleet\n    kind: logs\n    path: %s\n' "$TMP/fleet" >"$TMP/fleet.yaml"
FR=("$DAGDOC" report --config "$TMP/fleet.yaml" --store "$(store fleet)" --since 35d --format json)
run "${FR[@]}" --no-record    # a preview does not count as an earlier report
run "${FR[@]}"
expect_rc "first report: exit 1" 1
cp "$TMP/out" "$TMP/first.json"
run "${FR[@]}"
check "a report made again the same day (a retry) still calls the failure new" "$PY" - "$TMP/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert (j["summary"]["new_failures"], j["summary"]["recurring_failures"]) == (1, 0), j["summary"]
PY
yesterday_reports "$(store fleet)"
mkdags "$D/logs" "$TMP/fleet" load_orders failing     # a new failing DAG appears
run "${FR[@]}"
expect_rc "second report: exit 1" 1
cp "$TMP/out" "$TMP/second.json"
check "new vs recurring" "$PY" - "$TMP/first.json" "$TMP/second.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
fp = a["dags"][0]["triage"]["causes"][0]["fingerprint"]
assert [(f["dag_id"], f["fingerprint"]) for f in a["new_failures"]] == [("train_churn", fp)], a["new_failures"]
assert a["recurring_failures"] == [], a["recurring_failures"]
assert (a["summary"]["new_failures"], a["summary"]["recurring_failures"]) == (1, 0), a["summary"]
assert [(f["dag_id"], f["fingerprint"], f["new"], f["earlier_reports"]) for f in b["recurring_failures"]] == \
    [("train_churn", fp, False, 1)], b["recurring_failures"]
new = [(f["dag_id"], f["failure"], f["new"]) for f in b["new_failures"]]
assert new == [("load_orders", "KeyError: 'customer_id'", True)], new
from datetime import datetime, timedelta
when = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
assert when(b["recurring_failures"][0]["first_reported"]) == when(a["report"]["made"]) - timedelta(days=1), \
    b["recurring_failures"][0]
assert b["new_failures"][0]["fingerprint"] != fp
assert (b["summary"]["dags"], b["summary"]["failing"], b["summary"]["new_failures"],
        b["summary"]["recurring_failures"]) == (2, 2, 1, 1), b["summary"]
PY
yesterday_reports "$(store fleet)"
run "$DAGDOC" report --config "$TMP/fleet.yaml" --store "$(store fleet)" --since 35d --no-record
expect_out "third report (text): both recurring now" '^2 DAGs ran: 2 failing, 0 recovered, 0 healthy; failures: 0 new, 2 recurring$'
run "$DAGDOC" report --config "$TMP/fleet.yaml" --store "$(store fleet)" --since 35d --no-record load_orders
expect_out "naming one DAG reports only it" '^1 DAG ran: 1 failing'
run "$DAGDOC" report --config "$TMP/fleet.yaml" --store "$(store fleet)" --since 35d --no-record no_such_dag
expect_rc "an unknown DAG named: exit 2" 2
expect_err "an unknown DAG named: says so" "no DAG named 'no_such_dag'"

# ---- --post to a fake webhook ------------------------------------------------
SECRET_PATH=/services/T0E2E/B0E2E/s3cr3tW3bh00kT0k3n
start_hook flaky --fail 2
run "${R[@]}" --store "$(store hook)" --no-record --format html -o "$TMP/hook.html" --post "http://127.0.0.1:$port$SECRET_PATH"
expect_rc "post: delivered after two 500s; exit 1 for the failing DAG" 1
eq "post: three requests, 500 500 200" "$("$PY" -c 'import json,sys; print(" ".join(str(json.loads(l)["status"]) for l in open(sys.argv[1])))' "$TMP/flaky.rec")" "500 500 200"
check "post: the summary as Slack JSON" "$PY" - "$TMP/flaky.rec" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert all(r["content_type"].startswith("application/json") for r in reqs), [r["content_type"] for r in reqs]
t = json.loads(reqs[-1]["body"])["text"]
assert t.startswith("*dagdoc report* "), t
assert "1 DAG ran: 1 failing, 0 recovered, 0 healthy; failures: 1 new, 0 recurring" in t, t
assert "• *train_churn* (demo) failing, *new*: Dependency upgrade: pandas 1.5.3 -&gt; 2.0.0 (confidence 0.95), task features" in t, t
PY
check "post: the report is written too" grep -q '<section id="summary">' "$TMP/hook.html"
expect_no "post: the webhook token is never printed" 's3cr3tW3bh00kT0k3n'

start_hook down --fail 100
run "${R[@]}" --store "$(store hook)" --no-record -o "$TMP/hook.txt" --post "http://127.0.0.1:$port$SECRET_PATH"
expect_rc "post 500 every time: exit 2" 2
expect_err "post 500 every time: a clear error" "the webhook at http://127\.0\.0\.1:$port kept answering 500 \(rollup_error\) after 4 attempts; the report was written but its summary not posted"
eq "post 500 every time: four attempts" "$(wc -l <"$TMP/down.rec")" "4"
expect_no "post 500 every time: the token is never printed" 's3cr3tW3bh00kT0k3n'

start_hook busy --fail 100 --fail-status 503
run "${R[@]}" --store "$(store hook)" --no-record -o "$TMP/hook.txt" --post "http://127.0.0.1:$port$SECRET_PATH"
expect_rc "post 503 every time: exit 2" 2
eq "post 503 every time: four attempts in all, not 4 x 4" "$(wc -l <"$TMP/busy.rec")" "4"
expect_err "post 503 every time: a clear error" "kept answering 503 .*after 4 attempts"

# nothing listening: the port of a server started and stopped
start_hook gone0
kill "$hook_pid"; wait "$hook_pid" 2>/dev/null
run "${R[@]}" --store "$(store hook)" --no-record -o "$TMP/hook.txt" --post "http://127.0.0.1:$port$SECRET_PATH"
expect_rc "post, nothing listening: exit 2" 2
expect_err "post, nothing listening: a clear error" "cannot post to the webhook at http://127\.0\.0\.1:$port: "
expect_no "post, nothing listening: the token is never printed" 's3cr3tW3bh00kT0k3n'

start_hook gone --reject 404
run "${R[@]}" --store "$(store hook)" --no-record -o "$TMP/hook.txt" --post "http://127.0.0.1:$port$SECRET_PATH"
expect_rc "post 404: exit 2" 2
expect_err "post 404: a clear error naming only the origin" "the webhook at http://127\.0\.0\.1:$port refused the summary with 404 \(invalid_payload\); check the --post URL"
eq "post 404: not retried" "$(wc -l <"$TMP/gone.rec")" "1"
expect_no "post 404: the webhook token is never printed" 's3cr3tW3bh00kT0k3n'
check "post 404: the report is still written" grep -q '^1 DAG ran' "$TMP/hook.txt"

start_hook wrongpath
run "${R[@]}" --store "$(store hook)" --no-record -o "$TMP/hook.txt" --post "http://127.0.0.1:$port/services/T0E2E/B0E2E/wrongT0k3nXYZ"
expect_rc "post to a wrong path: exit 2" 2
expect_err "post to a wrong path: 404 no_service" 'refused the summary with 404 \(no_service\)'
expect_no "post to a wrong path: the token is never printed" 'wrongT0k3nXYZ'

run "${R[@]}" --store "$(store hook)" --no-record --post "ftp://127.0.0.1/x"
expect_rc "post to a non-http URL: exit 2" 2
finish
