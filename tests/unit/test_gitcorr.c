/* Unit tests: src/gitcorr.c on a repository built with dated commits. */
#include "dagdoc/util.h"

#include <setjmp.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "dagdoc/gitcorr.h"

static char dir[64];
static char repo_path[128];

/* 2026-03-0N HH:MM UTC in ms. */
static int64_t at(int day, int hour, int min)
{
	int64_t ms;
	char s[40];

	snprintf(s, sizeof(s), "2026-03-%02dT%02d:%02d:00Z", day, hour, min);
	assert_int_equal(dd_parse_time(s, &ms), 0);
	return ms;
}

static int setup(void **state)
{
	char cmd[512];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/dagdoc-gitcorr-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(repo_path, sizeof(repo_path), "%s/repo", dir);
	snprintf(cmd, sizeof(cmd), "%s/history.json", dir);
	f = fopen(cmd, "w");
	if (!f)
		return -1;
	fputs("[\n"
	      "{\"date\": \"2026-03-01T10:00:00+00:00\", \"message\": \"Initial pipeline\", \"author\": \"A. Lee <a@x.io>\",\n"
	      " \"files\": {\"requirements.txt\": \"pandas==1.5.3\\nnumpy==1.24.0\\n\",\n"
	      "  \"dags/etl/load.py\": \"import pandas as pd\\n\\ndef load(df):\\n    return df.append(df)\\n\"}},\n"
	      "{\"date\": \"2026-03-02T09:00:00+00:00\", \"message\": \"Docs\", \"files\": {\"README.md\": \"hi\\n\"}},\n"
	      "{\"date\": \"2026-03-03T17:12:00+00:00\", \"message\": \"Bump ML deps\", \"author\": \"J. Doe <jdoe@x.io>\",\n"
	      " \"files\": {\"requirements.txt\": \"pandas==2.0.0\\nnumpy==1.24.0\\npolars==0.20.1\\n\"}},\n"
	      "{\"date\": \"2026-03-03T18:00:00+00:00\", \"message\": \"Tweak load\",\n"
	      " \"files\": {\"dags/etl/load.py\": \"import pandas as pd\\n\\ndef load(df):\\n    return pd.concat([df, df])\\n\"}},\n"
	      "{\"date\": \"2026-03-05T08:00:00+00:00\", \"message\": \"Later work\", \"files\": {\"dags/other.py\": \"x = 1\\n\"}}\n"
	      "]\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 tests/lib/mkrepo.py %s/history.json %s", dir, repo_path);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void open_repo(struct dd_repo *cfg, struct gitcorr_repo **r)
{
	struct dd_error err = DD_ERROR_INIT;

	memset(cfg, 0, sizeof(*cfg));
	cfg->path = repo_path;
	cfg->branch = (char *)"HEAD";
	dd_strv_push(&cfg->requirement_globs, "requirements*.txt");
	dd_strv_push(&cfg->requirement_globs, "Dockerfile");
	assert_int_equal(gitcorr_open(cfg, r, &err), 0);
}

static void test_window(void **state)
{
	struct dd_repo cfg;
	struct gitcorr_repo *r;
	struct gitcorr_commit *c;
	struct dd_error err = DD_ERROR_INIT;
	size_t n;

	(void)state;
	open_repo(&cfg, &r);
	assert_int_equal(gitcorr_window(r, at(2, 0, 0), at(4, 2, 0), &c, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(c[0].summary, "Tweak load");
	assert_string_equal(c[1].summary, "Bump ML deps");
	assert_string_equal(c[1].author, "J. Doe <jdoe@x.io>");
	assert_int_equal(c[1].time_ms, at(3, 17, 12));
	assert_int_equal(c[1].files.n, 1);
	assert_string_equal(c[1].files.v[0], "requirements.txt");
	assert_int_equal(c[1].n_req_changes, 2);
	assert_string_equal(c[1].req_changes[0].package, "pandas");
	assert_string_equal(c[1].req_changes[0].from, "1.5.3");
	assert_string_equal(c[1].req_changes[0].to, "2.0.0");
	assert_string_equal(c[1].req_changes[1].package, "polars");
	assert_null(c[1].req_changes[1].from);
	assert_int_equal(c[0].n_req_changes, 0);
	assert_string_equal(c[0].files.v[0], "dags/etl/load.py");
	assert_string_equal(c[2].summary, "Docs");
	assert_int_equal(strlen(c[0].id), 40);
	gitcorr_commits_free(c, n);

	/* An empty window, and the very first commit (no parent). */
	assert_int_equal(gitcorr_window(r, at(4, 0, 0), at(4, 23, 0), &c, &n, &err), 0);
	assert_int_equal(n, 0);
	gitcorr_commits_free(c, n);
	assert_int_equal(gitcorr_window(r, at(1, 0, 0), at(1, 23, 0), &c, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].files.n, 2);
	assert_int_equal(c[0].n_req_changes, 2);
	gitcorr_commits_free(c, n);
	gitcorr_close(r);
	dd_strv_release(&cfg.requirement_globs);
}

static void test_map_and_blame(void **state)
{
	struct dd_repo cfg;
	struct gitcorr_repo *r;
	struct gitcorr_commit who;
	struct dd_error err = DD_ERROR_INIT;
	struct dd_path_map map = { (char *)"/srv/af/", (char *)"dags/" };
	int before;
	char *p;

	(void)state;
	open_repo(&cfg, &r);
	p = gitcorr_map_path(r, "/opt/airflow/dags/etl/load.py");
	assert_string_equal(p, "dags/etl/load.py");
	free(p);
	p = gitcorr_map_path(r, "/usr/lib/python3/site-packages/pandas/core/frame.py");
	assert_null(p);
	p = gitcorr_map_path(r, "dags/etl/load.py");
	assert_string_equal(p, "dags/etl/load.py");
	free(p);

	/* Line 4 as deployed on the 3rd at 17:30 came from the first commit;
	 * by the 4th it came from "Tweak load". */
	if (gitcorr_blame_line(r, "dags/etl/load.py", 4, 0, at(3, 17, 30), &who, &before, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(who.summary, "Initial pipeline");
	assert_int_equal(before, 0);
	gitcorr_commit_release(&who);
	assert_int_equal(gitcorr_blame_line(r, "dags/etl/load.py", 4, 0, at(4, 0, 0), &who, &before, &err), 0);
	assert_string_equal(who.summary, "Tweak load");
	gitcorr_commit_release(&who);
	/* Bounded by a window start: found inside it, or flagged as older. */
	assert_int_equal(gitcorr_blame_line(r, "dags/etl/load.py", 4, at(3, 0, 0), at(4, 0, 0), &who, &before, &err), 0);
	assert_string_equal(who.summary, "Tweak load");
	assert_int_equal(before, 0);
	gitcorr_commit_release(&who);
	assert_int_equal(gitcorr_blame_line(r, "dags/etl/load.py", 3, at(3, 0, 0), at(4, 0, 0), &who, &before, &err), 0);
	assert_int_equal(before, 1);
	gitcorr_commit_release(&who);
	assert_int_equal(gitcorr_blame_line(r, "dags/etl/load.py", 99, 0, at(4, 0, 0), &who, &before, &err), DD_ENOTFOUND);
	/* What a commit's diff of a file adds or removes. */
	{
		struct gitcorr_commit *c;
		size_t n;

		assert_int_equal(gitcorr_window(r, at(3, 0, 0), at(4, 0, 0), &c, &n, &err), 0);
		assert_int_equal(n, 2);
		assert_true(gitcorr_diff_mentions(r, c[0].id, "dags/etl/load.py", "PD.CONCAT"));
		assert_true(gitcorr_diff_mentions(r, c[0].id, "dags/etl/load.py", "df.append"));
		assert_false(gitcorr_diff_mentions(r, c[0].id, "dags/etl/load.py", "def load"));
		assert_true(gitcorr_diff_mentions(r, c[1].id, "requirements.txt", "polars"));
		assert_false(gitcorr_diff_mentions(r, c[1].id, "dags/etl/load.py", "pandas"));
		gitcorr_commits_free(c, n);
	}
	gitcorr_close(r);

	cfg.maps = &map;
	cfg.n_maps = 1;
	assert_int_equal(gitcorr_open(&cfg, &r, &err), 0);
	p = gitcorr_map_path(r, "/srv/af/etl/load.py");
	assert_string_equal(p, "dags/etl/load.py");
	free(p);
	gitcorr_close(r);
	dd_strv_release(&cfg.requirement_globs);
}

static void test_requirements_at(void **state)
{
	struct dd_repo cfg;
	struct gitcorr_repo *r;
	struct dd_reqset set = DD_REQSET_INIT;
	struct dd_error err = DD_ERROR_INIT;

	(void)state;
	open_repo(&cfg, &r);
	assert_int_equal(gitcorr_requirements_at(r, at(2, 0, 0), &set, &err), 0);
	assert_string_equal(reqset_get(&set, "pandas"), "1.5.3");
	reqset_release(&set);
	assert_int_equal(gitcorr_requirements_at(r, at(6, 0, 0), &set, &err), 0);
	assert_string_equal(reqset_get(&set, "pandas"), "2.0.0");
	reqset_release(&set);
	assert_int_equal(gitcorr_requirements_at(r, at(1, 0, 0), &set, &err), DD_ENOTFOUND);
	gitcorr_close(r);
	dd_strv_release(&cfg.requirement_globs);
}

static void test_errors(void **state)
{
	struct dd_repo cfg;
	struct gitcorr_repo *r;
	struct dd_error err = DD_ERROR_INIT;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = (char *)"/nonexistent/repo";
	assert_int_equal(gitcorr_open(&cfg, &r, &err), DD_EGIT);
	assert_non_null(strstr(err.msg, "/nonexistent/repo is not a git repository"));
	cfg.path = repo_path;
	cfg.branch = (char *)"release-9";
	assert_int_equal(gitcorr_open(&cfg, &r, &err), DD_EGIT);
	assert_non_null(strstr(err.msg, "no branch or commit 'release-9'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_map_and_blame),
		cmocka_unit_test(test_requirements_at),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("gitcorr", tests, setup, teardown);
}
