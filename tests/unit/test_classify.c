/* Unit tests: src/classify.c (primary selection, success/none/unknown,
 * retries, excerpts, streaming, bounds, JSON).  Patterns come from the
 * strings below, never from the built-in library. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "dagdoc/classify.h"
#include "dagdoc/pattern.h"

static const char *LIB =
	"category: code_bug\n"
	"patterns:\n"
	"  - id: t.keyerror\n"
	"    title: A key was missing\n"
	"    match: '^KeyError: ''(?<key>[^'']+)''(?: in (?<where>\\w+))?'\n"
	"    confidence: 0.4\n"
	"    checks: [\"grep -n {key} dags/\", \"echo {key}\"]\n"
	"    fix: [\"Set {key} first ({where} stays when its group did not match).\"]\n"
	"    examples: [\"KeyError: 'a'\"]\n"
	"  - id: t.wrapper\n"
	"    title: Bash command failed\n"
	"    match: '^(?:airflow\\.exceptions\\.)?AirflowException: Bash command failed'\n"
	"    confidence: 0.15\n"
	"    examples: [\"AirflowException: Bash command failed. x\"]\n"
	"  - id: t.cause-a\n"
	"    title: Cause A (logged line)\n"
	"    match: '^cause A on (?<host>\\S+)'\n"
	"    confidence: 0.6\n"
	"    examples: [\"cause A on h\"]\n"
	"  - id: t.cause-b\n"
	"    title: Cause B (exception)\n"
	"    match: '^(?:[\\w.]+\\.)?CauseB: '\n"
	"    confidence: 0.58\n"
	"    examples: [\"CauseB: x\"]\n"
	"  - id: t.same-1\n"
	"    title: Same confidence one\n"
	"    match: '^same one'\n"
	"    confidence: 0.5\n"
	"    examples: [\"same one\"]\n"
	"  - id: t.same-2\n"
	"    title: Same confidence two\n"
	"    match: '^same two'\n"
	"    confidence: 0.5\n"
	"    examples: [\"same two\"]\n"
	"  - id: t.high\n"
	"    title: Very specific\n"
	"    match: '^VERY SPECIFIC (?<name>\\w+)'\n"
	"    confidence: 0.95\n"
	"    examples: [\"VERY SPECIFIC x\"]\n"
	"  - id: t.noise\n"
	"    title: Noise\n"
	"    match: '^noise \\d+'\n"
	"    confidence: 0.3\n"
	"    examples: [\"noise 1\"]\n"
	"  - id: t.wrapped\n"
	"    title: A sentence a terminal wraps\n"
	"    match: '^A module that was compiled using NumPy 1\\.x cannot be run in NumPy (?<to>[\\d.]+) as it may crash'\n"
	"    confidence: 0.9\n"
	"    examples: [\"A module that was compiled using NumPy 1.x cannot be run in NumPy 2.0.0 as it may crash\"]\n"
	"  - id: t.evil\n"
	"    title: Backtracks\n"
	"    match: '^(?:a|a)+(?=b)\\d'\n"
	"    confidence: 0.9\n"
	"    examples: [\"x\"]\n";

static struct pat_library *lib;

static int setup_all(void **state)
{
	(void)state;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_strv problems = DD_STRV_INIT;
	setenv("DAGDOC_NO_CACHE", "1", 1);
	lib = pat_library_new();
	if (pat_library_add_string(lib, "lib.yaml", LIB, strlen(LIB), 0, &problems, &err) < 0) {
		for (size_t i = 0; i < problems.n; i++)
			fprintf(stderr, "%s\n", problems.v[i]);
		return -1;
	}
	dd_strv_release(&problems);
	if (classify_add_markers(lib, &err) < 0 || pat_library_finalize(lib, &err) < 0)
		return -1;
	return 0;
}

static int teardown_all(void **state)
{
	(void)state;
	pat_library_free(lib);
	return 0;
}

static void classify_str(const char *text, struct dd_failure *f)
{
	struct dd_error err = DD_ERROR_INIT;
	assert_int_equal(classify_buffer(lib, "t.log", text, strlen(text), f, &err), 0);
}

#define A2(level, msg) "[2024-05-01T02:00:13.123+0000] {taskinstance.py:1} " level " - " msg "\n"
#define TB_START "Traceback (most recent call last):\n  File \"/opt/airflow/dags/d.py\", line 5, in run\n    x()\n"
#define TB_LIB "  File \"/usr/local/lib/python3.11/site-packages/pandas/core/frame.py\", line 9, in get\n    y()\n"

/* A message wrapped over lines is matched as one (its first line is the
 * hit's line); a record's indented lines join the record; a traceback's
 * lines never join anything. */
static void test_joined_lines(void **state)
{
	(void)state;
	struct dd_failure f;

	classify_str("\"A module that was compiled using NumPy 1.x cannot be run in\n"
	             "NumPy 2.2.3 as it may crash. To support both 1.x and 2.x\n"
	             "versions of NumPy, modules must be compiled with NumPy 2.0.\n", &f);
	assert_string_equal(f.category, "code_bug");
	assert_string_equal(f.pattern, "t.wrapped");
	assert_int_equal(f.line_first, 1);
	assert_string_equal(dd_failure_entity(&f, "to"), "2.2.3");
	dd_failure_release(&f);
	/* the same words split after a finished sentence stay apart */
	classify_str("A module that was compiled using NumPy 1.x cannot be run in this place.\n"
	             "NumPy 2.2.3 as it may crash\n", &f);
	assert_string_equal(f.category, "none");
	dd_failure_release(&f);
	/* indented under a prefixed line */
	classify_str(A2("ERROR", "Import failed:") "    A module that was compiled using NumPy 1.x cannot be run in\n"
	             "    NumPy 2.0.0 as it may crash\n", &f);
	assert_string_equal(f.pattern, "t.wrapped");
	dd_failure_release(&f);
}

/* "none" means no sign of an error: error lines, a traceback cut short or a
 * non-zero exit are failures even when no pattern names them. */
static void test_error_signs(void **state)
{
	(void)state;
	struct dd_failure f;
	static const char *const failing[] = {
		"loading\nERROR: cannot open input\n",
		"Traceback (most recent call last):\n  File \"/opt/x.py\", line 3, in run\n    go()\n",
		"step 1\nProcess timed out\n",
		"+ ./load.sh\nCommand exited with code 3\n",
		"10:08:00.669 | ERROR   | prefect.flow_runs - it went wrong\n",
		"> Traceback (most recent call last):\n>   File \"/x.py\", line 1, in f\n> RuntimeError: DataLoader worker (pid 3855) is killed by signal: Bus error\n",
	};

	for (size_t i = 0; i < DD_ARRAY_SIZE(failing); i++) {
		classify_str(failing[i], &f);
		if (!strcmp(f.category, "none"))
			fail_msg("case %zu is none: %s", i, failing[i]);
		assert_non_null(f.fingerprint);
		dd_failure_release(&f);
	}
	/* a sensor that gave up its try to poke later did not succeed, and
	 * without evidence of what it waits for it did not fail either */
	classify_str(A2("INFO", "Starting attempt 1 of 1") A2("INFO", "Rescheduling task, marking task as UP_FOR_RESCHEDULE")
	             A2("INFO", "Task exited with return code 0"), &f);
	assert_string_equal(f.category, "none");
	assert_int_equal(f.success, 0);
	dd_failure_release(&f);
}

static void test_wrapper_loses_to_cause(void **state)
{
	(void)state;
	struct dd_failure f;
	classify_str(A2("INFO", "Starting attempt 1 of 1")
	             A2("ERROR", "Task failed with exception")
	             TB_START TB_LIB
	             "KeyError: 'customer_id'\n"
	             "\nDuring handling of the above exception, another exception occurred:\n\n"
	             TB_START
	             "airflow.exceptions.AirflowException: Bash command failed. The command returned a non-zero exit code 1.\n"
	             A2("INFO", "Marking task as FAILED. dag_id=d, task_id=t")
	             A2("INFO", "Task exited with return code 1"),
	             &f);
	assert_string_equal(f.category, "code_bug");
	assert_string_equal(f.pattern, "t.keyerror");
	assert_string_equal(f.title, "A key was missing");
	assert_true(f.confidence > 0.39 && f.confidence < 0.41);
	assert_string_equal(dd_failure_entity(&f, "key"), "customer_id");
	/* package from the traceback's innermost site-packages frame */
	assert_string_equal(dd_failure_entity(&f, "package"), "pandas");
	assert_string_equal(dd_failure_entity(&f, "exception"), "KeyError");
	assert_string_equal(f.exc_type, "KeyError");
	assert_string_equal(f.exc_message, "'customer_id'");
	assert_int_equal(f.line_first, 3);
	assert_int_equal(f.line_last, 8);
	assert_non_null(f.fingerprint);
	assert_int_equal(strlen(f.fingerprint), 16);
	/* placeholders filled from entities; unknown ones stay */
	assert_int_equal(f.checks.n, 2);
	assert_string_equal(f.checks.v[0], "grep -n customer_id dags/");
	assert_string_equal(f.checks.v[1], "echo customer_id");
	assert_string_equal(f.fix.v[0], "Set customer_id first ({where} stays when its group did not match).");
	/* the wrapper is secondary evidence */
	assert_int_equal(f.n_secondary, 1);
	assert_string_equal(f.secondary[0].pattern, "t.wrapper");
	assert_string_equal(f.secondary[0].category, "code_bug");
	assert_int_equal(f.secondary[0].line, 15);
	assert_int_equal(f.success, 0);
	/* excerpt: a few lines up to the decisive line and 2 after */
	assert_non_null(f.excerpt);
	assert_int_equal(f.excerpt_first, 3);
	assert_non_null(strstr(f.excerpt, "KeyError: 'customer_id'"));
	assert_string_equal(f.format, "airflow2");
	dd_failure_release(&f);
}

static void test_decisive_bonus(void **state)
{
	(void)state;
	struct dd_failure f;
	/* cause A (0.6) logged after the traceback; cause B (0.58) is the decisive
	 * exception: 0.58 + CLASSIFY_W_DECISIVE > 0.6 */
	classify_str(TB_START "mod.CauseB: boom\n" A2("ERROR", "cause A on db1"), &f);
	assert_string_equal(f.pattern, "t.cause-b");
	assert_string_equal(f.exc_type, "mod.CauseB");
	assert_int_equal(f.n_secondary, 1);
	assert_string_equal(f.secondary[0].pattern, "t.cause-a");
	dd_failure_release(&f);
	/* in an earlier traceback, B only gets the smaller bonus: A wins */
	classify_str(TB_START "mod.CauseB: boom\n" A2("ERROR", "cause A on db1") TB_START "ValueError: other\n", &f);
	assert_string_equal(f.pattern, "t.cause-a");
	assert_string_equal(dd_failure_entity(&f, "host"), "db1");
	/* a cause logged before the last traceback: the exception comes from it */
	dd_failure_release(&f);
	classify_str(A2("ERROR", "cause A on db2") TB_START "ValueError: other\n", &f);
	assert_string_equal(f.pattern, "t.cause-a");
	assert_string_equal(f.exc_type, "ValueError");
	assert_int_equal(f.line_first, 1);
	assert_int_equal(f.line_last, 1);
	dd_failure_release(&f);
	/* equal scores: the later line wins */
	classify_str(A2("ERROR", "same two") A2("ERROR", "same one"), &f);
	assert_string_equal(f.pattern, "t.same-1");
	dd_failure_release(&f);
	classify_str(A2("ERROR", "same one") A2("ERROR", "same two"), &f);
	assert_string_equal(f.pattern, "t.same-2");
	assert_int_equal(f.line_first, 2);
	assert_null(f.exc_type);
	assert_string_equal(f.exc_message, "same two");
	dd_failure_release(&f);
}

static void test_success_none_unknown(void **state)
{
	(void)state;
	struct dd_failure f;
	/* a success with a caught error: none, hits kept as secondary */
	classify_str(A2("INFO", "Starting attempt 2 of 3") A2("ERROR", "cause A on h1") TB_START "KeyError: 'x'\n"
	             A2("INFO", "Marking task as SUCCESS. dag_id=d, task_id=t")
	             A2("INFO", "Task exited with return code 0")
	             A2("ERROR", "Error scheduling downstream tasks. Skipping it as this is entirely optional optimisation."),
	             &f);
	assert_string_equal(f.category, "none");
	assert_null(f.pattern);
	assert_null(f.fingerprint);
	assert_null(f.exc_type);
	assert_null(f.excerpt);
	assert_int_equal(f.line_first, 0);
	assert_int_equal(f.success, 1);
	assert_int_equal(f.n_secondary, 2);
	dd_failure_release(&f);
	/* return code 0 after a failure marker in the same try is not a success */
	classify_str(A2("INFO", "Starting attempt 1 of 1") A2("INFO", "Marking task as FAILED. dag_id=d")
	             A2("INFO", "Task exited with return code 0"),
	             &f);
	assert_string_equal(f.category, "unknown");
	assert_int_equal(f.success, 0);
	assert_int_equal(f.line_first, 2);
	assert_non_null(f.fingerprint);
	dd_failure_release(&f);
	/* skipped counts as success; deferral exit code is not a failure */
	classify_str(A2("INFO", "Task exited with return code 100 (task deferral)"), &f);
	assert_string_equal(f.category, "none");
	assert_int_equal(f.success, 0);
	dd_failure_release(&f);
	classify_str(A2("INFO", "Marking task as SKIPPED. dag_id=d") A2("INFO", "Task exited with return code 0"), &f);
	assert_string_equal(f.category, "none");
	assert_int_equal(f.success, 1);
	dd_failure_release(&f);
	/* nothing at all */
	classify_str("hello\nworld\n", &f);
	assert_string_equal(f.category, "none");
	assert_int_equal(f.success, 0);
	assert_int_equal(f.n_lines, 2);
	dd_failure_release(&f);
	classify_str("", &f);
	assert_string_equal(f.category, "none");
	dd_failure_release(&f);
	/* a traceback nothing explains: unknown with exception and fingerprint */
	classify_str(A2("INFO", "Starting attempt 1 of 1") TB_START TB_LIB "acme.Mismatch: ledger 7 off by 3\n"
	             A2("INFO", "Marking task as FAILED. dag_id=d"),
	             &f);
	assert_string_equal(f.category, "unknown");
	assert_null(f.pattern);
	assert_string_equal(f.exc_type, "acme.Mismatch");
	assert_string_equal(f.exc_message, "ledger 7 off by 3");
	assert_string_equal(dd_failure_entity(&f, "package"), "pandas");
	assert_int_equal(f.line_first, 2);
	assert_int_equal(f.line_last, 7);
	assert_non_null(f.fingerprint);
	assert_non_null(strstr(f.excerpt, "acme.Mismatch: ledger 7 off by 3"));
	char *fp = dd_xstrdup(f.fingerprint);
	dd_failure_release(&f);
	/* the same failure with other numbers: same fingerprint */
	classify_str(A2("INFO", "Starting attempt 1 of 1") TB_START TB_LIB "acme.Mismatch: ledger 9 off by 12\n", &f);
	assert_string_equal(f.fingerprint, fp);
	free(fp);
	dd_failure_release(&f);
	/* Prefect and Airflow 3 terminal states */
	classify_str("17:57:35.606 | INFO    | Task run 'x-0' - Finished in state Completed()\n", &f);
	assert_int_equal(f.success, 1);
	dd_failure_release(&f);
	classify_str("17:57:35.606 | ERROR   | Task run 'x-0' - Finished in state Failed('Task run encountered an exception')\n",
	             &f);
	assert_string_equal(f.category, "unknown");
	dd_failure_release(&f);
	classify_str("{\"timestamp\":\"2026-01-14T17:40:49.5Z\",\"level\":\"info\",\"event\":\"x\"}\n"
	             "{\"exit_code\":0,\"final_state\":\"success\",\"event\":\"Task finished\",\"level\":\"info\"}\n",
	             &f);
	assert_string_equal(f.category, "none");
	assert_int_equal(f.success, 1);
	dd_failure_release(&f);
	classify_str("{\"timestamp\":\"2026-01-14T17:40:49.5Z\",\"level\":\"info\",\"event\":\"x\"}\n"
	             "{\"exit_code\":1,\"final_state\":\"failed\",\"event\":\"Task finished\",\"level\":\"info\"}\n",
	             &f);
	assert_string_equal(f.category, "unknown");
	assert_int_equal(f.line_first, 2);
	dd_failure_release(&f);
}

static void test_retries(void **state)
{
	(void)state;
	struct dd_failure f;
	classify_str(A2("INFO", "Starting attempt 1 of 3") A2("ERROR", "cause A on h")
	             A2("INFO", "Marking task as UP_FOR_RETRY. dag_id=d, task_id=t")
	             "11:33:55.546 | INFO    | Task run 'x-0' - Task run failed with exception ValueError() - Retry 1/5 will start immediately\n"
	             A2("WARNING", "Retrying (Retry(total=2, connect=None, read=None)) after connection broken by 'ProtocolError'"),
	             &f);
	assert_string_equal(f.pattern, "t.cause-a");
	assert_int_equal(f.retries, 3);
	assert_int_equal(f.n_retry_lines, 3);
	assert_int_equal(f.retry_lines[0], 3);
	assert_int_equal(f.retry_lines[1], 4);
	assert_int_equal(f.retry_lines[2], 5);
	dd_failure_release(&f);
}

static void test_redaction_and_excerpt(void **state)
{
	(void)state;
	struct dd_failure f;
	classify_str(A2("INFO", "one") A2("INFO", "two") A2("INFO", "three")
	             A2("INFO", "\033[31mconnect postgresql://u:hunter2pass@db/x\033[0m")
	             A2("INFO", "five") A2("INFO", "six") A2("INFO", "seven")
	             A2("ERROR", "cause A on postgresql://u:hunter2pass@db/x") A2("INFO", "nine") A2("INFO", "ten")
	             A2("INFO", "eleven"),
	             &f);
	assert_string_equal(f.pattern, "t.cause-a");
	assert_null(strstr(f.excerpt, "hunter2pass"));
	assert_null(strchr(f.excerpt, '\033'));
	assert_null(strstr(dd_failure_entity(&f, "host"), "hunter2pass"));
	assert_null(strstr(f.exc_message, "hunter2pass"));
	assert_int_equal(f.excerpt_first, 3);
	/* lines 3..10: 5 before, the line, 2 after */
	size_t nl = 0;
	for (const char *s = f.excerpt; *s; s++)
		nl += *s == '\n';
	assert_int_equal(nl, 7);
	assert_non_null(strstr(f.excerpt, "ten"));
	assert_null(strstr(f.excerpt, "eleven"));
	dd_failure_release(&f);
}

static void test_streaming_same_result(void **state)
{
	(void)state;
	const char *text = A2("INFO", "Starting attempt 1 of 1") A2("ERROR", "Task failed with exception") TB_START TB_LIB
	                   "KeyError: 'customer_id'\n" A2("INFO", "Marking task as FAILED. dag_id=d, task_id=t");
	struct dd_failure whole, bytes;
	classify_str(text, &whole);
	struct classify *c = classify_new(lib, "t.log");
	struct dd_error err = DD_ERROR_INIT;
	for (size_t i = 0; text[i]; i++)
		assert_int_equal(classify_feed(c, text + i, 1, &err), 0);
	assert_int_equal(classify_finish(c, &bytes, &err), 0);
	classify_free(c);
	cJSON *a = dd_failure_to_json(&whole), *b = dd_failure_to_json(&bytes);
	char *sa = cJSON_PrintUnformatted(a), *sb = cJSON_PrintUnformatted(b);
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	cJSON_Delete(a);
	cJSON_Delete(b);
	dd_failure_release(&whole);
	dd_failure_release(&bytes);
}

static void test_bounded_hits(void **state)
{
	(void)state;
	/* a very specific hit early, then thousands of weaker hits: the
	 * champion survives the ring of recent hits, with its excerpt */
	struct dd_buf b = DD_BUF_INIT;
	dd_buf_adds(&b, A2("INFO", "before"));
	dd_buf_adds(&b, A2("ERROR", "VERY SPECIFIC thing"));
	dd_buf_adds(&b, A2("INFO", "after"));
	for (int i = 0; i < 5000; i++)
		dd_buf_addf(&b, "[2024-05-01T02:00:13.123+0000] {x.py:1} INFO - noise %d\n", i);
	struct dd_failure f;
	classify_str(b.data, &f);
	assert_string_equal(f.pattern, "t.high");
	assert_string_equal(dd_failure_entity(&f, "name"), "thing");
	assert_int_equal(f.line_first, 2);
	assert_non_null(strstr(f.excerpt, "before"));
	assert_non_null(strstr(f.excerpt, "after"));
	assert_int_equal(f.n_lines, 5003);
	/* secondary: the last hit line of each other pattern */
	assert_int_equal(f.n_secondary, 1);
	assert_string_equal(f.secondary[0].pattern, "t.noise");
	assert_int_equal(f.secondary[0].line, 5003);
	dd_failure_release(&f);
	dd_buf_release(&b);
}

static void test_limit_warning(void **state)
{
	(void)state;
	struct dd_failure f;
	classify_str(A2("ERROR", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1") A2("ERROR", "same one"), &f);
	/* the limit hit is no match, with a warning; the rest still classifies */
	assert_string_equal(f.pattern, "t.same-1");
	assert_int_equal(f.warnings.n, 1);
	assert_string_equal(f.warnings.v[0], "line 1: pattern t.evil hit the PCRE2 match limit; treated as no match");
	dd_failure_release(&f);
}

static void test_json(void **state)
{
	(void)state;
	struct dd_failure f;
	classify_str(TB_START "KeyError: 'k'\n", &f);
	cJSON *o = dd_failure_to_json(&f);
	assert_string_equal(cJSON_GetObjectItem(o, "category")->valuestring, "code_bug");
	assert_string_equal(cJSON_GetObjectItem(o, "pattern")->valuestring, "t.keyerror");
	assert_string_equal(cJSON_GetObjectItem(o, "input")->valuestring, "t.log");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "entities"), "key")->valuestring, "k");
	cJSON *ex = cJSON_GetObjectItem(o, "exception");
	assert_string_equal(cJSON_GetObjectItem(ex, "type")->valuestring, "KeyError");
	assert_string_equal(cJSON_GetObjectItem(ex, "message")->valuestring, "'k'");
	cJSON *lines = cJSON_GetObjectItem(o, "lines");
	assert_int_equal(cJSON_GetArraySize(lines), 2);
	assert_int_equal(cJSON_GetArrayItem(lines, 0)->valueint, 1);
	assert_int_equal(cJSON_GetArrayItem(lines, 1)->valueint, 4);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "secondary")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "success")));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "retries"), "count")->valueint, 0);
	cJSON_Delete(o);
	dd_failure_release(&f);
	classify_str("nothing here\n", &f);
	o = dd_failure_to_json(&f);
	assert_string_equal(cJSON_GetObjectItem(o, "category")->valuestring, "none");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "pattern")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "exception")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "fingerprint")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "lines")));
	cJSON_Delete(o);
	dd_failure_release(&f);
}

static void test_file_errors(void **state)
{
	(void)state;
	struct dd_failure f;
	struct dd_error err = DD_ERROR_INIT;
	assert_int_equal(classify_file(lib, "/nonexistent/dir/x.log", &f, &err), DD_EIO);
	assert_non_null(strstr(err.msg, "cannot read /nonexistent/dir/x.log: No such file or directory"));
	dd_failure_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrapper_loses_to_cause),
		cmocka_unit_test(test_decisive_bonus),
		cmocka_unit_test(test_success_none_unknown),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_redaction_and_excerpt),
		cmocka_unit_test(test_streaming_same_result),
		cmocka_unit_test(test_bounded_hits),
		cmocka_unit_test(test_limit_warning),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_joined_lines),
		cmocka_unit_test(test_error_signs),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
