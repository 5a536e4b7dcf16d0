/* Unit tests: src/triage_render.c - what a diagnosis shows of the links that
 * tied a failure to its change, of a change from outside the repository,
 * of onset times and of "also seen", in text (--explain), Markdown and JSON. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "dagdoc/triage.h"

#include "quiet_fixture.h"

/* 2026-11-28T01:00:00Z, and the try that ran it a day later. */
#define LOGICAL 1795827600000LL
#define RAN (LOGICAL + 86400000LL + 3000)

static void fill(struct triage_result *t)
{
	struct rk_cause *c;
	struct rk_commit *k;

	memset(t, 0, sizeof(*t));
	t->an.dag_id = dd_xstrdup("forecast_demand");
	t->an.n_runs = 1;
	t->an.runs = dd_xcalloc(1, sizeof(*t->an.runs));
	t->an.runs[0].run_id = dd_xstrdup("scheduled__2026-11-28T01:00:00+00:00");
	t->an.runs[0].state = DD_STATE_FAILED;
	t->an.runs[0].logical_ms = LOGICAL;
	t->an.runs[0].start_ms = RAN;
	t->an.n_failed = 1;
	t->failing = 1;
	t->rk.n_causes = 2;
	t->rk.causes = dd_xcalloc(2, sizeof(*t->rk.causes));
	c = &t->rk.causes[0];
	c->kind = RK_DEPENDENCY_CHANGE;
	c->category = dd_xstrdup("dependency_upgrade");
	c->summary = dd_xstrdup("Dependency upgrade: numpy 1.26.4 -> 2.0.0");
	c->failure = dd_xstrdup("ValueError: numpy.dtype size changed");
	c->fingerprint = dd_xstrdup("0123456789abcdef");
	c->first_bad_run = dd_xstrdup("scheduled__2026-11-28T01:00:00+00:00");
	c->first_bad_ms = RAN;
	c->first_bad_logical_ms = LOGICAL;
	c->still_failing = 1;
	c->n_commits = 1;
	c->commits = dd_xcalloc(1, sizeof(*c->commits));
	k = &c->commits[0];
	snprintf(k->commit.id, sizeof(k->commit.id), "3113aca0000000000000000000000000000000ff");
	k->commit.summary = dd_xstrdup("Refresh the lock file");
	k->commit.author = dd_xstrdup("P. Adeyemi <pa@example.com>");
	k->commit.time_ms = LOGICAL + 9 * 3600000LL;
	dd_strv_push(&k->why, "numpy 1.26.4 -> 2.0.0 in poetry.lock");
	dd_strv_push(&k->links, RK_LINK_NAMED);
	dd_strv_push(&k->link_why, "the message names numpy (numpy.dtype)");
	dd_strv_push(&k->links, RK_LINK_LOCK);
	dd_strv_push(&k->link_why, "pandas requires numpy by poetry.lock, and the traceback passes through site-packages/pandas");
	c = &t->rk.causes[1];
	c->kind = RK_DEPENDENCY_CHANGE;
	c->category = dd_xstrdup("dependency_upgrade");
	c->summary = dd_xstrdup("Dependency change: MarkupSafe 2.1 removed soft_unicode");
	c->failure = dd_xstrdup("ImportError: cannot import name 'soft_unicode' from 'markupsafe'");
	c->fingerprint = dd_xstrdup("fedcba9876543210");
	c->outside = dd_xcalloc(1, sizeof(*c->outside));
	c->outside->package = dd_xstrdup("markupsafe");
	c->outside->file = dd_xstrdup("venvs/newsletter/requirements.txt");
	c->outside->line = 3;
	c->outside->text = dd_xstrdup("markupsafe");
	c->outside->version = dd_xstrdup("");
	c->outside->why = dd_xstrdup("no commit in the window moved markupsafe, but venvs/newsletter/requirements.txt "
	                             "line 3 (markupsafe) does not pin it");
	dd_strv_push(&t->rk.also_seen, "score: failed (1 failed run, 1 try; not failing now)");
}

static char *render(const struct triage_result *t, int explain, int md)
{
	struct triage_style st = { 0, explain, 0, 200 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (md)
		triage_render_md(t, &st, f);
	else
		triage_render_text(t, &st, f);
	fclose(f);
	return buf;
}

static void test_text(void **state)
{
	struct triage_result t;
	char *plain, *explained;

	(void)state;
	fill(&t);
	plain = render(&t, 0, 0);
	explained = render(&t, 1, 0);
	/* the first failure when it ran, the run's logical date beside it */
	assert_non_null(strstr(plain, "(first failure 2026-11-29 01:00 UTC, run of 11-28, after 0 good runs)"));
	assert_non_null(strstr(plain, "onset 2026-11-29 01:00 (scheduled__2026-11-28T01:00:00+00:00, logical date "
	                              "2026-11-28 01:00)"));
	/* the links, one line each right under the change rows, with --explain only */
	assert_null(strstr(plain, "   link     "));
	assert_non_null(strstr(explained, "numpy 1.26.4 -> 2.0.0 in poetry.lock\n"
	                                  "   link     named in message: the message names numpy (numpy.dtype)\n"
	                                  "   link     lock graph: pandas requires numpy by poetry.lock, and the traceback "
	                                  "passes through site-packages/pandas\n"));
	/* a change from outside the repository says so on its change row */
	assert_non_null(strstr(plain, "   change   none in the repository: no commit in the window moved markupsafe, but "
	                              "venvs/newsletter/requirements.txt line 3 (markupsafe) does not pin it\n"));
	assert_non_null(strstr(plain, "also seen\n   failure            score: failed"));
	free(plain);
	free(explained);
	plain = render(&t, 1, 1);
	assert_non_null(strstr(plain, "- link lock graph: pandas requires numpy"));
	assert_non_null(strstr(plain, "- change: none in the repository: no commit in the window moved markupsafe"));
	free(plain);
	triage_release(&t);
}

static void test_json(void **state)
{
	struct triage_result t;
	cJSON *j, *c0, *c1, *k, *o;

	(void)state;
	fill(&t);
	j = triage_to_json(&t, 0);
	c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "causes"), 0);
	c1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "causes"), 1);
	k = cJSON_GetArrayItem(cJSON_GetObjectItem(c0, "commits"), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(k, "links")), 2);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(k, "links"), 1)->valuestring, "lock graph");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(k, "link_details"), 0), "detail")
	                        ->valuestring, "the message names numpy (numpy.dtype)");
	o = cJSON_GetObjectItem(c0, "onset");
	assert_string_equal(cJSON_GetObjectItem(o, "first_bad_time")->valuestring, "2026-11-29T01:00:03Z");
	assert_string_equal(cJSON_GetObjectItem(o, "first_bad_logical_date")->valuestring, "2026-11-28T01:00:00Z");
	assert_null(cJSON_GetObjectItem(c0, "outside_repository"));
	o = cJSON_GetObjectItem(c1, "outside_repository");
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, "venvs/newsletter/requirements.txt");
	assert_string_equal(cJSON_GetObjectItem(o, "line")->valuestring, "markupsafe");
	assert_int_equal(cJSON_GetObjectItem(o, "line_number")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(o, "package")->valuestring, "markupsafe");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "also_seen")), 1);
	cJSON_Delete(j);
	triage_release(&t);
}

/* A DAG whose runs all succeed but whose load logged 0 rows: "degraded", its quiet failure
 * in every form, and the exit status degraded_exit chooses. */
static void fill_degraded(struct triage_result *t)
{
	struct quiet_finding *q;
	static const double values[4] = { 1204332, 1187120, 0, 0 };

	memset(t, 0, sizeof(*t));
	t->an.dag_id = dd_xstrdup("orders_daily");
	t->an.n_runs = t->an.n_success = 1;
	t->an.runs = dd_xcalloc(1, sizeof(*t->an.runs));
	t->an.runs[0].run_id = dd_xstrdup("scheduled__2026-11-28T01:00:00+00:00");
	t->an.runs[0].state = DD_STATE_SUCCESS;
	t->an.runs[0].logical_ms = LOGICAL;
	t->an.n_quiet = 1;
	t->an.quiet = q = quiet_fixture("load_orders", "Loaded # rows into warehouse.orders",
	                                "\"Loaded # rows into warehouse.orders\" logged 0, where it usually logs 1,195,726",
	                                values, 4, 2, LOGICAL);
	q->usual = 1195726;
	q->now = 0;
	t->degraded = 1;
}

static void test_degraded(void **state)
{
	struct triage_result t;
	char *text, *md;
	cJSON *j, *q;

	(void)state;
	fill_degraded(&t);
	text = render(&t, 0, 0);
	md = render(&t, 0, 1);
	assert_non_null(strstr(text, "orders_daily — degraded: 1 of the last 1 runs succeeded, but 1 quiet failure\n"));
	assert_non_null(strstr(text, "quiet failures (the task succeeded)\n   value              load_orders: \"Loaded # rows"));
	assert_non_null(strstr(md, "- `value` in `load_orders`: \"Loaded # rows"));
	assert_null(strstr(text, "   values"));
	free(text);
	/* --explain: the values per run, the onset marked */
	text = render(&t, 1, 0);
	assert_non_null(strstr(text, "\n      values          1,204,332 1,187,120 | 0 0\n"));
	j = triage_to_json(&t, 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "summary"), "status")->valuestring, "degraded");
	q = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "quiet_failures"), 0);
	assert_string_equal(cJSON_GetObjectItem(q, "kind")->valuestring, "value");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(q, "onset"), "run_id")->valuestring, "r2");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(q, "values")), 4);
	assert_true(cJSON_GetObjectItem(q, "now")->valuedouble == 0);
	/* degraded only: exit 0 unless degraded_exit is 1; failing is 1 either way */
	assert_int_equal(triage_exit_status(&t, 0), 0);
	assert_int_equal(triage_exit_status(&t, 1), 1);
	t.failing = 1;
	assert_int_equal(triage_exit_status(&t, 0), 1);
	cJSON_Delete(j);
	free(text);
	free(md);
	triage_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_degraded),
	};

	return cmocka_run_group_tests_name("triage_render", tests, NULL, NULL);
}
