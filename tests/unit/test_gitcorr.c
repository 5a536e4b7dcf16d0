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
	if (system(cmd) != 0)
		return -1;
	/* The answer cache goes to a directory of this test's own. */
	snprintf(cmd, sizeof(cmd), "%s/cache", dir);
	setenv("XDG_CACHE_HOME", cmd, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void open_repo_at(struct dd_repo *cfg, struct gitcorr_repo **r, char *path)
{
	struct dd_error err = DD_ERROR_INIT;

	memset(cfg, 0, sizeof(*cfg));
	cfg->path = path;
	cfg->branch = (char *)"HEAD";
	dd_strv_push(&cfg->requirement_globs, "requirements*.txt");
	dd_strv_push(&cfg->requirement_globs, "Dockerfile");
	assert_int_equal(gitcorr_open(cfg, r, &err), 0);
}

static void open_repo(struct dd_repo *cfg, struct gitcorr_repo **r)
{
	open_repo_at(cfg, r, repo_path);
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
	/* Another root than the repository's (Airflow's literal DAGS_FOLDER). */
	p = gitcorr_map_path(r, "DAGS_FOLDER/etl/load.py");
	assert_string_equal(p, "dags/etl/load.py");
	free(p);
	p = gitcorr_map_path(r, "/usr/local/airflow/dags-prod/other.py");
	assert_string_equal(p, "dags/other.py");
	free(p);
	assert_null(gitcorr_map_path(r, "/opt/airflow/dags/etl/missing.py"));

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

/* A DAG file importing modules of the repository in every way Python
 * allows, and third-party ones; modules it does not import stay out. */
static void test_imports(void **state)
{
	char hist[160], cmd[400], path[160];
	struct dd_repo cfg;
	struct gitcorr_repo *r;
	struct dd_strv got = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	FILE *f;

	(void)state;
	snprintf(hist, sizeof(hist), "%s/imports.json", dir);
	snprintf(path, sizeof(path), "%s/imports-repo", dir);
	f = fopen(hist, "w");
	assert_non_null(f);
	fputs("[{\"date\": \"2026-03-01T10:00:00+00:00\", \"message\": \"Pipeline\", \"files\": {\n"
	      " \"dags/etl/load.py\": \"\\\"\\\"\\\"Loads.\\n\\nimport nothing_here\\n\\\"\\\"\\\"\\nimport pandas as pd, os\\n"
	      "from etl.transforms import (\\n    clean,  # the cleaner\\n    enrich as e,\\n)\\nfrom . import helpers\\n"
	      "import etl.io.s3 as s3io\\nfrom common.util import \\\\\\n    slugify\\nfrom airflow import DAG\\n\",\n"
	      " \"dags/etl/transforms.py\": \"from etl.lib import core\\nfrom .helpers import *\\n\",\n"
	      " \"dags/etl/helpers.py\": \"import json\\n\",\n"
	      " \"dags/etl/lib/__init__.py\": \"\",\n"
	      " \"dags/etl/lib/core.py\": \"log.info(\\\"loading (\\\")\\nfrom ..io import s3\\nimport deep.one\\n\",\n"
	      " \"dags/etl/lib/io/s3.py\": \"\",\n"
	      " \"dags/etl/io/s3.py\": \"import boto3\\n\",\n"
	      " \"dags/deep/one.py\": \"import deep.two\\n\",\n"
	      " \"dags/deep/two.py\": \"\",\n"
	      " \"plugins/common/util.py\": \"\",\n"
	      " \"dags/edge.py\": \"from \\tetl.helpers import x\\r\\nimport os; import deep.two\\r\\n"
	      "from .import other\\r\\nfrom etl import(transforms)\\r\\nfrom \\nimport\\nfrom . import\\n\",\n"
	      " \"other.py\": \"\",\n"
	      " \"dags/other.py\": \"import etl.helpers\\n\"}}]\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 tests/lib/mkrepo.py %s %s", hist, path);
	assert_int_equal(system(cmd), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	assert_int_equal(gitcorr_open(&cfg, &r, &err), 0);
	if (gitcorr_imports(r, "dags/etl/load.py", at(2, 0, 0), &got, &err) != 0)
		fail_msg("%s", err.msg);
	/* Level 1: transforms (+ its names), helpers (relative), io/s3
	 * (dotted), plugins/common/util (plugins folder, backslash line);
	 * level 2: lib/__init__ and lib/core; level 3: deep/one via core.
	 * Not: pandas, os, airflow, boto3, the docstring's "import", other.py,
	 * deep/two (a fourth level), nor lib/io/s3.py for core's "from ..io"
	 * (two dots: the package above lib).  An unclosed bracket in a string
	 * before an import does not hide it. */
	assert_true(dd_strv_contains(&got, "dags/etl/transforms.py"));
	assert_true(dd_strv_contains(&got, "dags/etl/helpers.py"));
	assert_true(dd_strv_contains(&got, "dags/etl/io/s3.py"));
	assert_true(dd_strv_contains(&got, "plugins/common/util.py"));
	assert_true(dd_strv_contains(&got, "dags/etl/lib/__init__.py"));
	assert_true(dd_strv_contains(&got, "dags/etl/lib/core.py"));
	assert_true(dd_strv_contains(&got, "dags/deep/one.py"));
	assert_false(dd_strv_contains(&got, "dags/deep/two.py"));
	assert_false(dd_strv_contains(&got, "dags/other.py"));
	assert_false(dd_strv_contains(&got, "dags/etl/load.py"));
	assert_false(dd_strv_contains(&got, "dags/etl/lib/io/s3.py"));
	assert_int_equal(got.n, 7);
	dd_strv_release(&got);
	/* Tabs, CRLF line ends, ';', "from .import", "import(" and statements cut short. */
	if (gitcorr_imports(r, "dags/edge.py", at(2, 0, 0), &got, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(dd_strv_contains(&got, "dags/etl/helpers.py"));
	assert_true(dd_strv_contains(&got, "dags/deep/two.py"));
	assert_true(dd_strv_contains(&got, "dags/other.py"));
	assert_true(dd_strv_contains(&got, "dags/etl/transforms.py"));
	assert_false(dd_strv_contains(&got, "other.py"));
	dd_strv_release(&got);
	/* Paths under another root: the longest suffix wins, an ambiguous one maps to nothing. */
	{
		char *p = gitcorr_map_path(r, "/srv/dags/other.py");

		assert_string_equal(p, "dags/other.py");
		free(p);
		assert_null(gitcorr_map_path(r, "/x/io/s3.py"));   /* dags/etl/io/s3.py or dags/etl/lib/io/s3.py? */
		p = gitcorr_map_path(r, "/usr/local/airflow/etl/lib/io/s3.py");
		assert_string_equal(p, "dags/etl/lib/io/s3.py");
		free(p);
	}
	/* Before the file existed: nothing, and an error saying so. */
	assert_int_equal(gitcorr_imports(r, "dags/etl/load.py", at(1, 0, 0), &got, &err), DD_ENOTFOUND);
	assert_int_equal(got.n, 0);
	gitcorr_close(r);
}

/* Answers come back from the cache without the repository's objects, and
 * a new commit (a moved ref) makes the cache answer nothing any more. */
static void test_cache(void **state)
{
	struct dd_repo cfg;
	struct gitcorr_repo *r;
	struct gitcorr_commit *c, who;
	struct dd_error err = DD_ERROR_INIT;
	char cmd[600], noncanon[200];
	size_t n;
	int before;
	char *p;

	(void)state;
	/* a path as users write it ("--repo ./repo/"), not the canonical one */
	snprintf(noncanon, sizeof(noncanon), "%s/./", repo_path);
	open_repo_at(&cfg, &r, noncanon);
	assert_int_equal(gitcorr_window(r, at(2, 0, 0), at(4, 2, 0), &c, &n, &err), 0);
	gitcorr_commits_free(c, n);
	p = gitcorr_map_path(r, "/opt/airflow/dags/etl/load.py");
	free(p);
	assert_int_equal(gitcorr_blame_line(r, "dags/etl/load.py", 4, 0, at(4, 0, 0), &who, &before, &err), 0);
	gitcorr_commit_release(&who);
	gitcorr_close(r);
	dd_strv_release(&cfg.requirement_globs);

	/* The objects gone: only the cache can answer now. */
	snprintf(cmd, sizeof(cmd), "mv %s/.git/objects %s/.git/objects.away", repo_path, repo_path);
	assert_int_equal(system(cmd), 0);
	open_repo_at(&cfg, &r, noncanon);
	assert_int_equal(gitcorr_window(r, at(2, 0, 0), at(4, 2, 0), &c, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(c[1].summary, "Bump ML deps");
	assert_string_equal(c[1].author, "J. Doe <jdoe@x.io>");
	assert_int_equal(c[1].time_ms, at(3, 17, 12));
	assert_string_equal(c[1].files.v[0], "requirements.txt");
	assert_int_equal(c[1].n_req_changes, 2);
	assert_string_equal(c[1].req_changes[0].to, "2.0.0");
	assert_null(c[1].req_changes[1].from);
	gitcorr_commits_free(c, n);
	p = gitcorr_map_path(r, "/opt/airflow/dags/etl/load.py");
	assert_string_equal(p, "dags/etl/load.py");
	free(p);
	assert_int_equal(gitcorr_blame_line(r, "dags/etl/load.py", 4, 0, at(4, 0, 0), &who, &before, &err), 0);
	assert_string_equal(who.summary, "Tweak load");
	gitcorr_commit_release(&who);
	gitcorr_close(r);
	snprintf(cmd, sizeof(cmd), "mv %s/.git/objects.away %s/.git/objects", repo_path, repo_path);
	assert_int_equal(system(cmd), 0);
	dd_strv_release(&cfg.requirement_globs);

	/* A commit inside the window moves HEAD: the window is read again. */
	snprintf(cmd, sizeof(cmd),
	         "cd %s && GIT_AUTHOR_DATE=2026-03-03T20:00:00Z GIT_COMMITTER_DATE=2026-03-03T20:00:00Z "
	         "git -c user.name=t -c user.email=t@x.io commit -q --allow-empty -m 'Late fix'", repo_path);
	assert_int_equal(system(cmd), 0);
	open_repo(&cfg, &r);
	assert_int_equal(gitcorr_window(r, at(2, 0, 0), at(4, 2, 0), &c, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(c[0].summary, "Late fix");
	gitcorr_commits_free(c, n);
	gitcorr_close(r);
	snprintf(cmd, sizeof(cmd), "cd %s && git reset -q --hard HEAD~1", repo_path);
	assert_int_equal(system(cmd), 0);
	dd_strv_release(&cfg.requirement_globs);
}

/* The id of the commit whose summary is `msg` in repository `path`. */
static void commit_id(const char *path, const char *msg, char *out)
{
	char cmd[400];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "git -C %s log --all --format=%%H --grep='^%s$'", path, msg);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, GITCORR_ID_HEX + 1, f));
	pclose(f);
	assert_int_equal(strlen(out), GITCORR_ID_HEX);
}

/* A DAG bundle's versions bound the commits (git log from..to), a version
 * the deployed branch lacks is said so, the failing line is blamed as the
 * bad version has it; the requirement files say where a package is loose.
 * Answered again from the cache alone. */
static void test_range_and_requirement_lines(void **state)
{
	char hist[160], cmd[1024], path[160], good[48], bad[48], side[48], later[48];
	struct dd_repo cfg;
	struct gitcorr_repo *r;
	struct gitcorr_commit *c, who;
	struct gitcorr_req_line *l;
	struct dd_strv pkgs = DD_STRV_INIT;
	struct dd_error err = DD_ERROR_INIT;
	size_t n;
	int off, before;
	FILE *f;

	(void)state;
	snprintf(hist, sizeof(hist), "%s/bundle.json", dir);
	snprintf(path, sizeof(path), "%s/bundle-repo", dir);
	f = fopen(hist, "w");
	assert_non_null(f);
	fputs("[{\"date\": \"2026-03-01T10:00:00+00:00\", \"message\": \"Sales rollup\", \"files\": {\n"
	      " \"dags/rollup.py\": \"def rollup(row):\\n    return row['amount']\\n\",\n"
	      " \"venvs/news/requirements.txt\": \"# the renderer\\nJinja2>=2.10,<3\\nmarkupsafe\\npremailer==3.10.0\\n\",\n"
	      " \"requirements.txt\": \"markupsafe==2.0.1\\n\"}},\n"
	      "{\"date\": \"2026-03-02T10:00:00+00:00\", \"message\": \"Add region filter\", \"files\": {\"README.md\": \"r\\n\"}},\n"
	      "{\"date\": \"2026-03-03T10:00:00+00:00\", \"message\": \"Use net amounts\", \"files\": {\n"
	      " \"requirements.txt\": \"markupsafe==2.1.0\\n    # via jinja2\\n\",\n"
	      " \"dags/rollup.py\": \"def rollup(row):\\n    return row['net_amount']\\n\"}},\n"
	      "{\"date\": \"2026-03-04T10:00:00+00:00\", \"message\": \"Release 1\", \"files\": {\"CHANGELOG\": \"1\\n\"}},\n"
	      "{\"date\": \"2026-03-05T10:00:00+00:00\", \"message\": \"Owner links\", \"files\": {\n"
	      " \"dags/rollup.py\": \"def rollup(row):  # owner: sales\\n    return row['net_amount']\\n\"}}]\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 tests/lib/mkrepo.py %s %s && cd %s && git checkout -q -b side HEAD~2 && "
	         "GIT_AUTHOR_DATE=2026-03-04T12:00:00Z GIT_COMMITTER_DATE=2026-03-04T12:00:00Z "
	         "git -c user.name=t -c user.email=t@x.io commit -q --allow-empty -m 'Side work' && git checkout -q -",
	         hist, path, path);
	assert_int_equal(system(cmd), 0);
	commit_id(path, "Add region filter", good);
	commit_id(path, "Release 1", bad);
	commit_id(path, "Side work", side);
	dd_strv_push(&pkgs, "MarkupSafe");
	dd_strv_push(&pkgs, "jinja2");
	dd_strv_push(&pkgs, "numpy");
	for (int pass = 0; pass < 2; pass++) {
		open_repo_at(&cfg, &r, path);
		assert_int_equal(gitcorr_range(r, good, bad, &c, &n, &off, &err), 0);
		assert_int_equal(n, 2);
		assert_string_equal(c[0].summary, "Release 1");
		assert_string_equal(c[1].summary, "Use net amounts");
		assert_string_equal(c[1].files.v[0], "dags/rollup.py");
		assert_int_equal(c[1].n_req_changes, 1);   /* the graph of the requirement file comes along */
		assert_string_equal(c[1].req_changes[0].to, "2.1.0");
		assert_int_equal(c[1].req_changes[0].required_by.n, 1);
		assert_string_equal(c[1].req_changes[0].required_by.v[0], "jinja2");
		assert_false(off);
		gitcorr_commits_free(c, n);
		/* an abbreviated id; the same version twice: nothing changed */
		snprintf(later, sizeof(later), "%.12s", bad);
		assert_int_equal(gitcorr_range(r, later, later, &c, &n, &off, &err), 0);
		assert_int_equal(n, 0);
		gitcorr_commits_free(c, n);
		/* a version the deployed branch does not have */
		assert_int_equal(gitcorr_range(r, good, side, &c, &n, &off, &err), 0);
		assert_true(off);
		assert_int_equal(n, 2);                  /* branched off after "Use net amounts" */
		assert_string_equal(c[0].summary, "Side work");
		assert_string_equal(c[1].summary, "Use net amounts");
		gitcorr_commits_free(c, n);
		assert_int_equal(gitcorr_range(r, good, "0123456789abcdef0123456789abcdef01234567", &c, &n, &off, &err),
		                 DD_ENOTFOUND);
		assert_non_null(strstr(err.msg, "has no commit 0123456789ab"));
		assert_int_equal(n, 0);
		/* the line as the bad version has it, not as HEAD does */
		assert_int_equal(gitcorr_blame_at(r, "dags/rollup.py", 2, good, bad, &who, &before, &err), 0);
		assert_string_equal(who.summary, "Use net amounts");
		assert_false(before);
		gitcorr_commit_release(&who);
		assert_int_equal(gitcorr_blame_at(r, "dags/rollup.py", 1, good, bad, &who, &before, &err), 0);
		assert_true(before);
		gitcorr_commit_release(&who);
		assert_int_equal(gitcorr_requirement_lines(r, at(6, 0, 0), &pkgs, &l, &n, &err), 0);
		assert_int_equal(n, 3);
		assert_string_equal(l[0].package, "markupsafe");
		assert_string_equal(l[0].file, "requirements.txt");
		assert_string_equal(l[0].version, "2.1.0");
		assert_string_equal(l[1].file, "venvs/news/requirements.txt");
		assert_int_equal(l[1].line, 3);
		assert_string_equal(l[1].text, "markupsafe");
		assert_string_equal(l[1].version, "");
		assert_string_equal(l[2].package, "jinja2");
		assert_string_equal(l[2].text, "Jinja2>=2.10,<3");
		assert_string_equal(l[2].version, ">=2.10,<3");
		gitcorr_req_lines_free(l, n);
		gitcorr_close(r);
		dd_strv_release(&cfg.requirement_globs);
		/* the second pass answers from the cache alone */
		snprintf(cmd, sizeof(cmd), "mv %s/.git/objects %s/.git/objects.away", path, path);
		if (!pass)
			assert_int_equal(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "mv %s/.git/objects.away %s/.git/objects", path, path);
	assert_int_equal(system(cmd), 0);
	dd_strv_release(&pkgs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_map_and_blame),
		cmocka_unit_test(test_requirements_at),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_imports),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_range_and_requirement_lines),
	};

	return cmocka_run_group_tests_name("gitcorr", tests, setup, teardown);
}
