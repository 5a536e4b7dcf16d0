/*
 * test_redact.c - secrets never survive; ordinary text is left unchanged.
 */
#include "dagdoc/util.h"
#include "dagdoc/redact.h"

#include <setjmp.h>
#include <cmocka.h>

struct rcase {
	const char *in, *out;
};

static const struct rcase secrets[] = {
	{ "postgresql://airflow:s3cr3t@db:5432/airflow", "postgresql://airflow:****@db:5432/airflow" },
	{ "postgresql+psycopg2://user:p@ss@host/db?sslmode=require", "postgresql+psycopg2://user:****@host/db?sslmode=require" },
	{ "redis://:onlypass@redis:6379/0", "redis://:****@redis:6379/0" },
	{ "AIRFLOW_CONN_DB='mysql://root:toor@localhost/x'", "AIRFLOW_CONN_DB='mysql://root:****@localhost/x'" },
	{ "https://ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@github.com/org/repo.git", "https://****@github.com/org/repo.git" },
	{ "password=hunter2", "password=****" },
	{ "PASSWORD=hunter2 next", "PASSWORD=**** next" },
	{ "--password hunter2 --passwd=x2", "--password **** --passwd=****" },
	{ "db_password: \"hunter2\" rest", "db_password: \"****\" rest" },
	{ "pwd=abc;user=bob", "pwd=****;user=bob" },
	{ "{\"password\": \"hunter2\", \"user\": \"bob\"}", "{\"password\": \"****\", \"user\": \"bob\"}" },
	{ "{'password': 'hunter2', 'login': 'bob'}", "{'password': '****', 'login': 'bob'}" },
	{ "{\\\"password\\\": \\\"hunter2\\\"}", "{\\\"password\\\": \\\"****\\\"}" },
	{ "{\"password\": \"with \\\"escaped\\\" quote\"}", "{\"password\": \"****\"}" },
	{ "secret=abc&next=1", "secret=****&next=1" },
	{ "client_secret=xyz987", "client_secret=****" },
	{ "api_key=abcd1234efgh", "api_key=****" },
	{ "X-Api-Key: abcd1234efgh5678", "X-Api-Key: ****" },
	{ "apikey: abcdefgh12345678", "apikey: ****" },
	{ "access_key => 'k1'", "access_key => '****'" },
	{ "AIRFLOW__CORE__FERNET_KEY=ZmVybmV0", "AIRFLOW__CORE__FERNET_KEY=****" },
	{ "token=abc123", "token=****" },
	{ "token: abcdef123456", "token: ****" },
	{ "\"token\": \"short\"", "\"token\": \"****\"" },
	{ "access_token=ya29.a0AfH6SMBx", "access_token=****" },
	{ "aws_access_key_id=AKIAIOSFODNN7EXAMPLE", "aws_access_key_id=****" },
	{ "key id AKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLE.", "key id **** and ****." },
	{ "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key=****" },
	{ "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc123def456", "Authorization: Bearer ****" },
	{ "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ****" },
	{ "authorization=opaque-value", "authorization=****" },
	{ "headers={'Authorization': 'Bearer abcdef1234567890'}", "headers={'Authorization': 'Bearer ****'}" },
	{ "curl -H \"Authorization: Token abcdef1234567890\" url", "curl -H \"Authorization: Token ****\" url" },
	{ "sent Bearer abcdef1234567890 upstream", "sent Bearer **** upstream" },
	{ "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "****" },
	{ "slack xoxp-1111111111-2222222222-abcdef end", "slack **** end" },
	{ "github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyz0123456789", "****" },
	{ "GH ghs_16C7e42F292c6912E7710c838347Ae178B4a used", "GH **** used" },
	{ "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig-_part.", "jwt ****." },
	{ "key AIzaSyA1234567890abcdefghijklmnopqrstuv used", "key **** used" },
	{ "-----BEGIN RSA PRIVATE KEY-----MIIEow\\nabc\\n-----END RSA PRIVATE KEY----- after",
	  "-----BEGIN RSA PRIVATE KEY-----****-----END RSA PRIVATE KEY----- after" },
	{ "k\n-----BEGIN PRIVATE KEY-----\nMIIEvg\nAAAA\n-----END PRIVATE KEY-----\nnext password=x",
	  "k\n-----BEGIN PRIVATE KEY-----****-----END PRIVATE KEY-----\nnext password=****" },
	{ "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n(truncated", "-----BEGIN OPENSSH PRIVATE KEY-----****" },
	{ "{'Authorization': 'Bearer FAKEtokenFAKEtokenFAKEtoken0000', 'Content-Type': 'application/json'}",
	  "{'Authorization': 'Bearer ****', 'Content-Type': 'application/json'}" },
};

static const char *const ordinary[] = {
	"Task exited with return code 1",
	"password authentication failed for user \"airflow\"",
	"snowflake: Incorrect username or password was specified.",
	"The conn_id `postgres_default` isn't defined",
	"secretmanager_v1 token counts 3 tokens",
	"Invalid token: expired",
	"token: the value",
	"Using connection ID 'aws_default' for task execution.",
	"max_tokens=100 tokenizer=bert",
	"ModuleNotFoundError: No module named 'tokenizers'",
	"http://localhost:8080/api/v1/dags?limit=100&offset=0",
	"user@example.com wrote: see https://example.com/a@b",
	"-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----",
	"bearer tokens are fine",
	"Bearer short",
	"AKIAIOSFODNN7EXAMPLE2 is too long to be a key id",
	"ghp_short",
	"eyJhbGciOi alone is not a JWT",
	"Token \"NaN\" is invalid.",
	"[2024-05-01T02:00:13.123+0000] {taskinstance.py:2905} ERROR - Task failed with exception",
	"  File \"/opt/airflow/dags/etl.py\", line 12, in run",
	"KeyError: 'password'",
	"Mar 05 13:23:19 fastpath detector[14668]: tab\there",
	"caf\xc3\xa9 \xe2\x9c\x93 invalid \xff\xfe bytes stay",
	"{\"event\": \"Task finished\", \"final_state\": \"failed\"}",
	"",
};

static char *redact(const char *s, size_t n)
{
	struct dd_buf b = DD_BUF_INIT;

	redact_append(&b, s, n);
	return dd_buf_detach(&b);
}

static void test_secrets_masked(void **state)
{
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(secrets); i++) {
		char *got = redact(secrets[i].in, strlen(secrets[i].in));

		if (strcmp(got, secrets[i].out)) {
			fprintf(stderr, "case %zu: [%s]\n  got  [%s]\n  want [%s]\n", i, secrets[i].in, got, secrets[i].out);
			fail();
		}
		free(got);
	}
}

static void test_secret_values_gone(void **state)
{
	static const char *const words[] = { "s3cr3t", "hunter2", "xyz987", "wJalrXUtnFEMI", "AKIAIOSFODNN7EXAMPLE",
	                                     "dXNlcjpwYXNz", "abcdef1234567890", "MIIEvg", "FAKEtoken", "ZmVybmV0" };
	struct dd_buf all = DD_BUF_INIT;
	char *got;
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(secrets); i++) {
		dd_buf_adds(&all, secrets[i].in);
		dd_buf_addch(&all, '\n');
	}
	got = redact(all.data, all.len);
	for (i = 0; i < DD_ARRAY_SIZE(words); i++)
		if (strstr(got, words[i])) {
			fprintf(stderr, "%s survived\n", words[i]);
			fail();
		}
	free(got);
	dd_buf_release(&all);
}

static void test_ordinary_unchanged(void **state)
{
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(ordinary); i++) {
		char *got = redact(ordinary[i], strlen(ordinary[i]));

		if (strcmp(got, ordinary[i])) {
			fprintf(stderr, "case %zu changed: [%s] -> [%s]\n", i, ordinary[i], got);
			fail();
		}
		free(got);
	}
}

static void test_controls(void **state)
{
	static const struct rcase cases[] = {
		{ "\x1b[31mred\x1b[0m text", "red text" },
		{ "\x1b[1;38;5;196mbold\x1b[m", "bold" },
		{ "\x1b]8;;https://x.example/\x07link\x1b]8;;\x1b\\ end", "link end" },
		{ "\x1b]0;title\x1b\\after", "after" },
		{ "bell\x07 back\x08 cr\r nul", "bell back cr nul" },
		{ "tab\tnewline\nkept", "tab\tnewline\nkept" },
		{ "esc at end\x1b", "esc at end" },
		{ "unterminated \x1b[12", "unterminated " },
		{ "del\x7f gone", "del gone" },
		{ "\x1b[32mpassword=\x1b[0mhunter2", "password=****" },
	};
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(cases); i++) {
		char *got = redact(cases[i].in, strlen(cases[i].in));

		if (strcmp(got, cases[i].out)) {
			fprintf(stderr, "case %zu: got [%s] want [%s]\n", i, got, cases[i].out);
			fail();
		}
		free(got);
	}
	/* embedded NUL is a control character too */
	{
		char *got = redact("a\0b", 3);

		assert_string_equal(got, "ab");
		free(got);
	}
}

static void test_appends(void **state)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_buf_adds(&b, "prefix: ");
	redact_append(&b, "token=abc123", 12);
	redact_append(&b, NULL, 0);
	redact_append(&b, "", 0);
	assert_string_equal(b.data, "prefix: token=****");
	dd_buf_release(&b);
}

static void test_redactor_lines(void **state)
{
	static const char *const in[] = {
		"config loaded",
		"-----BEGIN RSA PRIVATE KEY-----",
		"MIIEowIBAAKCAQEA1234",
		"abcdEFGH==",
		"-----END RSA PRIVATE KEY----- trailing password=x",
		"after \x1b[1mbold\x1b[0m",
		"-----BEGIN EC PRIVATE KEY----- inline",
	};
	static const char *const want[] = {
		"config loaded",
		"-----BEGIN RSA PRIVATE KEY-----",
		"****",
		"****",
		"-----END RSA PRIVATE KEY----- trailing password=****",
		"after bold",
		"-----BEGIN EC PRIVATE KEY-----****",
	};
	struct dd_redactor *r = redactor_new();
	struct dd_buf b = DD_BUF_INIT;
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(in); i++) {
		dd_buf_reset(&b);
		redactor_line(r, &b, in[i], strlen(in[i]));
		assert_string_equal(dd_buf_str(&b), want[i]);
	}
	/* still inside the EC key block */
	dd_buf_reset(&b);
	redactor_line(r, &b, "MHcCAQEE", 8);
	assert_string_equal(dd_buf_str(&b), "****");
	dd_buf_reset(&b);
	redactor_line(r, &b, "", 0);
	assert_string_equal(dd_buf_str(&b), "");
	dd_buf_release(&b);
	redactor_free(r);
	redactor_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secrets_masked),
		cmocka_unit_test(test_secret_values_gone),
		cmocka_unit_test(test_ordinary_unchanged),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_redactor_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
