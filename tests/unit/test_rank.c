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
#include "dagdoc/evidence.h"
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
	char *own_repo;           /* the path of a repository of the test's own (own_repo), or NULL */
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
	free(r->own_repo);
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
		/* a cause the evidence refuted may fall to 0 or below: its confidence is 0 */
		assert_float_equal(c->confidence, c->score > 0 ? 1.0 - exp(-c->score) : 0.0, 1e-12);
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

/* Ranks the analysis with what the engineer established (NULL: nothing). */
static const struct rk_result *rank_with(struct fx *f, const struct rk_input *in)
{
	struct rank_fx *r = rank_fx(f);
	struct dd_error err = DD_ERROR_INIT;
	struct gitcorr_repo *repos[1] = { r->repo };

	if (!f->analysed)
		analyse(f);
	if (r->ranked)
		rank_release(&r->rk);
	must(rank_causes(&f->an, repos, r->repo ? 1 : 0, in, &r->rk, &err), &err, "rank_causes");
	r->ranked = 1;
	check_invariants(&r->rk);
	return &r->rk;
}

static const struct rk_result *rank(struct fx *f)
{
	return rank_with(f, NULL);
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
	/* the times things ran (the tries' starts), the logical dates beside them */
	assert_int_equal(c->first_bad_ms, logical(f, 5) + 60000 + QUEUE_S * 1000LL);
	assert_int_equal(c->last_good_ms, logical(f, 4) + 60000 + QUEUE_S * 1000LL);
	assert_int_equal(c->first_bad_logical_ms, logical(f, 5));
	assert_int_equal(c->last_good_logical_ms, logical(f, 4));
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

	/* the window: the last good try's start minus the deploy lag, to the first failed try's start
	 * (features runs after extract: its tries start when extract's end) */
	good_start = f->an.groups[0].last_good_start_ms;
	onset_start = f->an.groups[0].onset_start_ms;
	assert_true(good_start > logical(f, 4) + 60000 && good_start < logical(f, 5));
	assert_true(onset_start > logical(f, 5) + 60000);
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
	assert_string_equal(bump->why.v[0], "pandas 1.5.3 -> 2.0.0 in requirements.txt; "
	                                    "the traceback passes through site-packages/pandas");
	/* the link --explain names: the traceback's frame in site-packages/pandas */
	assert_int_equal(bump->links.n, 1);
	assert_string_equal(bump->links.v[0], RK_LINK_FRAME);
	assert_string_equal(bump->link_why.v[0], "the traceback passes through site-packages/pandas");
	assert_null(c->outside);
	for (size_t i = 0; i < c->n_commits; i++)
		assert_string_not_equal(c->commits[i].commit.summary, "Fix typo in README");
	for (size_t i = 0; i < c->n_evidence; i++)
		assert_null(strstr(c->evidence[i].text, "Fix typo in README"));

	assert_string_equal(entity(c, "package"), "pandas");
	assert_string_equal(entity(c, "from"), "1.5.3");
	assert_string_equal(entity(c, "to"), "2.0.0");
	assert_float_equal(evidence_with(c, "\"Bump ML deps\" moved pandas 1.5.3 -> 2.0.0")->weight, 1.2, 1e-9);
	assert_float_equal(evidence_with(c, "sharp onset: 4 good runs, then 4 of 4 failed")->weight, 0.5, 1e-9);
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

/* Pasted evidence re-ranks in the library: pip says the old pandas still
 * runs (the upgrade falls, refuted, still listed) and the task's pod was
 * OOMKilled (a resource cause nothing else pointed at rises to rank 1); a
 * verdict from the store weighs the same and is marked as stored; an
 * output that bears on no cause is listed as unused. */
static void test_evidence_reranks(void **state)
{
	struct fx *f = *state;
	struct ev_set set = { NULL, 0, 0 };
	static const char paste[] =
		"$ pip show pandas\nName: pandas\nVersion: 1.5.3\n"
		"$ kubectl describe pod train-churn-features-x1\nName: train-churn-features-x1\nNamespace: airflow\n"
		"Labels: dag_id=train_churn\n        task_id=features\nContainers:\n  base:\n    State: Terminated\n"
		"      Reason: OOMKilled\n      Exit Code: 137\n"
		"$ python --version\nPython 3.11.9\n";
	struct rk_input in = { &set, NULL, 0, lib };
	const struct rk_result *rk;
	const struct rk_cause *top, *dep = NULL;
	struct rk_fact stored;
	double before;

	runs(f, "features", "SSSSFFFF", LOG_PANDAS);
	open_repo(f);
	before = rank(f)->causes[0].score;
	assert_int_equal(rank(f)->causes[0].kind, RK_DEPENDENCY_CHANGE);
	ev_parse(&set, "ev.txt", paste, strlen(paste));
	assert_int_equal(set.n, 3);
	rk = rank_with(f, &in);
	top = &rk->causes[0];
	assert_int_equal(top->kind, RK_RESOURCE_EXHAUSTION);
	assert_int_equal(top->confirmed, 1);
	assert_int_equal(top->n_verdicts, 1);
	assert_string_equal(top->verdicts[0].tool, "kubectl describe pod");
	assert_string_equal(top->verdicts[0].source, "ev.txt line 12");
	assert_string_equal(top->verdicts[0].line_text, "Reason: OOMKilled");
	assert_int_equal(top->verdicts[0].stored, 0);
	evidence_with(top, "confirmed by kubectl describe pod (ev.txt line 12: \"Reason: OOMKilled\")");
	for (size_t i = 0; i < rk->n_causes; i++)
		if (rk->causes[i].kind == RK_DEPENDENCY_CHANGE)
			dep = &rk->causes[i];
	assert_non_null(dep);
	assert_int_equal(dep->confirmed, -1);
	assert_true(fabs(dep->score - (before - 3.0)) < 1e-9);   /* negative: cmocka compares those badly */
	assert_string_equal(dep->verdicts[0].what,
	                    "pandas 1.5.3 still deployed, not 2.0.0: the change has not reached the workers");
	/* python --version says nothing here */
	assert_int_equal(rk->unused_evidence.n, 1);
	assert_non_null(strstr(rk->unused_evidence.v[0], "ev.txt line 15: the python --version output"));

	/* the same verdict, from the store: weighed the same, with who and when */
	stored = (struct rk_fact){ f->an.groups[0].fingerprint, "dependency_change", 1, "pandas 2.0.0 deployed",
	                           "pip show", "alice", 1000 };
	in = (struct rk_input){ NULL, &stored, 1, lib };
	rk = rank_with(f, &in);
	top = &rk->causes[0];
	assert_int_equal(top->kind, RK_DEPENDENCY_CHANGE);
	assert_int_equal(top->confirmed, 1);
	assert_int_equal(top->verdicts[0].stored, 1);
	assert_string_equal(top->verdicts[0].user, "alice");
	assert_float_equal(top->score, before + 3.0, 1e-9);
	ev_set_release(&set);
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
	assert_int_equal(c->first_bad_ms, f->an.runs[5].start_ms);     /* when the stuck run started */
	assert_int_equal(c->first_bad_logical_ms, logical(f, 6));
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

/* ---- links beyond the message: frames, lock graphs, the interpreter ----------------- */

#define TB_START "Traceback (most recent call last):\n"
#define FAIL_END A2("02:00:09.431", "taskinstance.py:1225", "INFO", "Marking task as FAILED.") \
	A2("02:00:09.460", "local_task_job_runner.py:243", "INFO", "Task exited with return code 1")

/* Importing pandas fails in its compiled extension after numpy 2 arrived. */
static const char LOG_NUMPY[] =
	A2("02:00:03.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	TB_START
	"  File \"/opt/airflow/dags/churn/features.py\", line 3, in <module>\n"
	"    import pandas as pd\n"
	"  File \"/home/airflow/.local/lib/python3.11/site-packages/pandas/__init__.py\", line 46, in <module>\n"
	"    from pandas.core.api import (\n"
	"  File \"interval.pyx\", line 1, in init pandas._libs.interval\n"
	"ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, "
	"got 88 from PyObject\n"
	FAIL_END;

/* A helper still imports distutils, which Python 3.12 dropped. */
static const char LOG_DISTUTILS[] =
	A2("02:00:03.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	TB_START
	"  File \"/home/airflow/.local/lib/python3.12/site-packages/airflow/operators/python.py\", line 238, in execute\n"
	"    return_value = self.execute_callable()\n"
	"  File \"/opt/airflow/dags/churn/flags.py\", line 3, in <module>\n"
	"    from distutils.util import strtobool\n"
	"ModuleNotFoundError: No module named 'distutils'\n"
	FAIL_END;

/* Jinja2 2.x on a MarkupSafe without soft_unicode. */
static const char LOG_MARKUPSAFE[] =
	A2("02:00:03.102", "taskinstance.py:3310", "ERROR", "Task failed with exception")
	TB_START
	"  File \"/opt/airflow/dags/churn/render.py\", line 4, in <module>\n"
	"    from jinja2 import Environment\n"
	"  File \"/opt/venvs/news/lib/python3.11/site-packages/jinja2/filters.py\", line 13, in <module>\n"
	"    from markupsafe import soft_unicode\n"
	"ImportError: cannot import name 'soft_unicode' from 'markupsafe' "
	"(/opt/venvs/news/lib/python3.11/site-packages/markupsafe/__init__.py)\n"
	FAIL_END;

/* A repository of this test's own from a history (mkrepo.py's JSON), opened
 * with the default requirement files and a 6 h deploy lag. */
static void own_repo(struct fx *f, const char *history)
{
	struct rank_fx *r = rank_fx(f);
	struct dd_error err = DD_ERROR_INIT;
	const char *root = getenv("ROOT");
	char *hist = dd_xasprintf("%s/history.json", f->dir), *cmd;
	static const char *const globs[] = { "requirements*.txt", "pyproject.toml", "poetry.lock", "Dockerfile",
	                                     ".python-version" };
	FILE *fp = fopen(hist, "w");

	assert_non_null(fp);
	fputs(history, fp);
	fclose(fp);
	cmd = dd_xasprintf("python3 '%s/tests/lib/mkrepo.py' '%s' '%s/repo'", root && *root ? root : ".", hist, f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(hist);
	memset(&r->cfg, 0, sizeof(r->cfg));
	r->own_repo = dd_xasprintf("%s/repo", f->dir);
	r->cfg.path = r->own_repo;
	r->cfg.branch = (char *)"HEAD";
	r->cfg.deploy_lag_s = 6 * 3600;
	for (size_t i = 0; i < DD_ARRAY_SIZE(globs); i++)
		dd_strv_push(&r->cfg.requirement_globs, globs[i]);
	must(gitcorr_open(&r->cfg, &r->repo, &err), &err, "gitcorr_open");
}

static const struct rk_commit *commit_named(const struct rk_cause *c, const char *summary)
{
	for (size_t i = 0; i < c->n_commits; i++)
		if (!strcmp(c->commits[i].commit.summary, summary))
			return &c->commits[i];
	return NULL;
}

#define POETRY_LOCK(numpy, ruff) \
	"[[package]]\\nname = \\\"numpy\\\"\\nversion = \\\"" numpy "\\\"\\n\\n" \
	"[[package]]\\nname = \\\"pandas\\\"\\nversion = \\\"2.0.3\\\"\\n\\n[package.dependencies]\\n" \
	"numpy = \\\">=1.23.2\\\"\\npytz = \\\">=2020.1\\\"\\n\\n" \
	"[[package]]\\nname = \\\"ruff\\\"\\nversion = \\\"" ruff "\\\"\\n"

/* A lock refresh moves numpy, which pandas requires by the lock's graph; the
 * message names numpy.  A newer dev-only ruff bump rewrites the lock too. */
static void test_lock_graph_ties_a_dependency_of_a_dependency(void **state)
{
	struct fx *f = *state;
	const struct rk_cause *c;
	const struct rk_commit *k;

	own_repo(f, "[{\"date\": \"2026-02-20T10:00:00+00:00\", \"message\": \"Churn\", \"files\": {"
	            "\"pyproject.toml\": \"[tool.poetry.dependencies]\\npython = \\\">=3.11,<3.13\\\"\\npandas = \\\"2.0.3\\\"\\n\","
	            "\"poetry.lock\": \"" POETRY_LOCK("1.26.4", "0.4.10") "\"}},"
	            "{\"date\": \"2026-03-04T15:00:00+00:00\", \"message\": \"Refresh the lock file\", \"files\": {"
	            "\"poetry.lock\": \"" POETRY_LOCK("2.0.0", "0.4.10") "\"}},"
	            "{\"date\": \"2026-03-04T16:00:00+00:00\", \"message\": \"Bump ruff\", \"files\": {"
	            "\"poetry.lock\": \"" POETRY_LOCK("2.0.0", "0.5.0") "\"}}]");
	runs(f, "features", "SSSSFFFF", LOG_NUMPY);
	c = &rank(f)->causes[0];
	assert_int_equal(c->kind, RK_DEPENDENCY_CHANGE);
	assert_string_equal(c->summary, "Dependency upgrade: numpy 1.26.4 -> 2.0.0");
	assert_string_equal(entity(c, "package"), "numpy");      /* not pandas, whose frames the traceback shows */
	assert_string_equal(entity(c, "from"), "1.26.4");
	assert_int_equal(c->n_commits, 1);
	k = commit_named(c, "Refresh the lock file");
	assert_non_null(k);
	assert_null(commit_named(c, "Bump ruff"));
	assert_int_equal(k->links.n, 2);
	assert_string_equal(k->links.v[0], RK_LINK_NAMED);
	assert_string_equal(k->links.v[1], RK_LINK_LOCK);
	assert_non_null(strstr(k->link_why.v[1], "pandas requires numpy by poetry.lock"));
	assert_true(starts_with_any(&c->fix, "constrain numpy to 1.26.4"));
}

static const char *dockerfile_history(const char *from, const char *to)
{
	static char h[1024];

	snprintf(h, sizeof(h),
	         "[{\"date\": \"2026-02-20T10:00:00+00:00\", \"message\": \"Worker image\", \"files\": {"
	         "\"Dockerfile\": \"FROM apache/airflow:2.10.5-python%s\\nCOPY dags /opt/airflow/dags\\n\","
	         "\"dags/churn/flags.py\": \"from distutils.util import strtobool\\n\"}},"
	         "{\"date\": \"2026-03-04T13:25:00+00:00\", \"message\": \"New worker image\", \"files\": {"
	         "\"Dockerfile\": \"FROM apache/airflow:2.10.5-python%s\\nCOPY dags /opt/airflow/dags\\n\"}},"
	         "{\"date\": \"2026-03-04T15:40:00+00:00\", \"message\": \"Log the batch size\", \"files\": {"
	         "\"README.md\": \"batch\\n\"}}]", from, to);
	return h;
}

/* A new interpreter that dropped the module the failure misses. */
static void test_interpreter_change(void **state)
{
	struct fx *f = *state;
	const struct rk_cause *c;
	const struct rk_commit *k;

	own_repo(f, dockerfile_history("3.11", "3.12"));
	runs(f, "load_events", "SSSSFFFF", LOG_DISTUTILS);
	c = &rank(f)->causes[0];
	assert_int_equal(c->kind, RK_DEPENDENCY_CHANGE);
	assert_string_equal(c->summary, "Interpreter change: Python 3.11 -> 3.12");
	assert_string_equal(entity(c, "package"), "python");
	assert_string_equal(entity(c, "to"), "3.12");
	k = commit_named(c, "New worker image");
	assert_non_null(k);
	assert_int_equal(c->n_commits, 1);
	assert_int_equal(k->links.n, 1);
	assert_string_equal(k->links.v[0], RK_LINK_INTERPRETER);
	assert_non_null(strstr(k->link_why.v[0], "distutils was removed from the standard library in Python 3.12"));
	assert_true(starts_with_any(&c->checks, "python --version"));
	assert_true(starts_with_any(&c->fix, "go back to Python 3.11 in Dockerfile"));
}

/* A move that does not cross the version that dropped the module explains nothing. */
static void test_interpreter_change_that_explains_nothing(void **state)
{
	struct fx *f = *state;
	const struct rk_cause *c;

	own_repo(f, dockerfile_history("3.10", "3.11"));
	runs(f, "load_events", "SSSSFFFF", LOG_DISTUTILS);
	c = &rank(f)->causes[0];
	assert_null(commit_named(c, "New worker image"));
	assert_false(c->kind == RK_DEPENDENCY_CHANGE && entity(c, "to") && !strcmp(entity(c, "to"), "3.11"));
}

/* No commit moved markupsafe: the cause says the change came from outside the
 * repository and names the line that leaves it loose, attaching no commit. */
static void test_change_from_outside_the_repository(void **state)
{
	struct fx *f = *state;
	const struct rk_cause *c;

	own_repo(f, "[{\"date\": \"2026-01-20T10:00:00+00:00\", \"message\": \"Newsletter\", \"files\": {"
	            "\"requirements.txt\": \"apache-airflow-providers-sendgrid==3.6.0\\n\","
	            "\"requirements-dev.txt\": \"markupsafe\\n\","
	            "\"venvs/news/requirements.txt\": \"# the renderer\\nJinja2>=2.10,<3\\nmarkupsafe\\n\","
	            "\"dags/churn/render.py\": \"from jinja2 import Environment\\n\"}},"
	            "{\"date\": \"2026-03-04T15:30:00+00:00\", \"message\": \"dedupe contacts\", \"files\": {"
	            "\"dags/crm/dedupe.py\": \"MATCH = 1\\n\"}},"
	            "{\"date\": \"2026-03-04T17:05:00+00:00\", \"message\": \"Document the venv\", \"files\": {"
	            "\"README.md\": \"venv\\n\"}}]");
	runs(f, "render", "SSSSFFFF", LOG_MARKUPSAFE);
	c = &rank(f)->causes[0];
	assert_int_equal(c->kind, RK_DEPENDENCY_CHANGE);
	assert_int_equal(c->n_commits, 0);
	assert_non_null(c->outside);
	assert_string_equal(c->outside->package, "markupsafe");
	assert_string_equal(c->outside->file, "venvs/news/requirements.txt");   /* not the dev file */
	assert_int_equal(c->outside->line, 3);
	assert_string_equal(c->outside->text, "markupsafe");
	assert_string_equal(c->outside->version, "");
	assert_non_null(strstr(c->outside->why, "does not pin it"));
	assert_string_equal(entity(c, "package"), "markupsafe");
	assert_float_equal(evidence_with(c, "could install a new release")->weight, 0.2, 1e-9);
	assert_true(starts_with_any(&c->fix, "pin markupsafe in venvs/news/requirements.txt line 3"));
}

/* A fault every retry recovered from is pinned on no commit, even one that
 * touched the very file of its traceback. */
static void test_recovered_fault_pinned_on_no_commit(void **state)
{
	struct fx *f = *state;
	const struct rk_cause *c;

	own_repo(f, "[{\"date\": \"2026-02-20T10:00:00+00:00\", \"message\": \"Orders\", \"files\": {"
	            "\"dags/orders/extract.py\": \"import requests\\n\"}},"
	            "{\"date\": \"2026-03-03T11:00:00+00:00\", \"message\": \"Format the client\", \"files\": {"
	            "\"dags/orders/extract.py\": \"import requests  # formatted\\n\"}}]");
	runs(f, "extract", "SSSRSRSS", LOG_RESET);
	c = &rank(f)->causes[0];
	assert_int_equal(c->kind, RK_INTERMITTENT_FAULT);
	for (size_t i = 0; i < rank_fx(f)->rk.n_causes; i++)
		assert_int_equal(rank_fx(f)->rk.causes[i].n_commits, 0);
}

/* Failed tries with nothing to say join the cause of their task; one of a
 * task that no longer fails goes under "also seen"; a lone one of a task
 * still failing stays. */
static void test_fillers(void **state)
{
	struct fx *f = *state;
	const struct task_def tasks[] = {
		{ "features", "SSSSFNFN", LOG_PANDAS, NULL, NULL, 0, 0 },
		{ "score", "NN------", NULL, NULL, NULL, 0, 0 },      /* failed twice, then was removed */
		{ "transform", "SSSSSSSF", LOG_UNKNOWN, NULL, NULL, 0, 0 },
	};
	const struct rk_result *rk;

	build(f, "churn", tasks, 3);
	rk = rank(f);
	assert_int_equal(rk->n_causes, 2);
	assert_string_equal(rk->causes[0].task_ids.v[0], "features");
	evidence_with(&rk->causes[0], "also 2 failed tries of features with nothing more to say");
	assert_string_equal(rk->causes[1].task_ids.v[0], "transform");
	assert_int_equal(rk->causes[1].kind, RK_UNKNOWN);
	assert_int_equal(rk->also_seen.n, 1);
	assert_true(dd_starts_with(rk->also_seen.v[0], "score: failed"));
	assert_non_null(strstr(rk->also_seen.v[0], "not failing now"));
}

/* The id of the commit of the test's own repository whose summary is msg. */
static char *own_commit(struct fx *f, const char *msg)
{
	char *cmd = dd_xasprintf("git -C '%s/repo' log --format=%%H --grep='^%s$'", f->dir, msg);
	char line[64] = "";
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	free(cmd);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(strlen(line), 40);
	return dd_xstrdup(line);
}

/* The runs say which commit they ran (Airflow 3 bundle versions): the
 * candidates are the commits between the last good and the first bad run's,
 * not the time window's, which holds only a commit never deployed. */
static void test_bundle_versions_bound_the_candidates(void **state)
{
	struct fx *f = *state;
	struct dd_buf h = DD_BUF_INIT, v1 = DD_BUF_INIT, v2 = DD_BUF_INIT;
	struct dd_error err = DD_ERROR_INIT;
	const struct rk_cause *c;
	char *good, *bad;

	for (int i = 1; i < 88; i++) {
		dd_buf_addf(&v1, "# line %d\\n", i);
		dd_buf_addf(&v2, "# line %d\\n", i);
	}
	dd_buf_adds(&v1, "    raise PeriodClosedError(period)\\n");
	dd_buf_adds(&v2, "    raise PeriodClosedError(f'period {period} is closed for posting')\\n");
	dd_buf_addf(&h, "[{\"date\": \"2026-02-20T10:00:00+00:00\", \"message\": \"Orders\", \"files\": {"
	                "\"dags/orders/ledger.py\": \"%s\", \"README.md\": \"r\\n\"}},"
	                "{\"date\": \"2026-02-25T10:00:00+00:00\", \"message\": \"Close periods early\", \"files\": {"
	                "\"dags/orders/ledger.py\": \"%s\"}},"
	                "{\"date\": \"2026-02-26T10:00:00+00:00\", \"message\": \"Release 1\", \"files\": {"
	                "\"README.md\": \"release 1\\n\"}},"
	                "{\"date\": \"2026-03-04T15:00:00+00:00\", \"message\": \"Reformat ledger\", \"files\": {"
	                "\"dags/orders/ledger.py\": \"# formatted\\n%s\"}}]",
	            dd_buf_str(&v1), dd_buf_str(&v2), dd_buf_str(&v2));
	own_repo(f, dd_buf_str(&h));
	runs(f, "transform", "SSSSFFFF", LOG_UNKNOWN);
	/* without versions: the time window, and its only suspect */
	c = &rank(f)->causes[0];
	assert_non_null(commit_named(c, "Reformat ledger"));
	good = own_commit(f, "Orders");
	bad = own_commit(f, "Release 1");
	for (int n = 1; n <= 8; n++) {
		struct dd_store_run r;
		char *rid = run_id(n);

		must(store_run_get(f->store, f->dag_ref, rid, &r, &err), &err, "store_run_get");
		must(store_run_version_put(f->store, r.ref, n <= 4 ? good : bad, n <= 4 ? 1 : 2, &err), &err, "version");
		dd_run_release(&r.run);
		free(rid);
	}
	analyse(f);
	c = &rank(f)->causes[0];
	assert_int_equal(c->kind, RK_CODE_CHANGE);
	assert_string_equal(c->commits[0].commit.summary, "Close periods early");
	assert_null(commit_named(c, "Reformat ledger"));
	assert_string_equal(c->bundle_from, good);
	assert_string_equal(c->bundle_to, bad);
	evidence_with(c, "last changed dags/orders/ledger.py line 88");
	assert_int_equal(rank_fx(f)->rk.notes.n, 0);
	/* a bad version the repository does not have: a note, and the time window again */
	for (int n = 5; n <= 8; n++) {
		struct dd_store_run r;
		char *rid = run_id(n);

		must(store_run_get(f->store, f->dag_ref, rid, &r, &err), &err, "store_run_get");
		must(store_run_version_put(f->store, r.ref, "0123456789abcdef0123456789abcdef01234567", 3, &err), &err,
		     "version");
		dd_run_release(&r.run);
		free(rid);
	}
	analyse(f);
	c = &rank(f)->causes[0];
	assert_non_null(commit_named(c, "Reformat ledger"));
	assert_null(c->bundle_to);
	assert_int_equal(rank_fx(f)->rk.notes.n, 1);
	assert_non_null(strstr(rank_fx(f)->rk.notes.v[0], "bundle version 0123456789ab of the first bad run"));
	assert_non_null(strstr(rank_fx(f)->rk.notes.v[0], "has no commit 0123456789ab"));
	assert_non_null(strstr(rank_fx(f)->rk.notes.v[0], "fetch the repository"));
	free(good);
	free(bad);
	dd_buf_release(&h);
	dd_buf_release(&v1);
	dd_buf_release(&v2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transient_network_error_is_intermittent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_kill_is_resource_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pandas_bump_is_dependency_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_reranks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pandas_without_repository, setup, teardown),
		cmocka_unit_test_setup_teardown(test_still_failing_sorts_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ongoing_causes_by_confidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_running_task_ranks_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_sensor_is_upstream_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_queued_task_is_orchestrator_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_queued_on_prefect_names_prefect_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_graph_ties_a_dependency_of_a_dependency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interpreter_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interpreter_change_that_explains_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_from_outside_the_repository, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovered_fault_pinned_on_no_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fillers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_versions_bound_the_candidates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
