/* Unit tests: src/sync.c against an in-memory connector that counts calls,
 * and against the log-folder fixture. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "conn_impl.h"
#include "dagdoc/store.h"
#include "dagdoc/sync.h"

#define DAY 86400000LL
#define T0 1772323200000LL   /* 2026-03-01T00:00:00Z */

/* ---- a scripted orchestrator ------------------------------------------- */

static struct dd_store *store;   /* the store under test (network calls are never made
                                  * inside one of its transactions) */

struct m_try {
	int n;
	enum dd_state state;
	const char *log;          /* NULL: the source has no log (404) */
};
struct m_ti {
	const char *task_id;
	int map_index;
	enum dd_state state;
	struct m_try tries[3];
	int n_tries;
};
struct m_run {
	const char *run_id;
	int64_t logical_ms;
	enum dd_state state;
	struct m_ti tis[2];
	int n_tis;
};

static struct {
	struct m_run runs[8];
	int n_runs;
	int list_runs_calls;
	int64_t last_since;
	int ti_calls, try_calls, log_reqs, dag_calls;
	struct dd_strv ti_runs;       /* run ids whose TIs were asked for */
	struct dd_strv log_keys;      /* "run/task/map/try" asked for */
	const char *fail_tis_of;      /* this run: list_task_instances -> DD_EAUTH */
	const char *transient_log;    /* this key: DD_ENET for the log */
	const char *reject_ti_of;     /* this run: its first task instance fails its check */
	const char *reject_run;       /* this run fails its check in the run listing */
	const char *net_tis_of;       /* this run: list_task_instances -> DD_ENET */
	const char *other_writer;     /* this run: another sync stores it while we fetch it */
	const char *bundle[8];        /* what each run ran (Airflow 3 bundle versions), or NULL */
} W;

static void world_reset(void)
{
	dd_strv_release(&W.ti_runs);
	dd_strv_release(&W.log_keys);
	memset(&W, 0, sizeof(W));
	/* r1 day 1: success; r2 day 2: a fails twice, b upstream_failed;
	 * r3 day 3: still running. */
	W.runs[0] = (struct m_run){ "r1", T0 + 1 * DAY, DD_STATE_SUCCESS, {
		{ "a", -1, DD_STATE_SUCCESS, { { 1, DD_STATE_SUCCESS, "a ok day 1\n" } }, 1 },
		{ "b", -1, DD_STATE_SUCCESS, { { 1, DD_STATE_SUCCESS, "b ok day 1\n" } }, 1 } }, 2 };
	W.runs[1] = (struct m_run){ "r2", T0 + 2 * DAY, DD_STATE_FAILED, {
		{ "a", -1, DD_STATE_FAILED, { { 1, DD_STATE_UP_FOR_RETRY, "a retry\nTimeoutError\n" },
		                             { 2, DD_STATE_FAILED, "a failed\nTimeoutError\n" } }, 2 },
		{ "b", -1, DD_STATE_UPSTREAM_FAILED, { { 0 } }, 0 } }, 2 };
	W.runs[2] = (struct m_run){ "r3", T0 + 3 * DAY, DD_STATE_RUNNING, {
		{ "a", -1, DD_STATE_RUNNING, { { 1, DD_STATE_RUNNING, NULL } }, 1 } }, 1 };
	W.n_runs = 3;
}

static struct m_run *m_find_run(const char *run_id)
{
	for (int i = 0; i < W.n_runs; i++)
		if (!strcmp(W.runs[i].run_id, run_id))
			return &W.runs[i];
	return NULL;
}

static int m_open(struct dd_conn *c, struct dd_error *err) { (void)c; (void)err; return 0; }
static void m_close(struct dd_conn *c) { (void)c; }

static int m_list_dags(struct dd_conn *c, dd_dag_id_cb cb, void *ud, struct dd_error *err)
{
	(void)c;
	(void)err;
	return cb("etl", ud);
}

static int m_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err)
{
	(void)c;
	W.dag_calls++;
	memset(out, 0, sizeof(*out));
	if (strcmp(dag_id, "etl"))
		return dd_error_set(err, DD_ENOTFOUND, "no DAG named %s on mock; did you mean etl?", dag_id);
	out->dag_id = dd_xstrdup("etl");
	out->n_tasks = 2;
	out->tasks = dd_xcalloc(2, sizeof(*out->tasks));
	out->tasks[0].task_id = dd_xstrdup("a");
	out->tasks[0].downstream = dd_xcalloc(2, sizeof(char *));
	out->tasks[0].downstream[0] = dd_xstrdup("b");
	out->tasks[0].n_downstream = 1;
	out->tasks[1].task_id = dd_xstrdup("b");
	return 0;
}

static int m_list_runs(struct dd_conn *c, const char *dag_id, int64_t since_ms, dd_run_cb cb,
                       void *ud, struct dd_error *err)
{
	(void)dag_id;
	(void)err;
	W.list_runs_calls++;
	W.last_since = since_ms;
	for (int i = 0; i < W.n_runs; i++) {
		struct dd_run r = { .run_id = (char *)W.runs[i].run_id, .state = W.runs[i].state,
		                    .run_type = "scheduled", .logical_ms = W.runs[i].logical_ms,
		                    .bundle_version = (char *)W.bundle[i], .dag_version = W.bundle[i] ? i + 1 : 0 };
		int rc;

		if (r.logical_ms < since_ms)
			continue;
		if (W.reject_run && !strcmp(W.reject_run, r.run_id)) {
			struct conn_check ck = CONN_CHECK_INIT;

			conn_check_fail(&ck, "logical_date: a string (\"yesterday\") is not an ISO 8601 time");
			conn_reject(c, "run", r.run_id, &ck);
			continue;
		}
		if ((rc = cb(&r, ud)))
			return rc;
	}
	return 0;
}

static int64_t dag_ref_in(struct dd_store *s)
{
	int64_t ref = 0;

	assert_int_equal(store_dag_ref(s, "prod", "etl", &ref, NULL), 0);
	return ref;
}

static int m_list_tis(struct dd_conn *c, const char *dag_id, const char *run_id, dd_ti_cb cb,
                      void *ud, struct dd_error *err)
{
	struct m_run *r = m_find_run(run_id);

	(void)dag_id;
	W.ti_calls++;
	assert_int_equal(store_in_transaction(store), 0);
	dd_strv_push(&W.ti_runs, run_id);
	if (W.fail_tis_of && !strcmp(W.fail_tis_of, run_id))
		return dd_error_set(err, DD_EAUTH, "mock answered 401 Unauthorized; check the token");
	if (W.net_tis_of && !strcmp(W.net_tis_of, run_id))
		return dd_error_set(err, DD_ENET, "mock kept answering 503 to the task instances of %s", run_id);
	if (W.other_writer && !strcmp(W.other_writer, run_id)) {
		/* a concurrent sync stores this run between our listing and our write */
		struct dd_store *other;
		struct dd_run copy = { .run_id = (char *)run_id, .state = r->state, .logical_ms = r->logical_ms };
		int64_t ref;

		assert_int_equal(store_open(store_path(store), &other, NULL), 0);
		assert_int_equal(store_run_put(other, dag_ref_in(other), &copy, &ref, NULL), 0);
		store_close(other);
	}
	for (int i = 0; r && i < r->n_tis; i++) {
		struct dd_task_instance ti = { .run_id = (char *)run_id, .task_id = (char *)r->tis[i].task_id,
		                               .map_index = r->tis[i].map_index, .state = r->tis[i].state,
		                               .try_number = r->tis[i].n_tries, .max_tries = 2 };
		int rc;

		if (i == 0 && W.reject_ti_of && !strcmp(W.reject_ti_of, run_id)) {
			struct conn_check ck = CONN_CHECK_INIT;

			conn_check_fail(&ck, "try_number: a string (\"1\") where a whole number is expected");
			conn_reject(c, "task instance a", run_id, &ck);
			continue;
		}
		if ((rc = cb(&ti, ud)))
			return rc;
	}
	return 0;
}

static int m_list_tries(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
                        dd_try_cb cb, void *ud, struct dd_error *err)
{
	struct m_run *r = m_find_run(ti->run_id);

	(void)c;
	(void)dag_id;
	(void)err;
	W.try_calls++;
	for (int i = 0; r && i < r->n_tis; i++) {
		if (strcmp(r->tis[i].task_id, ti->task_id))
			continue;
		for (int j = 0; j < r->tis[i].n_tries; j++) {
			struct dd_try t = { .run_id = ti->run_id, .task_id = ti->task_id,
			                    .map_index = ti->map_index, .try_number = r->tis[i].tries[j].n,
			                    .state = r->tis[i].tries[j].state, .hostname = "w1" };
			int rc = cb(&t, ud);

			if (rc)
				return rc;
		}
	}
	return 0;
}

static int m_fetch_logs(struct dd_conn *c, const struct dd_log_request *reqs, size_t n,
                        dd_log_cb cb, void *ud, struct dd_error *err)
{
	(void)c;
	(void)err;
	assert_int_equal(store_in_transaction(store), 0);
	for (size_t i = 0; i < n; i++) {
		const struct dd_log_request *q = &reqs[i];
		struct m_run *r = m_find_run(q->run_id);
		const char *log = NULL;
		char key[128];
		struct dd_error e = DD_ERROR_INIT;
		int rc;

		snprintf(key, sizeof(key), "%s/%s/%d/%d", q->run_id, q->task_id, q->map_index,
		         q->try_number);
		dd_strv_push(&W.log_keys, key);
		W.log_reqs++;
		for (int k = 0; r && k < r->n_tis; k++)
			for (int j = 0; j < r->tis[k].n_tries; j++)
				if (!strcmp(r->tis[k].task_id, q->task_id) &&
				    r->tis[k].tries[j].n == q->try_number)
					log = r->tis[k].tries[j].log;
		if (W.transient_log && !strcmp(W.transient_log, key)) {
			dd_error_set(&e, DD_ENET, "mock: connection reset while fetching %s", key);
			rc = cb(q, NULL, 0, 0, &e, ud);
		} else if (!log) {
			dd_error_set(&e, DD_ENOTFOUND, "mock has no log for %s", key);
			rc = cb(q, NULL, 0, 0, &e, ud);
		} else {
			rc = cb(q, log, strlen(log), 0, NULL, ud);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static const struct dd_conn_ops mock_ops = {
	.kind = "mock", .open = m_open, .close = m_close, .list_dags = m_list_dags,
	.get_dag = m_get_dag, .list_runs = m_list_runs, .list_task_instances = m_list_tis,
	.list_tries = m_list_tries, .fetch_logs = m_fetch_logs,
};

/* ---- fixture ------------------------------------------------------------ */

static char tmpdir[64], dbpath[128];
static struct dd_source src;
static struct dd_conn conn;
static int setup(void **state)
{
	struct dd_error err = DD_ERROR_INIT;

	(void)state;
	world_reset();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dd-sync-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/dagdoc.db", tmpdir);
	memset(&src, 0, sizeof(src));
	src.name = "prod";
	src.kind = DD_SOURCE_AIRFLOW;
	memset(&conn, 0, sizeof(conn));
	conn.source = &src;
	conn.ops = &mock_ops;
	snprintf(conn.description, sizeof(conn.description), "mock 1.0");
	if (store_open(dbpath, &store, &err))
		fail_msg("%s", err.msg);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	store_close(store);
	store = NULL;
	dd_strv_release(&W.ti_runs);
	dd_strv_release(&W.log_keys);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int do_sync(struct dd_sync_stats *st, struct dd_error *err)
{
	struct dd_sync_options o = { .since_ms = T0 };

	dd_strv_release(&W.ti_runs);
	dd_strv_release(&W.log_keys);
	W.ti_calls = W.try_calls = W.log_reqs = 0;
	return sync_run(store, &conn, &src, &o, st, err);
}

static char *joined(const struct dd_strv *v)
{
	struct dd_buf b = DD_BUF_INIT;

	for (size_t i = 0; i < v->n; i++)
		dd_buf_addf(&b, "%s;", v->v[i]);
	return dd_buf_detach(&b);
}

#define assert_strv(v, expected) do { \
	char *j_ = joined(v); \
	assert_string_equal(j_, expected); \
	free(j_); \
} while (0)

static int64_t dag_ref(void)
{
	return dag_ref_in(store);
}

static void counts(int64_t *runs, int64_t *tis, int64_t *tries, int64_t *logs)
{
	assert_int_equal(store_count(store, dag_ref(), runs, tis, tries, logs, NULL), 0);
}

/* ---- tests ---------------------------------------------------------------- */

static int first_try_ref(const struct dd_store_try *t, void *ud)
{
	*(int64_t *)ud = t->ref;
	return 1;
}

static void test_incremental(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	int64_t runs, tis, tries, logs, resume;
	struct dd_buf b = DD_BUF_INIT;
	struct dd_store_log_info info;

	(void)state;
	/* 1. Fresh store: everything in the window. */
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(W.last_since, T0);
	assert_strv(&W.ti_runs, "r1;r2;r3;");
	/* Failed tries of r2 (a/1, a/2) and the baseline: a's last success (r1). */
	assert_strv(&W.log_keys, "r2/a/-1/1;r2/a/-1/2;r1/a/-1/1;");
	assert_int_equal(st.dags, 1);
	assert_int_equal(st.runs_listed, 3);
	assert_int_equal(st.runs_new, 3);
	assert_int_equal(st.runs_updated, 0);
	assert_int_equal(st.runs_skipped, 0);
	assert_int_equal(st.runs_in_window, 3);
	assert_int_equal(st.tis, 5);
	assert_int_equal(st.tries, 5);
	assert_int_equal(st.logs, 3);
	assert_int_equal(st.baselines, 1);
	assert_int_equal(st.log_bytes, strlen("a retry\nTimeoutError\n") +
	                               strlen("a failed\nTimeoutError\n") + strlen("a ok day 1\n"));
	assert_int_equal(st.logs_failed, 0);
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 3);
	assert_int_equal(tis, 5);
	assert_int_equal(tries, 5);
	assert_int_equal(logs, 3);
	/* The cursor points at the oldest unfinished run. */
	{
		int64_t src_ref;

		assert_int_equal(store_source_ref(store, "prod", &src_ref, NULL), 0);
		assert_int_equal(store_cursor_get_i64(store, src_ref, "etl", "resume_ms", &resume, NULL), 0);
		assert_int_equal(resume, T0 + 3 * DAY);
	}
	{
		struct dd_dag d;

		assert_int_equal(store_dag_get(store, dag_ref(), &d, NULL), 0);
		assert_int_equal(d.n_tasks, 2);
		assert_string_equal(d.tasks[0].downstream[0], "b");
		dd_dag_release(&d);
	}

	/* 2. Nothing changed: runs listed from the cursor, only the unfinished
	 * run is fetched again, no logs. */
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(W.last_since, T0 + 3 * DAY);
	assert_strv(&W.ti_runs, "r3;");
	assert_int_equal(W.log_reqs, 0);
	assert_int_equal(st.runs_listed, 1);
	assert_int_equal(st.runs_new, 0);
	assert_int_equal(st.runs_updated, 1);
	assert_int_equal(st.runs_in_window, 3);
	assert_int_equal(st.logs, 0);

	/* 3. r3 finishes failed and r4 appears: both fetched, with r3's log;
	 * the cursor moves to the newest run. */
	W.runs[2].state = DD_STATE_FAILED;
	W.runs[2].tis[0].state = DD_STATE_FAILED;
	W.runs[2].tis[0].tries[0] = (struct m_try){ 1, DD_STATE_FAILED, "a failed on day 3\n" };
	W.runs[3] = (struct m_run){ "r4", T0 + 4 * DAY, DD_STATE_SUCCESS, {
		{ "a", -1, DD_STATE_SUCCESS, { { 1, DD_STATE_SUCCESS, "a ok day 4\n" } }, 1 } }, 1 };
	W.n_runs = 4;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_strv(&W.ti_runs, "r3;r4;");
	/* Baseline is now r4's success (newest). */
	assert_strv(&W.log_keys, "r3/a/-1/1;r4/a/-1/1;");
	assert_int_equal(st.runs_new, 1);
	assert_int_equal(st.runs_updated, 1);
	assert_int_equal(st.baselines, 1);
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(W.last_since, T0 + 4 * DAY);
	assert_strv(&W.ti_runs, "");
	assert_int_equal(W.log_reqs, 0);
	assert_int_equal(st.runs_skipped, 1);

	/* The stored log reads back. */
	{
		struct dd_store_run r;
		int64_t try_ref = 0;

		assert_int_equal(store_run_get(store, dag_ref(), "r3", &r, NULL), 0);
		assert_int_equal(store_tries(store, dag_ref(), r.run.logical_ms, r.run.logical_ms + 1, first_try_ref, &try_ref, NULL), 1);
		assert_int_equal(store_log_get(store, try_ref, &b, &info, &err), 0);
		assert_string_equal(b.data, "a failed on day 3\n");
		assert_int_equal(info.truncated, 0);
		dd_run_release(&r.run);
	}
	dd_buf_release(&b);
}

static volatile sig_atomic_t flag;

static void interrupt_on_progress(const struct dd_sync_stats *st, void *ud)
{
	(void)ud;
	if (st->runs_new >= 1)
		flag = 1;
}

static void test_interrupt_then_resume(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_sync_options o = { .since_ms = T0, .progress = interrupt_on_progress,
	                             .interrupted = &flag };
	int64_t runs, tis, tries, logs;

	(void)state;
	flag = 0;
	assert_int_equal(sync_run(store, &conn, &src, &o, &st, &err), DD_EINTR);
	assert_string_equal(err.msg, "interrupted; run the same command again to finish");
	assert_int_equal(store_in_transaction(store), 0);
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 1);
	assert_int_equal(tis, 2);
	assert_int_equal(tries, 2);
	assert_int_equal(logs, 0);
	/* The next sync completes the work. */
	assert_int_equal(do_sync(&st, &err), 0);
	assert_strv(&W.ti_runs, "r2;r3;");
	assert_int_equal(st.runs_skipped, 1);
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 3);
	assert_int_equal(tries, 5);
	assert_int_equal(logs, 3);
}

static void test_permanent_error_rolls_back(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	int64_t runs, tis, tries, logs;

	(void)state;
	W.fail_tis_of = "r2";
	assert_int_equal(do_sync(&st, &err), DD_EAUTH);
	assert_string_equal(err.msg, "mock answered 401 Unauthorized; check the token");
	assert_int_equal(store_in_transaction(store), 0);
	/* r1 is whole, r2 is absent (not half-written), nothing after it. */
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 1);
	assert_int_equal(tis, 2);
	assert_int_equal(tries, 2);
	assert_int_equal(logs, 0);
	{
		struct dd_store_run r;

		assert_int_equal(store_run_get(store, dag_ref(), "r2", &r, NULL), DD_ENOTFOUND);
	}
	/* Fixed: the next sync finishes. */
	W.fail_tis_of = NULL;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_strv(&W.ti_runs, "r2;r3;");
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 3);
	assert_int_equal(logs, 3);

	/* An unknown DAG: nothing written, the connector's sentence. */
	{
		const char *ids[] = { "nope" };
		struct dd_sync_options o = { .since_ms = T0, .dag_ids = ids, .n_dag_ids = 1 };

		assert_int_equal(sync_run(store, &conn, &src, &o, &st, &err), DD_ENOTFOUND);
		assert_string_equal(err.msg, "no DAG named nope on mock; did you mean etl?");
		assert_int_equal(store_dag_ref(store, "prod", "nope", &runs, NULL), DD_ENOTFOUND);
	}
}

static void test_log_errors(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	int64_t runs, tis, tries, logs;

	(void)state;
	/* r2/a/1 fails transiently; r2/a/2 has no log at the source. */
	W.transient_log = "r2/a/-1/1";
	W.runs[1].tis[0].tries[1].log = NULL;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.logs_failed, 1);
	assert_string_equal(st.first_log_error, "mock: connection reset while fetching r2/a/-1/1");
	assert_int_equal(st.logs_missing, 1);
	assert_int_equal(st.logs, 1);          /* the baseline */
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(logs, 1);
	/* Next sync: asks again for the transient one only. */
	W.transient_log = NULL;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_strv(&W.log_keys, "r2/a/-1/1;");
	assert_int_equal(st.logs, 1);
	assert_int_equal(st.logs_failed, 0);
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(W.log_reqs, 0);
}

static void test_since_widened(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_sync_options o = { .since_ms = T0 + 2 * DAY };

	(void)state;
	assert_int_equal(sync_run(store, &conn, &src, &o, &st, &err), 0);
	assert_int_equal(W.last_since, T0 + 2 * DAY);
	assert_int_equal(st.runs_new, 2);
	/* A wider window than the cursor covers lists from since again. */
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(W.last_since, T0);
	assert_strv(&W.ti_runs, "r1;r3;");
	assert_int_equal(st.runs_new, 1);
	assert_int_equal(st.runs_skipped, 1);
	/* And then from the cursor. */
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(W.last_since, T0 + 3 * DAY);
}

/* Validate, then store: a run with an object that failed its check is not
 * written at all (not even its good parts), the sync goes on, says so, and
 * the next sync fetches it; the cursor never passes it. */
static void test_rejected_run_left_out(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store_run r;
	int64_t runs, tis, tries, logs, resume = 0;

	(void)state;
	W.reject_ti_of = "r2";
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.runs_incomplete, 1);
	assert_string_equal(st.first_problem, ": task instance a: try_number: a string (\"1\") where a whole "
	                    "number is expected");
	assert_int_equal(store_run_get(store, dag_ref(), "r2", &r, NULL), DD_ENOTFOUND);
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 2);                 /* r1 and r3 */
	assert_int_equal(store_cursor_get_i64(store, 0 + 1, "etl", "resume_ms", &resume, NULL), 0);
	assert_true(resume <= T0 + 2 * DAY);
	/* the server is healthy again: the next sync fetches r2, and only r2 is new */
	W.reject_ti_of = NULL;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.runs_new, 1);
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 3);
	assert_int_equal(tis, 5);
	assert_int_equal(logs, 3);
}

static void test_rejected_listing_keeps_cursor(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	int64_t before = 0, after = 0;

	(void)state;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(store_cursor_get_i64(store, 1, "etl", "resume_ms", &before, NULL), 0);
	W.runs[3] = (struct m_run){ "r4", T0 + 4 * DAY, DD_STATE_SUCCESS, { { 0 } }, 0 };
	W.n_runs = 4;
	W.reject_run = "r4";
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.rejected, 1);
	assert_string_equal(st.first_problem, ": run: logical_date: a string (\"yesterday\") is not an ISO "
	                    "8601 time");
	assert_int_equal(store_cursor_get_i64(store, 1, "etl", "resume_ms", &after, NULL), 0);
	assert_int_equal(after, before);
	W.reject_run = NULL;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.runs_new, 1);
}

/* One run's requests failing is that run's problem; the sync goes on. */
static void test_run_fetch_failure_goes_on(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	int64_t runs, tis, tries, logs;

	(void)state;
	W.net_tis_of = "r2";
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.runs_incomplete, 1);
	assert_string_equal(st.first_problem, "mock kept answering 503 to the task instances of r2");
	counts(&runs, &tis, &tries, &logs);
	assert_int_equal(runs, 2);
	W.net_tis_of = NULL;
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.runs_incomplete, 0);
	assert_int_equal(st.runs_new, 1);
}

/* Two syncs at once: a run another sync stored first is not "new" here. */
static void test_new_counted_in_transaction(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;

	(void)state;
	/* the DAG row must exist for the other writer */
	W.n_runs = 0;
	assert_int_equal(do_sync(&st, &err), 0);
	world_reset();
	W.other_writer = "r2";
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(st.runs_new, 2);
	assert_int_equal(st.runs_updated, 1);
}

static int on_version(int64_t run_ref, const char *bundle_version, int dag_version, void *ud)
{
	(void)run_ref;
	dd_strv_push_owned(ud, dd_xasprintf("%s/%d", bundle_version ? bundle_version : "-", dag_version));
	return 0;
}

/* What a run ran (Airflow 3 bundle versions) is stored with it; runs that
 * say nothing store nothing. */
static void test_run_versions_stored(void **state)
{
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_strv v = DD_STRV_INIT;

	(void)state;
	W.bundle[0] = "4f1c2d9e8b7a";
	W.bundle[1] = "9a8b7c6d5e4f";
	assert_int_equal(do_sync(&st, &err), 0);
	assert_int_equal(store_run_versions(store, dag_ref(), 0, 0, on_version, &v, &err), 0);
	assert_strv(&v, "4f1c2d9e8b7a/1;9a8b7c6d5e4f/2;");
	dd_strv_release(&v);
}

/* The log-folder fixture, end to end through the real connector. */
static void test_logdir_fixture(void **state)
{
	const char *root = getenv("ROOT");
	char *path = dd_xasprintf("%s/tests/fixtures/logdir/current", root && *root ? root : ".");
	struct dd_source ls = { .name = "local", .kind = DD_SOURCE_LOGS, .path = path };
	struct dd_conn *c;
	struct dd_sync_stats st;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_sync_options o = { .since_ms = 1 };
	int64_t ref, runs, tis, tries, logs;

	(void)state;
	assert_int_equal(conn_open(&ls, 0, &c, &err), 0);
	assert_int_equal(sync_run(store, c, &ls, &o, &st, &err), 0);
	assert_int_equal(st.dags, 2);
	assert_int_equal(st.runs_new, 6);
	assert_int_equal(st.tries, 12);
	/* 5 failed tries + baselines extract, transform, train. */
	assert_int_equal(st.logs, 8);
	assert_int_equal(st.baselines, 3);
	assert_int_equal(store_dag_ref(store, "local", "etl_daily", &ref, NULL), 0);
	assert_int_equal(store_count(store, ref, &runs, &tis, &tries, &logs, NULL), 0);
	assert_int_equal(runs, 4);
	assert_int_equal(tis, 8);
	assert_int_equal(tries, 10);
	assert_int_equal(logs, 6);
	conn_close(c);
	assert_int_equal(conn_open(&ls, 0, &c, &err), 0);
	assert_int_equal(sync_run(store, c, &ls, &o, &st, &err), 0);
	assert_int_equal(st.runs_new, 0);
	assert_int_equal(st.tries, 0);
	assert_int_equal(st.logs, 0);
	conn_close(c);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_then_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_error_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_since_widened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_run_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_listing_keeps_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_fetch_failure_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_counted_in_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_versions_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logdir_fixture, setup, teardown),
	};

	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
