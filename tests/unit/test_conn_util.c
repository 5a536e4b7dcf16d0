/* test_conn_util.c - the helpers the Airflow and Prefect connectors share
 * (connectors/conn_util.c, declared in connectors/conn_impl.h). */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "conn_impl.h"

static void test_json_members(void **state)
{
	cJSON *o = cJSON_Parse("{\"s\":\"x\",\"n\":7,\"t\":\"2024-05-01T02:00:13.123Z\","
	                       "\"bad\":\"yesterday\",\"z\":null,\"f\":7.5,\"big\":1e30,\"b\":true}");
	struct conn_check ck = CONN_CHECK_INIT;
	char *d;

	(void)state;
	/* lenient (no check): wrong types read as absent */
	assert_string_equal(conn_jstr(NULL, o, "s"), "x");
	assert_null(conn_jstr(NULL, o, "n"));
	assert_null(conn_jstr(NULL, o, "missing"));
	assert_null(conn_jstr(NULL, NULL, "s"));
	d = conn_jdup(NULL, o, "s");
	assert_string_equal(d, "x");
	free(d);
	assert_int_equal(conn_jint(NULL, o, "n", 0, 100, -1), 7);
	assert_int_equal(conn_jint(NULL, o, "s", 0, 100, -1), -1);
	assert_int_equal(conn_jtime(NULL, o, "t"), 1714528813123LL);
	assert_int_equal(conn_jtime(NULL, o, "bad"), 0);
	/* checked: absent and null are fine, everything else is a problem */
	assert_null(conn_jstr(&ck, o, "z"));
	assert_int_equal(conn_jint(&ck, o, "z", 0, 9, 3), 3);
	assert_int_equal(conn_jtime(&ck, o, "missing"), 0);
	assert_true(conn_jbool(&ck, o, "b"));
	assert_false(ck.bad);
	assert_null(conn_jstr(&ck, o, "n"));
	assert_true(ck.bad);
	assert_string_equal(ck.problem, "n: a number (7) where a string is expected");
	/* only the first problem is kept */
	conn_jtime(&ck, o, "bad");
	assert_string_equal(ck.problem, "n: a number (7) where a string is expected");
	ck = (struct conn_check)CONN_CHECK_INIT;
	conn_jtime(&ck, o, "bad");
	assert_string_equal(ck.problem, "bad: a string (\"yesterday\") is not an ISO 8601 time");
	ck = (struct conn_check)CONN_CHECK_INIT;
	conn_jint(&ck, o, "s", 0, 100, 0);
	assert_string_equal(ck.problem, "s: a string (\"x\") where a whole number from 0 to 100 is expected");
	ck = (struct conn_check)CONN_CHECK_INIT;
	conn_jint(&ck, o, "f", 0, 100, 0);
	assert_true(ck.bad);
	ck = (struct conn_check)CONN_CHECK_INIT;
	assert_int_equal(conn_jint(&ck, o, "big", 0, 100000, 0), 0);
	assert_string_equal(ck.problem, "big: a number (1e+30) where a whole number from 0 to 100000 is expected");
	ck = (struct conn_check)CONN_CHECK_INIT;
	assert_null(conn_jstr_req(&ck, o, "z"));
	assert_string_equal(ck.problem, "z: missing where a name is expected");
	ck = (struct conn_check)CONN_CHECK_INIT;
	assert_null(conn_jlist(&ck, o, "s"));
	assert_true(ck.bad);
	ck = (struct conn_check)CONN_CHECK_INIT;
	assert_false(conn_jis_obj(&ck, cJSON_GetObjectItem(o, "s")));
	assert_true(ck.bad);
	cJSON_Delete(o);
}

static void test_url_env(void **state)
{
	struct dd_source s = { 0 };
	char *e;

	(void)state;
	s.name = "prod";
	e = conn_url_env(&s, "DAGDOC_AIRFLOW_URL");
	assert_string_equal(e, "DAGDOC_AIRFLOW_URL");
	free(e);
	s.origin = "environment";
	e = conn_url_env(&s, "PREFECT_API_URL");
	assert_string_equal(e, "PREFECT_API_URL");
	free(e);
	s.origin = "/etc/dagdoc.yaml";
	e = conn_url_env(&s, "PREFECT_API_URL");
	assert_string_equal(e, "the url of source prod (/etc/dagdoc.yaml)");
	free(e);
}

static void test_closest(void **state)
{
	struct dd_strv v = DD_STRV_INIT;

	(void)state;
	assert_null(conn_closest("etl_daily", &v));
	dd_strv_push(&v, "sync_crm");
	dd_strv_push(&v, "etl_daily");
	dd_strv_push(&v, "etl_weekly");
	assert_string_equal(conn_closest("etl_dialy", &v), "etl_daily");
	assert_string_equal(conn_closest("sync_cr", &v), "sync_crm");
	/* a name of 6 may be 2 edits away at most; "zzzzzz" is 6+ from all */
	assert_null(conn_closest("zzzzzz", &v));
	dd_strv_release(&v);
}

static int count_ids(const char *id, void *ud)
{
	struct dd_strv *v = ud;

	dd_strv_push(v, id);
	return v->n == 2 ? 5 : 0;
}

/* What a connection reported as rejected. */
static char last_reject[400];
static int n_rejects;

static void on_reject(const struct dd_reject *r, void *ud)
{
	(void)ud;
	n_rejects++;
	snprintf(last_reject, sizeof(last_reject), "%s|%s|%s|%s", r->endpoint, r->object,
	         r->run_id ? r->run_id : "-", r->problem);
}

static void test_id_item(void **state)
{
	struct dd_strv v = DD_STRV_INIT;
	struct conn_id_ud u = { count_ids, &v, "dag_id", "DAG" };
	struct dd_conn conn;
	cJSON *a = cJSON_Parse("{\"dag_id\":\"a\"}"), *b = cJSON_Parse("{\"name\":\"b\"}");
	cJSON *c = cJSON_Parse("{\"dag_id\":\"c\"}");

	(void)state;
	memset(&conn, 0, sizeof(conn));
	conn_on_reject(&conn, on_reject, NULL);
	conn_set_endpoint(&conn, "GET", "http://h:1/api/v1/dags?limit=100&offset=0");
	n_rejects = 0;
	assert_int_equal(conn_id_item(&conn, a, &u), 0);
	assert_int_equal(conn_id_item(&conn, b, &u), 0);    /* no dag_id: rejected, not handed on */
	assert_int_equal(n_rejects, 1);
	assert_int_equal(conn.stats.rejected, 1);
	assert_string_equal(last_reject, "GET /api/v1/dags|DAG|-|dag_id: missing where a name is expected");
	assert_int_equal(conn_id_item(&conn, c, &u), 5);    /* the callback's stop value */
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[1], "c");
	assert_int_equal(conn_collect_id("d", &v), 0);
	assert_string_equal(v.v[2], "d");
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	dd_strv_release(&v);
}

static int seen_tries;

static int stop_at_second(const struct dd_try *t, void *ud)
{
	(void)ud;
	seen_tries++;
	return t->try_number == 2 ? 9 : 0;
}

static void test_emit_tries(void **state)
{
	struct dd_try *v = dd_xcalloc(4, sizeof(*v));

	(void)state;
	for (int i = 0; i < 3; i++) {
		v[i].try_number = i + 1;
		v[i].task_id = dd_xstrdup("t");
	}
	seen_tries = 0;
	/* stops after try 2, still releases all three (ASan checks the frees) */
	assert_int_equal(conn_emit_tries(v, 3, stop_at_second, NULL), 9);
	assert_int_equal(seen_tries, 2);
}

static char ti_seen_run[32];

static int ti_cb(const struct dd_task_instance *ti, void *ud)
{
	(void)ud;
	snprintf(ti_seen_run, sizeof(ti_seen_run), "%s/%s", ti->run_id, ti->task_id);
	return 3;
}

static void test_ti_emit(void **state)
{
	struct conn_ti_ud u = { ti_cb, NULL, "run-1" };
	struct dd_task_instance ti = { 0 };
	struct conn_check ck = CONN_CHECK_INIT, bad = CONN_CHECK_INIT;
	struct dd_conn conn;

	(void)state;
	memset(&conn, 0, sizeof(conn));
	conn_on_reject(&conn, on_reject, NULL);
	ti_seen_run[0] = '\0';
	n_rejects = 0;
	conn_check_fail(&bad, "try_number: a string (\"1\") where a whole number is expected");
	ti.task_id = dd_xstrdup("extract");
	assert_int_equal(conn_ti_emit(&conn, &u, &ti, &bad), 0);    /* failed its check: rejected */
	assert_string_equal(ti_seen_run, "");
	assert_int_equal(n_rejects, 1);
	assert_non_null(strstr(last_reject, "|task instance extract|run-1|try_number: a string"));
	ti.task_id = dd_xstrdup("extract");
	assert_int_equal(conn_ti_emit(&conn, &u, &ti, &ck), 3);    /* run_id filled from u */
	assert_string_equal(ti_seen_run, "run-1/extract");
	assert_null(ti.task_id);                        /* released */
	ti.task_id = dd_xstrdup("load");
	ti.run_id = dd_xstrdup("run-2");
	assert_int_equal(conn_ti_emit(&conn, &u, &ti, &ck), 3);    /* its own run_id kept */
	assert_string_equal(ti_seen_run, "run-2/load");
}

struct log_seen {
	char text[64];
	int truncated, had_error, calls;
};

static int log_cb(const struct dd_log_request *req, const char *text, size_t len, int truncated,
                  const struct dd_error *e, void *ud)
{
	struct log_seen *s = ud;

	(void)req;
	snprintf(s->text, sizeof(s->text), "%.*s", (int)len, text);
	s->truncated = truncated;
	s->had_error = e != NULL;
	s->calls++;
	return s->calls == 2 ? 4 : 0;
}

static void test_log_out(void **state)
{
	struct dd_source src = { 0 };
	struct dd_conn c = { 0 };
	struct dd_log_request req = { 0 };
	struct conn_log_out o;
	struct log_seen seen = { 0 };
	struct dd_error e = DD_ERROR_INIT;
	int cb_ret = 0;

	(void)state;
	src.max_log_bytes = 1024;
	c.source = &src;
	conn_log_out_init(&o, &c, &req, log_cb, &seen, &cb_ret);
	assert_int_equal(o.cap.cap, 1024);
	http_capbuf_add(&o.cap, "line one\n", 9);
	assert_int_equal(conn_log_deliver(&o, NULL), 0);
	assert_string_equal(seen.text, "line one\n");
	assert_int_equal(seen.had_error, 0);
	assert_int_equal(cb_ret, 0);

	src.max_log_bytes = 0;
	conn_log_out_init(&o, &c, &req, log_cb, &seen, &cb_ret);
	assert_int_equal(o.cap.cap, 16u << 20);
	dd_error_set(&e, DD_ENOTFOUND, "no log");
	assert_int_equal(conn_log_deliver(&o, &e), CONN_STOP);
	assert_string_equal(seen.text, "");
	assert_int_equal(seen.had_error, 1);
	assert_int_equal(cb_ret, 4);
}

/* An Airflow 3 run says what it ran: the bundle's version and the DAG
 * version; Airflow 2 runs have neither; a version of the wrong type is a
 * run not stored. */
static void test_run_versions(void **state)
{
	static const char v2[] =
		"{\"dag_run_id\": \"scheduled__2026-11-20T04:00:00+00:00\", \"dag_id\": \"sales_rollup\","
		" \"logical_date\": \"2026-11-20T04:00:00Z\", \"run_after\": \"2026-11-21T04:00:00Z\","
		" \"start_date\": \"2026-11-21T04:00:03Z\", \"state\": \"failed\", \"run_type\": \"scheduled\","
		" \"dag_versions\": [{\"id\": \"x\", \"version_number\": 1, \"bundle_version\": \"aaa\"},"
		"                  {\"id\": \"y\", \"version_number\": 2, \"bundle_version\": \"4f1c2d9\"}],"
		" \"bundle_version\": \"4f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e\"}";
	static const char v1[] =
		"{\"dag_run_id\": \"r\", \"execution_date\": \"2026-11-20T04:00:00Z\", \"state\": \"success\"}";
	static const char bad[] =
		"{\"dag_run_id\": \"r\", \"logical_date\": \"2026-11-20T04:00:00Z\", \"state\": \"success\","
		" \"bundle_version\": 42}";
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_run r;
	cJSON *j = cJSON_Parse(v2);

	(void)state;
	assert_int_equal(af_read_run(j, &r, &ck), 0);
	assert_string_equal(r.bundle_version, "4f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e");
	assert_int_equal(r.dag_version, 2);
	assert_true(r.start_ms > r.logical_ms);
	dd_run_release(&r);
	cJSON_Delete(j);
	j = cJSON_Parse(v1);
	assert_int_equal(af_read_run(j, &r, &ck), 0);
	assert_null(r.bundle_version);
	assert_int_equal(r.dag_version, 0);
	dd_run_release(&r);
	cJSON_Delete(j);
	j = cJSON_Parse(bad);
	assert_int_equal(af_read_run(j, &r, &ck), -1);
	assert_non_null(strstr(ck.problem, "bundle_version"));
	cJSON_Delete(j);
}

/* A Prefect task run's task is its name less the dynamic key Prefect put in
 * it: the whole key ("-0") or its first characters ("-863" of a uuid key);
 * a name given by task_run_name stays whole. */
static void test_prefect_task_name(void **state)
{
	static const struct {
		const char *name, *key, *task;
	} cases[] = {
		{ "load_model-863", "8634c1e2-9f1b-4c1e-a0b5-2f6d7e8a9b0c", "load_model" },
		{ "extract-0", "0", "extract" },
		{ "fetch-data-12", "12", "fetch-data" },
		{ "hello-marvin-on-Thursday", "2", "hello-marvin-on-Thursday" },
		{ "extract-a3", "b1", "extract-a3" },
		{ "solo", "0", "solo" },
	};

	(void)state;
	for (size_t i = 0; i < DD_ARRAY_SIZE(cases); i++) {
		struct conn_check ck = CONN_CHECK_INIT;
		struct dd_task_instance ti;
		char *text = dd_xasprintf("{\"id\": \"b2c1e0f4-0000-4000-8000-00000000000%zu\", \"name\": \"%s\","
		                          " \"dynamic_key\": \"%s\", \"task_key\": \"t\", \"flow_run_id\": \"f\","
		                          " \"state_type\": \"COMPLETED\", \"state_name\": \"Completed\", \"run_count\": 1}",
		                          i, cases[i].name, cases[i].key);
		cJSON *j = cJSON_Parse(text);

		assert_int_equal(pf_read_task_run(j, &ti, &ck), 0);
		assert_string_equal(ti.task_id, cases[i].name);
		assert_string_equal(ti.operator_name, cases[i].task);
		dd_task_instance_release(&ti);
		cJSON_Delete(j);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_versions),
		cmocka_unit_test(test_prefect_task_name),
		cmocka_unit_test(test_json_members),
		cmocka_unit_test(test_url_env),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_id_item),
		cmocka_unit_test(test_emit_tries),
		cmocka_unit_test(test_ti_emit),
		cmocka_unit_test(test_log_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
