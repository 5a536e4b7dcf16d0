#!/usr/bin/env bash
# make install PREFIX=...: the installed binary finds its built-in patterns
# (and nothing from the source tree), plus the man page and completion.
. "$(dirname "$0")/lib.sh"

prefix="$TMP/prefix"
check "make install PREFIX=..." make -s -C "$ROOT" BUILD="${BUILD:-build}" install PREFIX="$prefix"
bin="$prefix/bin/dagdoc"
check "binary installed" test -x "$bin"
n_src=$(ls "$ROOT"/patterns/*.yaml | wc -l)
n_inst=$(ls "$prefix"/share/dagdoc/patterns/*.yaml 2>/dev/null | wc -l)
[ "$n_src" -eq "$n_inst" ] && _pass "every pattern file installed ($n_inst)" || _fail "every pattern file installed" "$n_inst of $n_src"
k_src=$(ls "$ROOT"/knowledge/*.yaml | wc -l)
k_inst=$(ls "$prefix"/share/dagdoc/knowledge/*.yaml 2>/dev/null | wc -l)
[ "$k_src" -eq "$k_inst" ] && _pass "every knowledge file installed ($k_inst)" || _fail "every knowledge file installed" "$k_inst of $k_src"
s_inst=$(ls "$prefix"/share/dagdoc/schemas/*.schema.json 2>/dev/null | wc -l)
[ "$s_inst" -eq 3 ] && _pass "the JSON schemas installed" || _fail "the JSON schemas installed" "$s_inst of 3"

# Run it from elsewhere, with the source tree out of reach of its lookup.
cd "$TMP"
run env -u DAGDOC_PATTERNS_DIR "$bin" patterns list
expect_rc "installed binary lists patterns" 0
expect_out "built-in patterns found after install" 'dep\.'
printf 'ModuleNotFoundError: No module named '"'"'snowflake'"'"'\n' >"$TMP/excerpt.log"
run "$bin" classify --format json "$TMP/excerpt.log"
expect_rc "installed binary classifies (a failure: exit 1)" 1
expect_out "installed binary names the module" '"module":"snowflake"'
if [ -f "$ROOT/dagdoc.1" ]; then
	check "man page installed" test -f "$prefix/share/man/man1/dagdoc.1"
fi
if [ -f "$ROOT/examples/dagdoc.bash-completion" ]; then
	check "bash completion installed" test -f "$prefix/share/bash-completion/completions/dagdoc"
fi
check "zsh completion installed" test -f "$prefix/share/zsh/vendor-completions/_dagdoc"
check "fish completion installed" test -f "$prefix/share/fish/vendor_completions.d/dagdoc.fish"
finish
