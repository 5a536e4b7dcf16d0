/* Unit tests: src/analyze_ties.c - which distributions a classified failure
 * is tied to (its frames, what its message names, its exception's module)
 * and what a new interpreter would explain of it, on real log shapes. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dagdoc/analyze.h"
#include "dagdoc/classify.h"
#include "dagdoc/knowledge.h"
#include "history_fixture.h"

#define SITE "/home/airflow/.local/lib/python3.11/site-packages"
#define SUB(msg) A2("06:05:32.834", "subprocess.py:93", "INFO", msg)

struct tied {
	struct dd_failure f;
	struct an_tie *ties;
	size_t n;
	struct an_interp interp;
};

static void tie_log(const char *log, struct tied *t)
{
	struct dd_error err = DD_ERROR_INIT;

	must(classify_buffer(lib, "log", log, strlen(log), &t->f, &err), &err, "classify_buffer");
	an_failure_ties(pat_library_knowledge(lib), &t->f, &t->ties, &t->n, &t->interp);
}

static void tied_release(struct tied *t)
{
	an_ties_free(t->ties, t->n);
	an_interp_release(&t->interp);
	dd_failure_release(&t->f);
}

static const struct an_tie *tie_of(const struct tied *t, const char *dist)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->ties[i].dist, dist))
			return &t->ties[i];
	return NULL;
}

/* A BashOperator's script fails inside a venv's site-packages/sqlalchemy;
 * neither message names SQLAlchemy, the frames and the exception do. */
static void test_frames_of_a_subprocess(void **state)
{
	static const char log[] =
		A2("06:05:24.834", "subprocess.py:86", "INFO", "Output:")
		SUB("Traceback (most recent call last):")
		SUB("  File \"/opt/venvs/reporting/lib/python3.11/site-packages/sqlalchemy/engine/base.py\", line 1415, in execute")
		SUB("    meth = statement._execute_on_connection")
		SUB("AttributeError: 'str' object has no attribute '_execute_on_connection'")
		SUB("")
		SUB("The above exception was the direct cause of the following exception:")
		SUB("")
		SUB("Traceback (most recent call last):")
		SUB("  File \"/opt/airflow/dags/reports/queries.py\", line 8, in load_revenue")
		SUB("    result = conn.execute(REVENUE_SQL.format(days=days))")
		SUB("  File \"/opt/venvs/reporting/lib/python3.11/site-packages/sqlalchemy/engine/base.py\", line 1417, in execute")
		SUB("    raise exc.ObjectNotExecutableError(statement) from err")
		SUB("sqlalchemy.exc.ObjectNotExecutableError: Not an executable object: 'SELECT region FROM sales.orders'")
		A2("06:05:33.834", "subprocess.py:97", "INFO", "Command exited with return code 1")
		A2("06:05:34.251", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"" SITE "/airflow/operators/bash.py\", line 249, in execute\n"
		"    raise AirflowException(\n"
		"airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 1.\n";
	struct tied t;
	const struct an_tie *x;

	(void)state;
	tie_log(log, &t);
	assert_string_equal(t.f.exc_type, "sqlalchemy.exc.ObjectNotExecutableError");   /* the subprocess's */
	assert_true(t.n >= 1);
	x = &t.ties[0];
	assert_string_equal(x->dist, "sqlalchemy");
	assert_int_equal(x->links, AN_LINK_FRAME);
	assert_true(x->weight >= 1.0);
	assert_non_null(strstr(x->frame, "site-packages/sqlalchemy"));
	assert_true(an_tie_matches(x, "SQLAlchemy"));
	assert_false(an_tie_matches(x, "sqlalchemy-utils"));
	assert_null(tie_of(&t, "airflow"));
	assert_null(tie_of(&t, "apache-airflow"));
	assert_int_equal(t.interp.weight, 0);
	tied_release(&t);
}

/* A pickle fails in sklearn's compiled tree code, under joblib's frames:
 * the package nearest the raise is scikit-learn (sklearn is its import name). */
static void test_compiled_frame_nearest_the_raise(void **state)
{
	static const char log[] =
		A2("05:00:08.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/leads/scoring.py\", line 17, in score_leads\n"
		"    model = joblib.load(MODEL_PATH)\n"
		"  File \"" SITE "/joblib/numpy_pickle.py\", line 658, in load\n"
		"    obj = _unpickle(fobj, filename, mmap_mode)\n"
		"  File \"/usr/local/lib/python3.12/pickle.py\", line 1717, in load_build\n"
		"    setstate(state)\n"
		"  File \"sklearn/tree/_tree.pyx\", line 714, in sklearn.tree._tree.Tree.__setstate__\n"
		"  File \"sklearn/tree/_tree.pyx\", line 1418, in sklearn.tree._tree._check_node_ndarray\n"
		"ValueError: node array from the pickle has an incompatible dtype:\n"
		"- expected: {'names': ['left_child', 'right_child', 'missing_go_to_left']}\n";
	struct tied t;

	(void)state;
	tie_log(log, &t);
	assert_true(t.n >= 2);
	assert_string_equal(t.ties[0].dist, "scikit-learn");
	assert_string_equal(t.ties[0].import_name, "sklearn");
	assert_non_null(strstr(t.ties[0].frame, "sklearn/tree/_tree.pyx (scikit-learn)"));
	assert_true(an_tie_matches(&t.ties[0], "scikit_learn"));
	assert_false(an_tie_matches(&t.ties[0], "joblib"));
	assert_string_equal(t.ties[1].dist, "joblib");
	assert_true(t.ties[1].weight < t.ties[0].weight);
	assert_null(tie_of(&t, "pickle"));
	tied_release(&t);
}

/* numpy's ABI error raised while pandas imports: pandas by its frames,
 * numpy named by the message; and a compiled extension that does not fit
 * is what a new interpreter may explain too, weakly. */
static void test_named_and_frame(void **state)
{
	static const char log[] =
		A2("01:00:03.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/forecast/model.py\", line 6, in fit_forecast\n"
		"    import pandas as pd\n"
		"  File \"" SITE "/pandas/__init__.py\", line 46, in <module>\n"
		"    from pandas.core.api import (\n"
		"  File \"interval.pyx\", line 1, in init pandas._libs.interval\n"
		"ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, "
		"got 88 from PyObject\n";
	struct tied t;
	const struct an_tie *np, *pd;

	(void)state;
	tie_log(log, &t);
	np = tie_of(&t, "numpy");
	pd = tie_of(&t, "pandas");
	assert_non_null(np);
	assert_non_null(pd);
	assert_int_equal(np->links, AN_LINK_NAMED);
	assert_non_null(strstr(np->named, "the message names numpy"));
	assert_true(pd->links & AN_LINK_FRAME);
	assert_ptr_equal(np, &t.ties[0]);          /* named before framed at the same weight */
	assert_true(t.interp.weight > 0 && t.interp.weight < 1);
	assert_null(t.interp.removed_in);
	tied_release(&t);
}

/* ImportError from Jinja2 on an old MarkupSafe: markupsafe named, jinja2 framed. */
static void test_import_names(void **state)
{
	static const char log[] =
		A2("07:00:03.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/newsletter/render.py\", line 4, in <module>\n"
		"    from jinja2 import Environment, FileSystemLoader\n"
		"  File \"/opt/venvs/newsletter/lib/python3.11/site-packages/jinja2/filters.py\", line 13, in <module>\n"
		"    from markupsafe import soft_unicode\n"
		"ImportError: cannot import name 'soft_unicode' from 'markupsafe' "
		"(/opt/venvs/newsletter/lib/python3.11/site-packages/markupsafe/__init__.py)\n";
	struct tied t;

	(void)state;
	tie_log(log, &t);
	assert_true(t.n >= 2);
	assert_string_equal(t.ties[0].dist, "markupsafe");
	assert_true(t.ties[0].links & AN_LINK_NAMED);
	assert_non_null(tie_of(&t, "jinja2"));
	assert_int_equal(tie_of(&t, "jinja2")->links, AN_LINK_FRAME);
	assert_null(tie_of(&t, "soft-unicode"));
	assert_null(tie_of(&t, "init"));
	tied_release(&t);
}

/* An orchestrator module the message names is the orchestrator's
 * distribution (an Airflow upgrade dropped it); its frames never are. */
static void test_orchestrator_named(void **state)
{
	static const char log[] =
		A2("02:00:03.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"" SITE "/airflow/models/taskinstance.py\", line 767, in _execute_task\n"
		"    result = _execute_callable(context=context, **execute_callable_kwargs)\n"
		"  File \"/opt/airflow/dags/etl/load.py\", line 3, in <module>\n"
		"    from airflow.operators.dummy import DummyOperator\n"
		"ModuleNotFoundError: No module named 'airflow.operators.dummy'\n";
	struct tied t;
	const struct an_tie *x;

	(void)state;
	tie_log(log, &t);
	x = tie_of(&t, "apache-airflow");
	assert_non_null(x);
	assert_int_equal(x->links, AN_LINK_NAMED);
	assert_true(an_tie_matches(x, "apache-airflow"));
	tied_release(&t);
}

/* A module the standard library dropped: the interpreter, not a package. */
static void test_removed_stdlib_module(void **state)
{
	static const char log[] =
		A2("04:00:03.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"/home/airflow/.local/lib/python3.12/site-packages/airflow/models/taskinstance.py\", line 767, in _execute_task\n"
		"    result = _execute_callable(context=context, **execute_callable_kwargs)\n"
		"  File \"/opt/airflow/dags/events/flags.py\", line 3, in <module>\n"
		"    from distutils.util import strtobool\n"
		"ModuleNotFoundError: No module named 'distutils'\n";
	struct tied t;

	(void)state;
	tie_log(log, &t);
	assert_null(tie_of(&t, "distutils"));
	assert_int_equal(t.interp.weight, 1);
	assert_string_equal(t.interp.removed_in, "3.12");
	assert_string_equal(t.interp.running, "3.12");
	assert_non_null(strstr(t.interp.why, "distutils was removed from the standard library in Python 3.12"));
	tied_release(&t);
}

/* What is no package: a dict key, a file, a host, a method, the orchestrator. */
static void test_no_false_ties(void **state)
{
	static const char key[] =
		A2("02:00:06.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/etl/load.py\", line 12, in load\n"
		"    session = cfg['requests']\n"
		"KeyError: 'requests'\n";
	static const char file[] =
		A2("02:00:06.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/etl/load.py\", line 12, in load\n"
		"    df = read(path)\n"
		"FileNotFoundError: [Errno 2] No such file or directory: '/data/pandas.csv' (from boto3.amazonaws.com "
		"via requests.get, df.append and yaml.safe_load_all)\n";
	struct tied t;

	(void)state;
	tie_log(key, &t);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.interp.weight, 0);
	tied_release(&t);
	tie_log(file, &t);
	assert_null(tie_of(&t, "pandas"));
	assert_null(tie_of(&t, "boto3"));
	assert_null(tie_of(&t, "df"));
	/* a published package's dotted name is still a name: requests.get, yaml.safe_load_all */
	assert_non_null(tie_of(&t, "requests"));
	assert_non_null(tie_of(&t, "pyyaml"));
	tied_release(&t);
}

/* Import names that are not the distribution's: the knowledge base's map,
 * the import name as a distribution, and namespace packages. */
static void test_matches(void **state)
{
	struct an_tie pg = { (char *)"psycopg2-binary", (char *)"psycopg2", 0, AN_LINK_FRAME, 1, NULL, NULL };
	struct an_tie gc = { (char *)"google-cloud", (char *)"google.cloud", 1, AN_LINK_FRAME, 1, NULL, NULL };
	struct an_tie dt = { (char *)"python-dateutil", (char *)"dateutil", 0, AN_LINK_FRAME, 1, NULL, NULL };

	(void)state;
	assert_true(an_tie_matches(&pg, "psycopg2-binary"));
	assert_true(an_tie_matches(&pg, "psycopg2"));
	assert_false(an_tie_matches(&pg, "psycopg"));
	assert_true(an_tie_matches(&gc, "google-cloud-bigquery"));
	assert_true(an_tie_matches(&gc, "google_cloud_storage"));
	assert_false(an_tie_matches(&gc, "google-cloud"));
	assert_false(an_tie_matches(&gc, "google-auth"));
	assert_true(an_tie_matches(&dt, "python_dateutil"));
	assert_true(an_tie_matches(&dt, "dateutil"));
	assert_false(an_tie_matches(&dt, "python-dotenv"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_of_a_subprocess),
		cmocka_unit_test(test_compiled_frame_nearest_the_raise),
		cmocka_unit_test(test_named_and_frame),
		cmocka_unit_test(test_import_names),
		cmocka_unit_test(test_orchestrator_named),
		cmocka_unit_test(test_removed_stdlib_module),
		cmocka_unit_test(test_no_false_ties),
		cmocka_unit_test(test_matches),
	};

	return cmocka_run_group_tests_name("ties", tests, library_group_setup, library_group_teardown);
}
