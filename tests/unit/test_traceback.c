/*
 * test_traceback.c - traceback parser, frame classification, fingerprints.
 */
#include "dagdoc/util.h"
#include "dagdoc/logparse.h"
#include "dagdoc/traceback.h"
#include "dagdoc/fingerprint.h"

#include <setjmp.h>
#include <cmocka.h>

static int feed_tb(const struct dd_logline *l, void *ud)
{
	tbparser_line(ud, l);
	return 0;
}

/* Reads text through the log reader into a new traceback parser. */
static struct dd_tbparser *parse_mem(const char *data, size_t len, size_t chunk)
{
	struct dd_tbparser *p = tbparser_new();
	struct dd_logreader *r = logreader_new();
	struct dd_error err = DD_ERROR_INIT;
	size_t pos = 0;

	while (pos < len) {
		size_t n = len - pos < chunk ? len - pos : chunk;

		assert_int_equal(logreader_feed(r, data + pos, n, feed_tb, p, &err), 0);
		pos += n;
	}
	assert_int_equal(logreader_finish(r, feed_tb, p, &err), 0);
	logreader_free(r);
	tbparser_finish(p);
	return p;
}

static struct dd_tbparser *parse_str(const char *s)
{
	return parse_mem(s, strlen(s), 5);
}

static struct dd_tbparser *parse_fixture(const char *name)
{
	const char *root = getenv("ROOT");
	struct dd_buf b = DD_BUF_INIT;
	struct dd_error err = DD_ERROR_INIT;
	char *path = dd_xasprintf("%s/tests/fixtures/logformats/%s", root ? root : ".", name);
	struct dd_tbparser *p;

	if (dd_read_file(path, 0, &b, &err)) {
		fprintf(stderr, "cannot read fixture %s: %s\n", path, err.msg);
		fail();
	}
	free(path);
	p = parse_mem(b.data, b.len, 4096);
	dd_buf_release(&b);
	return p;
}

static void check_frame(const struct dd_frame *f, const char *file, int line, const char *func, const char *pkg,
                        int kind)
{
	assert_string_equal(f->file, file);
	assert_int_equal(f->line, line);
	assert_string_equal(f->func, func);
	if (pkg)
		assert_string_equal(f->package, pkg);
	else
		assert_null(f->package);
	assert_int_equal(f->kind, kind);
	assert_int_equal(f->in_app, kind == DD_FRAME_APP);
}

/* ---- parsing --------------------------------------------------------------- */

static void test_airflow2_task_failure(void **state)
{
	struct dd_tbparser *p = parse_fixture("airflow2_mixed.log");
	const struct dd_traceback *tb = tbparser_last(p);

	assert_int_equal(tbparser_count(p), 1);
	assert_non_null(tb);
	assert_string_equal(tb->exc_type, "airflow.exceptions.AirflowException");
	assert_string_equal(tb->exc_message, "Process returned non-zero exit status 1.");
	assert_int_equal(tb->n_frames, 2);
	assert_int_equal(tb->first_line, 3);
	assert_int_equal(tb->exc_line, 9);
	assert_int_equal(tb->chained, 0);
	check_frame(&tb->frames[0], "/opt/airflow/airflow/models/taskinstance.py", 767, "_execute_task", NULL,
	            DD_FRAME_ORCHESTRATOR);
	check_frame(&tb->frames[1], "/opt/airflow/dags/reproduce.py", 21, "fail", NULL, DD_FRAME_APP);
	assert_ptr_equal(traceback_top_app_frame(tb), &tb->frames[1]);
	tbparser_free(p);
}

static void test_real_071(void **state)
{
	struct dd_tbparser *p = parse_fixture("real_071.log");
	const struct dd_traceback *tb = tbparser_last(p);

	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "airflow.exceptions.AirflowNotFoundException");
	assert_string_equal(tb->exc_message, "The conn_id `weathermap_api` isn't defined");
	assert_int_equal(tb->n_frames, 14);
	assert_int_equal(tb->first_line, 2);
	assert_int_equal(tb->exc_line, 41);
	check_frame(&tb->frames[13], "/home/airflow/.local/lib/python3.12/site-packages/airflow/models/connection.py", 537,
	            "get_connection_from_secrets", "airflow", DD_FRAME_ORCHESTRATOR);
	assert_null(traceback_top_app_frame(tb));
	tbparser_free(p);
}

static void test_chained_real_021(void **state)
{
	struct dd_tbparser *p = parse_fixture("real_021.log");
	const struct dd_traceback *a, *b;

	assert_int_equal(tbparser_count(p), 4);
	a = tbparser_get(p, 0);
	b = tbparser_get(p, 1);
	assert_string_equal(a->exc_type, "psycopg2.OperationalError");
	assert_int_equal(a->chained, 0);
	assert_string_equal(b->exc_type, "sqlalchemy.exc.OperationalError");
	assert_int_equal(b->chained, 1);
	assert_int_equal(a->first_line, 15);
	assert_int_equal(b->first_line, 49);
	assert_string_equal(tbparser_last(p)->exc_type, "sqlalchemy.exc.OperationalError");
	assert_null(tbparser_get(p, 4));
	tbparser_free(p);
}

static void test_chained_inline(void **state)
{
	const char *text =
	        "Traceback (most recent call last):\n"
	        "  File \"/app/job.py\", line 3, in <module>\n"
	        "    d['x']\n"
	        "KeyError: 'x'\n"
	        "\n"
	        "During handling of the above exception, another exception occurred:\n"
	        "\n"
	        "Traceback (most recent call last):\n"
	        "  File \"/app/job.py\", line 5, in <module>\n"
	        "    raise RuntimeError('lookup failed') from None\n"
	        "RuntimeError: lookup failed\n"
	        "\n"
	        "The above exception was the direct cause of the following exception:\n"
	        "\n"
	        "Traceback (most recent call last):\n"
	        "  File \"/app/job.py\", line 9, in main\n"
	        "ValueError\n";
	struct dd_tbparser *p = parse_str(text);

	assert_int_equal(tbparser_count(p), 3);
	assert_int_equal(tbparser_get(p, 0)->chained, 0);
	assert_int_equal(tbparser_get(p, 1)->chained, 1);
	assert_int_equal(tbparser_get(p, 2)->chained, 1);
	assert_string_equal(tbparser_get(p, 1)->exc_message, "lookup failed");
	assert_string_equal(tbparser_get(p, 2)->exc_type, "ValueError");
	assert_string_equal(tbparser_get(p, 2)->exc_message, "");
	assert_int_equal(tbparser_get(p, 2)->first_line, 15);
	assert_int_equal(tbparser_get(p, 2)->exc_line, 17);
	tbparser_free(p);
}

static void test_syntax_error(void **state)
{
	struct dd_tbparser *p = parse_fixture("real_057.log");
	const struct dd_traceback *tb = tbparser_last(p);
	const struct dd_frame *top;

	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "SyntaxError");
	assert_string_equal(tb->exc_message, "unexpected EOF while parsing");
	assert_int_equal(tb->n_frames, 6);
	check_frame(&tb->frames[1], "<frozen importlib._bootstrap_external>", 724, "exec_module", NULL, DD_FRAME_STDLIB);
	check_frame(&tb->frames[5], "/opt/airflow/dags/create_dag_with_python_operator.py", 11, "", NULL, DD_FRAME_APP);
	top = traceback_top_app_frame(tb);
	assert_ptr_equal(top, &tb->frames[5]);
	tbparser_free(p);

	/* synthesised from an Airflow 3 syntax_error */
	p = parse_fixture("airflow3.jsonl");
	tb = tbparser_last(p);
	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "SyntaxError");
	assert_string_equal(tb->exc_message, "invalid syntax (bad.py, line 7)");
	assert_int_equal(tb->n_frames, 3);
	check_frame(&tb->frames[0], "/home/airflow/.local/lib/python3.12/site-packages/airflow/models/dagbag.py", 405,
	            "parse", "airflow", DD_FRAME_ORCHESTRATOR);
	check_frame(&tb->frames[2], "/opt/airflow/dags/bad.py", 7, "", NULL, DD_FRAME_APP);
	assert_int_equal(tb->first_line, 2);
	assert_int_equal(tb->exc_line, 2);
	tbparser_free(p);
}

static void test_error_detail_chain(void **state)
{
	struct dd_tbparser *p = parse_fixture("airflow_v2_api.json");
	const struct dd_traceback *a, *b;

	assert_int_equal(tbparser_count(p), 2);
	a = tbparser_get(p, 0);
	b = tbparser_get(p, 1);
	assert_string_equal(a->exc_type, "KeyError");
	assert_string_equal(a->exc_message, "'customer_id'");
	assert_int_equal(a->chained, 0);
	check_frame(&a->frames[1], "/usr/local/lib/python3.12/site-packages/pandas/core/frame.py", 4102, "__getitem__",
	            "pandas", DD_FRAME_LIBRARY);
	assert_string_equal(b->exc_type, "RuntimeError");
	assert_int_equal(b->chained, 1);
	assert_int_equal(b->first_line, 14);
	assert_int_equal(b->exc_line, 17);
	check_frame(&b->frames[0], "/opt/airflow/task-sdk/src/airflow/sdk/execution_time/task_runner.py", 867, "run", NULL,
	            DD_FRAME_ORCHESTRATOR);
	assert_string_equal(traceback_top_app_frame(b)->func, "load");
	assert_int_equal(traceback_top_app_frame(b)->line, 30);
	tbparser_free(p);

	/* Airflow 3 DagBag timeout (real): multi-line exc_value */
	p = parse_fixture("real_045.log");
	assert_int_equal(tbparser_count(p), 2);
	assert_string_equal(tbparser_last(p)->exc_type, "TypeError");
	assert_string_equal(tbparser_last(p)->exc_message, "DAG.__init__() got an unexpected keyword argument 'schedule_interval'");
	assert_string_equal(traceback_top_app_frame(tbparser_last(p))->file, "/opt/airflow/dags/pdf_to_csv.py");
	tbparser_free(p);
}

/* Compiled (Cython) frames are the library's, named by their function:
 * sklearn's under joblib's (an unpickled model), pandas' "init" of an
 * extension that does not import.  A relative .py path stays the app's. */
static void test_compiled_frames(void **state)
{
	struct dd_tbparser *p = parse_str(
		"Traceback (most recent call last):\n"
		"  File \"/opt/airflow/dags/leads/scoring.py\", line 17, in score_leads\n"
		"    model = joblib.load(MODEL_PATH)\n"
		"  File \"/home/airflow/.local/lib/python3.12/site-packages/joblib/numpy_pickle.py\", line 658, in load\n"
		"    obj = _unpickle(fobj, filename, mmap_mode)\n"
		"  File \"/usr/local/lib/python3.12/pickle.py\", line 1717, in load_build\n"
		"    setstate(state)\n"
		"  File \"sklearn/tree/_tree.pyx\", line 714, in sklearn.tree._tree.Tree.__setstate__\n"
		"  File \"sklearn/tree/_tree.pyx\", line 1418, in sklearn.tree._tree._check_node_ndarray\n"
		"ValueError: node array from the pickle has an incompatible dtype\n"
		"Traceback (most recent call last):\n"
		"  File \"scripts/build.py\", line 6, in <module>\n"
		"    import pandas as pd\n"
		"  File \"/opt/venv/lib/python3.11/site-packages/pandas/_libs/__init__.py\", line 18, in <module>\n"
		"    from pandas._libs.interval import Interval\n"
		"  File \"interval.pyx\", line 1, in init pandas._libs.interval\n"
		"  File \"message.pyx\", line 3, in google.protobuf.pyext._message.Init\n"
		"  File \"lib.pyx\", line 9, in <module>\n"
		"ValueError: numpy.dtype size changed, may indicate binary incompatibility\n");
	const struct dd_traceback *a, *b;

	(void)state;
	assert_int_equal(tbparser_count(p), 2);
	a = tbparser_get(p, 0);
	check_frame(&a->frames[1], "/home/airflow/.local/lib/python3.12/site-packages/joblib/numpy_pickle.py", 658, "load",
	            "joblib", DD_FRAME_LIBRARY);
	check_frame(&a->frames[3], "sklearn/tree/_tree.pyx", 714, "sklearn.tree._tree.Tree.__setstate__", "sklearn",
	            DD_FRAME_LIBRARY);
	check_frame(&a->frames[4], "sklearn/tree/_tree.pyx", 1418, "sklearn.tree._tree._check_node_ndarray", "sklearn",
	            DD_FRAME_LIBRARY);
	/* the pipeline's own frame is still the top one of the app */
	assert_string_equal(traceback_top_app_frame(a)->file, "/opt/airflow/dags/leads/scoring.py");
	b = tbparser_get(p, 1);
	check_frame(&b->frames[0], "scripts/build.py", 6, "<module>", NULL, DD_FRAME_APP);
	check_frame(&b->frames[2], "interval.pyx", 1, "init pandas._libs.interval", "pandas", DD_FRAME_LIBRARY);
	check_frame(&b->frames[3], "message.pyx", 3, "google.protobuf.pyext._message.Init", "google.protobuf",
	            DD_FRAME_LIBRARY);
	check_frame(&b->frames[4], "lib.pyx", 9, "<module>", NULL, DD_FRAME_LIBRARY);
	assert_string_equal(traceback_top_app_frame(b)->file, "scripts/build.py");
	tbparser_free(p);
}

static void test_multiline_message(void **state)
{
	struct dd_tbparser *p = parse_fixture("real_001.log");
	const struct dd_traceback *tb = tbparser_last(p);

	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "TypeError");
	assert_true(dd_starts_with(tb->exc_message, "Descriptors cannot not be created directly.\n"
	                                            "If this call came from a _pb2.py file, your generated code is out of date"));
	assert_non_null(strstr(tb->exc_message, "\n 1. Downgrade the protobuf package to 3.20.x or lower."));
	assert_int_equal(tb->first_line, 1);
	check_frame(&tb->frames[0], "/usr/local/lib/python3.9/site-packages/google/cloud/secretmanager_v1/proto/resources_pb2.py",
	            57, "<module>", "google.cloud", DD_FRAME_LIBRARY);
	check_frame(&tb->frames[1], "/usr/local/lib/python3.9/site-packages/google/protobuf/descriptor.py", 755, "__new__",
	            "google.protobuf", DD_FRAME_LIBRARY);
	tbparser_free(p);

	p = parse_fixture("real_062.log");   /* syslog-prefixed, no header */
	tb = tbparser_last(p);
	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "psycopg2.OperationalError");
	assert_string_equal(tb->exc_message, "server closed the connection unexpectedly\n"
	                                     "        This probably means the server terminated abnormally\n"
	                                     "        before or while processing the request.");
	check_frame(&tb->frames[1], "/usr/lib/python3.7/dist-packages/detector/detector.py", 917, "main", "detector",
	            DD_FRAME_LIBRARY);
	assert_string_equal(traceback_top_app_frame(tb)->file, "/usr/bin/detector");
	tbparser_free(p);
}

static void test_pasted_excerpts(void **state)
{
	struct dd_tbparser *p = parse_fixture("real_018.log");   /* no indentation, no header */
	const struct dd_traceback *tb = tbparser_last(p);

	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "RuntimeError");
	assert_int_equal(tb->n_frames, 2);
	assert_true(dd_starts_with(tb->exc_message, "Error(s) in loading state_dict for IRRA:\n"));
	assert_string_equal(tb->frames[0].file, "C:\\Users\\14439\\Documents\\Code\\Pycharm\\IRRA-main\\utils\\checkpoint.py");
	tbparser_free(p);

	p = parse_fixture("real_002.log");   /* docker timestamps, starts mid-traceback */
	tb = tbparser_last(p);
	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "AttributeError");
	assert_string_equal(tb->exc_message, "'Connection' object has no attribute 'cursor'");
	check_frame(&tb->frames[0], "/usr/local/lib/python3.10/site-packages/pandas/io/sql.py", 2673, "execute", "pandas",
	            DD_FRAME_LIBRARY);
	tbparser_free(p);
}

/* The same traceback pasted indented, quoted in Markdown and behind a
 * docker compose service prefix: one traceback, the same exception. */
static void test_decorated_tracebacks(void **state)
{
	static const char *const forms[] = {
		"    Traceback (most recent call last):\n"
		"      File \"/opt/airflow/dags/etl.py\", line 12, in load\n"
		"        rows = fetch()\n"
		"    RuntimeError: DataLoader worker (pid 3855) is killed by signal: Bus error\n"
		"    \n",
		"> Traceback (most recent call last):\n"
		">   File \"/opt/airflow/dags/etl.py\", line 12, in load\n"
		">     rows = fetch()\n"
		"> RuntimeError: DataLoader worker (pid 3855) is killed by signal: Bus error\n",
		"airflow-worker-1  | Traceback (most recent call last):\n"
		"airflow-worker-1  |   File \"/opt/airflow/dags/etl.py\", line 12, in load\n"
		"airflow-worker-1  |     rows = fetch()\n"
		"airflow-worker-1  | RuntimeError: DataLoader worker (pid 3855) is killed by signal: Bus error\n",
	};

	for (size_t i = 0; i < DD_ARRAY_SIZE(forms); i++) {
		struct dd_tbparser *p = parse_str(forms[i]);
		const struct dd_traceback *tb = tbparser_last(p);

		assert_int_equal(tbparser_count(p), 1);
		assert_string_equal(tb->exc_type, "RuntimeError");
		assert_string_equal(tb->exc_message, "DataLoader worker (pid 3855) is killed by signal: Bus error");
		assert_int_equal(tb->n_frames, 1);
		check_frame(&tb->frames[0], "/opt/airflow/dags/etl.py", 12, "load", NULL, DD_FRAME_APP);
		tbparser_free(p);
	}
}

static void test_subprocess_prefixed(void **state)
{
	struct dd_tbparser *p = parse_fixture("real_010_head.log");
	const struct dd_traceback *tb = tbparser_get(p, 0);

	assert_true(tbparser_count(p) >= 3);
	assert_string_equal(tb->exc_type, "mlflow.exceptions.MissingConfigException");
	assert_int_equal(tb->first_line, 14);
	assert_int_equal(tb->exc_line, 25);
	assert_int_equal(tb->n_frames, 5);
	assert_true(dd_starts_with(tb->exc_message, "Yaml file '/opt/***/Customer_Churn_Prediction_Pipeline/mlruns/"));
	assert_null(strchr(tb->exc_message, '\n'));
	tbparser_free(p);
}

static void test_prefect_tracebacks(void **state)
{
	struct dd_tbparser *p = parse_fixture("prefect_api.json");
	const struct dd_traceback *tb = tbparser_last(p);

	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "ValueError");
	assert_string_equal(tb->exc_message, "bad row");
	assert_int_equal(tb->first_line, 3);
	tbparser_free(p);

	p = parse_fixture("prefect_console.log");
	tb = tbparser_last(p);
	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tb->exc_type, "ValueError");
	assert_string_equal(tb->exc_message, "foo");
	check_frame(&tb->frames[0], "/usr/local/lib/python3.11/site-packages/prefect/flow_engine.py", 654, "run_flow_sync",
	            "prefect", DD_FRAME_ORCHESTRATOR);
	assert_string_equal(traceback_top_app_frame(tb)->func, "my_flow");
	tbparser_free(p);
}

static void test_incomplete_and_noise(void **state)
{
	const char *text =
	        "Traceback (most recent call last):\n"
	        "  File \"/app/a.py\", line 1, in f\n"
	        "[2024-05-01T02:00:13.123+0000] {x.py:1} INFO - interrupted\n"
	        "  File \"not a frame\n"
	        "KeyError: 'lonely'\n"
	        "Traceback (most recent call last):\n"
	        "\n"
	        "  File \"/app/b.py\", line 2, in g\n"
	        "    [Previous line repeated 996 more times]\n"
	        "RecursionError: maximum recursion depth exceeded\n"
	        "[2024-05-01T02:00:13.124+0000] {x.py:1} ERROR - next record\n";
	struct dd_tbparser *p = parse_str(text);

	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tbparser_last(p)->exc_type, "RecursionError");
	assert_string_equal(tbparser_last(p)->exc_message, "maximum recursion depth exceeded");
	assert_int_equal(tbparser_last(p)->n_frames, 1);
	tbparser_free(p);

	/* logger.error(traceback.format_exc()): only the header line has the prefix */
	p = parse_str("[2024-05-01T02:00:13.123+0000] {etl.py:9} ERROR - Traceback (most recent call last):\n"
	              "  File \"/app/a.py\", line 1, in f\n"
	              "    g()\n"
	              "ValueError: x\n"
	              "[2024-05-01T02:00:13.124+0000] {etl.py:9} INFO - next\n");
	assert_int_equal(tbparser_count(p), 1);
	assert_string_equal(tbparser_last(p)->exc_type, "ValueError");
	assert_string_equal(tbparser_last(p)->exc_message, "x");
	assert_int_equal(tbparser_last(p)->first_line, 1);
	assert_int_equal(tbparser_last(p)->exc_line, 4);
	tbparser_free(p);

	p = parse_str("no tracebacks here\nKeyError: 'x'\n");
	assert_int_equal(tbparser_count(p), 0);
	assert_null(tbparser_last(p));
	assert_null(traceback_top_app_frame(NULL));
	tbparser_free(p);
	tbparser_free(NULL);
}

static void test_exception_group(void **state)
{
	const char *text =
	        "  + Exception Group Traceback (most recent call last):\n"
	        "  |   File \"/app/flow.py\", line 12, in main\n"
	        "  |     raise ExceptionGroup(\"batch failed\", errors)\n"
	        "  | ExceptionGroup: batch failed (2 sub-exceptions)\n"
	        "  +-+---------------- 1 ----------------\n"
	        "    | Traceback (most recent call last):\n"
	        "    |   File \"/app/flow.py\", line 7, in load\n"
	        "    | ValueError: bad row 3\n"
	        "    +---------------- 2 ----------------\n"
	        "    | TypeError: not a number\n"
	        "    +------------------------------------\n";
	struct dd_tbparser *p = parse_str(text);

	assert_int_equal(tbparser_count(p), 2);
	assert_string_equal(tbparser_get(p, 0)->exc_type, "ExceptionGroup");
	assert_string_equal(tbparser_get(p, 0)->exc_message, "batch failed (2 sub-exceptions)");
	assert_int_equal(tbparser_get(p, 0)->n_frames, 1);
	assert_string_equal(tbparser_get(p, 1)->exc_type, "ValueError");
	assert_string_equal(tbparser_get(p, 1)->exc_message, "bad row 3");
	assert_string_equal(tbparser_get(p, 1)->frames[0].func, "load");
	tbparser_free(p);
}

static void test_bounds(void **state)
{
	struct dd_buf b = DD_BUF_INIT;
	struct dd_tbparser *p;
	const struct dd_traceback *tb;
	int i;

	for (i = 0; i < 20; i++)
		dd_buf_addf(&b, "Traceback (most recent call last):\n  File \"/app/x.py\", line %d, in f\nE%d: m\n\n", i, i);
	p = parse_mem(b.data, b.len, 100);
	assert_int_equal(tbparser_count(p), 16);
	assert_string_equal(tbparser_get(p, 0)->exc_type, "E4");
	assert_string_equal(tbparser_last(p)->exc_type, "E19");
	tbparser_free(p);

	dd_buf_reset(&b);
	dd_buf_adds(&b, "Traceback (most recent call last):\n");
	for (i = 0; i < 300; i++)
		dd_buf_addf(&b, "  File \"/app/r%d.py\", line %d, in f%d\n    f()\n", i, i, i);
	dd_buf_adds(&b, "BigError: first\n");
	for (i = 0; i < 80; i++)
		dd_buf_addf(&b, "message line %d\n", i);
	p = parse_mem(b.data, b.len, 1000);
	tb = tbparser_last(p);
	assert_non_null(tb);
	assert_int_equal(tb->n_frames, 200);
	assert_string_equal(tb->frames[0].file, "/app/r0.py");
	assert_string_equal(tb->frames[99].file, "/app/r99.py");
	assert_string_equal(tb->frames[100].file, "/app/r200.py");
	assert_string_equal(tb->frames[199].file, "/app/r299.py");
	assert_string_equal(tb->exc_type, "BigError");
	/* the message stops after 50 continuation lines */
	assert_true(dd_starts_with(tb->exc_message, "first\nmessage line 0\n"));
	assert_true(dd_ends_with(tb->exc_message, "\nmessage line 49"));
	assert_int_equal(tbparser_count(p), 1);
	tbparser_free(p);
	dd_buf_release(&b);
}

struct classify_case {
	const char *file, *pkg;
	int kind;
};

static const struct classify_case classify_cases[] = {
	{ "/usr/local/lib/python3.9/site-packages/pandas/core/frame.py", "pandas", DD_FRAME_LIBRARY },
	{ "/usr/local/lib/python3.9/site-packages/six.py", "six", DD_FRAME_LIBRARY },
	{ "/usr/local/lib/python3.9/site-packages/_cffi_backend.cpython-39-x86_64-linux-gnu.so", "_cffi_backend", DD_FRAME_LIBRARY },
	{ "/usr/local/lib/python3.9/site-packages/google/cloud/bigquery/client.py", "google.cloud", DD_FRAME_LIBRARY },
	{ "/usr/local/lib/python3.9/site-packages/azure/storage/blob/_blob_client.py", "azure.storage", DD_FRAME_LIBRARY },
	{ "/usr/lib/python3/dist-packages/requests/api.py", "requests", DD_FRAME_LIBRARY },
	{ "/venv/lib/python3.11/site-packages/foo-1.0-py3.11.egg/foo/bar.py", "foo", DD_FRAME_LIBRARY },
	{ "C:\\Users\\me\\anaconda3\\lib\\site-packages\\torch\\nn\\modules\\module.py", "torch", DD_FRAME_LIBRARY },
	{ "/home/airflow/.local/lib/python3.12/site-packages/airflow/models/taskinstance.py", "airflow", DD_FRAME_ORCHESTRATOR },
	{ "/usr/local/lib/python3.11/site-packages/prefect/flow_engine.py", "prefect", DD_FRAME_ORCHESTRATOR },
	{ "/home/airflow/.local/lib/python3.12/site-packages/airflow/providers/http/hooks/http.py", "airflow.providers.http", DD_FRAME_ORCHESTRATOR },
	{ "/x/site-packages/airflow/providers/__init__.py", "airflow", DD_FRAME_ORCHESTRATOR },
	{ "/opt/airflow/airflow/models/taskinstance.py", NULL, DD_FRAME_ORCHESTRATOR },
	{ "/src/airflow/airflow-core/src/airflow/models/dagrun.py", NULL, DD_FRAME_ORCHESTRATOR },
	{ "/opt/airflow/airflow/dags/etl.py", NULL, DD_FRAME_APP },
	{ "/usr/lib/python3.10/json/decoder.py", NULL, DD_FRAME_STDLIB },
	{ "/usr/local/lib/python3.9/concurrent/futures/_base.py", NULL, DD_FRAME_STDLIB },
	{ "/root/anaconda3/lib/python3.7/pickle.py", NULL, DD_FRAME_STDLIB },
	{ "C:\\Python39\\Lib\\json\\decoder.py", NULL, DD_FRAME_STDLIB },
	{ "<frozen importlib._bootstrap>", NULL, DD_FRAME_STDLIB },
	{ "<string>", NULL, DD_FRAME_OTHER },
	{ "", NULL, DD_FRAME_OTHER },
	{ "/opt/airflow/dags/etl.py", NULL, DD_FRAME_APP },
	{ "/usr/local/airflow/include/helpers/io.py", NULL, DD_FRAME_APP },
	{ "train.py", NULL, DD_FRAME_APP },
	{ "/home/me/site-packages-notes/x.py", NULL, DD_FRAME_APP },
};

static void test_classify(void **state)
{
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(classify_cases); i++) {
		const struct classify_case *c = &classify_cases[i];
		char *pkg = (char *)"unset";
		int kind = traceback_classify_file(c->file, &pkg);

		if (kind != c->kind || (c->pkg ? !pkg || strcmp(pkg, c->pkg) : pkg != NULL)) {
			fprintf(stderr, "case %zu %s: kind %d pkg %s\n", i, c->file, kind, pkg ? pkg : "(null)");
			fail();
		}
		free(pkg);
	}
	assert_int_equal(traceback_classify_file("/x/site-packages/numpy/core.py", NULL), DD_FRAME_LIBRARY);
	assert_int_equal(traceback_classify_file(NULL, NULL), DD_FRAME_OTHER);
}

/* ---- fingerprints -------------------------------------------------------------- */

struct norm_case {
	const char *in, *out;
};

static const struct norm_case norm_cases[] = {
	{ "Task failed at 2024-05-01T02:00:13.123+0000 after 3 tries", "Task failed at <ts> after <n> tries" },
	{ "run 2024-05-01 02:00:13,123 and 2024-05-01", "run <ts> and <ts>" },
	{ "object at 0x7f1f37f297f0>", "object at <hex>>" },
	{ "id 6f2c1a34-1b1d-4a0e-9d7c-2f9a1c0e5b11 gone", "id <uuid> gone" },
	{ "commit 59ef632d91cc4df7a0ce4 and sha deadbeefcafe", "commit <hex> and sha deadbeefcafe" },
	{ "python3.9 s3 int64 utf-8 port 5432", "python3.<n> s3 int64 utf-<n> port <n>" },
	{ "took 1.25s, 1,000 rows", "took <n>s, <n> rows" },
	{ "KeyError: 'x'", "KeyError: 'x'" },
	{ "No module named 'pandas.core'", "No module named 'pandas.core'" },
	{ "file '/opt/x/y.csv' and \"abc def\" and `run_42`", "file '<*>' and \"<*>\" and `<*>`" },
	{ "it isn't 'masked-hamster' it's fine", "it isn't '<*>' it's fine" },
	{ "Failed to upload /tmp/tmpinr0ia7h/model/requirements.txt to s3", "Failed to upload <tmp> to s3" },
	{ "at /var/folders/x1/T/abc and /opt/work/tmpab12cd34/f", "at <tmp> and <tmp>" },
	{ "path /opt/airflow/dags/x.py stays", "path /opt/airflow/dags/x.py stays" },
	{ "GET https://example.com/tmp/x failed", "GET https://example.com/tmp/x failed" },
	{ "  many   spaces\n\tand lines  ", "many spaces and lines" },
	{ "", "" },
	{ "unterminated 'quote here", "unterminated 'quote here" },
	{ "task_foo-0 and run-17", "task_foo-<n> and run-<n>" },
};

static void test_normalize(void **state)
{
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(norm_cases); i++) {
		struct dd_buf b = DD_BUF_INIT;

		dd_normalize_message(norm_cases[i].in, strlen(norm_cases[i].in), &b);
		if (strcmp(dd_buf_str(&b), norm_cases[i].out)) {
			fprintf(stderr, "case %zu: [%s] -> [%s], want [%s]\n", i, norm_cases[i].in, dd_buf_str(&b), norm_cases[i].out);
			fail();
		}
		dd_buf_release(&b);
	}
	/* appends, and caps the output */
	{
		struct dd_buf b = DD_BUF_INIT;
		char *big = dd_xmalloc(5000);

		memset(big, 'a', 5000);
		dd_buf_adds(&b, "X");
		dd_normalize_message(big, 5000, &b);
		assert_int_equal(b.len, 1 + 1024);
		assert_int_equal(b.data[0], 'X');
		free(big);
		dd_buf_release(&b);
	}
}

static void test_fingerprint(void **state)
{
	struct dd_frame f1 = { (char *)"/opt/airflow/dags/etl.py", 12, (char *)"run", NULL, 1, DD_FRAME_APP, NULL };
	struct dd_frame f2 = { (char *)"/usr/local/airflow/dags/etl.py", 99, (char *)"run", NULL, 1, DD_FRAME_APP, NULL };
	struct dd_frame f3 = { (char *)"/opt/airflow/dags/etl.py", 12, (char *)"load", NULL, 1, DD_FRAME_APP, NULL };
	struct dd_buf norm = DD_BUF_INIT;
	char *a, *b, *c;
	size_t i;

	/* exact value: FNV-1a 64 of the normalised text */
	a = dd_fingerprint("KeyError", "'key'", &f1, &norm);
	assert_string_equal(dd_buf_str(&norm), "KeyError|'key'|dags/etl.py:run");
	assert_string_equal(a, "987a7b84c8824ea2");
	free(a);
	a = dd_fingerprint(NULL, NULL, NULL, NULL);
	assert_string_equal(a, "08e34c07b581a8a5");
	free(a);
	dd_buf_release(&norm);

	/* same failure, different runs */
	a = dd_fingerprint("ValueError", "bad row 17 at 2024-05-01T02:00:13Z in /tmp/tmpa1b2c3d4/x.csv (id 6f2c1a34-1b1d-4a0e-9d7c-2f9a1c0e5b11, obj 0x7f00aa)", &f1, NULL);
	b = dd_fingerprint("ValueError", "bad row 9031 at 2025-01-02T11:22:33.456+0000 in /tmp/tmpzz99yy88/x.csv (id 0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6, obj 0x55aa01)", &f2, NULL);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 16);
	for (i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	free(b);
	b = dd_fingerprint("ValueError", "bad row 1 at 2024-05-01T02:00:13Z in /tmp/tmpa1b2c3d4/x.csv (id 6f2c1a34-1b1d-4a0e-9d7c-2f9a1c0e5b11, obj 0x7f00aa)", &f3, NULL);
	assert_string_not_equal(a, b);   /* different top frame */
	free(b);
	b = dd_fingerprint("TypeError", "bad row 17 at 2024-05-01T02:00:13Z in /tmp/tmpa1b2c3d4/x.csv (id 6f2c1a34-1b1d-4a0e-9d7c-2f9a1c0e5b11, obj 0x7f00aa)", &f1, NULL);
	assert_string_not_equal(a, b);   /* different type */
	free(b);
	b = dd_fingerprint("ValueError", "empty row 17 at 2024-05-01T02:00:13Z", &f1, NULL);
	assert_string_not_equal(a, b);   /* different message shape */
	free(b);
	b = dd_fingerprint("ValueError", "bad row 17 at 2024-05-01T02:00:13Z in /tmp/tmpa1b2c3d4/x.csv (id 6f2c1a34-1b1d-4a0e-9d7c-2f9a1c0e5b11, obj 0x7f00aa)", NULL, NULL);
	assert_string_not_equal(a, b);   /* no app frame */
	free(b);
	free(a);

	/* quoted run ids vary, named things do not */
	a = dd_fingerprint("KeyError", "Flow run 'masked-hamster' failed", NULL, NULL);
	b = dd_fingerprint("KeyError", "Flow run 'spiritual-llama' failed", NULL, NULL);
	c = dd_fingerprint("ModuleNotFoundError", "No module named 'numpy'", NULL, NULL);
	assert_string_equal(a, b);
	free(b);
	b = dd_fingerprint("ModuleNotFoundError", "No module named 'pandas'", NULL, NULL);
	assert_string_not_equal(b, c);
	free(a);
	free(b);
	free(c);
}

static void test_fingerprint_across_runs(void **state)
{
	/* the four real RemoteDisconnected runs of case 030/099 share fingerprints pairwise */
	struct dd_tbparser *p = parse_fixture("real_021.log");
	char *a = dd_fingerprint(tbparser_get(p, 0)->exc_type, tbparser_get(p, 0)->exc_message,
	                         traceback_top_app_frame(tbparser_get(p, 0)), NULL);
	char *b = dd_fingerprint(tbparser_get(p, 2)->exc_type, tbparser_get(p, 2)->exc_message,
	                         traceback_top_app_frame(tbparser_get(p, 2)), NULL);
	char *c = dd_fingerprint(tbparser_get(p, 1)->exc_type, tbparser_get(p, 1)->exc_message,
	                         traceback_top_app_frame(tbparser_get(p, 1)), NULL);

	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	free(a);
	free(b);
	free(c);
	tbparser_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_airflow2_task_failure),
		cmocka_unit_test(test_real_071),
		cmocka_unit_test(test_chained_real_021),
		cmocka_unit_test(test_chained_inline),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_error_detail_chain),
		cmocka_unit_test(test_compiled_frames),
		cmocka_unit_test(test_multiline_message),
		cmocka_unit_test(test_pasted_excerpts),
		cmocka_unit_test(test_decorated_tracebacks),
		cmocka_unit_test(test_subprocess_prefixed),
		cmocka_unit_test(test_prefect_tracebacks),
		cmocka_unit_test(test_incomplete_and_noise),
		cmocka_unit_test(test_exception_group),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_fingerprint_across_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
