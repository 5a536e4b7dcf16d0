/* test_secrets.c - the credential mask: every form a secret is sent in,
 * secrets cut by a length cap, a secret split across stream writes, and
 * error messages. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "dagdoc/secrets.h"

static char *masked(const char *in)
{
	struct dd_buf b = DD_BUF_INIT;

	secrets_mask_append(&b, in, strlen(in));
	return dd_buf_detach(&b);
}

static void expect(const char *in, const char *want)
{
	char *got = masked(in);

	if (strcmp(got, want))
		fprintf(stderr, "in   [%s]\ngot  [%s]\nwant [%s]\n", in, got, want);
	assert_string_equal(got, want);
	free(got);
}

static int teardown(void **state)
{
	(void)state;
	secrets_clear();
	return 0;
}

static void test_plain_and_encodings(void **state)
{
	(void)state;
	expect("nothing registered: s3cr3t-pw", "nothing registered: s3cr3t-pw");
	secrets_add("s3cr3t pw\"x");
	expect("raw s3cr3t pw\"x end", "raw **** end");
	expect("url s3cr3t%20pw%22x end", "url **** end");
	expect("{\"password\":\"s3cr3t pw\\\"x\"}", "{\"password\":\"****\"}");
	/* too short to mask without masking ordinary words */
	secrets_add("abc");
	expect("abc abc", "abc abc");
	secrets_add(NULL);
}

static void test_basic_value(void **state)
{
	struct dd_buf b = DD_BUF_INIT;

	(void)state;
	secrets_base64(&b, (const unsigned char *)"dagdoc:pa55word", 15);
	assert_string_equal(b.data, "ZGFnZG9jOnBhNTV3b3Jk");
	secrets_add_basic("dagdoc", "pa55word");
	expect("401; echoed: Authorization: Basic ZGFnZG9jOnBhNTV3b3Jk; pa55word",
	       "401; echoed: Authorization: Basic ****; ****");
	dd_buf_release(&b);
}

static void test_jwt_parts_and_cuts(void **state)
{
	const char *jwt = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6MTc3MzIwMDAwMH0."
	                  "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1pcy1sb25n";
	char msg[160];

	(void)state;
	secrets_add(jwt);
	{
		char *in = dd_xasprintf("Bearer %s!", jwt);
		expect(in, "Bearer ****!");
		free(in);
	}
	/* the payload alone (a message that quoted only part of it) */
	expect("payload eyJzdWIiOiJhZG1pbiIsImV4cCI6MTc3MzIwMDAwMH0 seen", "payload **** seen");
	/* a message cut by a length cap in the middle of the token */
	snprintf(msg, sizeof(msg), "token was %s", jwt);
	msg[100] = '\0';
	secrets_mask(msg);
	assert_null(strstr(msg, "eyJ"));
	assert_true(dd_ends_with(msg, "****"));
	/* short tails are kept: they are not a secret's worth */
	expect("ends in eyJh", "ends in eyJh");
}

static void test_hold_for_streams(void **state)
{
	(void)state;
	secrets_add("hunter2hunter2");
	assert_int_equal(secrets_hold("abc hun", 7), 3);
	assert_int_equal(secrets_hold("abc hunter2hunter", 17), 13);
	assert_int_equal(secrets_hold("abc hunter2hunter2.", 19), 0);   /* whole: masked now */
	assert_int_equal(secrets_hold("abc xyz", 7), 0);
	assert_true(secrets_found("x hunter2hunter2 y", 18));
	assert_false(secrets_found("x hunter2 y", 11));
}

static void test_error_messages(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	char pad[1100];

	(void)state;
	secrets_add_basic("dagdoc", "correct-horse-battery");
	dd_error_set(&err, DD_EAUTH, "server said: Authorization: Basic %s", "ZGFnZG9jOmNvcnJlY3QtaG9yc2UtYmF0dGVyeQ==");
	assert_string_equal(err.msg, "server said: Authorization: Basic ****");
	/* a secret straddling the message cap leaves nothing readable */
	memset(pad, 'x', sizeof(pad));
	pad[1010] = '\0';
	dd_error_set(&err, DD_ENET, "%s correct-horse-battery", pad);
	assert_null(strstr(err.msg, "correct-ho"));
	dd_error_set(&err, DD_ENET, "detail correct-horse-battery");
	dd_error_prefix(&err, "syncing prod: ");
	assert_string_equal(err.msg, "syncing prod: detail ****");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_plain_and_encodings, teardown),
		cmocka_unit_test_teardown(test_basic_value, teardown),
		cmocka_unit_test_teardown(test_jwt_parts_and_cuts, teardown),
		cmocka_unit_test_teardown(test_hold_for_streams, teardown),
		cmocka_unit_test_teardown(test_error_messages, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
