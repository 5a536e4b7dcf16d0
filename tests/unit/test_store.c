/* Unit tests: src/store.c (schema, migrations, round trips, logs, crash safety),
 * each on SQLite and again on PostgreSQL (a fresh database per test on the
 * server $DAGDOC_TEST_PG names; tests/lib/pg.sh starts one). */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dagdoc/secrets.h"
#include "dagdoc/store.h"

static char tmpdir[64];
static char dbpath[512];
static int on_pg;            /* this group runs on PostgreSQL */
static char pg_db[64];       /* its database of the current test */
static unsigned pg_serial;

/* $DAGDOC_TEST_PG/dbname: the server's base URL with a database. */
static void pg_url(char *out, size_t n, const char *dbname)
{
	snprintf(out, n, "%s/%s", getenv("DAGDOC_TEST_PG"), dbname);
}

/* Runs sql on the server's maintenance database (creating and dropping
 * the tests' databases). */
static void pg_admin(const char *sql)
{
	char url[512];
	PGconn *c;
	PGresult *r;

	pg_url(url, sizeof(url), "postgres");
	c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot reach the test server %s: %s", url, PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* A fresh empty database; its URL into url. */
static void pg_create(char *url, size_t n, char *name, size_t name_n)
{
	char sql[128];

	snprintf(name, name_n, "dd_store_%d_%u", (int)getpid(), ++pg_serial);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	pg_admin(sql);
	pg_url(url, n, name);
}

static void pg_drop(const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	pg_admin(sql);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dd-store-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	if (on_pg)
		pg_create(dbpath, sizeof(dbpath), pg_db, sizeof(pg_db));
	else
		snprintf(dbpath, sizeof(dbpath), "%s/sub/dir/dagdoc.db", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	if (on_pg)
		pg_drop(pg_db);
	return 0;
}

/* Runs SQL on the raw store (a file, or a database when path is a URL)
 * and returns the first column of the first row as an integer (or -1). */
static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	if (strstr(path, "://")) {
		PGconn *c = PQconnectdb(path);
		PGresult *r;

		assert_int_equal(PQstatus(c), CONNECTION_OK);
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) && !PQgetisnull(r, 0, 0))
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return v;
	}
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	if (strstr(path, "://")) {
		PGconn *c = PQconnectdb(path);
		PGresult *r;

		assert_int_equal(PQstatus(c), CONNECTION_OK);
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return;
	}
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The raw store's schema version (PRAGMA user_version, dagdoc_meta). */
static long long raw_version(const char *path)
{
	if (strstr(path, "://"))
		return raw_int(path, "SELECT value::int FROM dagdoc_meta WHERE key = 'schema_version'");
	return raw_int(path, "PRAGMA user_version");
}

static void raw_set_version(const char *path, int v)
{
	char sql[128];

	if (strstr(path, "://"))
		snprintf(sql, sizeof(sql), "UPDATE dagdoc_meta SET value = '%d' WHERE key = 'schema_version'", v);
	else
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	raw_exec(path, sql);
}

/* How many of the comma-separated quoted names are tables or indexes. */
static long long raw_objects(const char *path, const char *names)
{
	char sql[600];

	if (strstr(path, "://"))
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_class WHERE relname IN (%s)", names);
	else
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE name IN (%s)", names);
	return raw_int(path, sql);
}

static struct dd_store *open_ok(void)
{
	struct dd_store *s = NULL;
	struct dd_error err = DD_ERROR_INIT;
	int rc = store_open(dbpath, &s, &err);

	if (rc)
		fail_msg("store_open: %s", err.msg);
	return s;
}

static void test_open_fresh(void **state)
{
	struct dd_store *s = open_ok();

	(void)state;
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_string_equal(store_path(s), dbpath);
	store_close(s);
	assert_int_equal(raw_version(dbpath), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_objects(dbpath, "'runs_by_dag_date', 'tries_by_state'"), 2);
	if (!on_pg) {
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	/* Opening again is a no-op migration. */
	s = open_ok();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
}

/* Fills a DAG "etl" with 3 runs; returns the DAG ref. */
static int64_t fill(struct dd_store *s, int64_t *try_refs /* [4] */)
{
	struct dd_error err = DD_ERROR_INIT;
	int64_t src, dag, run, ti;
	char *down_a[] = { "b", "c", NULL };
	struct dd_task tasks[] = {
		{ .task_id = "a", .operator_name = "PythonOperator", .downstream = down_a, .n_downstream = 2 },
		{ .task_id = "b", .operator_name = "ExternalTaskSensor", .is_sensor = 1 },
		{ .task_id = "c" },
	};
	struct dd_dag d = { .dag_id = "etl", .fileloc = "/dags/etl.py", .tasks = tasks, .n_tasks = 3 };
	const char *run_ids[] = { "scheduled__2026-03-03", "scheduled__2026-03-02", "scheduled__2026-03-04" };
	const int64_t days[] = { 3, 2, 4 };
	const enum dd_state states[] = { DD_STATE_SUCCESS, DD_STATE_SUCCESS, DD_STATE_FAILED };
	int k = 0;

	assert_int_equal(store_source_put(s, "prod", "airflow", "airflow 2.10.5", &src, &err), 0);
	assert_int_equal(store_dag_put(s, src, &d, &dag, &err), 0);
	for (int i = 0; i < 3; i++) {
		struct dd_run r = { .run_id = (char *)run_ids[i], .state = states[i],
		                    .run_type = "scheduled",
		                    .logical_ms = 1772409600000LL + days[i] * 86400000LL };
		struct dd_task_instance x = { .task_id = "a", .map_index = -1, .state = states[i],
		                              .try_number = states[i] == DD_STATE_FAILED ? 2 : 1,
		                              .max_tries = 2 };

		assert_int_equal(store_run_put(s, dag, &r, &run, &err), 0);
		assert_int_equal(store_ti_put(s, run, &x, &ti, &err), 0);
		for (int t = 1; t <= x.try_number; t++) {
			struct dd_try y = { .try_number = t, .hostname = "w1",
			                    .state = states[i] == DD_STATE_FAILED
			                             ? (t == 1 ? DD_STATE_UP_FOR_RETRY : DD_STATE_FAILED)
			                             : DD_STATE_SUCCESS };

			assert_int_equal(store_try_put(s, ti, &y, &try_refs[k++], &err), 0);
		}
	}
	assert_int_equal(k, 4);
	return dag;
}

static int collect_runs(const struct dd_store_run *r, void *ud)
{
	struct dd_buf *b = ud;

	dd_buf_addf(b, "%s:%s;", r->run.run_id, dd_state_name(r->run.state));
	return 0;
}

static int collect_tries(const struct dd_store_try *t, void *ud)
{
	struct dd_buf *b = ud;

	dd_buf_addf(b, "%s/%s/%d/%d:%s:%d;", t->t.run_id, t->t.task_id, t->t.map_index,
	            t->t.try_number, dd_state_name(t->t.state), t->has_log);
	return 0;
}

static int stop_at_first(const struct dd_store_run *r, void *ud)
{
	(void)r;
	(*(int *)ud)++;
	return 7;
}

static void test_roundtrip(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	struct dd_dag d;
	struct dd_store_run run;
	int64_t tries[4], dag, ref, n_runs, n_tis, n_tries, n_logs;
	int calls = 0;

	(void)state;
	dag = fill(s, tries);
	assert_int_equal(store_dag_ref(s, "prod", "etl", &ref, &err), 0);
	assert_int_equal(ref, dag);
	assert_int_equal(store_dag_ref(s, NULL, "etl", &ref, &err), 0);
	assert_int_equal(store_dag_ref(s, "prod", "nope", &ref, &err), DD_ENOTFOUND);
	assert_non_null(strstr(err.msg, "dagdoc sync --source prod nope"));

	assert_int_equal(store_dag_get(s, dag, &d, &err), 0);
	assert_string_equal(d.dag_id, "etl");
	assert_string_equal(d.fileloc, "/dags/etl.py");
	assert_int_equal(d.n_tasks, 3);
	assert_string_equal(d.tasks[0].task_id, "a");
	assert_string_equal(d.tasks[0].operator_name, "PythonOperator");
	assert_int_equal(d.tasks[0].n_downstream, 2);
	assert_string_equal(d.tasks[0].downstream[0], "b");
	assert_string_equal(d.tasks[0].downstream[1], "c");
	assert_null(d.tasks[0].downstream[2]);
	assert_int_equal(d.tasks[1].is_sensor, 1);
	assert_null(d.tasks[2].operator_name);
	assert_int_equal(d.tasks[2].n_downstream, 0);
	dd_dag_release(&d);

	/* Ordered by logical date, window bounds honoured. */
	assert_int_equal(store_runs(s, dag, 0, 0, collect_runs, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-02:success;scheduled__2026-03-03:success;"
	                                    "scheduled__2026-03-04:failed;");
	dd_buf_reset(&b);
	assert_int_equal(store_runs(s, dag, 1772409600000LL + 3 * 86400000LL,
	                            1772409600000LL + 4 * 86400000LL, collect_runs, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-03:success;");
	assert_int_equal(store_runs(s, dag, 0, 0, stop_at_first, &calls, &err), 7);
	assert_int_equal(calls, 1);

	/* Upsert keeps one row and updates the state. */
	assert_int_equal(store_run_get(s, dag, "scheduled__2026-03-04", &run, &err), 0);
	assert_int_equal(run.run.state, DD_STATE_FAILED);
	assert_int_equal(run.run.logical_ms, 1772409600000LL + 4 * 86400000LL);
	run.run.state = DD_STATE_RUNNING;
	assert_int_equal(store_run_put(s, dag, &run.run, &ref, &err), 0);
	assert_int_equal(ref, run.ref);
	dd_run_release(&run.run);
	assert_int_equal(store_run_get(s, dag, "scheduled__2026-03-04", &run, &err), 0);
	assert_int_equal(run.run.state, DD_STATE_RUNNING);
	dd_run_release(&run.run);
	assert_int_equal(store_run_get(s, dag, "nope", &run, &err), DD_ENOTFOUND);

	assert_int_equal(store_count(s, dag, &n_runs, &n_tis, &n_tries, &n_logs, &err), 0);
	assert_int_equal(n_runs, 3);
	assert_int_equal(n_tis, 3);
	assert_int_equal(n_tries, 4);
	assert_int_equal(n_logs, 0);

	/* Failed tries: both tries of the failing run; then only those without a log. */
	dd_buf_reset(&b);
	assert_int_equal(store_failed_tries(s, dag, 0, 0, 1, collect_tries, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-04/a/-1/1:up_for_retry:0;"
	                                    "scheduled__2026-03-04/a/-1/2:failed:0;");
	assert_int_equal(store_log_put(s, tries[2], "boom\n", 5, 0, 0, &err), 0);
	dd_buf_reset(&b);
	assert_int_equal(store_failed_tries(s, dag, 0, 0, 1, collect_tries, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-04/a/-1/2:failed:0;");
	dd_buf_reset(&b);
	assert_int_equal(store_failed_tries(s, dag, 0, 0, 0, collect_tries, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-04/a/-1/1:up_for_retry:1;"
	                                    "scheduled__2026-03-04/a/-1/2:failed:0;");

	/* Last success of task a: the 03-03 run; before 03-03: the 03-02 run. */
	dd_buf_reset(&b);
	assert_int_equal(store_last_success_try(s, dag, "a", 0, collect_tries, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-03/a/-1/1:success:0;");
	dd_buf_reset(&b);
	assert_int_equal(store_last_success_try(s, dag, "a", 1772409600000LL + 3 * 86400000LL,
	                                        collect_tries, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-02/a/-1/1:success:0;");
	assert_int_equal(store_last_success_try(s, dag, "zzz", 0, collect_tries, &b, &err),
	                 DD_ENOTFOUND);

	/* Tries of the runs in a window: one run. */
	dd_buf_reset(&b);
	assert_int_equal(store_run_get(s, dag, "scheduled__2026-03-04", &run, &err), 0);
	assert_int_equal(store_tries(s, dag, run.run.logical_ms, run.run.logical_ms + 1, collect_tries, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-04/a/-1/1:up_for_retry:1;"
	                                    "scheduled__2026-03-04/a/-1/2:failed:0;");
	dd_run_release(&run.run);

	dd_buf_release(&b);
	store_close(s);
}

static int collect_tis(const struct dd_store_ti *x, void *ud)
{
	struct dd_buf *b = ud;

	dd_buf_addf(b, "%s/%s/%d:%s:%d/%d:%s;", x->ti.run_id, x->ti.task_id, x->ti.map_index,
	            dd_state_name(x->ti.state), x->ti.try_number, x->ti.max_tries,
	            x->ti.hostname ? x->ti.hostname : "-");
	return 0;
}

static int collect_dags(const struct dd_store_dag *d, void *ud)
{
	struct dd_buf *b = ud;

	dd_buf_addf(b, "%s/%s:%lld;", d->source_name, d->dag_id, (long long)d->n_runs);
	return 0;
}

/* A run's task instances and tries in a few statements: more rows than
 * one statement writes, a task instance and a try given twice (the last
 * kept, as one upsert after another keeps it), and written again as an
 * update, with nothing stored twice. */
static void test_tis_put_many(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	int64_t tries[4], dag, run, n_runs, n_tis, n_tries, n_logs;
	struct dd_run r = { .run_id = "manual__big", .state = DD_STATE_FAILED, .logical_ms = 1772409600000LL };
	struct dd_task_instance tis[41];
	struct dd_try one = { .try_number = 1, .state = DD_STATE_SUCCESS, .hostname = "w1" };
	struct dd_try twice[3] = {
		{ .try_number = 1, .state = DD_STATE_UP_FOR_RETRY, .hostname = "w1" },
		{ .try_number = 2, .state = DD_STATE_SUCCESS, .hostname = "w1" },
		{ .try_number = 2, .state = DD_STATE_FAILED, .hostname = "w2" },
	};
	struct store_ti_rows rows[41];
	char names[40][16];

	(void)state;
	dag = fill(s, tries);
	assert_int_equal(store_count(s, dag, &n_runs, &n_tis, &n_tries, &n_logs, &err), 0);
	assert_int_equal(store_run_put(s, dag, &r, &run, &err), 0);
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "t%02d", i);
		tis[i] = (struct dd_task_instance){ .task_id = names[i], .map_index = -1, .state = DD_STATE_SUCCESS,
		                                    .try_number = 1 };
		rows[i] = (struct store_ti_rows){ &tis[i], &one, 1 };
	}
	/* t05 again, last: failed after two tries, its second given twice */
	tis[40] = (struct dd_task_instance){ .task_id = "t05", .map_index = -1, .state = DD_STATE_FAILED,
	                                     .try_number = 2, .hostname = "w2" };
	rows[40] = (struct store_ti_rows){ &tis[40], twice, 3 };
	for (int pass = 0; pass < 2; pass++) {
		int64_t runs2, tis2, tries2, logs2;

		assert_int_equal(store_tis_put(s, run, rows, 41, &err), 0);
		assert_int_equal(store_count(s, dag, &runs2, &tis2, &tries2, &logs2, &err), 0);
		assert_int_equal(tis2 - n_tis, 40);
		assert_int_equal(tries2 - n_tries, 41);      /* 39 + t05's 1 and 2 */
	}
	assert_int_equal(store_task_instances(s, dag, r.logical_ms, r.logical_ms + 1, collect_tis, &b, &err), 0);
	assert_non_null(strstr(dd_buf_str(&b), "manual__big/t05/-1:failed:2/0:w2;"));
	assert_non_null(strstr(dd_buf_str(&b), "manual__big/t39/-1:success:1/0:-;"));
	dd_buf_reset(&b);
	assert_int_equal(store_tries(s, dag, r.logical_ms, r.logical_ms + 1, collect_tries, &b, &err), 0);
	assert_non_null(strstr(dd_buf_str(&b), "manual__big/t05/-1/1:up_for_retry:0;manual__big/t05/-1/2:failed:0;"));
	dd_buf_release(&b);
	store_close(s);
}

static void test_task_instances_and_dags(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	int64_t tries[4], dag, run;
	struct dd_store_run r;
	struct dd_task_instance m = { .task_id = "a", .map_index = 3, .state = DD_STATE_SUCCESS,
	                              .try_number = 1, .hostname = "w2" };
	struct dd_dag other = { .dag_id = "zeta" };

	(void)state;
	dag = fill(s, tries);
	assert_int_equal(store_run_get(s, dag, "scheduled__2026-03-02", &r, &err), 0);
	run = r.ref;
	assert_int_equal(store_ti_put(s, run, &m, NULL, &err), 0);
	assert_int_equal(store_task_instances(s, dag, r.run.logical_ms, r.run.logical_ms + 1, collect_tis, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-02/a/-1:success:1/2:-;"
	                                    "scheduled__2026-03-02/a/3:success:1/0:w2;");
	/* the whole history: run by run, oldest first, as store_runs gives them */
	dd_buf_reset(&b);
	assert_int_equal(store_task_instances(s, dag, 0, 0, collect_tis, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "scheduled__2026-03-02/a/-1:success:1/2:-;"
	                                    "scheduled__2026-03-02/a/3:success:1/0:w2;"
	                                    "scheduled__2026-03-03/a/-1:success:1/2:-;"
	                                    "scheduled__2026-03-04/a/-1:failed:2/2:-;");
	dd_run_release(&r.run);
	/* A DAG given without tasks keeps its stored tasks. */
	{
		struct dd_dag bare = { .dag_id = "etl", .is_paused = 1 }, got;
		int64_t src;

		assert_int_equal(store_source_ref(s, "prod", &src, &err), 0);
		assert_int_equal(store_dag_put(s, src, &bare, NULL, &err), 0);
		assert_int_equal(store_dag_get(s, dag, &got, &err), 0);
		assert_int_equal(got.n_tasks, 3);
		assert_int_equal(got.is_paused, 1);
		assert_string_equal(got.fileloc, "/dags/etl.py");
		dd_dag_release(&got);
		assert_int_equal(store_dag_put(s, src, &other, NULL, &err), 0);
	}
	assert_int_equal(store_source_ref(s, "staging", &run, &err), DD_ENOTFOUND);
	dd_buf_reset(&b);
	assert_int_equal(store_dags(s, 0, collect_dags, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "prod/etl:3;prod/zeta:0;");
	dd_buf_release(&b);
	store_close(s);
}

static void test_logs(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf out = DD_BUF_INIT, big = DD_BUF_INIT;
	struct dd_store_log_info info;
	int64_t tries[4];
	const size_t cap = 200000;

	(void)state;
	fill(s, tries);
	/* Small log: exact round trip, compressed. */
	for (int i = 0; i < 2000; i++)
		dd_buf_addf(&big, "[2026-03-04T02:00:%02d.000+0000] {x.py:1} INFO - line %d\n", i % 60, i);
	assert_int_equal(store_log_put(s, tries[0], big.data, big.len, 0, 0, &err), 0);
	assert_int_equal(store_log_get(s, tries[0], &out, &info, &err), 0);
	assert_int_equal(out.len, big.len);
	assert_memory_equal(out.data, big.data, big.len);
	assert_int_equal(info.original_size, (int64_t)big.len);
	assert_int_equal(info.truncated, 0);
	assert_true(info.stored_size < info.text_size / 4);

	/* A log over the cap keeps head + marker + tail and says so. */
	dd_buf_reset(&big);
	dd_buf_adds(&big, "FIRST LINE\n");
	while (big.len < 1000000)
		dd_buf_adds(&big, "[2026-03-04T02:00:13.000+0000] {x.py:1} INFO - noise noise noise\n");
	dd_buf_adds(&big, "ValueError: the failure at the end\n");
	assert_int_equal(store_log_put(s, tries[1], big.data, big.len, 0, cap, &err), 0);
	dd_buf_reset(&out);
	assert_int_equal(store_log_get(s, tries[1], &out, &info, &err), 0);
	assert_true(out.len <= cap);
	assert_true(out.len > cap - 200);
	assert_int_equal(info.truncated, 1);
	assert_int_equal(info.original_size, (int64_t)big.len);
	assert_int_equal(info.text_size, (int64_t)out.len);
	assert_true(dd_starts_with(out.data, "FIRST LINE\n"));
	assert_true(dd_ends_with(out.data, "ValueError: the failure at the end\n"));
	assert_non_null(strstr(out.data, "bytes omitted; the log was longer than 200000 bytes]\n"));
	/* Head is at most 64 KiB and ends at a line boundary. */
	{
		const char *m = strstr(out.data, "[dagdoc: ");
		size_t head = (size_t)(m - out.data);
		unsigned long long omitted = strtoull(m + 9, NULL, 10);

		assert_true(head <= STORE_LOG_HEAD_BYTES);
		assert_true(head > STORE_LOG_HEAD_BYTES - 100);
		assert_int_equal(out.data[head - 1], '\n');
		/* head + tail + omitted == original */
		assert_int_equal(head + (out.len - (size_t)(strchr(m, '\n') + 1 - out.data)) + omitted,
		                 big.len);
	}
	/* The source already truncated it: flag kept. */
	assert_int_equal(store_log_put(s, tries[2], "tail only\n", 10, 1, 0, &err), 0);
	dd_buf_reset(&out);
	assert_int_equal(store_log_get(s, tries[2], &out, &info, &err), 0);
	assert_string_equal(out.data, "tail only\n");
	assert_int_equal(info.truncated, 1);

	/* Missing marker; no log at all. */
	assert_int_equal(store_log_put_missing(s, tries[3], "404", &err), 0);
	assert_int_equal(store_log_get(s, tries[3], &out, &info, &err), DD_ENOTFOUND);
	assert_int_equal(info.missing, 1);
	store_close(s);
	s = open_ok();
	assert_int_equal(store_log_get(s, 99999, &out, &info, &err), DD_ENOTFOUND);
	assert_int_equal(info.missing, 0);
	/* Empty log. */
	assert_int_equal(store_log_put(s, tries[3], "", 0, 0, 0, &err), 0);
	dd_buf_reset(&out);
	assert_int_equal(store_log_get(s, tries[3], &out, &info, &err), 0);
	assert_int_equal(out.len, 0);
	assert_string_equal(dd_buf_str(&out), "");

	dd_buf_release(&out);
	dd_buf_release(&big);
	store_close(s);
}

static void test_log_cap_small(void **state)
{
	struct dd_buf out = DD_BUF_INIT;
	const char *text = "aaaa\nbbbb\ncccc\ndddd\neeee\nffff\ngggg\nhhhh\niiii\njjjj\n"
	                   "kkkk\nllll\nmmmm\nnnnn\noooo\npppp\nqqqq\nrrrr\nssss\ntttt\n"
	                   "uuuu\nvvvv\nwwww\nxxxx\nyyyy\nzzzz\n";
	size_t omitted;

	(void)state;
	assert_int_equal(store_log_cap(text, strlen(text), 1000, &out), 0);
	assert_string_equal(out.data, text);
	dd_buf_reset(&out);
	omitted = store_log_cap(text, strlen(text), 100, &out);
	assert_true(out.len <= 100);
	assert_true(omitted > 0);
	assert_true(dd_starts_with(out.data, "aaaa\n"));
	assert_true(dd_ends_with(out.data, "zzzz\n"));
	dd_buf_release(&out);
}

static void test_classification_cursors_misc(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store_classification c = { .category = "dependency_upgrade",
	                                     .pattern_id = "dep.import-name-removed",
	                                     .fingerprint = "ImportError:x", .confidence = 0.9,
	                                     .failure_json = "{\"category\":\"dependency_upgrade\"}" },
	                               got;
	int64_t tries[4], src, v, count, first;
	char *value;

	(void)state;
	fill(s, tries);
	assert_int_equal(store_source_ref(s, "prod", &src, &err), 0);
	assert_int_equal(store_classification_put(s, tries[3], "lib1", &c, &err), 0);
	assert_int_equal(store_classification_get(s, tries[3], "lib1", &got, &err), 0);
	assert_string_equal(got.category, "dependency_upgrade");
	assert_string_equal(got.pattern_id, "dep.import-name-removed");
	assert_string_equal(got.fingerprint, "ImportError:x");
	assert_true(got.confidence > 0.899 && got.confidence < 0.901);
	assert_string_equal(got.failure_json, "{\"category\":\"dependency_upgrade\"}");
	assert_true(got.created_ms > 0);
	store_classification_release(&got);
	assert_int_equal(store_classification_get(s, tries[3], "lib2", &got, &err), DD_ENOTFOUND);
	c.category = "code_bug";
	c.pattern_id = NULL;
	assert_int_equal(store_classification_put(s, tries[3], "lib1", &c, &err), 0);
	assert_int_equal(store_classification_get(s, tries[3], "lib1", &got, &err), 0);
	assert_string_equal(got.category, "code_bug");
	assert_null(got.pattern_id);
	store_classification_release(&got);
	/* what a log says need not be UTF-8: kept all the same (PostgreSQL, whose
	 * text is UTF-8, keeps each byte that is not as U+FFFD) */
	c.failure_json = "{\"exc_message\":\"bad \xff byte\"}";
	assert_int_equal(store_classification_put(s, tries[3], "lib1", &c, &err), 0);
	assert_int_equal(store_classification_get(s, tries[3], "lib1", &got, &err), 0);
	assert_string_equal(got.failure_json, on_pg ? "{\"exc_message\":\"bad \xef\xbf\xbd byte\"}" : c.failure_json);
	store_classification_release(&got);

	assert_int_equal(store_cursor_get(s, src, "etl", "runs_from", &value, &err), DD_ENOTFOUND);
	assert_int_equal(store_cursor_put_i64(s, src, "etl", "runs_from", 1234567890123LL, &err), 0);
	assert_int_equal(store_cursor_get_i64(s, src, "etl", "runs_from", &v, &err), 0);
	assert_int_equal(v, 1234567890123LL);
	assert_int_equal(store_cursor_put(s, src, "etl", "runs_from", "x", &err), 0);
	assert_int_equal(store_cursor_get_i64(s, src, "etl", "runs_from", &v, &err), DD_EPARSE);
	assert_int_equal(store_cursor_get(s, src, NULL, "runs_from", &value, &err), DD_ENOTFOUND);

	assert_int_equal(store_report_seen(s, "prod/etl", "fp1", 0, &count, &first, &err), 0);
	assert_int_equal(count, 0);
	assert_int_equal(first, 0);
	assert_int_equal(store_report_put(s, 1000, "prod/etl", "fp1", &err), 0);
	assert_int_equal(store_report_put(s, 2000, "prod/etl", "fp1", &err), 0);
	assert_int_equal(store_report_put(s, 2000, "prod/etl", "fp1", &err), 0);
	assert_int_equal(store_report_put(s, 86400000 + 5, "prod/etl", "fp1", &err), 0);
	/* by report date: 1000 and 2000 are one date (a re-run), 86400005 the next */
	assert_int_equal(store_report_seen(s, "prod/etl", "fp1", 0, &count, &first, &err), 0);
	assert_int_equal(count, 2);
	assert_int_equal(first, 1000);
	assert_int_equal(store_report_seen(s, "prod/etl", "fp1", 2000, &count, &first, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(store_report_seen(s, "prod/etl", "fp1", 86400000, &count, &first, &err), 0);
	assert_int_equal(count, 1);
	{
		/* the previous report date's failures of a scope: every report of that date */
		struct dd_strv prev = DD_STRV_INIT;

		assert_int_equal(store_report_put(s, 1500, "prod/etl", "fp0", &err), 0);
		assert_int_equal(store_report_put(s, 1500, "prod/other", "fpx", &err), 0);
		assert_int_equal(store_report_previous(s, "prod/etl", 86400000, &prev, &err), 0);
		assert_int_equal(prev.n, 2);
		assert_string_equal(prev.v[0], "fp0");
		assert_string_equal(prev.v[1], "fp1");
		dd_strv_release(&prev);
		assert_int_equal(store_report_previous(s, "prod/etl", 0, &prev, &err), 0);
		assert_int_equal(prev.n, 1);
		assert_string_equal(prev.v[0], "fp1");
		dd_strv_release(&prev);
		assert_int_equal(store_report_previous(s, "prod/etl", 1000, &prev, &err), 0);
		assert_int_equal(prev.n, 0);
		assert_int_equal(store_report_previous(s, "prod/none", 0, &prev, &err), 0);
		assert_int_equal(prev.n, 0);
		dd_strv_release(&prev);
	}
	store_close(s);
}

static int collect_ie(const struct dd_import_error *ie, void *ud)
{
	struct dd_buf *b = ud;

	dd_buf_addf(b, "%s:%s:%lld;", ie->filename, ie->stack_trace, (long long)ie->timestamp_ms);
	return 0;
}

static void test_import_errors_health(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf b = DD_BUF_INIT;
	struct dd_import_error ies[] = { { "/dags/b.py", "SyntaxError", 5 }, { "/dags/a.py", "ImportError", 6 } };
	struct dd_health h = { .scheduler_status = "unhealthy", .scheduler_heartbeat_ms = 77,
	                       .metadatabase_status = "healthy" }, got;
	int64_t src, taken = 0;

	(void)state;
	assert_int_equal(store_source_put(s, "prod", "airflow", NULL, &src, &err), 0);
	assert_int_equal(store_import_errors_replace(s, src, ies, 2, &err), 0);
	assert_int_equal(store_import_errors_replace(s, src, ies, 2, &err), 0);
	assert_int_equal(store_import_errors(s, src, collect_ie, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "/dags/a.py:ImportError:6;/dags/b.py:SyntaxError:5;");
	assert_int_equal(store_import_errors_replace(s, src, NULL, 0, &err), 0);
	dd_buf_reset(&b);
	assert_int_equal(store_import_errors(s, src, collect_ie, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "");

	assert_int_equal(store_health_latest(s, src, &got, &taken, &err), DD_ENOTFOUND);
	assert_int_equal(store_health_put(s, src, 100, &h, &err), 0);
	h.scheduler_status = "healthy";
	assert_int_equal(store_health_put(s, src, 200, &h, &err), 0);
	assert_int_equal(store_health_latest(s, src, &got, &taken, &err), 0);
	assert_int_equal(taken, 200);
	assert_string_equal(got.scheduler_status, "healthy");
	assert_string_equal(got.metadatabase_status, "healthy");
	assert_int_equal(got.scheduler_heartbeat_ms, 77);
	assert_null(got.detail);
	dd_health_release(&got);
	dd_buf_release(&b);
	store_close(s);
}

static void test_migrate_from_v1(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store *s;
	struct dd_store_run r;
	int64_t dag, count, first;

	(void)state;
	assert_int_equal(store_migrate_to(dbpath, 1, &err), 0);
	assert_int_equal(raw_version(dbpath), 1);
	assert_int_equal(raw_objects(dbpath, "'report_history'"), 0);
	/* Data written by a v1 dagdoc, by hand. */
	raw_exec(dbpath,
	         "INSERT INTO sources (id, name, kind) VALUES (1, 'prod', 'airflow');"
	         "INSERT INTO dags (id, source_id, dag_id) VALUES (1, 1, 'etl');"
	         "INSERT INTO runs (dag_ref, run_id, state, logical_ms) VALUES (1, 'r1', 'failed', 42);");
	s = open_ok();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_dag_ref(s, "prod", "etl", &dag, &err), 0);
	{
		/* 3: a source synced before knows no UI until its next sync */
		char *form, *base;

		assert_int_equal(store_source_ui(s, 1, &form, &base, &err), 0);
		assert_null(form);
		assert_null(base);
		assert_int_equal(store_source_set_ui(s, 1, "airflow-runs", "https://af.example.com", &err), 0);
		assert_int_equal(store_source_ui(s, 1, &form, &base, &err), 0);
		assert_string_equal(form, "airflow-runs");
		assert_string_equal(base, "https://af.example.com");
		free(form);
		free(base);
	}
	assert_int_equal(store_run_get(s, dag, "r1", &r, &err), 0);
	assert_int_equal(r.run.state, DD_STATE_FAILED);
	assert_int_equal(r.run.logical_ms, 42);
	dd_run_release(&r.run);
	assert_int_equal(store_report_put(s, 5, "prod/etl", "fp", &err), 0);
	assert_int_equal(store_report_seen(s, "prod/etl", "fp", 0, &count, &first, &err), 0);
	assert_int_equal(count, 1);
	store_close(s);
	assert_int_equal(raw_objects(dbpath, "'classifications_by_fingerprint'"), 1);
	assert_int_equal(store_migrate_to(dbpath, STORE_SCHEMA_VERSION + 1, &err), DD_EUSAGE);
}

static int on_fact(const struct dd_store_fact *f, void *ud)
{
	struct dd_strv *out = ud;

	dd_strv_push_owned(out, dd_xasprintf("%s %s %d %s (%s, %s, %lld) %s", f->fingerprint, f->kind, f->verdict,
					     f->what, f->tool, f->user ? f->user : "-", (long long)f->at_ms,
					     f->detail ? f->detail : "-"));
	return 0;
}

static int on_fact_buf(const struct dd_store_fact *f, void *ud)
{
	dd_buf_addf(ud, "%s %s %lld;", f->fingerprint, f->user ? f->user : "-", (long long)f->at_ms);
	return 0;
}

/* A store of schema 4 gains `established`: a verdict is kept once per
 * (fingerprint, kind, what), the first one recorded, read back oldest first. */
static void test_established(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store *s;
	struct dd_strv got = DD_STRV_INIT;
	struct dd_store_fact a = { "fp1", "dependency_change", 1, "numpy 2.0.0 deployed", "pip show",
	                           "ev.txt line 2: Version: 2.0.0", "alice", 2000 };
	struct dd_store_fact b = { "fp1", "resource_exhaustion", -1, "the pod ended Error", "kubectl describe pod",
	                           NULL, NULL, 1000 };
	struct dd_store_fact again = a;

	(void)state;
	assert_int_equal(store_migrate_to(dbpath, 4, &err), 0);
	assert_int_equal(raw_objects(dbpath, "'established'"), 0);
	s = open_ok();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_fact_put(s, &a, &err), 0);
	assert_int_equal(store_fact_put(s, &b, &err), 0);
	again.user = "bob";
	again.at_ms = 3000;
	assert_int_equal(store_fact_put(s, &again, &err), 0);
	assert_int_equal(store_facts(s, on_fact, &got, &err), 0);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.v[0],
			    "fp1 resource_exhaustion -1 the pod ended Error (kubectl describe pod, -, 1000) -");
	assert_string_equal(got.v[1], "fp1 dependency_change 1 numpy 2.0.0 deployed (pip show, alice, 2000) "
	                              "ev.txt line 2: Version: 2.0.0");
	dd_strv_release(&got);
	store_close(s);
}

static int on_version(int64_t run_ref, const char *bundle_version, int dag_version, void *ud)
{
	struct dd_strv *out = ud;

	dd_strv_push_owned(out, dd_xasprintf("%lld %s %d", (long long)run_ref, bundle_version ? bundle_version : "-",
	                                     dag_version));
	return 0;
}

/* A store of schema 3 gains run_versions; a run keeps what it ran, replaced
 * by the next sync's answer, read back in the runs' order. */
static void test_run_versions(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store *s;
	struct dd_strv got = DD_STRV_INIT;
	struct dd_run r = { 0 };
	int64_t src, dag, r1, r2, r3;

	(void)state;
	assert_int_equal(store_migrate_to(dbpath, 3, &err), 0);
	assert_int_equal(raw_objects(dbpath, "'run_versions'"), 0);
	s = open_ok();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_source_put(s, "prod", "airflow", NULL, &src, &err), 0);
	{
		struct dd_dag d = { 0 };

		d.dag_id = (char *)"sales_rollup";
		assert_int_equal(store_dag_put(s, src, &d, &dag, &err), 0);
	}
	r.state = DD_STATE_SUCCESS;
	r.run_id = (char *)"b";
	r.logical_ms = 2000;
	assert_int_equal(store_run_put(s, dag, &r, &r2, &err), 0);
	r.run_id = (char *)"a";
	r.logical_ms = 1000;
	assert_int_equal(store_run_put(s, dag, &r, &r1, &err), 0);
	r.run_id = (char *)"c";
	r.logical_ms = 3000;
	assert_int_equal(store_run_put(s, dag, &r, &r3, &err), 0);
	assert_int_equal(store_run_version_put(s, r2, "0123abc", 2, &err), 0);
	assert_int_equal(store_run_version_put(s, r1, "ffff000", 1, &err), 0);
	assert_int_equal(store_run_version_put(s, r1, "eeee000", 1, &err), 0);   /* replaced */
	assert_int_equal(store_run_version_put(s, r3, NULL, 3, &err), 0);
	assert_int_equal(store_run_versions(s, dag, 0, 0, on_version, &got, &err), 0);
	assert_int_equal(got.n, 3);
	assert_int_equal(strtoll(got.v[0], NULL, 10), r1);
	assert_non_null(strstr(got.v[0], " eeee000 1"));
	assert_non_null(strstr(got.v[1], " 0123abc 2"));
	assert_non_null(strstr(got.v[2], " - 3"));
	dd_strv_release(&got);
	assert_int_equal(store_run_versions(s, dag, 1500, 3000, on_version, &got, &err), 0);
	assert_int_equal(got.n, 1);
	dd_strv_release(&got);
	store_close(s);
}

static void test_migrate_from_v0(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	char other[512], other_db[64];

	(void)state;
	/* v0: an SQLite file with no schema at all (user_version 0); an empty database */
	if (!on_pg) {
		assert_int_equal(dd_mkdir_parents(dbpath, NULL), 0);
		raw_exec(dbpath, "PRAGMA user_version = 0; VACUUM;");
		assert_int_equal(raw_int(dbpath, "PRAGMA user_version"), 0);
	}
	s = open_ok();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	if (on_pg)
		assert_int_equal(raw_int(dbpath, "SELECT count(*) FROM dagdoc_meta WHERE key = 'application' "
		                                 "AND value = 'dagdoc'"), 1);
	else
		assert_int_equal(raw_int(dbpath, "PRAGMA application_id"), 1684105060);
	assert_int_equal(raw_objects(dbpath, "'sources','dags','tasks','task_deps','runs',"
	                                     "'task_instances','tries','logs','classifications',"
	                                     "'sync_cursors','import_errors','health_snapshots',"
	                                     "'report_history'"), 13);

	/* Someone else's database is refused and left untouched. */
	if (on_pg)
		pg_create(other, sizeof(other), other_db, sizeof(other_db));
	else
		snprintf(other, sizeof(other), "%s/other.db", tmpdir);
	raw_exec(other, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep');");
	assert_int_equal(store_open(other, &s, &err), DD_ESTORE);
	assert_null(s);
	assert_non_null(strstr(err.msg, on_pg ? "is not a dagdoc store" : "is an SQLite database but not a dagdoc store"));
	assert_non_null(strstr(err.msg, "pass another --store"));
	assert_int_equal(raw_int(other, on_pg ? "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
	                                      : "SELECT count(*) FROM sqlite_master"), 1);
	assert_int_equal(raw_int(other, "SELECT count(*) FROM notes"), 1);
	if (on_pg) {
		/* a schema holding only a view and a sequence is someone's too;
		 * tables in another schema are not dagdoc's concern */
		raw_exec(other, "CREATE SCHEMA app; ALTER TABLE notes SET SCHEMA app; "
		                "CREATE VIEW v AS SELECT 1 AS one; CREATE SEQUENCE seq;");
		assert_int_equal(store_open(other, &s, &err), DD_ESTORE);
		assert_non_null(strstr(err.msg, "(2 tables, views or sequences in schema public"));
		raw_exec(other, "DROP VIEW v; DROP SEQUENCE seq;");
		s = NULL;
		assert_int_equal(store_open(other, &s, &err), 0);
		store_close(s);
		assert_int_equal(raw_int(other, "SELECT count(*) FROM app.notes"), 1);
		pg_drop(other_db);
	}
}

static void test_newer_store_refused(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store *s = open_ok();

	(void)state;
	store_close(s);
	raw_set_version(dbpath, 99);
	assert_int_equal(store_open(dbpath, &s, &err), DD_ESTORE);
	assert_null(s);
	assert_non_null(strstr(err.msg, "this store was written by a newer dagdoc (schema 99); "
	                                "upgrade dagdoc or use another --store"));
	assert_non_null(strstr(err.msg, dbpath));
	/* Untouched. */
	assert_int_equal(raw_version(dbpath), 99);
}

static void test_not_a_store(void **state)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store *s = (struct dd_store *)1;
	FILE *f;

	(void)state;
	if (on_pg) {
		/* a database that is not there: the message names it, redacted */
		char url[600];

		snprintf(url, sizeof(url), "%s_missing", dbpath);
		assert_int_equal(store_open(url, &s, &err), DD_ESTORE);
		assert_null(s);
		assert_non_null(strstr(err.msg, "cannot connect to the store"));
		assert_non_null(strstr(err.msg, "_missing"));
		return;
	}
	assert_int_equal(dd_mkdir_parents(dbpath, NULL), 0);
	f = fopen(dbpath, "w");
	assert_non_null(f);
	for (int i = 0; i < 300; i++)
		fputs("this is a config file, not a database\n", f);
	fclose(f);
	assert_int_equal(store_open(dbpath, &s, &err), DD_ESTORE);
	assert_null(s);
	assert_non_null(strstr(err.msg, dbpath));
	assert_non_null(strstr(err.msg, "is not a dagdoc store"));
	assert_non_null(strstr(err.msg, "another --store"));
	/* A path in a directory that cannot be created. */
	assert_int_equal(store_open("/proc/dagdoc-no/x.db", &s, &err) < 0, 1);
	assert_null(s);
}

/* A dagdoc store whose header is damaged is called damaged, not "not a
 * dagdoc store" (which sends the user to another --store). */
static void test_damaged_store(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	int64_t ref;
	FILE *f;

	(void)state;
	assert_int_equal(store_source_put(s, "prod", "airflow", NULL, &ref, &err), 0);
	store_close(s);
	if (on_pg) {
		/* the server keeps its files whole; what can be damaged is dagdoc's meta */
		raw_exec(dbpath, "UPDATE dagdoc_meta SET value = 'five' WHERE key = 'schema_version'");
		assert_int_equal(store_open(dbpath, &s, &err), DD_ESTORE);
		assert_null(s);
		assert_non_null(strstr(err.msg, "reading the schema version"));
		assert_null(strstr(err.msg, "not a dagdoc store"));
		return;
	}
	raw_exec(dbpath, "PRAGMA journal_mode = DELETE");
	/* clobber bytes 16-67 of the header (page size, format numbers) */
	f = fopen(dbpath, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 16, SEEK_SET), 0);
	for (int i = 16; i < 68; i++)
		fputc(0xFF, f);
	fclose(f);
	assert_int_equal(store_open(dbpath, &s, &err), DD_ESTORE);
	assert_non_null(strstr(err.msg, "is damaged"));
	assert_null(strstr(err.msg, "not a dagdoc store"));
}

/* Read-only: what --offline opens when it cannot write the store. */
static void test_open_readonly(void **state)
{
	struct dd_store *s = open_ok(), *ro = NULL;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store_classification c = { "code_bug", NULL, "abcd", 0.5, "{}", 0 };
	int64_t ref, got;

	(void)state;
	assert_int_equal(store_source_put(s, "prod", "airflow", NULL, &ref, &err), 0);
	store_close(s);
	assert_int_equal(store_open_readonly(dbpath, &ro, &err), 0);
	assert_true(store_readonly(ro));
	assert_int_equal(store_source_ref(ro, "prod", &got, &err), 0);
	assert_int_equal(got, ref);
	/* the classification cache keeps nothing; a real write says why it failed */
	assert_int_equal(store_classification_put(ro, 1, "lib", &c, &err), 0);
	assert_int_equal(store_source_put(ro, "other", "airflow", NULL, &ref, &err), DD_ESTORE);
	assert_non_null(strstr(err.msg, "cannot be written here"));
	store_close(ro);
	/* nothing is created */
	if (on_pg) {
		char url[600];

		snprintf(url, sizeof(url), "%s_missing", dbpath);
		assert_int_equal(store_open_readonly(url, &ro, &err), DD_ESTORE);
	} else {
		assert_int_equal(store_open_readonly("/tmp/dd-no-such-dir/x.db", &ro, &err), DD_ESTORE);
	}
	assert_null(ro);
}

static void test_rollback(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store_run r;
	int64_t tries[4], dag;
	struct dd_run run = { .run_id = "tx", .state = DD_STATE_SUCCESS };

	(void)state;
	dag = fill(s, tries);
	assert_int_equal(store_begin(s, &err), 0);
	assert_int_equal(store_in_transaction(s), 1);
	assert_int_equal(store_begin(s, &err), DD_ERR);
	assert_int_equal(store_run_put(s, dag, &run, NULL, &err), 0);
	store_rollback(s);
	assert_int_equal(store_in_transaction(s), 0);
	assert_int_equal(store_run_get(s, dag, "tx", &r, &err), DD_ENOTFOUND);
	assert_int_equal(store_begin(s, &err), 0);
	assert_int_equal(store_run_put(s, dag, &run, NULL, &err), 0);
	assert_int_equal(store_commit(s, &err), 0);
	assert_int_equal(store_run_get(s, dag, "tx", &r, &err), 0);
	dd_run_release(&r.run);
	store_close(s);
}

/* A writer killed with SIGKILL inside a transaction leaves the previous
 * state intact and the next writer completes. */
static void test_sigkill_mid_transaction(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store_run r;
	int64_t tries[4], dag, n_runs;
	int pipefd[2], status;
	pid_t pid;
	char c;

	(void)state;
	dag = fill(s, tries);
	store_close(s);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dd_store *cs = NULL;

		close(pipefd[0]);
		if (store_open(dbpath, &cs, NULL) || store_begin(cs, NULL))
			_exit(3);
		for (int i = 0; i < 500; i++) {
			char id[32];
			struct dd_run run = { .run_id = id, .state = DD_STATE_SUCCESS, .logical_ms = i };

			snprintf(id, sizeof(id), "killed-%d", i);
			if (store_run_put(cs, dag, &run, NULL, NULL))
				_exit(4);
			if (i == 250 && write(pipefd[1], "x", 1) != 1)
				_exit(5);
		}
		/* Never commits: wait to be killed. */
		for (;;)
			pause();
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));

	s = open_ok();
	assert_int_equal(raw_int(dbpath, "SELECT count(*) FROM runs WHERE run_id LIKE 'killed-%'"), 0);
	if (!on_pg) {
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	assert_int_equal(store_count(s, dag, &n_runs, NULL, NULL, NULL, &err), 0);
	assert_int_equal(n_runs, 3);
	assert_int_equal(store_begin(s, &err), 0);
	{
		struct dd_run run = { .run_id = "killed-1", .state = DD_STATE_FAILED };

		assert_int_equal(store_run_put(s, dag, &run, NULL, &err), 0);
	}
	assert_int_equal(store_commit(s, &err), 0);
	assert_int_equal(store_run_get(s, dag, "killed-1", &r, &err), 0);
	assert_int_equal(r.run.state, DD_STATE_FAILED);
	dd_run_release(&r.run);
	store_close(s);
}

/* One sync per source at a time: a second holder (another store handle,
 * as another process would have) hears DD_EBUSY and the sentence; other
 * sources are free; unlocking frees it. */
static void test_sync_lock(void **state)
{
	struct dd_store *a = open_ok(), *b = open_ok();
	struct dd_error err = DD_ERROR_INIT;

	(void)state;
	assert_int_equal(store_sync_lock(a, "prod", &err), 0);
	assert_int_equal(store_sync_lock(b, "prod", &err), DD_EBUSY);
	assert_string_equal(err.msg, "another dagdoc is syncing source prod on this store; wait for it to "
	                             "finish (or stop it) and run sync again");
	assert_int_equal(store_sync_lock(b, "staging", &err), 0);
	store_sync_unlock(a, "prod");
	assert_int_equal(store_sync_lock(b, "prod", &err), 0);
	store_sync_unlock(b, "prod");
	store_sync_unlock(b, "staging");
	store_close(a);
	/* a closed store's locks are gone */
	assert_int_equal(store_sync_lock(b, "prod", &err), 0);
	store_close(b);
	if (!on_pg) {
		struct stat st;
		char lock[600];

		snprintf(lock, sizeof(lock), "%s.lock", dbpath);
		assert_int_equal(stat(lock, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
}

/* dbpath with a password put into its user-info. */
static void url_with_password(char *out, size_t n, const char *url, const char *password)
{
	const char *at = strchr(strstr(url, "://") + 3, '@');

	assert_non_null(at);
	snprintf(out, n, "%.*s:%s%s", (int)(at - url), url, password, at);
}

/* A password in the URL never reaches a message: the store is named
 * user@host:port/db. */
static void test_pg_password_redacted(void **state)
{
	static const char pw[] = "Sekr1tPassw0rd";
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	char url[700], shown[700], *redacted;

	(void)state;
	store_close(s);
	url_with_password(url, sizeof(url), dbpath, pw);
	redacted = store_redact(url);
	assert_null(strstr(redacted, pw));
	assert_string_equal(redacted, dbpath);
	snprintf(shown, sizeof(shown), "%s", strstr(redacted, "://") + 3);
	/* a store of a newer dagdoc */
	raw_set_version(dbpath, 99);
	assert_int_equal(store_open(url, &s, &err), DD_ESTORE);
	assert_non_null(strstr(err.msg, "newer dagdoc"));
	assert_non_null(strstr(err.msg, shown));
	assert_null(strstr(err.msg, pw));
	/* a database that is not there */
	{
		char missing[760];

		snprintf(missing, sizeof(missing), "%s_nope", url);
		assert_int_equal(store_open(missing, &s, &err), DD_ESTORE);
		assert_non_null(strstr(err.msg, "cannot connect to the store"));
		assert_non_null(strstr(err.msg, "_nope"));
		assert_null(strstr(err.msg, pw));
		/* and it was registered: whatever echoes it is masked */
		assert_true(secrets_found(pw, strlen(pw)));
	}
	/* a server that is not there (a port nobody listens on) */
	assert_int_equal(store_open("postgresql://dagdoc:Sekr1tPassw0rd@127.0.0.1:1/x", &s, &err), DD_ESTORE);
	assert_non_null(strstr(err.msg, "postgresql://dagdoc@127.0.0.1:1/x"));
	assert_null(strstr(err.msg, pw));
	/* parameters are left out too */
	free(redacted);
	redacted = store_redact("postgres://u@h/db?password=Sekr1tPassw0rd&sslmode=require");
	assert_string_equal(redacted, "postgres://u@h/db");
	free(redacted);
	redacted = store_redact("/var/lib/dagdoc/dagdoc.db");
	assert_string_equal(redacted, "/var/lib/dagdoc/dagdoc.db");
	free(redacted);
}

/* Two writers deadlock inside their transactions: the server aborts one,
 * whose put says DD_EBUSY after rolling back; it redoes the transaction
 * and both batches are stored. */
static void test_pg_busy_redo(void **state)
{
	struct dd_store *s = open_ok();
	struct dd_error err = DD_ERROR_INIT;
	int64_t tries[4], dag, n_runs;
	int to_child[2], to_parent[2], status, parent_rc;
	char c;
	pid_t pid;

	(void)state;
	dag = fill(s, tries);
	store_close(s);
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	/* each locks one run, then wants the other's */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct dd_store *cs = NULL;
		struct dd_run x = { .run_id = "scheduled__2026-03-02", .state = DD_STATE_FAILED };
		struct dd_run y = { .run_id = "scheduled__2026-03-03", .state = DD_STATE_FAILED };
		int rc;

		if (store_open(dbpath, &cs, NULL) || store_begin(cs, NULL) || store_run_put(cs, dag, &x, NULL, NULL))
			_exit(3);
		if (write(to_parent[1], "x", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(4);
		rc = store_run_put(cs, dag, &y, NULL, NULL);
		if (rc == 0)
			rc = store_commit(cs, NULL);
		if (rc == DD_EBUSY && store_in_transaction(cs))
			_exit(5);
		store_close(cs);
		_exit(rc == DD_EBUSY ? 10 : rc == 0 ? 0 : 6);
	}
	{
		struct dd_store *ps = open_ok();
		struct dd_run x = { .run_id = "scheduled__2026-03-02", .state = DD_STATE_RUNNING };
		struct dd_run y = { .run_id = "scheduled__2026-03-03", .state = DD_STATE_RUNNING };

		assert_int_equal(store_begin(ps, &err), 0);
		assert_int_equal(store_run_put(ps, dag, &y, NULL, &err), 0);
		assert_int_equal(read(to_parent[0], &c, 1), 1);
		assert_int_equal(write(to_child[1], "y", 1), 1);
		parent_rc = store_run_put(ps, dag, &x, NULL, &err);
		if (parent_rc == 0)
			parent_rc = store_commit(ps, &err);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		/* exactly one of the two was the deadlock's victim */
		if (parent_rc == DD_EBUSY) {
			assert_int_equal(WEXITSTATUS(status), 0);
			assert_non_null(strstr(err.msg, "was busy"));
			assert_non_null(strstr(err.msg, "retrying"));
			assert_int_equal(store_in_transaction(ps), 0);
			/* the redo */
			assert_int_equal(store_begin(ps, &err), 0);
			assert_int_equal(store_run_put(ps, dag, &y, NULL, &err), 0);
			assert_int_equal(store_run_put(ps, dag, &x, NULL, &err), 0);
			assert_int_equal(store_commit(ps, &err), 0);
		} else {
			assert_int_equal(parent_rc, 0);
			assert_int_equal(WEXITSTATUS(status), 10);
		}
		assert_int_equal(store_count(ps, dag, &n_runs, NULL, NULL, NULL, &err), 0);
		assert_int_equal(n_runs, 3);
		store_close(ps);
	}
}

static void on_copied(const char *table, int64_t rows, void *ud)
{
	dd_buf_addf(ud, "%s=%lld;", table, (long long)rows);
}

/* dagdoc store migrate --to: a populated SQLite store copied into an empty
 * PostgreSQL one: the same rows with the same ids, logs byte-equal, ids
 * handed out after them; a target holding data is refused. */
static void test_pg_copy_from_sqlite(void **state)
{
	char src_path[200];
	struct dd_store *from, *to;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf counts = DD_BUF_INIT, a = DD_BUF_INIT, b = DD_BUF_INIT, bin = DD_BUF_INIT;
	struct dd_store_classification c = { "code_bug", NULL, "fp", 0.75, "{\"x\":1}", 5 }, got;
	struct dd_store_fact f = { "fp1", "dependency_change", 1, "numpy 2.0.0 deployed", "pip show", NULL, "alice", 7 };
	int64_t tries[4], dag, ref, pg_dag;

	(void)state;
	snprintf(src_path, sizeof(src_path), "%s/src.db", tmpdir);
	assert_int_equal(store_open(src_path, &from, &err), 0);
	dag = fill(from, tries);
	for (int i = 0; i < 200000; i++)
		dd_buf_addch(&bin, (char)(i * 7919 % 251));   /* every byte value, NULs too */
	assert_int_equal(store_log_put(from, tries[2], bin.data, bin.len, 0, 0, &err), 0);
	assert_int_equal(store_log_put_missing(from, tries[3], "404", &err), 0);
	assert_int_equal(store_classification_put(from, tries[2], "lib", &c, &err), 0);
	assert_int_equal(store_fact_put(from, &f, &err), 0);
	assert_int_equal(store_cursor_put_i64(from, 1, "etl", "runs_from", 42, &err), 0);
	assert_int_equal(store_report_put(from, 1000, "prod/etl", "fp1", &err), 0);

	to = open_ok();
	assert_int_equal(store_copy(from, to, on_copied, &counts, &err), 0);
	assert_string_equal(dd_buf_str(&counts), "sources=1;dags=1;tasks=3;task_deps=2;runs=3;task_instances=3;"
	                                         "tries=4;logs=2;classifications=1;sync_cursors=1;import_errors=0;"
	                                         "health_snapshots=0;report_history=1;run_versions=0;established=1;");
	/* the same answers from both */
	assert_int_equal(store_dag_ref(to, "prod", "etl", &pg_dag, &err), 0);
	assert_int_equal(pg_dag, dag);
	assert_int_equal(store_failed_tries(from, dag, 0, 0, 0, collect_tries, &a, &err), 0);
	assert_int_equal(store_failed_tries(to, dag, 0, 0, 0, collect_tries, &b, &err), 0);
	assert_string_equal(dd_buf_str(&a), dd_buf_str(&b));
	dd_buf_reset(&a);
	assert_int_equal(store_log_get(to, tries[2], &a, NULL, &err), 0);
	assert_int_equal(a.len, bin.len);
	assert_memory_equal(a.data, bin.data, bin.len);
	assert_int_equal(store_classification_get(to, tries[2], "lib", &got, &err), 0);
	assert_true(got.confidence > 0.749 && got.confidence < 0.751);
	assert_string_equal(got.failure_json, "{\"x\":1}");
	store_classification_release(&got);
	dd_buf_reset(&b);
	assert_int_equal(store_facts(to, on_fact_buf, &b, &err), 0);
	assert_string_equal(dd_buf_str(&b), "fp1 alice 7;");
	/* new rows get ids after the copied ones */
	assert_int_equal(store_source_put(to, "staging", "airflow", NULL, &ref, &err), 0);
	assert_true(ref > 1);
	/* a store that holds data is not a target */
	assert_int_equal(store_copy(from, to, NULL, NULL, &err), DD_EEXIST);
	assert_non_null(strstr(err.msg, "already holds data"));
	store_close(to);
	store_close(from);
	dd_buf_release(&a);
	dd_buf_release(&b);
	dd_buf_release(&bin);
	dd_buf_release(&counts);
}

/* Without a server the PostgreSQL half cannot run: a skip on a laptop, a
 * failure in CI (DAGDOC_REQUIRE_SHARED=1). */
static void test_pg_unavailable(void **state)
{
	const char *req = getenv("DAGDOC_REQUIRE_SHARED");

	(void)state;
	if (req && !strcmp(req, "1"))
		fail_msg("DAGDOC_TEST_PG is unset: the PostgreSQL store tests need a server "
		         "(tests/lib/pg.sh start DIR, as tests/run.sh does)");
	skip();
}

int main(void)
{
#define STORE_TESTS \
		cmocka_unit_test_setup_teardown(test_open_fresh, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_task_instances_and_dags, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_tis_put_many, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_logs, setup, teardown), \
		cmocka_unit_test(test_log_cap_small), \
		cmocka_unit_test_setup_teardown(test_classification_cursors_misc, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_import_errors_health, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_established, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_run_versions, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_migrate_from_v0, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_newer_store_refused, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_not_a_store, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_damaged_store, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_open_readonly, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_rollback, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_sigkill_mid_transaction, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_sync_lock, setup, teardown)
	const struct CMUnitTest sqlite_tests[] = { STORE_TESTS };
	const struct CMUnitTest pg_tests[] = {
		STORE_TESTS,
		cmocka_unit_test_setup_teardown(test_pg_password_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_busy_redo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_copy_from_sqlite, setup, teardown),
	};
	const struct CMUnitTest pg_missing[] = { cmocka_unit_test(test_pg_unavailable) };
	const char *pg = getenv("DAGDOC_TEST_PG");
	int failed = cmocka_run_group_tests_name("store on SQLite", sqlite_tests, NULL, NULL);

	if (!pg || !*pg)
		return failed + cmocka_run_group_tests_name("store on PostgreSQL", pg_missing, NULL, NULL);
	on_pg = 1;
	return failed + cmocka_run_group_tests_name("store on PostgreSQL", pg_tests, NULL, NULL);
}
