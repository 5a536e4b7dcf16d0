/* test_http.c - the pure parts of the HTTP module: Retry-After, backoff,
 * URL joining and redaction, failure sentences, status and JSON
 * errors, the capped log buffer. */
#include "dagdoc/util.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "dagdoc/http.h"

static void test_retry_after_seconds(void **state)
{
	int64_t ms = -1;

	assert_int_equal(http_parse_retry_after("120", 0, &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(http_parse_retry_after("  2 ", 0, &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(http_parse_retry_after("0", 0, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(http_parse_retry_after("", 0, &ms), -1);
	assert_int_equal(http_parse_retry_after("1.5", 0, &ms), -1);
	assert_int_equal(http_parse_retry_after("soon", 0, &ms), -1);
	assert_int_equal(http_parse_retry_after(NULL, 0, &ms), -1);
}

static void test_retry_after_date(void **state)
{
	int64_t now = 0, ms = -1;

	/* Sun, 22 Nov 2026 03:10:00 GMT = 1795317000 */
	assert_int_equal(dd_parse_time("2026-11-22T03:10:00Z", &now), 0);
	assert_int_equal(now, 1795317000000LL);
	assert_int_equal(http_parse_retry_after("Sun, 22 Nov 2026 03:10:30 GMT", now, &ms), 0);
	assert_int_equal(ms, 30000);
	/* a date in the past means "now" */
	assert_int_equal(http_parse_retry_after("Sun, 22 Nov 2026 03:09:00 GMT", now, &ms), 0);
	assert_int_equal(ms, 0);
	/* now with milliseconds: the delta is exact */
	assert_int_equal(http_parse_retry_after("Sun, 22 Nov 2026 03:10:02 GMT", now + 500, &ms), 0);
	assert_int_equal(ms, 1500);
}

static void test_backoff_bounds(void **state)
{
	/* full jitter: uniform in [0, min(cap, base*2^n)] */
	assert_int_equal(http_backoff_ms(0, 500, 30000, 0), 0);
	assert_int_equal(http_backoff_ms(0, 500, 30000, 500), 500);
	assert_int_equal(http_backoff_ms(0, 500, 30000, 501), 0);
	assert_int_equal(http_backoff_ms(1, 500, 30000, 1000), 1000);
	assert_int_equal(http_backoff_ms(3, 500, 30000, 4000), 4000);
	assert_int_equal(http_backoff_ms(6, 500, 30000, 30000), 30000);
	assert_int_equal(http_backoff_ms(40, 500, 30000, 30000), 30000);
	assert_int_equal(http_backoff_ms(40, 500, 30000, 30001), 0);
	for (int n = 0; n < 12; n++) {
		int64_t ceil_ms = 500LL << n;
		if (ceil_ms > 30000)
			ceil_ms = 30000;
		uint64_t r = 0x9E3779B97F4A7C15ull;
		for (int i = 0; i < 1000; i++) {
			int64_t d;
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			d = http_backoff_ms(n, 500, 30000, r);
			assert_true(d >= 0);
			assert_true(d <= ceil_ms);
		}
	}
}

static void test_join_url(void **state)
{
	char *s;

	s = http_join_url("http://x:8080", "/api/v1/dags");
	assert_string_equal(s, "http://x:8080/api/v1/dags");
	free(s);
	s = http_join_url("http://x:8080/", "api/v1/dags?limit=100");
	assert_string_equal(s, "http://x:8080/api/v1/dags?limit=100");
	free(s);
	s = http_join_url("http://h:4200/api//", "//flows/filter");
	assert_string_equal(s, "http://h:4200/api/flows/filter");
	free(s);
	s = http_join_url("https://api.prefect.cloud/api/accounts/a/workspaces/w", "/logs/filter");
	assert_string_equal(s, "https://api.prefect.cloud/api/accounts/a/workspaces/w/logs/filter");
	free(s);
	s = http_join_url("http://x", "https://other/y");
	assert_string_equal(s, "https://other/y");
	free(s);
	s = http_join_url("http://x/", "");
	assert_string_equal(s, "http://x/");
	free(s);
}

static void test_redact_url(void **state)
{
	char *s;

	s = http_redact_url("http://admin:hunter2@h:8080/api/v1/dags?limit=100&offset=0");
	assert_string_equal(s, "http://h:8080/api/v1/dags?limit=100&offset=0");
	free(s);
	s = http_redact_url("http://h/logs/1?full_content=true&token=eyJhbGci.sig&map_index=-1");
	assert_string_equal(s, "http://h/logs/1?full_content=true&token=***&map_index=-1");
	free(s);
	s = http_redact_url("https://h/x?api_key=K1&Password=p&access_token=t#frag");
	assert_string_equal(s, "https://h/x?api_key=***&Password=***&access_token=***#frag");
	free(s);
	s = http_redact_url("http://h:1");
	assert_string_equal(s, "http://h:1");
	free(s);
	s = http_url_origin("http://u:p@127.0.0.1:9/api/v2/version?x=1");
	assert_string_equal(s, "http://127.0.0.1:9");
	free(s);
}

static void test_escape(void **state)
{
	struct dd_buf b = DD_BUF_INIT;

	http_buf_add_escaped(&b, "scheduled__2026-03-04T02:00:00+00:00 a/b~_.");
	assert_string_equal(b.data, "scheduled__2026-03-04T02%3A00%3A00%2B00%3A00%20a%2Fb~_.");
	dd_buf_release(&b);
}

static void test_failure_sentences(void **state)
{
	struct http_opts o = { 0 };
	struct dd_error e = DD_ERROR_INIT;

	o.url_env = "DAGDOC_AIRFLOW_URL";
	o.server_hint = "is the Airflow webserver running";
	http_describe_failure(CURLE_COULDNT_CONNECT, ECONNREFUSED, "Failed to connect",
	                      "http://admin:pw@127.0.0.1:9/api/v2/version", &o, 1, 60, &e);
	assert_int_equal(e.code, DD_ENET);
	assert_string_equal(e.msg, "cannot reach http://127.0.0.1:9: connection refused; is the "
	                    "Airflow webserver running and is DAGDOC_AIRFLOW_URL right?");
	http_describe_failure(CURLE_COULDNT_CONNECT, ECONNREFUSED, "", "http://127.0.0.1:9/x", &o, 3,
	                      60, &e);
	assert_string_equal(e.msg, "cannot reach http://127.0.0.1:9: connection refused (3 attempts); "
	                    "is the Airflow webserver running and is DAGDOC_AIRFLOW_URL right?");
	http_describe_failure(CURLE_COULDNT_RESOLVE_HOST, 0, "Could not resolve host: nosuch.invalid",
	                      "http://nosuch.invalid:8080/api/v1/dags", &o, 1, 60, &e);
	assert_string_equal(e.msg, "could not resolve host nosuch.invalid; check the host name in "
	                    "DAGDOC_AIRFLOW_URL");
	http_describe_failure(CURLE_PEER_FAILED_VERIFICATION, 0,
	                      "SSL certificate problem: self-signed certificate",
	                      "https://airflow.example:443/api/v1/dags", &o, 1, 60, &e);
	assert_string_equal(e.msg, "TLS certificate of airflow.example could not be verified (SSL "
	                    "certificate problem: self-signed certificate); set ca_file, or insecure: "
	                    "true if you must");
	http_describe_failure(CURLE_OPERATION_TIMEDOUT, 0, "Operation timed out after 60001 milliseconds "
	                      "with 0 bytes received", "http://h:1/x", &o, 2, 60, &e);
	assert_string_equal(e.msg, "http://h:1 did not answer within 60 s (2 attempts); raise the "
	                    "source's timeout (now 60 s), or check the server's load");
	/* a streamed body may take ten times the timeout: the sentence names the limit that hit
	 * and the key to raise (the issue: "did not answer within 2 s" when it was 20 s) */
	o.timeout_s = 2;
	http_describe_failure(CURLE_OPERATION_TIMEDOUT, 0, "Operation timed out after 20001 milliseconds "
	                      "with 100 bytes received", "http://h:1/x", &o, 1, 20, &e);
	assert_string_equal(e.msg, "http://h:1 did not answer within 20 s; raise the source's timeout "
	                    "(now 2 s), or check the server's load");
	http_describe_failure(CURLE_OPERATION_TIMEDOUT, 0, "Operation too slow. Less than 1 bytes/sec "
	                      "transferred the last 2 seconds", "http://h:1/x", &o, 1, 20, &e);
	assert_string_equal(e.msg, "http://h:1 stopped sending for 2 s in the middle of an answer; raise "
	                    "the source's timeout (now 2 s), or check the server's load");
	o.timeout_s = 0;
	/* a header too large for libcurl is not "out of memory" */
	http_describe_failure(CURLE_OUT_OF_MEMORY, 0, "Rejected 102401 bytes header (max is 102400)!",
	                      "http://h:1/x", &o, 1, 60, &e);
	assert_int_equal(e.code, DD_EPROTO);
	assert_non_null(strstr(e.msg, "header too large"));
	http_describe_failure(CURLE_GOT_NOTHING, 0, "Empty reply from server", "http://h:1/x", &o, 8,
	                      60, &e);
	assert_string_equal(e.msg, "the connection to http://h:1 broke before a full answer (Empty "
	                    "reply from server) (8 attempts); try again, or check a proxy or load "
	                    "balancer in between");
}

static struct http_client *client(const char *bearer)
{
	struct http_opts o = { 0 };
	struct http_client *c = NULL;
	struct dd_error e = DD_ERROR_INIT;

	o.base_url = "http://127.0.0.1:9";
	o.service = "Airflow";
	o.url_env = "DAGDOC_AIRFLOW_URL";
	o.auth_hint = "check DAGDOC_AIRFLOW_TOKEN";
	o.bearer = bearer;
	assert_int_equal(http_client_new(&o, &c, &e), 0);
	return c;
}

static void set_body(struct http_xfer *x, const char *s)
{
	dd_buf_reset(&x->body);
	dd_buf_adds(&x->body, s);
}

static void test_status_sentences(void **state)
{
	struct http_client *c = client("sekrit-token-123");
	struct http_xfer x = { 0 };
	struct dd_error e = DD_ERROR_INIT;

	x.url = "/api/v2/dags?limit=100";
	x.status = 401;
	set_body(&x, "{\"detail\":\"Token Expired\"}");
	assert_int_equal(http_check(c, &x, &e), DD_EAUTH);
	assert_string_equal(e.msg, "Airflow at http://127.0.0.1:9 rejected the credentials (401: "
	                    "Token Expired); check DAGDOC_AIRFLOW_TOKEN");
	x.status = 403;
	set_body(&x, "{\"detail\":\"Invalid JWT token sekrit-token-123\"}");
	assert_int_equal(http_check(c, &x, &e), DD_EAUTH);
	assert_null(strstr(e.msg, "sekrit-token-123"));
	assert_string_equal(e.msg, "Airflow at http://127.0.0.1:9 refused GET /api/v2/dags?limit=100 "
	                    "(403: Invalid JWT token ****); check DAGDOC_AIRFLOW_TOKEN, and make sure "
	                    "that account may read it");
	x.status = 503;
	x.attempts = 8;
	x.elapsed_ms = 61000;
	set_body(&x, "{\"exception_message\":\"Service Unavailable\"}");
	assert_int_equal(http_check(c, &x, &e), DD_ENET);
	assert_string_equal(e.msg, "Airflow at http://127.0.0.1:9 kept answering 503 to GET "
	                    "/api/v2/dags?limit=100 (8 attempts over 61 s): Service Unavailable; try "
	                    "again later");
	x.status = 422;
	set_body(&x, "{\"detail\":[{\"loc\":[\"query\",\"limit\"],\"msg\":\"Input should be a valid integer\"}]}");
	assert_int_equal(http_check(c, &x, &e), DD_EPROTO);
	assert_string_equal(e.msg, "Airflow at http://127.0.0.1:9 answered GET /api/v2/dags?limit=100 "
	                    "with status 422: Input should be a valid integer");
	x.status = 200;
	assert_int_equal(http_check(c, &x, &e), 0);
	http_xfer_release(&x);
	http_client_free(c);
}

static void test_json_errors(void **state)
{
	struct http_client *c = client(NULL);
	struct http_xfer x = { 0 };
	struct dd_error e = DD_ERROR_INIT;
	void *j = (void *)1;

	x.url = "/api/v1/dags";
	x.status = 200;
	set_body(&x, "{\"dags\": [{\"dag_id\": \"etl\"");
	assert_int_equal(http_parse_json(c, &x, &j, &e), DD_EPROTO);
	assert_null(j);
	assert_string_equal(e.msg, "Airflow at http://127.0.0.1:9 answered GET /api/v1/dags with a "
	                    "body that is not JSON: it ends at byte 26 in the middle of a value "
	                    "(truncated?)");
	set_body(&x, "<html>502 Bad Gateway</html>");
	assert_int_equal(http_parse_json(c, &x, &j, &e), DD_EPROTO);
	assert_string_equal(e.msg, "Airflow at http://127.0.0.1:9 answered GET /api/v1/dags with a "
	                    "body that is not JSON (error at byte 0 of 28; it starts \"<html>502 Bad "
	                    "Gatewa\")");
	set_body(&x, "");
	assert_int_equal(http_parse_json(c, &x, &j, &e), DD_EPROTO);
	assert_non_null(strstr(e.msg, "an empty body"));
	set_body(&x, "{\"dags\": []}");
	assert_int_equal(http_parse_json(c, &x, &j, &e), 0);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "dags")), 0);
	cJSON_Delete(j);
	http_xfer_release(&x);
	http_client_free(c);
}

static void test_client_rejects_bad_urls(void **state)
{
	struct http_opts o = { 0 };
	struct http_client *c = NULL;
	struct dd_error e = DD_ERROR_INIT;

	o.service = "Airflow";
	o.url_env = "DAGDOC_AIRFLOW_URL";
	o.base_url = "ftp://u:pass@h/x";
	assert_int_equal(http_client_new(&o, &c, &e), DD_EUSAGE);
	assert_null(c);
	assert_string_equal(e.msg, "ftp://h/x is not an http:// or https:// URL; fix DAGDOC_AIRFLOW_URL");
	o.base_url = "";
	assert_int_equal(http_client_new(&o, &c, &e), DD_EUSAGE);
	assert_string_equal(e.msg, "no URL configured for the Airflow source; set DAGDOC_AIRFLOW_URL");
}

static void test_capbuf_small(void **state)
{
	struct http_capbuf b;
	size_t len;
	char *s;

	http_capbuf_init(&b, 200);
	http_capbuf_add(&b, "a\nb\n", 4);
	http_capbuf_add(&b, "c", 1);
	assert_false(http_capbuf_truncated(&b));
	s = http_capbuf_finish(&b, &len);
	assert_int_equal(len, 5);
	assert_string_equal(s, "a\nb\nc");
	free(s);
	http_capbuf_release(&b);
}

static void test_capbuf_head_and_tail(void **state)
{
	struct http_capbuf b;
	struct dd_buf want = DD_BUF_INIT;
	char line[32];
	size_t len;
	char *s;

	/* cap 200: first 100 bytes and last 100 bytes; lines of 8 bytes */
	http_capbuf_init(&b, 200);
	for (int i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "line%03d\n", i);
		http_capbuf_add(&b, line, 8);
	}
	assert_true(http_capbuf_truncated(&b));
	s = http_capbuf_finish(&b, &len);
	for (int i = 0; i < 12; i++)
		dd_buf_addf(&want, "line%03d\n", i);
	dd_buf_adds(&want, "[dagdoc: 608 bytes omitted; the log was longer than 200 bytes]\n");
	for (int i = 88; i < 100; i++)
		dd_buf_addf(&want, "line%03d\n", i);
	assert_string_equal(s, want.data);
	assert_int_equal(len, want.len);
	free(s);
	dd_buf_release(&want);
	http_capbuf_release(&b);
}

static void test_capbuf_bounded(void **state)
{
	struct http_capbuf b;
	char *chunk = dd_xmalloc(1 << 16);
	size_t len;
	char *s;

	/* 64 MiB through a 1 MiB cap: memory stays at the cap, the end is kept */
	memset(chunk, 'x', 1 << 16);
	for (size_t i = 0; i < 64 * 16; i += 1)
		chunk[(i * 61) % (1 << 16)] = '\n';
	http_capbuf_init(&b, 1 << 20);
	for (int i = 0; i < 1024; i++)
		http_capbuf_add(&b, chunk, 1 << 16);
	http_capbuf_add(&b, "\nFINAL ERROR LINE\n", 18);
	assert_true(b.ring_alloc <= (1u << 20));
	assert_true(b.head.cap <= (1u << 17));
	s = http_capbuf_finish(&b, &len);
	assert_true(len <= (1u << 20) + 64);
	assert_true(len > (1u << 20) - 65536);
	assert_non_null(strstr(s, "bytes omitted; the log was longer than "));
	assert_true(dd_ends_with(s, "\nFINAL ERROR LINE\n"));
	free(s);
	free(chunk);
	http_capbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_date),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_join_url),
		cmocka_unit_test(test_redact_url),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_failure_sentences),
		cmocka_unit_test(test_status_sentences),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_client_rejects_bad_urls),
		cmocka_unit_test(test_capbuf_small),
		cmocka_unit_test(test_capbuf_head_and_tail),
		cmocka_unit_test(test_capbuf_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
