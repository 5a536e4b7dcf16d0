#!/usr/bin/env bash
# dagdoc patterns list / show / test; the built-in library tests itself
# (every example and counterexample of patterns/*.yaml).
. "$(dirname "$0")/lib.sh"
UNIT="$ROOT/tests/fixtures/patterns-unit"

# ---- the built-in library: every example and counterexample -------------------
run "$DAGDOC" patterns test
expect_rc "built-in library: every example classifies to its pattern, no counterexample matches" 0
expect_out "built-in library: summary" '^[0-9]+ patterns passed: [0-9]+ examples, [0-9]+ counterexamples$'

run "$DAGDOC" patterns list
expect_rc "list: exit 0" 0
check "list: every category has patterns" bash -c '
for c in dependency_upgrade stalled_upstream intermittent resource orchestrator config_credentials code_bug data_quality ml_training; do
	grep -Eq "^[^ ]+ +$c +[01]\.[0-9]{2}  " <<<"$1" || { echo "no pattern of category $c"; exit 1; }
done' _ "$out"

# ---- on the unit fixtures (contents known) -----------------------------------
export DAGDOC_PATTERNS_DIR="$UNIT"
run "$DAGDOC" patterns list
expect_out "list: one line per pattern" '^t\.keyerror +code_bug +0\.40  A dictionary key was missing$'
expect_out "list: multi-regex pattern" '^t\.oom +resource +0\.80  '
run "$DAGDOC" patterns list --category resource
check "list --category: only that category" bash -c '[ "$(wc -l <<<"$1")" = 2 ] && ! grep -q code_bug <<<"$1"' _ "$out"
run "$DAGDOC" patterns list --category network
expect_rc "list --category: unknown category -> 2" 2
expect_err "list --category: message" "unknown category 'network'"

run "$DAGDOC" patterns show t.oom
expect_rc "show: exit 0" 0
expect_out "show: id" '^id +t\.oom$'
expect_out "show: where" "^defined at +$UNIT/resource.yaml:3$"
expect_out "show: every regex" '^ +\^Process \(\?:\\d\+ \)\?exited with status code'
expect_out "show: checks keep placeholders" '^checks +kubectl describe pod \| grep -i oom  # exit \{exit_code\}'
expect_out "show: examples" '^examples +Task exited with return code -9$'
run "$DAGDOC" patterns show t.oon
expect_rc "show: unknown id -> 2" 2
expect_err "show: did you mean" "no pattern with id 't.oon'; did you mean 't.oom'\\?"
run "$DAGDOC" patterns
expect_rc "no subcommand -> 2" 2
run "$DAGDOC" patterns frobnicate
expect_rc "unknown subcommand -> 2" 2
expect_err "unknown subcommand: message" "unknown subcommand 'frobnicate'"

run "$DAGDOC" patterns test
expect_rc "test: unit fixtures pass" 0
expect_out "test: counts" '^5 patterns passed: 6 examples, 5 counterexamples$'

# a user directory on top: only its patterns are tested
run "$DAGDOC" patterns test "$ROOT/tests/fixtures/patterns-user"
expect_rc "test DIR: passes" 0
expect_out "test DIR: only DIR's patterns" '^2 patterns passed: 2 examples, 0 counterexamples$'

# misses are named file:line: pattern id: what happened, exit 1
mkdir -p "$TMP/mine"
cat >"$TMP/mine/code_bug.yaml" <<'EOF'
category: code_bug
patterns:
  - id: my.too-weak
    title: Loses to the built-in t.keyerror
    match: '^KeyError: '
    confidence: 0.1
    examples:
      - "KeyError: 'customer_id'"
  - id: my.bad-counterexample
    title: A counterexample that matches
    match: 'ZeroDivisionError'
    confidence: 0.5
    examples:
      - "ZeroDivisionError: division by zero"
    counterexamples:
      - "ok line"
      - |
        [2024-05-01T02:00:13.123+0000] {taskinstance.py:2905} ERROR - something
        ZeroDivisionError: float division by zero
  - id: my.nothing
    title: An example nothing matches
    match: '^Never$'
    confidence: 0.9
    examples:
      - "Always"
EOF
run "$DAGDOC" patterns test "$TMP/mine"
expect_rc "test DIR: misses -> exit 1" 1
expect_out "test: example classified as another pattern" "^$TMP/mine/code_bug.yaml:8: pattern my.too-weak: example 1 classified as t.keyerror \\(code_bug, confidence 0\\.4[0-9]\\)$"
expect_out "test: counterexample matched" "^$TMP/mine/code_bug.yaml:17: pattern my.bad-counterexample: counterexample 2 matched \\(its line 2\\)$"
expect_out "test: example nothing matched" "^$TMP/mine/code_bug.yaml:25: pattern my.nothing: example 1 classified as none \\(no pattern matched\\)$"
expect_out "test: summary" '^3 of 3 patterns failed: 3 misses in 3 examples and 2 counterexamples$'

# broken user files: every problem reported as file:line: pattern id: ..., exit 2
run "$DAGDOC" patterns test "$ROOT/tests/fixtures/patterns-bad"
expect_rc "bad DIR -> exit 2" 2
B="$ROOT/tests/fixtures/patterns-bad"
expect_err "bad: regex error with offset" "^$B/a_regex.yaml:6: pattern bad.regex: regex error at offset 21: missing closing parenthesis$"
expect_err "bad: unknown key" "^$B/b_keys.yaml:7: pattern bad.unknown-key: unknown key 'colour'"
expect_err "bad: missing title" "^$B/b_keys.yaml:9: pattern bad.missing: missing key 'title'$"
expect_err "bad: missing confidence" "^$B/b_keys.yaml:9: pattern bad.missing: missing key 'confidence'$"
expect_err "bad: confidence range" "^$B/c_confidence.yaml:6: pattern bad.confidence: 'confidence' must be a number between 0 and 1, not '1.5'$"
expect_err "bad: category" "^$B/d_category.yaml:1: category 'network' is not one of dependency_upgrade, "
expect_err "bad: placeholder without group" "^$B/e_placeholder.yaml:7: pattern bad.placeholder: checks item 1 uses \\{conn_id\\} but regex 2 has no group named 'conn_id'$"
expect_err "bad: no examples" "^$B/f_examples.yaml:3: pattern bad.no-examples: missing key 'examples'"
expect_err "bad: duplicate id" "^$B/g_dup.yaml:8: pattern bad.dup: duplicate id \\(first defined at $B/g_dup.yaml:3\\)$"
expect_err "bad: YAML syntax" "^$B/h_syntax.yaml:5: YAML syntax error: "
expect_err "bad: retired category import_error" "^$B/i_retired.yaml:1: category 'import_error' was retired: .*use code_bug .* with 'stage: parse'"
expect_err "bad: stage" "^$B/j_stage.yaml:7: pattern bad.stage: 'stage' must be one of parse, schedule, run, teardown, not 'runtime'$"
expect_err "bad: summary" '^dagdoc patterns: 12 problems in the pattern library; fix them and run again$'
run "$DAGDOC" patterns list --config /dev/null
expect_rc "the broken dir is not used unless named" 0

finish
