#!/usr/bin/env bash
# dagdoc report --post in each format, against tests/fakes/fake_webhook.py:
# Slack Block Kit checked block by block (types, Slack's limits, links), the
# generic JSON object, PagerDuty Events API v2 (a trigger per failing DAG
# with a dedup_key stable across runs, a resolve when the failure is fixed,
# 202 taken, 429 retried through the HTTP policy, a refused event an exit
# 2 with the report written), the URL from --post-env or the
# configuration's post: section (never in argv, never printed), and a
# retry the same day calling new what the first run called new.
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
D="$TMP/demo"
"$PY" "$ROOT/examples/demo/make_demo.py" "$D" >/dev/null || { echo "not ok - make_demo.py"; exit 1; }
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
# mkdag DEST DAG: a failing DAG derived from the demo's train_churn (a
# KeyError instead, so another fingerprint)
mkdag() {
	"$PY" - "$D/logs" "$@" <<'PY'
import os, sys
src, dest, dag = sys.argv[1:4]
base = os.path.join(src, "dag_id=train_churn")
for r, _, fs in os.walk(base):
    for f in fs:
        p = os.path.join(r, f)
        out = os.path.join(dest, "dag_id=" + dag, os.path.relpath(p, base))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        text = open(p).read().replace("train_churn", dag).replace(
            "AttributeError: 'DataFrame' object has no attribute 'append'", "KeyError: 'customer_id'")
        open(out, "w").write(text)
PY
}
# fixrun DEST DAG: a run after the DAG's newest that passes (a good run's logs, moved to the
# newest run's day 02:06, ten minutes after it ran)
fixrun() {
	"$PY" - "$@" <<'PY'
import datetime, os, shutil, sys
dest, dag = sys.argv[1:3]
base = os.path.join(dest, "dag_id=" + dag)
runs = sorted(os.listdir(base))
good = next(r for r in runs if not any("Marking task as FAILED" in open(os.path.join(p, f)).read()
                                       for p, _, fs in os.walk(os.path.join(base, r)) for f in fs))
day = lambda r: datetime.date.fromisoformat(r.split("__")[1][:10])
g, n = day(good), day(runs[-1]) + datetime.timedelta(days=1)
new = "run_id=scheduled__%sT02:06:00+00:00" % n
for p, _, fs in os.walk(os.path.join(base, good)):
    for f in fs:
        text = open(os.path.join(p, f)).read()
        text = text.replace("%sT02:00:00" % g, "%sT02:06:00" % n).replace("%s 02:00:00" % g, "%s 02:06:00" % n)
        text = text.replace("%sT02:0" % (g + datetime.timedelta(days=1)), "%sT02:1" % n)
        out = os.path.join(base, new, os.path.relpath(os.path.join(p, f), os.path.join(base, good)))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        open(out, "w").write(text.replace(good, new))
PY
}
SECRET_PATH=/services/T0E2E/B0E2E/s3cr3tW3bh00kT0k3n
KEY=R0ut1ngK3yE2Ed0n0tpr1nt0123456789
statuses() { "$PY" -c 'import json,sys; print(" ".join(str(json.loads(l)["status"]) for l in open(sys.argv[1])))' "$1"; }
no_secret() {   # NAME: neither the last run's output nor the report holds a secret
	expect_no "$1: the webhook token is never printed" 's3cr3tW3bh00kT0k3n'
	expect_no "$1: the routing key is never printed" "$KEY"
}

mkdir -p "$TMP/fleet"
cp -r "$D/logs/." "$TMP/fleet/"
mkdag "$TMP/fleet" load_orders
printf 'sources:\n  - name: fleet\n    kind: logs\n    path: %s\n' "$TMP/fleet" >"$TMP/fleet.yaml"
R=("$DAGDOC" report --config "$TMP/fleet.yaml" --since 35d --report-url "https://reports.example.com/dagdoc/r.html")
unset HOOK_URL DAGDOC_PAGERDUTY_ROUTING_KEY

# ---- Slack Block Kit, the URL from --post-env --------------------------------------
start_hook blocks --delay 0.5
export HOOK_URL="http://127.0.0.1:$port$SECRET_PATH"
BS=$(store blocks)
"${R[@]}" --store "$BS" --no-record -o "$TMP/blocks.txt" --post-env HOOK_URL --post-format blocks \
	>"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
# its command line once it is dagdoc's (the hook's delay keeps it running; tests run in parallel)
for _ in $(seq 100); do
	argv=$(tr '\0' ' ' <"/proc/$bg/cmdline" 2>/dev/null)
	[[ "$argv" == *' report '* ]] && break
	sleep 0.05
done
wait "$bg"
rc=$?
out=$(cat "$TMP/bg.out") errout=$(cat "$TMP/bg.err")
expect_rc "blocks: posted; exit 1 for the failing DAGs" 1
check "blocks: the command line names the variable, never the URL" \
	bash -c "[[ '$argv' == *'--post-env HOOK_URL'* && '$argv' != *s3cr3t* ]]"
no_secret "blocks"
check "blocks: the report holds no secret either" bash -c "! grep -q s3cr3t '$TMP/blocks.txt'"
check "blocks: the message's blocks within Slack's limits, one section per failing DAG, links" \
	"$PY" - "$TMP/blocks.rec" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["status"] for r in reqs] == [200], reqs
m = json.loads(reqs[0]["body"])
assert "2 DAGs ran: 2 failing" in m["text"], m["text"]
b = m["blocks"]
assert 0 < len(b) <= 50, len(b)
assert all(x["type"] in ("header", "section", "divider", "context") for x in b), [x["type"] for x in b]
assert b[0] == {"type": "header", "text": {"type": "plain_text", "text": "dagdoc: 2 of 2 DAGs failing"}}, b[0]
for x in b:
    if x["type"] == "section":
        assert x["text"]["type"] == "mrkdwn" and len(x["text"]["text"]) <= 3000, x
    if x["type"] == "context":
        assert all(e["type"] == "mrkdwn" and len(e["text"]) <= 3000 for e in x["elements"]), x
secs = [x["text"]["text"] for x in b if x["type"] == "section"]
assert "<https://reports.example.com/dagdoc/r.html|The report>" in secs[0], secs[0]
dags = secs[1:]
assert len(dags) == 2, dags
assert dags[0].startswith("*load_orders* (fleet) failing, *new*\n"), dags[0]
assert "KeyError: 'customer_id'" in dags[0], dags[0]
assert dags[1].startswith("*train_churn* (fleet) failing, *new*\nDependency "), dags[1]
assert "AttributeError: 'DataFrame' object has no attribute 'append'" in dags[1], dags[1]
assert "<https://reports.example.com/dagdoc/r.html#dag-fleet-train_churn|In the report>" in dags[1], dags[1]
PY

# ---- the generic JSON object, the URL from the configuration's post: section ----------
start_hook generic --kind json
export HOOK_URL="http://127.0.0.1:$port$SECRET_PATH"
cp "$TMP/fleet.yaml" "$TMP/post.yaml"
printf 'post:\n  url_env: HOOK_URL\n  format: json\n  report_url: https://reports.example.com/r.html\n' >>"$TMP/post.yaml"
run "$DAGDOC" report --config "$TMP/post.yaml" --store "$(store json)" --since 35d --no-record
expect_rc "json (post: in the config): posted; exit 1" 1
no_secret "json"
check "json: the documented object" "$PY" - "$TMP/generic.rec" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["status"] for r in reqs] == [200], reqs
j = json.loads(reqs[0]["body"])
assert sorted(j) == ["dagdoc", "dags", "fixed", "report", "schema_version", "sources_failed", "summary"], sorted(j)
assert j["schema_version"] == 1, j
assert j["dagdoc"] == "report"
assert sorted(j["report"]) == ["date", "from", "made", "since", "url"], j["report"]
assert j["report"]["url"] == "https://reports.example.com/r.html" and j["report"]["since"] == "35d", j["report"]
assert j["report"]["made"].startswith(j["report"]["date"]), j["report"]
s = j["summary"]
assert (s["dags"], s["failing"], s["new_failures"], s["recurring_failures"], s["fixed"]) == (2, 2, 2, 0, 0), s
d = {x["dag_id"]: x for x in j["dags"]}
t = d["train_churn"]
assert sorted(t) == ["category", "cause", "confidence", "dag_id", "failure", "fingerprint", "links", "new",
                     "source", "status", "task_ids"], sorted(t)
assert (t["source"], t["status"], t["category"], t["new"], t["task_ids"]) == \
    ("fleet", "failing", "dependency_upgrade", True, ["features"]), t
assert t["cause"].startswith("Dependency ") and 0.5 < t["confidence"] <= 1, t
assert t["failure"] == "AttributeError: 'DataFrame' object has no attribute 'append'", t
assert len(t["fingerprint"]) == 16, t
assert t["links"] == {"dag": None, "report": "https://reports.example.com/r.html#dag-fleet-train_churn"}, t["links"]
assert j["fixed"] == [] and j["sources_failed"] == [], j
PY
run "$DAGDOC" report --config "$TMP/post.yaml" --store "$(store json)" --since 35d --no-record --no-post
expect_rc "--no-post: exit 1" 1
eq "--no-post: nothing posted" "$(wc -l <"$TMP/generic.rec")" "1"
unset HOOK_URL
run "$DAGDOC" report --config "$TMP/post.yaml" --store "$(store json)" --since 35d --no-record -o "$TMP/unset.txt"
expect_rc "post url_env not set: exit 2" 2
expect_err "post url_env not set: says where and what" "post\.yaml:[0-9]+: post url_env names HOOK_URL, which is not set"
check "post url_env not set: the report is still written" grep -q '^2 DAGs ran' "$TMP/unset.txt"
run "${R[@]}" --store "$(store json)" --no-record --post-env NO_SUCH_VAR
expect_rc "--post-env naming an unset variable: exit 2" 2
expect_err "--post-env naming an unset variable: says so" "--post-env names NO_SUCH_VAR, which is not set"

# ---- PagerDuty: triggers, the same again on a retry, then a resolve --------------------------
export DAGDOC_PAGERDUTY_ROUTING_KEY=$KEY
start_hook pd --kind pagerduty --routing-key "$KEY" --fail 1 --fail-status 429 --retry-after 0
PD=("${R[@]}" --store "$(store pd)" --post-format pagerduty --post "http://127.0.0.1:$port$SECRET_PATH" --format json)
run "${PD[@]}"
expect_rc "pagerduty: posted; exit 1" 1
no_secret "pagerduty"
eq "pagerduty: a 429 asked again, then 202 for each failing DAG" "$(statuses "$TMP/pd.rec")" "429 202 202"
cp "$TMP/pd.rec" "$TMP/pd1.rec"
run "${PD[@]}"    # the same night again (a retry): the same events
expect_rc "pagerduty, a retry the same day: exit 1" 1
check "pagerduty, a retry: still new, nothing recurring" "$PY" - "$TMP/out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert (s["new_failures"], s["recurring_failures"]) == (2, 0), s
PY
yesterday_reports "$(store pd)"
fixrun "$TMP/fleet" load_orders         # the next day load_orders passes
run "${PD[@]}"
expect_rc "pagerduty, the next day: exit 1 (train_churn still fails)" 1
eq "pagerduty: 429 202 202 | 202 202 | 202 202" "$(statuses "$TMP/pd.rec")" "429 202 202 202 202 202 202"
check "pagerduty: one incident per failure, its dedup_key stable; the fixed one resolved" \
	"$PY" - "$TMP/pd.rec" "$KEY" <<'PY'
import json, re, sys
ev = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1])]
ev = [e for e, l in zip(ev, open(sys.argv[1])) if json.loads(l)["status"] == 202]
assert all(e["routing_key"] == sys.argv[2] for e in ev)
first, retry, nxt = ev[0:2], ev[2:4], ev[4:6]
keys = lambda es: [(e["event_action"], e["dedup_key"]) for e in es]
assert [e["event_action"] for e in first] == ["trigger", "trigger"], keys(first)
assert keys(retry) == keys(first), (keys(first), keys(retry))
lo, tc = first
assert lo["dedup_key"].startswith("dagdoc/fleet/load_orders/") and tc["dedup_key"].startswith("dagdoc/fleet/train_churn/")
p = tc["payload"]
assert re.fullmatch(r"train_churn \(fleet\) failing: Dependency .* \(confidence 0\.\d\d\)", p["summary"]), p
assert (p["source"], p["severity"], p["component"], p["group"], p["class"]) == \
    ("fleet", "error", "train_churn", "fleet", "dependency_upgrade"), p
assert p["custom_details"]["new"] is True and p["custom_details"]["task_ids"] == ["features"], p["custom_details"]
assert tc["links"] == [{"href": "https://reports.example.com/dagdoc/r.html#dag-fleet-train_churn",
                        "text": "dagdoc report"}], tc["links"]
assert keys(nxt) == [("trigger", tc["dedup_key"]), ("resolve", lo["dedup_key"])], keys(nxt)
assert nxt[0]["payload"]["custom_details"]["new"] is False, nxt[0]
assert sorted(nxt[1]) == ["dedup_key", "event_action", "routing_key"], nxt[1]
PY

# a routing key PagerDuty does not know: 400, not retried, exit 2, the report written
start_hook pdbad --kind pagerduty --routing-key other-key-entirely
run "${PD[@]}" --no-record -o "$TMP/pd.json" --post "http://127.0.0.1:$port$SECRET_PATH"
expect_rc "pagerduty 400: exit 2" 2
expect_err "pagerduty 400: PagerDuty's reason" "PagerDuty at http://127\.0\.0\.1:$port refused the event with 400 \(.*Invalid routing key"
eq "pagerduty 400: not retried" "$(statuses "$TMP/pdbad.rec")" "400"
check "pagerduty 400: the report is still written" grep -q '"summary"' "$TMP/pd.json"
no_secret "pagerduty 400"
unset DAGDOC_PAGERDUTY_ROUTING_KEY
run "${PD[@]}" --no-record
expect_rc "pagerduty without a routing key: exit 2" 2
expect_err "pagerduty without a routing key: says where it goes" "routing key .* in DAGDOC_PAGERDUTY_ROUTING_KEY, which is not set"
run "${R[@]}" --store "$(store pd)" --no-record --post-format teams
expect_rc "--post-format teams: exit 2" 2
expect_err "--post-format teams: lists the formats" "slack, blocks, json or pagerduty"
finish
