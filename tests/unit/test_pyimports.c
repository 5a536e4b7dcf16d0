/* Unit tests: src/pyimports.c, the module names of Python import statements. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "dagdoc/pyimports.h"

/* The modules read from text, joined with spaces. */
static char *modules(const char *text)
{
	struct dd_strv mods = DD_STRV_INIT;
	struct dd_buf b = DD_BUF_INIT;

	pyimports_parse(text, &mods);
	for (size_t i = 0; i < mods.n; i++)
		dd_buf_addf(&b, "%s%s", i ? " " : "", mods.v[i]);
	dd_strv_release(&mods);
	return dd_buf_detach(&b);
}

static void expect(const char *text, const char *want)
{
	char *got = modules(text);

	assert_string_equal(got, want);
	free(got);
}

static void test_statements(void **state)
{
	(void)state;
	expect("import os\nimport etl.io.s3 as s3io, json\n", "os etl.io.s3 json");
	expect("from etl.transforms import clean, enrich as e\n", "etl.transforms.clean etl.transforms.enrich etl.transforms");
	expect("from . import helpers\nfrom ..io import s3\n", ".helpers . ..io.s3 ..io");
	expect("from x import *\n", "x");
	expect("    import inner  # inside a function\n", "inner");
}

static void test_continuations(void **state)
{
	(void)state;
	expect("from a import (\n    b,  # the b\n    c as d,\n)\nimport z\n", "a.b a.c a z");
	expect("from common.util import \\\n    slugify\n", "common.util.slugify common.util");
	expect("from common.util import \\\r\n    slugify\r\n", "common.util.slugify common.util");
}

static void test_odd_spelling(void **state)
{
	(void)state;
	expect("from \tpkg import mod\n", "pkg.mod pkg");
	expect("import\thelpers\r\n", "helpers");
	expect("import os; import deep.two\n", "os deep.two");
	expect("from .import other\n", ".other .");
	expect("from etl import(transforms)\n", "etl.transforms etl");
	expect("import pandas as pd, os", "pandas os");   /* no newline at the end */
}

static void test_not_imports(void **state)
{
	(void)state;
	/* an unclosed bracket in a string does not swallow the next lines */
	expect("log.info(\"loading (\")\nimport etl.x\n", "etl.x");
	expect("important = 1\nfromage = 2\nx = 'from a import b'\n", "");
	expect("from\nimport\nfrom . import\nfrom x\nimport ,\n", "");
	expect("", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_continuations),
		cmocka_unit_test(test_odd_spelling),
		cmocka_unit_test(test_not_imports),
	};

	return cmocka_run_group_tests_name("pyimports", tests, NULL, NULL);
}
