/* Unit tests: src/knowledge.c (loading, problems, lookups) and
 * src/structure.c (what the shape of a failure says), on the shipped
 * knowledge/ tables and on broken ones.  Message texts are real ones
 * (Python's, the libraries', Airflow's and Prefect's). */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dagdoc/knowledge.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"
#include "dagdoc/evidence.h"
#include "dagdoc/pattern.h"
#include "dagdoc/structure.h"

static struct kb *kb;

static int setup(void **state)
{
	struct dd_strv problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	const char *root = getenv("ROOT");
	char *dir = dd_xasprintf("%s/knowledge", root && *root ? root : ".");
	int rc = kb_load(dir, &kb, &problems, &err);

	(void)state;
	for (size_t i = 0; i < problems.n; i++)
		fprintf(stderr, "%s\n", problems.v[i]);
	free(dir);
	dd_strv_release(&problems);
	return rc < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	kb_free(kb);
	return 0;
}

/* ---- the tables ------------------------------------------------------------ */

static void test_exception_lookup(void **state)
{
	const struct kb_entry *e;

	(void)state;
	e = kb_exception(kb, "requests.exceptions.ConnectionError");
	assert_non_null(e);
	assert_string_equal(e->category, "intermittent");
	e = kb_exception(kb, "KeyError");
	assert_non_null(e);
	assert_string_equal(e->key, "KeyError");
	/* SQLAlchemy prints wrapped builtins as "builtins.X" */
	assert_ptr_equal(kb_exception(kb, "builtins.KeyError"), e);
	/* a class printed without its module finds its entry */
	e = kb_exception(kb, "AirflowSensorTimeout");
	assert_non_null(e);
	assert_string_equal(e->category, "stalled_upstream");
	/* "module.*" covers a module's unlisted classes */
	e = kb_exception(kb, "psycopg2.errors.SomeFutureViolation");
	assert_non_null(e);
	assert_true(strstr(e->key, ".*") != NULL);
	assert_null(kb_exception(kb, "acme.errors.ReconcileMismatch"));
	/* wrappers report a failure printed before them */
	e = kb_exception(kb, "subprocess.CalledProcessError");
	assert_non_null(e);
	assert_int_equal(e->wrapper, 1);
}

static void test_other_tables(void **state)
{
	const struct kb_removed *rm = NULL;
	char *dist = NULL;

	(void)state;
	assert_string_equal(kb_http_status(kb, 429)->category, "intermittent");
	assert_string_equal(kb_http_status(kb, 401)->category, "config_credentials");
	assert_null(kb_http_status(kb, 299));
	assert_string_equal(kb_signal(kb, 9)->category, "resource");
	assert_string_equal(kb_signal(kb, 9)->key, "SIGKILL");
	assert_non_null(kb_exit_code(kb, 127));
	assert_non_null(kb_tool_exit_code(kb, "dbt", 2));
	assert_null(kb_tool_exit_code(kb, "nosuchtool", 2));

	assert_int_equal(kb_distribution(kb, "sklearn.svm.classes", &dist), 1);
	assert_string_equal(dist, "scikit-learn");
	free(dist);
	assert_int_equal(kb_distribution(kb, "airflow.providers.cncf.kubernetes.operators.pod", &dist), 1);
	assert_string_equal(dist, "apache-airflow-providers-cncf-kubernetes");
	free(dist);
	assert_int_equal(kb_distribution(kb, "s3fs", &dist), 1);
	assert_string_equal(dist, "s3fs");
	free(dist);
	assert_int_equal(kb_distribution(kb, "utils.constants", &dist), -1);
	assert_null(dist);
	assert_int_equal(kb_distribution(kb, "importFactLifts", &dist), 0);
	assert_null(dist);

	assert_int_equal(kb_stdlib(kb, "json.decoder", &rm), 1);
	assert_null(rm);
	assert_int_equal(kb_stdlib(kb, "distutils.util", &rm), 1);
	assert_non_null(rm);
	assert_string_equal(rm->in, "3.12");
	assert_int_equal(kb_stdlib(kb, "pandas", NULL), 0);

	assert_int_equal(kb_frame_role(kb, "/usr/lib/python3/site-packages/airflow/executors/kubernetes_executor.py"),
	                 KB_FRAME_INTERNAL);
	assert_int_equal(kb_frame_role(kb, "/usr/lib/python3/site-packages/airflow/operators/bash.py"), KB_FRAME_TASK_CODE);
	assert_int_equal(kb_frame_role(kb, "/opt/airflow/dags/etl.py"), KB_FRAME_NONE);
	assert_int_equal(strlen(kb_digest(kb)), 16);
}

/* advice.yaml's checks may carry what confirms their cause (evidence.h). */
static void test_check_rules(void **state)
{
	const struct dd_strv *checks = kb_checks(kb, "resource");
	const struct pat_check_rule *rules = kb_check_rules(kb, "resource");
	size_t with = 0;

	(void)state;
	assert_non_null(checks);
	assert_non_null(rules);
	for (size_t i = 0; i < checks->n; i++)
		if (rules[i].confirms.n) {
			with++;
			assert_int_not_equal(ev_kind_of_command(checks->v[i]), EV_UNKNOWN);
		}
	assert_true(with >= 2);
	assert_non_null(kb_check_rules(kb, "dependency_upgrade"));
}

static void test_problems(void **state)
{
	struct dd_strv problems = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	char *dir = dd_xasprintf("/tmp/dd-kb-%d", (int)getpid());
	char *file = dd_xasprintf("%s/bad.yaml", dir);
	struct kb *bad = NULL;
	const char *text =
		"exceptions:\n"
		"  - {type: x.Y, category: network, confidence: 0.5}\n"
		"  - {type: x.Z, category: intermittent, confidence: 1.5}\n"
		"  - {type: x.W, category: intermittent, confidence: 0.5, colour: red}\n"
		"cues:\n"
		"  - {match: '(unclosed', category: resource, weight: 0.2, says: x}\n"
		"colours: []\n"
		"advice:\n"
		"  - category: resource\n"
		"    checks:\n"
		"      - {run: 'free -m', confirms: ['Mem: {pod}']}\n"
		"      - {run: 'dmesg | tail', confirms: ['Killed process']}\n"
		"    fix: [x]\n";
	size_t want = 7;

	(void)state;
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(dd_write_file_atomic(file, text, strlen(text), DD_WRITE_MKDIR, &err), 0);
	assert_int_equal(kb_load(dir, &bad, &problems, &err), DD_EPARSE);
	assert_null(bad);
	for (size_t i = 0; i < problems.n; i++)
		assert_true(dd_starts_with(problems.v[i], file));
	assert_int_equal(problems.n, want);
	assert_non_null(strstr(problems.v[0], ":2: 'category' must be one of the causes or 'unknown', not 'network'"));
	assert_non_null(strstr(problems.v[1], ":3: 'confidence' must be a number between 0 and 1"));
	assert_non_null(strstr(problems.v[2], ":4: unknown key 'colour'"));
	assert_non_null(strstr(problems.v[3], ":6: cue regex: missing closing parenthesis"));
	assert_non_null(strstr(problems.v[4], ":7: unknown table 'colours'"));
	assert_non_null(strstr(problems.v[5], ":11: check 'free -m': confirms item 1: {pod} is neither a named group"));
	assert_non_null(strstr(problems.v[6], ":12: check 'dmesg | tail' has confirms/refutes, but dagdoc does not "
	                                      "read that command's output"));
	unlink(file);
	rmdir(dir);
	free(file);
	free(dir);
	dd_strv_release(&problems);
	assert_int_equal(kb_load("/nonexistent/knowledge", &bad, NULL, &err), DD_ENOTFOUND);
}

/* ---- the structural layer ------------------------------------------------------- */

static struct dd_frame frame(const char *file, int line, const char *func, const char *source)
{
	struct dd_frame f;

	memset(&f, 0, sizeof(f));
	f.file = (char *)file;
	f.line = line;
	f.func = (char *)func;
	f.source = (char *)source;
	f.kind = traceback_classify_file(file, NULL);
	f.in_app = f.kind == DD_FRAME_APP;
	return f;
}

static void explain(const struct st_input *in, struct st_result *r)
{
	assert_int_equal(structure_explain(kb, in, r), 0);
}

static void test_import_answers(void **state)
{
	struct st_result r;
	struct dd_frame app[] = {
		frame("/opt/airflow/dags/reddit_dag.py", 10, "<module>", "from etls.aws_etl import upload"),
		frame("/opt/airflow/etls/aws_etl.py", 1, "<module>", "import s3fs"),
	};
	struct st_input in = { .exc_type = "ModuleNotFoundError", .exc_message = "No module named 's3fs'",
	                       .frames = app, .n_frames = 2, .stage = "parse" };

	(void)state;
	explain(&in, &r);   /* a published package missing from the image */
	assert_true(r.n_answers >= 1);
	assert_string_equal(r.answers[0].category, "dependency_upgrade");
	assert_string_equal(r.answers[0].rule, "kb.import");
	assert_string_equal(st_entity(&r, "package"), "s3fs");
	st_result_release(&r);

	/* the pipeline's own module, named by Python's path outside site-packages */
	in.exc_type = "ImportError";
	in.exc_message = "cannot import name 'POST_FIELDS' from 'utils.constants' (/opt/airflow/utils/constants.py)";
	explain(&in, &r);
	assert_string_equal(r.answers[0].category, "code_bug");
	assert_string_equal(st_entity(&r, "module"), "utils.constants");
	st_result_release(&r);

	/* a module the interpreter dropped */
	in.exc_type = "ModuleNotFoundError";
	in.exc_message = "No module named 'distutils'";
	explain(&in, &r);
	assert_string_equal(r.answers[0].category, "dependency_upgrade");
	assert_non_null(strstr(r.answers[0].title, "removed from the standard library in Python 3.12"));
	st_result_release(&r);
}

static void test_status_signal_and_cues(void **state)
{
	struct st_result r;
	struct st_input in = {
		.exc_type = "google.api_core.exceptions.ResourceExhausted",
		.exc_message = "429 POST https://logging.googleapis.com/v2/entries:write: Quota exceeded for quota metric",
	};

	(void)state;
	explain(&in, &r);
	assert_string_equal(r.answers[0].category, "intermittent");
	assert_string_equal(st_entity(&r, "status"), "429");
	assert_string_equal(st_entity(&r, "host"), "logging.googleapis.com");
	assert_true(r.answers[0].confidence > 0.3 && r.answers[0].confidence < 0.86);
	assert_true(r.reasons.n >= 2);
	st_result_release(&r);

	/* no exception: the error line's exit code is a signal */
	in = (struct st_input){ .text = "Task exited with return code -9" };
	explain(&in, &r);
	assert_string_equal(r.answers[0].category, "resource");
	assert_string_equal(st_entity(&r, "signal"), "SIGKILL");
	st_result_release(&r);

	/* host:port is a host, file:line is not */
	in = (struct st_input){ .text = "NoBrokersAvailable while connecting to kafka:29092 (called from settings.py:195)" };
	explain(&in, &r);
	assert_string_equal(st_entity(&r, "host"), "kafka:29092");
	st_result_release(&r);
	/* nor the extension and line of a file named before the error */
	in = (struct st_input){ .text = "requests.exceptions.ConnectionError: Max retries exceeded",
	                        .context = "{standard_task_runner.py:70} ERROR - Failed to execute job 12" };
	explain(&in, &r);
	assert_null(st_entity(&r, "host"));
	st_result_release(&r);

	/* nothing to go on: no answer at all, not a guess */
	in = (struct st_input){ .text = "something odd happened", .stage = "run" };
	explain(&in, &r);
	assert_int_equal(r.n_answers, 0);
	st_result_release(&r);
}

static void test_where_it_was_raised(void **state)
{
	struct st_result r;
	struct dd_frame orch[] = {
		frame("/home/airflow/.local/lib/python3.8/site-packages/airflow/executors/kubernetes_executor.py", 145,
		      "_run", "for event in list_worker_pods():"),
		frame("/home/airflow/.local/lib/python3.8/site-packages/kubernetes/watch/watch.py", 182, "stream",
		      "raise client.rest.ApiException("),
	};
	struct dd_frame app[] = {
		frame("/usr/lib/python3/site-packages/airflow/operators/python.py", 192, "execute_callable", NULL),
		frame("/opt/airflow/dags/load.py", 86, "load_input", "raise ValueError(\"input.csv must include id columns\")"),
	};
	struct st_input in = { .exc_type = "TypeError", .exc_message = "'<' not supported between instances",
	                       .frames = orch, .n_frames = 2, .stage = "run" };

	(void)state;
	/* a programming error inside the orchestrator's machinery is the orchestrator's */
	explain(&in, &r);
	assert_string_equal(r.answers[0].category, "orchestrator");
	st_result_release(&r);
	/* ... but while it loads the DAG file, the file gave it a bad value */
	in.stage = "parse";
	explain(&in, &r);
	assert_string_equal(r.answers[0].category, "code_bug");
	st_result_release(&r);

	/* the pipeline's own check ("raise ValueError(...)") about its input */
	in = (struct st_input){ .exc_type = "ValueError", .exc_message = "input.csv must include id columns",
	                        .frames = app, .n_frames = 2, .stage = "run" };
	explain(&in, &r);
	assert_string_equal(r.answers[0].category, "data_quality");
	assert_string_equal(st_entity(&r, "path"), "input.csv");
	st_result_release(&r);

	/* a wrapper's type says nothing itself */
	in = (struct st_input){ .exc_type = "subprocess.CalledProcessError",
	                        .exc_message = "Command '['dbt', 'run']' returned non-zero exit status 1." };
	explain(&in, &r);
	assert_int_equal(r.n_answers, 0);
	st_result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exception_lookup),
		cmocka_unit_test(test_other_tables),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_check_rules),
		cmocka_unit_test(test_import_answers),
		cmocka_unit_test(test_status_signal_and_cues),
		cmocka_unit_test(test_where_it_was_raised),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
