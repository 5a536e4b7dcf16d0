/* Unit tests: connectors/logdir.c over tests/fixtures/logdir and temp folders. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dagdoc/connector.h"

static char *fixture_path(const char *sub)
{
	const char *root = getenv("ROOT");

	return dd_xasprintf("%s/tests/fixtures/logdir/%s", root && *root ? root : ".", sub);
}

struct fixture {
	struct dd_source src;
	struct dd_conn *c;
};

static struct dd_conn *open_dir(struct dd_source *src, const char *path, int64_t cap)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_conn *c = NULL;

	memset(src, 0, sizeof(*src));
	src->name = "local";
	src->kind = DD_SOURCE_LOGS;
	src->path = (char *)path;
	src->max_log_bytes = cap;
	if (conn_open(src, 0, &c, &err))
		fail_msg("conn_open: %s", err.msg);
	return c;
}

static int collect_dag(const char *dag_id, void *ud)
{
	dd_buf_addf(ud, "%s;", dag_id);
	return 0;
}

static int collect_run(const struct dd_run *r, void *ud)
{
	char t[40];

	dd_format_time(r->logical_ms, 1, t, sizeof(t));
	dd_buf_addf(ud, "%s|%s|%s|%s|%s;", r->run_id, dd_state_name(r->state),
	            r->run_type ? r->run_type : "-", t, r->end_ms ? "ended" : "open");
	return 0;
}

static int collect_ti(const struct dd_task_instance *ti, void *ud)
{
	dd_buf_addf(ud, "%s/%d|%s|try %d of %d|%s|%s;", ti->task_id, ti->map_index,
	            dd_state_name(ti->state), ti->try_number, ti->max_tries,
	            ti->hostname ? ti->hostname : "-", ti->operator_name ? ti->operator_name : "-");
	return 0;
}

static int collect_try(const struct dd_try *t, void *ud)
{
	char s[40], e[40];

	dd_format_time(t->start_ms, 1, s, sizeof(s));
	dd_format_time(t->end_ms, 1, e, sizeof(e));
	dd_buf_addf(ud, "%d|%s|%s|%s|%s;", t->try_number, dd_state_name(t->state),
	            t->hostname ? t->hostname : "-", s, e);
	return 0;
}

struct logs {
	struct dd_buf text;
	int truncated;
	int n, n_err;
	struct dd_error err;
};

static int collect_log(const struct dd_log_request *req, const char *text, size_t len,
                       int truncated, const struct dd_error *err, void *ud)
{
	struct logs *l = ud;

	(void)req;
	l->n++;
	if (err) {
		l->n_err++;
		l->err = *err;
		return 0;
	}
	assert_int_equal(strlen(text), len);
	dd_buf_add(&l->text, text, len);
	l->truncated = truncated;
	return 0;
}

static void test_dags_and_runs(void **state)
{
	char *path = fixture_path("current");
	struct dd_source src;
	struct dd_conn *c = open_dir(&src, path, 0);
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	struct dd_dag d;
	int64_t since;

	(void)state;
	assert_true(dd_starts_with(conn_describe(c), "log folder /"));
	assert_int_equal(conn_list_dags(c, collect_dag, &b, &err), 0);
	/* dag_id=escape (a symlink to /etc) and scheduler/ are not DAGs. */
	assert_string_equal(dd_buf_str(&b), "etl_daily;ml_train;");

	dd_buf_reset(&b);
	assert_int_equal(conn_list_runs(c, "etl_daily", 0, collect_run, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b),
		"scheduled__2026-03-01T02:00:00+00:00|success|scheduled|2026-03-01T02:00:00Z|ended;"
		"scheduled__2026-03-02T02:00:00+00:00|success|scheduled|2026-03-02T02:00:00Z|ended;"
		"scheduled__2026-03-03T02:00:00+00:00|failed|scheduled|2026-03-03T02:00:00Z|ended;"
		"manual__2026-03-03T10:15:00.123456+00:00|failed|manual|2026-03-03T10:15:00.123Z|ended;");

	dd_buf_reset(&b);
	assert_int_equal(dd_parse_time("2026-03-02T12:00:00Z", &since), 0);
	assert_int_equal(conn_list_runs(c, "etl_daily", since, collect_run, &b, &err), 0);
	assert_true(dd_starts_with(dd_buf_str(&b), "scheduled__2026-03-03T02:00:00+00:00|"));

	dd_buf_reset(&b);
	assert_int_equal(conn_list_task_instances(c, "etl_daily", "scheduled__2026-03-03T02:00:00+00:00",
	                                          collect_ti, &b, &err), 0);
	/* attempt=3.log is a symlink to /etc/passwd: not a try. */
	assert_string_equal(dd_buf_str(&b), "extract/-1|failed|try 2 of 2|worker-1|PythonOperator;");
	dd_buf_reset(&b);
	assert_int_equal(conn_list_task_instances(c, "etl_daily", "scheduled__2026-03-02T02:00:00+00:00",
	                                          collect_ti, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "extract/-1|success|try 2 of 3|worker-2|PythonOperator;"
	                                    "load/-1|success|try 1 of 1|worker-1|PythonOperator;");
	dd_buf_reset(&b);
	assert_int_equal(conn_list_task_instances(c, "etl_daily", "manual__2026-03-03T10:15:00.123456+00:00",
	                                          collect_ti, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b),
		"transform/0|success|try 1 of 1|worker-1|_PythonDecoratedOperator;"
		"transform/1|failed|try 1 of 1|worker-1|_PythonDecoratedOperator;"
		"transform/2|success|try 1 of 1|worker-1|_PythonDecoratedOperator;");

	{
		struct dd_task_instance ti = { .run_id = "scheduled__2026-03-02T02:00:00+00:00",
		                               .task_id = "extract", .map_index = -1 };

		dd_buf_reset(&b);
		assert_int_equal(conn_list_tries(c, "etl_daily", &ti, collect_try, &b, &err), 0);
		assert_string_equal(dd_buf_str(&b),
			"1|up_for_retry|worker-1|2026-03-02T02:00:00.101Z|2026-03-02T02:00:57.970Z;"
			"2|success|worker-2|2026-03-02T02:06:00.101Z|2026-03-02T02:06:41.510Z;");
		ti.task_id = "nope";
		assert_int_equal(conn_list_tries(c, "etl_daily", &ti, collect_try, &b, &err), DD_ENOTFOUND);
	}

	assert_int_equal(conn_get_dag(c, "etl_daily", &d, &err), 0);
	assert_string_equal(d.dag_id, "etl_daily");
	assert_string_equal(d.fileloc, "DAGS_FOLDER/etl_daily.py");
	assert_int_equal(d.n_tasks, 3);
	assert_string_equal(d.tasks[0].task_id, "extract");
	assert_string_equal(d.tasks[0].operator_name, "PythonOperator");
	assert_string_equal(d.tasks[1].task_id, "load");
	assert_string_equal(d.tasks[2].task_id, "transform");
	assert_int_equal(d.tasks[2].n_downstream, 0);
	dd_dag_release(&d);

	assert_int_equal(conn_get_dag(c, "etl_dialy", &d, &err), DD_ENOTFOUND);
	assert_non_null(strstr(err.msg, "did you mean etl_daily?"));
	assert_int_equal(conn_list_runs(c, "escape", 0, collect_run, &b, &err), DD_ENOTFOUND);

	dd_buf_release(&b);
	conn_close(c);
	free(path);
}

static void test_airflow3_json(void **state)
{
	char *path = fixture_path("current");
	struct dd_source src;
	struct dd_conn *c = open_dir(&src, path, 0);
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	struct logs l = { .text = DD_BUF_INIT };
	const char *run_a = "manual__2026-01-14T17\xef\x80\xba" "40\xef\x80\xba" "45+00\xef\x80\xba" "00";
	struct dd_log_request req = { .dag_id = "ml_train", .run_id = run_a, .task_id = "train",
	                              .map_index = -1, .try_number = 1 };
	struct dd_dag d;

	(void)state;
	assert_int_equal(conn_list_runs(c, "ml_train", 0, collect_run, &b, &err), 0);
	dd_buf_addf(&l.text, "%s|failed|manual|2026-01-14T17:40:45Z|ended;"
	                     "scheduled__2026-01-15T00:00:00+00:00|success|scheduled|2026-01-15T00:00:00Z|ended;",
	            run_a);
	assert_string_equal(dd_buf_str(&b), dd_buf_str(&l.text));
	dd_buf_reset(&l.text);

	assert_int_equal(conn_fetch_logs(c, &req, 1, collect_log, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.n_err, 0);
	assert_int_equal(l.truncated, 0);
	assert_non_null(strstr(dd_buf_str(&l.text),
		"[2026-01-14T17:40:55.100000Z] {task} ERROR - Task failed with exception\n"
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/ml_train.py\", line 42, in train\n"
		"KeyError: 'learning_rate'\n"));
	assert_non_null(strstr(dd_buf_str(&l.text),
		"{supervisor} INFO - Task finished final_state=failed exit_code=1\n"));
	assert_null(strstr(dd_buf_str(&l.text), "{\""));

	assert_int_equal(conn_get_dag(c, "ml_train", &d, &err), 0);
	assert_string_equal(d.fileloc, "/opt/airflow/dags/ml_train.py");
	dd_dag_release(&d);

	/* A try that does not exist is an error for that log only. */
	req.try_number = 2;
	l.n = 0;
	assert_int_equal(conn_fetch_logs(c, &req, 1, collect_log, &l, &err), 0);
	assert_int_equal(l.n_err, 1);
	assert_int_equal(l.err.code, DD_ENOTFOUND);

	dd_buf_release(&l.text);
	dd_buf_release(&b);
	conn_close(c);
	free(path);
}

static void test_legacy_layout(void **state)
{
	char *path = fixture_path("legacy");
	struct dd_source src;
	struct dd_conn *c = open_dir(&src, path, 0);
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	struct dd_task_instance ti = { .run_id = "2021-01-02T00:00:00+00:00", .task_id = "print_date",
	                               .map_index = -1 };

	(void)state;
	assert_int_equal(conn_list_dags(c, collect_dag, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "legacy_dag;");
	dd_buf_reset(&b);
	assert_int_equal(conn_list_runs(c, "legacy_dag", 0, collect_run, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b),
		"2021-01-01T00:00:00+00:00|success|-|2021-01-01T00:00:00Z|ended;"
		"2021-01-02T00:00:00+00:00|failed|-|2021-01-02T00:00:00Z|ended;");
	dd_buf_reset(&b);
	assert_int_equal(conn_list_tries(c, "legacy_dag", &ti, collect_try, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b),
		"1|up_for_retry|worker-1|2021-01-02T00:01:00.101Z|2021-01-02T00:01:57.970Z;"
		"2|failed|worker-1|2021-01-02T00:07:00.101Z|2021-01-02T00:07:57.970Z;");
	dd_buf_release(&b);
	conn_close(c);
	free(path);
}

static char tmp[64];

static int mk_tmp(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/dd-logdir-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	return 0;
}

/* Runs even when the test failed. */
static int rm_tmp(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f;

	assert_int_equal(dd_mkdir_parents(path, NULL), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_symlinks_and_inference(void **state)
{
	char *p;
	struct dd_source src;
	struct dd_conn *c;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	struct dd_task_instance ti = { .run_id = "manual__x", .task_id = "t", .map_index = -1 };

	(void)state;
	/* outside/ is next to the folder, not in it. */
	p = dd_xasprintf("%s/outside/task_id=t/attempt=1.log", tmp);
	write_file(p, "[2026-01-01T00:00:00.000+0000] {x.py:1} INFO - secret\n");
	free(p);
	p = dd_xasprintf("%s/logs/dag_id=d/run_id=manual__x/task_id=t/attempt=1.log", tmp);
	write_file(p, "[2026-01-01T00:00:00.000+0000] {taskinstance.py:1} INFO - Starting attempt 1 of 4\n"
	              "[2026-01-01T00:00:09.000+0000] {local_task_job.py:1} INFO - Task exited with return code 1\n");
	free(p);
	/* Killed by the OOM killer: return code -9 and no "Marking task as"
	 * (the scheduler marks it later, in its own log). */
	p = dd_xasprintf("%s/logs/dag_id=d/run_id=manual__x/task_id=oom/attempt=1.log", tmp);
	write_file(p, "[2026-01-01T00:00:00.000+0000] {taskinstance.py:1} INFO - Starting attempt 1 of 2\n"
	              "[2026-01-01T00:03:00.000+0000] {local_task_job_runner.py:1} INFO - Task exited with return code -9\n");
	free(p);
	p = dd_xasprintf("%s/logs/dag_id=d/run_id=manual__x/task_id=oom/attempt=2.log", tmp);
	write_file(p, "[2026-01-01T00:05:00.000+0000] {taskinstance.py:1} INFO - Starting attempt 2 of 2\n"
	              "[2026-01-01T00:08:00.000+0000] {local_task_job_runner.py:1} INFO - Task exited with return code -9\n");
	free(p);
	/* The UI's timestamp form is understood too. */
	p = dd_xasprintf("%s/logs/dag_id=d/run_id=manual__x/task_id=ui/attempt=1.log", tmp);
	write_file(p, "[2026-01-01, 00:01:00 UTC] {taskinstance.py:1} INFO - Starting attempt 1 of 1\n"
	              "[2026-01-01, 00:01:30 UTC] {taskinstance.py:1} INFO - Marking task as SUCCESS. dag_id=d\n");
	free(p);
	/* attempt 2: no end marker and no later try: still running. */
	p = dd_xasprintf("%s/logs/dag_id=d/run_id=manual__x/task_id=t/attempt=2.log", tmp);
	write_file(p, "[2026-01-01T00:05:00.000+0000] {taskinstance.py:1} INFO - Starting attempt 2 of 4\n");
	free(p);
	/* A symlink inside the folder to a file inside it is followed. */
	p = dd_xasprintf("%s/logs/dag_id=d/run_id=manual__x/task_id=u/attempt=1.log", tmp);
	assert_int_equal(dd_mkdir_parents(p, NULL), 0);
	assert_int_equal(symlink("../task_id=t/attempt=1.log", p), 0);
	free(p);
	/* A run folder that is a symlink out of the folder is not. */
	p = dd_xasprintf("%s/logs/dag_id=d/run_id=manual__evil", tmp);
	assert_int_equal(symlink("../../outside", p), 0);
	free(p);
	p = dd_xasprintf("%s/logs", tmp);
	c = open_dir(&src, p, 0);
	assert_int_equal(conn_list_runs(c, "d", 0, collect_run, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "manual__x|running|manual|2026-01-01T00:00:00Z|open;");
	dd_buf_reset(&b);
	assert_int_equal(conn_list_tries(c, "d", &ti, collect_try, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b),
		"1|up_for_retry|-|2026-01-01T00:00:00Z|2026-01-01T00:00:09Z;"
		"2|running|-|2026-01-01T00:05:00Z|1970-01-01T00:00:00Z;");
	dd_buf_reset(&b);
	assert_int_equal(conn_list_task_instances(c, "d", "manual__x", collect_ti, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "oom/-1|failed|try 2 of 2|-|-;"
	                                    "t/-1|running|try 2 of 4|-|-;u/-1|failed|try 1 of 4|-|-;"
	                                    "ui/-1|success|try 1 of 1|-|-;");
	{
		struct dd_task_instance oom = { .run_id = "manual__x", .task_id = "oom", .map_index = -1 };

		dd_buf_reset(&b);
		assert_int_equal(conn_list_tries(c, "d", &oom, collect_try, &b, &err), 0);
		assert_string_equal(dd_buf_str(&b), "1|up_for_retry|-|2026-01-01T00:00:00Z|2026-01-01T00:03:00Z;"
		                                    "2|failed|-|2026-01-01T00:05:00Z|2026-01-01T00:08:00Z;");
	}
	{
		struct dd_task_instance ui = { .run_id = "manual__x", .task_id = "ui", .map_index = -1 };

		dd_buf_reset(&b);
		assert_int_equal(conn_list_tries(c, "d", &ui, collect_try, &b, &err), 0);
		assert_string_equal(dd_buf_str(&b), "1|success|-|2026-01-01T00:01:00Z|2026-01-01T00:01:30Z;");
	}
	assert_int_equal(conn_list_task_instances(c, "d", "manual__evil", collect_ti, &b, &err),
	                 DD_ENOTFOUND);
	conn_close(c);
	free(p);

	/* A missing folder. */
	memset(&src, 0, sizeof(src));
	src.name = "local";
	src.kind = DD_SOURCE_LOGS;
	src.path = "/nonexistent/dagdoc/logs";
	assert_int_equal(conn_open(&src, 0, &c, &err), DD_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/dagdoc/logs"));
	assert_non_null(strstr(err.msg, "does not exist"));

	dd_buf_release(&b);
}

static void test_huge_log_capped(void **state)
{
	char *p;
	struct dd_source src;
	struct dd_conn *c;
	struct dd_error err = DD_ERROR_INIT;
	struct logs l = { .text = DD_BUF_INIT };
	struct dd_log_request req = { .dag_id = "d", .run_id = "manual__x", .task_id = "t",
	                              .map_index = -1, .try_number = 1 };
	FILE *f;
	const size_t cap = 1 << 20;

	(void)state;
	p = dd_xasprintf("%s/dag_id=d/run_id=manual__x/task_id=t/attempt=1.log", tmp);
	assert_int_equal(dd_mkdir_parents(p, NULL), 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("[2026-01-01T00:00:00.000+0000] {taskinstance.py:1} INFO - Starting attempt 1 of 1\n", f);
	for (int i = 0; i < 60000; i++)
		fprintf(f, "[2026-01-01T00:00:01.000+0000] {x.py:1} INFO - noise line %d\n", i);
	fputs("ValueError: the real failure\n"
	      "[2026-01-01T00:09:00.000+0000] {taskinstance.py:1} INFO - Marking task as FAILED. dag_id=d\n", f);
	fclose(f);
	free(p);
	c = open_dir(&src, tmp, (int64_t)cap);
	assert_int_equal(conn_fetch_logs(c, &req, 1, collect_log, &l, &err), 0);
	assert_int_equal(l.n_err, 0);
	assert_int_equal(l.truncated, 1);
	assert_true(l.text.len <= cap);
	assert_true(l.text.len > cap - 1000);
	assert_true(dd_starts_with(l.text.data, "[2026-01-01T00:00:00.000+0000] {taskinstance.py:1} INFO - Starting attempt 1 of 1\n"));
	assert_non_null(strstr(l.text.data, "ValueError: the real failure\n"));
	assert_non_null(strstr(l.text.data, "bytes omitted; the log was longer than 1048576 bytes]"));
	{
		struct dd_buf b = DD_BUF_INIT;
		struct dd_task_instance ti = { .run_id = "manual__x", .task_id = "t", .map_index = -1 };

		assert_int_equal(conn_list_tries(c, "d", &ti, collect_try, &b, &err), 0);
		assert_string_equal(dd_buf_str(&b), "1|failed|-|2026-01-01T00:00:00Z|2026-01-01T00:09:00Z;");
		dd_buf_release(&b);
	}
	conn_close(c);
	dd_buf_release(&l.text);
}

static void test_json_passthrough(void **state)
{
	char *p;
	struct dd_source src;
	struct dd_conn *c;
	struct dd_error err = DD_ERROR_INIT;
	struct logs l = { .text = DD_BUF_INIT };
	struct dd_log_request req = { .dag_id = "d", .run_id = "manual__x", .task_id = "t",
	                              .map_index = -1, .try_number = 1 };

	(void)state;
	p = dd_xasprintf("%s/dag_id=d/run_id=manual__x/task_id=t/attempt=1.log", tmp);
	write_file(p, "[2026-01-01T00:00:00.000+0000] {python.py:1} INFO - payload:\n"
	              "{\"rows\": 3, \"status\": \"bad\"}\n"
	              "{\"event\": \"a structlog event\", \"level\": \"warning\"}\n"
	              "[2026-01-01T00:00:09.000+0000] {local_task_job.py:1} INFO - Task exited with return code 1\n");
	free(p);
	c = open_dir(&src, tmp, 0);
	assert_int_equal(conn_fetch_logs(c, &req, 1, collect_log, &l, &err), 0);
	assert_string_equal(dd_buf_str(&l.text),
	                    "[2026-01-01T00:00:00.000+0000] {python.py:1} INFO - payload:\n"
	                    "{\"rows\": 3, \"status\": \"bad\"}\n"
	                    "WARNING - a structlog event\n"
	                    "[2026-01-01T00:00:09.000+0000] {local_task_job.py:1} INFO - Task exited with return code 1\n");
	conn_close(c);
	dd_buf_release(&l.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dags_and_runs),
		cmocka_unit_test(test_airflow3_json),
		cmocka_unit_test(test_legacy_layout),
		cmocka_unit_test_setup_teardown(test_symlinks_and_inference, mk_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_huge_log_capped, mk_tmp, rm_tmp),
		cmocka_unit_test_setup_teardown(test_json_passthrough, mk_tmp, rm_tmp),
	};

	return cmocka_run_group_tests_name("logdir", tests, NULL, NULL);
}
