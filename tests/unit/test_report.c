/* Unit tests: src/report.c (HTML escaping, the run x task grid, status,
 * new vs recurring over two reports, renderers). */
#include "dagdoc/util.h"

#include <math.h>
#include <setjmp.h>
#include <cmocka.h>
#include <cJSON.h>
#include <unistd.h>

#include "dagdoc/report.h"
#include "dagdoc/store.h"

#include "quiet_fixture.h"

#define DAY (86400LL * 1000)
#define T0 1767225600000LL      /* 2026-01-01T00:00:00Z */

static char tmpdir[64];
static char dbpath[128];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dd-report-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/dagdoc.db", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char *escaped(const char *s)
{
	struct dd_buf b = DD_BUF_INIT;

	report_html_escape(&b, s);
	return dd_buf_detach(&b);
}

static void test_html_escape(void **state)
{
	char *s;

	(void)state;
	s = escaped("<script>alert(1)</script>");
	assert_string_equal(s, "&lt;script&gt;alert(1)&lt;/script&gt;");
	free(s);
	s = escaped("\"><img src=x onerror=alert(1)>");
	assert_string_equal(s, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
	free(s);
	s = escaped("a & b's \x1b[31mred\x1b[0m\r\n\tend\x7f");
	assert_string_equal(s, "a &amp; b&#39;s [31mred[0m\n\tend");
	free(s);
	s = escaped("naïve — ok");
	assert_string_equal(s, "naïve — ok");
	free(s);
	s = escaped(NULL);
	assert_string_equal(s, "");
	free(s);
}

/* ---- a small store: DAG etl, tasks extract and load, three runs ---------- */

static const char *XSS = "ValueError: bad row <script>alert(1)</script> \"><img src=x onerror=alert(2)>";

static void put_try(struct dd_store *s, int64_t ti_ref, const char *run_id, const char *task, int n,
                    enum dd_state st, int64_t *try_ref)
{
	struct dd_try t;
	struct dd_error err = DD_ERROR_INIT;

	memset(&t, 0, sizeof(t));
	t.run_id = (char *)run_id;
	t.task_id = (char *)task;
	t.map_index = -1;
	t.try_number = n;
	t.state = st;
	assert_int_equal(store_try_put(s, ti_ref, &t, try_ref, &err), 0);
}

static int64_t put_ti(struct dd_store *s, int64_t run_ref, const char *run_id, const char *task, enum dd_state st,
                      int tries)
{
	struct dd_task_instance ti;
	struct dd_error err = DD_ERROR_INIT;
	int64_t ref;

	memset(&ti, 0, sizeof(ti));
	ti.run_id = (char *)run_id;
	ti.task_id = (char *)task;
	ti.map_index = -1;
	ti.state = st;
	ti.try_number = tries;
	assert_int_equal(store_ti_put(s, run_ref, &ti, &ref, &err), 0);
	return ref;
}

static int64_t put_run(struct dd_store *s, int64_t dag_ref, const char *run_id, int64_t logical, enum dd_state st)
{
	struct dd_run r;
	struct dd_error err = DD_ERROR_INIT;
	int64_t ref;

	memset(&r, 0, sizeof(r));
	r.run_id = (char *)run_id;
	r.state = st;
	r.logical_ms = logical;
	r.start_ms = logical + DAY;
	r.end_ms = logical + DAY + 60000;
	assert_int_equal(store_run_put(s, dag_ref, &r, &ref, &err), 0);
	return ref;
}

/* Fills the store and returns the DAG ref. */
static int64_t fill_store(struct dd_store *s)
{
	struct dd_error err = DD_ERROR_INIT;
	struct dd_dag dag;
	struct dd_store_classification cl;
	int64_t src, dag_ref, r, ti, tr;

	assert_int_equal(store_source_put(s, "prod", "airflow", NULL, &src, &err), 0);
	memset(&dag, 0, sizeof(dag));
	dag.dag_id = "etl";
	assert_int_equal(store_dag_put(s, src, &dag, &dag_ref, &err), 0);
	/* run 1: all good */
	r = put_run(s, dag_ref, "r1", T0, DD_STATE_SUCCESS);
	put_try(s, put_ti(s, r, "r1", "extract", DD_STATE_SUCCESS, 1), "r1", "extract", 1, DD_STATE_SUCCESS, &tr);
	put_try(s, put_ti(s, r, "r1", "load", DD_STATE_SUCCESS, 1), "r1", "load", 1, DD_STATE_SUCCESS, &tr);
	/* run 2: extract fails twice (classified), load upstream_failed */
	r = put_run(s, dag_ref, "r2", T0 + DAY, DD_STATE_FAILED);
	ti = put_ti(s, r, "r2", "extract", DD_STATE_FAILED, 2);
	put_try(s, ti, "r2", "extract", 1, DD_STATE_UP_FOR_RETRY, &tr);
	put_try(s, ti, "r2", "extract", 2, DD_STATE_FAILED, &tr);
	memset(&cl, 0, sizeof(cl));
	cl.category = "data_quality";
	cl.fingerprint = "fp-data";
	cl.confidence = 0.8;
	{
		cJSON *j = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(j, "exception");

		cJSON_AddStringToObject(e, "type", "ValueError");
		cJSON_AddStringToObject(e, "message", XSS + strlen("ValueError: "));
		cl.failure_json = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
	}
	assert_int_equal(store_classification_put(s, tr, "libhash", &cl, &err), 0);
	free(cl.failure_json);
	put_ti(s, r, "r2", "load", DD_STATE_UPSTREAM_FAILED, 0);
	/* run 3: extract passes on its second try; load has no instance */
	r = put_run(s, dag_ref, "r3", T0 + 2 * DAY, DD_STATE_SUCCESS);
	ti = put_ti(s, r, "r3", "extract", DD_STATE_SUCCESS, 2);
	put_try(s, ti, "r3", "extract", 1, DD_STATE_UP_FOR_RETRY, &tr);
	put_try(s, ti, "r3", "extract", 2, DD_STATE_SUCCESS, &tr);
	return dag_ref;
}

static void cell(struct an_grid *g, size_t task, size_t run, enum dd_state st, int tries, int failed,
                 const char *category, const char *error)
{
	struct an_cell *c = &g->cells[task * g->n_runs + run];

	c->state = st;
	c->tries = tries;
	c->failed_tries = failed;
	c->category = dd_xstrdup(category);
	c->error = dd_xstrdup(error);
}

/* A grid over an's runs and tasks, every cell without an instance. */
static struct an_grid *grid_alloc(struct an_result *an)
{
	struct an_grid *g = &an->grid;

	g->n_runs = an->n_runs;
	g->n_tasks = an->n_tasks;
	g->run_ids = dd_xcalloc(g->n_runs + 1, sizeof(char *));
	g->run_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_start_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_end_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_states = dd_xcalloc(g->n_runs + 1, sizeof(enum dd_state));
	g->task_ids = dd_xcalloc(g->n_tasks + 1, sizeof(char *));
	g->cells = dd_xcalloc(g->n_runs * g->n_tasks + 1, sizeof(struct an_cell));
	for (size_t r = 0; r < g->n_runs; r++) {
		g->run_ids[r] = dd_xstrdup(an->runs[r].run_id);
		g->run_ms[r] = an->runs[r].logical_ms;
		g->run_start_ms[r] = an->runs[r].start_ms;
		g->run_end_ms[r] = an->runs[r].end_ms;
		g->run_states[r] = an->runs[r].state;
	}
	for (size_t t = 0; t < g->n_tasks; t++)
		g->task_ids[t] = dd_xstrdup(an->tasks[t].task_id);
	for (size_t i = 0; i < g->n_runs * g->n_tasks; i++)
		g->cells[i].state = DD_STATE__COUNT;
	return g;
}

/* The grid analysis gives for fill_store's history (test_analyze tests the
 * building of it). */
static void fake_grid(struct an_result *an)
{
	struct an_grid *g = grid_alloc(an);

	cell(g, 0, 0, DD_STATE_SUCCESS, 1, 0, NULL, NULL);
	cell(g, 0, 1, DD_STATE_FAILED, 2, 2, "data_quality", XSS);
	cell(g, 0, 2, DD_STATE_SUCCESS, 2, 1, NULL, NULL);
	cell(g, 1, 0, DD_STATE_SUCCESS, 1, 0, NULL, NULL);
	cell(g, 1, 1, DD_STATE_UPSTREAM_FAILED, 0, 0, NULL, NULL);
	cell(g, 1, 2, DD_STATE__COUNT, 0, 0, NULL, NULL);
	/* wall clock: each try a minute after its run started; extract took 10m, 3m, 12m */
	for (size_t r = 0; r < 3; r++)
		for (size_t t = 0; t < 2; t++) {
			struct an_cell *c = &g->cells[t * g->n_runs + r];

			if (c->state == DD_STATE__COUNT || c->state == DD_STATE_UPSTREAM_FAILED)
				continue;
			c->start_ms = an->runs[r].start_ms + 60000;
			c->end_ms = c->start_ms + (t ? 5 : r == 0 ? 10 : r == 1 ? 3 : 12) * 60000;
		}
}

/* A triage result as triage_dag would give it for that store. */
static void fake_triage(struct triage_result *t, int failing, const char *fingerprint, int64_t group_last_ms,
                        const char *group_last_run)
{
	static const char *runs[] = { "r1", "r2", "r3" };
	static const enum dd_state states[] = { DD_STATE_SUCCESS, DD_STATE_FAILED, DD_STATE_SUCCESS };
	struct an_result *an = &t->an;

	memset(t, 0, sizeof(*t));
	an->dag_id = dd_xstrdup("etl");
	an->source = dd_xstrdup("prod");
	an->library_hash = dd_xstrdup("libhash");
	an->runs = dd_xcalloc(3, sizeof(*an->runs));
	an->n_runs = 3;
	for (int i = 0; i < 3; i++) {
		an->runs[i].run_id = dd_xstrdup(runs[i]);
		an->runs[i].state = states[i];
		an->runs[i].logical_ms = T0 + i * DAY;
		an->runs[i].start_ms = T0 + (i + 1) * DAY;
		an->runs[i].end_ms = T0 + (i + 1) * DAY + 60000;
	}
	an->n_failed = 1;
	an->n_success = 2;
	an->tasks = dd_xcalloc(2, sizeof(*an->tasks));
	an->n_tasks = 2;
	an->tasks[0].task_id = dd_xstrdup("extract");
	an->tasks[0].intermittent = 0.7;
	an->tasks[0].retry_recovered = 1;
	an->tasks[0].failed = 1;
	an->tasks[0].runs = 3;
	an->tasks[1].task_id = dd_xstrdup("load");
	an->groups = dd_xcalloc(1, sizeof(*an->groups));
	an->n_groups = 1;
	an->groups[0].fingerprint = dd_xstrdup(fingerprint);
	an->groups[0].last_run = dd_xstrdup(group_last_run);
	an->groups[0].last_ms = group_last_ms;
	t->rk.causes = dd_xcalloc(1, sizeof(*t->rk.causes));
	t->rk.n_causes = 1;
	t->rk.causes[0].kind = RK_DATA_ISSUE;
	t->rk.causes[0].category = dd_xstrdup("data_quality");
	t->rk.causes[0].summary = dd_xstrdup("Bad input rows <b>in</b> extract");
	t->rk.causes[0].failure = dd_xstrdup(XSS);
	t->rk.causes[0].fingerprint = dd_xstrdup(fingerprint);
	t->rk.causes[0].confidence = 0.8;
	t->rk.causes[0].still_failing = failing;
	dd_strv_push(&t->rk.causes[0].task_ids, "extract");
	dd_strv_push(&t->rk.causes[0].checks, "grep -c '<NULL>' /data/in.csv");
	t->failing = failing;
	fake_grid(an);
}

static void test_grid(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct report r;
	struct triage_result t;
	const struct an_grid *g;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	fill_store(s);
	report_init(&r, T0 + 4 * DAY, 2 * 86400, "48h");
	fake_triage(&t, 0, "fp-data", T0 + DAY, "r2");
	report_add_dag(&r, "prod", &t);
	assert_null(t.an.dag_id);           /* taken over */
	assert_int_equal(r.n_dags, 1);
	g = &r.dags[0].triage.an.grid;
	assert_int_equal(g->n_runs, 3);
	assert_int_equal(g->n_tasks, 2);
	assert_string_equal(g->run_ids[0], "r1");
	assert_string_equal(g->run_ids[2], "r3");
	assert_string_equal(g->task_ids[0], "extract");
	assert_int_equal(an_grid_cell(g, 0, 0)->state, DD_STATE_SUCCESS);
	assert_int_equal(report_cell_letter(an_grid_cell(g, 0, 0)), '.');
	assert_int_equal(an_grid_cell(g, 0, 1)->state, DD_STATE_FAILED);
	assert_int_equal(an_grid_cell(g, 0, 1)->tries, 2);
	assert_int_equal(an_grid_cell(g, 0, 1)->failed_tries, 2);
	assert_string_equal(an_grid_cell(g, 0, 1)->category, "data_quality");
	assert_string_equal(an_grid_cell(g, 0, 1)->error, XSS);
	assert_int_equal(report_cell_letter(an_grid_cell(g, 0, 1)), 'X');
	assert_int_equal(report_cell_letter(an_grid_cell(g, 0, 2)), 'r');
	assert_null(an_grid_cell(g, 0, 2)->category);   /* not classified */
	assert_int_equal(report_cell_letter(an_grid_cell(g, 1, 1)), 'u');
	assert_int_equal(an_grid_cell(g, 1, 2)->state, DD_STATE__COUNT);
	assert_int_equal(report_cell_letter(an_grid_cell(g, 1, 2)), ' ');
	/* Period: runs r2 (ran T0+2d) and r3 (ran T0+3d) are inside [T0+2d, T0+4d]. */
	assert_int_equal(r.dags[0].runs_in_period, 2);
	assert_int_equal(r.dags[0].failed_in_period, 1);
	assert_int_equal(r.dags[0].status, REPORT_RECOVERED);
	assert_int_equal(r.dags[0].marks[0].in_report, 1);
	report_release(&r);
	store_close(s);
}

static void test_status_healthy_when_failure_before_period(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct report r;
	struct triage_result t;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	fill_store(s);
	/* Period [T0+3.5d, T0+4d]: r3 ran at T0+3d, before it; r2 long before. */
	report_init(&r, T0 + 4 * DAY, 43200, "12h");
	fake_triage(&t, 0, "fp-data", T0 + DAY, "r2");
	report_add_dag(&r, "prod", &t);
	assert_int_equal(r.dags[0].runs_in_period, 0);
	assert_int_equal(r.dags[0].status, REPORT_HEALTHY);
	assert_int_equal(r.dags[0].marks[0].in_report, 0);
	assert_int_equal(report_finish(&r, s, 1, &err), 0);
	assert_int_equal(report_count_new(&r, NULL), 0);
	report_release(&r);
	store_close(s);
}

/* Two successive reports: the same fingerprint is recurring in the second,
 * a new one is new; --no-record does not count. */
static void test_new_vs_recurring(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct report r;
	struct triage_result t;
	size_t rec;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	fill_store(s);

	report_init(&r, T0 + 4 * DAY, 3 * 86400, "3d");
	fake_triage(&t, 1, "fp-data", T0 + DAY, "r2");
	report_add_dag(&r, "prod", &t);
	assert_int_equal(report_finish(&r, s, 0, &err), 0);     /* a preview */
	assert_int_equal(r.dags[0].status, REPORT_FAILING);
	assert_int_equal(report_count_new(&r, &rec), 1);
	report_release(&r);

	report_init(&r, T0 + 4 * DAY + 1000, 3 * 86400, "3d");
	fake_triage(&t, 1, "fp-data", T0 + DAY, "r2");
	report_add_dag(&r, "prod", &t);
	assert_int_equal(report_finish(&r, s, 1, &err), 0);
	assert_int_equal(report_count_new(&r, &rec), 1);         /* the preview did not count */
	assert_int_equal(rec, 0);
	assert_true(r.dags[0].marks[0].is_new);
	report_release(&r);

	report_init(&r, T0 + 5 * DAY, 3 * 86400, "3d");
	fake_triage(&t, 1, "fp-data", T0 + DAY, "r2");
	report_add_dag(&r, "prod", &t);
	fake_triage(&t, 1, "fp-other", T0 + DAY, "r2");
	free(t.an.dag_id);
	t.an.dag_id = dd_xstrdup("etl_b");
	report_add_dag(&r, "prod", &t);
	assert_int_equal(report_finish(&r, s, 1, &err), 0);
	assert_int_equal(report_count_new(&r, &rec), 1);
	assert_int_equal(rec, 1);
	/* Sorted by source then dag_id among failing DAGs: etl, etl_b. */
	assert_string_equal(r.dags[0].dag_id, "etl");
	assert_false(r.dags[0].marks[0].is_new);
	assert_int_equal(r.dags[0].marks[0].seen_before, 1);
	assert_int_equal(r.dags[0].marks[0].first_seen_ms, T0 + 4 * DAY + 1000);
	assert_string_equal(r.dags[1].dag_id, "etl_b");
	assert_true(r.dags[1].marks[0].is_new);
	/* Flaky: extract of both DAGs (intermittent 0.7 >= REPORT_FLAKY_MIN). */
	assert_int_equal(r.n_flaky, 2);
	assert_string_equal(r.flaky[0].task_id, "extract");
	report_release(&r);
	store_close(s);
}

static char *render(const struct report *r, int which)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct report_style st = { 0, 0 };

	assert_non_null(f);
	if (which == 0)
		report_render_html(r, &st, f);
	else if (which == 1)
		report_render_md(r, &st, f);
	else
		report_render_text(r, &st, f);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_html_render(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct report r;
	struct triage_result t;
	char *html, *md, *txt, *hook;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	fill_store(s);
	report_init(&r, T0 + 4 * DAY, 3 * 86400, "3d");
	report_add_source(&r, "prod", "airflow", "airflow 2.10.5 (api v1)", NULL, 1);
	report_add_source(&r, "<evil>", "prefect", NULL, "cannot connect to <b>host</b>", 1);
	fake_triage(&t, 1, "fp-data", T0 + DAY, "r2");
	t.ui_url = dd_xstrdup("http://airflow:8080/dags/etl/grid?dag_run_id=r2&task_id=extract\"><script>x()</script>");
	t.rk.causes[0].outside = dd_xcalloc(1, sizeof(*t.rk.causes[0].outside));
	t.rk.causes[0].outside->package = dd_xstrdup("markupsafe");
	t.rk.causes[0].outside->why = dd_xstrdup("no commit moved markupsafe, but <b>reqs.txt</b> does not pin it");
	report_add_dag(&r, "prod", &t);
	assert_int_equal(report_finish(&r, s, 1, &err), 0);

	html = render(&r, 0);
	/* No markup from data: the only "<script" / "<img" would be injected ones. */
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "<b>in</b>"));
	assert_null(strstr(html, "<evil>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(html, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
	assert_non_null(strstr(html, "Bad input rows &lt;b&gt;in&lt;/b&gt; extract"));
	assert_non_null(strstr(html, "dag_run_id=r2&amp;task_id=extract&quot;&gt;&lt;script&gt;"));
	assert_non_null(strstr(html, "Source &lt;evil&gt; could not be read:</b> cannot connect to &lt;b&gt;host&lt;/b&gt;"));
	/* Self-contained, phone-ready. */
	assert_non_null(strstr(html, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "src=\"http"));
	assert_null(strstr(html, "url("));
	/* The grid: 3 run cells + 6 task cells, one of them an empty slot; the
	 * failed cell is coloured by its category and says so on hover. */
	assert_int_equal(count(html, "<svg class=\"grid\""), 1);
	assert_int_equal(count(html, "<rect "), 9);
	assert_int_equal(count(html, "data-state=\"failed\""), 2);      /* run r2 and extract in it */
	assert_int_equal(count(html, "fill=\"#b08800\" data-state=\"failed\""), 1);
	assert_non_null(strstr(html, "<title>extract in run r2\nlogical date 2026-01-02 00:00 UTC\n"
	                             "started 2026-01-03 00:00 UTC, took 1m\n"
	                             "this try: started 2026-01-03 00:01 UTC, took 3m\nstate: failed, try 2\n"
	                             "category: data_quality\nerror: ValueError: bad row &lt;script&gt;"));
	assert_non_null(strstr(html, "\nstate: success, try 2 (1 failed try first)</title>"));
	assert_non_null(strstr(html, "<title>load in run r3\nlogical date 2026-01-03 00:00 UTC\n"
	                             "started 2026-01-04 00:00 UTC, took 1m\nnever ran: no task instance</title>"));
	assert_non_null(strstr(html, "<span class=\"badge new\">new</span>"));
	assert_non_null(strstr(html, "<section id=\"summary\">"));
	assert_non_null(strstr(html, "<section class=\"dag\" id=\"dag-prod-etl\">"));
	assert_non_null(strstr(html, "failed: data_quality"));   /* legend */
	/* a change from outside the repository is said where a commit would be */
	assert_non_null(strstr(html, "<div>change <span class=\"mut\">none in the repository:</span> no commit moved "
	                             "markupsafe, but &lt;b&gt;reqs.txt&lt;/b&gt; does not pin it</div>"));
	free(html);

	md = render(&r, 1);
	assert_non_null(strstr(md, "| `etl` | prod | failing | Bad input rows &lt;b>in&lt;/b> extract | 0.80 | **new** |"));
	assert_non_null(strstr(md, "\n```\nruns 2026-01-01 00:00 .. 2026-01-03 00:00, oldest first\nrun     .X.\nextract .Xr\nload    .u \n"));
	free(md);

	txt = render(&r, 2);
	assert_non_null(strstr(txt, "1 DAG ran: 1 failing, 0 recovered, 0 healthy; failures: 1 new, 0 recurring\n"));
	assert_non_null(strstr(txt, "source <evil> could not be read: cannot connect to <b>host</b>\n"));
	assert_non_null(strstr(txt, "   extract .Xr\n"));
	assert_non_null(strstr(txt, "   load    .u \n"));
	free(txt);

	hook = report_webhook_text(&r);
	assert_non_null(strstr(hook, "• *etl* (prod) failing, *new*: Bad input rows &lt;b&gt;in&lt;/b&gt; extract (confidence 0.80), task extract"));
	assert_non_null(strstr(hook, "Source &lt;evil&gt; could not be read: cannot connect to &lt;b&gt;host&lt;/b&gt;"));
	assert_null(strstr(hook, "<"));
	free(hook);
	hook = report_webhook_payload(&r);
	{
		cJSON *j = cJSON_Parse(hook);

		assert_non_null(j);
		assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "text")));
		cJSON_Delete(j);
	}
	free(hook);
	report_release(&r);
	store_close(s);
}

/* The grid a team lead reads: at the top of the DAG, a glyph beside each
 * colour, a legend with "never ran", each cell a link to its try's log in
 * the orchestrator's UI (Airflow 2, Airflow 3, Prefect), wall-clock times
 * in the column labels and tooltips, a duration trend per task, and a long
 * task name cut with the whole of it in the tooltip. */
static void test_html_grid(void **state)
{
	static const char run2[] = "manual__2026-01-02T00:00:00+00:00";
	static const char longname[] = "load_the_warehouse_tables_from_staging";
	struct report r;
	struct triage_result t;
	struct an_grid *g;
	char *html;
	const char *grid, *cause;
	static const struct {
		const char *form, *base, *cell, *other;
	} uis[] = {
		{ "airflow-runs", "https://af3.example.com",
		  "<a href=\"https://af3.example.com/dags/etl/runs/manual__2026-01-02T00%3A00%3A00%2B00%3A00/"
		  "tasks/extract?try_number=2\">", "<a href=\"https://af3.example.com/dags/etl/runs/r1\">" },
		{ "prefect", "http://pf:4200",
		  "<a href=\"http://pf:4200/runs/task-run/0b9f6a1e-task-run\"><title>extract in run ",
		  "<a href=\"http://pf:4200/runs/flow-run/r1\"><title>extract in run r1\n" },
		{ NULL, NULL, ">✓</text>", "<g><title>extract in run r1\n" },
	};

	(void)state;
	report_init(&r, T0 + 4 * DAY, 3 * 86400, "3d");
	fake_triage(&t, 1, "fp-data", T0 + DAY, "r2");
	g = &t.an.grid;
	free(g->run_ids[1]);
	g->run_ids[1] = dd_xstrdup(run2);
	free(g->task_ids[1]);
	g->task_ids[1] = dd_xstrdup(longname);
	g->cells[1].task_run_id = dd_xstrdup("0b9f6a1e-task-run");     /* extract in run2 */
	report_add_dag(&r, "prod", &t);

	/* Airflow 2: the grid with the task's log tab */
	triage_link_grid(&r.dags[0].triage, "airflow-grid", "http://af:8080");
	html = render(&r, 0);
	grid = strstr(html, "<svg class=\"grid\"");
	cause = strstr(html, "<div class=\"cause");
	assert_non_null(grid);
	assert_non_null(cause);
	assert_true(grid < cause);
	assert_non_null(strstr(html, "<a href=\"http://af:8080/dags/etl/grid?dag_run_id=manual__2026-01-02T00%3A00%3A00"
	                             "%2B00%3A00&amp;task_id=extract&amp;tab=logs\"><title>extract in run manual__"));
	assert_non_null(strstr(html, "<a href=\"http://af:8080/dags/etl/grid?dag_run_id=r1\"><title>run r1\n"));
	assert_int_equal(count(html, "<a href=\"http://af:8080/"), 3 + 5);   /* runs, cells that ran */
	/* a glyph beside each colour; never ran: a dotted outline, no link */
	assert_int_equal(count(html, ">✓</text>"), 4);
	assert_int_equal(count(html, ">✕</text>"), 2);
	assert_int_equal(count(html, ">↻</text>"), 1);
	assert_int_equal(count(html, ">↑</text>"), 1);
	assert_int_equal(count(html, "<rect class=\"none\""), 1);
	for (size_t i = 0; i < 8; i++) {
		static const char *want[] = { "success", "passed on retry", "upstream failed", "skipped",
			                      "running or queued", "never ran (no task instance)",
			                      "duration of successful tries", "failed: data_quality" };

		assert_non_null(strstr(strstr(html, "<div class=\"legend\">"), want[i]));
	}
	/* wall clock: the columns say when each run started (r1: logical 01-01, started 01-02) */
	assert_non_null(strstr(html, "</title>01-02 00:00</text>"));
	assert_non_null(strstr(html, "\nthis try: started 2026-01-03 00:01 UTC, took 3m\n"));
	/* the trend: extract's two successes (10m, then 12m) */
	assert_int_equal(count(html, "<g class=\"trend\">"), 2);
	assert_non_null(strstr(html, "<title>extract: successful tries took 10m to 12m, the newest 12m (2 of 3 runs; "
	                             "oldest left)</title><polyline "));
	/* nothing clipped: the rotated column labels (11 characters of 10px
	 * monospace, 6px each, at -60 degrees) fit above the grid and before its
	 * right edge; the task labels (24 characters of 11px, 6.6px each) end
	 * before the first column */
	{
		const char *p = grid, *last = NULL;
		int vw = 0, vh = 0, x = 0, y = 0, x0 = 0;

		assert_int_equal(sscanf(strstr(grid, "viewBox=\"") + 9, "0 0 %d %d", &vw, &vh), 2);
		while ((p = strstr(p + 1, "<text class=\"col\" transform=\"translate(")))
			last = p;
		assert_non_null(last);
		assert_int_equal(sscanf(strchr(last, '(') + 1, "%d,%d", &x, &y), 2);
		assert_true(x + 11 * 6 / 2 <= vw);
		assert_true(y - 11 * 6 * 87 / 100 >= 0);
		assert_int_equal(sscanf(strstr(grid, "<rect x=\"") + 9, "%d", &x0), 1);
		assert_true(x0 >= 24 * 66 / 10);
	}
	/* the long name: cut in the label, whole in its tooltip */
	assert_non_null(strstr(html, "<title>load_the_warehouse_tables_from_staging</title>load_the_warehouse_tabl"));
	assert_non_null(strstr(html, "…</text>"));
	free(html);

	/* Airflow 3: the task instance's page (its log) for the try; Prefect: the
	 * task run's page when its id is known, else the flow run's; no UI (a log
	 * folder): no links, the same grid */
	for (size_t i = 0; i < DD_ARRAY_SIZE(uis); i++) {
		triage_link_grid(&r.dags[0].triage, uis[i].form, uis[i].base);
		html = render(&r, 0);
		assert_non_null(strstr(html, uis[i].cell));
		assert_non_null(strstr(html, uis[i].other));
		assert_null(strstr(html, "af:8080"));
		if (!uis[i].form)
			assert_null(strstr(html, "<a href=\"http"));
		free(html);
	}
	report_release(&r);
}

/* Hostile DAG, task and run ids reach the page only as text: the section
 * id, the link, the grid's labels and hover titles; two causes with one
 * fingerprint are one failure. */
static void test_html_hostile_ids(void **state)
{
	static const char *DAG = "\"><img src=x onerror=alert(1)>";
	static const char *TASK = "<script>alert(1)</script>";
	static const char *RUN = "run'\"><svg onload=alert(3)>";
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_dag dag;
	struct report r;
	struct triage_result t;
	int64_t src, dag_ref, run, tr;
	char *html;
	size_t rec;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	assert_int_equal(store_source_put(s, "prod", "airflow", NULL, &src, &err), 0);
	memset(&dag, 0, sizeof(dag));
	dag.dag_id = (char *)DAG;
	assert_int_equal(store_dag_put(s, src, &dag, &dag_ref, &err), 0);
	run = put_run(s, dag_ref, RUN, T0, DD_STATE_FAILED);
	put_try(s, put_ti(s, run, RUN, TASK, DD_STATE_FAILED, 1), RUN, TASK, 1, DD_STATE_FAILED, &tr);

	report_init(&r, T0 + 2 * DAY, 3 * 86400, "3d");
	memset(&t, 0, sizeof(t));
	t.an.dag_id = dd_xstrdup(DAG);
	t.an.source = dd_xstrdup("prod");
	t.an.runs = dd_xcalloc(1, sizeof(*t.an.runs));
	t.an.n_runs = 1;
	t.an.n_failed = 1;
	t.an.runs[0].run_id = dd_xstrdup(RUN);
	t.an.runs[0].state = DD_STATE_FAILED;
	t.an.runs[0].logical_ms = T0;
	t.an.tasks = dd_xcalloc(1, sizeof(*t.an.tasks));
	t.an.n_tasks = 1;
	t.an.tasks[0].task_id = dd_xstrdup(TASK);
	t.rk.causes = dd_xcalloc(2, sizeof(*t.rk.causes));
	t.rk.n_causes = 2;
	for (int i = 0; i < 2; i++) {
		t.rk.causes[i].kind = i ? RK_CODE_CHANGE : RK_DATA_ISSUE;
		t.rk.causes[i].summary = dd_xstrdup(TASK);
		t.rk.causes[i].failure = dd_xstrdup(XSS);
		t.rk.causes[i].fingerprint = dd_xstrdup("fp-same");
		t.rk.causes[i].confidence = 0.5;
		t.rk.causes[i].still_failing = 1;
		dd_strv_push(&t.rk.causes[i].task_ids, TASK);
	}
	t.failing = 1;
	cell(grid_alloc(&t.an), 0, 0, DD_STATE_FAILED, 1, 1, NULL, NULL);
	report_add_dag(&r, "prod", &t);
	assert_int_equal(report_finish(&r, s, 1, &err), 0);
	assert_int_equal(r.dags[0].marks[0].dup, 0);
	assert_int_equal(r.dags[0].marks[1].dup, 1);
	assert_int_equal(report_count_new(&r, &rec), 1);     /* one failure, not two */
	assert_int_equal(rec, 0);

	html = render(&r, 0);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_null(strstr(html, "<svg onload"));
	assert_null(strstr(html, "onerror=alert(1)>"));
	assert_non_null(strstr(html, "<section class=\"dag\" id=\"dag-prod-&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">"));
	assert_non_null(strstr(html, "<a href=\"#dag-prod-&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">"));
	/* grid: the task's label and the cell's hover title */
	assert_non_null(strstr(html, "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"));
	assert_non_null(strstr(html, "<title>&lt;script&gt;alert(1)&lt;/script&gt; in run run&#39;&quot;&gt;&lt;svg "
	                             "onload=alert(3)&gt;\nlogical date "));
	assert_non_null(strstr(html, "<title>run run&#39;&quot;&gt;&lt;svg onload=alert(3)&gt;\n"));
	assert_int_equal(count(html, "<rect "), 2);
	assert_int_equal(count(html, "data-state=\"failed\""), 2);      /* the run and its task */
	free(html);
	report_release(&r);
	store_close(s);
}

/* A DAG whose quiet failure's text is hostile: its own section in every form, escaped in HTML, with
 * the sparkline of its values; the webhook names it. */
static void test_quiet_failures(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct report r;
	struct triage_result t;
	struct quiet_finding *q;
	static const double v[5] = { 12, 12, 11, NAN, 0 };
	char *html, *txt, *hook;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	fill_store(s);
	report_init(&r, T0 + 4 * DAY, 3 * 86400, "3d");
	fake_triage(&t, 0, "fp-data", T0 + DAY, "r2");
	t.an.n_quiet = 1;
	t.an.quiet = q = quiet_fixture("load<b>", "wrote # files to <script>x()</script>",
	                               "\"wrote # files to <script>x()</script>\" logged 0, where it usually logs 12", v,
	                               5, 4, T0 + 3 * DAY);
	q->usual = 12;
	t.degraded = 1;
	report_add_dag(&r, "prod", &t);
	assert_int_equal(report_finish(&r, s, 0, &err), 0);
	assert_int_equal(report_count_degraded(&r), 1);
	html = render(&r, 0);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "load<b>"));
	assert_non_null(strstr(html, "<table id=\"quiet\">"));
	assert_non_null(strstr(html, "wrote # files to &lt;script&gt;x()&lt;/script&gt;"));
	/* the run without a value leaves a gap: a new subpath after it; the onset is marked */
	assert_non_null(strstr(html, "<path d=\"M3.0 3.0 L31.5 3.0 L60.0 4.5 M117.0 21.0 \"/><circle cx=\"117.0\""));
	assert_non_null(strstr(html, "<title>12, 12, 11, nan, 0</title></svg>"));
	txt = render(&r, 2);
	assert_non_null(strstr(txt, "quiet failures (the task succeeded)\n   etl.load<b> value: \"wrote # files"));
	hook = report_webhook_text(&r);
	assert_non_null(strstr(hook, "\nQuiet failures: etl.load&lt;b&gt; (value)"));
	free(hook);
	free(txt);
	free(html);
	report_release(&r);
	store_close(s);
}

/* ---- what --post sends ----------------------------------------------------------- */

static cJSON *parsed(const struct dd_strv *bodies, size_t i)
{
	cJSON *j;

	assert_true(i < bodies->n);
	j = cJSON_Parse(bodies->v[i]);
	assert_non_null(j);
	return j;
}

static const char *str_at(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItemCaseSensitive(o, key);
		assert_non_null(o);
		path = dot + 1;
	}
	o = cJSON_GetObjectItemCaseSensitive(o, path);
	return cJSON_IsString(o) ? o->valuestring : NULL;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* A failing report of n DAGs (etl, etl_1 ...) at made_ms, recorded in s. */
static void failing_report(struct report *r, struct dd_store *s, int64_t made_ms, size_t n, int failing)
{
	struct dd_error err = DD_ERROR_INIT;

	report_init(r, made_ms, 3 * 86400, "3d");
	report_add_source(r, "prod", "airflow", "airflow 2.10.5 (api v1)", NULL, 1);
	for (size_t i = 0; i < n; i++) {
		struct triage_result t;

		fake_triage(&t, failing, "fp-data", T0 + DAY, "r2");
		t.source_kind = dd_xstrdup("airflow");
		t.ui_url = dd_xstrdup("http://airflow:8080/dags/etl/grid?dag_run_id=r2&task_id=extract");
		if (i) {
			free(t.an.dag_id);
			t.an.dag_id = dd_xasprintf("etl_%zu", i);
		}
		report_add_dag(r, "prod", &t);
	}
	assert_int_equal(report_finish(r, s, 1, &err), 0);
}

static void test_post_blocks(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct report r;
	struct report_post_opts o = { "https://reports.example.com/dagdoc/report.html", NULL };
	struct dd_strv bodies = DD_STRV_INIT;
	cJSON *j, *blocks, *b;
	const char *text;
	int sections = 0;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	fill_store(s);
	failing_report(&r, s, T0 + 4 * DAY, 1, 1);
	report_post_bodies(&r, REPORT_POST_BLOCKS, &o, &bodies);
	assert_int_equal(bodies.n, 1);
	j = parsed(&bodies, 0);
	assert_non_null(strstr(str_at(j, "text"), "1 DAG ran: 1 failing"));
	blocks = cJSON_GetObjectItemCaseSensitive(j, "blocks");
	assert_true(cJSON_IsArray(blocks));
	assert_string_equal(str_at(cJSON_GetArrayItem(blocks, 0), "type"), "header");
	assert_string_equal(str_at(cJSON_GetArrayItem(blocks, 0), "text.type"), "plain_text");
	assert_string_equal(str_at(cJSON_GetArrayItem(blocks, 0), "text.text"), "dagdoc: 1 of 1 DAG failing");
	cJSON_ArrayForEach(b, blocks) {
		if (strcmp(str_at(b, "type"), "section"))
			continue;
		sections++;
		assert_string_equal(str_at(b, "text.type"), "mrkdwn");
	}
	assert_int_equal(sections, 2);     /* the summary, the failing DAG */
	text = str_at(cJSON_GetArrayItem(blocks, 1), "text.text");
	assert_non_null(strstr(text, "<https://reports.example.com/dagdoc/report.html|The report>"));
	text = str_at(cJSON_GetArrayItem(blocks, 3), "text.text");
	/* mrkdwn: & < > escaped in text and links; the DAG in its UI and in the report */
	assert_non_null(strstr(text, "*etl* (prod) failing, *new*\nBad input rows &lt;b&gt;in&lt;/b&gt; extract"));
	assert_null(strstr(text, "<script"));
	assert_non_null(strstr(text, "<http://airflow:8080/dags/etl/grid?dag_run_id=r2&amp;task_id=extract|Open in "
	                             "Airflow>"));
	assert_non_null(strstr(text, "Airflow> · <https://reports.example.com/dagdoc/report.html#dag-prod-etl|In the report>"));
	cJSON_Delete(j);
	dd_strv_release(&bodies);
	report_release(&r);

	/* 60 failing DAGs: at most 50 blocks, the rest named in one context line */
	failing_report(&r, s, T0 + 4 * DAY, 60, 1);
	report_post_bodies(&r, REPORT_POST_BLOCKS, &o, &bodies);
	j = parsed(&bodies, 0);
	blocks = cJSON_GetObjectItemCaseSensitive(j, "blocks");
	assert_true(cJSON_GetArraySize(blocks) <= 50);
	assert_string_equal(str_at(cJSON_GetArrayItem(blocks, 0), "text.text"), "dagdoc: 60 of 60 DAGs failing");
	sections = 0;
	cJSON_ArrayForEach(b, blocks) {
		const cJSON *el = cJSON_GetObjectItemCaseSensitive(b, "elements");

		if (!strcmp(str_at(b, "type"), "section")) {
			sections++;
			assert_true(utf8_chars(str_at(b, "text.text")) <= 3000);
		}
		if (el && strstr(str_at(cJSON_GetArrayItem(el, 0), "text"), "more failing"))
			assert_non_null(strstr(str_at(cJSON_GetArrayItem(el, 0), "text"), "… and 20 more failing: etl_"));
	}
	assert_int_equal(sections, 41);
	cJSON_Delete(j);
	dd_strv_release(&bodies);
	report_release(&r);
	store_close(s);
}

static void test_post_json_and_pagerduty(void **state)
{
	struct dd_store *s;
	struct dd_error err = DD_ERROR_INIT;
	struct report r;
	struct report_post_opts o = { "https://reports.example.com/r.html", "@key@" };
	struct dd_strv bodies = DD_STRV_INIT;
	cJSON *j, *d;
	char *key, *longkey, *longdag;

	(void)state;
	assert_int_equal(store_open(dbpath, &s, &err), 0);
	fill_store(s);
	failing_report(&r, s, T0 + 4 * DAY, 1, 1);
	report_post_bodies(&r, REPORT_POST_JSON, &o, &bodies);
	j = parsed(&bodies, 0);
	assert_string_equal(str_at(j, "report.date"), "2026-01-05");
	assert_string_equal(str_at(j, "report.url"), "https://reports.example.com/r.html");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "summary"),
	                                                  "failing")->valueint, 1);
	d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "dags"), 0);
	assert_string_equal(str_at(d, "dag_id"), "etl");
	assert_string_equal(str_at(d, "cause"), "Bad input rows <b>in</b> extract");
	assert_string_equal(str_at(d, "fingerprint"), "fp-data");
	assert_string_equal(str_at(d, "links.report"), "https://reports.example.com/r.html#dag-prod-etl");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "new")));
	cJSON_Delete(j);
	dd_strv_release(&bodies);

	/* PagerDuty: one trigger per failing DAG, its dedup_key from the fingerprint */
	report_post_bodies(&r, REPORT_POST_PAGERDUTY, &o, &bodies);
	assert_int_equal(bodies.n, 1);
	j = parsed(&bodies, 0);
	key = report_dedup_key("prod", "etl", "fp-data");
	assert_string_equal(key, "dagdoc/prod/etl/fp-data");
	assert_string_equal(str_at(j, "routing_key"), "@key@");
	assert_string_equal(str_at(j, "event_action"), "trigger");
	assert_string_equal(str_at(j, "dedup_key"), key);
	assert_string_equal(str_at(j, "payload.severity"), "error");
	assert_string_equal(str_at(j, "payload.component"), "etl");
	assert_string_equal(str_at(j, "payload.class"), "data_quality");
	assert_string_equal(str_at(j, "payload.timestamp"), "2026-01-05T00:00:00Z");
	assert_true(strlen(str_at(j, "payload.summary")) <= 1024);
	assert_string_equal(str_at(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "links"), 1), "href"),
	                    "https://reports.example.com/r.html#dag-prod-etl");
	cJSON_Delete(j);
	dd_strv_release(&bodies);
	report_release(&r);

	/* made again the same day (a retry): still new, nothing fixed */
	failing_report(&r, s, T0 + 4 * DAY + 3600 * 1000, 1, 1);
	assert_true(r.dags[0].marks[0].is_new);
	assert_int_equal(r.n_fixed, 0);
	report_release(&r);

	/* the next day the DAG passes: the failure is fixed, its incident resolved */
	failing_report(&r, s, T0 + 5 * DAY, 1, 0);
	assert_int_equal(r.n_fixed, 1);
	assert_string_equal(r.fixed[0].fingerprint, "fp-data");
	report_post_bodies(&r, REPORT_POST_PAGERDUTY, &o, &bodies);
	assert_int_equal(bodies.n, 1);
	j = parsed(&bodies, 0);
	assert_string_equal(str_at(j, "event_action"), "resolve");
	assert_string_equal(str_at(j, "dedup_key"), key);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "payload"));
	cJSON_Delete(j);
	dd_strv_release(&bodies);
	report_release(&r);
	free(key);

	/* a dedup_key stays within PagerDuty's 255 characters */
	longdag = dd_xcalloc(1, 301);
	memset(longdag, 'd', 300);
	longkey = report_dedup_key("prod", longdag, "0123456789abcdef");
	assert_true(strlen(longkey) <= 255);
	assert_non_null(strstr(longkey, "/0123456789abcdef"));
	free(longkey);
	free(longdag);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test_setup_teardown(test_grid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_healthy_when_failure_before_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_vs_recurring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_hostile_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_json_and_pagerduty, setup, teardown),
		cmocka_unit_test(test_html_grid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
