/* Unit tests: src/config.c and src/model.c state names. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <cmocka.h>

#include "dagdoc/config.h"
#include "dagdoc/connector.h"
#include "dagdoc/model.h"

static int load(const char *text, struct dd_config *cfg, struct dd_error *err)
{
	return config_load_string("t.yaml", text, strlen(text), cfg, err);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("DAGDOC_AIRFLOW_URL");
	unsetenv("PREFECT_API_URL");
	unsetenv("DAGDOC_LOGS_PATH");
	unsetenv("DAGDOC_STORE");
	setenv("HOME", "/home/u", 1);
	setenv("XDG_STATE_HOME", "/state", 1);
	return 0;
}

static void test_full(void **state)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_source *src;

	(void)state;
	setenv("MY_TOKEN", "tok-123", 1);
	assert_int_equal(load("sources:\n"
	                      "  - name: prod\n    kind: airflow\n    url: http://a\n    token_env: MY_TOKEN\n"
	                      "    insecure: true\n    timeout: 30\n"
	                      "  - name: pf\n    kind: prefect\n    url: http://p/api\n"
	                      "    success_logs: 0\n    success_log_kb: 256\n"
	                      "degraded_exit: 1\n"
	                      "repos:\n  - ~/repo\n  - path: /r2\n    branch: main\n    deploy_lag: 3h\n"
	                      "    requirements: [reqs/*.txt]\n"
	                      "patterns: [/p1, /p2]\n",
	                      &cfg, &err), 0);
	assert_int_equal(cfg.n_sources, 2);
	assert_string_equal(cfg.sources[0].token, "tok-123");
	assert_int_equal(cfg.sources[0].insecure, 1);
	assert_int_equal(cfg.sources[0].timeout_s, 30);
	assert_int_equal(cfg.sources[0].concurrency, 8);
	assert_int_equal(cfg.sources[1].kind, DD_SOURCE_PREFECT);
	/* quiet failures: the successes read per task and their cap; a degraded DAG's exit */
	assert_int_equal(cfg.sources[0].success_logs, 10);
	assert_int_equal(cfg.sources[0].success_log_bytes, 1 << 20);
	assert_int_equal(cfg.sources[1].success_logs, 0);
	assert_int_equal(cfg.sources[1].success_log_bytes, 256 << 10);
	assert_int_equal(cfg.degraded_exit, 1);
	assert_int_equal(cfg.n_repos, 2);
	assert_string_equal(cfg.repos[0].path, "/home/u/repo");
	assert_string_equal(cfg.repos[0].branch, "HEAD");
	assert_int_equal(cfg.repos[0].deploy_lag_s, 6 * 3600);
	assert_true(dd_strv_contains(&cfg.repos[0].requirement_globs, "poetry.lock"));
	assert_int_equal(cfg.repos[1].deploy_lag_s, 3 * 3600);
	assert_int_equal(cfg.repos[1].requirement_globs.n, 1);
	assert_int_equal(cfg.pattern_dirs.n, 2);
	assert_string_equal(cfg.store_path, "/state/dagdoc/dagdoc.db");
	assert_int_equal(config_find_source(&cfg, "pf", &src, &err), 0);
	assert_string_equal(src->name, "pf");
	assert_int_equal(config_find_source(&cfg, "nope", &src, &err), DD_ENOTFOUND);
	assert_string_equal(err.msg, "no source named 'nope'; configured sources: prod, pf");
	config_release(&cfg);
	unsetenv("MY_TOKEN");
}

static void test_env_only(void **state)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;

	(void)state;
	setenv("DAGDOC_AIRFLOW_URL", "http://air", 1);
	setenv("DAGDOC_AIRFLOW_USERNAME", "admin", 1);
	setenv("DAGDOC_AIRFLOW_PASSWORD", "pw", 1);
	setenv("PREFECT_API_URL", "http://pf/api", 1);
	setenv("PREFECT_API_AUTH_STRING", "u:p", 1);
	assert_int_equal(load("", &cfg, &err), 0);
	assert_int_equal(cfg.n_sources, 2);
	assert_string_equal(cfg.sources[0].name, "airflow");
	assert_string_equal(cfg.sources[0].username, "admin");
	assert_string_equal(cfg.sources[0].password, "pw");
	assert_string_equal(cfg.sources[1].auth_string, "u:p");
	assert_null(cfg.sources[1].api_key);
	config_release(&cfg);
	unsetenv("DAGDOC_AIRFLOW_URL");
	unsetenv("PREFECT_API_URL");
}

static void expect_error(const char *text, const char *msg)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;

	assert_int_equal(load(text, &cfg, &err), DD_EPARSE);
	assert_string_equal(err.msg, msg);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("sources: 3\n", "t.yaml:1:10: 'sources' must be a list, not a scalar");
	expect_error("color: red\n", "t.yaml:1:1: unknown key 'color' in the configuration; expected one of: sources, repos, store, store_password_env, patterns, degraded_exit, post");
	expect_error("sources:\n  - name: a\n    kind: airflow\n", "t.yaml:2:5: source a needs 'url', the API base URL");
	expect_error("sources:\n  - {name: a, kind: logs}\n", "t.yaml:2:5: source a is of kind logs and needs 'path', the log folder");
	expect_error("sources:\n  - {name: a, kind: logs, path: /x}\n  - {name: a, kind: logs, path: /y}\n",
	             "t.yaml:3:5: a source named a is defined twice");
	expect_error("repos:\n  - path: /r\n    deploy_lag: soon\n",
	             "t.yaml:3:17: 'deploy_lag': 'soon' is not a duration; use a number with s, m, h, d or w (e.g. 30d, 24h)");
	expect_error("repos:\n  - path: /r\n    map: [{from: /a}]\n", "t.yaml:3:11: a 'map' entry needs both 'from' and 'to'");
	expect_error("- a\n", "t.yaml:1:1: the configuration must be a mapping (sources:, repos:, store:, patterns:, post:)");
}

/* What YAML accepts but a configuration must not: each refused with
 * file:line:col before anything is used. */
static void test_refusals(void **state)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_buf deep = DD_BUF_INIT;
	int64_t t0;

	(void)state;
	/* duplicate keys: YAML's last one would win ('store' twice became /etc/passwd) */
	expect_error("store: /tmp/a.db\nstore: /etc/passwd\n",
	             "t.yaml:2:1: 'store' is given twice in this mapping (first at line 1); keep one");
	expect_error("sources:\n  - {name: a, kind: logs, path: /x, path: /y}\n",
	             "t.yaml:2:37: 'path' is given twice in this mapping (first at line 2); keep one");
	/* a second document would be ignored */
	expect_error("store: /tmp/a.db\n---\nstore: /etc/passwd\n",
	             "t.yaml:2:1: a second YAML document ('---'); the configuration is one document: merge "
	             "them or remove the marker");
	/* a NUL would cut the value (url: "http://x\0evil" read as http://x) */
	expect_error("sources:\n  - {name: a, kind: airflow, url: \"http://x\\0evil\"}\n",
	             "t.yaml:2:35: a value holding a NUL character (\\0); it would be cut there");
	assert_int_equal(config_load_string("t.yaml", "store: /a\0b\n", 12, &cfg, &err), DD_EPARSE);
	assert_string_equal(err.msg, "t.yaml:1:10: a NUL byte; the configuration must be text");
	/* plain values only */
	expect_error("store: !!binary L2V0Yy9wYXNzd2Q=\n",
	             "t.yaml:1:8: a value tagged !!binary; the configuration takes plain values only");
	expect_error("store: !custom x\n", "t.yaml:1:8: a value tagged !custom; the configuration takes plain values only");
	expect_error("a: &x /tmp\nstore: *x\n", "t.yaml:2:8: an alias (*x); write the value out, the "
	             "configuration takes no anchors or aliases");
	/* an empty variable name */
	expect_error("sources:\n  - {name: a, kind: airflow, url: http://x, token_env: \"\"}\n",
	             "t.yaml:2:56: 'token_env' is empty; name the environment variable that holds the credential, or "
	             "remove the key");
	/* 100k levels: refused at level 33, long before libyaml's scanner slows down */
	dd_buf_adds(&deep, "store: ");
	for (int i = 0; i < 100000; i++)
		dd_buf_addch(&deep, '[');
	for (int i = 0; i < 100000; i++)
		dd_buf_addch(&deep, ']');
	t0 = dd_now_ms();
	assert_int_equal(config_load_string("t.yaml", deep.data, deep.len, &cfg, &err), DD_EPARSE);
	assert_true(dd_now_ms() - t0 < 2000);
	assert_string_equal(err.msg, "t.yaml:1:39: nested more than 32 levels deep; a configuration is a few "
	                    "levels of mappings and lists");
	dd_buf_release(&deep);
}

/* A *_env naming a variable that is not set: recorded with file:line, and
 * the connection refuses the source before any request. */
static void test_unset_env(void **state)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_conn *c = NULL;

	(void)state;
	unsetenv("DD_TEST_NO_SUCH_VAR");
	setenv("DD_TEST_SET_VAR", "s3cr3t-value", 1);
	assert_int_equal(load("sources:\n  - name: a\n    kind: airflow\n    url: http://127.0.0.1:9\n"
	                      "    username: u\n    password_env: DD_TEST_SET_VAR\n    token_env: DD_TEST_NO_SUCH_VAR\n",
	                      &cfg, &err), 0);
	assert_string_equal(cfg.sources[0].unset_env, "t.yaml:7: token_env names DD_TEST_NO_SUCH_VAR, which is "
	                    "not set in the environment (or is empty); export it, or fix the name");
	assert_int_equal(conn_open(&cfg.sources[0], 0, &c, &err), DD_EUSAGE);
	assert_null(c);
	assert_string_equal(err.msg, cfg.sources[0].unset_env);
	config_release(&cfg);
	unsetenv("DD_TEST_SET_VAR");
}

static void test_literal_secret_warns(void **state)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;

	(void)state;
	assert_int_equal(load("sources:\n  - {name: a, kind: prefect, url: http://x, api_key: k}\n", &cfg, &err), 0);
	assert_int_equal(cfg.warnings.n, 1);
	assert_string_equal(cfg.warnings.v[0], "t.yaml:2: source a holds a literal api_key; prefer api_key_env naming an environment variable");
	config_release(&cfg);
}

static void test_states(void **state)
{
	(void)state;
	assert_int_equal(dd_state_parse("up_for_retry"), DD_STATE_UP_FOR_RETRY);
	assert_int_equal(dd_state_parse("COMPLETED"), DD_STATE_SUCCESS);
	assert_int_equal(dd_state_parse("AwaitingRetry"), DD_STATE_UP_FOR_RETRY);
	assert_int_equal(dd_state_parse("NotReady"), DD_STATE_UPSTREAM_FAILED);
	assert_int_equal(dd_state_parse("Late"), DD_STATE_LATE);
	assert_int_equal(dd_state_parse("CRASHED"), DD_STATE_CRASHED);
	assert_int_equal(dd_state_parse(NULL), DD_STATE_UNKNOWN);
	assert_string_equal(dd_state_name(DD_STATE_UPSTREAM_FAILED), "upstream_failed");
	assert_true(dd_state_is_failure(DD_STATE_TIMED_OUT));
	assert_false(dd_state_is_failure(DD_STATE_UP_FOR_RETRY));
	assert_true(dd_state_is_terminal(DD_STATE_SKIPPED));
	assert_false(dd_state_is_terminal(DD_STATE_RUNNING));
}

/* post: where report posts; the URL itself is refused (it is a secret). */
static void test_post(void **state)
{
	struct dd_config cfg;
	struct dd_error err = DD_ERROR_INIT;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(load("post:\n  url_env: HOOK\n  format: blocks\n  report_url: https://r.example.com/r.html\n",
	                      &cfg, &err), 0);
	assert_string_equal(cfg.post.url_env, "HOOK");
	assert_string_equal(cfg.post.format, "blocks");
	assert_string_equal(cfg.post.report_url, "https://r.example.com/r.html");
	assert_string_equal(cfg.post.origin, "t.yaml:2");
	f = open_memstream(&buf, &len);
	config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(buf, "post:\n  url_env: HOOK\n  format: blocks\n"));
	free(buf);
	config_release(&cfg);
	expect_error("post:\n  url: https://hooks.slack.com/services/T/B/X\n",
	             "t.yaml:2:3: 'post' takes url_env, the environment variable that holds the webhook URL, not "
	             "the URL itself (its path is a secret)");
	expect_error("post:\n  format: teams\n", "t.yaml:2:3: post format must be slack, blocks, json or pagerduty, "
	             "not 'teams'");
	expect_error("post:\n  url_env: ''\n", "t.yaml:2:3: post: 'url_env' is empty; name the environment variable, "
	             "or remove the key");
	expect_error("post: yes\n", "t.yaml:1:7: 'post' must be a mapping (url_env, format, routing_key_env, "
	             "report_url)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_full, setup),
		cmocka_unit_test_setup(test_env_only, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_refusals, setup),
		cmocka_unit_test_setup(test_unset_env, setup),
		cmocka_unit_test_setup(test_literal_secret_warns, setup),
		cmocka_unit_test(test_states),
		cmocka_unit_test_setup(test_post, setup),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
