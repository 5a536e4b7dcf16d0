/* Unit tests: src/util.c and src/error.c. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>

static void test_buf(void **state)
{
	struct dd_buf b = DD_BUF_INIT;

	(void)state;
	assert_string_equal(dd_buf_str(&b), "");
	dd_buf_adds(&b, "abc");
	dd_buf_addch(&b, '-');
	dd_buf_addf(&b, "%d/%s", 42, "x");
	assert_string_equal(b.data, "abc-42/x");
	assert_int_equal(b.len, 8);
	for (int i = 0; i < 1000; i++)
		dd_buf_addf(&b, "%04d", i);
	assert_int_equal(b.len, 8 + 4000);
	assert_memory_equal(b.data + b.len - 4, "0999", 4);
	dd_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	dd_buf_release(&b);
	assert_null(b.data);
}

static void test_strv(void **state)
{
	struct dd_strv sv = DD_STRV_INIT;

	(void)state;
	for (int i = 0; i < 20; i++)
		dd_strv_push_owned(&sv, dd_xasprintf("s%d", i));
	assert_int_equal(sv.n, 20);
	assert_null(sv.v[20]);
	assert_true(dd_strv_contains(&sv, "s19"));
	assert_false(dd_strv_contains(&sv, "s20"));
	dd_strv_release(&sv);
	assert_int_equal(sv.n, 0);
}

static void test_parse_time(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(dd_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(dd_parse_time("2024-05-01T02:00:13.123+0000", &t), 0);
	assert_int_equal(t, 1714528813123LL);
	assert_int_equal(dd_parse_time("2024-05-01 02:00:13,123", &t), 0);
	assert_int_equal(t, 1714528813123LL);
	assert_int_equal(dd_parse_time("2024-05-01T04:00:13.123456+02:00", &t), 0);
	assert_int_equal(t, 1714528813123LL);
	assert_int_equal(dd_parse_time("2022-11-16T00:05:54.278-0800", &t), 0);
	assert_int_equal(t, 1668585954278LL);
	assert_int_equal(dd_parse_time("2024-05-01", &t), 0);
	assert_int_equal(t, 1714521600000LL);
	assert_int_equal(dd_parse_time("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 1709164800000LL);
	assert_int_equal(dd_parse_time("2024-13-01T00:00:00Z", &t), DD_EPARSE);
	assert_int_equal(dd_parse_time("yesterday", &t), DD_EPARSE);
	assert_int_equal(dd_parse_time("2024-05-01T02:00:13Zjunk", &t), DD_EPARSE);
	assert_int_equal(dd_parse_time("", &t), DD_EPARSE);
}

static void test_format_time(void **state)
{
	char s[40];

	(void)state;
	dd_format_time(1714528813123LL, 1, s, sizeof(s));
	assert_string_equal(s, "2024-05-01T02:00:13.123Z");
	dd_format_time(1714528813123LL, 0, s, sizeof(s));
	assert_string_equal(s, "2024-05-01T02:00:13Z");
}

static void test_duration(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	int64_t s;

	(void)state;
	assert_int_equal(dd_parse_duration("30d", &s, &err), 0);
	assert_int_equal(s, 30 * 86400);
	assert_int_equal(dd_parse_duration("24h", &s, &err), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(dd_parse_duration("90m", &s, &err), 0);
	assert_int_equal(s, 5400);
	assert_int_equal(dd_parse_duration("2w", &s, &err), 0);
	assert_int_equal(s, 14 * 86400);
	assert_int_equal(dd_parse_duration("45", &s, &err), 0);
	assert_int_equal(s, 45);
	assert_int_equal(dd_parse_duration("3x", &s, &err), DD_EUSAGE);
	assert_string_equal(err.msg, "'3x' is not a duration; use a number with s, m, h, d or w (e.g. 30d, 24h)");
	assert_int_equal(dd_parse_duration("-1d", &s, &err), DD_EUSAGE);
	assert_int_equal(dd_parse_duration("1dd", &s, &err), DD_EUSAGE);
	{
		char b[24];

		dd_format_duration(44.6, b, sizeof(b));
		assert_string_equal(b, "45s");
		dd_format_duration(12 * 60 + 59, b, sizeof(b));
		assert_string_equal(b, "12m");
		dd_format_duration(2 * 3600 + 30, b, sizeof(b));
		assert_string_equal(b, "2h");
		dd_format_duration(9 * 3600 + 40 * 60, b, sizeof(b));
		assert_string_equal(b, "9h 40m");
		dd_format_duration(3 * 86400 + 4 * 3600 + 59, b, sizeof(b));
		assert_string_equal(b, "3d 4h");
		dd_format_duration(-5, b, sizeof(b));
		assert_string_equal(b, "0s");
	}
	assert_int_equal(dd_parse_duration("99999999999999w", &s, &err), DD_EUSAGE);
	assert_string_equal(err.msg, "'99999999999999w' is too long a duration");
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(dd_edit_distance("triage", "triage"), 0);
	assert_int_equal(dd_edit_distance("traige", "triage"), 2);
	assert_int_equal(dd_edit_distance("confg", "config"), 1);
	assert_int_equal(dd_edit_distance("", "abc"), 3);
}

static void test_closest(void **state)
{
	struct dd_closest c = DD_CLOSEST_INIT("train_chrn");
	struct dd_closest far = DD_CLOSEST_INIT("zz");

	(void)state;
	assert_null(dd_closest_pick(&c));
	dd_closest_offer(&c, "etl_daily");
	dd_closest_offer(&c, "train_churn");
	dd_closest_offer(&c, "train_model");
	assert_string_equal(dd_closest_pick(&c), "train_churn");
	dd_closest_release(&c);
	dd_closest_offer(&far, "etl_daily");
	assert_null(dd_closest_pick(&far));      /* 9 edits: not a typo */
	dd_closest_release(&far);
}

static void test_error(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	char big[2000];

	(void)state;
	assert_int_equal(dd_error_set(&err, DD_EIO, "cannot read %s", "x"), DD_EIO);
	assert_int_equal(err.code, DD_EIO);
	assert_int_equal(dd_error_prefix(&err, "loading %s: ", "config"), DD_EIO);
	assert_string_equal(err.msg, "loading config: cannot read x");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dd_error_prefix(&err, "%s", big);
	assert_int_equal(strlen(err.msg), DD_ERROR_MSG_MAX - 1);
	assert_int_equal(dd_error_set(NULL, DD_EPARSE, "ignored"), DD_EPARSE);
	dd_error_clear(&err);
	assert_int_equal(err.code, 0);
	assert_string_equal(dd_code_name(DD_EAUTH), "auth");
}

static void test_read_file(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	char path[] = "/tmp/dagdoc-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("hello\nworld\n", f);
	fclose(f);
	assert_int_equal(dd_read_file(path, 0, &b, &err), 0);
	assert_string_equal(b.data, "hello\nworld\n");
	dd_buf_reset(&b);
	assert_int_equal(dd_read_file(path, 5, &b, &err), DD_ELIMIT);
	unlink(path);
	assert_int_equal(dd_read_file(path, 0, &b, &err), DD_EIO);
	assert_non_null(strstr(err.msg, "No such file"));
	dd_buf_release(&b);
}

static void test_utf8(void **state)
{
	struct dd_buf b = DD_BUF_INIT;
	char *e;

	(void)state;
	/* valid text, multi-byte included, is kept as it is */
	assert_int_equal(dd_utf8_fix(&b, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14), 0);
	assert_string_equal(b.data, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	dd_buf_reset(&b);
	/* a stray byte, a cut sequence, an overlong form, a surrogate, past U+10FFFF */
	assert_int_equal(dd_utf8_fix(&b, "a\xFF" "b\xC3", 4), 2);
	assert_string_equal(b.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
	dd_buf_reset(&b);
	assert_int_equal(dd_utf8_fix(&b, "\xC0\xAF", 2), 2);
	dd_buf_reset(&b);
	assert_int_equal(dd_utf8_fix(&b, "\xED\xA0\x80", 3), 3);
	dd_buf_reset(&b);
	assert_int_equal(dd_utf8_fix(&b, "\xF4\x90\x80\x80", 4), 4);
	dd_buf_reset(&b);
	/* a NUL is valid UTF-8 (JSON escapes it) */
	assert_int_equal(dd_utf8_fix(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	dd_buf_release(&b);
	/* an excerpt says so */
	e = dd_utf8_excerpt("KeyError: 'caf\xE9'\n");
	assert_string_equal(e, "KeyError: 'caf\xEF\xBF\xBD'\n" DD_UTF8_NOTE);
	free(e);
	e = dd_utf8_excerpt("fine\n");
	assert_string_equal(e, "fine\n");
	free(e);
	assert_null(dd_utf8_excerpt(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
