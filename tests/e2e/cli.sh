#!/usr/bin/env bash
# The command line: help, version, unknown commands and options, exit codes.
. "$(dirname "$0")/lib.sh"

run "$DAGDOC" --version
expect_rc "--version exits 0" 0
expect_out "--version prints the version" '^dagdoc [0-9]+\.[0-9]+\.[0-9]+$'

run "$DAGDOC" help
expect_rc "help exits 0" 0
expect_out "help lists config" '^  config '
expect_out "help explains exit codes" 'Exit status: 0 nothing failing, 1 failures found, 2'

run "$DAGDOC" help config
expect_rc "help config exits 0" 0
expect_out "help config shows its usage" '^usage: dagdoc config'

run "$DAGDOC" config --help
expect_rc "config --help exits 0" 0
expect_out "config --help shows the same usage" '^usage: dagdoc config'

run "$DAGDOC" help nosuch
expect_rc "help of an unknown command exits 2" 2

run "$DAGDOC" confg
expect_rc "unknown command exits 2" 2
expect_err "unknown command suggests the closest" "^dagdoc: 'confg' is not a command; did you mean 'config'\?$"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && _pass "unknown command: one line" || _fail "unknown command: one line" "$errout"

run "$DAGDOC" zzzzzzzzzz
expect_rc "far-off command exits 2" 2
expect_err "far-off command points at help" "see 'dagdoc help'"

run "$DAGDOC" config --bogus
expect_rc "unknown option exits 2" 2
expect_err "unknown option is named" "^dagdoc config: unknown option '--bogus'; see 'dagdoc help config'$"

run "$DAGDOC" config --config
expect_rc "option without its value exits 2" 2
expect_err "missing value is named" "option '--config' needs a value"

run "$DAGDOC"
expect_rc "no command exits 2" 2
expect_err "no command shows usage" '^usage: dagdoc'

run "$DAGDOC" --frobnicate
expect_rc "unknown global option exits 2" 2

# Results go to stdout, diagnostics to stderr; no colour when not a terminal.
run "$DAGDOC" help
expect_no "no escape sequences when stdout is not a terminal" $'\033\\['
finish
