/* Unit tests: src/rank.c (candidate causes, evidence weights, commits)
 * on small run histories analysed from a real store (history_fixture.h),
 * with and without a git repository built with dated commits
 * (tests/lib/mkrepo.py). */
#include "dagdoc/util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "dagdoc/analyze.h"
#include "dagdoc/classify.h"
#include "dagdoc/config.h"
#include "dagdoc/gitcorr.h"
#include "dagdoc/rank.h"
#include "dagdoc/store.h"
#include "history_fixture.h"

/* ---- failure logs and repository of these tests ---------------------------------- */

/* An application error no pattern knows. */
static const char LOG_UNKNOWN[] =
	A2("02:00:01.102", "taskinstance.py:2867", "INFO", "Starting attempt 1 of 1")
	A2("02:00:07.417", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	"Traceback (most recent call last):\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/airflow/operators/python.py\", line 238, in execute\n"
	"    return_value = self.execute_callable()\n"
	"  File \"/opt/airflow/dags/orders/transform.py\", line 57, in post_ledger\n"
	"    ledger.post(batch, period=period)\n"
	"  File \"/opt/airflow/dags/orders/ledger.py\", line 88, in post\n"
	"    raise PeriodClosedError(f\"period {period} is closed for posting\")\n"
	"ledger.PeriodClosedError: period 2026-03 is closed for posting\n"
	A2("02:00:07.431", "taskinstance.py:1225", "INFO", "Marking task as FAILED. dag_id=orders, task_id=transform")
	A2("02:00:07.460", "local_task_job_runner.py:243", "INFO", "Task exited with return code 1");

/* The pipeline repository: pandas is bumped the afternoon before run 5
 * (2026-03-05 02:00), a README typo fix follows, a later commit falls
 * after the onset.  Line 14 of features.py is the one in the traceback. */
static const char HISTORY[] =
	"[\n"
	"{\"date\": \"2026-02-20T10:00:00+00:00\", \"author\": \"A. Lee <alee@example.com>\", \"message\": \"Churn pipeline\",\n"
	" \"files\": {\"requirements.txt\": \"pandas==1.5.3\\nnumpy==1.24.4\\nscikit-learn==1.2.2\\n\",\n"
	"  \"dags/churn/train_churn.py\": \"from airflow import DAG\\nfrom churn.features import build_features\\n\",\n"
	"  \"dags/churn/features.py\": \"import logging\\n\\nimport pandas as pd\\n\\nfrom churn.io import read_table\\n\\n"
	"log = logging.getLogger(__name__)\\n\\n\\ndef build_features(ds, **context):\\n"
	"    df = read_table('customers', ds)\\n    extra = read_table('customers_late', ds)\\n"
	"    log.info('building features for %d customers', len(df))\\n"
	"    df = df.append(extra, ignore_index=True)\\n    return df\\n\",\n"
	"  \"README.md\": \"# pipelines\\n\"}},\n"
	"{\"date\": \"2026-03-04T15:12:00+00:00\", \"author\": \"J. Doe <jdoe@example.com>\", \"message\": \"Bump ML deps\",\n"
	" \"files\": {\"requirements.txt\": \"pandas==2.0.0\\nnumpy==1.24.4\\nscikit-learn==1.3.0\\n\"}},\n"
	"{\"date\": \"2026-03-04T18:02:00+00:00\", \"author\": \"M. Okafor <mo@example.com>\", \"message\": \"Fix typo in README\",\n"
	" \"files\": {\"README.md\": \"# pipelines\\n\\nchurn: daily features and model.\\n\"}},\n"
	"{\"date\": \"2026-03-07T09:30:00+00:00\", \"author\": \"J. Doe <jdoe@example.com>\", \"message\": \"Add churn dashboard link\",\n"
	" \"files\": {\"README.md\": \"# pipelines\\n\\nchurn: daily features and model.\\nDashboard: https://bi.example.com/churn\\n\"}}\n"
	"]\n";

static char repo_dir[64];
static char repo_path[128];

/* ---- fixtures -------------------------------------------------------------------- */

/* The shared fixture plus the ranking and the repository.  Tests get &fx
 * (the first member); rank_fx() converts it back. */
struct rank_fx {
	struct fx fx;             /* first */
	struct rk_result rk;
	int ranked;
	struct dd_repo cfg;       /* the repository's configuration (outlives repo) */
	struct gitcorr_repo *repo;
};

static struct rank_fx *rank_fx(struct fx *f)
{
	return (struct rank_fx *)f;
}

static int setup_all(void **state)
{
	const char *root = getenv("ROOT");
	char *cmd, *hist;
	FILE *fp;
	int rc;

	(void)state;
	if (!root || !*root)
		root = ".";
	snprintf(repo_dir, sizeof(repo_dir), "/tmp/dd-rank-repo-XXXXXX");
	if (!mkdtemp(repo_dir))
		return -1;
	/* gitcorr's answer cache goes with the repository, not in ~/.cache */
	cmd = dd_xasprintf("%s/cache", repo_dir);
	setenv("XDG_CACHE_HOME", cmd, 1);
	free(cmd);
	snprintf(repo_path, sizeof(repo_path), "%s/repo", repo_dir);
	hist = dd_xasprintf("%s/history.json", repo_dir);
	fp = fopen(hist, "w");
	if (!fp)
		return -1;
	fputs(HISTORY, fp);
	fclose(fp);
	cmd = dd_xasprintf("python3 '%s/tests/lib/mkrepo.py' '%s' '%s'", root, hist, repo_path);
	rc = system(cmd);
	free(cmd);
	free(hist);
	if (rc != 0)
		return -1;
	return library_load();
}

static int teardown_all(void **state)
{
	char cmd[128];

	(void)state;
	pat_library_free(lib);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", repo_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct rank_fx *r = dd_xcalloc(1, sizeof(*r));

	*state = &r->fx;
	return fx_open(&r->fx, "rank");
}

static int teardown(void **state)
{
	struct rank_fx *r = rank_fx(*state);
	int rc;

	if (r->ranked)
		rank_release(&r->rk);
	gitcorr_close(r->repo);
	dd_strv_release(&r->cfg.requirement_globs);
	rc = fx_close(&r->fx);
	free(r);
	return rc;
}

/* Opens the test repository with a 6 h deploy lag. */
static void open_repo(struct fx *f)
{
	struct rank_fx *r = rank_fx(f);
	struct dd_error err = DD_ERROR_INIT;

	memset(&r->cfg, 0, sizeof(r->cfg));
	r->cfg.path = repo_path;
	r->cfg.branch = (char *)"HEAD";
	r->cfg.deploy_lag_s = 6 * 3600;
	dd_strv_push(&r->cfg.requirement_globs, "requirements*.txt");
	must(gitcorr_open(&r->cfg, &r->repo, &err), &err, "gitcorr_open");
}


static int64_t ms_of(const char *iso)
{
	int64_t ms;

	assert_int_equal(dd_parse_time(iso, &ms), 0);
	return ms;
}

/* What every ranking must satisfy, whatever the scenario. */
static void check_invariants(const struct rk_result *rk)
{
	for (size_t i = 0; i < rk->n_causes; i++) {
		const struct rk_cause *c = &rk->causes[i];
		double sum = 0;

		assert_true(c->confidence >= 0.0 && c->confidence <= 1.0);
		assert_float_equal(c->confidence, 1.0 - exp(-c->score), 1e-12);
		assert_true(c->n_evidence > 0);
		for (size_t e = 0; e < c->n_evidence; e++) {
			if (!c->evidence[e].text || !*c->evidence[e].text)
				fail_msg("cause %zu (%s): evidence %zu has no text", i, rk_kind_name(c->kind), e);
			sum += c->evidence[e].weight;
		}
		/* the score is the sum of the evidence weights, nothing hidden */
		assert_float_equal(c->score, sum, 1e-9);
		assert_non_null(c->summary);
		assert_true(*c->summary != '\0');
		for (size_t k = 0; k < c->n_commits; k++)
			assert_true(c->commits[k].why.n > 0);
		/* ongoing failures first */
		if (i > 0 && c->still_failing)
			assert_true(rk->causes[i - 1].still_failing);
	}
}

static const struct rk_result *rank(struct fx *f)
{
	struct rank_fx *r = rank_fx(f);
	struct dd_error err = DD_ERROR_INIT;
	struct gitcorr_repo *repos[1] = { r->repo };

	if (!f->analysed)
		analyse(f);
	if (r->ranked)
		rank_release(&r->rk);
	must(rank_causes(&f->an, repos, r->repo ? 1 : 0, &r->rk, &err), &err, "rank_causes");
	r->ranked = 1;
	check_invariants(&r->rk);
	return &r->rk;
}

static const char *entity(const struct rk_cause *c, const char *name)
{
	for (size_t i = 0; i < c->n_entities; i++)
		if (!strcmp(c->entities[i].name, name))
			return c->entities[i].value;
	return NULL;
}

/* The evidence item whose text contains `needle` (fails when none). */
static const struct rk_evidence *evidence_with(const struct rk_cause *c, const char *needle)
{
	for (size_t i = 0; i < c->n_evidence; i++)
		if (strstr(c->evidence[i].text, needle))
			return &c->evidence[i];
	fail_msg("no evidence of %s mentions \"%s\"", rk_kind_name(c->kind), needle);
	return NULL;
}

/* The weight of "the log matches PATTERN": the pattern's confidence, raised
 * by the knowledge base when it points the same way (classify.h), never
 * lowered; within [at_least, 1). */
static double match_weight(const struct rk_cause *c, const char *pattern, double at_least)
{
	char *needle = dd_xasprintf("the log matches %s", pattern);
	double w = evidence_with(c, needle)->weight;

	free(needle);
	assert_true(w >= at_least - 1e-9 && w < 1.0);
	return w;
}

static int starts_with_any(const struct dd_strv *sv, const char *prefix)
{
	for (size_t i = 0; i < sv->n; i++)
		if (dd_starts_with(sv->v[i], prefix))
			return 1;
	return 0;
}

/* Whether any line of sv mentions `needle`, in any case. */
static int mentions(const struct dd_strv *sv, const char *needle)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcasestr(sv->v[i], needle))
			return 1;
	return 0;
}

/* ---- tests ------------------------------------------------------------------------ */

/* Connection resets that pass on retry, no repository: an intermittent fault. */
static void test_transient_network_error_is_intermittent(void **state)
{
	struct fx *f = *state;
	const struct rk_result *rk;
	const struct rk_cause *c;
	double m;

	runs(f, "extract", "SRSSRSSR", LOG_RESET);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 1);
	c = &rk->causes[0];
	assert_int_equal(c->kind, RK_INTERMITTENT_FAULT);
	assert_string_equal(rk_kind_name(c->kind), "intermittent_fault");
	assert_string_equal(c->category, "intermittent");
	assert_string_equal(c->pattern, "net.connection-reset");
	assert_string_equal(c->failure, "requests.exceptions.ConnectionError: ('Connection aborted.', "
	                                "ConnectionResetError(104, 'Connection reset by peer'))");
	assert_int_equal(c->task_ids.n, 1);
	assert_string_equal(c->task_ids.v[0], "extract");
	assert_int_equal(c->still_failing, 0);
	assert_int_equal(c->failed_runs, 0);
	assert_int_equal(c->tries, 3);
	assert_int_equal(c->n_commits, 0);
	assert_int_equal(c->window_from_ms, 0);
	assert_int_equal(c->window_to_ms, 0);
	assert_true(dd_starts_with(c->summary, "Intermittent fault in task extract"));
	m = match_weight(c, "net.connection-reset", 0.75);
	assert_float_equal(evidence_with(c, "3 of 3 failing task instances passed on a retry")->weight, 0.90, 1e-9);
	assert_int_equal(c->n_evidence, 2);
	assert_float_equal(c->score, m + 0.90, 1e-9);
	assert_true(starts_with_any(&c->checks, "compare the hosts and times of the failed tries of extract"));
	assert_int_equal(rk->notes.n, 0);
}

/* A task killed by the OOM killer after running an hour: resource exhaustion. */
static void test_oom_kill_is_resource_exhaustion(void **state)
{
	struct fx *f = *state;
	const struct rk_result *rk;
	const struct rk_cause *c;

	runs(f, "aggregate_sessions", "SSSSff", LOG_SIGKILL);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 1);
	c = &rk->causes[0];
	assert_int_equal(c->kind, RK_RESOURCE_EXHAUSTION);
	assert_string_equal(rk_kind_name(c->kind), "resource_exhaustion");
	assert_string_equal(c->category, "resource");
	assert_string_equal(c->pattern, "res.task-sigkill");
	assert_string_equal(entity(c, "exit_code"), "Negsignal.SIGKILL");
	assert_string_equal(c->task_ids.v[0], "aggregate_sessions");
	assert_int_equal(c->still_failing, 1);
	assert_int_equal(c->failed_runs, 2);
	assert_run(c->first_bad_run, 5);
	assert_run(c->last_good_run, 4);
	assert_int_equal(c->first_bad_ms, logical(f, 5));
	assert_int_equal(c->last_good_ms, logical(f, 4));
	assert_true(dd_starts_with(c->summary, "Resource exhaustion in task aggregate_sessions"));
	match_weight(c, "res.task-sigkill", 0.75);
	assert_float_equal(evidence_with(c, "2 of 2 runs since the onset failed with it")->weight, 0.30, 1e-9);
	/* the long-running stall (an hour where ten minutes is usual), x severity 0.5 */
	assert_float_equal(evidence_with(c, "ran up to 3600 s before failing")->weight, 0.40, 1e-9);
	assert_float_equal(c->score, 1.45, 1e-9);
}

/* The pandas 1.5.3 -> 2.0.0 bump in the onset window is the culprit, not
 * the README fix committed after it. */
static void test_pandas_bump_is_dependency_change(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "extract", "SSSSSSSS", NULL, "features", NULL, 0, 0 },
		{ "features", "SSSSFFFF", LOG_PANDAS, "train", NULL, 0, 0 },
		{ "train", "SSSSUUUU", NULL, NULL, NULL, 0, 0 },
	};
	const struct rk_result *rk;
	const struct rk_cause *c;
	const struct rk_commit *bump;
	int64_t good_start, onset_start;

	f->fileloc = "/opt/airflow/dags/churn/train_churn.py";
	build(f, "train_churn", tasks, 3);
	open_repo(f);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 1);
	c = &rk->causes[0];
	assert_int_equal(c->kind, RK_DEPENDENCY_CHANGE);
	assert_string_equal(rk_kind_name(c->kind), "dependency_change");
	assert_string_equal(c->summary, "Dependency upgrade: pandas 1.5.3 -> 2.0.0");
	assert_string_equal(c->failure, "AttributeError: 'DataFrame' object has no attribute 'append'");
	assert_string_equal(c->pattern, "dep.pandas-removed-method");
	assert_int_equal(c->task_ids.n, 1);
	assert_string_equal(c->task_ids.v[0], "features");
	assert_int_equal(c->still_failing, 1);
	assert_int_equal(c->failed_runs, 4);
	assert_run(c->first_bad_run, 5);
	assert_run(c->last_good_run, 4);

	/* the window: last good run's start minus the deploy lag, to the first bad run's start */
	good_start = logical(f, 4) + 60000;
	onset_start = logical(f, 5) + 60000;
	assert_int_equal(f->an.runs[3].start_ms, good_start);
	assert_int_equal(c->window_from_ms, good_start - 6 * 3600 * 1000LL);
	assert_int_equal(c->window_to_ms, onset_start);

	/* only the bump is implicated; the newer README commit is not */
	assert_int_equal(c->n_commits, 1);
	bump = &c->commits[0];
	assert_string_equal(bump->commit.summary, "Bump ML deps");
	assert_string_equal(bump->commit.author, "J. Doe <jdoe@example.com>");
	assert_int_equal(bump->commit.time_ms, ms_of("2026-03-04T15:12:00Z"));
	assert_int_equal(strlen(bump->commit.id), 40);
	assert_string_equal(bump->repo, repo_path);
	assert_float_equal(bump->suspicion, 1.2, 1e-9);
	assert_int_equal(bump->why.n, 1);
	assert_string_equal(bump->why.v[0], "pandas 1.5.3 -> 2.0.0 in requirements.txt; the failure names pandas");
	for (size_t i = 0; i < c->n_commits; i++)
		assert_string_not_equal(c->commits[i].commit.summary, "Fix typo in README");
	for (size_t i = 0; i < c->n_evidence; i++)
		assert_null(strstr(c->evidence[i].text, "Fix typo in README"));

	assert_string_equal(entity(c, "package"), "pandas");
	assert_string_equal(entity(c, "from"), "1.5.3");
	assert_string_equal(entity(c, "to"), "2.0.0");
	assert_float_equal(evidence_with(c, "\"Bump ML deps\" moved pandas 1.5.3 -> 2.0.0")->weight, 1.2, 1e-9);
	assert_float_equal(evidence_with(c, "sharp onset: 4 good run(s), then 4 of 4 failed")->weight, 0.5, 1e-9);
	assert_float_equal(c->score, match_weight(c, "dep.pandas-removed-method", 0.92) + 0.30 + 0.50 + 1.20, 1e-9);
	assert_true(starts_with_any(&c->checks, "pip show pandas"));
	assert_true(starts_with_any(&c->fix, "pin pandas==1.5.3 in requirements.txt"));
	assert_int_equal(rk->notes.n, 0);
}

/* Without a repository the same failure still points at a dependency (the
 * pattern says so) but implicates no commit and names no versions; the
 * repository adds exactly the weight of the moved package. */
static void test_pandas_without_repository(void **state)
{
	struct fx *f = *state;
	const struct rk_cause *c;
	double with_repo, m;

	runs(f, "features", "SSSSFFFF", LOG_PANDAS);
	c = &rank(f)->causes[0];
	assert_int_equal(c->kind, RK_DEPENDENCY_CHANGE);
	assert_int_equal(c->n_commits, 0);
	assert_int_equal(c->window_from_ms, 0);
	assert_true(dd_starts_with(c->summary, "Dependency change: "));
	assert_null(entity(c, "from"));
	assert_null(entity(c, "to"));
	assert_string_equal(entity(c, "package"), "pandas");
	m = match_weight(c, "dep.pandas-removed-method", 0.92);
	assert_float_equal(c->score, m + 0.30 + 0.50, 1e-9);

	open_repo(f);
	c = &rank(f)->causes[0];
	with_repo = c->score;
	assert_int_equal(c->kind, RK_DEPENDENCY_CHANGE);
	assert_int_equal(c->n_commits, 1);
	assert_float_equal(with_repo - (m + 0.30 + 0.50), 1.2, 1e-9);
	assert_true(c->confidence > 1.0 - exp(-(m + 0.30 + 0.50)));
}

/* An ongoing failure outranks a blip that retries already fixed, even
 * though the blip's diagnosis is far more certain. */
static void test_still_failing_sorts_first(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "extract", "SRSRSRSS", LOG_RESET, "transform", NULL, 0, 0 },
		{ "transform", "SSSSSSSF", LOG_UNKNOWN, NULL, NULL, 0, 0 },
	};
	const struct rk_result *rk;

	build(f, "orders", tasks, 2);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 2);
	assert_int_equal(rk->causes[0].kind, RK_UNKNOWN);
	assert_string_equal(rk->causes[0].task_ids.v[0], "transform");
	assert_int_equal(rk->causes[0].still_failing, 1);
	assert_null(rk->causes[0].pattern);
	assert_string_equal(rk->causes[0].failure, "ledger.PeriodClosedError: period 2026-03 is closed for posting");
	assert_float_equal(evidence_with(&rk->causes[0], "matched no pattern (ledger.PeriodClosedError)")->weight,
	                   0.25, 1e-9);
	assert_int_equal(rk->causes[1].kind, RK_INTERMITTENT_FAULT);
	assert_string_equal(rk->causes[1].task_ids.v[0], "extract");
	assert_int_equal(rk->causes[1].still_failing, 0);
	assert_float_equal(rk->causes[0].score, 0.55, 1e-9);
	assert_float_equal(rk->causes[1].score, match_weight(&rk->causes[1], "net.connection-reset", 0.75) + 0.90, 1e-9);
	assert_true(rk->causes[0].confidence < rk->causes[1].confidence);
}

/* Among ongoing failures the more certain cause comes first. */
static void test_ongoing_causes_by_confidence(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "aggregate_sessions", "SSSSff", LOG_SIGKILL, NULL, NULL, 0, 0 },
		{ "transform", "SSSSSF", LOG_UNKNOWN, NULL, NULL, 0, 0 },
	};
	const struct rk_result *rk;

	build(f, "sessions", tasks, 2);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 2);
	assert_int_equal(rk->causes[0].kind, RK_RESOURCE_EXHAUSTION);
	assert_int_equal(rk->causes[1].kind, RK_UNKNOWN);
	assert_int_equal(rk->causes[0].still_failing, 1);
	assert_int_equal(rk->causes[1].still_failing, 1);
	assert_true(rk->causes[0].confidence > rk->causes[1].confidence);
}

/* ---- stuck work --------------------------------------------------------------------- */

/* load has been running 2 h where it takes 10 min: an ongoing upstream
 * stall that comes before a resolved blip with a surer diagnosis. */
static void test_stuck_running_task_ranks_first(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "extract", "SRSRSS", LOG_RESET, "load", NULL, 0, 0 },
		{ "load", "SSSSS>", NULL, NULL, NULL, 0, 0 },
	};
	const struct rk_result *rk;
	const struct rk_cause *c;

	build(f, "orders", tasks, 2);
	synced_after(f, 2 * 3600);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 2);
	c = &rk->causes[0];
	assert_int_equal(c->kind, RK_UPSTREAM_STALL);
	assert_int_equal(c->stuck, 1);
	assert_int_equal(c->still_failing, 1);
	assert_string_equal(c->category, "stalled_upstream");
	assert_int_equal(c->task_ids.n, 1);
	assert_string_equal(c->task_ids.v[0], "load");
	assert_run(c->first_bad_run, 6);
	assert_int_equal(c->first_bad_ms, logical(f, 6));
	assert_string_equal(c->summary, "Stuck: task load running for 2h (a success usually takes 10m)");
	assert_string_equal(entity(c, "stuck_for"), "2h");
	assert_string_equal(entity(c, "usual"), "10m");
	assert_float_equal(evidence_with(c, "load has been running for 2h")->weight, 0.8 * 0.8, 1e-9);
	assert_true(starts_with_any(&c->fix, "give load an execution_timeout of a few times 10m"));
	assert_true(starts_with_any(&c->checks, "read the live log of load in run scheduled__2026-03-06"));

	c = &rk->causes[1];
	assert_int_equal(c->kind, RK_INTERMITTENT_FAULT);
	assert_int_equal(c->stuck, 0);
	assert_int_equal(c->still_failing, 0);
	assert_true(c->confidence > rk->causes[0].confidence);
}

/* A sensor still waiting 2 h where it usually succeeds in 10 min. */
static void test_stuck_sensor_is_upstream_stall(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "wait_for_orders", "SSSS>", NULL, NULL, "ExternalTaskSensor", 1, 0 },
	};
	const struct rk_result *rk;
	const struct rk_cause *c;

	build(f, "report", tasks, 1);
	synced_after(f, 2 * 3600);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 1);
	c = &rk->causes[0];
	assert_int_equal(c->kind, RK_UPSTREAM_STALL);
	assert_int_equal(c->stuck, 1);
	assert_string_equal(c->summary, "Upstream stall: sensor wait_for_orders has been waiting 2h "
	                                "(it usually succeeds within 10m)");
	assert_true(mentions(&c->fix, "mode=\"reschedule\""));
	assert_false(mentions(&c->fix, "execution_timeout"));
}

/* load has been queued 1 h where it waits 5 s: the orchestrator's, with
 * Airflow's checks. */
static void test_stuck_queued_task_is_orchestrator_fault(void **state)
{
	struct fx *f = *state;
	const struct rk_result *rk;
	const struct rk_cause *c;

	runs(f, "load", "SSSSQ", NULL);
	synced_after(f, 3600);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 1);
	c = &rk->causes[0];
	assert_int_equal(c->kind, RK_ORCHESTRATOR_FAULT);
	assert_string_equal(rk_kind_name(c->kind), "orchestrator_fault");
	assert_int_equal(c->stuck, 1);
	assert_int_equal(c->still_failing, 1);
	assert_string_equal(c->category, "orchestrator");
	assert_string_equal(c->task_ids.v[0], "load");
	assert_run(c->first_bad_run, 5);
	assert_string_equal(c->summary, "Stuck in the queue: task load queued for 1h (it usually waits 5s)");
	assert_true(starts_with_any(&c->checks, "is the scheduler alive? (airflow jobs check"));
	assert_true(mentions(&c->checks, "airflow pools list"));
	assert_false(mentions(&c->checks, "prefect"));
	assert_true(starts_with_any(&c->fix, "free or add slots"));
}

/* The same from a Prefect source: Prefect's commands, none of Airflow's. */
static void test_stuck_queued_on_prefect_names_prefect_commands(void **state)
{
	struct fx *f = *state;
	const struct rk_result *rk;
	const struct rk_cause *c;

	f->source_kind = "prefect";
	runs(f, "load", "SSSSQ", NULL);
	synced_after(f, 3600);
	rk = rank(f);
	assert_string_equal(f->an.source_kind, "prefect");
	assert_int_equal(rk->n_causes, 1);
	c = &rk->causes[0];
	assert_int_equal(c->kind, RK_ORCHESTRATOR_FAULT);
	assert_int_equal(c->stuck, 1);
	assert_true(starts_with_any(&c->checks, "prefect work-pool ls"));
	assert_true(starts_with_any(&c->checks, "prefect concurrency-limit ls"));
	assert_false(mentions(&c->checks, "airflow"));
	assert_true(c->fix.n > 0);
	assert_false(mentions(&c->fix, "airflow"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transient_network_error_is_intermittent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_kill_is_resource_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pandas_bump_is_dependency_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pandas_without_repository, setup, teardown),
		cmocka_unit_test_setup_teardown(test_still_failing_sorts_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ongoing_causes_by_confidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_running_task_ranks_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_sensor_is_upstream_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_queued_task_is_orchestrator_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_queued_on_prefect_names_prefect_commands, setup, teardown),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
