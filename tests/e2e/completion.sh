#!/usr/bin/env bash
# Shell completion: `dagdoc complete` (the configured source names, the DAG
# ids of the store, never creating one), and the bash, zsh and fish
# completions in examples/ loaded by their shell and asked for commands,
# options, option values, source names and DAG ids.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
D="$TMP/demo"
"$PY" "$ROOT/examples/demo/make_demo.py" "$D" >/dev/null || { echo "not ok - make_demo.py"; exit 1; }
mkdir -p "$XDG_CONFIG_HOME/dagdoc"
printf 'sources:\n  - name: demo\n    kind: logs\n    path: %s\n  - name: other\n    kind: logs\n    path: %s\n' \
	"$D/logs" "$TMP/empty" >"$XDG_CONFIG_HOME/dagdoc/config.yaml"
mkdir -p "$TMP/empty"
eq() {
	if [ "$2" = "$3" ]; then _pass "$1"; else _fail "$1" "got:  $(echo "$2" | tr '\n' ' ')" "want: $(echo "$3" | tr '\n' ' ')"; fi
}
nl() { printf '%s\n' "$@"; }

# ---- dagdoc complete -------------------------------------------------------------
run "$DAGDOC" complete dags
expect_rc "complete dags, no store yet: exit 0" 0
eq "complete dags, no store yet: nothing" "$out" ""
check "complete dags, no store yet: none created" test ! -e "$XDG_STATE_HOME/dagdoc/dagdoc.db"
run "$DAGDOC" sync
expect_rc "sync the demo" 0
run "$DAGDOC" complete sources
eq "complete sources: the configured names" "$out" "$(nl demo other)"
run "$DAGDOC" complete dags
eq "complete dags: the store's DAG ids" "$out" "train_churn"
run "$DAGDOC" complete dags --source other
eq "complete dags --source: that source's only" "$out" ""
run "$DAGDOC" complete dags --source nosuch
expect_rc "complete dags --source unknown: exit 0" 0
run "$DAGDOC" complete everything
expect_rc "complete everything: a usage error" 2
run "$DAGDOC" help
expect_rc "help: exit 0" 0
check "help does not list complete (it is for the shell)" bash -c "! grep -q '^  complete' '$TMP/out'"

export PATH="$(dirname "$DAGDOC"):$PATH"

# ---- bash --------------------------------------------------------------------------
bash_complete() {   # WORDS...: the last is the word being completed
	bash --norc --noprofile -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_dagdoc dagdoc "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort -u' _ "$ROOT/examples/dagdoc.bash-completion" "$@"
}
eq "bash: commands" "$(bash_complete dagdoc r)" "$(nl report runbook)"
eq "bash: report's options" "$(bash_complete dagdoc report --post-)" "$(nl --post-env --post-format)"
eq "bash: --post-format values" "$(bash_complete dagdoc report --post-format '')" "$(nl blocks json pagerduty slack)"
eq "bash: --source: the configured sources" "$(bash_complete dagdoc triage --source '')" "$(nl demo other)"
eq "bash: a DAG id from the store" "$(bash_complete dagdoc triage t)" "train_churn"
eq "bash: a DAG id of --source" "$(bash_complete dagdoc report --source other '')" ""
eq "bash: runbook: a DAG id" "$(bash_complete dagdoc runbook tr)" "train_churn"

# ---- zsh ---------------------------------------------------------------------------
if command -v zsh >/dev/null; then
	zsh_complete() { TMPDIR="$TMP" zsh -f "$ROOT/tests/lib/zsh_complete.zsh" "$ROOT/examples" "$1"; }
	check "zsh: _dagdoc loads (zsh -n, compinit finds it)" zsh -f -c "
		zsh -n '$ROOT/examples/_dagdoc' || exit 1
		fpath=('$ROOT/examples' \$fpath); autoload -Uz compinit; compinit -u -d '$TMP/.zcd'
		[[ \${_comps[dagdoc]} == _dagdoc ]]"
	eq "zsh: commands" "$(zsh_complete 'dagdoc r')" "$(nl report runbook)"
	eq "zsh: --post-format values" "$(zsh_complete 'dagdoc report --post-format ')" \
		"$(nl blocks json pagerduty slack)"
	eq "zsh: --source: the configured sources" "$(zsh_complete 'dagdoc triage --source ')" "$(nl demo other)"
	eq "zsh: a DAG id from the store" "$(zsh_complete 'dagdoc triage ')" "train_churn"
else
	_fail "zsh is installed (make test installs it)"
fi

# ---- fish --------------------------------------------------------------------------
if command -v fish >/dev/null; then
	fish_complete() {
		fish --no-config -c "source '$ROOT/examples/dagdoc.fish'; complete -C '$1'" | cut -f1 | sort -u
	}
	check "fish: dagdoc.fish parses" fish --no-config -n "$ROOT/examples/dagdoc.fish"
	eq "fish: commands" "$(fish_complete 'dagdoc r')" "$(nl report runbook)"
	eq "fish: report's options" "$(fish_complete 'dagdoc report --post-')" "$(nl --post-env --post-format)"
	eq "fish: --post-format values" "$(fish_complete 'dagdoc report --post-format ')" \
		"$(nl blocks json pagerduty slack)"
	eq "fish: --source: the configured sources" "$(fish_complete 'dagdoc triage --source ')" "$(nl demo other)"
	eq "fish: a DAG id from the store" "$(fish_complete 'dagdoc triage ')" "train_churn"
else
	_fail "fish is installed (make test installs it)"
fi
finish
