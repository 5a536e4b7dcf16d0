/* Unit tests: src/analyze.c (failure groups, onsets, flakiness, stalls) on
 * small run histories written to a real store (history_fixture.h) and
 * classified with the built-in pattern library. */
#include "dagdoc/util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dagdoc/analyze.h"
#include "dagdoc/classify.h"
#include "dagdoc/store.h"
#include "history_fixture.h"

/* ---- failure logs of these tests ------------------------------------------------ */

/* A missing key raised in a helper shared by two tasks (the innermost
 * in-app frame, and so the fingerprint, is the same for both). */
#define LOG_KEYERROR(task, file, line)                                                                        \
	A2("02:00:01.102", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 1")                          \
	A2("02:00:02.310", task ".py:" #line, "INFO", "loaded 1842 rows from crm." task)                       \
	A2("02:00:06.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")                       \
	"Traceback (most recent call last):\n"                                                                 \
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/airflow/operators/python.py\", line 238, in execute\n" \
	"    return_value = self.execute_callable()\n"                                                         \
	"  File \"/opt/airflow/dags/crm/" file "\", line " #line ", in " task "\n"                             \
	"    upsert(rows, key=\"customer_id\")\n"                                                              \
	"  File \"/opt/airflow/dags/common/warehouse.py\", line 42, in upsert\n"                               \
	"    keys = [row[key] for row in rows]\n"                                                              \
	"  File \"/opt/airflow/dags/common/warehouse.py\", line 42, in <listcomp>\n"                           \
	"    keys = [row[key] for row in rows]\n"                                                              \
	"KeyError: 'customer_id'\n"                                                                            \
	A2("02:00:06.431", "taskinstance.py:1225", "INFO", "Marking task as FAILED. dag_id=crm, task_id=" task)  \
	A2("02:00:06.460", "local_task_job_runner.py:243", "INFO", "Task exited with return code 1")

static const char LOG_KEY_ORDERS[] = LOG_KEYERROR("load_orders", "load_orders.py", 31);
static const char LOG_KEY_CUSTOMERS[] = LOG_KEYERROR("load_customers", "load_customers.py", 18);

/* An ExternalTaskSensor gives up after its 900 s timeout. */
static const char LOG_SENSOR[] =
	A2("02:00:01.102", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 1")
	A2("02:00:01.200", "external_task.py:266", "INFO",
	   "Poking for tasks ['publish'] in dag ingest_orders on 2026-03-05T02:00:00+00:00 ... ")
	A2("02:10:01.200", "external_task.py:266", "INFO",
	   "Poking for tasks ['publish'] in dag ingest_orders on 2026-03-05T02:00:00+00:00 ... ")
	A2("02:15:03.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	"Traceback (most recent call last):\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/airflow/sensors/base.py\", line 297, in execute\n"
	"    raise AirflowSensorTimeout(message)\n"
	"airflow.exceptions.AirflowSensorTimeout: Sensor has timed out; run duration of 901.734000 seconds "
	"exceeds the specified timeout of 900.0.\n"
	A2("02:15:03.431", "taskinstance.py:1225", "INFO", "Marking task as FAILED. dag_id=report, task_id=wait_for_orders")
	A2("02:15:03.460", "local_task_job_runner.py:243", "INFO", "Task exited with return code 1");

/* ---- fixtures -------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = dd_xcalloc(1, sizeof(*f));

	*state = f;
	return fx_open(f, "analyze");
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc = fx_close(f);

	free(f);
	return rc;
}

static const struct an_group *only_group(const struct an_result *an)
{
	assert_int_equal(an->n_groups, 1);
	return &an->groups[0];
}

static const struct an_group *group_of(const struct an_result *an, const char *task)
{
	for (size_t i = 0; i < an->n_groups; i++)
		if (dd_strv_contains(&an->groups[i].task_ids, task))
			return &an->groups[i];
	fail_msg("no failure group for task %s", task);
	return NULL;
}

static const struct an_task *task_of(const struct an_result *an, const char *task)
{
	const struct an_task *t = an_result_task(an, task);

	if (!t)
		fail_msg("no task %s in the analysis", task);
	return t;
}

static size_t count_stalls(const struct an_result *an, enum an_stall_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < an->n_stalls; i++)
		n += an->stalls[i].kind == kind;
	return n;
}

static const struct an_stall *stall_of(const struct an_result *an, enum an_stall_kind kind)
{
	assert_int_equal(count_stalls(an, kind), 1);
	for (size_t i = 0; i < an->n_stalls; i++)
		if (an->stalls[i].kind == kind)
			return &an->stalls[i];
	return NULL;
}

/* The fingerprint the classifier gives this log on its own. */
static char *fingerprint_of(const char *log)
{
	struct dd_failure fl;
	struct dd_error err = DD_ERROR_INIT;
	char *fp;

	must(classify_buffer(lib, "log", log, strlen(log), &fl, &err), &err, "classify_buffer");
	assert_non_null(fl.fingerprint);
	fp = dd_xstrdup(fl.fingerprint);
	dd_failure_release(&fl);
	return fp;
}

/* ---- onset and streaks ------------------------------------------------------------ */

/* Four good runs, then the pandas upgrade breaks every run. */
static void test_onset_after_good_runs(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	const struct an_group *g;
	const struct an_task *t;
	char *fp = fingerprint_of(LOG_PANDAS);

	runs(f, "features", "SSSSFFFF", LOG_PANDAS);
	an = analyse(f);
	assert_string_equal(an->dag_id, "train_churn");
	assert_string_equal(an->source, "prod");
	assert_int_equal(an->n_runs, 8);
	assert_int_equal(an->n_success, 4);
	assert_int_equal(an->n_failed, 4);
	assert_int_equal(an->n_running, 0);
	assert_int_equal(an->n_unlogged, 0);
	assert_int_equal(an->n_classified, 4);
	assert_int_equal(an->n_stalls, 0);

	g = only_group(an);
	assert_string_equal(g->fingerprint, fp);
	assert_int_equal(g->task_ids.n, 1);
	assert_string_equal(g->task_ids.v[0], "features");
	assert_int_equal(g->n_tries, 4);
	assert_int_equal(g->n_runs, 4);
	assert_int_equal(g->n_runs_final, 4);
	assert_int_equal(g->n_tis, 4);
	assert_int_equal(g->retry_recovered, 0);
	assert_run(g->first_run, 5);
	assert_run(g->last_run, 8);
	assert_int_equal(g->first_ms, logical(f, 5));
	assert_int_equal(g->last_ms, logical(f, 8));
	assert_run(g->onset_run, 5);
	assert_int_equal(g->onset_ms, logical(f, 5));
	assert_run(g->last_good_run, 4);
	assert_int_equal(g->last_good_ms, logical(f, 4));
	assert_int_equal(g->good_before, 4);
	assert_int_equal(g->runs_since_onset, 4);
	assert_int_equal(g->failed_since_onset, 4);
	assert_int_equal(g->still_failing, 1);
	assert_float_equal(g->onset_sharpness, 1.0, 1e-9);
	assert_int_equal(g->downstream_upstream_failed, 0);

	/* The newest failed try, classified in full, with its traceback. */
	assert_string_equal(g->failure.category, "dependency_upgrade");
	assert_string_equal(g->failure.pattern, "dep.pandas-removed-method");
	assert_string_equal(g->failure.exc_type, "AttributeError");
	assert_string_equal(dd_failure_entity(&g->failure, "package"), "pandas");
	assert_int_equal(g->failure.n_frames, 4);
	assert_string_equal(g->failure.frames[2].file, "/opt/airflow/dags/churn/features.py");
	assert_int_equal(g->failure.frames[2].line, 14);
	assert_true(g->failure.frames[2].in_app);
	assert_false(g->failure.frames[3].in_app);
	assert_true(dd_strv_contains(&g->failure.packages, "pandas"));
	assert_true(g->try_ref > 0);
	/* the times things ran: the failed try's start, the last good try's */
	assert_int_equal(g->onset_start_ms, logical(f, 5) + 60000 + QUEUE_S * 1000LL);
	assert_int_equal(g->last_good_start_ms, logical(f, 4) + 60000 + QUEUE_S * 1000LL);
	/* tied to pandas by its frame */
	assert_true(g->n_ties >= 1);
	assert_string_equal(g->ties[0].dist, "pandas");
	assert_true(g->ties[0].links & AN_LINK_FRAME);
	assert_int_equal(g->interp.weight, 0);

	t = task_of(an, "features");
	assert_int_equal(t->runs, 8);
	assert_int_equal(t->success, 4);
	assert_int_equal(t->failed, 4);
	assert_int_equal(t->retried, 0);
	assert_int_equal(t->flips, 1);
	assert_float_equal(t->median_duration_s, USUAL_S, 1e-9);
	assert_float_equal(t->median_queue_s, 5.0, 1e-9);
	assert_run(t->last_good_run, 4);
	assert_int_equal(t->last_good_ms, logical(f, 4));
	free(fp);
}

/* A task that failed and then passed again is no longer failing. */
static void test_recovered_task_not_still_failing(void **state)
{
	struct fx *f = *state;
	const struct an_group *g;

	runs(f, "features", "SSSFFS", LOG_PANDAS);
	g = only_group(analyse(f));
	assert_int_equal(g->still_failing, 0);
	assert_run(g->onset_run, 4);
	assert_run(g->last_good_run, 3);
	assert_run(g->last_run, 5);
	assert_int_equal(g->good_before, 3);
	assert_int_equal(g->runs_since_onset, 3);
	assert_int_equal(g->failed_since_onset, 2);
	/* two of the three runs since the onset failed, after three good ones */
	assert_float_equal(g->onset_sharpness, 2.0 / 3.0, 1e-9);
}

/* The failing task was renamed: it has no instance in the newest run, but
 * that DAG run succeeded, so the failure is over. */
static void test_later_dag_success_clears_still_failing(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "features", "SSSFF-", LOG_PANDAS, NULL, NULL, 0, 0 },
		{ "features_v2", "-----S", NULL, NULL, NULL, 0, 0 },
	};
	const struct an_result *an;
	const struct an_group *g;

	build(f, "train_churn", tasks, 2);
	an = analyse(f);
	assert_int_equal(an->runs[5].state, DD_STATE_SUCCESS);
	g = only_group(an);
	assert_int_equal(g->still_failing, 0);
	assert_run(g->onset_run, 4);
	assert_run(g->last_run, 5);
	assert_int_equal(g->runs_since_onset, 2);
	assert_int_equal(g->failed_since_onset, 2);
}

/* Same history without the successful run: the failure is ongoing. */
static void test_newest_run_failing_is_still_failing(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "features", "SSSFF", LOG_PANDAS, NULL, NULL, 0, 0 },
		{ "features_v2", "-----", NULL, NULL, NULL, 0, 0 },
	};
	const struct an_group *g;

	build(f, "train_churn", tasks, 2);
	g = only_group(analyse(f));
	assert_int_equal(g->still_failing, 1);
	assert_run(g->onset_run, 4);
}

/* Failed, recovered, failed again: the onset is the current streak's. */
static void test_second_streak_onset(void **state)
{
	struct fx *f = *state;
	const struct an_group *g;

	runs(f, "features", "SSFFSSFF", LOG_PANDAS);
	g = only_group(analyse(f));
	assert_run(g->first_run, 3);
	assert_int_equal(g->first_ms, logical(f, 3));
	assert_run(g->onset_run, 7);
	assert_int_equal(g->onset_ms, logical(f, 7));
	assert_run(g->last_good_run, 6);
	assert_int_equal(g->last_good_ms, logical(f, 6));
	assert_int_equal(g->good_before, 4);
	assert_int_equal(g->n_runs, 4);
	assert_int_equal(g->n_runs_final, 4);
	assert_int_equal(g->runs_since_onset, 2);
	assert_int_equal(g->failed_since_onset, 2);
	assert_int_equal(g->still_failing, 1);
	assert_int_equal(task_of(&f->an, "features")->flips, 3);
}

/* ---- retries and flakiness ------------------------------------------------------- */

/* Two runs recover on a retry, the newest runs out of retries. */
static void test_retry_recovered_and_final(void **state)
{
	struct fx *f = *state;
	const struct an_group *g;
	const struct an_task *t;

	runs(f, "extract", "SSRSRX", LOG_RESET);
	g = only_group(analyse(f));
	assert_string_equal(g->failure.pattern, "net.connection-reset");
	assert_int_equal(g->n_tries, 4);       /* one in each R, two in X */
	assert_int_equal(g->n_tis, 3);
	assert_int_equal(g->retry_recovered, 2);
	assert_int_equal(g->n_runs, 3);
	assert_int_equal(g->n_runs_final, 1);
	assert_run(g->first_run, 3);
	/* recovered runs are neither good nor bad: the onset is the final failure */
	assert_run(g->onset_run, 6);
	assert_run(g->last_good_run, 4);
	assert_int_equal(g->good_before, 3);
	assert_int_equal(g->still_failing, 1);

	t = task_of(&f->an, "extract");
	assert_int_equal(t->success, 5);
	assert_int_equal(t->failed, 1);
	assert_int_equal(t->retried, 3);
	assert_int_equal(t->retry_recovered, 2);
	assert_int_equal(t->flips, 1);
	/* 0.6 x 2/3 recovered + 0.4 x scatter min(1, 1 flip / (2 x 3 bad)) */
	assert_float_equal(t->intermittent, 0.6 * 2.0 / 3.0 + 0.4 / 6.0, 1e-9);
}

/* Every failure passed on its retry: nothing is failing. */
static void test_all_recovered_on_retry(void **state)
{
	struct fx *f = *state;
	const struct an_group *g;
	const struct an_task *t;

	runs(f, "extract", "SSSRRR", LOG_RESET);
	g = only_group(analyse(f));
	assert_int_equal(g->n_tries, 3);
	assert_int_equal(g->n_tis, 3);
	assert_int_equal(g->retry_recovered, 3);
	assert_int_equal(g->n_runs, 3);
	assert_int_equal(g->n_runs_final, 0);
	assert_int_equal(g->still_failing, 0);
	assert_run(g->onset_run, 4);
	assert_int_equal(g->onset_ms, g->first_ms);
	assert_null(g->last_good_run);
	assert_int_equal(g->failed_since_onset, 0);

	t = task_of(&f->an, "extract");
	assert_int_equal(t->success, 6);
	assert_int_equal(t->failed, 0);
	assert_int_equal(t->retry_recovered, 3);
	assert_float_equal(t->intermittent, 0.6, 1e-9);
	/* a recovered retry's duration is its passing try's */
	assert_float_equal(t->median_duration_s, USUAL_S, 1e-9);
}

/* Failures scattered between successes score as intermittent; a clean
 * onset (good, then always bad) does not. */
static void test_intermittent_scattered_vs_clean_onset(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "extract", "SFSFSFSF", LOG_RESET, NULL, NULL, 0, 0 },
		{ "features", "SSSSFFFF", LOG_PANDAS, NULL, NULL, 0, 0 },
	};
	const struct an_result *an;
	const struct an_task *flaky, *clean;

	build(f, "train_churn", tasks, 2);
	an = analyse(f);
	flaky = task_of(an, "extract");
	clean = task_of(an, "features");
	assert_int_equal(flaky->flips, 7);
	assert_int_equal(clean->flips, 1);
	/* 0.4 x scatter: 7 flips / (2 x 4 failures) vs 1 / 8 */
	assert_float_equal(flaky->intermittent, 0.4 * 7.0 / 8.0, 1e-9);
	assert_float_equal(clean->intermittent, 0.4 * 1.0 / 8.0, 1e-9);
	assert_true(flaky->intermittent > 6 * clean->intermittent);
	assert_int_equal(an->n_groups, 2);
	assert_float_equal(group_of(an, "features")->onset_sharpness, 1.0, 1e-9);
}

/* A task that has flapped all along: its newest failure is no sharp onset
 * (4 good and 3 failed runs before it: 4/7). */
static void test_scattered_failures_not_sharp(void **state)
{
	struct fx *f = *state;
	const struct an_group *g;

	runs(f, "extract", "SFSFSFSF", LOG_RESET);
	g = only_group(analyse(f));
	assert_run(g->onset_run, 8);
	assert_int_equal(g->good_before, 4);
	assert_float_equal(g->onset_sharpness, 4.0 / 7.0, 1e-9);
}

/* ---- grouping ------------------------------------------------------------------------ */

/* Two tasks failing with the same error in a shared helper share a group;
 * another error makes its own. */
static void test_same_error_two_tasks_one_group(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "load_customers", "SSSSFF", LOG_KEY_CUSTOMERS, NULL, NULL, 0, 0 },
		{ "load_orders", "SSSFFF", LOG_KEY_ORDERS, NULL, NULL, 0, 0 },
		{ "publish", "SSSSSF", LOG_RESET, NULL, NULL, 0, 0 },
	};
	const struct an_result *an;
	const struct an_group *g;
	char *fp1 = fingerprint_of(LOG_KEY_ORDERS), *fp2 = fingerprint_of(LOG_KEY_CUSTOMERS);

	assert_string_equal(fp1, fp2);
	build(f, "crm", tasks, 3);
	an = analyse(f);
	assert_int_equal(an->n_groups, 2);
	g = &an->groups[0];                    /* most failed runs first */
	assert_string_equal(g->fingerprint, fp1);
	assert_string_equal(g->failure.pattern, "code.key-error");
	assert_string_equal(g->failure.exc_type, "KeyError");
	assert_int_equal(g->task_ids.n, 2);
	assert_string_equal(g->task_ids.v[0], "load_orders");      /* failed first */
	assert_string_equal(g->task_ids.v[1], "load_customers");
	assert_int_equal(g->n_tries, 5);
	assert_int_equal(g->n_tis, 5);
	assert_int_equal(g->n_runs, 3);
	assert_int_equal(g->n_runs_final, 3);
	assert_run(g->onset_run, 4);
	assert_run(g->last_good_run, 3);
	assert_int_equal(g->good_before, 3);
	assert_int_equal(g->still_failing, 1);
	assert_string_equal(g->failure.frames[g->failure.n_frames - 1].file, "/opt/airflow/dags/common/warehouse.py");

	g = &an->groups[1];
	assert_int_equal(g->task_ids.n, 1);
	assert_string_equal(g->task_ids.v[0], "publish");
	assert_string_equal(g->failure.pattern, "net.connection-reset");
	assert_int_equal(g->n_runs_final, 1);
	free(fp1);
	free(fp2);
}

/* ---- the failing log against the last success's --------------------------------- */

static const char LOG_EMPTY_INPUT[] =
	A2("05:00:01.102", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 2")
	A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 0 orders from /data/kpis/orders.parquet")
	A2("05:00:02.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	"Traceback (most recent call last):\n"
	"  File \"/opt/airflow/dags/kpis/kpis.py\", line 3, in compute_kpis\n"
	"    avg_basket = revenue / len(orders)\n"
	"ZeroDivisionError: division by zero\n";

static int put_baseline_log(const struct dd_store_try *t, void *ud)
{
	struct fx *f = ((void **)ud)[0];
	const char *log = ((void **)ud)[1];
	struct dd_error err = DD_ERROR_INIT;

	must(store_log_put(f->store, t->ref, log, strlen(log), 0, 0, &err), &err, "store_log_put");
	return 0;
}

/* The task's last success logged `ok_log` (sync stores it as the baseline). */
static void last_success_logged(struct fx *f, const char *task, const char *ok_log)
{
	struct dd_error err = DD_ERROR_INIT;
	void *ud[2] = { f, (void *)ok_log };

	must(store_last_success_try(f->store, f->dag_ref, task, 0, put_baseline_log, ud, &err), &err,
	     "store_last_success_try");
}

/* "loaded 0 orders" where the last success loaded thousands: the input vanished. */
static void test_input_gone_since_last_success(void **state)
{
	struct fx *f = *state;
	const struct an_group *g;

	runs(f, "compute_kpis", "SSSSFF", LOG_EMPTY_INPUT);
	last_success_logged(f, "compute_kpis",
	                    A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 3,120 orders from /data/kpis/orders.parquet")
	                    A2("05:00:02.002", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 2")
	                    A2("05:00:09.000", "python.py:240", "INFO", "Done. Returned value was: 3120"));
	g = only_group(analyse(f));
	assert_non_null(g->input_drop);
	assert_non_null(strstr(g->input_drop, "\"loaded 0 orders from /data/kpis/orders.parquet\""));
	assert_non_null(strstr(g->input_drop, "\"loaded 3,120 orders from /data/kpis/orders.parquet\""));
	{
		char *fourth = run_id(4);

		assert_non_null(strstr(g->input_drop, fourth));
		free(fourth);
	}
}

/* Small counts, counts that did not fall to (nearly) zero, a line the log
 * repeats, and numbers that count no things (a pid, a duration) are no
 * evidence; nor is another task's success. */
static void test_input_not_gone(void **state)
{
#define PID_LINE(pid) A2("05:00:01.000", "standard_task_runner.py:63", "INFO", "Started process " pid " to run task")
#define TOOK_LINE(s) A2("05:00:01.500", "kpis.py:30", "INFO", "query took " s " seconds")
	static const char LOG_LOW_PID[] = PID_LINE("27") TOOK_LINE("0")
		A2("05:00:02.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/kpis/kpis.py\", line 3, in compute_kpis\n"
		"    avg_basket = revenue / len(orders)\n"
		"ZeroDivisionError: division by zero\n";
	static const struct { const char *fail, *ok; } cases[] = {
		{ LOG_EMPTY_INPUT, A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 40 orders from /data/kpis/orders.parquet") },
		{ LOG_EMPTY_INPUT, A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 0 orders from /data/kpis/orders.parquet") },
		{ LOG_EMPTY_INPUT, A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 3120 orders from /data/kpis/orders.parquet")
		                   A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 3120 orders from /data/kpis/orders.parquet") },
		{ LOG_LOW_PID, PID_LINE("48213") TOOK_LINE("340") },
	};
#undef PID_LINE
#undef TOOK_LINE

	for (size_t i = 0; i < DD_ARRAY_SIZE(cases); i++) {
		struct fx *f;

		teardown(state);
		assert_int_equal(setup(state), 0);
		f = *state;
		runs(f, "compute_kpis", "SSSSFF", cases[i].fail);
		last_success_logged(f, "compute_kpis", cases[i].ok);
		assert_null(only_group(analyse(f))->input_drop);
	}
}

/* The baseline is the last success of the task whose try failed newest,
 * not of the group's first task: a failed first (run 3) and succeeded
 * after, b fails in runs 5 and 6 with the same error.  Only a's success
 * logged a count, so there is nothing to compare b's failure with. */
static void test_input_compared_within_the_task(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "a", "SSFSS-", LOG_EMPTY_INPUT, NULL, NULL, 0, 0 },
		{ "b", "SSSSFF", LOG_EMPTY_INPUT, NULL, NULL, 0, 0 },
	};
	const struct an_group *g;

	build(f, "kpis", tasks, DD_ARRAY_SIZE(tasks));
	last_success_logged(f, "a",
	                    A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 3120 orders from /data/kpis/orders.parquet"));
	g = only_group(analyse(f));
	assert_int_equal(g->task_ids.n, 2);
	assert_string_equal(g->task_ids.v[0], "a");
	assert_null(g->input_drop);
	last_success_logged(f, "b",
	                    A2("05:00:02.001", "kpis.py:20", "INFO", "loaded 3120 orders from /data/kpis/orders.parquet"));
	assert_non_null(only_group(analyse(f))->input_drop);
}

/* A second analysis reads the classifications back from the store. */
static void test_classifications_cached(void **state)
{
	struct fx *f = *state;
	char *fp;

	runs(f, "features", "SSSFFF", LOG_PANDAS);
	assert_int_equal(analyse(f)->n_classified, 3);
	fp = dd_xstrdup(only_group(&f->an)->fingerprint);
	assert_int_equal(analyse(f)->n_classified, 0);
	assert_string_equal(only_group(&f->an)->fingerprint, fp);
	assert_int_equal(only_group(&f->an)->n_runs_final, 3);
	free(fp);
}

/* Each stored log is read (and decompressed) at most once per analysis:
 * a try classified while grouping is not read again for its group, and a
 * cached one only for its group's newest failure. */
static void test_each_log_read_once(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "features", "SSSFFX", LOG_PANDAS, NULL, NULL, 0, 0 },
		{ "extract", "SRSRSS", LOG_RESET, NULL, NULL, 0, 0 },
	};
	const struct an_result *an;

	build(f, "train_churn", tasks, 2);
	an = analyse(f);
	/* cold: 4 failed tries of features, 2 of extract, every log read once */
	assert_int_equal(an->n_classified, 6);
	assert_int_equal(an->n_log_reads, 6);
	assert_int_equal(an->n_groups, 2);
	/* warm: only each group's newest failure is read, for its frames and excerpt */
	an = analyse(f);
	assert_int_equal(an->n_classified, 0);
	assert_int_equal(an->n_log_reads, 2);
}

/* ---- quiet failures: the successful tries' logs ------------------------------------ */

struct success_logs {
	struct fx *f;
	size_t n, seen;
};

/* Stores, for each successful try the store lists (oldest run first), a log whose count is
 * normal until the last two runs, which load nothing. */
static int put_success_log(const struct dd_store_try *t, void *ud)
{
	struct success_logs *s = ud;
	struct dd_error err = DD_ERROR_INIT;
	char log[256];
	long rows = s->seen + 4 < s->n ? 48000 + (long)(s->seen % 3) * 2100 : 0;   /* the last 2 runs' 4 tries: 0 */

	snprintf(log, sizeof(log), "[2026-03-05T02:00:04.311+0000] {logging_mixin.py:190} INFO - Loaded %ld rows into "
	         "warehouse.orders\n", rows);
	s->seen++;
	must(store_log_put(s->f->store, t->ref, log, strlen(log), 0, 0, &err), &err, "store_log_put");
	return 0;
}

static int count_try(const struct dd_store_try *t, void *ud)
{
	(void)t;
	(*(size_t *)ud)++;
	return 0;
}

/* The newest successful tries of each task come from the store (what sync fetches), and the
 * analysis reads each once for quiet failures: the last two runs' "Loaded 0 rows". */
static void test_quiet_from_success_logs(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "extract", "SSSSSSSSSS", NULL, NULL, NULL, 0, 0 },
		{ "load", "SSSSSSSSSS", NULL, NULL, NULL, 0, 0 },
	};
	struct dd_error err = DD_ERROR_INIT;
	struct success_logs s = { f, 20, 0 };
	const struct an_result *an;
	size_t n = 0;

	build(f, "orders", tasks, 2);
	must(store_recent_successes(f->store, f->dag_ref, 0, 3, count_try, &n, &err), &err, "store_recent_successes");
	assert_int_equal(n, 6);                 /* 3 newest of each task */
	n = 0;
	must(store_recent_successes(f->store, f->dag_ref, f->t0 + 8 * DAY_MS, 10, count_try, &n, &err), &err,
	     "store_recent_successes");
	assert_int_equal(n, 4);                 /* the window: runs 9 and 10 */
	must(store_recent_successes(f->store, f->dag_ref, 0, 100, put_success_log, &s, &err), &err,
	     "store_recent_successes");
	assert_int_equal(s.seen, 20);
	an = analyse(f);
	assert_int_equal(an->n_log_reads, 20);  /* each successful log once */
	assert_int_equal(an->n_quiet, 2);       /* both tasks logged the same line in this fixture */
	assert_int_equal(an->quiet[0].kind, QUIET_VALUE);
	assert_string_equal(an->quiet[0].what, "Loaded # rows into warehouse.orders");
	assert_int_equal(an->quiet[0].n_values, 10);
	assert_int_equal(an->quiet[0].onset, 8);
	assert_int_equal(an->n_groups, 0);
}

/* The run x task grid a report draws comes from the analysis: the worst
 * state of each task in each run, its tries, and the newest failed try's
 * category and error. */
static void test_grid(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "features", "SFR", LOG_PANDAS, "train", NULL, 0, 0 },
		{ "train", "SU-", NULL, NULL, NULL, 0, 0 },
	};
	const struct an_grid *g;

	build(f, "train_churn", tasks, 2);
	g = &analyse(f)->grid;
	assert_int_equal(g->n_runs, 3);
	assert_int_equal(g->n_tasks, 2);
	assert_string_equal(g->task_ids[0], "features");
	assert_int_equal(an_grid_cell(g, 0, 0)->state, DD_STATE_SUCCESS);
	assert_int_equal(an_grid_cell(g, 0, 0)->failed_tries, 0);
	assert_int_equal(an_grid_cell(g, 0, 1)->state, DD_STATE_FAILED);
	assert_int_equal(an_grid_cell(g, 0, 1)->tries, 1);
	assert_int_equal(an_grid_cell(g, 0, 1)->failed_tries, 1);
	assert_string_equal(an_grid_cell(g, 0, 1)->category, "dependency_upgrade");
	assert_string_equal(an_grid_cell(g, 0, 1)->error, "AttributeError: 'DataFrame' object has no attribute 'append'");
	assert_int_equal(an_grid_cell(g, 0, 2)->state, DD_STATE_SUCCESS);   /* passed on retry */
	assert_int_equal(an_grid_cell(g, 0, 2)->tries, 2);
	assert_int_equal(an_grid_cell(g, 0, 2)->failed_tries, 1);
	assert_int_equal(an_grid_cell(g, 1, 1)->state, DD_STATE_UPSTREAM_FAILED);
	assert_null(an_grid_cell(g, 1, 1)->category);
	assert_int_equal(an_grid_cell(g, 1, 2)->state, DD_STATE__COUNT);     /* no instance */
	/* the same from the classification cache */
	g = &analyse(f)->grid;
	assert_string_equal(an_grid_cell(g, 0, 1)->category, "dependency_upgrade");
	assert_string_equal(an_grid_cell(g, 0, 1)->error, "AttributeError: 'DataFrame' object has no attribute 'append'");
}

/* Rows in the DAG's order: a task before what depends on it (the smallest id
 * first among those ready), tasks in no dependency last, by id; each cell
 * carries its newest try's wall clock. */
static void test_grid_topological(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "a_report", "SS", NULL, NULL, NULL, 0, 0 },
		{ "load", "SS", NULL, "a_report", NULL, 0, 0 },
		{ "zz_extract", "SS", NULL, "load transform", NULL, 0, 0 },
		{ "transform", "SR", NULL, "load", NULL, 0, 0 },
		{ "cleanup", "SS", NULL, NULL, NULL, 0, 0 },
		{ "b_extract", "SS", NULL, "load", NULL, 0, 0 },
	};
	const char *want[] = { "b_extract", "zz_extract", "transform", "load", "a_report", "cleanup" };
	const struct an_grid *g;
	const struct an_cell *c;

	build(f, "ordered", tasks, DD_ARRAY_SIZE(tasks));
	g = &analyse(f)->grid;
	assert_int_equal(g->n_tasks, DD_ARRAY_SIZE(want));
	for (size_t i = 0; i < DD_ARRAY_SIZE(want); i++)
		assert_string_equal(g->task_ids[i], want[i]);
	/* transform passed on retry in run 2: the cell has its second try's clock */
	c = an_grid_cell(g, 2, 1);
	assert_int_equal(c->state, DD_STATE_SUCCESS);
	assert_int_equal(c->tries, 2);
	assert_true(c->start_ms > 0);
	assert_int_equal((c->end_ms - c->start_ms) / 1000, USUAL_S);
	assert_null(c->task_run_id);
	assert_true(g->run_start_ms[1] > g->run_ms[1]);
}

/* ---- failed tries without a log ------------------------------------------------ */

/* Without a log the state and the task are all there is to group by. */
static void test_unlogged_failure_grouped_by_state(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	const struct an_group *g;

	runs(f, "extract", "SSSNN", NULL);
	an = analyse(f);
	assert_int_equal(an->n_unlogged, 2);
	assert_int_equal(an->n_classified, 0);
	g = only_group(an);
	assert_true(dd_ends_with(g->fingerprint, "failed:extract"));
	assert_int_equal(g->n_tries, 2);
	assert_int_equal(g->n_runs_final, 2);
	assert_run(g->onset_run, 4);
	assert_null(g->failure.category);
	assert_int_equal(g->failure.n_frames, 0);
}

/* A failed try without a log is grouped by "<state>:<task_id>" (analyze.h). */
static void test_unlogged_fingerprint_documented_form(void **state)
{
	struct fx *f = *state;

	runs(f, "extract", "SSSNN", NULL);
	assert_string_equal(only_group(analyse(f))->fingerprint, "failed:extract");
}

/* ---- stalls ------------------------------------------------------------------------- */

/* An ExternalTaskSensor times out twice; its downstream task is left upstream_failed. */
static void test_stall_sensor_timeout(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "build_report", "SSSSUU", NULL, NULL, NULL, 0, 0 },
		{ "wait_for_orders", "SSSSFF", LOG_SENSOR, "build_report", "ExternalTaskSensor", 1, 902 },
	};
	const struct an_result *an;
	const struct an_stall *s;

	build(f, "report", tasks, 2);
	an = analyse(f);
	assert_true(task_of(an, "wait_for_orders")->is_sensor);
	s = stall_of(an, AN_STALL_SENSOR_TIMEOUT);
	assert_string_equal(s->task_id, "wait_for_orders");
	assert_run(s->run_id, 6);
	assert_int_equal(s->count, 2);
	assert_float_equal(s->severity, 0.8, 1e-9);
	assert_non_null(strstr(s->detail, "wait_for_orders"));
	assert_string_equal(only_group(an)->failure.pattern, "stall.sensor-timeout");
	/* a 902 s try is not "far longer" than the usual 600 s */
	assert_int_equal(count_stalls(an, AN_STALL_LONG_RUNNING), 0);
	assert_int_equal(count_stalls(an, AN_STALL_UPSTREAM_FAILED), 1);
	assert_int_equal(an->n_stalls, 2);
}

/* A plain task failing is no sensor timeout. */
static void test_no_sensor_stall_for_plain_task(void **state)
{
	struct fx *f = *state;

	runs(f, "features", "SSSSFF", LOG_PANDAS);
	assert_int_equal(count_stalls(analyse(f), AN_STALL_SENSOR_TIMEOUT), 0);
}

/* A success in 30 s where it takes 600 s: empty input? */
static void test_stall_fast_success(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	const struct an_stall *s;

	runs(f, "load", "SSSSs", NULL);
	an = analyse(f);
	assert_int_equal(an->n_groups, 0);
	assert_int_equal(an->n_stalls, 1);
	s = stall_of(an, AN_STALL_FAST_SUCCESS);
	assert_string_equal(s->task_id, "load");
	assert_run(s->run_id, 5);
	assert_int_equal(s->count, 1);
	assert_non_null(strstr(s->detail, "succeeded in 30 s"));
	assert_non_null(strstr(s->detail, "usually takes 600 s"));
}

/* No fast-success finding without MIN_HISTORY (3) successes to compare with. */
static void test_no_fast_success_without_history(void **state)
{
	struct fx *f = *state;

	runs(f, "load", "Ss", NULL);
	assert_int_equal(analyse(f)->n_stalls, 0);
}

/* The OOM-killed try ran an hour where a success takes ten minutes. */
static void test_stall_long_running_failure(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	const struct an_stall *s;

	runs(f, "aggregate_sessions", "SSSSf", LOG_SIGKILL);
	an = analyse(f);
	assert_int_equal(an->n_stalls, 1);
	s = stall_of(an, AN_STALL_LONG_RUNNING);
	assert_string_equal(s->task_id, "aggregate_sessions");
	assert_run(s->run_id, 5);
	assert_int_equal(s->count, 1);
	assert_non_null(strstr(s->detail, "ran up to 3600 s"));
	assert_non_null(strstr(s->detail, "usually takes 600 s"));
	assert_string_equal(only_group(an)->failure.pattern, "res.task-sigkill");
}

/* extract fails; transform and load (downstream of transform) are left
 * upstream_failed: both are traced to extract. */
static void test_stall_upstream_failed_chain(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "extract", "SSSF", LOG_RESET, "transform", NULL, 0, 0 },
		{ "load", "SSSU", NULL, NULL, NULL, 0, 0 },
		{ "transform", "SSSU", NULL, "load", NULL, 0, 0 },
	};
	const struct an_result *an;
	const struct an_stall *s;
	const struct an_group *g;

	build(f, "orders", tasks, 3);
	an = analyse(f);
	g = only_group(an);
	assert_string_equal(g->task_ids.v[0], "extract");
	assert_int_equal(g->downstream_upstream_failed, 2);
	s = stall_of(an, AN_STALL_UPSTREAM_FAILED);
	assert_string_equal(s->task_id, "extract");
	assert_string_equal(s->entity, "extract");
	assert_run(s->run_id, 4);
	assert_int_equal(s->count, 2);
	assert_int_equal(an->n_stalls, 1);
	assert_int_equal(task_of(an, "load")->upstream_failed, 1);
	assert_int_equal(task_of(an, "transform")->upstream_failed, 1);
	assert_int_equal(task_of(an, "transform")->failed, 0);
}

/* ---- a DAG the scheduler stopped running ---------------------------------------- */

/* Five daily scheduled runs, all good: read 2 days after the last one it is
 * running (a day's gap is usual); read 4 days after, three of its gaps have
 * passed with no run: not running, and a log folder never says so. */
static void test_not_running(void **state)
{
	struct fx *f = *state;
	struct dd_error err = DD_ERROR_INIT;
	const struct an_result *an;

	runs(f, "load", "SSSSS", NULL);
	must(store_cursor_put_i64(f->store, f->source_ref, f->dag_id, STORE_CURSOR_RUNS_READ,
	                          logical(f, 5) + 2 * DAY_MS, &err), &err, "cursor");
	an = analyse(f);
	assert_int_equal(an->cadence_ms, DAY_MS);
	assert_int_equal(an->last_scheduled_ms, logical(f, 5));
	assert_false(an->not_running);
	must(store_cursor_put_i64(f->store, f->source_ref, f->dag_id, STORE_CURSOR_RUNS_READ,
	                          logical(f, 5) + 4 * DAY_MS, &err), &err, "cursor");
	an = analyse(f);
	assert_true(an->not_running);
	assert_false(an->is_paused);
}

/* ---- stuck work (still queued or running when the states were read) ------------ */

/* Running for 2 h in the newest run where a success takes 600 s: far past
 * both 3 x 600 s and the 300 s floor. */
static void test_stuck_running_task(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	const struct an_stall *s;

	runs(f, "load", "SSSS>", NULL);
	synced_after(f, 2 * 3600);
	an = analyse(f);
	assert_int_equal(f->open_ms, logical(f, 5) + 65000);
	assert_int_equal(an->as_of_ms, f->open_ms + 2 * 3600 * 1000LL);
	assert_int_equal(an->runs[4].state, DD_STATE_RUNNING);
	assert_int_equal(an->n_running, 1);
	assert_int_equal(task_of(an, "load")->running, 1);
	assert_int_equal(task_of(an, "load")->runs, 5);
	assert_int_equal(an->n_stalls, 1);
	s = stall_of(an, AN_STALL_STUCK_RUNNING);
	assert_string_equal(s->task_id, "load");
	assert_run(s->run_id, 5);
	assert_int_equal(s->count, 1);
	assert_float_equal(s->seconds, 7200, 1e-9);
	assert_float_equal(s->usual_s, USUAL_S, 1e-9);
	assert_float_equal(s->severity, 0.8, 1e-9);
	assert_non_null(strstr(s->detail, "load has been running for 2h in run scheduled__2026-03-05"));
	assert_non_null(strstr(s->detail, "a success usually takes 10m"));
	assert_int_equal(count_stalls(an, AN_STALL_STUCK_QUEUED), 0);
}

/* Running 20 min (1200 s) where a success takes 600 s: past the 300 s
 * floor but under 3 x 600 s, so not stuck; read again at 40 min, it is. */
static void test_running_under_three_times_usual_not_stuck(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;

	runs(f, "load", "SSSS>", NULL);
	synced_after(f, 20 * 60);
	an = analyse(f);
	assert_int_equal(an->as_of_ms, f->open_ms + 20 * 60 * 1000LL);
	assert_int_equal(an->n_running, 1);
	assert_int_equal(an->n_stalls, 0);

	synced_after(f, 40 * 60);
	an = analyse(f);
	assert_float_equal(stall_of(an, AN_STALL_STUCK_RUNNING)->seconds, 2400, 1e-9);
}

/* Queued for an hour where the task usually waits 5 s to start. */
static void test_stuck_queued_task(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	const struct an_stall *s;

	runs(f, "load", "SSSSQ", NULL);
	synced_after(f, 3600);
	an = analyse(f);
	assert_int_equal(f->open_ms, logical(f, 5) + 60000);
	assert_int_equal(an->n_running, 1);
	assert_int_equal(an->n_stalls, 1);
	s = stall_of(an, AN_STALL_STUCK_QUEUED);
	assert_string_equal(s->task_id, "load");
	assert_run(s->run_id, 5);
	assert_int_equal(s->count, 1);
	assert_float_equal(s->seconds, 3600, 1e-9);
	assert_float_equal(s->usual_s, QUEUE_S, 1e-9);
	assert_non_null(strstr(s->detail, "load has been queued for 1h"));
	assert_non_null(strstr(s->detail, "it usually waits 5s"));
	/* the run is going long too, but a stuck task explains it */
	assert_int_equal(count_stalls(an, AN_STALL_STUCK_RUNNING), 0);
}

/* Queued 4 min where it usually waits 5 s: far over 3 x 5 s but under the
 * 300 s floor, so not stuck; read again at 10 min, it is. */
static void test_queued_under_floor_not_stuck(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;

	runs(f, "load", "SSSSQ", NULL);
	synced_after(f, 4 * 60);
	an = analyse(f);
	assert_int_equal(an->as_of_ms, f->open_ms + 4 * 60 * 1000LL);
	assert_int_equal(an->n_stalls, 0);

	synced_after(f, 10 * 60);
	an = analyse(f);
	assert_float_equal(stall_of(an, AN_STALL_STUCK_QUEUED)->seconds, 600, 1e-9);
}

/* A task needs 3 runs (the running one included) before "usual" means
 * anything: young has 2, load has 3; both have been running 2 h. */
static void test_stuck_needs_three_runs(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "young", "-S>", NULL, NULL, NULL, 0, 0 },
		{ "load", "SS>", NULL, NULL, NULL, 0, 0 },
	};
	const struct an_result *an;
	const struct an_stall *s;

	build(f, "train_churn", tasks, 2);
	synced_after(f, 2 * 3600);
	an = analyse(f);
	assert_int_equal(task_of(an, "young")->runs, 2);
	assert_int_equal(task_of(an, "young")->running, 1);
	assert_int_equal(task_of(an, "load")->runs, 3);
	s = stall_of(an, AN_STALL_STUCK_RUNNING);
	assert_string_equal(s->task_id, "load");
	assert_float_equal(s->seconds, 7200, 1e-9);
}

/* A run going on 2 h past its usual 610 s with no task stuck (publish is
 * new, so it has no usual wait): the run as a whole is stuck. */
static void test_stuck_run_without_stuck_task(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "extract", "SSSSS", NULL, "publish", NULL, 0, 0 },
		{ "publish", "----Q", NULL, NULL, NULL, 0, 0 },
	};
	const struct an_result *an;
	const struct an_stall *s;

	build(f, "orders", tasks, 2);
	synced_after(f, 2 * 3600);
	an = analyse(f);
	assert_int_equal(an->n_stalls, 1);
	s = stall_of(an, AN_STALL_STUCK_RUNNING);
	assert_null(s->task_id);
	assert_run(s->run_id, 5);
	/* a run: start, 5 s queued, 600 s extract, 5 s to end */
	assert_float_equal(s->usual_s, 610, 1e-9);
	/* from the run's start: extract's 605 s, then 2 h with publish queued */
	assert_float_equal(s->seconds, 605 + 7200, 1e-9);
	assert_float_equal(s->severity, 0.6, 1e-9);
	assert_non_null(strstr(s->detail, "with no task stuck"));
}

/* Without a sync time of this DAG's runs the states are read as of the
 * newest time stored for the DAG: here the start of the running try, so
 * nothing has run long.  A later sync of the source (of other DAGs) does
 * not make this DAG's old states any newer. */
static void test_as_of_falls_back_to_newest_stamp(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	struct dd_error err = DD_ERROR_INIT;

	runs(f, "load", "SSSS>", NULL);
	must(store_source_set_synced(f->store, f->source_ref, f->open_ms + 10 * 3600 * 1000LL, &err), &err,
	     "store_source_set_synced");
	must(store_cursor_put_i64(f->store, f->source_ref, "another_dag", STORE_CURSOR_RUNS_READ,
	                          f->open_ms + 10 * 3600 * 1000LL, &err), &err, "store_cursor_put_i64");
	an = analyse(f);
	assert_true(f->open_ms > an->runs[4].start_ms);
	assert_int_equal(an->as_of_ms, f->open_ms);
	assert_int_equal(an->n_running, 1);
	assert_int_equal(an->n_stalls, 0);
}

/* A log folder may be a copy taken long ago: its own newest time is "now",
 * whatever the sync time, so the running try is not 2 h old. */
static void test_as_of_log_folder_ignores_sync_time(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;

	f->source_kind = "logs";
	runs(f, "load", "SSSS>", NULL);
	synced_after(f, 2 * 3600);
	an = analyse(f);
	assert_string_equal(an->source_kind, "logs");
	assert_int_equal(an->as_of_ms, f->open_ms);
	assert_int_equal(an->n_running, 1);
	assert_int_equal(an->n_stalls, 0);
}

/* Prefect names each task run <task>-<dynamic key>, one name per flow run:
 * the analysis groups them by the task, as the Prefect UI does, and finds
 * the task's last success (under another run name) to compare with. */
static void test_prefect_task_runs_are_one_task(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	const struct an_group *g;
	struct task_def t[] = {
		{ "extract", "SSSSSSS", NULL, "load_model", NULL, 0, 0 },
		{ "load_model", "SSSSFFF", LOG_PANDAS, NULL, NULL, 0, 0 },
	};

	f->source_kind = "prefect";
	f->prefect_keys = 1;
	build(f, "nightly_recommendations", t, 2);
	an = analyse(f);
	assert_int_equal(an->n_tasks, 2);
	assert_non_null(an_result_task(an, "load_model"));
	assert_int_equal(an_result_task(an, "load_model")->runs, 7);
	assert_int_equal(an_result_task(an, "load_model")->failed, 3);
	g = only_group(an);
	assert_int_equal(g->task_ids.n, 1);
	assert_string_equal(g->task_ids.v[0], "load_model");
	assert_run(g->onset_run, 5);
	assert_int_equal(g->good_before, 4);
	assert_int_equal(g->still_failing, 1);
}

/* What each run ran (Airflow 3 bundle versions) comes with the runs. */
static void test_bundle_versions_read(void **state)
{
	struct fx *f = *state;
	const struct an_result *an;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_store_run r;
	char *rid;

	runs(f, "rollup", "SSSFF", LOG_PANDAS);
	an = analyse(f);
	assert_null(an->ran);
	for (int n = 1; n <= 5; n++) {
		rid = run_id(n);
		must(store_run_get(f->store, f->dag_ref, rid, &r, &err), &err, "store_run_get");
		must(store_run_version_put(f->store, r.ref, n < 4 ? "aaaa111" : "bbbb222", n < 4 ? 1 : 2, &err), &err,
		     "store_run_version_put");
		dd_run_release(&r.run);
		free(rid);
	}
	an = analyse(f);
	assert_non_null(an->ran);
	assert_string_equal(an->ran[0].bundle_version, "aaaa111");
	assert_int_equal(an->ran[2].dag_version, 1);
	assert_string_equal(an->ran[3].bundle_version, "bbbb222");
	assert_int_equal(an->ran[4].dag_version, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_onset_after_good_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefect_task_runs_are_one_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_versions_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovered_task_not_still_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_later_dag_success_clears_still_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_run_failing_is_still_failing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_streak_onset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_recovered_and_final, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_recovered_on_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intermittent_scattered_vs_clean_onset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scattered_failures_not_sharp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_error_two_tasks_one_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_classifications_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_log_read_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_from_success_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grid_topological, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_gone_since_last_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_not_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_compared_within_the_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlogged_failure_grouped_by_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlogged_fingerprint_documented_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_sensor_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_sensor_stall_for_plain_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_fast_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fast_success_without_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_long_running_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_upstream_failed_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_running_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_running_under_three_times_usual_not_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_queued_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queued_under_floor_not_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_needs_three_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_run_without_stuck_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_as_of_falls_back_to_newest_stamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_as_of_log_folder_ignores_sync_time, setup, teardown),
	};

	return cmocka_run_group_tests(tests, library_group_setup, library_group_teardown);
}
