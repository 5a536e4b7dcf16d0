#!/usr/bin/env bash
# dagdoc triage --evidence and --interactive on the demo (train_churn: pandas
# 1.5.3 -> 2.0.0 breaks DataFrame.append): each kind of pasted output is
# recognised by its shape and by its '$ command' line, what is not evidence
# is reported, a confirmation raises rank 1 and a refutation lowers it, what
# was established is kept in the store and shown by triage, runbook and
# report without asking again, and --interactive is played through a
# pseudo-terminal (tests/e2e/pty_run.py).
# backends: sqlite postgresql
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
EV="$ROOT/tests/e2e/evidence"
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $2" "want: $3"; fi
}
"$PY" "$ROOT/examples/demo/make_demo.py" "$TMP/demo" >/dev/null || { echo "not ok - make_demo.py"; exit 1; }
C=(--config "$TMP/demo/config.yaml" --since 35d)
BASE=$(store base)
run "$DAGDOC" sync "${C[@]}" --store "$BASE"
expect_rc "sync the demo" 0
# Each case starts from a copy of the synced store: what one establishes must not reach another.
fresh() { S=$(copy_store "$BASE" "$1"); }
# runs a command and joins the text report's folded lines (12 blanks, then text) onto the line they continue
runu() {
	run "$@"
	out=$(awk '/^            [^ ]/ && NR > 1 { sub(/^ +/, " "); printf "%s", $0; next } NR > 1 { print "" } { printf "%s", $0 } END { print "" }' <<<"$out")
}

# ---- what each output is read as ---------------------------------------------------
# kind_of FILE: the kind of the only output of FILE, as the JSON says: the tool of a verdict, or the
# kind an unused output is named by, or "unrecognised".
kind_of() {
	fresh kind
	"$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --format json --evidence "$1" \
		>"$TMP/kind.json" 2>/dev/null
	"$PY" - "$TMP/kind.json" <<'PYEOF'
import json, re, sys
r = json.load(open(sys.argv[1]))
if r.get("unrecognised_evidence"):
    print("unrecognised")
for c in r["causes"]:
    for v in c.get("verdicts") or []:
        print(v["tool"])
for u in r.get("unused_evidence") or []:
    print(re.search(r"the (.+?) output", u).group(1))
PYEOF
}
for k in "pip_show:pip show" "pip_freeze:pip freeze" "pip_list:pip list" "kubectl:kubectl describe pod" \
	"df:df" "free:free" "nvidia_smi:nvidia-smi" "conn_get:airflow connections" \
	"var_get:airflow variables get" "python_version:python --version" "git_log:git log"; do
	eq "shape: ${k%%:*}.txt is read as ${k#*:}" "$(kind_of "$EV/${k%%:*}.txt")" "${k#*:}"
done
eq "shape: a chat message is no evidence" "$(kind_of "$EV/not_evidence.txt")" "unrecognised"

# ---- a confirmation, explained -------------------------------------------------------
fresh confirm
runu "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --explain --evidence "$EV/pip_show.txt"
expect_rc "confirm: exit 1" 1
expect_out "confirm: rank 1 stays the upgrade" '^1\. Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0 +confidence 1\.00'
expect_out "confirm: --explain says which line did it" \
	"^   evidence confirmed by pip show \(.*pip_show\.txt line 2: \"Version: 2\.0\.0\"\): pandas 2\.0\.0 deployed"
expect_out "confirm: weighed" '\+3\.00 +confirmed by pip show'
runu "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline
expect_out "kept: the next triage says it, with who and when" \
	"^   evidence confirmed: pandas 2\.0\.0 deployed \(pip show, 20[0-9-]+ [0-9:]+, by $(id -un)\)$"
runu "$DAGDOC" runbook train_churn "${C[@]}" --store "$S" --offline
expect_out "kept: the runbook says it" '^evidence confirmed: pandas 2\.0\.0 deployed \(pip show, '
runu "$DAGDOC" report "${C[@]}" --store "$S" --offline --no-record
expect_out "kept: the report says it" '^ +confirmed: pandas 2\.0\.0 deployed \(pip show, '
run "$DAGDOC" report "${C[@]}" --store "$S" --offline --no-record --format html -o "$TMP/report.html"
check "kept: the HTML report says it" grep -q '<div class="verdict">confirmed: pandas 2\.0\.0 deployed (pip show, ' "$TMP/report.html"
run "$DAGDOC" report "${C[@]}" --store "$S" --offline --no-record --format json
eq "kept: the JSON report says it" \
	"$("$PY" -c 'import json,sys; f=json.loads(sys.stdin.read())["new_failures"][0]; print(f["established"], f["verdicts"])' <<<"$out")" \
	"confirmed ['pandas 2.0.0 deployed']"
run "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --format json
eq "kept: JSON established" "$("$PY" -c 'import json,sys; c=json.loads(sys.stdin.read())["causes"][0]; print(c["established"], c["verdicts"][0]["stored"])' <<<"$out")" "confirmed True"
eq "kept: one row in the store" "$(store_sql "$S" 'SELECT kind, verdict, what, tool FROM established')" \
	"dependency_change|1|pandas 2.0.0 deployed|pip show"
runu "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --evidence "$EV/pip_show.txt"
eq "kept: pasting it again adds no row" "$(store_sql "$S" 'SELECT count(*) FROM established')" "1"
expect_no "kept: ... and the output pasted again is not called unused" 'unused evidence'
expect_out "kept: ... the verdict keeps its who and when" 'evidence confirmed: pandas 2\.0\.0 deployed \(pip show, 20[0-9-]+ [0-9:]+, by'

# ---- a refutation, from a pasted session with prompts; what is no evidence is said -------------
fresh refute
runu "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --evidence "$EV/session.txt"
expect_out "refute: the upgrade is refuted" '^   evidence refuted: pandas 1\.5\.3 still deployed, not 2\.0\.0: the change has not reached the workers \(pip show, .*session\.txt line 3\)'
expect_out "refute: it falls to confidence 0, the only hypothesis left" '^1\. Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0 +confidence 0\.00$'
expect_out "refute: the output it cannot read is named" "^unrecognised evidence: .*session\.txt line 7: dagdoc does not read the output of 'uptime'$"
# several files after one --evidence, and standard input
fresh multi
run "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --format json --evidence "$EV/df.txt" "$EV/not_evidence.txt"
eq "files: the operands after --evidence are evidence too" \
	"$("$PY" -c 'import json,sys; r=json.loads(sys.stdin.read()); print(len(r["unused_evidence"]), len(r["unrecognised_evidence"]))' <<<"$out")" "1 1"
runu bash -c "\"$DAGDOC\" triage train_churn --config \"$TMP/demo/config.yaml\" --since 35d --store \"$S\" --offline --evidence - <\"$EV/pip_show.txt\""
expect_out "stdin: --evidence - reads standard input" 'evidence confirmed: pandas 2\.0\.0 deployed \(pip show, stdin line 2\)'
run "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --evidence "$TMP/missing.txt"
expect_rc "files: a missing file is an error" 2
expect_err "files: ... that names it" 'missing\.txt'

# ---- --interactive -------------------------------------------------------------------
run "$DAGDOC" triage train_churn "${C[@]}" --store "$BASE" --offline --interactive </dev/null
expect_rc "interactive: refused without a terminal" 2
expect_err "interactive: ... saying to use --evidence" 'needs a terminal.*--evidence FILE'
PTY=("$PY" "$ROOT/tests/e2e/pty_run.py")
ask='Enter alone skips\):'
fresh i1
runu "${PTY[@]}" --expect "check: pip show pandas" --expect "$ask" --send '\n' \
	-- "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --interactive
expect_rc "interactive: Enter alone skips, then no check is left" 1
expect_out "interactive: ... it says so" 'no check left whose output dagdoc reads; the ranking stands'
fresh i2
I2=$S   # asked again after i4
runu "${PTY[@]}" --expect "$ask" --send "$(sed 's/$/\\n/' "$EV/pip_show.txt" | tr -d '\n')\\n" \
	-- "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --interactive
expect_rc "interactive: an empty line ends the paste" 1
expect_out "interactive: ... read as pip show" '^read: pip show'
expect_out "interactive: ... confirmed" '^confirmed: Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0'
expect_out "interactive: ... then the fix" '^fix pin pandas==1\.5\.3 in requirements\.txt'
fresh i3
runu "${PTY[@]}" --expect "$ask" --send 'Name: pandas\nVersion: 1.5.3\n\x04' \
	-- "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --interactive
expect_out "interactive: Ctrl-D ends the paste; the refuted cause is not asked about again" \
	'no check left whose output dagdoc reads'
expect_out "interactive: ... the ranking shows the refutation" 'evidence refuted: pandas 1\.5\.3 still deployed'
fresh i4
runu "${PTY[@]}" --expect "$ask" --send '\x04' \
	-- "$DAGDOC" triage train_churn "${C[@]}" --store "$S" --offline --interactive
expect_out "interactive: Ctrl-D alone ends the loop" 'end of input: the ranking stands'
eq "interactive: ... and nothing is kept" "$(store_sql "$S" 'SELECT count(*) FROM established')" "0"
runu "${PTY[@]}" -- "$DAGDOC" triage train_churn "${C[@]}" --store "$I2" --offline --interactive
expect_out "interactive: a confirmed failure is not asked again" '^confirmed: Dependency upgrade: pandas 1\.5\.3 -> 2\.0\.0'
expect_no "interactive: ... no prompt" 'paste its output'
finish
