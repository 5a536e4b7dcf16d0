/* history_fixture.h - a DAG's run history written to a real store, for
 * the analysis and ranking tests (header-only; test_analyze.c, test_rank.c).
 *
 * build() writes the DAG and one daily run per letter of its tasks'
 * history strings (oldest run first, all strings of one length):
 *   S  success, one try in USUAL_S      s  success in FAST_S seconds
 *   F  failed, one try, log stored      f  failed after LONG_S seconds
 *   R  try 1 failed (log), try 2 passed X  try 1 and try 2 failed (logs)
 *   N  failed, one try, no log stored   U  upstream_failed (no try)
 *   Q  still queued (not started)       >  still running (try 1 started)
 *   -  no task instance in that run
 * Within a run the tasks go one after another in the order given, each
 * queued QUEUE_S seconds before it starts.  A run with a Q or > is still
 * running; any other run failed if one of its tasks did not succeed.  No
 * sync time is recorded unless synced_after() says when the states were
 * read (else the analysis reads them as of the newest time stored).
 *
 * Also: the Airflow 2 logs both files fail tasks with, the pattern
 * library (library_load), and a store in a temp dir (fx_open, fx_close).
 * Include after <cmocka.h>. */
#ifndef DAGDOC_TEST_HISTORY_FIXTURE_H
#define DAGDOC_TEST_HISTORY_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dagdoc/analyze.h"
#include "dagdoc/classify.h"
#include "dagdoc/store.h"

/* ---- realistic failure logs (Airflow 2 task logs) ------------------------------ */

#define A2(ts, src, level, msg) "[2026-03-05T" ts "+0000] {" src "} " level " - " msg "\n"

/* pandas 2 removed DataFrame.append; raised through site-packages/pandas
 * from line 14 of dags/churn/features.py. */
static const char LOG_PANDAS[] =
	A2("02:00:01.102", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 1")
	A2("02:00:01.120", "taskinstance.py:2890", "INFO", "Executing <Task(PythonOperator): features> on 2026-03-05 02:00:00+00:00")
	A2("02:00:04.311", "features.py:13", "INFO", "building features for 48211 customers")
	A2("02:00:09.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	"Traceback (most recent call last):\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/airflow/models/taskinstance.py\", line 767, in _execute_task\n"
	"    result = _execute_callable(context=context, **execute_callable_kwargs)\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/airflow/operators/python.py\", line 238, in execute\n"
	"    return_value = self.execute_callable()\n"
	"  File \"/opt/airflow/dags/churn/features.py\", line 14, in build_features\n"
	"    df = df.append(extra, ignore_index=True)\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/pandas/core/generic.py\", line 6299, in __getattr__\n"
	"    return object.__getattribute__(self, name)\n"
	"AttributeError: 'DataFrame' object has no attribute 'append'\n"
	A2("02:00:09.431", "taskinstance.py:1225", "INFO", "Marking task as FAILED. dag_id=train_churn, task_id=features, "
	   "run_id=scheduled__2026-03-05T02:00:00+00:00, execution_date=20260305T020000, start_date=20260305T020001, "
	   "end_date=20260305T020009")
	A2("02:00:09.460", "local_task_job_runner.py:243", "INFO", "Task exited with return code 1");

/* A dropped connection to a partner API: passes on retry. */
static const char LOG_RESET[] =
	A2("02:00:01.102", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 2")
	A2("02:00:02.001", "extract.py:21", "INFO", "GET https://api.partner.example/v2/orders")
	A2("02:00:33.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	"Traceback (most recent call last):\n"
	"  File \"/opt/airflow/dags/orders/extract.py\", line 24, in fetch_orders\n"
	"    resp = session.get(url, timeout=30)\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/requests/sessions.py\", line 602, in get\n"
	"    return self.request(\"GET\", url, **kwargs)\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/requests/adapters.py\", line 682, in send\n"
	"    raise ConnectionError(err, request=request)\n"
	"requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))\n"
	A2("02:00:33.431", "taskinstance.py:1225", "INFO", "Marking task as UP_FOR_RETRY. dag_id=orders, task_id=extract, "
	   "run_id=scheduled__2026-03-05T02:00:00+00:00, execution_date=20260305T020000, start_date=20260305T020001, "
	   "end_date=20260305T020033")
	A2("02:00:33.460", "local_task_job_runner.py:243", "INFO", "Task exited with return code 1");

/* The OOM killer ends a task that loaded too much (no traceback). */
static const char LOG_SIGKILL[] =
	A2("02:00:01.102", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 1")
	A2("02:00:03.000", "sessions.py:31", "INFO", "reading 9,612,004 rows from events_raw for 2026-03-05")
	A2("02:00:41.000", "sessions.py:38", "INFO", "loaded 9,612,004 rows into memory; building session aggregates")
	A2("03:00:01.417", "local_task_job_runner.py:243", "INFO", "Task exited with return code Negsignal.SIGKILL")
	A2("03:00:01.460", "taskinstance.py:3503", "INFO", "0 downstream tasks scheduled from follow-on schedule check");

/* ---- the history ------------------------------------------------------------------ */

#define DAY_MS 86400000LL
#define QUEUE_S 5           /* from queued to started, every task instance */
#define USUAL_S 600         /* a success's duration unless the task says otherwise */
#define FAIL_S 60           /* a failed try's duration unless the task says otherwise */
#define FAST_S 30           /* 's': a success far faster than usual */
#define LONG_S 3600         /* 'f': a failed try far longer than usual */
#define RETRY_DELAY_S 300

static struct pat_library *lib;

/* One task of the DAG and what it did in each run (letters above). */
struct task_def {
	const char *id;
	const char *history;
	const char *log;          /* log of each failed try */
	const char *down;         /* space-separated downstream task ids, or NULL */
	const char *op;           /* operator (NULL: PythonOperator) */
	int sensor;
	int fail_s;               /* a failed try's duration (0: FAIL_S) */
};

struct fx {
	char dir[64];
	struct dd_store *store;
	int64_t source_ref, dag_ref;
	int64_t t0;               /* logical date of the first run */
	const char *fileloc;      /* the DAG's file (NULL: /opt/airflow/dags/<dag_id>.py) */
	const char *source_kind;  /* the source's kind (NULL: "airflow") */
	int prefect_keys;         /* name each task instance as Prefect names task runs: <task>-<3 hex
	                             digits of its run>, the task's name as its operator */
	char dag_id[64];          /* of the DAG build() wrote */
	int64_t open_ms;          /* newest queued ('Q') or started ('>') time of an unfinished instance */
	struct an_result an;
	int analysed;
};

static inline void must(int rc, const struct dd_error *err, const char *what)
{
	if (rc < 0)
		fail_msg("%s: %s", what, err->msg);
}

/* Loads the pattern library of $ROOT/patterns into `lib` (cmocka group setup). */
static inline int library_load(void)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_strv problems = DD_STRV_INIT;
	const char *root = getenv("ROOT");
	char *dir = dd_xasprintf("%s/patterns", root && *root ? root : ".");
	int rc;

	setenv("DAGDOC_NO_CACHE", "1", 1);
	rc = classify_library_load(dir, NULL, &lib, &problems, &err);
	for (size_t i = 0; i < problems.n; i++)
		fprintf(stderr, "%s\n", problems.v[i]);
	if (rc < 0)
		fprintf(stderr, "loading %s: %s\n", dir, err.msg);
	dd_strv_release(&problems);
	free(dir);
	return rc < 0 ? -1 : 0;
}

/* cmocka group setup and teardown of a test file that only needs `lib`. */
static inline int library_group_setup(void **state)
{
	(void)state;
	return library_load();
}

static inline int library_group_teardown(void **state)
{
	(void)state;
	pat_library_free(lib);
	return 0;
}

/* An empty store in /tmp/dd-<name>-XXXXXX; the first run is on 2026-03-01. */
static inline int fx_open(struct fx *f, const char *name)
{
	struct dd_error err = DD_ERROR_INIT;
	char *db;

	snprintf(f->dir, sizeof(f->dir), "/tmp/dd-%s-XXXXXX", name);
	if (!mkdtemp(f->dir))
		return -1;
	db = dd_xasprintf("%s/dagdoc.db", f->dir);
	if (store_open(db, &f->store, &err) < 0) {
		fprintf(stderr, "store_open: %s\n", err.msg);
		free(db);
		return -1;
	}
	free(db);
	return dd_parse_time("2026-03-01T02:00:00Z", &f->t0) < 0 ? -1 : 0;
}

/* Releases the analysis and the store and removes the temp dir (not f). */
static inline int fx_close(struct fx *f)
{
	char cmd[128];

	if (f->analysed)
		analyze_release(&f->an);
	store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "scheduled__2026-03-05T02:00:00+00:00" for run n (1-based). */
static inline char *run_id(int n)
{
	return dd_xasprintf("scheduled__2026-03-%02dT02:00:00+00:00", n);
}

/* One try of a task instance; a running try has no end.  Returns its end. */
static inline int64_t put_try(struct fx *f, int64_t ti_ref, const char *run, const char *task, int n,
                              enum dd_state st, int64_t start, int seconds, const char *log)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_try t;
	int64_t ref;

	memset(&t, 0, sizeof(t));
	t.run_id = (char *)run;
	t.task_id = (char *)task;
	t.map_index = -1;
	t.try_number = n;
	t.state = st;
	t.hostname = (char *)"worker-1";
	t.queued_ms = start - QUEUE_S * 1000LL;
	t.start_ms = start;
	t.end_ms = st == DD_STATE_RUNNING ? 0 : start + seconds * 1000LL;
	must(store_try_put(f->store, ti_ref, &t, &ref, &err), &err, "store_try_put");
	if (log)
		must(store_log_put(f->store, ref, log, strlen(log), 0, 0, &err), &err, "store_log_put");
	return t.end_ms;
}

/* Writes the DAG "dag_id" with these tasks and one run per letter of their histories. */
static inline void build(struct fx *f, const char *dag_id, const struct task_def *tasks, size_t n_tasks)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_dag dag;
	size_t n_runs = strlen(tasks[0].history);

	must(store_source_put(f->store, "prod", f->source_kind ? f->source_kind : "airflow", "test source",
	                      &f->source_ref, &err), &err, "source");
	memset(&dag, 0, sizeof(dag));
	dag.dag_id = (char *)dag_id;
	snprintf(f->dag_id, sizeof(f->dag_id), "%s", dag_id);
	dag.fileloc = f->fileloc ? dd_xstrdup(f->fileloc) : dd_xasprintf("/opt/airflow/dags/%s.py", dag_id);
	dag.tasks = dd_xcalloc(n_tasks, sizeof(*dag.tasks));
	dag.n_tasks = n_tasks;
	for (size_t i = 0; i < n_tasks; i++) {
		struct dd_task *t = &dag.tasks[i];

		assert_int_equal(strlen(tasks[i].history), n_runs);
		t->task_id = (char *)tasks[i].id;
		t->operator_name = (char *)(tasks[i].op ? tasks[i].op : "PythonOperator");
		t->is_sensor = tasks[i].sensor;
		if (tasks[i].down) {
			const char *p = tasks[i].down;

			t->downstream = dd_xcalloc(8, sizeof(char *));
			while (*p) {
				size_t len = strcspn(p, " ");

				assert_true(t->n_downstream < 7);
				t->downstream[t->n_downstream++] = dd_xstrndup(p, len);
				p += len;
				p += strspn(p, " ");
			}
		}
	}
	must(store_dag_put(f->store, f->source_ref, &dag, &f->dag_ref, &err), &err, "store_dag_put");
	for (size_t i = 0; i < n_tasks; i++) {
		for (size_t d = 0; d < dag.tasks[i].n_downstream; d++)
			free(dag.tasks[i].downstream[d]);
		free(dag.tasks[i].downstream);
	}
	free(dag.tasks);
	free(dag.fileloc);

	for (size_t r = 0; r < n_runs; r++) {
		struct dd_run run;
		int64_t run_ref, logical = f->t0 + (int64_t)r * DAY_MS;
		int64_t cursor = logical + 60000;
		char *rid = run_id((int)r + 1);
		int failed = 0, open = 0;

		memset(&run, 0, sizeof(run));
		run.run_id = rid;
		run.run_type = (char *)"scheduled";
		run.state = DD_STATE_RUNNING;
		run.logical_ms = logical;
		run.queued_ms = logical + 30000;
		run.start_ms = cursor;
		must(store_run_put(f->store, f->dag_ref, &run, &run_ref, &err), &err, "store_run_put");
		for (size_t i = 0; i < n_tasks; i++) {
			const struct task_def *td = &tasks[i];
			char c = td->history[r];
			int fail_s = td->fail_s ? td->fail_s : FAIL_S;
			int ends = c != 'U' && c != 'Q' && c != '>';
			struct dd_task_instance ti;
			int64_t ti_ref, start = cursor + QUEUE_S * 1000LL, end = start;
			char keyed[80];

			if (c == '-')
				continue;
			memset(&ti, 0, sizeof(ti));
			ti.run_id = rid;
			ti.task_id = (char *)td->id;
			ti.map_index = -1;
			ti.operator_name = (char *)(td->op ? td->op : "PythonOperator");
			if (f->prefect_keys) {
				snprintf(keyed, sizeof(keyed), "%s-%03zx", td->id, (r * 2654435761u) & 0xfff);
				ti.task_id = keyed;
				ti.operator_name = (char *)td->id;
			}
			ti.hostname = (char *)"worker-1";
			ti.queued_ms = cursor;
			switch (c) {
			case 'S': case 's': case 'R': ti.state = DD_STATE_SUCCESS; break;
			case 'F': case 'f': case 'X': case 'N': ti.state = DD_STATE_FAILED; break;
			case 'U': ti.state = DD_STATE_UPSTREAM_FAILED; break;
			case 'Q': ti.state = DD_STATE_QUEUED; break;
			case '>': ti.state = DD_STATE_RUNNING; break;
			default: fail_msg("bad history letter '%c'", c);
			}
			ti.try_number = c == 'U' || c == 'Q' ? 0 : c == 'R' || c == 'X' ? 2 : 1;
			ti.max_tries = c == 'R' || c == 'X' ? 2 : 1;
			if (c == 'U')
				ti.queued_ms = 0;
			else if (c != 'Q')
				ti.start_ms = start;
			must(store_ti_put(f->store, run_ref, &ti, &ti_ref, &err), &err, "store_ti_put");
			switch (c) {
			case 'S': end = put_try(f, ti_ref, rid, td->id, 1, DD_STATE_SUCCESS, start, USUAL_S, NULL); break;
			case 's': end = put_try(f, ti_ref, rid, td->id, 1, DD_STATE_SUCCESS, start, FAST_S, NULL); break;
			case 'F': end = put_try(f, ti_ref, rid, td->id, 1, DD_STATE_FAILED, start, fail_s, td->log); break;
			case 'f': end = put_try(f, ti_ref, rid, td->id, 1, DD_STATE_FAILED, start, LONG_S, td->log); break;
			case 'N': end = put_try(f, ti_ref, rid, td->id, 1, DD_STATE_FAILED, start, fail_s, NULL); break;
			case 'R':
				end = put_try(f, ti_ref, rid, td->id, 1, DD_STATE_UP_FOR_RETRY, start, fail_s, td->log);
				end = put_try(f, ti_ref, rid, td->id, 2, DD_STATE_SUCCESS, end + RETRY_DELAY_S * 1000LL, USUAL_S, NULL);
				break;
			case 'X':
				end = put_try(f, ti_ref, rid, td->id, 1, DD_STATE_UP_FOR_RETRY, start, fail_s, td->log);
				end = put_try(f, ti_ref, rid, td->id, 2, DD_STATE_FAILED, end + RETRY_DELAY_S * 1000LL, fail_s, td->log);
				break;
			case 'Q':
				f->open_ms = ti.queued_ms > f->open_ms ? ti.queued_ms : f->open_ms;
				break;
			case '>':
				put_try(f, ti_ref, rid, td->id, 1, DD_STATE_RUNNING, start, 0, NULL);
				f->open_ms = start > f->open_ms ? start : f->open_ms;
				break;
			default: break;
			}
			if (ends) {
				ti.end_ms = end;
				must(store_ti_put(f->store, run_ref, &ti, &ti_ref, &err), &err, "store_ti_put (end)");
				cursor = end;
			}
			failed |= ti.state != DD_STATE_SUCCESS;
			open |= c == 'Q' || c == '>';
		}
		if (!open) {
			run.state = failed ? DD_STATE_FAILED : DD_STATE_SUCCESS;
			run.end_ms = cursor + 5000;
			must(store_run_put(f->store, f->dag_ref, &run, &run_ref, &err), &err, "store_run_put (end)");
		}
		free(rid);
	}
}

/* One task, one letter per daily run: runs(f, "features", "SSSSFFFF", LOG_PANDAS). */
static inline void runs(struct fx *f, const char *task, const char *history, const char *log)
{
	struct task_def t = { task, history, log, NULL, NULL, 0, 0 };

	build(f, "train_churn", &t, 1);
}

/* Records that the source was last read `seconds` after the newest
 * unfinished instance was queued ('Q') or started ('>'). */
static inline void synced_after(struct fx *f, int seconds)
{
	struct dd_error err = DD_ERROR_INIT;

	assert_true(f->open_ms > 0);
	must(store_cursor_put_i64(f->store, f->source_ref, f->dag_id, STORE_CURSOR_RUNS_READ,
	                          f->open_ms + seconds * 1000LL, &err), &err, "store_cursor_put_i64");
}

static inline const struct an_result *analyse(struct fx *f)
{
	struct dd_error err = DD_ERROR_INIT;

	if (f->analysed)
		analyze_release(&f->an);
	must(analyze_dag(f->store, f->dag_ref, lib, 0, 0, &f->an, &err), &err, "analyze_dag");
	f->analysed = 1;
	return &f->an;
}

/* The logical date of run n (1-based). */
static inline int64_t logical(const struct fx *f, int n)
{
	return f->t0 + (int64_t)(n - 1) * DAY_MS;
}

static inline void assert_run(const char *got, int n)
{
	char *want = run_id(n);

	if (!got)
		fail_msg("expected run %d (%s), got none", n, want);
	assert_string_equal(got, want);
	free(want);
}

#endif
