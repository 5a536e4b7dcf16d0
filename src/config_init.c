/*
 * config_init.c - a first configuration from what the machine shows:
 * the environment's sources and the git repository dagdoc runs in.
 */
#include "dagdoc/util.h"

#include <dirent.h>
#include <fnmatch.h>
#include <git2.h>
#include <time.h>

#include "dagdoc/config.h"

static const char *env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* YAML double-quoted scalar of s (URLs and paths may hold ': ' or '#'). */
static void add_quoted(struct dd_buf *b, const char *s)
{
	dd_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			dd_buf_addch(b, '\\');
		if ((unsigned char)*s < 0x20)
			dd_buf_addf(b, "\\x%02x", (unsigned char)*s);
		else
			dd_buf_addch(b, *s);
	}
	dd_buf_addch(b, '"');
}

static void airflow_source(struct dd_buf *b, struct dd_strv *found)
{
	const char *url = env_set("DAGDOC_AIRFLOW_URL");

	if (!url)
		return;
	dd_buf_adds(b, "  # Airflow (API v1 for 2.x, v2 for 3.x: detected)\n"
	               "  - name: airflow\n    kind: airflow\n    url: ");
	add_quoted(b, url);
	dd_buf_adds(b, "\n");
	if (env_set("DAGDOC_AIRFLOW_TOKEN"))
		dd_buf_adds(b, "    token_env: DAGDOC_AIRFLOW_TOKEN\n");
	if (env_set("DAGDOC_AIRFLOW_USERNAME"))
		dd_buf_adds(b, "    username_env: DAGDOC_AIRFLOW_USERNAME\n    password_env: DAGDOC_AIRFLOW_PASSWORD\n");
	if (!env_set("DAGDOC_AIRFLOW_TOKEN") && !env_set("DAGDOC_AIRFLOW_USERNAME"))
		dd_buf_adds(b, "    # no credentials in the environment; one of:\n"
		               "    # token_env: DAGDOC_AIRFLOW_TOKEN\n"
		               "    # username_env: DAGDOC_AIRFLOW_USERNAME\n"
		               "    # password_env: DAGDOC_AIRFLOW_PASSWORD\n");
	dd_strv_push_owned(found, dd_xasprintf("an Airflow at %s (DAGDOC_AIRFLOW_URL)", url));
}

static void prefect_source(struct dd_buf *b, struct dd_strv *found)
{
	const char *url = env_set("PREFECT_API_URL");

	if (!url)
		return;
	dd_buf_adds(b, "  # Prefect (a server's /api URL, or a Cloud workspace's)\n"
	               "  - name: prefect\n    kind: prefect\n    url: ");
	add_quoted(b, url);
	dd_buf_adds(b, "\n");
	if (env_set("PREFECT_API_KEY"))
		dd_buf_adds(b, "    api_key_env: PREFECT_API_KEY\n");
	else if (env_set("PREFECT_API_AUTH_STRING"))
		dd_buf_adds(b, "    auth_string_env: PREFECT_API_AUTH_STRING\n");
	else
		dd_buf_adds(b, "    # api_key_env: PREFECT_API_KEY             # Prefect Cloud\n"
		               "    # auth_string_env: PREFECT_API_AUTH_STRING # a server with basic auth\n");
	dd_strv_push_owned(found, dd_xasprintf("a Prefect API at %s (PREFECT_API_URL)", url));
}

static void logs_source(struct dd_buf *b, struct dd_strv *found)
{
	const char *path = env_set("DAGDOC_LOGS_PATH");

	if (!path)
		return;
	dd_buf_adds(b, "  # an Airflow log folder (base_log_folder), read without a server\n"
	               "  - name: logs\n    kind: logs\n    path: ");
	add_quoted(b, path);
	dd_buf_adds(b, "\n");
	dd_strv_push_owned(found, dd_xasprintf("an Airflow log folder %s (DAGDOC_LOGS_PATH)", path));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in `dir` (and in its requirements/ folder) that the default
 * requirement globs take, sorted. */
static void requirement_files(const char *top, struct dd_strv *out)
{
	const char *const *globs;
	size_t n_globs = config_requirement_globs(&globs);
	static const char *const folders[] = { "", "requirements/" };

	for (size_t f = 0; f < DD_ARRAY_SIZE(folders); f++) {
		char *path = dd_xasprintf("%s/%s", top, folders[f]);
		DIR *d = opendir(path);
		struct dirent *e;

		free(path);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			char *rel = dd_xasprintf("%s%s", folders[f], e->d_name);

			for (size_t g = 0; g < n_globs; g++)
				if (e->d_name[0] != '.' || !strcmp(e->d_name, ".python-version"))
					if (fnmatch(globs[g], rel, FNM_PATHNAME) == 0) {
						dd_strv_push(out, rel);
						break;
					}
			free(rel);
		}
		closedir(d);
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_names);
}

static int has_folder(const char *top, const char *name)
{
	char *p = dd_xasprintf("%s/%s", top, name);
	DIR *d = opendir(p);

	free(p);
	if (!d)
		return 0;
	closedir(d);
	return 1;
}

/* The branch checked out, also before its first commit (HEAD then names
 * a branch that does not exist yet); NULL on a detached HEAD. */
static const char *checked_out_branch(git_repository *repo, git_reference **head)
{
	const char *target;

	if (git_repository_head(head, repo) == 0)
		return git_reference_is_branch(*head) ? git_reference_shorthand(*head) : NULL;
	if (git_reference_lookup(head, repo, "HEAD") < 0 || git_reference_type(*head) != GIT_REFERENCE_SYMBOLIC)
		return NULL;
	target = git_reference_symbolic_target(*head);
	return target && !strncmp(target, "refs/heads/", 11) ? target + 11 : NULL;
}

static void repository(const char *dir, struct dd_buf *b, struct dd_strv *found)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	struct dd_strv reqs = DD_STRV_INIT;
	const char *workdir, *branch;
	char *top;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0 || !(workdir = git_repository_workdir(repo))) {
		dd_buf_adds(b, "repos: []\n"
		               "# No git repository here.  dagdoc ties failures to commits and requirement\n"
		               "# changes when it knows the pipelines' repository:\n"
		               "# repos:\n"
		               "#   - path: ~/src/data-pipelines\n"
		               "#     deploy_lag: 6h        # how long a merge takes to reach the workers\n");
		git_repository_free(repo);
		git_libgit2_shutdown();
		return;
	}
	top = dd_xstrndup(workdir, strlen(workdir) > 1 ? strlen(workdir) - 1 : strlen(workdir));
	dd_buf_adds(b, "repos:\n  - path: ");
	add_quoted(b, top);
	dd_buf_adds(b, "\n");
	branch = checked_out_branch(repo, &head);
	if (branch) {
		dd_buf_addf(b, "    branch: %s                # the branch that is deployed\n", branch);
		dd_strv_push_owned(found, dd_xasprintf("the git repository %s (branch %s)", top, branch));
	} else {
		dd_strv_push_owned(found, dd_xasprintf("the git repository %s", top));
	}
	dd_buf_adds(b, "    deploy_lag: 6h            # how long a merge takes to reach the workers\n");
	dd_buf_adds(b, "    # where the orchestrator's paths are in this repository (as tracebacks show them)\n");
	dd_buf_addf(b, "    %smap:\n", has_folder(top, "dags") || has_folder(top, "flows") ? "" : "# ");
	if (has_folder(top, "dags"))
		dd_buf_adds(b, "      - from: /opt/airflow/dags/\n        to: dags/\n");
	if (has_folder(top, "flows"))
		dd_buf_adds(b, "      - from: /opt/prefect/flows/\n        to: flows/\n");
	if (!has_folder(top, "dags") && !has_folder(top, "flows"))
		dd_buf_adds(b, "    #   - from: /opt/airflow/dags/\n    #     to: dags/\n");
	requirement_files(top, &reqs);
	if (reqs.n) {
		struct dd_buf list = DD_BUF_INIT;

		dd_buf_adds(b, "    # requirement files found (read by default; list them to read others):\n");
		for (size_t i = 0; i < reqs.n; i++) {
			dd_buf_addf(b, "    #   %s\n", reqs.v[i]);
			dd_buf_addf(&list, "%s%s", i ? ", " : "", reqs.v[i]);
		}
		dd_strv_push_owned(found, dd_xasprintf("requirement files %s", dd_buf_str(&list)));
		dd_buf_release(&list);
	}
	dd_strv_release(&reqs);
	free(top);
	git_reference_free(head);
	git_repository_free(repo);
	git_libgit2_shutdown();
}

int config_init_text(const char *dir, struct dd_buf *text, struct dd_strv *found, struct dd_error *err)
{
	char day[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t before, n_sources;
	char *store = config_default_store();

	(void)err;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	dd_buf_addf(text, "# dagdoc configuration, written by 'dagdoc init' on %s.\n", day);
	dd_buf_adds(text, "# Secrets are never written here: each *_env key names the environment\n"
	                  "# variable that holds one.  'dagdoc config' prints the effective\n"
	                  "# configuration (secrets masked); README.md, 'Configuration', has every key.\n\n");
	dd_buf_adds(text, "# store: ");
	dd_buf_adds(text, store);
	dd_buf_adds(text, "   # the default; a relative path is read from this file's folder\n");
	dd_buf_adds(text, "# patterns: [~/dagdoc-patterns]   # your own pattern files; they replace built-ins by id\n\n");
	free(store);
	dd_buf_adds(text, "sources:\n");
	before = text->len;
	n_sources = found->n;
	airflow_source(text, found);
	prefect_source(text, found);
	logs_source(text, found);
	n_sources = found->n - n_sources;
	if (text->len == before) {
		text->len = before - strlen("sources:\n");
		text->data[text->len] = '\0';
		dd_buf_adds(text, "sources: []\n"
		                  "# No source in the environment (DAGDOC_AIRFLOW_URL, PREFECT_API_URL,\n"
		                  "# DAGDOC_LOGS_PATH).  Add one:\n"
		                  "# sources:\n"
		                  "#   - name: prod\n"
		                  "#     kind: airflow             # or prefect, or logs (a log folder: path:)\n"
		                  "#     url: https://airflow.example.com\n"
		                  "#     username_env: AIRFLOW_USERNAME\n"
		                  "#     password_env: AIRFLOW_PASSWORD\n");
	}
	dd_buf_adds(text, "\n");
	repository(dir, text, found);
	return (int)n_sources;
}
