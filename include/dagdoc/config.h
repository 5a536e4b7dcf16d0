/*
 * config.h - the effective configuration: config file (YAML, libyaml),
 * then environment variables, then command-line flags, later winning.
 *
 * File: $XDG_CONFIG_HOME/dagdoc/config.yaml (~/.config/dagdoc/config.yaml),
 * or --config FILE.  Store: $XDG_STATE_HOME/dagdoc/dagdoc.db
 * (~/.local/state/dagdoc/dagdoc.db), or `store:` in the file, or --store.
 *
 * Credentials are read from the environment variables that the file names
 * (`token_env: AIRFLOW_PROD_TOKEN`); a literal `token:` / `password:` /
 * `api_key:` in the file is accepted but warned about.  Resolved secret
 * values live only in the dd_source fields marked SECRET below and must
 * never be printed: config_print masks them.
 *
 * Ownership: config_load fills a caller-provided struct dd_config whose
 * fields it owns; config_release frees them.
 */
#ifndef DAGDOC_CONFIG_H
#define DAGDOC_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "dagdoc/error.h"
#include "dagdoc/util.h"

enum dd_source_kind {
	DD_SOURCE_AIRFLOW = 1,
	DD_SOURCE_PREFECT,
	DD_SOURCE_LOGS,
};

const char *dd_source_kind_name(enum dd_source_kind k);   /* "airflow" ... */

struct dd_source {
	char *name;                 /* "prod", or "airflow"/"prefect" from env */
	enum dd_source_kind kind;
	char *url;                  /* API base URL (airflow: server root, e.g.
	                             * http://host:8080; prefect: .../api) */
	char *ui_url;               /* for links; defaults from url */
	char *path;                 /* kind logs: the log folder */
	char *username;
	char *password;             /* SECRET */
	char *token;                /* SECRET: Airflow bearer token */
	char *api_key;              /* SECRET: Prefect Cloud key */
	char *auth_string;          /* SECRET: Prefect "user:pass" basic auth */
	char *username_env, *password_env, *token_env, *api_key_env, *auth_string_env;
	char *ca_file;
	int insecure;               /* TLS verification off (warned) */
	int concurrency;            /* parallel transfers, default 8 */
	int timeout_s;              /* total per request, default 60 */
	int connect_timeout_s;      /* default 10 */
	int64_t max_log_bytes;      /* cap per log, default 16 MiB */
	int retry_after_max_s;      /* the most one request waits for Retry-After, default 60 */
	int retry_budget_s;         /* the most all retries of one sync wait in all, default 300 */
	int success_logs;           /* logs of each task's newest successful runs fetched (quiet
	                             * failures), default 10; 0: none */
	int64_t success_log_bytes;  /* cap per successful try's log, default 1 MiB (and at most max_log_bytes) */
	char *origin;               /* "config.yaml:12" or "environment" */
	char *unset_env;            /* "config.yaml:14: password_env names X, which is not set ...":
	                             * the first *_env of the file naming a variable that is not
	                             * set; conn_open refuses the source with it.  NULL: none */
};

struct dd_path_map {
	char *from;                 /* orchestrator prefix, "/opt/airflow/dags/" */
	char *to;                   /* repo-relative prefix, "dags/" */
};

struct dd_repo {
	char *path;
	char *branch;               /* deployed ref, default HEAD */
	int64_t deploy_lag_s;       /* default 6h */
	struct dd_path_map *maps;
	size_t n_maps;
	struct dd_strv requirement_globs;  /* default set when empty */
};

/* `post:` - where and how `dagdoc report` posts its summary.  A post
 * section naming url_env or routing_key_env turns posting on (report
 * --no-post turns it off for one run).  The URL is never in the file: it
 * is a secret (a Slack webhook's path is its token). */
struct dd_post_config {
	char *url_env;              /* the variable holding the webhook URL */
	char *format;               /* slack, blocks, json, pagerduty; NULL: slack */
	char *routing_key_env;      /* pagerduty: the variable holding the routing key */
	char *report_url;           /* where the report written with -o is served (links) */
	char *origin;               /* "config.yaml:30", NULL when the file has no post: */
};

struct dd_config {
	char *file;                 /* path of the file read, NULL if none */
	char *store_path;           /* a file, or a postgresql:// URL (store.h) */
	char *store_password_env;   /* the variable holding the PostgreSQL store's password */
	char *store_password;       /* its value (a registered secret), NULL when unset */
	struct dd_strv pattern_dirs;
	struct dd_source *sources;
	size_t n_sources;
	struct dd_repo *repos;
	size_t n_repos;
	struct dd_post_config post;
	struct dd_strv warnings;    /* for the command to print (permissions, literal secrets) */
	int degraded_exit;          /* triage/report exit status when DAGs are only degraded (quiet
	                             * failures, nothing failing): 0 (default) or 1 */
};

/*
 * Loads `path` (or the default location when NULL; a missing default file
 * is not an error), then adds sources from the environment
 * (DAGDOC_AIRFLOW_URL/_USERNAME/_PASSWORD/_TOKEN, PREFECT_API_URL,
 * PREFECT_API_KEY, PREFECT_API_AUTH_STRING) when no configured source has
 * that kind.  A relative path in the file (store, a log folder, a
 * repository, a pattern folder) is read from the file's own folder.
 * Errors: DD_EPARSE "FILE:LINE:COL: what was expected".
 */
int config_load(const char *path, struct dd_config *cfg, struct dd_error *err);

/* Same, from a string (tests, fuzzing); `name` is used in messages. */
int config_load_string(const char *name, const char *text, size_t len,
                       struct dd_config *cfg, struct dd_error *err);

void config_release(struct dd_config *cfg);

/* Finds a source by name; NULL name returns the only/first source.
 * DD_ENOTFOUND with the list of names when absent. */
int config_find_source(const struct dd_config *cfg, const char *name,
                       struct dd_source **out, struct dd_error *err);

/* Adds a repo from --repo PATH (defaults for the rest). */
void config_add_repo(struct dd_config *cfg, const char *path);

/* Writes the effective configuration as YAML, every secret as "****". */
void config_print(const struct dd_config *cfg, FILE *out);

/* The default file and store paths (allocated, caller frees). */
char *config_default_file(void);
char *config_default_store(void);

/* The requirement files a repository is read for when its config names
 * none (globs, static). */
size_t config_requirement_globs(const char *const **out);

/*
 * `dagdoc init`: a first configuration, commented, from what is found:
 * the sources the environment names (DAGDOC_AIRFLOW_URL with its
 * username/password/token variables, PREFECT_API_URL with PREFECT_API_KEY
 * or PREFECT_API_AUTH_STRING, DAGDOC_LOGS_PATH), the git repository `dir`
 * is in (its top folder and branch) and the requirement files there.
 * Secrets are never written: each goes in as the *_env naming its
 * variable.  Fills `text` (YAML that config_load reads) and `found` (one
 * sentence per thing found, for the command to say).  The caller owns
 * both.  Returns how many sources it found (an unreadable folder is "no
 * repository", not an error).
 */
int config_init_text(const char *dir, struct dd_buf *text, struct dd_strv *found, struct dd_error *err);

#endif
