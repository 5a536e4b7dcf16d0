#!/usr/bin/env bash
# A user's clone has no ../shared beside it.  This clones the committed
# tree into a folder with nothing beside it and runs there, with the
# binary under test, every test script that reads ../shared: each must
# end in one "skip - ..." line and exit 0, not fail.  It also checks that
# no other test script reaches for ../shared, so the rest of `make test`
# passes in such a clone as it does here.
. "$(dirname "$0")/lib.sh"

if ! git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null; then
	echo "skip - fresh clone: $ROOT is not a git checkout"
	exit 0
fi
clone="$TMP/alone/dagdoc"
check "the committed tree clones" git clone -q --no-hardlinks "$ROOT" "$clone"
[ -d "$clone/tests/e2e" ] || finish

# Which scripts read the data beside the repository: the ones that call
# need_shared (or test $SHARED themselves).
# (this script names them too, and must not run itself)
mapfile -t readers < <(cd "$clone/tests/e2e" && grep -l 'need_shared\|\$SHARED' ./*.sh |
	grep -vxF -e ./lib.sh -e "./$(basename "$0")" | sort)
strays=$(cd "$clone/tests" && grep -rlE '\.\./shared' --include='*.sh' --include='*.py' . | sort)
for s in run.sh e2e/lib.sh "e2e/$(basename "$0")" "${readers[@]/#.\//e2e/}"; do
	strays=$(grep -vxF "./$s" <<<"$strays" || true)
done
if [ -z "$strays" ]; then
	_pass "only the scripts that can skip reach for ../shared"
else
	_fail "only the scripts that can skip reach for ../shared" "these name ../shared directly: $strays"
fi
if [ "${#readers[@]}" -gt 0 ]; then
	_pass "scripts that read ../shared: ${readers[*]}"
else
	_fail "some script reads ../shared" "none found; this test has nothing to prove"
fi

for s in "${readers[@]}"; do
	name=$(basename "$s" .sh)
	run env -u SHARED -u DAGDOC_REQUIRE_SHARED ROOT="$clone" DAGDOC="$DAGDOC" bash "$clone/tests/e2e/$name.sh"
	expect_rc "$name in a clone without ../shared exits 0" 0
	expect_out "$name in a clone without ../shared says it skipped" '^skip - '
	expect_no "$name in a clone without ../shared fails nothing" '^not ok - '
	# and CI's setting turns the same absence into a failure
	run env -u SHARED DAGDOC_REQUIRE_SHARED=1 ROOT="$clone" DAGDOC="$DAGDOC" bash "$clone/tests/e2e/$name.sh"
	if [ "$rc" != 0 ]; then _pass "$name with DAGDOC_REQUIRE_SHARED=1 fails without ../shared"; else
		_fail "$name with DAGDOC_REQUIRE_SHARED=1 fails without ../shared" "exit 0" "stdout: ${out:0:400}"; fi
done
finish
