/* test_connector_airflow.c - the Airflow connector against the fake
 * servers of tests/fakes/ (v1 basic + bearer, v2 token exchange), through
 * the public conn_* interface. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "dagdoc/connector.h"
#include "dagdoc/http.h"
#include "fakeproc.h"

/* the connectors are weak references in connector.c: pull them in */
struct dd_conn_ops;
extern const struct dd_conn_ops dd_airflow_ops;
const void *force_link_airflow = &dd_airflow_ops;

#define RUN5 "scheduled__2026-03-05T02:00:00+00:00"
#define RUN10 "scheduled__2026-03-10T02:00:00+00:00"

static char world_basic[512];

/* ---- collectors --------------------------------------------------------- */

static int add_id(const char *id, void *ud)
{
	dd_strv_push(ud, id);
	return 0;
}

static int add_run(const struct dd_run *r, void *ud)
{
	dd_strv_push_owned(ud, dd_xasprintf("%s %s", r->run_id, dd_state_name(r->state)));
	return 0;
}

static int add_ti(const struct dd_task_instance *t, void *ud)
{
	dd_strv_push_owned(ud, dd_xasprintf("%s %s try=%d max=%d host=%s", t->task_id,
	                                    dd_state_name(t->state), t->try_number, t->max_tries,
	                                    t->hostname ? t->hostname : "-"));
	return 0;
}

static int add_try(const struct dd_try *t, void *ud)
{
	char s[40], e[40];
	dd_format_time(t->start_ms, 0, s, sizeof(s));
	dd_format_time(t->end_ms, 0, e, sizeof(e));
	dd_strv_push_owned(ud, dd_xasprintf("%d %s %s %s", t->try_number, dd_state_name(t->state),
	                                    t->start_ms ? s : "-", t->end_ms ? e : "-"));
	return 0;
}

struct logs {
	struct dd_strv text;     /* "task/try" then the text, in pairs */
	int truncated[16];
	int n;
	struct dd_error err[16];
};

static int add_log(const struct dd_log_request *r, const char *text, size_t len, int truncated,
                   const struct dd_error *err, void *ud)
{
	struct logs *l = ud;
	int i = (int)(intptr_t)r->user;

	assert_true(i >= 0 && i < 16);
	assert_int_equal(strlen(text), len);
	l->truncated[i] = truncated;
	if (err)
		l->err[i] = *err;
	while ((int)l->text.n <= i)
		dd_strv_push(&l->text, "");
	free(l->text.v[i]);
	l->text.v[i] = dd_xstrndup(text, len);
	l->n++;
	return 0;
}

static char *joined(const struct dd_strv *v)
{
	struct dd_buf b = DD_BUF_INIT;
	for (size_t i = 0; i < v->n; i++)
		dd_buf_addf(&b, "%s\n", v->v[i]);
	return dd_buf_detach(&b);
}

/* ---- trace capture ------------------------------------------------------ */

static struct dd_buf trace;

static void hook(int level, const char *line, void *ud)
{
	(void)ud;
	dd_buf_addf(&trace, "%d %s\n", level, line);
}

/* ---- v1, basic auth ----------------------------------------------------- */

static struct fake v1;

static int setup_v1(void **state)
{
	const char *args[] = { "--api", "v1", "--world", world_basic, "--user", "admin",
	                       "--password", "s3cret-pw", NULL };
	return fake_start(&v1, "fake_airflow.py", args);
}

static int teardown_v1(void **state)
{
	fake_stop(&v1);
	return 0;
}

static struct dd_conn *open_v1(struct dd_source *s, const char *password)
{
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;

	fake_source(s, DD_SOURCE_AIRFLOW, v1.url);
	s->username = "admin";
	s->password = (char *)password;
	assert_int_equal(conn_open(s, 0, &c, &e), 0);
	return c;
}

/* The link as the store will make it: the UI the open connection learnt. */
static char *ui_link(const struct dd_conn *c, const char *dag, const char *run, const char *task)
{
	struct dd_ui ui;

	conn_ui(c, &ui);
	return conn_ui_link(ui.form, ui.base, dag, run, task);
}

static void test_v1_open_and_dags(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct dd_strv ids = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;
	char *j;

	assert_string_equal(conn_describe(c), "airflow 2.10.5 (api v1)");
	assert_int_equal(conn_list_dags(c, add_id, &ids, &e), 0);
	j = joined(&ids);
	assert_string_equal(j, "etl_daily\nsync_crm\ntrain_churn\n");
	free(j);
	dd_strv_release(&ids);
	conn_close(c);
}

static void test_v1_get_dag(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct dd_error e = DD_ERROR_INIT;
	struct dd_dag d;

	assert_int_equal(conn_get_dag(c, "etl_daily", &d, &e), 0);
	assert_string_equal(d.dag_id, "etl_daily");
	assert_string_equal(d.fileloc, "/opt/airflow/dags/etl/etl_daily.py");
	assert_int_equal(d.n_tasks, 5);
	for (size_t i = 0; i < d.n_tasks; i++) {
		if (!strcmp(d.tasks[i].task_id, "wait_for_raw_events")) {
			assert_true(d.tasks[i].is_sensor);
			assert_int_equal(d.tasks[i].n_downstream, 1);
			assert_string_equal(d.tasks[i].downstream[0], "extract");
		}
		if (!strcmp(d.tasks[i].task_id, "notify"))
			assert_int_equal(d.tasks[i].n_downstream, 0);
	}
	dd_dag_release(&d);

	/* a typo: one sentence with a suggestion */
	assert_int_equal(conn_get_dag(c, "etl_dayly", &d, &e), DD_ENOTFOUND);
	assert_string_equal(e.msg, "no DAG named etl_dayly on test; did you mean etl_daily?");
	assert_int_equal(conn_list_runs(c, "trian_churn", 0, add_run, NULL, &e), DD_ENOTFOUND);
	assert_string_equal(e.msg, "no DAG named trian_churn on test; did you mean train_churn?");
	assert_int_equal(conn_get_dag(c, "zzz", &d, &e), DD_ENOTFOUND);
	assert_string_equal(e.msg, "no DAG named zzz on test (it has 3 DAGs)");
	conn_close(c);
}

static void test_v1_runs_tis_tries(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv v = DD_STRV_INIT;
	struct dd_task_instance ti = { 0 };
	int64_t since;
	char *j;

	assert_int_equal(dd_parse_time("2026-03-08T00:00:00Z", &since), 0);
	assert_int_equal(conn_list_runs(c, "etl_daily", since, add_run, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j, "scheduled__2026-03-08T02:00:00+00:00 failed\n"
	                       "scheduled__2026-03-09T02:00:00+00:00 failed\n"
	                       RUN10 " running\n");
	free(j);
	dd_strv_release(&v);

	assert_int_equal(conn_list_task_instances(c, "etl_daily", RUN5, add_ti, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j, "wait_for_raw_events success try=1 max=1 host=worker-1\n"
	                       "extract success try=1 max=3 host=worker-1\n"
	                       "transform failed try=2 max=2 host=worker-1\n"
	                       "load upstream_failed try=0 max=2 host=-\n"
	                       "notify upstream_failed try=0 max=1 host=-\n");
	free(j);
	dd_strv_release(&v);

	ti.run_id = RUN5;
	ti.task_id = "transform";
	ti.map_index = -1;
	ti.try_number = 2;
	ti.state = DD_STATE_FAILED;
	assert_int_equal(conn_list_tries(c, "etl_daily", &ti, add_try, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j, "1 up_for_retry 2026-03-06T02:02:13Z 2026-03-06T02:02:25Z\n"
	                       "2 failed 2026-03-06T02:07:27Z 2026-03-06T02:07:38Z\n");
	free(j);
	dd_strv_release(&v);
	conn_close(c);
}

static void fetch(struct dd_conn *c, const char *run, const char *task, const int *tries, int n,
                  struct logs *l)
{
	struct dd_log_request r[8];
	struct dd_error e = DD_ERROR_INIT;

	memset(l, 0, sizeof(*l));
	for (int i = 0; i < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].dag_id = "etl_daily";
		r[i].run_id = run;
		r[i].task_id = task;
		r[i].map_index = -1;
		r[i].try_number = tries[i];
		r[i].user = (void *)(intptr_t)i;
	}
	assert_int_equal(conn_fetch_logs(c, r, (size_t)n, add_log, l, &e), 0);
	assert_int_equal(l->n, n);
}

static void test_v1_logs_text_and_json(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct logs t, js;
	const int tries[] = { 1, 2 };
	const char *body;

	fetch(c, RUN5, "transform", tries, 2, &t);
	/* text/plain: "<host>\n<text>" */
	assert_true(dd_starts_with(t.text.v[0], "worker-1\n INFO - ::group::Log message source details\n"));
	assert_non_null(strstr(t.text.v[0], "Starting attempt 1 of 2"));
	assert_non_null(strstr(t.text.v[1], "Starting attempt 2 of 2"));
	assert_null(strstr(t.text.v[1], "Starting attempt 1 of 2"));
	assert_non_null(strstr(t.text.v[1], "ERROR - Task failed with exception\nTraceback (most recent call last):\n"));
	assert_false(t.truncated[1]);
	conn_close(c);

	/* the JSON form decodes the repr to the same text, less the host line */
	setenv("DAGDOC_AIRFLOW_LOG_FORMAT", "json", 1);
	c = open_v1(&s, "s3cret-pw");
	unsetenv("DAGDOC_AIRFLOW_LOG_FORMAT");
	fetch(c, RUN5, "transform", tries, 2, &js);
	for (int i = 0; i < 2; i++) {
		body = t.text.v[i] + strlen("worker-1\n");
		assert_true(dd_starts_with(js.text.v[i], " INFO - ::group::Log message source details\n"));
		assert_true(strlen(js.text.v[i]) > 1000);
		assert_non_null(strstr(body, js.text.v[i]));
	}
	dd_strv_release(&t.text);
	dd_strv_release(&js.text);

	/* a running try: the continuation token is followed until no more text */
	{
		const int one[] = { 1 };
		int before = fake_count(&v1, "/taskInstances/extract/logs/1");
		fetch(c, RUN10, "extract", one, 1, &js);
		assert_int_equal(fake_count(&v1, "/taskInstances/extract/logs/1") - before, 2);
		assert_int_equal(fake_count(&v1, "/taskInstances/extract/logs/1?map_index=-1&token="), 1);
		assert_non_null(strstr(js.text.v[0], "Starting attempt 1 of"));
		/* once, not twice */
		assert_null(strstr(strstr(js.text.v[0], "Starting attempt 1 of") + 1, "Starting attempt 1 of"));
		dd_strv_release(&js.text);
	}
	conn_close(c);
}

static void test_v1_missing_log(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct logs l;
	const int tries[] = { 1 };

	fetch(c, RUN5, "no_such_task", tries, 1, &l);
	assert_int_equal(l.err[0].code, DD_ENOTFOUND);
	assert_string_equal(l.err[0].msg, "no log of try 1 of task no_such_task in run " RUN5
	                    " of DAG etl_daily on test (404)");
	dd_strv_release(&l.text);
	conn_close(c);
}

static void test_v1_health_import_errors(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct dd_error e = DD_ERROR_INIT;
	struct dd_health h;
	char t[40];

	assert_int_equal(conn_health(c, &h, &e), 0);
	assert_string_equal(h.scheduler_status, "healthy");
	assert_string_equal(h.metadatabase_status, "healthy");
	dd_format_time(h.scheduler_heartbeat_ms, 0, t, sizeof(t));
	assert_string_equal(t, "2026-03-11T05:59:57Z");
	dd_health_release(&h);
	conn_close(c);
}

static int add_ie(const struct dd_import_error *ie, void *ud)
{
	char t[40];
	dd_format_time(ie->timestamp_ms, 0, t, sizeof(t));
	dd_strv_push_owned(ud, dd_xasprintf("%s %s %s", ie->filename, t,
	                                    strstr(ie->stack_trace, "ModuleNotFoundError: No module named 'great_expectations'") ? "ok" : "bad"));
	return 0;
}

static void test_v1_import_errors(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv v = DD_STRV_INIT;
	char *j;

	assert_int_equal(conn_list_import_errors(c, add_ie, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j, "/opt/airflow/dags/quality/check_orders.py 2026-03-10T23:58:12Z ok\n");
	free(j);
	dd_strv_release(&v);
	conn_close(c);
}

static void test_v1_bad_password(void **state)
{
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv ids = DD_STRV_INIT;
	char *want;

	/* /version is public: the wrong password shows on the first real call */
	c = open_v1(&s, "wrong-pw-XYZ");
	dd_buf_reset(&trace);
	assert_int_equal(conn_list_dags(c, add_id, &ids, &e), DD_EAUTH);
	want = dd_xasprintf("Airflow at %s rejected the credentials (401: Unauthorized); check "
	                    "DAGDOC_AIRFLOW_USERNAME and DAGDOC_AIRFLOW_PASSWORD", v1.url);
	assert_string_equal(e.msg, want);
	free(want);
	assert_null(strstr(e.msg, "wrong-pw-XYZ"));
	dd_strv_release(&ids);
	conn_close(c);
	(void)state;
}

static void test_v1_trace_redacted(void **state)
{
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv ids = DD_STRV_INIT;
	char *want;

	fake_source(&s, DD_SOURCE_AIRFLOW, v1.url);
	s.username = "admin";
	s.password = "s3cret-pw";
	dd_buf_reset(&trace);
	http_set_log_hook(hook, NULL);
	assert_int_equal(conn_open(&s, 1, &c, &e), 0);
	assert_int_equal(conn_list_dags(c, add_id, &ids, &e), 0);
	http_set_log_hook(NULL, NULL);
	want = dd_xasprintf("0 GET %s/api/v1/dags?limit=100&offset=0 -> 200 (", v1.url);
	assert_non_null(strstr(trace.data, want));
	free(want);
	assert_null(strstr(trace.data, "s3cret-pw"));
	assert_null(strstr(trace.data, "Authorization"));
	assert_null(strstr(trace.data, "YWRtaW46czNjcmV0LXB3"));   /* base64 admin:s3cret-pw */
	dd_strv_release(&ids);
	conn_close(c);
}

static void test_v1_stats_and_ui_url(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_v1(&s, "s3cret-pw");
	struct dd_conn_stats st;
	char *u;

	conn_stats(c, &st);
	assert_int_equal(st.requests, 2);     /* v2/version (404), v1/version */
	assert_int_equal(st.retries, 0);
	assert_true(st.bytes > 0);
	u = ui_link(c, "etl_daily", RUN5, "transform");
	{
		char *w = dd_xasprintf("%s/dags/etl_daily/grid?dag_run_id=scheduled__2026-03-05T02%%3A00%%3A00%%2B00%%3A00&task_id=transform", v1.url);
		assert_string_equal(u, w);
		free(w);
	}
	free(u);
	conn_close(c);
}

/* ---- v1, bearer token --------------------------------------------------- */

static void test_v1_bearer(void **state)
{
	struct fake f;
	const char *args[] = { "--api", "v1", "--world", world_basic, "--token", "tok-AbC123-secret", NULL };
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv ids = DD_STRV_INIT;
	char *want;

	assert_int_equal(fake_start(&f, "fake_airflow.py", args), 0);
	fake_source(&s, DD_SOURCE_AIRFLOW, f.url);
	s.token = "tok-AbC123-secret";
	dd_buf_reset(&trace);
	http_set_log_hook(hook, NULL);
	assert_int_equal(conn_open(&s, 1, &c, &e), 0);
	assert_int_equal(conn_list_dags(c, add_id, &ids, &e), 0);
	assert_int_equal(ids.n, 3);
	conn_close(c);
	dd_strv_release(&ids);

	s.token = "tok-WRONG-secret";
	s.token_env = "AIRFLOW_PROD_TOKEN";
	assert_int_equal(conn_open(&s, 1, &c, &e), 0);
	assert_int_equal(conn_list_runs(c, "etl_daily", 0, add_run, NULL, &e), DD_EAUTH);
	http_set_log_hook(NULL, NULL);
	want = dd_xasprintf("Airflow at %s rejected the credentials (401: Unauthorized); check "
	                    "AIRFLOW_PROD_TOKEN", f.url);
	assert_string_equal(e.msg, want);
	free(want);
	assert_null(strstr(trace.data, "tok-AbC123-secret"));
	assert_null(strstr(trace.data, "tok-WRONG-secret"));
	assert_non_null(strstr(trace.data, "-> 401"));
	conn_close(c);
	fake_stop(&f);
}

/* ---- v2, token exchange ------------------------------------------------- */

static void test_v2_token_exchange(void **state)
{
	struct fake f;
	const char *args[] = { "--api", "v2", "--world", world_basic, "--user", "admin",
	                       "--password", "pw-v2-secret", "--token-ttl", "2", "--jwt-leeway", "0",
	                       NULL };
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv v = DD_STRV_INIT;
	struct dd_task_instance ti = { 0 };
	struct logs l, lj;
	const int tries[] = { 1, 2 };
	char *j, *u;

	assert_int_equal(fake_start(&f, "fake_airflow.py", args), 0);
	fake_source(&s, DD_SOURCE_AIRFLOW, f.url);
	s.username = "admin";
	s.password = "pw-v2-secret";
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	assert_string_equal(conn_describe(c), "airflow 3.2.0 (api v2)");
	assert_int_equal(fake_count(&f, "POST /auth/token 201"), 1);

	assert_int_equal(conn_list_runs(c, "etl_daily", 0, add_run, &v, &e), 0);
	assert_int_equal(v.n, 10);
	assert_string_equal(v.v[0], "scheduled__2026-03-01T02:00:00+00:00 success");
	assert_string_equal(v.v[9], RUN10 " running");
	dd_strv_release(&v);

	ti.run_id = RUN5;
	ti.task_id = "transform";
	ti.map_index = -1;
	ti.try_number = 2;
	ti.state = DD_STATE_FAILED;
	assert_int_equal(conn_list_tries(c, "etl_daily", &ti, add_try, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j, "1 up_for_retry 2026-03-06T02:02:13Z 2026-03-06T02:02:25Z\n"
	                       "2 failed 2026-03-06T02:07:27Z 2026-03-06T02:07:38Z\n");
	free(j);
	dd_strv_release(&v);

	/* no try history (404): synthesised from try_number */
	ti.task_id = "ghost";
	ti.try_number = 3;
	assert_int_equal(conn_list_tries(c, "etl_daily", &ti, add_try, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j, "1 up_for_retry - -\n2 up_for_retry - -\n3 failed - -\n");
	free(j);
	dd_strv_release(&v);

	/* NDJSON: one structured event per line, passed on unchanged */
	fetch(c, RUN5, "transform", tries, 2, &l);
	assert_true(dd_starts_with(l.text.v[1], "{\"timestamp\": null, \"event\": \"::group::Log message source details\""));
	assert_non_null(strstr(l.text.v[1], "{\"event\": \"[2026-03-06T02:07:27.200+0000] {taskinstance.py:2866} INFO - Starting attempt 2 of 2\", \"timestamp\": \"2026-03-06T02:07:27.200000Z\"}\n"));

	/* the token expires: one new exchange, then the call succeeds */
	sleep(3);
	assert_int_equal(conn_list_dags(c, add_id, &v, &e), 0);
	assert_int_equal(v.n, 3);
	dd_strv_release(&v);
	assert_int_equal(fake_count(&f, "POST /auth/token 201"), 2);
	u = ui_link(c, "etl_daily", RUN5, "transform");
	j = dd_xasprintf("%s/dags/etl_daily/runs/scheduled__2026-03-05T02%%3A00%%3A00%%2B00%%3A00/tasks/transform", f.url);
	assert_string_equal(u, j);
	free(u);
	free(j);
	conn_close(c);

	/* the JSON form gives the same events, one per line */
	setenv("DAGDOC_AIRFLOW_LOG_FORMAT", "json", 1);
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	unsetenv("DAGDOC_AIRFLOW_LOG_FORMAT");
	fetch(c, RUN5, "transform", tries, 2, &lj);
	for (int i = 0; i < 2; i++) {
		size_t n1 = 0, n2 = 0;
		for (const char *p = l.text.v[i]; (p = strchr(p, '\n')); p++)
			n1++;
		for (const char *p = lj.text.v[i]; (p = strchr(p, '\n')); p++)
			n2++;
		assert_true(n1 > 20);
		assert_int_equal(n1, n2);
	}
	assert_true(dd_starts_with(lj.text.v[1], "{\"timestamp\":null,\"event\":\"::group::Log message source details\""));
	dd_strv_release(&l.text);
	dd_strv_release(&lj.text);
	conn_close(c);

	/* a running try: a token that is not ahead of what was read is not followed */
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	{
		const int one[] = { 1 };
		const char *p;
		fetch(c, RUN10, "extract", one, 1, &l);
		assert_int_equal(fake_count(&f, "/taskInstances/extract/logs/1"), 1);
		p = strstr(l.text.v[0], "Starting attempt 1 of");
		assert_non_null(p);
		assert_null(strstr(p + 1, "Starting attempt 1 of"));
		dd_strv_release(&l.text);
	}
	conn_close(c);

	/* wrong password: the exchange fails with one sentence */
	s.password = "nope-XYZ";
	assert_int_equal(conn_open(&s, 0, &c, &e), DD_EAUTH);
	assert_null(c);
	j = dd_xasprintf("Airflow at %s did not give a token for the username and password (401: "
	                 "Invalid credentials); check DAGDOC_AIRFLOW_USERNAME and DAGDOC_AIRFLOW_PASSWORD",
	                 f.url);
	assert_string_equal(e.msg, j);
	free(j);
	fake_stop(&f);
}

/* ---- faults: retries, malformed bodies ---------------------------------- */

static void test_faults(void **state)
{
	struct fake f;
	char dir[256], faults[300], fargs[320];
	const char *args[] = { "--api", "v1", "--world", world_basic, "--faults", faults, NULL };
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv v = DD_STRV_INIT;
	struct dd_conn_stats st;
	struct dd_health h;
	char *want;

	fake_tmpdir(dir, sizeof(dir));
	snprintf(faults, sizeof(faults), "%s/faults.json", dir);
	fake_write(faults,
	           "[{\"path\": \"/api/v1/dags$\", \"kind\": \"429\", \"times\": 1, \"retry_after\": \"1\"},\n"
	           " {\"path\": \"/dagRuns$\", \"kind\": \"429\", \"times\": 1, \"retry_after\": \"Thu, 01 Jan 2026 00:00:00 GMT\"},\n"
	           " {\"path\": \"/taskInstances$\", \"kind\": \"503\", \"times\": 2},\n"
	           " {\"path\": \"/tries$\", \"kind\": \"drop\", \"times\": 2},\n"
	           " {\"path\": \"/importErrors\", \"kind\": \"malformed\", \"times\": 1},\n"
	           " {\"path\": \"/dags/etl_daily$\", \"kind\": \"truncate\", \"times\": 1},\n"
	           " {\"path\": \"/dags/etl_daily/tasks$\", \"kind\": \"timeout\", \"times\": 1, \"delay_ms\": 4000},\n"
	           " {\"path\": \"/health\", \"kind\": \"502\", \"times\": 100}]\n");
	(void)fargs;
	assert_int_equal(fake_start(&f, "fake_airflow.py", args), 0);
	fake_source(&s, DD_SOURCE_AIRFLOW, f.url);
	s.timeout_s = 2;
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);

	/* a body cut short (Content-Length not met), then no answer in time */
	{
		struct dd_dag d;
		assert_int_equal(conn_get_dag(c, "etl_daily", &d, &e), 0);
		assert_int_equal(d.n_tasks, 5);
		dd_dag_release(&d);
		conn_stats(c, &st);
		assert_int_equal(st.retries, 2);
		assert_int_equal(fake_count(&f, "GET /api/v1/dags/etl_daily 200 fault=truncate"), 1);
		/* the timed-out request is logged by the fake only when it answers, later */
		assert_true(fake_count(&f, "GET /api/v1/dags/etl_daily/tasks 200") >= 1);
	}
	assert_int_equal(conn_list_dags(c, add_id, &v, &e), 0);
	assert_int_equal(v.n, 3);
	dd_strv_release(&v);
	assert_int_equal(conn_list_runs(c, "etl_daily", 0, add_run, &v, &e), 0);
	assert_int_equal(v.n, 10);
	dd_strv_release(&v);
	assert_int_equal(conn_list_task_instances(c, "etl_daily", RUN5, add_ti, &v, &e), 0);
	assert_int_equal(v.n, 5);
	dd_strv_release(&v);
	{
		struct dd_task_instance ti = { 0 };
		ti.run_id = RUN5;
		ti.task_id = "transform";
		ti.map_index = -1;
		ti.try_number = 2;
		assert_int_equal(conn_list_tries(c, "etl_daily", &ti, add_try, &v, &e), 0);
		assert_int_equal(v.n, 2);
		dd_strv_release(&v);
	}
	conn_stats(c, &st);
	/* libcurl itself re-sends once when a reused connection dies unanswered */
	assert_true(st.retries == 7 || st.retries == 8);
	assert_int_equal(fake_count(&f, "/tries 0 fault=drop"), 2);
	assert_int_equal(fake_count(&f, "/tries 200"), 1);
	assert_int_equal(fake_count(&f, "GET /api/v1/dags?limit=100&offset=0 429"), 1);
	assert_int_equal(fake_count(&f, "GET /api/v1/dags?limit=100&offset=0 200"), 1);
	assert_int_equal(fake_count(&f, " 503"), 2);

	/* a body cut short and not JSON: one clear sentence */
	assert_int_equal(conn_list_import_errors(c, add_ie, &v, &e), DD_EPROTO);
	assert_true(dd_starts_with(e.msg, "Airflow at "));
	assert_non_null(strstr(e.msg, " answered GET /api/v1/importErrors?limit=100&offset=0 with a body that is not JSON"));
	dd_strv_release(&v);
	conn_close(c);

	/* 502 for ever: gives up within the retry budget, names the status */
	s.timeout_s = 5;
	http_set_retry_policy(10, 40, 0);     /* fast backoff: the test is about the outcome */
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	http_set_retry_policy(0, 0, 0);
	{
		assert_int_equal(conn_health(c, &h, &e), DD_ENET);
		want = dd_xasprintf("Airflow at %s kept answering 502 to GET /api/v1/health (8 attempts", f.url);
		assert_true(dd_starts_with(e.msg, want));
		free(want);
		assert_true(dd_ends_with(e.msg, "; try again later"));
	}
	conn_close(c);
	fake_stop(&f);
	fake_rmdir(dir);
}

static void test_connection_refused(void **state)
{
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	char url[64], *want;
	int port = fake_closed_port();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	fake_source(&s, DD_SOURCE_AIRFLOW, url);
	assert_int_equal(conn_open(&s, 0, &c, &e), DD_ENET);
	want = dd_xasprintf("cannot reach http://127.0.0.1:%d: connection refused (3 attempts); is the "
	                    "Airflow webserver running and is DAGDOC_AIRFLOW_URL right?", port);
	assert_string_equal(e.msg, want);
	free(want);

	/* DNS: the .invalid TLD never resolves */
	fake_source(&s, DD_SOURCE_AIRFLOW, "http://dagdoc-test.invalid:8080");
	assert_int_equal(conn_open(&s, 0, &c, &e), DD_ENET);
	assert_string_equal(e.msg, "could not resolve host dagdoc-test.invalid; check the host name in "
	                    "DAGDOC_AIRFLOW_URL");
}

/* ---- paging and huge logs ------------------------------------------------ */

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static int count_run(const struct dd_run *r, void *ud)
{
	(void)r;
	(*(int *)ud)++;
	return 0;
}

static void big_world(char *dir, size_t n, char *world, size_t wn, int runs, int log_mb, int success)
{
	char cmd[1024];

	fake_tmpdir(dir, n);
	snprintf(world, wn, "%s/world.json", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/bench/gen_world.py --runs %d --tries 2 %s "
	         "--log-mb %d %s", fake_root(), runs, success ? "--success" : "", log_mb, world);
	assert_int_equal(system(cmd), 0);
}

static void test_paging_and_huge_log(void **state)
{
	char dir[256], world[300];
	const char *apis[] = { "v1", "v2" };

	for (int a = 0; a < 2; a++) {
		/* v2's NDJSON is slow to make in the fake: a smaller log there */
		big_world(dir, sizeof(dir), world, sizeof(world), 250, a == 0 ? 24 : 6, 0);
		struct fake f;
		const char *args[] = { "--api", apis[a], "--world", world, NULL };
		struct dd_source s;
		struct dd_conn *c = NULL;
		struct dd_error e = DD_ERROR_INIT;
		struct dd_log_request r = { 0 };
		struct logs l;
		int n = 0;
		long before;

		assert_int_equal(fake_start(&f, "fake_airflow.py", args), 0);
		fake_source(&s, DD_SOURCE_AIRFLOW, f.url);
		s.max_log_bytes = 1 << 20;
		assert_int_equal(conn_open(&s, 0, &c, &e), 0);
		assert_int_equal(conn_list_runs(c, "bench_dag", 0, count_run, &n, &e), 0);
		assert_int_equal(n, 250);
		assert_int_equal(fake_count(&f, "/dagRuns?"), 3);
		assert_int_equal(fake_count(&f, "/dagRuns?order_by="), 3);
		assert_int_equal(fake_count(&f, "&limit=100&offset=100 200"), 1);
		assert_int_equal(fake_count(&f, "&limit=100&offset=200 200"), 1);

		/* 24 (6) MB streamed through a 1 MiB cap: head, marker, tail */
		memset(&l, 0, sizeof(l));
		r.dag_id = "bench_dag";
		r.run_id = "scheduled__2026-01-01T02:00:00+00:00";
		r.task_id = "extract";
		r.map_index = -1;
		r.try_number = 2;
		before = rss_kb();
		assert_int_equal(conn_fetch_logs(c, &r, 1, add_log, &l, &e), 0);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.err[0].code, 0);
		assert_true(l.truncated[0]);
		assert_true(strlen(l.text.v[0]) <= (1 << 20) + 64);
		assert_true(strlen(l.text.v[0]) > (1 << 20) - 70000);
		assert_non_null(strstr(l.text.v[0], " bytes omitted; the log was longer than "));
		/* the failure at the end is kept */
		assert_non_null(strstr(strstr(l.text.v[0], " bytes omitted; the log was longer than "), "Traceback"));
		/* memory stays far below the log's size */
		if (a == 0)
			assert_true(rss_kb() - before < 12 * 1024);
		dd_strv_release(&l.text);
		conn_close(c);
		fake_stop(&f);
		fake_rmdir(dir);
	}
}

/* ---- fleet operations: the same data as the per-DAG ones, in fewer requests */

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The lines of v sorted, one string. */
static char *sorted(struct dd_strv *v)
{
	qsort(v->v, v->n, sizeof(*v->v), cmp_str);
	return joined(v);
}

static char *dag_line(const struct dd_dag *d)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_buf_addf(&b, "dag %s paused=%d file=%s:", d->dag_id, d->is_paused, d->fileloc ? d->fileloc : "-");
	for (size_t i = 0; i < d->n_tasks; i++) {
		dd_buf_addf(&b, " %s(%s)>", d->tasks[i].task_id, d->tasks[i].operator_name);
		for (size_t k = 0; k < d->tasks[i].n_downstream; k++)
			dd_buf_addf(&b, "%s,", d->tasks[i].downstream[k]);
	}
	return dd_buf_detach(&b);
}

static char *run_line(const char *dag_id, size_t k, const struct dd_run *r)
{
	return dd_xasprintf("run %s #%zu %s %s %s %lld %lld %lld %lld", dag_id, k, r->run_id,
	                    dd_state_name(r->state), r->run_type ? r->run_type : "-", (long long)r->logical_ms,
	                    (long long)r->queued_ms, (long long)r->start_ms, (long long)r->end_ms);
}

/* A dd_try_cb: appends the try to the dd_buf at ud. */
static int try_text(const struct dd_try *t, void *ud)
{
	dd_buf_addf(ud, " %d:%s:%lld-%lld:%s", t->try_number, dd_state_name(t->state), (long long)t->start_ms,
	            (long long)t->end_ms, t->hostname ? t->hostname : "-");
	return 0;
}

static char *ti_line(const char *dag_id, const struct dd_task_instance *t, const char *tries)
{
	return dd_xasprintf("ti %s %s %s/%d %s try=%d max=%d op=%s host=%s %lld-%lld tries:%s", dag_id, t->run_id,
	                    t->task_id, t->map_index, dd_state_name(t->state), t->try_number, t->max_tries,
	                    t->operator_name ? t->operator_name : "-", t->hostname ? t->hostname : "-",
	                    (long long)t->start_ms, (long long)t->end_ms, tries);
}

struct per_dag {
	const char *dag_id;
	struct dd_strv *out;
	size_t k;
	struct dd_strv *run_ids;
};

static int per_dag_run(const struct dd_run *r, void *ud)
{
	struct per_dag *u = ud;

	dd_strv_push_owned(u->out, run_line(u->dag_id, u->k++, r));
	dd_strv_push(u->run_ids, r->run_id);
	return 0;
}

struct ti_acc {
	struct dd_task_instance v[64];
	size_t n;
};

static int per_dag_ti(const struct dd_task_instance *t, void *ud)
{
	struct ti_acc *a = ud;

	assert_true(a->n < 64);
	a->v[a->n] = *t;
	a->v[a->n].run_id = dd_xstrdup(t->run_id);
	a->v[a->n].task_id = dd_xstrdup(t->task_id);
	a->v[a->n].operator_name = dd_xstrdup(t->operator_name);
	a->v[a->n].hostname = dd_xstrdup(t->hostname);
	a->v[a->n].note = dd_xstrdup(t->note);
	a->v[a->n].external_id = dd_xstrdup(t->external_id);
	a->n++;
	return 0;
}

static int since_of(size_t i)
{
	return (int)(i % 2);
}

/* Every DAG, run (since the DAG's cut), task instance and try, through the
 * per-DAG operations; *keys gets "dag\trun" of every run. */
static char *per_dag_dump(struct dd_conn *c, int64_t cut, struct dd_strv *keys)
{
	struct dd_strv ids = DD_STRV_INIT, out = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;

	assert_int_equal(conn_list_dags(c, add_id, &ids, &e), 0);
	for (size_t i = 0; i < ids.n; i++) {
		struct dd_dag d;
		struct dd_strv runs = DD_STRV_INIT;
		struct per_dag u = { ids.v[i], &out, 0, &runs };

		assert_int_equal(conn_get_dag(c, ids.v[i], &d, &e), 0);
		dd_strv_push_owned(&out, dag_line(&d));
		dd_dag_release(&d);
		assert_int_equal(conn_list_runs(c, ids.v[i], since_of(i) ? cut : 0, per_dag_run, &u, &e), 0);
		for (size_t r = 0; r < runs.n; r++) {
			struct ti_acc tis = { .n = 0 };

			dd_strv_push_owned(keys, dd_xasprintf("%s\t%s", ids.v[i], runs.v[r]));
			assert_int_equal(conn_list_task_instances(c, ids.v[i], runs.v[r], per_dag_ti, &tis, &e), 0);
			for (size_t k = 0; k < tis.n; k++) {
				struct dd_buf tr = DD_BUF_INIT;

				assert_int_equal(conn_list_tries(c, ids.v[i], &tis.v[k], try_text, &tr, &e), 0);
				dd_strv_push_owned(&out, ti_line(ids.v[i], &tis.v[k], dd_buf_str(&tr)));
				dd_buf_release(&tr);
				dd_task_instance_release(&tis.v[k]);
			}
		}
		dd_strv_release(&runs);
	}
	dd_strv_release(&ids);
	char *s = sorted(&out);

	dd_strv_release(&out);
	return s;
}

static int fleet_summary(const struct dd_dag *d, void *ud)
{
	assert_int_equal(d->n_tasks, 0);
	assert_non_null(d->fileloc);
	dd_strv_push(ud, d->dag_id);
	return 0;
}

static int fleet_dag(size_t i, const struct dd_dag *d, const struct dd_error *err, void *ud)
{
	(void)i;
	assert_null(err);
	dd_strv_push_owned(ud, dag_line(d));
	return 0;
}

struct fleet_runs {
	struct dd_strv *out;
	const struct dd_strv *ids;
	size_t k[64];
};

static int fleet_run(size_t i, const struct dd_run *r, void *ud)
{
	struct fleet_runs *u = ud;

	dd_strv_push_owned(u->out, run_line(u->ids->v[i], u->k[i]++, r));
	return 0;
}

struct fleet_tis {
	struct dd_strv *out;
	int runs, failed, multi_try;
	const char *bad_dag;       /* the DAG whose runs must fail, NULL none */
};

static int fleet_run_tis(const struct dd_run_key *run, const struct dd_ti_tries *v, size_t n,
                         const struct dd_error *err, void *ud)
{
	struct fleet_tis *u = ud;

	u->runs++;
	assert_ptr_equal(run->user, run);   /* handed back */
	if (err) {
		u->failed++;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct dd_buf tr = DD_BUF_INIT;

		assert_string_equal(v[i].ti.run_id, run->run_id);
		u->multi_try += v[i].ti.try_number > 1;
		for (size_t k = 0; k < v[i].n_tries; k++)
			try_text(&v[i].tries[k], &tr);
		dd_strv_push_owned(u->out, ti_line(run->dag_id, &v[i].ti, dd_buf_str(&tr)));
		dd_buf_release(&tr);
	}
	return 0;
}

/* The run keys of "dag\trun" lines (pointing into keys). */
static struct dd_run_key *run_keys(struct dd_strv *keys)
{
	struct dd_run_key *rk = dd_xcalloc(keys->n + 1, sizeof(*rk));

	for (size_t i = 0; i < keys->n; i++) {
		char *tab = strchr(keys->v[i], '\t');

		*tab = '\0';
		rk[i].dag_id = keys->v[i];
		rk[i].run_id = tab + 1;
		rk[i].user = &rk[i];
	}
	return rk;
}

static char *fleet_dump(struct dd_conn *c, int64_t cut, struct dd_strv *keys, struct fleet_tis *tu)
{
	struct dd_strv ids = DD_STRV_INIT, out = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;
	struct fleet_runs ru = { &out, &ids, { 0 } };
	int64_t since[64];
	struct dd_run_key *rk;

	assert_int_equal(conn_list_dag_summaries(c, fleet_summary, &ids, &e), 0);
	assert_true(ids.n <= 64);
	assert_int_equal(conn_get_dags(c, (const char *const *)ids.v, ids.n, fleet_dag, &out, &e), 0);
	for (size_t i = 0; i < ids.n; i++)
		since[i] = since_of(i) ? cut : 0;
	assert_int_equal(conn_list_runs_multi(c, (const char *const *)ids.v, since, ids.n, fleet_run, &ru, &e), 0);
	rk = run_keys(keys);
	tu->out = &out;
	assert_int_equal(conn_list_run_tis(c, rk, keys->n, fleet_run_tis, tu, &e), 0);
	assert_int_equal(tu->runs, (int)keys->n);
	free(rk);
	dd_strv_release(&ids);
	char *s = sorted(&out);

	dd_strv_release(&out);
	return s;
}

/* On a fleet of 4 DAGs x 30 hourly runs x 5 tasks (broken, flaky, cascading
 * and healthy ones, runs still going at its now), v1 and v2: the fleet
 * operations give what the per-DAG ones give, in the requests the data
 * needs rather than one per DAG, run and task instance. */
static void test_fleet_same_as_per_dag(void **state)
{
	const char *apis[] = { "v1", "v2" };
	/* the world's now is 2026-03-11T06:00Z: odd DAGs from 10 h before */
	int64_t cut = 1773208800000LL - 10 * 3600 * 1000LL;

	for (int a = 0; a < 2; a++) {
		struct fake f;
		const char *args[] = { "--api", apis[a], "--world", "fleet:4x30x5:3", NULL };
		struct dd_source s;
		struct dd_conn *c = NULL;
		struct dd_error e = DD_ERROR_INIT;
		struct dd_strv keys = DD_STRV_INIT;
		struct fleet_tis tu = { 0 };
		char *want, *got, pat[64];
		int before, tis_pages;

		assert_int_equal(fake_start(&f, "fake_airflow.py", args), 0);
		fake_source(&s, DD_SOURCE_AIRFLOW, f.url);
		assert_int_equal(conn_open(&s, 0, &c, &e), 0);
		want = per_dag_dump(c, cut, &keys);
		before = fake_count(&f, NULL);
		got = fleet_dump(c, cut, &keys, &tu);
		assert_string_equal(got, want);
		assert_true(tu.multi_try > 0);   /* the world's failures and flakes were retried */
		assert_non_null(strstr(want, "upstream_failed"));
		assert_non_null(strstr(want, " queued "));   /* the last slot of orders_hourly_000 opened at now */
		/* GET /dags once, 2 requests per DAG definition, the 120 runs since the
		 * earliest cut (0) in two dagRuns/list pages (1000 asked, 100 given: the
		 * server's limit, learnt), the task instances of every run in 100-item
		 * pages, one tries request per task instance with more than one try */
		snprintf(pat, sizeof(pat), "GET /api/%s/dags?", apis[a]);
		assert_int_equal(fake_count(&f, pat), 2);   /* one of them per_dag_dump's */
		assert_int_equal(fake_count(&f, "/dagRuns/list"), 2);
		tis_pages = fake_count(&f, "/taskInstances/list");
		assert_true(keys.n > 60);
		assert_int_equal(tis_pages, (5 * (int)keys.n + 99) / 100);
		assert_int_equal(fake_count(&f, "/tries"), 2 * tu.multi_try);
		assert_int_equal(fake_count(&f, NULL) - before, 1 + 4 * 2 + 2 + tis_pages + tu.multi_try);
		free(want);
		free(got);
		dd_strv_release(&keys);
		conn_close(c);
		fake_stop(&f);
	}
}

static int count_key_run(size_t i, const struct dd_run *r, void *ud)
{
	struct dd_strv *keys = ud;

	(void)i;
	dd_strv_push_owned(keys, dd_xasprintf("%s\t%s", i == 0 ? "orders_hourly_000" : i == 1 ? "payments_hourly_001" :
	                                      "users_hourly_002", r->run_id));
	return 0;
}

/* Starts the fake with args, opens a connection to it and lists the runs of
 * DAGs ids[0..n) as "dag\trun" keys. */
static struct dd_conn *open_fleet(struct fake *f, const char *const *args, struct dd_source *s,
                                  const char *const *ids, size_t n, struct dd_strv *keys)
{
	int64_t since[8] = { 0 };
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;

	assert_int_equal(fake_start(f, "fake_airflow.py", args), 0);
	fake_source(s, DD_SOURCE_AIRFLOW, f->url);
	assert_int_equal(conn_open(s, 0, &c, &e), 0);
	assert_int_equal(conn_list_runs_multi(c, ids, since, n, count_key_run, keys, &e), 0);
	return c;
}

/* A server whose maximum_page_limit is 7: the first answer shows it, later
 * listings ask for 7 a page; nothing is lost or repeated. */
static void test_fleet_learns_page_limit(void **state)
{
	struct fake f;
	const char *args[] = { "--api", "v1", "--world", "fleet:3x20x4:5", "--max-page-limit", "7", NULL };
	const char *ids[] = { "orders_hourly_000", "payments_hourly_001", "users_hourly_002" };
	struct dd_source s;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv keys = DD_STRV_INIT, out = DD_STRV_INIT;
	struct fleet_tis tu = { &out, 0, 0, 0, NULL };
	struct dd_conn *c = open_fleet(&f, args, &s, ids, 3, &keys);
	struct dd_run_key *rk;

	assert_int_equal(keys.n, 60);
	/* the first page asked for 1000 and got 7 of 60: then 8 pages of 7 */
	assert_int_equal(fake_count(&f, "/dagRuns/list"), 9);
	rk = run_keys(&keys);
	assert_int_equal(conn_list_run_tis(c, rk, keys.n, fleet_run_tis, &tu, &e), 0);
	assert_int_equal(tu.runs, 60);
	assert_int_equal(tu.failed, 0);
	assert_int_equal(out.n, 240);
	/* the limit is known: 240 task instances in pages of 7 */
	assert_int_equal(fake_count(&f, "/taskInstances/list"), (240 + 6) / 7);
	free(rk);
	dd_strv_release(&keys);
	dd_strv_release(&out);
	conn_close(c);
	fake_stop(&f);
}

struct rejects {
	struct dd_strv v;
};

static void on_reject(const struct dd_reject *r, void *ud)
{
	struct rejects *u = ud;

	dd_strv_push_owned(&u->v, dd_xasprintf("%s|%s|%s|%s|%s", r->endpoint, r->object, r->dag_id ? r->dag_id : "-",
	                                       r->run_id ? r->run_id : "-", r->problem));
}

/* A task instance that fails its checks is rejected naming its DAG and run;
 * the rest of its run is delivered. */
static void test_fleet_rejected_ti(void **state)
{
	char dir[256], world[300];
	struct fake f;
	const char *args[] = { "--api", "v1", "--world", world, NULL };
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv out = DD_STRV_INIT;
	struct fleet_tis tu = { &out, 0, 0, 0, NULL };
	struct rejects rj = { DD_STRV_INIT };
	struct dd_run_key rk[2] = { { "etl", "r1", &rk[0] }, { "etl", "r2", &rk[1] } };

	fake_tmpdir(dir, sizeof(dir));
	snprintf(world, sizeof(world), "%s/world.json", dir);
	fake_write(world, "{\"now\": \"2026-03-11T06:00:00+00:00\", \"dags\": [{\"dag_id\": \"etl\", \"tasks\": "
	           "[{\"task_id\": \"a\"}, {\"task_id\": \"b\"}]}], \"runs\": ["
	           "{\"dag_id\": \"etl\", \"run_id\": \"r1\", \"state\": \"success\", \"logical_date\": "
	           "\"2026-03-10T00:00:00Z\", \"task_instances\": [{\"task_id\": \"a\", \"state\": \"success\", "
	           "\"try_number\": 1}]},"
	           "{\"dag_id\": \"etl\", \"run_id\": \"r2\", \"state\": \"failed\", \"logical_date\": "
	           "\"2026-03-11T00:00:00Z\", \"task_instances\": [{\"task_id\": \"a\", \"state\": \"success\", "
	           "\"try_number\": 1}, {\"task_id\": \"b\", \"state\": \"failed\", \"try_number\": 1, "
	           "\"max_tries\": 5000}]}]}");
	assert_int_equal(fake_start(&f, "fake_airflow.py", args), 0);
	fake_source(&s, DD_SOURCE_AIRFLOW, f.url);
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	conn_on_reject(c, on_reject, &rj);
	assert_int_equal(conn_list_run_tis(c, rk, 2, fleet_run_tis, &tu, &e), 0);
	assert_int_equal(tu.runs, 2);
	assert_int_equal(out.n, 2);   /* a of r1, a of r2 */
	assert_int_equal(rj.v.n, 1);
	assert_non_null(strstr(rj.v.v[0], "POST /api/v1/dags/~/dagRuns/~/taskInstances/list|task instance b|etl|r2|"
	                                  "max_tries"));
	dd_strv_release(&rj.v);
	dd_strv_release(&out);
	conn_close(c);
	fake_stop(&f);
	fake_rmdir(dir);
}

/* A chunk whose request keeps failing (500 on every attempt) gives its runs
 * the error; the other chunk's runs are delivered. */
static void test_fleet_chunk_fails(void **state)
{
	char dir[256], faults[300];
	struct fake f;
	const char *args[] = { "--api", "v1", "--world", "fleet:1x150x2:1", "--faults", faults, NULL };
	const char *ids[] = { "orders_hourly_000" };
	struct dd_source s;
	struct dd_conn *c;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv keys = DD_STRV_INIT, out = DD_STRV_INIT;
	struct fleet_tis tu = { &out, 0, 0, 0, NULL };
	struct dd_run_key *rk;

	fake_tmpdir(dir, sizeof(dir));
	snprintf(faults, sizeof(faults), "%s/faults.json", dir);
	/* every attempt at the chunk of the oldest 100 runs (the first is 03-05T00:00) */
	fake_write(faults, "[{\"path\": \"/taskInstances/list$\", \"body\": \"2026-03-05T00:00:00\", "
	           "\"kind\": \"500\", \"times\": -1}]");
	http_set_retry_policy(1, 2, 5000);
	c = open_fleet(&f, args, &s, ids, 1, &keys);
	assert_int_equal(keys.n, 150);
	rk = run_keys(&keys);
	assert_int_equal(conn_list_run_tis(c, rk, keys.n, fleet_run_tis, &tu, &e), 0);
	assert_int_equal(tu.runs, 150);
	assert_int_equal(tu.failed, 100);   /* the first chunk: 100 runs */
	assert_int_equal(out.n, 2 * 50);
	assert_int_equal(fake_count(&f, "fault=500"), 8);
	http_set_retry_policy(0, 0, 0);
	free(rk);
	dd_strv_release(&keys);
	dd_strv_release(&out);
	conn_close(c);
	fake_stop(&f);
	fake_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest v1_tests[] = {
		cmocka_unit_test(test_v1_open_and_dags),
		cmocka_unit_test(test_v1_get_dag),
		cmocka_unit_test(test_v1_runs_tis_tries),
		cmocka_unit_test(test_v1_logs_text_and_json),
		cmocka_unit_test(test_v1_missing_log),
		cmocka_unit_test(test_v1_health_import_errors),
		cmocka_unit_test(test_v1_import_errors),
		cmocka_unit_test(test_v1_bad_password),
		cmocka_unit_test(test_v1_trace_redacted),
		cmocka_unit_test(test_v1_stats_and_ui_url),
	};
	const struct CMUnitTest other_tests[] = {
		cmocka_unit_test(test_v1_bearer),
		cmocka_unit_test(test_v2_token_exchange),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_paging_and_huge_log),
		cmocka_unit_test(test_fleet_same_as_per_dag),
		cmocka_unit_test(test_fleet_learns_page_limit),
		cmocka_unit_test(test_fleet_rejected_ti),
		cmocka_unit_test(test_fleet_chunk_fails),
	};
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(world_basic, sizeof(world_basic), "%s/tests/fakes/worlds/basic.json", fake_root());
	rc = cmocka_run_group_tests_name("airflow v1", v1_tests, setup_v1, teardown_v1);
	rc += cmocka_run_group_tests_name("airflow other", other_tests, NULL, NULL);
	dd_buf_release(&trace);
	return rc;
}
