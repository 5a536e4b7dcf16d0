/* test_connector_prefect.c - the Prefect connector against the fake
 * server of tests/fakes/ (self-hosted with basic auth, and Cloud), through
 * the public conn_* interface. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stddef.h>

#include <cmocka.h>

#include "dagdoc/connector.h"
#include "dagdoc/http.h"
#include "fakeproc.h"

struct dd_conn_ops;
extern const struct dd_conn_ops dd_prefect_ops;
const void *force_link_prefect = &dd_prefect_ops;

#define ACCOUNT "11111111-1111-4111-8111-111111111111"
#define WORKSPACE "22222222-2222-4222-8222-222222222222"

static char world_basic[512];
static struct fake srv;
static char api_url[160];

static int add_id(const char *id, void *ud)
{
	dd_strv_push(ud, id);
	return 0;
}

static int add_run(const struct dd_run *r, void *ud)
{
	dd_strv_push_owned(ud, dd_xasprintf("%s %s %s", r->run_id, dd_state_name(r->state),
	                                    r->note ? r->note : "-"));
	return 0;
}

static int add_ti(const struct dd_task_instance *t, void *ud)
{
	/* the operator is the task's name: the run's name less its "-0" */
	assert_int_equal(strncmp(t->task_id, t->operator_name, strlen(t->operator_name)), 0);
	assert_string_equal(t->task_id + strlen(t->operator_name), "-0");
	dd_strv_push_owned(ud, dd_xasprintf("%s %s try=%d max=%d %s", t->task_id, dd_state_name(t->state),
	                                    t->try_number, t->max_tries, t->external_id));
	return 0;
}

static int add_try(const struct dd_try *t, void *ud)
{
	char s[40], e[40];
	dd_format_time(t->start_ms, 0, s, sizeof(s));
	dd_format_time(t->end_ms, 0, e, sizeof(e));
	dd_strv_push_owned(ud, dd_xasprintf("%d %s %s %s %s", t->try_number, dd_state_name(t->state),
	                                    t->start_ms ? s : "-", t->end_ms ? e : "-",
	                                    t->note ? t->note : "-"));
	return 0;
}

struct logs {
	char *text[8];
	int truncated[8];
	struct dd_error err[8];
	int n;
};

static int add_log(const struct dd_log_request *r, const char *text, size_t len, int truncated,
                   const struct dd_error *err, void *ud)
{
	struct logs *l = ud;
	int i = (int)(intptr_t)r->user;

	assert_int_equal(strlen(text), len);
	l->text[i] = dd_xstrndup(text, len);
	l->truncated[i] = truncated;
	if (err)
		l->err[i] = *err;
	l->n++;
	return 0;
}

static void logs_release(struct logs *l)
{
	for (int i = 0; i < 8; i++)
		free(l->text[i]);
	memset(l, 0, sizeof(*l));
}

static char *joined(const struct dd_strv *v)
{
	struct dd_buf b = DD_BUF_INIT;
	for (size_t i = 0; i < v->n; i++)
		dd_buf_addf(&b, "%s\n", v->v[i]);
	return dd_buf_detach(&b);
}

static struct dd_buf trace;

static void hook(int level, const char *line, void *ud)
{
	(void)ud;
	dd_buf_addf(&trace, "%d %s\n", level, line);
}

static int setup_server(void **state)
{
	const char *args[] = { "--mode", "server", "--world", world_basic, "--auth-string",
	                       "admin:pf-Secret-9", NULL };
	if (fake_start(&srv, "fake_prefect.py", args) < 0)
		return -1;
	snprintf(api_url, sizeof(api_url), "%s/api", srv.url);
	return 0;
}

static int teardown_server(void **state)
{
	fake_stop(&srv);
	return 0;
}

static struct dd_conn *open_srv(struct dd_source *s, const char *auth)
{
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;

	fake_source(s, DD_SOURCE_PREFECT, api_url);
	s->auth_string = (char *)auth;
	assert_int_equal(conn_open(s, 0, &c, &e), 0);
	return c;
}

/* The id of the n-th run (0-based, oldest first) of a flow. */
static char *nth_run(struct dd_conn *c, const char *flow, size_t n)
{
	struct dd_strv v = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;
	char *id;

	assert_int_equal(conn_list_runs(c, flow, 0, add_run, &v, &e), 0);
	assert_true(v.n > n);
	id = dd_xstrndup(v.v[n], strcspn(v.v[n], " "));
	dd_strv_release(&v);
	return id;
}

/* The link as the store will make it: the UI the open connection learnt. */
static char *ui_link(const struct dd_conn *c, const char *dag, const char *run, const char *task)
{
	struct dd_ui ui;

	conn_ui(c, &ui);
	return conn_ui_link(ui.form, ui.base, dag, run, task);
}

static void test_open_and_flows(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_srv(&s, "admin:pf-Secret-9");
	struct dd_strv v = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_dag d;
	char *j;

	assert_string_equal(conn_describe(c), "prefect 3.8.3");
	assert_int_equal(conn_list_dags(c, add_id, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j, "etl_daily\nsync_crm\ntrain_churn\n");
	free(j);
	dd_strv_release(&v);

	assert_int_equal(conn_get_dag(c, "etl_daily", &d, &e), 0);
	assert_string_equal(d.dag_id, "etl_daily");
	assert_string_equal(d.fileloc, "flows/etl/etl_daily.py");
	assert_non_null(d.external_id);
	assert_int_equal(d.n_tasks, 5);
	for (size_t i = 0; i < d.n_tasks; i++) {
		struct dd_buf b = DD_BUF_INIT;
		for (size_t k = 0; k < d.tasks[i].n_downstream; k++)
			dd_buf_addf(&b, " %s", d.tasks[i].downstream[k]);
		dd_strv_push_owned(&v, dd_xasprintf("%s (%s) ->%s", d.tasks[i].task_id, d.tasks[i].operator_name,
		                                    dd_buf_str(&b)));
		dd_buf_release(&b);
	}
	/* each named as a task run, with the task it is a run of (as task instances are) */
	j = joined(&v);
	assert_string_equal(j, "wait_for_raw_events-0 (wait_for_raw_events) -> extract-0\n"
	                       "extract-0 (extract) -> transform-0\ntransform-0 (transform) -> load-0\n"
	                       "notify-0 (notify) ->\nload-0 (load) -> notify-0\n");
	free(j);
	dd_strv_release(&v);
	dd_dag_release(&d);

	assert_int_equal(conn_get_dag(c, "etl_dayly", &d, &e), DD_ENOTFOUND);
	assert_string_equal(e.msg, "no flow named etl_dayly on test; did you mean etl_daily?");
	assert_int_equal(conn_list_runs(c, "sync_cmr", 0, add_run, NULL, &e), DD_ENOTFOUND);
	assert_string_equal(e.msg, "no flow named sync_cmr on test; did you mean sync_crm?");

	/* a deployment plays the DAG when named "flow/deployment" */
	assert_int_equal(conn_get_dag(c, "etl_daily/default", &d, &e), 0);
	assert_string_equal(d.dag_id, "etl_daily/default");
	assert_string_equal(d.fileloc, "flows/etl/etl_daily.py");
	assert_int_equal(d.n_tasks, 5);
	dd_dag_release(&d);
	assert_int_equal(conn_list_runs(c, "etl_daily/default", 0, add_run, &v, &e), 0);
	assert_int_equal(v.n, 10);
	dd_strv_release(&v);
	assert_int_equal(conn_list_runs(c, "etl_daily/nightly", 0, add_run, &v, &e), DD_ENOTFOUND);
	assert_string_equal(e.msg, "no deployment named etl_daily/nightly on test");
	conn_close(c);
}

static void test_runs_late_crashed(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_srv(&s, "admin:pf-Secret-9");
	struct dd_strv v = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_buf states = DD_BUF_INIT;
	int64_t since;

	assert_int_equal(conn_list_runs(c, "sync_crm", 0, add_run, &v, &e), 0);
	assert_int_equal(v.n, 10);
	for (size_t i = 0; i < v.n; i++) {
		const char *sp = strchr(v.v[i], ' ') + 1;
		dd_buf_add(&states, sp, strcspn(sp, " "));
		dd_buf_addch(&states, ',');
	}
	assert_string_equal(states.data, "success,success,success,success,success,failed,failed,"
	                    "crashed,success,late,");
	/* the Crashed run keeps its state message */
	assert_non_null(strstr(v.v[7], " crashed "));
	assert_string_not_equal(strstr(v.v[7], " crashed ") + 9, "-");
	dd_strv_release(&v);
	dd_buf_release(&states);

	/* since: by expected start time */
	assert_int_equal(dd_parse_time("2026-03-08T00:00:00Z", &since), 0);
	assert_int_equal(conn_list_runs(c, "sync_crm", since, add_run, &v, &e), 0);
	assert_int_equal(v.n, 4);
	dd_strv_release(&v);
	conn_close(c);
}

static void test_tis_tries_logs(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_srv(&s, "admin:pf-Secret-9");
	struct dd_strv v = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_task_instance ti = { 0 };
	struct dd_log_request r[3];
	struct logs l = { 0 };
	char *run = nth_run(c, "etl_daily", 4), *j, *tr_id = NULL;

	assert_int_equal(conn_list_task_instances(c, "etl_daily", run, add_ti, &v, &e), 0);
	assert_int_equal(v.n, 5);
	for (size_t i = 0; i < v.n; i++) {
		if (dd_starts_with(v.v[i], "transform-0 failed try=2 max=2 "))
			tr_id = dd_xstrdup(strrchr(v.v[i], ' ') + 1);
	}
	assert_non_null(tr_id);
	j = joined(&v);
	assert_non_null(strstr(j, "extract-0 success try=1 max=3 "));
	assert_non_null(strstr(j, "load-0 upstream_failed try=0 max=2 "));
	free(j);
	dd_strv_release(&v);

	ti.run_id = run;
	ti.task_id = "transform-0";
	ti.map_index = -1;
	ti.try_number = 2;
	ti.state = DD_STATE_FAILED;
	ti.external_id = tr_id;
	assert_int_equal(conn_list_tries(c, "etl_daily", &ti, add_try, &v, &e), 0);
	j = joined(&v);
	assert_string_equal(j,
	    "1 up_for_retry 2026-03-06T02:02:13Z 2026-03-06T02:02:25Z Task run encountered an exception "
	    "AttributeError: 'DataFrame' object has no attribute 'append'\n"
	    "2 failed 2026-03-06T02:07:27Z 2026-03-06T02:07:38Z Task run encountered an exception "
	    "AttributeError: 'DataFrame' object has no attribute 'append'\n");
	free(j);
	dd_strv_release(&v);

	/* each try's log holds its own lines only */
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) {
		r[i].dag_id = "etl_daily";
		r[i].run_id = run;
		r[i].task_id = "transform-0";
		r[i].map_index = -1;
		r[i].try_number = i + 1;
		r[i].external_id = tr_id;
		r[i].user = (void *)(intptr_t)i;
	}
	r[2].external_id = NULL;     /* flow-level lines */
	r[2].task_id = NULL;
	assert_int_equal(conn_fetch_logs(c, r, 3, add_log, &l, &e), 0);
	assert_int_equal(l.n, 3);
	assert_true(dd_starts_with(l.text[1], "2026-03-06 02:07:27.000 | INFO | prefect.task_runs - "
	                           "::group::Pre task execution logs\n"));
	assert_non_null(strstr(l.text[1], "Starting attempt 2 of 2"));
	assert_null(strstr(l.text[1], "Starting attempt 1 of 2"));
	assert_non_null(strstr(l.text[0], "Starting attempt 1 of 2"));
	assert_null(strstr(l.text[0], "Starting attempt 2 of 2"));
	assert_non_null(strstr(l.text[1], " | ERROR | prefect.task_runs - Task failed with exception\n"
	                       "Traceback (most recent call last):\n"));
	assert_int_equal(l.err[2].code, 0);
	assert_null(strstr(l.text[2], "Starting attempt"));
	logs_release(&l);

	/* the window came from list_tries; a fresh connection finds it itself */
	conn_close(c);
	c = open_srv(&s, "admin:pf-Secret-9");
	assert_int_equal(conn_fetch_logs(c, r, 2, add_log, &l, &e), 0);
	assert_non_null(strstr(l.text[1], "Starting attempt 2 of 2"));
	assert_null(strstr(l.text[1], "Starting attempt 1 of 2"));
	logs_release(&l);

	free(run);
	free(tr_id);
	conn_close(c);
}

static void test_health_and_ui(void **state)
{
	struct dd_source s;
	struct dd_conn *c = open_srv(&s, "admin:pf-Secret-9");
	struct dd_error e = DD_ERROR_INIT;
	struct dd_health h;
	char *u, *w;

	assert_int_equal(conn_health(c, &h, &e), 0);
	assert_string_equal(h.scheduler_status, "healthy");
	assert_string_equal(h.metadatabase_status, "healthy");
	assert_string_equal(h.detail, "work pools: crm-pool NOT_READY, k8s-pool READY");
	dd_health_release(&h);
	u = ui_link(c, "etl_daily", "8cd4fb20-d24e-5190-8b3d-9237cd3626ef", NULL);
	w = dd_xasprintf("%s/runs/flow-run/8cd4fb20-d24e-5190-8b3d-9237cd3626ef", srv.url);
	assert_string_equal(u, w);
	free(u);
	free(w);
	conn_close(c);
}

static void test_bad_auth(void **state)
{
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	char *w;

	fake_source(&s, DD_SOURCE_PREFECT, api_url);
	s.auth_string = "admin:WRONG-pw-77";
	dd_buf_reset(&trace);
	http_set_log_hook(hook, NULL);
	assert_int_equal(conn_open(&s, 1, &c, &e), DD_EAUTH);
	http_set_log_hook(NULL, NULL);
	w = dd_xasprintf("Prefect at %s rejected the credentials (401: Unauthorized); check "
	                 "PREFECT_API_AUTH_STRING (user:password, as the server's "
	                 "PREFECT_SERVER_API_AUTH_STRING)", srv.url);
	assert_string_equal(e.msg, w);
	free(w);
	assert_null(strstr(trace.data, "WRONG-pw-77"));
	assert_non_null(strstr(trace.data, "GET "));

	s.auth_string = NULL;
	assert_int_equal(conn_open(&s, 0, &c, &e), DD_EAUTH);
	assert_non_null(strstr(e.msg, "set PREFECT_API_AUTH_STRING (user:password) for a server with "
	                       "basic auth, or PREFECT_API_KEY for Prefect Cloud"));
}

/* ---- Cloud, faults, paging ---------------------------------------------- */

static void test_cloud(void **state)
{
	struct fake f;
	char dir[256], faults[300], url[256], *w, *u;
	const char *args[] = { "--mode", "cloud", "--world", world_basic, "--api-key", "pnu_TESTKEY123",
	                       "--faults", faults, NULL };
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv v = DD_STRV_INIT;
	struct dd_conn_stats st;
	struct dd_log_request r = { 0 };
	struct logs l = { 0 };
	char *run;

	fake_tmpdir(dir, sizeof(dir));
	snprintf(faults, sizeof(faults), "%s/faults.json", dir);
	fake_write(faults,
	           "[{\"path\": \"/flow_runs/filter$\", \"kind\": \"429\", \"times\": 1, \"retry_after\": \"0\"},\n"
	           " {\"path\": \"/task_runs/filter$\", \"kind\": \"503\", \"times\": 2},\n"
	           " {\"path\": \"/logs/filter$\", \"kind\": \"malformed\", \"times\": 1}]\n");
	assert_int_equal(fake_start(&f, "fake_prefect.py", args), 0);
	snprintf(url, sizeof(url), "%s/api/accounts/%s/workspaces/%s", f.url, ACCOUNT, WORKSPACE);
	fake_source(&s, DD_SOURCE_PREFECT, url);

	/* no key: said before any request */
	assert_int_equal(conn_open(&s, 0, &c, &e), DD_EAUTH);
	assert_string_equal(e.msg, "Prefect Cloud needs an API key; set PREFECT_API_KEY");
	s.api_key = "pnu_WRONGKEY";
	assert_int_equal(conn_open(&s, 0, &c, &e), DD_EAUTH);
	w = dd_xasprintf("Prefect Cloud at %s rejected the credentials (401: Invalid authentication "
	                 "credentials); check PREFECT_API_KEY (a Prefect Cloud key, pnu_... or pnb_..., "
	                 "with access to this workspace)", f.url);
	assert_string_equal(e.msg, w);
	free(w);
	assert_null(strstr(e.msg, "pnu_WRONGKEY"));

	s.api_key = "pnu_TESTKEY123";
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	assert_string_equal(conn_describe(c), "prefect cloud (workspace " WORKSPACE ")");
	run = nth_run(c, "etl_daily", 4);
	assert_int_equal(conn_list_task_instances(c, "etl_daily", run, add_ti, &v, &e), 0);
	assert_int_equal(v.n, 5);
	dd_strv_release(&v);
	conn_stats(c, &st);
	assert_int_equal(st.retries, 3);
	assert_int_equal(fake_count(&f, "/flow_runs/filter 429 fault=429"), 1);
	assert_int_equal(fake_count(&f, "/task_runs/filter 503 fault=503"), 2);

	/* a malformed page: the log fails with one sentence, the rest goes on */
	r.dag_id = "etl_daily";
	r.run_id = run;
	r.task_id = NULL;
	r.map_index = -1;
	r.try_number = 1;
	assert_int_equal(conn_fetch_logs(c, &r, 1, add_log, &l, &e), 0);
	assert_int_equal(l.err[0].code, DD_EPROTO);
	w = dd_xasprintf("Prefect Cloud at %s answered POST /api/accounts/%s/workspaces/%s/logs/filter "
	                 "with a body that is not JSON", f.url, ACCOUNT, WORKSPACE);
	assert_true(dd_starts_with(l.err[0].msg, w));
	free(w);
	logs_release(&l);

	u = ui_link(c, "etl_daily", run, NULL);
	w = dd_xasprintf("https://app.prefect.cloud/account/%s/workspace/%s/runs/flow-run/%s", ACCOUNT,
	                 WORKSPACE, run);
	assert_string_equal(u, w);
	free(u);
	free(w);
	free(run);
	conn_close(c);
	fake_stop(&f);
	fake_rmdir(dir);
}

static void test_log_paging_and_cap(void **state)
{
	struct fake f;
	char dir[256], world[300], cmd[1024];
	const char *args[] = { "--mode", "server", "--world", world, NULL };
	struct dd_source s;
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv v = DD_STRV_INIT;
	struct dd_log_request r = { 0 };
	struct logs l = { 0 };
	char *run, *tr_id;
	int pages;

	fake_tmpdir(dir, sizeof(dir));
	snprintf(world, sizeof(world), "%s/world.json", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/bench/gen_world.py --runs 250 --tries 2 "
	         "--log-mb 1 %s", fake_root(), world);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(fake_start(&f, "fake_prefect.py", args), 0);
	snprintf(cmd, sizeof(cmd), "%s/api", f.url);
	fake_source(&s, DD_SOURCE_PREFECT, cmd);
	s.max_log_bytes = 256 * 1024;
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	/* 250 runs: two pages of 200 */
	assert_int_equal(conn_list_runs(c, "bench_dag", 0, add_run, &v, &e), 0);
	assert_int_equal(v.n, 250);
	assert_int_equal(fake_count(&f, "POST /api/flow_runs/filter 200"), 2);
	dd_strv_release(&v);
	run = nth_run(c, "bench_dag", 0);
	assert_int_equal(conn_list_task_instances(c, "bench_dag", run, add_ti, &v, &e), 0);
	assert_true(dd_starts_with(v.v[0], "extract-0 failed try=2 max=2 "));
	tr_id = dd_xstrdup(strrchr(v.v[0], ' ') + 1);
	dd_strv_release(&v);

	r.dag_id = "bench_dag";
	r.run_id = run;
	r.task_id = "extract-0";
	r.map_index = -1;
	r.try_number = 2;
	r.external_id = tr_id;
	assert_int_equal(conn_fetch_logs(c, &r, 1, add_log, &l, &e), 0);
	assert_int_equal(l.err[0].code, 0);
	pages = fake_count(&f, "POST /api/logs/filter 200");
	assert_true(pages > 5);
	/* paged to the end: the failure is there, and the cap held */
	assert_true(l.truncated[0]);
	assert_true(strlen(l.text[0]) <= 256 * 1024 + 64);
	assert_non_null(strstr(l.text[0], " bytes omitted; the log was longer than "));
	assert_non_null(strstr(strstr(l.text[0], " bytes omitted; the log was longer than "), "Traceback (most recent call last):"));
	logs_release(&l);
	free(run);
	free(tr_id);
	conn_close(c);
	fake_stop(&f);
	fake_rmdir(dir);
}

/* ---- fleet operations: the same data as the per-DAG ones, in fewer requests ---- */

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of v sorted and joined (v released). */
static char *sorted_dump(struct dd_strv *v)
{
	char *j;

	qsort(v->v, v->n, sizeof(*v->v), by_str);
	j = joined(v);
	dd_strv_release(v);
	return j;
}

static char *dag_line(const struct dd_dag *d)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_buf_addf(&b, "%s file=%s ext=%s tasks:", d->dag_id, d->fileloc ? d->fileloc : "-",
	            d->external_id ? d->external_id : "-");
	for (size_t i = 0; i < d->n_tasks; i++) {
		dd_buf_addf(&b, " %s(%s)->", d->tasks[i].task_id, d->tasks[i].operator_name);
		for (size_t k = 0; k < d->tasks[i].n_downstream; k++)
			dd_buf_addf(&b, "%s,", d->tasks[i].downstream[k]);
	}
	return dd_buf_detach(&b);
}

static int add_dag_result(size_t i, const struct dd_dag *d, const struct dd_error *err, void *ud)
{
	dd_strv_push_owned(ud, d ? dag_line(d) : dd_xasprintf("#%zu %d %s", i, err->code, err->msg));
	return 0;
}

static int add_summary(const struct dd_dag *d, void *ud)
{
	dd_strv_push_owned(ud, dd_xasprintf("%s file=%s ext=%s", d->dag_id, d->fileloc ? d->fileloc : "-",
	                                    d->external_id ? d->external_id : "-"));
	return 0;
}

struct runs_of {
	const char *const *dags;
	struct dd_strv lines;
	int64_t last_ms[8];     /* per DAG: oldest first */
};

static int add_dag_run(size_t i, const struct dd_run *r, void *ud)
{
	struct runs_of *u = ud;

	assert_true(r->logical_ms >= u->last_ms[i]);
	u->last_ms[i] = r->logical_ms;
	dd_strv_push_owned(&u->lines, dd_xasprintf("%s %s %s %s %" PRId64, u->dags[i], r->run_id,
	                                           dd_state_name(r->state), r->note ? r->note : "-",
	                                           r->logical_ms));
	return 0;
}

struct per_dag_run {
	const char *dag;
	struct dd_strv *lines;
};

static int add_run_of(const struct dd_run *r, void *ud)
{
	struct per_dag_run *u = ud;

	dd_strv_push_owned(u->lines, dd_xasprintf("%s %s %s %s %" PRId64, u->dag, r->run_id, dd_state_name(r->state),
	                                          r->note ? r->note : "-", r->logical_ms));
	return 0;
}

/* One task instance and its tries, as a line. */
static char *ti_line(const char *dag, const struct dd_task_instance *t, const struct dd_try *v, size_t n)
{
	struct dd_buf b = DD_BUF_INIT;

	dd_buf_addf(&b, "%s %s %s %s try=%d max=%d %s:", dag, t->run_id, t->task_id, dd_state_name(t->state),
	            t->try_number, t->max_tries, t->external_id);
	for (size_t i = 0; i < n; i++)
		dd_buf_addf(&b, " [%d %s %" PRId64 "-%" PRId64 " %s]", v[i].try_number, dd_state_name(v[i].state),
		            v[i].start_ms, v[i].end_ms, v[i].note ? v[i].note : "-");
	return dd_buf_detach(&b);
}

struct tis_seen {
	struct dd_strv lines;
	size_t runs, failed;
	struct dd_error err;
};

static int add_run_tis(const struct dd_run_key *k, const struct dd_ti_tries *v, size_t n, const struct dd_error *err,
                       void *ud)
{
	struct tis_seen *u = ud;

	u->runs++;
	if (err) {
		u->failed++;
		u->err = *err;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].ti.run_id, k->run_id);
		dd_strv_push_owned(&u->lines, ti_line(k->dag_id, &v[i].ti, v[i].tries, v[i].n_tries));
	}
	return 0;
}

struct ti_list {
	struct dd_task_instance *v;
	size_t n;
};

static int keep_ti(const struct dd_task_instance *t, void *ud)
{
	struct ti_list *l = ud;

	l->v = dd_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n] = *t;
	l->v[l->n].run_id = dd_xstrdup(t->run_id);
	l->v[l->n].task_id = dd_xstrdup(t->task_id);
	l->v[l->n].operator_name = dd_xstrdup(t->operator_name);
	l->v[l->n].hostname = dd_xstrdup(t->hostname);
	l->v[l->n].external_id = dd_xstrdup(t->external_id);
	l->v[l->n].note = dd_xstrdup(t->note);
	l->n++;
	return 0;
}

struct try_list {
	struct dd_try v[64];
	size_t n;
};

static int keep_try(const struct dd_try *t, void *ud)
{
	struct try_list *l = ud;

	assert_true(l->n < 64);
	l->v[l->n] = *t;
	l->v[l->n].note = dd_xstrdup(t->note);
	l->v[l->n].run_id = NULL;
	l->v[l->n].task_id = NULL;
	l->v[l->n].hostname = NULL;
	l->n++;
	return 0;
}

/* The per-DAG dump of the task instances and tries of runs[0..n). */
static char *per_dag_tis(struct dd_conn *c, const struct dd_run_key *runs, size_t n)
{
	struct dd_strv lines = DD_STRV_INIT;
	struct dd_error e = DD_ERROR_INIT;

	for (size_t i = 0; i < n; i++) {
		struct ti_list l = { NULL, 0 };

		assert_int_equal(conn_list_task_instances(c, runs[i].dag_id, runs[i].run_id, keep_ti, &l, &e), 0);
		for (size_t k = 0; k < l.n; k++) {
			struct try_list t = { .n = 0 };

			assert_int_equal(conn_list_tries(c, runs[i].dag_id, &l.v[k], keep_try, &t, &e), 0);
			dd_strv_push_owned(&lines, ti_line(runs[i].dag_id, &l.v[k], t.v, t.n));
			for (size_t x = 0; x < t.n; x++)
				free(t.v[x].note);
			dd_task_instance_release(&l.v[k]);
		}
		free(l.v);
	}
	return sorted_dump(&lines);
}

/* Every run of dags[0..n) as keys (ids owned by *ids). */
static struct dd_run_key *all_run_keys(struct dd_conn *c, const char *const *dags, size_t n, struct dd_strv *ids,
                                       size_t *n_keys)
{
	struct dd_error e = DD_ERROR_INIT;
	struct dd_run_key *keys;
	struct dd_strv owner = DD_STRV_INIT;

	for (size_t i = 0; i < n; i++) {
		struct dd_strv v = DD_STRV_INIT;

		assert_int_equal(conn_list_runs(c, dags[i], 0, add_run, &v, &e), 0);
		for (size_t k = 0; k < v.n; k++) {
			dd_strv_push_owned(ids, dd_xstrndup(v.v[k], strcspn(v.v[k], " ")));
			dd_strv_push(&owner, dags[i]);
		}
		dd_strv_release(&v);
	}
	keys = dd_xcalloc(ids->n + 1, sizeof(*keys));
	for (size_t i = 0; i < ids->n; i++) {
		keys[i].dag_id = dags[0];
		for (size_t d = 0; d < n; d++)
			if (!strcmp(owner.v[i], dags[d]))
				keys[i].dag_id = dags[d];
		keys[i].run_id = ids->v[i];
	}
	dd_strv_release(&owner);
	*n_keys = ids->n;
	return keys;
}

/* Each fleet operation gives what the per-DAG ones give, on the fake at url. */
static void check_fleet_same(const char *url, const char *api_key, const char *auth, const struct fake *f)
{
	static const char *const dags[] = { "etl_daily", "sync_crm", "train_churn", "etl_daily/default" };
	struct dd_source s;
	struct dd_conn *c = NULL, *fleet = NULL;
	struct dd_error e = DD_ERROR_INIT;
	struct dd_strv a = DD_STRV_INIT, b = DD_STRV_INIT, ids = DD_STRV_INIT;
	struct runs_of ro = { dags, DD_STRV_INIT, { 0 } };
	struct tis_seen seen = { DD_STRV_INIT, 0, 0, DD_ERROR_INIT };
	int64_t since[4] = { 0, 0, 0, 0 };
	struct dd_run_key *keys;
	size_t n_keys;
	char *x, *y;
	int before;

	fake_source(&s, DD_SOURCE_PREFECT, url);
	s.api_key = (char *)api_key;
	s.auth_string = (char *)auth;
	assert_int_equal(conn_open(&s, 0, &c, &e), 0);
	assert_int_equal(conn_open(&s, 0, &fleet, &e), 0);

	/* summaries: the flows list_dags names, with get_dag's file and id */
	assert_int_equal(conn_list_dag_summaries(fleet, add_summary, &a, &e), 0);
	for (size_t i = 0; i < 3; i++) {
		struct dd_dag d;

		assert_int_equal(conn_get_dag(c, dags[i], &d, &e), 0);
		dd_strv_push_owned(&b, dd_xasprintf("%s file=%s ext=%s", d.dag_id, d.fileloc, d.external_id));
		add_dag_result(i, &d, NULL, &ro.lines);
		dd_dag_release(&d);
	}
	x = sorted_dump(&a);
	y = sorted_dump(&b);
	assert_string_equal(x, y);
	free(x);
	free(y);

	/* definitions, at once; a missing one gets its own sentence */
	{
		const char *want[] = { "etl_daily", "sync_crm", "train_churn", "etl_daily/default", "etl_dayly" };
		struct dd_dag d;

		assert_int_equal(conn_get_dag(c, "etl_daily/default", &d, &e), 0);
		add_dag_result(3, &d, NULL, &ro.lines);
		dd_dag_release(&d);
		dd_strv_push_owned(&ro.lines, dd_xasprintf("#4 %d no flow named etl_dayly on test; did you mean "
		                                           "etl_daily?", DD_ENOTFOUND));
		assert_int_equal(conn_get_dags(fleet, want, 5, add_dag_result, &a, &e), 0);
		x = sorted_dump(&a);
		y = sorted_dump(&ro.lines);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}

	/* runs, each DAG from its own since, oldest first */
	assert_int_equal(dd_parse_time("2026-03-08T00:00:00Z", &since[1]), 0);
	for (size_t i = 0; i < 4; i++) {
		struct per_dag_run u = { dags[i], &b };

		assert_int_equal(conn_list_runs(c, dags[i], since[i], add_run_of, &u, &e), 0);
	}
	before = fake_count(f, "/flow_runs/");
	assert_int_equal(conn_list_runs_multi(fleet, dags, since, 4, add_dag_run, &ro, &e), 0);
	/* flows and deployments: one page each, the limit learnt on the first (422, then 200) */
	assert_int_equal(fake_count(f, "/flow_runs/") - before, 3);
	assert_int_equal(fake_count(f, "/flow_runs/filter 422"), 1);
	x = sorted_dump(&ro.lines);
	y = sorted_dump(&b);
	assert_string_equal(x, y);
	free(x);
	free(y);

	/* task runs and tries of every run at once */
	keys = all_run_keys(c, dags, 3, &ids, &n_keys);
	assert_int_equal(n_keys, 31);
	y = per_dag_tis(c, keys, n_keys);
	before = fake_count(f, "/task_runs/");
	assert_int_equal(conn_list_run_tis(fleet, keys, n_keys, add_run_tis, &seen, &e), 0);
	assert_int_equal(fake_count(f, "/task_runs/") - before, 1);   /* one page */
	assert_int_equal(seen.runs, n_keys);
	assert_int_equal(seen.failed, 0);
	x = sorted_dump(&seen.lines);
	assert_string_equal(x, y);
	free(x);
	free(y);
	free(keys);
	dd_strv_release(&ids);
	conn_close(c);
	conn_close(fleet);
}

static void test_fleet_server(void **state)
{
	check_fleet_same(api_url, NULL, "admin:pf-Secret-9", &srv);
}

static void test_fleet_cloud(void **state)
{
	struct fake f;
	char url[256];
	const char *args[] = { "--mode", "cloud", "--world", world_basic, "--api-key", "pnu_TESTKEY123", NULL };

	assert_int_equal(fake_start(&f, "fake_prefect.py", args), 0);
	snprintf(url, sizeof(url), "%s/api/accounts/%s/workspaces/%s", f.url, ACCOUNT, WORKSPACE);
	check_fleet_same(url, "pnu_TESTKEY123", NULL, &f);
	fake_stop(&f);
}

/* A world of one DAG with `runs` runs (tests/bench/gen_world.py), served by
 * a fake with the given page limit. */
static void start_bench(struct fake *f, char *dir, size_t n, int runs, const char *flags, const char *limit)
{
	char world[300], cmd[1024];
	const char *args[] = { "--mode", "server", "--world", world, "--default-limit", limit, NULL };

	fake_tmpdir(dir, n);
	snprintf(world, sizeof(world), "%s/world.json", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/bench/gen_world.py --runs %d %s %s", fake_root(), runs,
	         flags, world);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(fake_start(f, "fake_prefect.py", args), 0);
}

static struct dd_conn *open_bench(const struct fake *f, struct dd_source *s, char *url, size_t n)
{
	struct dd_conn *c = NULL;
	struct dd_error e = DD_ERROR_INIT;

	snprintf(url, n, "%s/api", f->url);
	fake_source(s, DD_SOURCE_PREFECT, url);
	assert_int_equal(conn_open(s, 0, &c, &e), 0);
	return c;
}

static void bench_stop(struct fake *f, const char *dir, struct dd_conn *c, struct dd_run_key *keys,
                       struct dd_strv *ids, struct tis_seen *seen)
{
	dd_strv_release(&seen->lines);
	free(keys);
	dd_strv_release(ids);
	conn_close(c);
	fake_stop(f);
	fake_rmdir(dir);
}

/* Requests follow the pages, not the runs; the limit is the server's own. */
static void test_fleet_requests_and_limit(void **state)
{
	static const char *const dag[] = { "bench_dag" };
	struct fake f;
	char dir[256], url[256];
	struct dd_source s;
	struct dd_conn *c;
	struct dd_error e = DD_ERROR_INIT;
	struct runs_of ro = { dag, DD_STRV_INIT, { 0 } };
	struct tis_seen seen = { DD_STRV_INIT, 0, 0, DD_ERROR_INIT };
	struct dd_strv ids = DD_STRV_INIT;
	struct dd_run_key *keys;
	int64_t since = 0;
	size_t n_keys;

	/* 600 runs, 1,200 task runs, one try each: pages of 1,000 */
	start_bench(&f, dir, sizeof(dir), 600, "--success", "1000");
	c = open_bench(&f, &s, url, sizeof(url));
	assert_int_equal(conn_list_runs_multi(c, dag, &since, 1, add_dag_run, &ro, &e), 0);
	assert_int_equal(ro.lines.n, 600);
	assert_int_equal(fake_count(&f, "POST /api/flow_runs/filter 200"), 1);
	assert_int_equal(fake_count(&f, "/flow_runs/count"), 0);   /* the first page said it all */
	keys = all_run_keys(c, dag, 1, &ids, &n_keys);
	assert_int_equal(conn_list_run_tis(c, keys, n_keys, add_run_tis, &seen, &e), 0);
	assert_int_equal(seen.runs, 600);
	assert_int_equal(seen.lines.n, 1200);
	/* two chunks of runs (500 + 100): one page each, a count for the full one, no history asked */
	assert_int_equal(fake_count(&f, "POST /api/task_runs/filter 200"), 2);
	assert_int_equal(fake_count(&f, "POST /api/task_runs/count 200"), 1);
	assert_int_equal(fake_count(&f, "/task_run_states/"), 0);
	assert_int_equal(fake_count(&f, " 422"), 0);
	dd_strv_release(&ro.lines);
	bench_stop(&f, dir, c, keys, &ids, &seen);

	/* a server whose limit is 100: learnt from its 422 once, then pages of 100 at once */
	start_bench(&f, dir, sizeof(dir), 250, "--tries 2", "100");
	c = open_bench(&f, &s, url, sizeof(url));
	memset(ro.last_ms, 0, sizeof(ro.last_ms));
	assert_int_equal(conn_list_runs_multi(c, dag, &since, 1, add_dag_run, &ro, &e), 0);
	assert_int_equal(ro.lines.n, 250);
	/* learnt on the first listing (the flows by name), kept for the connection */
	assert_int_equal(fake_count(&f, "POST /api/flows/filter 422"), 1);
	assert_int_equal(fake_count(&f, " 422"), 1);
	assert_int_equal(fake_count(&f, "POST /api/flow_runs/filter 200"), 3);
	assert_int_equal(fake_count(&f, "POST /api/flow_runs/count 200"), 1);
	keys = all_run_keys(c, dag, 1, &ids, &n_keys);
	assert_int_equal(fake_count(&f, " 422"), 1);   /* the per-DAG listings use it too */
	assert_int_equal(conn_list_run_tis(c, keys, n_keys, add_run_tis, &seen, &e), 0);
	assert_int_equal(seen.lines.n, 500);
	assert_int_equal(fake_count(&f, "POST /api/task_runs/filter 200"), 5);
	/* a history only for the task runs that ran twice (extract) */
	assert_int_equal(fake_count(&f, "/task_run_states/"), 250);
	assert_int_equal(fake_count(&f, " 422"), 1);
	dd_strv_release(&ro.lines);
	bench_stop(&f, dir, c, keys, &ids, &seen);
}

struct rejects {
	struct dd_strv lines;
};

static void on_reject(const struct dd_reject *r, void *ud)
{
	struct rejects *u = ud;

	dd_strv_push_owned(&u->lines, dd_xasprintf("%s|%s|%s|%s", r->dag_id ? r->dag_id : "-",
	                                           r->run_id ? r->run_id : "-", r->object, r->problem));
}

/* A rejected task run names its DAG and run; a chunk whose listing failed
 * after the retries gives err to its runs only. */
static void test_fleet_reject_and_failed_chunk(void **state)
{
	static const char *const dag[] = { "bench_dag" };
	struct fake f;
	char dir[256], url[256], world[300], faults[300], cmd[1024];
	const char *args[] = { "--mode", "server", "--world", world, "--faults", faults, NULL };
	struct dd_source s;
	struct dd_conn *c;
	struct dd_error e = DD_ERROR_INIT;
	struct tis_seen seen = { DD_STRV_INIT, 0, 0, DD_ERROR_INIT };
	struct rejects rj = { DD_STRV_INIT };
	struct dd_strv ids = DD_STRV_INIT;
	struct dd_run_key *keys;
	size_t n_keys;
	char *w;

	fake_tmpdir(dir, sizeof(dir));
	snprintf(world, sizeof(world), "%s/world.json", dir);
	snprintf(faults, sizeof(faults), "%s/faults.json", dir);
	/* the first run's load task claims -5 retries */
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/bench/gen_world.py --runs 600 --success %s && "
	         "/usr/bin/python3 -c 'import json,sys; w=json.load(open(sys.argv[1])); "
	         "w[\"runs\"][0][\"task_instances\"][1][\"max_tries\"]=-6; json.dump(w,open(sys.argv[1],\"w\"))' %s",
	         fake_root(), world, world);
	assert_int_equal(system(cmd), 0);
	/* the first chunk's listing answers 503 for all 8 attempts */
	fake_write(faults, "[{\"path\": \"/task_runs/filter$\", \"kind\": \"503\", \"times\": 8}]\n");
	assert_int_equal(fake_start(&f, "fake_prefect.py", args), 0);
	http_set_retry_policy(1, 2, 60000);
	c = open_bench(&f, &s, url, sizeof(url));
	conn_on_reject(c, on_reject, &rj);
	keys = all_run_keys(c, dag, 1, &ids, &n_keys);
	assert_int_equal(n_keys, 600);
	/* the rejected run first, in the second chunk */
	{
		struct dd_run_key k = keys[0];

		keys[0] = keys[599];
		keys[599] = k;
	}
	assert_int_equal(conn_list_run_tis(c, keys, n_keys, add_run_tis, &seen, &e), 0);
	assert_int_equal(seen.runs, 600);
	assert_int_equal(seen.failed, 500);
	assert_int_equal(seen.err.code, DD_ENET);
	assert_non_null(strstr(seen.err.msg, "503"));
	assert_int_equal(seen.lines.n, 199);   /* 100 runs of two task runs, one rejected */
	assert_int_equal(rj.lines.n, 1);
	w = dd_xasprintf("bench_dag|%s|task instance load-0|", keys[599].run_id);
	assert_true(dd_starts_with(rj.lines.v[0], w));
	free(w);
	http_set_retry_policy(0, 0, 0);
	dd_strv_release(&rj.lines);
	bench_stop(&f, dir, c, keys, &ids, &seen);
}

int main(void)
{
	const struct CMUnitTest server_tests[] = {
		cmocka_unit_test(test_open_and_flows),
		cmocka_unit_test(test_runs_late_crashed),
		cmocka_unit_test(test_tis_tries_logs),
		cmocka_unit_test(test_health_and_ui),
		cmocka_unit_test(test_bad_auth),
		cmocka_unit_test(test_fleet_server),
	};
	const struct CMUnitTest other_tests[] = {
		cmocka_unit_test(test_cloud),
		cmocka_unit_test(test_log_paging_and_cap),
		cmocka_unit_test(test_fleet_cloud),
		cmocka_unit_test(test_fleet_requests_and_limit),
		cmocka_unit_test(test_fleet_reject_and_failed_chunk),
	};
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(world_basic, sizeof(world_basic), "%s/tests/fakes/worlds/basic.json", fake_root());
	rc = cmocka_run_group_tests_name("prefect server", server_tests, setup_server, teardown_server);
	rc += cmocka_run_group_tests_name("prefect cloud and paging", other_tests, NULL, NULL);
	dd_buf_release(&trace);
	return rc;
}
