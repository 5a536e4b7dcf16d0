/*
 * test_logparse.c - the log reader: every input form, chunking, limits.
 */
#include "dagdoc/util.h"
#include "dagdoc/logparse.h"

#include <setjmp.h>
#include <cmocka.h>

struct rec {
	char *msg, *raw;
	size_t lineno;
	int level;
	int64_t ts;
	unsigned flags;
};

struct recs {
	struct rec *v;
	size_t n, cap;
	size_t stop_after;   /* 0 = never */
};

static int collect(const struct dd_logline *l, void *ud)
{
	struct recs *rs = ud;
	struct rec *r;

	DD_GROW(rs->v, rs->cap, rs->n + 1);
	r = &rs->v[rs->n++];
	r->msg = dd_xstrndup(l->msg, l->msg_len);
	r->raw = dd_xstrndup(l->raw, l->raw_len);
	r->lineno = l->lineno;
	r->level = l->level;
	r->ts = l->ts_ms;
	r->flags = l->flags;
	return rs->stop_after && rs->n >= rs->stop_after;
}

static void recs_free(struct recs *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->v[i].msg);
		free(rs->v[i].raw);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

/* Feeds `data` in chunks of `chunk` bytes; returns the format. */
static enum dd_logformat read_mem(const char *data, size_t len, size_t chunk, struct recs *rs)
{
	struct dd_logreader *r = logreader_new();
	struct dd_error err = DD_ERROR_INIT;
	enum dd_logformat f;
	size_t pos = 0;

	while (pos < len) {
		size_t n = len - pos < chunk ? len - pos : chunk;

		assert_int_equal(logreader_feed(r, data + pos, n, collect, rs, &err), 0);
		pos += n;
	}
	assert_int_equal(logreader_finish(r, collect, rs, &err), 0);
	f = logreader_format(r);
	logreader_free(r);
	return f;
}

static char *fixture(const char *name, size_t *len)
{
	const char *root = getenv("ROOT");
	struct dd_buf b = DD_BUF_INIT;
	struct dd_error err = DD_ERROR_INIT;
	char *path = dd_xasprintf("%s/tests/fixtures/logformats/%s", root ? root : ".", name);

	if (dd_read_file(path, 0, &b, &err)) {
		fprintf(stderr, "cannot read fixture %s: %s (run from the project root or set ROOT)\n", path, err.msg);
		fail();
	}
	free(path);
	*len = b.len;
	return dd_buf_detach(&b);
}

static enum dd_logformat read_fixture(const char *name, size_t chunk, struct recs *rs)
{
	size_t len;
	char *data = fixture(name, &len);
	enum dd_logformat f = read_mem(data, len, chunk, rs);

	free(data);
	return f;
}

#define CHECK(i, ln, lvl, m) do {                          \
	assert_true((i) < rs.n);                            \
	assert_int_equal(rs.v[i].lineno, (ln));             \
	assert_int_equal(rs.v[i].level, (lvl));             \
	assert_string_equal(rs.v[i].msg, (m));              \
} while (0)

/* ---- Airflow 2 text -------------------------------------------------------- */

static void check_airflow2_mixed(struct recs *rsp)
{
	struct recs rs = *rsp;

	assert_int_equal(rs.n, 15);
	CHECK(0, 1, 20, "Starting attempt 1 of 1");
	assert_int_equal(rs.v[0].ts, 1668585954278LL);   /* 2022-11-16T08:05:54.278Z */
	CHECK(1, 2, 40, "Task failed with exception");
	assert_int_equal(rs.v[1].ts, 1654300801910LL);
	CHECK(2, 3, 0, "Traceback (most recent call last):");
	assert_int_equal(rs.v[2].ts, 0);
	CHECK(3, 4, 0, "  File \"/opt/airflow/airflow/models/taskinstance.py\", line 767, in _execute_task");
	CHECK(5, 6, 0, "             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^");
	CHECK(8, 9, 0, "airflow.exceptions.AirflowException: Process returned non-zero exit status 1.");
	CHECK(9, 10, 20, "Marking task as FAILED. dag_id=reproduce_log_error_dag, task_id=t2");
	CHECK(10, 11, 30, "Pod log read interrupted");
	assert_int_equal(rs.v[10].ts, 1742940103000LL);  /* UI form, UTC */
	/* logging_mixin nesting: inner prefix stripped, inner level wins */
	CHECK(11, 12, 40, "Failed to import: /opt/airflow/dags/x.py");
	assert_int_equal(rs.v[11].ts, 1656856258288LL);
	/* ANSI removed from msg, kept in raw */
	CHECK(12, 13, 20, "colored output");
	assert_non_null(strchr(rs.v[12].raw, 0x1b));
	CHECK(13, 14, 10, "");
	/* CRLF */
	CHECK(14, 15, 20, "Task exited with return code 1");
	assert_null(strchr(rs.v[14].raw, '\r'));
	assert_string_equal(rs.v[1].raw, "[2022-06-04 00:00:01,910] {taskinstance.py:3311} ERROR - Task failed with exception");
}

static void test_airflow2_mixed(void **state)
{
	static const size_t chunks[] = { 1, 2, 7, 64, 65, 4096 };
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(chunks); i++) {
		struct recs rs = { 0 };

		assert_int_equal(read_fixture("airflow2_mixed.log", chunks[i], &rs), DD_LOGFMT_AIRFLOW2);
		check_airflow2_mixed(&rs);
		recs_free(&rs);
	}
}

struct line_case {
	const char *in, *msg;
	int level;
	int64_t ts;
	enum dd_logformat fmt;
};

static const struct line_case line_cases[] = {
	/* Airflow 2 */
	{ "[2024-05-01T02:00:13.123+0000] {taskinstance.py:2905} ERROR - msg", "msg", 40, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01 02:00:13,123] {file.py:12} ERROR - msg", "msg", 40, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01, 02:00:13 UTC] {file.py:12} ERROR - msg", "msg", 40, 1714528813000LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01, 02:00:13] {file.py:12} WARNING - w", "w", 30, 1714528813000LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01, 02:00:13 CEST] {file.py:12} INFO - x", "x", 20, 0, DD_LOGFMT_AIRFLOW2 },
	{ "[2022-11-16T00:05:54.278-0800] {taskinstance.py:1258} INFO - Starting attempt 1 of 1", "Starting attempt 1 of 1", 20, 1668585954278LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2025-03-22T10:56:17.691+0530] {processor.py:186} INFO - Started", "Started", 20, 1742621177691LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01T02:00:13.123+0000] {x.py:1} CRITICAL - boom", "boom", 50, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01T02:00:13.123+0000] {x.py:1} DEBUG - d - e - f", "d - e - f", 10, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01T02:00:13.123+0000] {x.py:1} ERROR -", "", 40, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ "[2024-05-01T02:00:13.123+0000] ERROR - no braces", "no braces", 40, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ " INFO - ::group::Log message source details", "::group::Log message source details", 20, 0, DD_LOGFMT_AIRFLOW2 },
	{ " INFO - ::endgroup::", "::endgroup::", 20, 0, DD_LOGFMT_AIRFLOW2 },
	{ "*** Found local files:", "Found local files:", 20, 0, DD_LOGFMT_AIRFLOW2 },
	{ "*** Could not read served logs: Client error '404 NOT FOUND'", "Could not read served logs: Client error '404 NOT FOUND'", 20, 0, DD_LOGFMT_AIRFLOW2 },
	/* not Airflow prefixes */
	{ "[2024-05-01T02:00:13.123+0000] {x.py:1} NOTALEVEL - m", "[2024-05-01T02:00:13.123+0000] {x.py:1} NOTALEVEL - m", 0, 0, DD_LOGFMT_PLAIN },
	{ "[base] None", "[base] None", 0, 0, DD_LOGFMT_PLAIN },
	{ "[1/1] currentAttempt done.", "[1/1] currentAttempt done.", 0, 0, DD_LOGFMT_PLAIN },
	{ "  File \"/x.py\", line 1, in f", "  File \"/x.py\", line 1, in f", 0, 0, DD_LOGFMT_PLAIN },
	{ "KeyError: 'x'", "KeyError: 'x'", 0, 0, DD_LOGFMT_PLAIN },
	{ "", "", 0, 0, DD_LOGFMT_PLAIN },
	{ "ERR", "ERR", 0, 0, DD_LOGFMT_PLAIN },
	/* Prefect */
	{ "11:33:55.546 | ERROR   | Task run 'task_foo-0' - Finished in state Failed('x')", "Finished in state Failed('x')", 40, 0, DD_LOGFMT_PREFECT },
	{ "11:33:55.547 | ERROR   | Flow run 'masked-hamster' - Encountered exception during execution:", "Encountered exception during execution:", 40, 0, DD_LOGFMT_PREFECT },
	{ "17:57:34.989 | INFO    | prefect.engine - Created flow run 'x' for flow 'y'", "Created flow run 'x' for flow 'y'", 20, 0, DD_LOGFMT_PREFECT },
	{ "ERROR | prefect.flow_runs - msg", "msg", 40, 0, DD_LOGFMT_PREFECT },
	{ "INFO  | Task run 'terrible-terrible' - Retry 1/5 - soon", "Retry 1/5 - soon", 20, 0, DD_LOGFMT_PREFECT },
	{ "WARNING | prefect.flow_runs.worker - slow", "slow", 30, 0, DD_LOGFMT_PREFECT },
	{ "2024-05-01 02:00:13.123 | ERROR | prefect.flow_runs - msg", "msg", 40, 1714528813123LL, DD_LOGFMT_PREFECT },
	/* Python logging */
	{ "ERROR:root:msg", "msg", 40, 0, DD_LOGFMT_PLAIN },
	{ "CRITICAL:my.module:it: has colons", "it: has colons", 50, 0, DD_LOGFMT_PLAIN },
	{ "2024-05-01 02:00:13,123 - name - ERROR - msg", "msg", 40, 1714528813123LL, DD_LOGFMT_PLAIN },
	{ "2024-05-01 02:00:13,123 - ERROR - msg", "msg", 40, 1714528813123LL, DD_LOGFMT_PLAIN },
	{ "2024-05-01 02:00:13,123 ERROR name: msg", "msg", 40, 1714528813123LL, DD_LOGFMT_PLAIN },
	{ "2024-05-01 02:00:13,123 ERROR msg without logger", "msg without logger", 40, 1714528813123LL, DD_LOGFMT_PLAIN },
	{ "2024-05-01 02:00:13,123 [INFO] svc: started", "started", 20, 1714528813123LL, DD_LOGFMT_PLAIN },
	{ "2024-05-01 02:00:13,123 WARNING - careful", "careful", 30, 1714528813123LL, DD_LOGFMT_PLAIN },
	/* generic prefixes */
	{ "2024-01-24T11:57:31     cursor = self.execute(sql, params)", "    cursor = self.execute(sql, params)", 0, 1706097451000LL, DD_LOGFMT_PLAIN },
	{ "2024-01-24T11:57:31.123456789Z AttributeError: x", "AttributeError: x", 0, 1706097451123LL, DD_LOGFMT_PLAIN },
	{ "Mar 05 13:23:19 fastpath detector[14668]:   File \"/usr/bin/detector\", line 11, in <module>", "  File \"/usr/bin/detector\", line 11, in <module>", 0, 0, DD_LOGFMT_PLAIN },
	{ "Mar  5 13:23:19 host cron: job done", "job done", 0, 0, DD_LOGFMT_PLAIN },
	{ "21:25:03  Completed with 1 error and 0 warnings:", "Completed with 1 error and 0 warnings:", 0, 0, DD_LOGFMT_PLAIN },
	{ "19:45:57.441343 [error] [MainThread]: Failure in test x", "Failure in test x", 40, 0, DD_LOGFMT_PLAIN },
	{ "19:45:57.441182 [info ] [MainThread]: Finished", "Finished", 20, 0, DD_LOGFMT_PLAIN },
	/* decorations around the line, then the prefix inside */
	{ "> Traceback (most recent call last):", "Traceback (most recent call last):", 0, 0, DD_LOGFMT_PLAIN },
	{ ">     raise DataLoaderError(msg)", "    raise DataLoaderError(msg)", 0, 0, DD_LOGFMT_PLAIN },
	{ "> > [2024-05-01T02:00:13.123+0000] {taskinstance.py:2905} ERROR - msg", "msg", 40, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ "E   TypeError: 'module' object is not callable", "TypeError: 'module' object is not callable", 0, 0, DD_LOGFMT_PLAIN },
	{ "\xe2\x94\x82 /opt/flows/etl.py:41 in extract                    \xe2\x94\x82", "/opt/flows/etl.py:41 in extract", 0, 0, DD_LOGFMT_PLAIN },
	{ "| ValueError: bad row |", "ValueError: bad row", 0, 0, DD_LOGFMT_PLAIN },
	{ "airflow-worker-1  | [2024-05-01T02:00:13.123+0000] {taskinstance.py:2905} ERROR - msg", "msg", 40, 1714528813123LL, DD_LOGFMT_AIRFLOW2 },
	{ "airflow-scheduler-1 | ERROR:root:boom", "boom", 40, 0, DD_LOGFMT_PLAIN },
	{ "webserver    | Detected zombie job", "Detected zombie job", 0, 0, DD_LOGFMT_PLAIN },
	{ "[pod/etl-7d9f5-x2v/base] Traceback (most recent call last):", "Traceback (most recent call last):", 0, 0, DD_LOGFMT_PLAIN },
	{ "2024-03-06T11:35:52.884523509Z + pip3 install --upgrade -r composer_requirements.txt", "+ pip3 install --upgrade -r composer_requirements.txt", 0, 1709724952884LL, DD_LOGFMT_PLAIN },
	{ "2024-01-24T11:57:31.1234567Z [2024-01-24 11:57:31,123] {x.py:1} ERROR - boom", "boom", 40, 1706097451123LL, DD_LOGFMT_AIRFLOW2 },
	{ "\"A module that was compiled using NumPy 1.x cannot be run in", "A module that was compiled using NumPy 1.x cannot be run in", 0, 0, DD_LOGFMT_PLAIN },
	{ "Some module may need to rebuild instead e.g. with 'pybind11>=2.12'.\"", "Some module may need to rebuild instead e.g. with 'pybind11>=2.12'.", 0, 0, DD_LOGFMT_PLAIN },
	/* structlog's console form (Airflow 3 processes), alone and inside another prefix */
	{ "2025-07-23 01:27:58 [info     ] Filling up the DagBag from /opt/airflow/dags [airflow.models.dagbag.DagBag]", "Filling up the DagBag from /opt/airflow/dags", 20, 1753234078000LL, DD_LOGFMT_PLAIN },
	{ "2025-11-30T20:04:36.356367Z [info     ] singer_sdk.exceptions.FatalAPIError: 401 Client Error: Unauthorized for path: /point/daily name=tap-rest-api-msdk", "singer_sdk.exceptions.FatalAPIError: 401 Client Error: Unauthorized for path: /point/daily", 20, 1764533076356LL, DD_LOGFMT_PLAIN },
	{ "[2025-11-30T20:04:36.374+0000] {docker.py:438} INFO - 2025-11-30T20:04:36.356367Z [error    ] Sync failed     stream=weather_daily", "Sync failed", 40, 1764533076374LL, DD_LOGFMT_AIRFLOW2 },
	{ "[error    ] Task failed with exception      key=\"a b\" x=1", "Task failed with exception", 40, 0, DD_LOGFMT_PLAIN },
	{ "(begin_task_run pid=122393)   File \"/x/sqlalchemy/engine/base.py\", line 2124, in _handle_dbapi_exception", "  File \"/x/sqlalchemy/engine/base.py\", line 2124, in _handle_dbapi_exception", 0, 0, DD_LOGFMT_PLAIN },
	{ "(raylet, ip=10.0.0.2) Traceback (most recent call last):", "Traceback (most recent call last):", 0, 0, DD_LOGFMT_PLAIN },
	/* other services' defaults */
	{ "[W python_anomaly_mode.cpp:104] Warning: Error detected in LogSoftmaxBackward0. Traceback of forward call that caused the error:", "Warning: Error detected in LogSoftmaxBackward0. Traceback of forward call that caused the error:", 30, 0, DD_LOGFMT_PLAIN },
	{ "[E1015 12:00:00.123456 1234 torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1234] NCCL watchdog timeout", "NCCL watchdog timeout", 40, 0, DD_LOGFMT_PLAIN },
	{ "[2024-05-01 02:00:13,123: ERROR/ForkPoolWorker-1] Task run_task[1f2] raised unexpected: ValueError('x')", "Task run_task[1f2] raised unexpected: ValueError('x')", 40, 1714528813123LL, DD_LOGFMT_PLAIN },
	{ "E0615 12:34:56.789012       1 reflector.go:138] failed to list *v1.Pod: Unauthorized", "failed to list *v1.Pod: Unauthorized", 40, 0, DD_LOGFMT_PLAIN },
	{ "24/01/15 12:34:56 ERROR Executor: Exception in task 0.0 in stage 1.0 (TID 1)", "Exception in task 0.0 in stage 1.0 (TID 1)", 40, 0, DD_LOGFMT_PLAIN },
	{ "##[error]Process completed with exit code 1.", "Process completed with exit code 1.", 40, 0, DD_LOGFMT_PLAIN },
	{ "::error file=dags/etl.py,line=12::Import failed", "Import failed", 40, 0, DD_LOGFMT_PLAIN },
	{ "ERROR:    Exception in ASGI application", "Exception in ASGI application", 40, 0, DD_LOGFMT_PLAIN },
	{ "10:08:00.669 | ERROR   | prefect.infrastructure.process - Process 'x' exited with status code: -9", "Process 'x' exited with status code: -9", 40, 0, DD_LOGFMT_PREFECT },
	{ "DETAIL:  Key (id)=(1) already exists.", "DETAIL:  Key (id)=(1) already exists.", 0, 0, DD_LOGFMT_PLAIN },
	/* plain text stays whole */
	{ "ERROR: something went wrong", "ERROR: something went wrong", 0, 0, DD_LOGFMT_PLAIN },
	{ "Broken DAG: [/x.py] Traceback (most recent call last):", "Broken DAG: [/x.py] Traceback (most recent call last):", 0, 0, DD_LOGFMT_PLAIN },
	{ "12:30 lunch", "12:30 lunch", 0, 0, DD_LOGFMT_PLAIN },
	{ "2024-13-01 02:00:13,123 ERROR bad month", "2024-13-01 02:00:13,123 ERROR bad month", 0, 0, DD_LOGFMT_PLAIN },
	{ "Step: 682/800000 ----- Cur_lr: 0.4", "Step: 682/800000 ----- Cur_lr: 0.4", 0, 0, DD_LOGFMT_PLAIN },
	{ "INFO is a word here", "INFO is a word here", 0, 0, DD_LOGFMT_PLAIN },
};

static void test_line_table(void **state)
{
	struct dd_buf scratch = DD_BUF_INIT;
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(line_cases); i++) {
		const struct line_case *c = &line_cases[i];
		struct dd_logline l;
		enum dd_logformat f = logparse_line(c->in, strlen(c->in), &scratch, &l);
		char *msg = dd_xstrndup(l.msg, l.msg_len);

		if (strcmp(msg, c->msg) || l.level != c->level || l.ts_ms != c->ts || f != c->fmt) {
			fprintf(stderr, "case %zu: %s\n  got msg=[%s] level=%d ts=%lld fmt=%s\n", i, c->in, msg, l.level,
			        (long long)l.ts_ms, logparse_format_name(f));
			fail();
		}
		assert_ptr_equal(l.raw, c->in);
		assert_int_equal(l.raw_len, strlen(c->in));
		free(msg);
	}
	dd_buf_release(&scratch);
}

static void test_ansi_line(void **state)
{
	struct dd_buf scratch = DD_BUF_INIT;
	struct dd_logline l;
	const char *in = "\x1b[0m19:45:57.441011 [debug] [MainThread]: Connection \x1b[31m'x'\x1b[0m closed";

	logparse_line(in, strlen(in), &scratch, &l);
	assert_int_equal(l.level, 10);
	assert_int_equal(l.msg_len, strlen("Connection 'x' closed"));
	assert_memory_equal(l.msg, "Connection 'x' closed", l.msg_len);
	/* OSC hyperlink */
	in = "\x1b]8;;http://x\x07link\x1b]8;;\x1b\\ ERROR:root:boom";
	logparse_line(in, strlen(in), &scratch, &l);
	assert_int_equal(l.msg_len, strlen("link ERROR:root:boom"));
	logparse_line(in, strlen(in), NULL, &l);   /* no scratch: escapes stay */
	assert_int_equal(l.msg_len, strlen(in));
	dd_buf_release(&scratch);
}

/* ---- real logs ------------------------------------------------------------- */

/* Prefect's log download is CSV: a quoted message holds a traceback over
 * several physical lines, with "" for a quote; JSON lines of other
 * services carry the message under "msg". */
static void test_record_forms(void **state)
{
	static const char csv[] =
		"timestamp,level,flow_run_id,task_run_id,message\n"
		"2025-08-28 08:16:39.171681+00:00,20,88e7eacc-69a1-48c2-8c9d-d9d1282c92d3,,Creating Kubernetes job...\n"
		"2025-08-28 08:16:42.017960+00:00,40,88e7eacc-69a1-48c2-8c9d-d9d1282c92d3,,\"Failed to submit flow run "
		"'88e7eacc-69a1-48c2-8c9d-d9d1282c92d3' to infrastructure.\n"
		"Traceback (most recent call last):\n"
		"  File \"\"/usr/local/lib/python3.12/site-packages/prefect_kubernetes/worker.py\"\", line 753, in _create_job\n"
		"    job = await batch_client.create_namespaced_job(\"\n"
		"2025-08-28 08:16:42.5+00:00,30,88e7eacc-69a1-48c2-8c9d-d9d1282c92d3,,Reported flow run as crashed\n";
	static const char jsonl[] = "{\"level\":\"error\",\"ts\":1714528813.1,\"msg\":\"failed to connect to warehouse\"}\n";
	struct recs rs = { 0 };
	size_t chunk;

	(void)state;
	for (chunk = 1; chunk <= sizeof(csv); chunk += sizeof(csv) / 3) {
		read_mem(csv, sizeof(csv) - 1, chunk, &rs);
		assert_int_equal(rs.n, 7);
		assert_string_equal(rs.v[1].msg, "Creating Kubernetes job...");
		assert_int_equal(rs.v[1].level, 20);
		assert_int_equal(rs.v[1].lineno, 2);
		assert_string_equal(rs.v[2].msg, "Failed to submit flow run '88e7eacc-69a1-48c2-8c9d-d9d1282c92d3' to infrastructure.");
		assert_int_equal(rs.v[2].level, 40);
		assert_int_equal(rs.v[2].ts, 1756369002017LL);
		assert_string_equal(rs.v[3].msg, "Traceback (most recent call last):");
		assert_true(rs.v[3].flags & DD_LINE_CONT);
		assert_int_equal(rs.v[3].lineno, 4);
		assert_string_equal(rs.v[4].msg,
		                    "  File \"/usr/local/lib/python3.12/site-packages/prefect_kubernetes/worker.py\", line 753, in _create_job");
		assert_string_equal(rs.v[6].msg, "Reported flow run as crashed");
		assert_int_equal(rs.v[6].level, 30);
		assert_int_equal(rs.v[6].lineno, 7);
		recs_free(&rs);
	}
	read_mem(jsonl, sizeof(jsonl) - 1, 7, &rs);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.v[0].msg, "failed to connect to warehouse");
	assert_int_equal(rs.v[0].level, 40);
	recs_free(&rs);
}

static void test_real_airflow(void **state)
{
	struct recs rs = { 0 };

	assert_int_equal(read_fixture("real_053.log", 100, &rs), DD_LOGFMT_AIRFLOW2);
	CHECK(0, 1, 30, "Pod nav-suggestions-prepare-domain-metadata-prod-u1z3dxdi log read interrupted but container base still running. Logs generated in the last one second might get duplicated.");
	CHECK(1, 2, 20, "[base] None");
	CHECK(2, 3, 0, "unable to retrieve container logs for containerd://8d275b2803fa554db5126a152a11f9664be15ac9d9e94b84195bb6f74741dc21");
	CHECK(4, 5, 20, "`try_number` of task_instance: 5");
	recs_free(&rs);

	assert_int_equal(read_fixture("real_057.log", 3, &rs), DD_LOGFMT_AIRFLOW2);
	assert_int_equal(rs.n, 17);
	CHECK(2, 3, 20, "Filling up the DagBag from /opt/airflow/dags/create_dag_with_python_operator.py");
	CHECK(3, 4, 40, "Failed to import: /opt/airflow/dags/create_dag_with_python_operator.py");
	CHECK(11, 12, 0, "  File \"/opt/airflow/dags/create_dag_with_python_operator.py\", line 11");
	CHECK(12, 13, 0, "    ) as dag:");
	CHECK(14, 15, 0, "SyntaxError: unexpected EOF while parsing");
	CHECK(15, 16, 30, "No viable dags retrieved from /opt/airflow/dags/create_dag_with_python_operator.py");
	recs_free(&rs);

	assert_int_equal(read_fixture("real_071.log", 4096, &rs), DD_LOGFMT_AIRFLOW2);
	CHECK(0, 1, 40, "Task failed with exception");
	CHECK(41, 42, 20, "Marking task as FAILED. dag_id=weather_dag, task_id=is_weather_api_ready, run_id=manual__2025-02-11T15:35:15.500164+00:00, execution_date=20250211T153515, start_date=20250211T153517, end_date=20250211T153518");
	CHECK(43, 44, 40, "Failed to execute job 9 for task is_weather_api_ready (The conn_id `weathermap_api` isn't defined; 194)");
	recs_free(&rs);

	/* a plain first line is upgraded once Airflow lines follow */
	assert_int_equal(read_fixture("real_001.log", 50, &rs), DD_LOGFMT_PLAIN);
	CHECK(0, 1, 0, "Broken DAG: [/usr/local/airflow/dags/great_expectations/great_expectations_athena.py] Traceback (most recent call last):");
	recs_free(&rs);
}

static void test_real_other(void **state)
{
	struct recs rs = { 0 };

	assert_int_equal(read_fixture("real_062.log", 9, &rs), DD_LOGFMT_PLAIN);
	CHECK(0, 1, 0, "  File \"/usr/bin/detector\", line 11, in <module>");
	CHECK(4, 5, 0, "psycopg2.OperationalError: server closed the connection unexpectedly");
	CHECK(5, 6, 0, "        This probably means the server terminated abnormally");
	recs_free(&rs);

	assert_int_equal(read_fixture("real_002.log", 9, &rs), DD_LOGFMT_PLAIN);
	assert_int_equal(rs.n, 4);
	CHECK(0, 1, 0, "    cursor = self.execute(sql, params)");
	CHECK(3, 4, 0, "AttributeError: 'Connection' object has no attribute 'cursor'");
	assert_int_equal(rs.v[3].ts, 1706097451000LL);
	recs_free(&rs);

	assert_int_equal(read_fixture("real_041.log", 13, &rs), DD_LOGFMT_PREFECT);
	assert_int_equal(rs.n, 5);
	CHECK(0, 1, 20, "Created flow run 'talented-cuckoo' for flow 'api-flow'");
	CHECK(1, 2, 20, "Created task run 'call_api-ded10bed-0' for task 'call_api'");
	CHECK(4, 5, 20, "Finished in state Completed('All states completed.')");
	recs_free(&rs);
}

static void test_real_airflow3(void **state)
{
	struct recs rs = { 0 };
	size_t i, n_tb = 0;

	assert_int_equal(read_fixture("real_045.log", 33, &rs), DD_LOGFMT_AIRFLOW3_JSONL);
	CHECK(0, 1, 20, "Filling up the DagBag from /opt/airflow/dags/pdf_to_csv.py");
	assert_int_equal(rs.v[0].ts, 1768400775338LL);
	assert_int_equal(rs.v[0].flags, DD_LINE_JSON);
	assert_int_equal(rs.v[0].raw[0], '{');
	CHECK(1, 2, 40, "Failed to import: /opt/airflow/dags/pdf_to_csv.py");
	CHECK(2, 2, 0, "Traceback (most recent call last):");
	assert_int_equal(rs.v[2].flags, DD_LINE_JSON | DD_LINE_CONT);
	assert_string_equal(rs.v[2].raw, rs.v[2].msg);
	CHECK(3, 2, 0, "  File \"/home/airflow/.local/lib/python3.12/site-packages/airflow/models/dagbag.py\", line 405, in parse");
	CHECK(4, 2, 0, "  File \"<frozen importlib._bootstrap_external>\", line 999, in exec_module");
	CHECK(6, 2, 0, "  File \"/opt/airflow/dags/pdf_to_csv.py\", line 27, in <module>");
	CHECK(7, 2, 0, "TypeError: DAG.__init__() got an unexpected keyword argument 'schedule_interval'");
	for (i = 0; i < rs.n; i++)
		if (!strcmp(rs.v[i].msg, "Traceback (most recent call last):"))
			n_tb++;
	assert_int_equal(n_tb, 2);
	recs_free(&rs);
}

/* ---- API forms ----------------------------------------------------------------- */

static void test_v1_api_json(void **state)
{
	static const size_t chunks[] = { 1, 5, 100000 };
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(chunks); i++) {
		struct recs rs = { 0 };

		assert_int_equal(read_fixture("airflow_v1_api.json", chunks[i], &rs), DD_LOGFMT_AIRFLOW_V1_REPR);
		assert_int_equal(rs.n, 11);
		CHECK(0, 1, 0, "caf\xc3\xa9 \"quoted\" tab\there");
		CHECK(1, 2, 20, "::group::Log message source details");
		CHECK(2, 3, 20, "Found local files:");
		CHECK(3, 4, 20, "  * /root/airflow/logs/dag_id=etl/run_id=manual__2024-05-01T02:00:00+00:00/task_id=load/attempt=1.log");
		CHECK(4, 5, 20, "::endgroup::");
		CHECK(5, 6, 40, "Task failed with exception");
		assert_int_equal(rs.v[5].ts, 1714528813123LL);
		CHECK(7, 8, 0, "  File \"/opt/airflow/dags/etl.py\", line 12, in run");
		CHECK(8, 9, 0, "    x = d['key']");
		CHECK(9, 10, 0, "KeyError: 'key'");
		CHECK(10, 11, 20, "Marking task as FAILED. dag_id=etl, task_id=load");
		assert_string_equal(rs.v[10].raw, "[2024-05-01T02:00:13.200+0000] {taskinstance.py:1225} INFO - Marking task as FAILED. dag_id=etl, task_id=load");
		recs_free(&rs);
	}
}

static void test_v1_repr(void **state)
{
	struct recs rs = { 0 };
	const char *doc = "[('h1', 'a\\x41\\u00e9\\U0001F600\\101\\n\\'q\\' \\\\ \"d\"\\r\\n\\tt'), (\"h2\", \"it's\\n\")]";

	assert_int_equal(read_fixture("airflow_v1_repr.txt", 3, &rs), DD_LOGFMT_AIRFLOW_V1_REPR);
	assert_int_equal(rs.n, 10);
	CHECK(0, 1, 20, "::group::Log message source details");
	CHECK(8, 9, 0, "KeyError: 'key'");
	recs_free(&rs);

	assert_int_equal(read_mem(doc, strlen(doc), 4, &rs), DD_LOGFMT_AIRFLOW_V1_REPR);
	assert_int_equal(rs.n, 4);
	CHECK(0, 1, 0, "aA\xc3\xa9\xf0\x9f\x98\x80" "A");
	CHECK(1, 2, 0, "'q' \\ \"d\"");
	CHECK(2, 3, 0, "\tt");
	CHECK(3, 4, 0, "it's");
	recs_free(&rs);
}

static const char *const v2_expected[] = {
	"::group::Log message source details",
	"::endgroup::",
	"Task exited with return code 0",
	"line one",
	"line two",
	"Task failed with exception",
	"Traceback (most recent call last):",
	"  File \"/opt/airflow/dags/etl.py\", line 25, in load",
	"  File \"/usr/local/lib/python3.12/site-packages/pandas/core/frame.py\", line 4102, in __getitem__",
	"KeyError: 'customer_id'",
	"",
	"The above exception was the direct cause of the following exception:",
	"",
	"Traceback (most recent call last):",
	"  File \"/opt/airflow/task-sdk/src/airflow/sdk/execution_time/task_runner.py\", line 867, in run",
	"  File \"/opt/airflow/dags/etl.py\", line 30, in load",
	"RuntimeError: load failed",
	"Task finished",
};

static void test_v2_api_json(void **state)
{
	struct recs rs = { 0 };
	size_t i;

	assert_int_equal(read_fixture("airflow_v2_api.json", 17, &rs), DD_LOGFMT_AIRFLOW_V2_JSON);
	assert_int_equal(rs.n, DD_ARRAY_SIZE(v2_expected));
	for (i = 0; i < rs.n; i++) {
		assert_string_equal(rs.v[i].msg, v2_expected[i]);
		assert_int_equal(rs.v[i].lineno, i + 1);
	}
	assert_int_equal(rs.v[2].level, 20);               /* from the legacy prefix */
	assert_int_equal(rs.v[2].ts, 1740719949920LL);     /* from the JSON timestamp */
	assert_int_equal(rs.v[5].level, 40);
	assert_int_equal(rs.v[4].level, 0);
	assert_int_equal(rs.v[0].raw[0], '{');             /* the element, printed */
	assert_non_null(strstr(rs.v[0].raw, "\"sources\""));
	recs_free(&rs);

	/* two pages one after the other */
	{
		const char *pages = "{\"content\":[{\"event\":\"a\"}],\"continuation_token\":\"t\"}\n"
		                    "{\"content\":[{\"event\":\"b\",\"level\":\"WARNING\"}],\"continuation_token\":null}\n";

		assert_int_equal(read_mem(pages, strlen(pages), 1000, &rs), DD_LOGFMT_AIRFLOW_V2_JSON);
		assert_int_equal(rs.n, 2);
		CHECK(0, 1, 0, "a");
		CHECK(1, 2, 30, "b");
		recs_free(&rs);
	}
	/* content as [host, text] pairs */
	{
		const char *pairs = "{\"content\": [[\"localhost\", \"*** Found local files:\\nline 2\\n\"]]}";

		assert_int_equal(read_mem(pairs, strlen(pairs), 1000, &rs), DD_LOGFMT_AIRFLOW_V2_JSON);
		assert_int_equal(rs.n, 2);
		CHECK(0, 1, 20, "Found local files:");
		CHECK(1, 2, 0, "line 2");
		recs_free(&rs);
	}
}

static void test_ndjson(void **state)
{
	struct recs rs = { 0 };
	static const size_t lines[] = { 1, 2, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6 };
	size_t i;

	assert_int_equal(read_fixture("airflow_v2.ndjson", 11, &rs), DD_LOGFMT_AIRFLOW3_JSONL);
	assert_int_equal(rs.n, DD_ARRAY_SIZE(v2_expected));
	for (i = 0; i < rs.n; i++) {
		assert_string_equal(rs.v[i].msg, v2_expected[i]);
		assert_int_equal(rs.v[i].lineno, lines[i]);
	}
	recs_free(&rs);
}

static void test_airflow3_jsonl_mixed(void **state)
{
	struct recs rs = { 0 };

	assert_int_equal(read_fixture("airflow3.jsonl", 64, &rs), DD_LOGFMT_AIRFLOW3_JSONL);
	assert_int_equal(rs.n, 12);
	CHECK(0, 1, 20, "Filling up the DagBag from /opt/airflow/dags/pdf_to_csv.py");
	CHECK(1, 2, 40, "Failed to import: /opt/airflow/dags/bad.py");
	CHECK(2, 2, 0, "Traceback (most recent call last):");
	CHECK(5, 2, 0, "  File \"/opt/airflow/dags/bad.py\", line 7");
	CHECK(6, 2, 0, "    x = = 1");
	CHECK(7, 2, 0, "        ^");
	CHECK(8, 2, 0, "SyntaxError: invalid syntax (bad.py, line 7)");
	CHECK(9, 3, 0, "plain text line between JSON lines");
	assert_int_equal(rs.v[9].flags, 0);
	CHECK(10, 4, 30, "retrying");
	CHECK(11, 5, 0, "{\"not_a_log\": true}");
	recs_free(&rs);
}

static void test_prefect(void **state)
{
	struct recs rs = { 0 };

	assert_int_equal(read_fixture("prefect_api.json", 7, &rs), DD_LOGFMT_PREFECT);
	assert_int_equal(rs.n, 7);
	CHECK(0, 1, 20, "Created task run 'extract-0' for task 'extract'");
	assert_int_equal(rs.v[0].ts, 1714528813100LL);
	CHECK(1, 2, 40, "Task run failed with exception: ValueError('bad row') - Retries are exhausted");
	CHECK(2, 3, 0, "Traceback (most recent call last):");
	CHECK(4, 5, 0, "    raise ValueError(\"bad row\")");
	CHECK(5, 6, 0, "ValueError: bad row");
	CHECK(6, 7, 40, "Finished in state Failed('Flow run encountered an exception. ValueError: bad row')");
	recs_free(&rs);

	assert_int_equal(read_fixture("prefect_console.log", 5, &rs), DD_LOGFMT_PREFECT);
	assert_int_equal(rs.n, 12);
	CHECK(0, 1, 40, "Finished in state Failed('Task run encountered an exception ValueError: foo')");
	CHECK(1, 2, 40, "Encountered exception during execution:");
	CHECK(2, 3, 0, "Traceback (most recent call last):");
	CHECK(7, 8, 0, "ValueError: foo");
	CHECK(8, 9, 20, "Created flow run 'talented-cuckoo' for flow 'api-flow'");
	CHECK(9, 10, 20, "Task run failed with exception ValueError() - Retry 1/5 will start immediately");
	CHECK(10, 11, 40, "Process 0 exited with status code: -9; This indicates that the process exited due to a SIGKILL signal.");
	CHECK(11, 12, 40, "Crash detected! Execution was interrupted by an unexpected exception.");
	assert_int_equal(rs.v[11].ts, 1714528813123LL);
	recs_free(&rs);
}

static void test_python_logging(void **state)
{
	struct recs rs = { 0 };

	assert_int_equal(read_fixture("python_logging.log", 10, &rs), DD_LOGFMT_PLAIN);
	assert_int_equal(rs.n, 12);
	CHECK(0, 1, 40, "could not connect to db");
	CHECK(1, 2, 30, "slow query");
	CHECK(2, 3, 40, "load failed for batch 7");
	CHECK(3, 4, 50, "disk full");
	CHECK(4, 5, 40, "retry budget exhausted");
	CHECK(5, 6, 30, "slow");
	CHECK(6, 7, 0, "    cursor = self.execute(sql, params)");
	CHECK(7, 8, 0, "psycopg2.OperationalError: server closed the connection unexpectedly");
	CHECK(8, 9, 0, "Completed with 1 error and 0 warnings:");
	CHECK(9, 10, 40, "Failure in test not_null_orders_id");
	CHECK(10, 11, 0, "just some text");
	CHECK(11, 12, 0, "ERROR: not a python logging line");
	recs_free(&rs);
}

/* ---- streaming properties ----------------------------------------------------------- */

static void test_long_line_truncated(void **state)
{
	struct dd_logreader *r = logreader_new();
	struct dd_error err = DD_ERROR_INIT;
	struct recs rs = { 0 };
	size_t total = 3 * LOGREADER_MAX_LINE + 17, sent = 0;
	char *chunk = dd_xmalloc(100000);

	memset(chunk, 'x', 100000);
	assert_int_equal(logreader_feed(r, "first\n", 6, collect, &rs, &err), 0);
	while (sent < total) {
		size_t n = total - sent < 100000 ? total - sent : 100000;

		assert_int_equal(logreader_feed(r, chunk, n, collect, &rs, &err), 0);
		sent += n;
	}
	assert_int_equal(logreader_feed(r, "\nERROR:root:after\n", 18, collect, &rs, &err), 0);
	/* a single long line in one chunk */
	{
		char *big = dd_xmalloc(LOGREADER_MAX_LINE + 11);

		memset(big, 'y', LOGREADER_MAX_LINE + 10);
		big[LOGREADER_MAX_LINE + 10] = '\n';
		assert_int_equal(logreader_feed(r, big, LOGREADER_MAX_LINE + 11, collect, &rs, &err), 0);
		free(big);
	}
	assert_int_equal(logreader_finish(r, collect, &rs, &err), 0);
	assert_int_equal(rs.n, 4);
	CHECK(0, 1, 0, "first");
	assert_int_equal(strlen(rs.v[1].raw), LOGREADER_MAX_LINE);
	assert_int_equal(rs.v[1].lineno, 2);
	CHECK(2, 3, 40, "after");
	assert_int_equal(strlen(rs.v[3].msg), LOGREADER_MAX_LINE);
	assert_int_equal(rs.v[3].lineno, 4);
	recs_free(&rs);
	free(chunk);
	logreader_free(r);
}

static void test_doc_limit(void **state)
{
	struct dd_logreader *r = logreader_new();
	struct dd_error err = DD_ERROR_INIT;
	struct recs rs = { 0 };
	struct dd_buf doc = DD_BUF_INIT;
	int i;

	logreader_set_doc_limit(r, 4096);
	dd_buf_adds(&doc, "{\"content\": [");
	for (i = 0; i < 200; i++)
		dd_buf_addf(&doc, "%s{\"event\": \"line %d\"}", i ? "," : "", i);
	dd_buf_adds(&doc, "], \"continuation_token\": null}");
	assert_true(doc.len > 4096);
	assert_int_equal(logreader_feed(r, doc.data, 2000, collect, &rs, &err), 0);
	assert_int_equal(logreader_feed(r, doc.data + 2000, doc.len - 2000, collect, &rs, &err), DD_ELIMIT);
	assert_non_null(strstr(err.msg, "larger than"));
	dd_error_clear(&err);
	assert_int_equal(logreader_feed(r, "x", 1, collect, &rs, &err), DD_ELIMIT);
	assert_int_equal(err.code, DD_ELIMIT);
	assert_int_equal(logreader_finish(r, collect, &rs, &err), DD_ELIMIT);
	assert_int_equal(rs.n, 0);
	logreader_free(r);

	/* something that only looked like a document is read as lines past the cap */
	r = logreader_new();
	logreader_set_doc_limit(r, 100);
	{
		const char *t1 = "{\n  \"a\": 1,\n";
		const char *t2 = "[2024-05-01T02:00:13.123+0000] {x.py:1} ERROR - one hundred bytes of text follow here ....\n";

		assert_int_equal(logreader_feed(r, t1, strlen(t1), collect, &rs, &err), 0);
		assert_int_equal(rs.n, 0);
		assert_int_equal(logreader_feed(r, t2, strlen(t2), collect, &rs, &err), 0);
		assert_int_equal(logreader_feed(r, "tail", 4, collect, &rs, &err), 0);
		assert_int_equal(logreader_finish(r, collect, &rs, &err), 0);
	}
	assert_int_equal(rs.n, 4);
	CHECK(0, 1, 0, "{");
	CHECK(1, 2, 0, "  \"a\": 1,");
	CHECK(2, 3, 40, "one hundred bytes of text follow here ....");
	CHECK(3, 4, 0, "tail");
	recs_free(&rs);
	logreader_free(r);

	/* under the limit the same document reads fine */
	assert_int_equal(read_mem(doc.data, doc.len, 333, &rs), DD_LOGFMT_AIRFLOW_V2_JSON);
	assert_int_equal(rs.n, 200);
	CHECK(199, 200, 0, "line 199");
	recs_free(&rs);
	dd_buf_release(&doc);
}

static void test_nul_and_invalid_utf8(void **state)
{
	struct recs rs = { 0 };
	static const char data[] = "a\0b\xff\xfe\n[2024-05-01T02:00:13.123+0000] {x.py:1} ERROR - \xc3\x28\0z\n";

	/* the plain first line is upgraded by the Airflow line after it */
	assert_int_equal(read_mem(data, sizeof(data) - 1, 2, &rs), DD_LOGFMT_AIRFLOW2);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.v[0].lineno, 1);
	assert_memory_equal(rs.v[0].raw, "a\0b\xff\xfe", 5);
	assert_int_equal(rs.v[1].level, 40);
	assert_memory_equal(rs.v[1].msg, "\xc3\x28\0z", 4);
	recs_free(&rs);
}

static void test_stop_and_empty(void **state)
{
	struct dd_logreader *r = logreader_new();
	struct dd_error err = DD_ERROR_INIT;
	struct recs rs = { 0 };
	const char *text = "one\ntwo\nthree\nfour\n";

	rs.stop_after = 2;
	assert_int_equal(logreader_feed(r, text, strlen(text), collect, &rs, &err), 0);
	assert_int_equal(logreader_feed(r, text, strlen(text), collect, &rs, &err), 0);
	assert_int_equal(logreader_finish(r, collect, &rs, &err), 0);
	assert_int_equal(rs.n, 2);
	CHECK(1, 2, 0, "two");
	recs_free(&rs);
	logreader_free(r);

	assert_int_equal(read_mem("", 0, 1, &rs), DD_LOGFMT_UNKNOWN);
	assert_int_equal(rs.n, 0);
	/* blank lines keep their numbers; no final newline */
	assert_int_equal(read_mem("\n\n  \nlast", 9, 1, &rs), DD_LOGFMT_PLAIN);
	assert_int_equal(rs.n, 4);
	CHECK(2, 3, 0, "  ");
	CHECK(3, 4, 0, "last");
	recs_free(&rs);
	logreader_free(NULL);
}

static void test_doc_detection(void **state)
{
	struct recs rs = { 0 };
	const char *bad = "{\"content\": [ {\"event\": \"x\"\nsecond line\n";
	const char *pretty = "\n[\n  {\"level\": 50, \"message\": \"m\", \"name\": \"n\"}\n]\n";
	const char *notdoc = "[2024-05-01T02:00:13.123+0000] {x.py:1} INFO - a\n{\"event\": \"b\"}\n";

	/* a document that does not parse is delivered as text */
	assert_int_equal(read_mem(bad, strlen(bad), 3, &rs), DD_LOGFMT_PLAIN);
	assert_int_equal(rs.n, 2);
	CHECK(0, 1, 0, "{\"content\": [ {\"event\": \"x\"");
	CHECK(1, 2, 0, "second line");
	recs_free(&rs);

	assert_int_equal(read_mem(pretty, strlen(pretty), 1, &rs), DD_LOGFMT_PREFECT);
	assert_int_equal(rs.n, 2);
	CHECK(0, 1, 0, "");
	CHECK(1, 1, 50, "m");
	recs_free(&rs);

	/* a printed Python list of dicts is text, not a document */
	assert_int_equal(read_mem("[{'a': 1}]\nnext\n", 16, 1, &rs), DD_LOGFMT_PLAIN);
	assert_int_equal(rs.n, 2);
	CHECK(0, 1, 0, "[{'a': 1}]");
	recs_free(&rs);

	assert_int_equal(read_mem(notdoc, strlen(notdoc), 1, &rs), DD_LOGFMT_AIRFLOW2);
	assert_int_equal(rs.n, 2);
	CHECK(1, 2, 0, "b");
	assert_int_equal(rs.v[1].flags, DD_LINE_JSON);
	recs_free(&rs);
}

static void test_format_names(void **state)
{
	assert_string_equal(logparse_format_name(DD_LOGFMT_UNKNOWN), "unknown");
	assert_string_equal(logparse_format_name(DD_LOGFMT_PLAIN), "plain");
	assert_string_equal(logparse_format_name(DD_LOGFMT_AIRFLOW2), "airflow2");
	assert_string_equal(logparse_format_name(DD_LOGFMT_AIRFLOW_V1_REPR), "airflow-v1-repr");
	assert_string_equal(logparse_format_name(DD_LOGFMT_AIRFLOW_V2_JSON), "airflow-v2-json");
	assert_string_equal(logparse_format_name(DD_LOGFMT_AIRFLOW3_JSONL), "airflow3-jsonl");
	assert_string_equal(logparse_format_name(DD_LOGFMT_PREFECT), "prefect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_airflow2_mixed),
		cmocka_unit_test(test_line_table),
		cmocka_unit_test(test_ansi_line),
		cmocka_unit_test(test_record_forms),
		cmocka_unit_test(test_real_airflow),
		cmocka_unit_test(test_real_other),
		cmocka_unit_test(test_real_airflow3),
		cmocka_unit_test(test_v1_api_json),
		cmocka_unit_test(test_v1_repr),
		cmocka_unit_test(test_v2_api_json),
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_airflow3_jsonl_mixed),
		cmocka_unit_test(test_prefect),
		cmocka_unit_test(test_python_logging),
		cmocka_unit_test(test_long_line_truncated),
		cmocka_unit_test(test_doc_limit),
		cmocka_unit_test(test_nul_and_invalid_utf8),
		cmocka_unit_test(test_stop_and_empty),
		cmocka_unit_test(test_doc_detection),
		cmocka_unit_test(test_format_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
