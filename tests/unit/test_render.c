/* Unit tests: src/render.c, the one layout rule of text output. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>

#include "dagdoc/render.h"

/* What render_field writes, as a string the caller frees. */
static char *field(const char *indent, const char *label, const char *text, int lw, int width)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	render_field(f, indent, label, text, lw, width);
	fclose(f);
	return s;
}

static void test_fold(void **state)
{
	struct dd_buf b = DD_BUF_INIT;

	(void)state;
	render_fold(&b, "  relation \"x\" does not exist\nLINE 1:\tSELECT\r\n ", 0);
	assert_string_equal(dd_buf_str(&b), "relation \"x\" does not exist LINE 1: SELECT");
	dd_buf_reset(&b);
	render_fold(&b, "abcdef", 4);
	assert_string_equal(dd_buf_str(&b), "abc…");
	dd_buf_reset(&b);
	render_fold(&b, "abcd", 4);
	assert_string_equal(dd_buf_str(&b), "abcd");
	dd_buf_reset(&b);
	/* cut on a character boundary: "é" is two bytes, one character */
	render_fold(&b, "ééééé", 3);
	assert_string_equal(dd_buf_str(&b), "éé…");
	assert_int_equal(render_chars(b.data, b.len), 3);
	dd_buf_release(&b);
}

static void test_field_wraps(void **state)
{
	char *s;

	(void)state;
	s = field("  ", "fix", "one two three four five six", 4, 20);
	/* lead is 2 + 4 + 1 = 7; room for 20 is the minimum, 20 */
	assert_string_equal(s, "  fix  one two three four\n       five six\n");
	free(s);
	s = field("", "why", "short", 3, 0);
	assert_string_equal(s, "why short\n");
	free(s);
}

static void test_field_long_word_whole(void **state)
{
	const char *url = "https://airflow.example.com/dags/etl/grid?dag_run_id=scheduled__2026-03-04T02%3A00%3A00%2B00%3A00";
	char *s, *want;

	(void)state;
	s = field("", "link", url, 4, 40);
	want = dd_xasprintf("link %s\n", url);
	assert_string_equal(s, want);
	free(s);
	free(want);
	s = field("", "see", "this: https://example.com/a/very/long/path/that/cannot/be/cut ok", 3, 40);
	assert_string_equal(s, "see this:\n    https://example.com/a/very/long/path/that/cannot/be/cut\n    ok\n");
	free(s);
}

static void test_color(void **state)
{
	(void)state;
	assert_string_equal(render_color(0, RC_RED), "");
	assert_string_equal(render_color(1, RC_RED), "\033[31m");
	assert_string_equal(render_color(1, RC_RESET), "\033[0m");
}

static char *md(const char *text, unsigned flags, int code)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	if (code)
		render_md_code(f, text, flags);
	else
		render_md_text(f, text, flags);
	fclose(f);
	return s;
}

/* Markdown read on GitHub and in chat: no backslash where chat would show it. */
static void test_markdown(void **state)
{
	static const struct { const char *in, *out; unsigned flags; int code; } cases[] = {
		{ "pandas 1.5.3 -> 2.0.0", "pandas 1.5.3 -> 2.0.0", 0, 0 },
		{ "pin pandas<2 [see notes]", "pin pandas&lt;2 [see notes]", 0, 0 },
		{ "train_churn and dep.pandas_x", "train_churn and dep.pandas_x", 0, 0 },
		{ "*bold* _it_ ~x~", "\\*bold\\* \\_it\\_ \\~x\\~", 0, 0 },
		{ "a | b\nc", "a | b c", 0, 0 },
		{ "a | b", "a \\| b", RENDER_MD_CELL, 0 },
		{ "x = `y`", "`x = 'y'`", 0, 1 },
		{ "a|b", "`a\\|b`", RENDER_MD_CELL, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = md(cases[i].in, cases[i].flags, cases[i].code);

		assert_string_equal(got, cases[i].out);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_field_wraps),
		cmocka_unit_test(test_field_long_word_whole),
		cmocka_unit_test(test_color),
		cmocka_unit_test(test_markdown),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
