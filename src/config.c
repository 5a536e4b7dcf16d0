/*
 * config.c - the configuration file (libyaml), environment variables and
 * the masked printout.  See include/dagdoc/config.h.
 */
#include "dagdoc/util.h"

#include <errno.h>
#include <sys/stat.h>
#include <yaml.h>

#include "dagdoc/config.h"
#include "dagdoc/redact.h"
#include "dagdoc/secrets.h"
#include "dagdoc/store.h"

#define DEFAULT_CONCURRENCY 8
#define DEFAULT_TIMEOUT_S 60
#define DEFAULT_CONNECT_TIMEOUT_S 10
#define DEFAULT_MAX_LOG_BYTES (16 * 1024 * 1024)
#define DEFAULT_RETRY_AFTER_MAX_S 60
#define DEFAULT_RETRY_BUDGET_S 300
#define DEFAULT_SUCCESS_LOGS 10
#define DEFAULT_SUCCESS_LOG_BYTES (1024 * 1024)
#define DEFAULT_DEPLOY_LAG_S (6 * 3600)

static const char *const default_requirement_globs[] = {
	"requirements*.txt", "requirements/*.txt", "constraints*.txt", "pyproject.toml",
	"poetry.lock", "uv.lock", "Pipfile", "Pipfile.lock", "environment.yml",
	"environment.yaml", "Dockerfile", "Dockerfile.*", "*.Dockerfile", ".python-version", "runtime.txt",
};

size_t config_requirement_globs(const char *const **out)
{
	*out = default_requirement_globs;
	return DD_ARRAY_SIZE(default_requirement_globs);
}

const char *dd_source_kind_name(enum dd_source_kind k)
{
	switch (k) {
	case DD_SOURCE_AIRFLOW: return "airflow";
	case DD_SOURCE_PREFECT: return "prefect";
	case DD_SOURCE_LOGS: return "logs";
	}
	return "unknown";
}

/* ---- defaults and paths -------------------------------------------------- */

static char *xdg_path(const char *var, const char *fallback, const char *tail)
{
	const char *base = getenv(var);
	const char *home = getenv("HOME");

	if (base && *base == '/')
		return dd_xasprintf("%s/dagdoc/%s", base, tail);
	return dd_xasprintf("%s/%s/dagdoc/%s", home && *home ? home : ".", fallback, tail);
}

char *config_default_file(void)
{
	return xdg_path("XDG_CONFIG_HOME", ".config", "config.yaml");
}

char *config_default_store(void)
{
	return xdg_path("XDG_STATE_HOME", ".local/state", "dagdoc.db");
}

/* "~/x" -> "$HOME/x"; anything else copied. */
static char *expand_home(const char *p)
{
	const char *home = getenv("HOME");

	if (p[0] == '~' && (p[1] == '/' || !p[1]) && home)
		return dd_xasprintf("%s%s", home, p + 1);
	return dd_xstrdup(p);
}

/* The absolute folder of the configuration file: relative paths in it
 * (store, log folders, repositories, patterns) are read from there, as
 * docker compose and git read theirs, not from wherever dagdoc runs. */
static char *config_file_folder(const char *file)
{
	char *real = realpath(file, NULL);
	char *slash;

	if (!real)
		return NULL;
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return real;
}

static void source_defaults(struct dd_source *s)
{
	s->concurrency = DEFAULT_CONCURRENCY;
	s->timeout_s = DEFAULT_TIMEOUT_S;
	s->connect_timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
	s->max_log_bytes = DEFAULT_MAX_LOG_BYTES;
	s->retry_after_max_s = DEFAULT_RETRY_AFTER_MAX_S;
	s->retry_budget_s = DEFAULT_RETRY_BUDGET_S;
	s->success_logs = DEFAULT_SUCCESS_LOGS;
	s->success_log_bytes = DEFAULT_SUCCESS_LOG_BYTES;
}

static void repo_defaults(struct dd_repo *r)
{
	r->deploy_lag_s = DEFAULT_DEPLOY_LAG_S;
	r->branch = dd_xstrdup("HEAD");
}

static void repo_default_globs(struct dd_repo *r)
{
	if (r->requirement_globs.n)
		return;
	for (size_t i = 0; i < DD_ARRAY_SIZE(default_requirement_globs); i++)
		dd_strv_push(&r->requirement_globs, default_requirement_globs[i]);
}

static void source_release(struct dd_source *s)
{
	free(s->name); free(s->url); free(s->ui_url); free(s->path);
	free(s->username); free(s->password); free(s->token); free(s->api_key);
	free(s->auth_string); free(s->username_env); free(s->password_env);
	free(s->token_env); free(s->api_key_env); free(s->auth_string_env);
	free(s->ca_file); free(s->origin); free(s->unset_env);
}

static void repo_release(struct dd_repo *r)
{
	free(r->path);
	free(r->branch);
	for (size_t i = 0; i < r->n_maps; i++) {
		free(r->maps[i].from);
		free(r->maps[i].to);
	}
	free(r->maps);
	dd_strv_release(&r->requirement_globs);
}

void config_release(struct dd_config *cfg)
{
	free(cfg->file);
	free(cfg->store_path);
	free(cfg->store_password_env);
	free(cfg->store_password);
	dd_strv_release(&cfg->pattern_dirs);
	for (size_t i = 0; i < cfg->n_sources; i++)
		source_release(&cfg->sources[i]);
	free(cfg->sources);
	for (size_t i = 0; i < cfg->n_repos; i++)
		repo_release(&cfg->repos[i]);
	free(cfg->repos);
	free(cfg->post.url_env);
	free(cfg->post.format);
	free(cfg->post.routing_key_env);
	free(cfg->post.report_url);
	free(cfg->post.origin);
	dd_strv_release(&cfg->warnings);
	memset(cfg, 0, sizeof(*cfg));
}

static struct dd_source *add_source(struct dd_config *cfg)
{
	struct dd_source *s;

	cfg->sources = dd_xrealloc(cfg->sources, (cfg->n_sources + 1) * sizeof(*cfg->sources));
	s = &cfg->sources[cfg->n_sources++];
	memset(s, 0, sizeof(*s));
	source_defaults(s);
	return s;
}

static struct dd_repo *add_repo_struct(struct dd_config *cfg)
{
	struct dd_repo *r;

	cfg->repos = dd_xrealloc(cfg->repos, (cfg->n_repos + 1) * sizeof(*cfg->repos));
	r = &cfg->repos[cfg->n_repos++];
	memset(r, 0, sizeof(*r));
	repo_defaults(r);
	return r;
}

void config_add_repo(struct dd_config *cfg, const char *path)
{
	struct dd_repo *r = add_repo_struct(cfg);

	r->path = expand_home(path);
	repo_default_globs(r);
}

/* ---- YAML reading -------------------------------------------------------- */

struct reader {
	const char *name;           /* file name for messages */
	const char *base;           /* the file's folder: relative paths are read from it (NULL: as given) */
	yaml_document_t *doc;
	struct dd_config *cfg;
	struct dd_error *err;
};

static int fail_at(struct reader *rd, yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int vfail(struct dd_error *err, const char *name, const yaml_mark_t *m, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static int vfail(struct dd_error *err, const char *name, const yaml_mark_t *m, const char *fmt, va_list ap)
{
	char what[512];

	vsnprintf(what, sizeof(what), fmt, ap);
	return dd_error_set(err, DD_EPARSE, "%s:%zu:%zu: %s", name, m->line + 1, m->column + 1, what);
}

static int fail_at(struct reader *rd, yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(rd->err, rd->name, &node->start_mark, fmt, ap);
	va_end(ap);
	return rc;
}

static const char *node_kind(yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

static int get_string(struct reader *rd, yaml_node_t *n, const char *key, char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail_at(rd, n, "'%s' must be a string, not %s", key, node_kind(n));
	free(*out);
	*out = dd_xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
	return 0;
}

static int get_path(struct reader *rd, yaml_node_t *n, const char *key, char **out)
{
	char *raw = NULL;
	int rc = get_string(rd, n, key, &raw);

	if (rc < 0)
		return rc;
	free(*out);
	if (rd->base && raw[0] && raw[0] != '/' && raw[0] != '~')
		*out = dd_xasprintf("%s/%s", rd->base, raw);
	else
		*out = expand_home(raw);
	free(raw);
	return 0;
}

/* store: a path (relative to the configuration's folder) or a PostgreSQL
 * URL, taken as it is. */
static int get_store(struct reader *rd, yaml_node_t *n, char **out)
{
	if (n->type == YAML_SCALAR_NODE && store_is_url((const char *)n->data.scalar.value))
		return get_string(rd, n, "store", out);
	return get_path(rd, n, "store", out);
}

static int get_int(struct reader *rd, yaml_node_t *n, const char *key, long min, long max, long *out)
{
	char *end;
	long v;

	if (n->type != YAML_SCALAR_NODE)
		return fail_at(rd, n, "'%s' must be a number, not %s", key, node_kind(n));
	errno = 0;
	v = strtol((const char *)n->data.scalar.value, &end, 10);
	if (errno || *end || end == (const char *)n->data.scalar.value || v < min || v > max)
		return fail_at(rd, n, "'%s' must be a whole number from %ld to %ld, not '%s'", key,
		               min, max, n->data.scalar.value);
	*out = v;
	return 0;
}

static int get_bool(struct reader *rd, yaml_node_t *n, const char *key, int *out)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type == YAML_SCALAR_NODE) {
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
			*out = 1;
			return 0;
		}
		if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) {
			*out = 0;
			return 0;
		}
	}
	return fail_at(rd, n, "'%s' must be true or false", key);
}

static int get_duration(struct reader *rd, yaml_node_t *n, const char *key, int64_t *out)
{
	struct dd_error derr = DD_ERROR_INIT;

	if (n->type != YAML_SCALAR_NODE)
		return fail_at(rd, n, "'%s' must be a duration like 6h, not %s", key, node_kind(n));
	if (dd_parse_duration((const char *)n->data.scalar.value, out, &derr) < 0)
		return fail_at(rd, n, "'%s': %s", key, derr.msg);
	return 0;
}

static int get_string_list(struct reader *rd, yaml_node_t *n, const char *key,
                           int paths, struct dd_strv *out)
{
	if (n->type == YAML_SCALAR_NODE) {
		char *s = NULL;
		int rc = paths ? get_path(rd, n, key, &s) : get_string(rd, n, key, &s);

		if (rc < 0)
			return rc;
		dd_strv_push_owned(out, s);
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(rd, n, "'%s' must be a list of strings, not %s", key, node_kind(n));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(rd->doc, *it);
		char *s = NULL;
		int rc = paths ? get_path(rd, item, key, &s) : get_string(rd, item, key, &s);

		if (rc < 0)
			return rc;
		dd_strv_push_owned(out, s);
	}
	return 0;
}

static int unknown_key(struct reader *rd, yaml_node_t *key, const char *where, const char *expected)
{
	if (key->type != YAML_SCALAR_NODE)
		return fail_at(rd, key, "a key in %s is %s; keys are plain names (%s)", where, node_kind(key),
		               expected);
	return fail_at(rd, key, "unknown key '%s' in %s; expected one of: %s", key->data.scalar.value,
	               where, expected);
}

#define FOR_EACH_PAIR(rd, map, kn, vn) \
	for (yaml_node_pair_t *pair_ = (map)->data.mapping.pairs.start; \
	     pair_ < (map)->data.mapping.pairs.top && \
	     ((kn) = yaml_document_get_node((rd)->doc, pair_->key)) && \
	     ((vn) = yaml_document_get_node((rd)->doc, pair_->value)); \
	     pair_++)

static int key_is(yaml_node_t *k, const char *name)
{
	return k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, name);
}

static void warn_literal_secret(struct reader *rd, yaml_node_t *k, const char *source, const char *key)
{
	dd_strv_push_owned(&rd->cfg->warnings,
	                   dd_xasprintf("%s:%zu: source %s holds a literal %s; prefer %s_env naming an environment variable",
	                                rd->name, k->start_mark.line + 1, source ? source : "?", key, key));
}

static const char source_keys[] =
	"name, kind, url, ui_url, path, username, username_env, password, password_env, token, "
	"token_env, api_key, api_key_env, auth_string, auth_string_env, ca_file, insecure, "
	"concurrency, timeout, connect_timeout, max_log_mb, retry_after_max, retry_budget, success_logs, "
	"success_log_kb";

/* `key: VAR` naming the variable a credential comes from: an empty name
 * is refused; a variable not set is recorded (conn_open reports it, with
 * this file:line, before any request is made). */
static int get_env_name(struct reader *rd, struct dd_source *s, yaml_node_t *k, yaml_node_t *v,
                        const char *key, char **out)
{
	const char *val;
	int rc = get_string(rd, v, key, out);

	if (rc < 0)
		return rc;
	if (!**out)
		return fail_at(rd, v, "'%s' is empty; name the environment variable that holds the "
		               "credential, or remove the key", key);
	val = getenv(*out);
	if ((!val || !*val) && !s->unset_env)
		s->unset_env = dd_xasprintf("%s:%zu: %s names %s, which is not set in the environment "
		                            "(or is empty); export it, or fix the name", rd->name,
		                            k->start_mark.line + 1, key, *out);
	return 0;
}

static int read_source(struct reader *rd, yaml_node_t *map, int *literal_secret)
{
	struct dd_source *s;
	yaml_node_t *k, *v;
	long n;
	int rc = 0;

	if (map->type != YAML_MAPPING_NODE)
		return fail_at(rd, map, "each source must be a mapping with name, kind and url");
	s = add_source(rd->cfg);
	s->origin = dd_xasprintf("%s:%zu", rd->name, map->start_mark.line + 1);
	FOR_EACH_PAIR(rd, map, k, v) {
		if (k->type != YAML_SCALAR_NODE)
			return fail_at(rd, k, "keys must be strings");
		if (key_is(k, "name")) rc = get_string(rd, v, "name", &s->name);
		else if (key_is(k, "kind")) {
			char *kind = NULL;

			rc = get_string(rd, v, "kind", &kind);
			if (rc == 0) {
				if (!strcmp(kind, "airflow")) s->kind = DD_SOURCE_AIRFLOW;
				else if (!strcmp(kind, "prefect")) s->kind = DD_SOURCE_PREFECT;
				else if (!strcmp(kind, "logs")) s->kind = DD_SOURCE_LOGS;
				else rc = fail_at(rd, v, "kind must be airflow, prefect or logs, not '%s'", kind);
			}
			free(kind);
		}
		else if (key_is(k, "url")) rc = get_string(rd, v, "url", &s->url);
		else if (key_is(k, "ui_url")) rc = get_string(rd, v, "ui_url", &s->ui_url);
		else if (key_is(k, "path")) rc = get_path(rd, v, "path", &s->path);
		else if (key_is(k, "username")) rc = get_string(rd, v, "username", &s->username);
		else if (key_is(k, "username_env")) rc = get_env_name(rd, s, k, v, "username_env", &s->username_env);
		else if (key_is(k, "password")) { rc = get_string(rd, v, "password", &s->password); warn_literal_secret(rd, k, s->name, "password"); *literal_secret = 1; }
		else if (key_is(k, "password_env")) rc = get_env_name(rd, s, k, v, "password_env", &s->password_env);
		else if (key_is(k, "token")) { rc = get_string(rd, v, "token", &s->token); warn_literal_secret(rd, k, s->name, "token"); *literal_secret = 1; }
		else if (key_is(k, "token_env")) rc = get_env_name(rd, s, k, v, "token_env", &s->token_env);
		else if (key_is(k, "api_key")) { rc = get_string(rd, v, "api_key", &s->api_key); warn_literal_secret(rd, k, s->name, "api_key"); *literal_secret = 1; }
		else if (key_is(k, "api_key_env")) rc = get_env_name(rd, s, k, v, "api_key_env", &s->api_key_env);
		else if (key_is(k, "auth_string")) { rc = get_string(rd, v, "auth_string", &s->auth_string); warn_literal_secret(rd, k, s->name, "auth_string"); *literal_secret = 1; }
		else if (key_is(k, "auth_string_env")) rc = get_env_name(rd, s, k, v, "auth_string_env", &s->auth_string_env);
		else if (key_is(k, "ca_file")) rc = get_path(rd, v, "ca_file", &s->ca_file);
		else if (key_is(k, "insecure")) rc = get_bool(rd, v, "insecure", &s->insecure);
		else if (key_is(k, "concurrency")) { rc = get_int(rd, v, "concurrency", 1, 64, &n); s->concurrency = (int)n; }
		else if (key_is(k, "timeout")) { rc = get_int(rd, v, "timeout", 1, 3600, &n); s->timeout_s = (int)n; }
		else if (key_is(k, "connect_timeout")) { rc = get_int(rd, v, "connect_timeout", 1, 600, &n); s->connect_timeout_s = (int)n; }
		else if (key_is(k, "max_log_mb")) { rc = get_int(rd, v, "max_log_mb", 1, 4096, &n); s->max_log_bytes = (int64_t)n << 20; }
		else if (key_is(k, "retry_after_max")) { rc = get_int(rd, v, "retry_after_max", 1, 3600, &n); s->retry_after_max_s = (int)n; }
		else if (key_is(k, "retry_budget")) { rc = get_int(rd, v, "retry_budget", 1, 86400, &n); s->retry_budget_s = (int)n; }
		else if (key_is(k, "success_logs")) { rc = get_int(rd, v, "success_logs", 0, 1000, &n); s->success_logs = (int)n; }
		else if (key_is(k, "success_log_kb")) { rc = get_int(rd, v, "success_log_kb", 1, 4194304, &n); s->success_log_bytes = (int64_t)n << 10; }
		else rc = unknown_key(rd, k, "a source", source_keys);
		if (rc < 0)
			return rc;
	}
	if (!s->name)
		return fail_at(rd, map, "this source has no 'name'");
	if (!s->kind)
		return fail_at(rd, map, "source %s has no 'kind' (airflow, prefect or logs)", s->name);
	if (s->kind == DD_SOURCE_LOGS && !s->path)
		return fail_at(rd, map, "source %s is of kind logs and needs 'path', the log folder", s->name);
	if (s->kind != DD_SOURCE_LOGS && !s->url)
		return fail_at(rd, map, "source %s needs 'url', the API base URL", s->name);
	for (size_t i = 0; i + 1 < rd->cfg->n_sources; i++)
		if (!strcmp(rd->cfg->sources[i].name, s->name))
			return fail_at(rd, map, "a source named %s is defined twice", s->name);
	return 0;
}

static int read_map_list(struct reader *rd, yaml_node_t *n, struct dd_repo *r)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(rd, n, "'map' must be a list of {from: PREFIX, to: PREFIX}");
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *m = yaml_document_get_node(rd->doc, *it), *k, *v;
		struct dd_path_map pm = { NULL, NULL };
		int rc = 0;

		if (m->type != YAML_MAPPING_NODE)
			return fail_at(rd, m, "each 'map' entry must be {from: PREFIX, to: PREFIX}");
		FOR_EACH_PAIR(rd, m, k, v) {
			if (key_is(k, "from")) rc = get_string(rd, v, "from", &pm.from);
			else if (key_is(k, "to")) rc = get_string(rd, v, "to", &pm.to);
			else rc = unknown_key(rd, k, "a map entry", "from, to");
			if (rc < 0)
				break;
		}
		if (rc == 0 && (!pm.from || !pm.to))
			rc = fail_at(rd, m, "a 'map' entry needs both 'from' and 'to'");
		if (rc < 0) {
			free(pm.from);
			free(pm.to);
			return rc;
		}
		r->maps = dd_xrealloc(r->maps, (r->n_maps + 1) * sizeof(*r->maps));
		r->maps[r->n_maps++] = pm;
	}
	return 0;
}

static int read_repo(struct reader *rd, yaml_node_t *map)
{
	struct dd_repo *r;
	yaml_node_t *k, *v;
	int rc = 0;

	if (map->type == YAML_SCALAR_NODE) {
		char *p = NULL;

		rc = get_path(rd, map, "repos", &p);
		if (rc == 0)
			config_add_repo(rd->cfg, p);
		free(p);
		return rc;
	}
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(rd, map, "each repo must be a path or a mapping with 'path'");
	r = add_repo_struct(rd->cfg);
	FOR_EACH_PAIR(rd, map, k, v) {
		if (key_is(k, "path")) rc = get_path(rd, v, "path", &r->path);
		else if (key_is(k, "branch")) rc = get_string(rd, v, "branch", &r->branch);
		else if (key_is(k, "deploy_lag")) rc = get_duration(rd, v, "deploy_lag", &r->deploy_lag_s);
		else if (key_is(k, "map")) rc = read_map_list(rd, v, r);
		else if (key_is(k, "requirements")) rc = get_string_list(rd, v, "requirements", 0, &r->requirement_globs);
		else rc = unknown_key(rd, k, "a repo", "path, branch, deploy_lag, map, requirements");
		if (rc < 0)
			return rc;
	}
	if (!r->path)
		return fail_at(rd, map, "this repo has no 'path'");
	repo_default_globs(r);
	return 0;
}

static int read_list(struct reader *rd, yaml_node_t *n, const char *key,
                     int (*each)(struct reader *, yaml_node_t *, int *), int *flag)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(rd, n, "'%s' must be a list, not %s", key, node_kind(n));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		int rc = each(rd, yaml_document_get_node(rd->doc, *it), flag);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_repo_cb(struct reader *rd, yaml_node_t *n, int *unused)
{
	(void)unused;
	return read_repo(rd, n);
}

static int read_post(struct reader *rd, yaml_node_t *map)
{
	struct dd_post_config *p = &rd->cfg->post;
	yaml_node_t *k, *v;
	int rc = 0;

	if (map->type != YAML_MAPPING_NODE)
		return fail_at(rd, map, "'post' must be a mapping (url_env, format, routing_key_env, report_url)");
	free(p->origin);
	p->origin = dd_xasprintf("%s:%zu", rd->name, map->start_mark.line + 1);
	FOR_EACH_PAIR(rd, map, k, v) {
		if (key_is(k, "url_env")) rc = get_string(rd, v, "url_env", &p->url_env);
		else if (key_is(k, "format")) rc = get_string(rd, v, "format", &p->format);
		else if (key_is(k, "routing_key_env")) rc = get_string(rd, v, "routing_key_env", &p->routing_key_env);
		else if (key_is(k, "report_url")) rc = get_string(rd, v, "report_url", &p->report_url);
		else if (key_is(k, "url"))
			rc = fail_at(rd, k, "'post' takes url_env, the environment variable that holds the webhook "
			             "URL, not the URL itself (its path is a secret)");
		else rc = unknown_key(rd, k, "post", "url_env, format, routing_key_env, report_url");
		if (rc < 0)
			return rc;
	}
	if ((p->url_env && !*p->url_env) || (p->routing_key_env && !*p->routing_key_env))
		return fail_at(rd, map, "post: '%s' is empty; name the environment variable, or remove the key",
		               p->url_env && !*p->url_env ? "url_env" : "routing_key_env");
	if (p->format && strcmp(p->format, "slack") && strcmp(p->format, "blocks") && strcmp(p->format, "json") &&
	    strcmp(p->format, "pagerduty"))
		return fail_at(rd, map, "post format must be slack, blocks, json or pagerduty, not '%s'", p->format);
	return 0;
}

static int read_root(struct reader *rd, yaml_node_t *root, int *literal_secret)
{
	yaml_node_t *k, *v;
	int rc = 0;

	if (!root)
		return 0;   /* empty file */
	if (root->type != YAML_MAPPING_NODE)
		return fail_at(rd, root, "the configuration must be a mapping (sources:, repos:, store:, patterns:, post:)");
	FOR_EACH_PAIR(rd, root, k, v) {
		if (key_is(k, "store")) rc = get_store(rd, v, &rd->cfg->store_path);
		else if (key_is(k, "store_password_env")) rc = get_string(rd, v, "store_password_env",
		                                                         &rd->cfg->store_password_env);
		else if (key_is(k, "patterns")) rc = get_string_list(rd, v, "patterns", 1, &rd->cfg->pattern_dirs);
		else if (key_is(k, "sources")) rc = read_list(rd, v, "sources", read_source, literal_secret);
		else if (key_is(k, "repos")) rc = read_list(rd, v, "repos", read_repo_cb, NULL);
		else if (key_is(k, "degraded_exit")) {
			long n;

			rc = get_int(rd, v, "degraded_exit", 0, 1, &n);
			rd->cfg->degraded_exit = (int)n;
		}
		else if (key_is(k, "post")) rc = read_post(rd, v);
		else rc = unknown_key(rd, k, "the configuration",
		                      "sources, repos, store, store_password_env, patterns, degraded_exit, post");
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* How deep a configuration may nest.  Checked on the event stream before
 * the document is composed: a deeply nested document (100k levels) costs
 * libyaml's scanner time that grows with the depth. */
#define CONFIG_MAX_DEPTH 32

static int fail_mark(struct dd_error *err, const char *name, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_mark(struct dd_error *err, const char *name, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(err, name, m, fmt, ap);
	va_end(ap);
	return rc;
}

static int yaml_failed(yaml_parser_t *p, const char *name, struct dd_error *err)
{
	return dd_error_set(err, DD_EPARSE, "%s:%zu:%zu: %s%s%s", name, p->problem_mark.line + 1,
	                    p->problem_mark.column + 1, p->problem ? p->problem : "invalid YAML",
	                    p->context ? " " : "", p->context ? p->context : "");
}

/* Is an explicit tag one a configuration may carry?  Plain values only:
 * no !!binary, !!python/..., !!set, local !tags. */
static int tag_ok(const yaml_char_t *tag)
{
	static const char *const ok[] = { "str", "int", "float", "bool", "null", "map", "seq" };
	const char *t = (const char *)tag;

	if (!t || !strcmp(t, "!"))
		return 1;
	if (!dd_starts_with(t, "tag:yaml.org,2002:"))
		return 0;
	for (size_t i = 0; i < DD_ARRAY_SIZE(ok); i++)
		if (!strcmp(t + 18, ok[i]))
			return 1;
	return 0;
}

/* The first pass, over events: one document, no aliases, no exotic tags,
 * no NUL inside a value, nesting within CONFIG_MAX_DEPTH. */
static int check_events(const char *name, const char *text, size_t len, struct dd_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, docs = 0, rc = 0, done = 0;
	const char *nul = memchr(text, '\0', len);

	if (nul) {
		size_t line = 1, col = 1;

		for (const char *p = text; p < nul; p++, col++)
			if (*p == '\n') {
				line++;
				col = 0;
			}
		return dd_error_set(err, DD_EPARSE, "%s:%zu:%zu: a NUL byte; the configuration must be "
		                    "text", name, line, col);
	}
	if (!yaml_parser_initialize(&parser))
		return dd_error_set(err, DD_ERR, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && !rc) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = yaml_failed(&parser, name, err);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = fail_mark(err, name, &ev.start_mark, "a second YAML document ('---'); the "
				               "configuration is one document: merge them or remove the marker");
			break;
		case YAML_ALIAS_EVENT:
			rc = fail_mark(err, name, &ev.start_mark, "an alias (*%s); write the value out, the "
			               "configuration takes no anchors or aliases", ev.data.alias.anchor);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (!tag_ok(ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.tag :
			            ev.data.mapping_start.tag))
				rc = fail_mark(err, name, &ev.start_mark, "a tagged collection; the configuration "
				               "takes plain lists and mappings only");
			else if (++depth > CONFIG_MAX_DEPTH)
				rc = fail_mark(err, name, &ev.start_mark, "nested more than %d levels deep; a "
				               "configuration is a few levels of mappings and lists",
				               CONFIG_MAX_DEPTH);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			if (!tag_ok(ev.data.scalar.tag)) {
				const char *t = (const char *)ev.data.scalar.tag;
				int std = dd_starts_with(t, "tag:yaml.org,2002:");

				rc = fail_mark(err, name, &ev.start_mark, "a value tagged %s%s; the configuration "
				               "takes plain values only", std ? "!!" : "", std ? t + 18 : t);
			}
			else if (strlen((const char *)ev.data.scalar.value) != ev.data.scalar.length)
				rc = fail_mark(err, name, &ev.start_mark, "a value holding a NUL character "
				               "(\\0); it would be cut there");
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

static int cmp_pair_keys(const void *a, const void *b)
{
	const yaml_node_t *const *x = a, *const *y = b;

	return strcmp((const char *)(*x)->data.scalar.value, (const char *)(*y)->data.scalar.value);
}

/* No mapping names a key twice (YAML's last one would win silently:
 * 'store:' twice could point the store anywhere). */
static int check_unique_keys(struct reader *rd, yaml_node_t *n)
{
	if (!n)
		return 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			int rc = check_unique_keys(rd, yaml_document_get_node(rd->doc, *it));
			if (rc < 0)
				return rc;
		}
	} else if (n->type == YAML_MAPPING_NODE) {
		size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start), k = 0;
		yaml_node_t **keys = dd_xcalloc(count + 1, sizeof(*keys));
		int rc = 0;

		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *key = yaml_document_get_node(rd->doc, p->key);

			if (key && key->type == YAML_SCALAR_NODE)
				keys[k++] = key;
			if (rc == 0)
				rc = check_unique_keys(rd, yaml_document_get_node(rd->doc, p->value));
		}
		qsort(keys, k, sizeof(*keys), cmp_pair_keys);
		for (size_t i = 1; i < k && rc == 0; i++)
			if (!cmp_pair_keys(&keys[i - 1], &keys[i])) {
				yaml_node_t *later = keys[i]->start_mark.index > keys[i - 1]->start_mark.index ?
				                     keys[i] : keys[i - 1];
				yaml_node_t *first = later == keys[i] ? keys[i - 1] : keys[i];
				rc = fail_at(rd, later, "'%s' is given twice in this mapping (first at line %zu); "
				             "keep one", later->data.scalar.value, first->start_mark.line + 1);
			}
		free(keys);
		return rc;
	}
	return 0;
}

static int parse_text(const char *name, const char *base, const char *text, size_t len, struct dd_config *cfg,
                      int *literal_secret, struct dd_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct reader rd = { name, base, &doc, cfg, err };
	int rc;

	if ((rc = check_events(name, text, len, err)) < 0)
		return rc;
	if (!yaml_parser_initialize(&parser))
		return dd_error_set(err, DD_ERR, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_failed(&parser, name, err);
		yaml_parser_delete(&parser);
		return rc;
	}
	rc = check_unique_keys(&rd, yaml_document_get_root_node(&doc));
	if (rc == 0)
		rc = read_root(&rd, yaml_document_get_root_node(&doc), literal_secret);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- environment ---------------------------------------------------------- */

static char *env_dup(const char *name)
{
	const char *v = name ? getenv(name) : NULL;

	return v && *v ? dd_xstrdup(v) : NULL;
}

static void fill_from_named_env(struct dd_source *s)
{
	char *v;

	if (s->username_env && (v = env_dup(s->username_env))) { free(s->username); s->username = v; }
	if (s->password_env && (v = env_dup(s->password_env))) { free(s->password); s->password = v; }
	if (s->token_env && (v = env_dup(s->token_env))) { free(s->token); s->token = v; }
	if (s->api_key_env && (v = env_dup(s->api_key_env))) { free(s->api_key); s->api_key = v; }
	if (s->auth_string_env && (v = env_dup(s->auth_string_env))) { free(s->auth_string); s->auth_string = v; }
}

static int has_kind(const struct dd_config *cfg, enum dd_source_kind k)
{
	for (size_t i = 0; i < cfg->n_sources; i++)
		if (cfg->sources[i].kind == k)
			return 1;
	return 0;
}

static void add_env_sources(struct dd_config *cfg)
{
	const char *url;

	if (!has_kind(cfg, DD_SOURCE_AIRFLOW) && (url = getenv("DAGDOC_AIRFLOW_URL")) && *url) {
		struct dd_source *s = add_source(cfg);

		s->name = dd_xstrdup("airflow");
		s->kind = DD_SOURCE_AIRFLOW;
		s->url = dd_xstrdup(url);
		s->origin = dd_xstrdup("environment");
		s->username_env = dd_xstrdup("DAGDOC_AIRFLOW_USERNAME");
		s->password_env = dd_xstrdup("DAGDOC_AIRFLOW_PASSWORD");
		s->token_env = dd_xstrdup("DAGDOC_AIRFLOW_TOKEN");
	}
	if (!has_kind(cfg, DD_SOURCE_PREFECT) && (url = getenv("PREFECT_API_URL")) && *url) {
		struct dd_source *s = add_source(cfg);

		s->name = dd_xstrdup("prefect");
		s->kind = DD_SOURCE_PREFECT;
		s->url = dd_xstrdup(url);
		s->origin = dd_xstrdup("environment");
		s->api_key_env = dd_xstrdup("PREFECT_API_KEY");
		s->auth_string_env = dd_xstrdup("PREFECT_API_AUTH_STRING");
	}
	if (!has_kind(cfg, DD_SOURCE_LOGS) && (url = getenv("DAGDOC_LOGS_PATH")) && *url) {
		struct dd_source *s = add_source(cfg);

		s->name = dd_xstrdup("logs");
		s->kind = DD_SOURCE_LOGS;
		s->path = expand_home(url);
		s->origin = dd_xstrdup("environment");
	}
	for (size_t i = 0; i < cfg->n_sources; i++)
		fill_from_named_env(&cfg->sources[i]);
}

/* ---- loading ------------------------------------------------------------- */

/* Every credential of a source, in each form a connection sends it, goes
 * to the credential mask before anything can print it. */
static void register_secrets(const struct dd_source *s)
{
	secrets_add_basic(s->username, s->password);
	secrets_add(s->token);
	secrets_add(s->api_key);
	if (s->auth_string) {
		const char *colon = strchr(s->auth_string, ':');
		char *user = dd_xstrndup(s->auth_string, colon ? (size_t)(colon - s->auth_string) : 0);

		secrets_add(s->auth_string);
		secrets_add_basic(user, colon ? colon + 1 : s->auth_string);
		free(user);
	}
}

static void finish(struct dd_config *cfg)
{
	char *v;

	add_env_sources(cfg);
	for (size_t i = 0; i < cfg->n_sources; i++)
		register_secrets(&cfg->sources[i]);
	if ((v = env_dup("DAGDOC_STORE"))) {
		free(cfg->store_path);
		cfg->store_path = v;
	}
	if (!cfg->store_path)
		cfg->store_path = config_default_store();
	store_register_password(cfg->store_path);
	if (cfg->store_password_env && (v = env_dup(cfg->store_password_env))) {
		free(cfg->store_password);
		cfg->store_password = v;
		secrets_add(v);
	} else if (cfg->store_password_env) {
		dd_strv_push_owned(&cfg->warnings, dd_xasprintf("store_password_env names %s, which is not set in "
		                                                "the environment (or is empty); export it, or fix "
		                                                "the name", cfg->store_password_env));
	}
}

int config_load_string(const char *name, const char *text, size_t len,
                       struct dd_config *cfg, struct dd_error *err)
{
	int literal_secret = 0;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = parse_text(name, NULL, text, len, cfg, &literal_secret, err);
	if (rc < 0) {
		config_release(cfg);
		return rc;
	}
	finish(cfg);
	return 0;
}

int config_load(const char *path, struct dd_config *cfg, struct dd_error *err)
{
	char *file = path ? dd_xstrdup(path) : config_default_file();
	struct dd_buf text = DD_BUF_INIT;
	struct stat st;
	int literal_secret = 0;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (stat(file, &st) != 0) {
		if (!path && errno == ENOENT) {     /* no default file: environment only */
			free(file);
			finish(cfg);
			return 0;
		}
		rc = dd_error_set(err, DD_EIO, "cannot read the configuration %s: %s", file, strerror(errno));
		free(file);
		return rc;
	}
	rc = dd_read_file(file, 4 << 20, &text, err);
	if (rc == 0) {
		char *base = config_file_folder(file);

		rc = parse_text(file, base, dd_buf_str(&text), text.len, cfg, &literal_secret, err);
		free(base);
	}
	dd_buf_release(&text);
	if (rc < 0) {
		free(file);
		config_release(cfg);
		return rc;
	}
	if (literal_secret && (st.st_mode & 077))
		dd_strv_push_owned(&cfg->warnings,
		                   dd_xasprintf("%s holds a secret and is readable by group or others; run: chmod 600 %s",
		                                file, file));
	cfg->file = file;
	finish(cfg);
	return 0;
}

int config_find_source(const struct dd_config *cfg, const char *name,
                       struct dd_source **out, struct dd_error *err)
{
	struct dd_buf names = DD_BUF_INIT;

	*out = NULL;
	if (!cfg->n_sources) {
		char *file = cfg->file ? dd_xstrdup(cfg->file) : config_default_file();
		int rc = dd_error_set(err, DD_ENOTFOUND,
		                      "no source is configured: %s %s, and neither DAGDOC_AIRFLOW_URL nor "
		                      "PREFECT_API_URL is set; run 'dagdoc init' to write a config%s, or set "
		                      "DAGDOC_AIRFLOW_URL", file, cfg->file ? "has no sources" : "does not exist",
		                      cfg->file ? " elsewhere (--config FILE)" : "");

		free(file);
		return rc;
	}
	if (!name) {
		*out = &cfg->sources[0];
		return 0;
	}
	for (size_t i = 0; i < cfg->n_sources; i++) {
		if (!strcmp(cfg->sources[i].name, name)) {
			*out = &cfg->sources[i];
			dd_buf_release(&names);
			return 0;
		}
		dd_buf_addf(&names, "%s%s", i ? ", " : "", cfg->sources[i].name);
	}
	dd_error_set(err, DD_ENOTFOUND, "no source named '%s'; configured sources: %s", name, dd_buf_str(&names));
	dd_buf_release(&names);
	return DD_ENOTFOUND;
}

/* ---- printing (libyaml emitter) ------------------------------------------ */

static int write_file(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, (FILE *)data) == size;
}

static void emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	yaml_emitter_emit(em, ev);   /* errors surface as a short output; nothing to recover */
}

static void emit_scalar(yaml_emitter_t *em, const char *s)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(s ? s : "~"),
	                             (int)strlen(s ? s : "~"), 1, 1,
	                             s ? YAML_ANY_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE);
	emit(em, &ev);
}

static void emit_kv(yaml_emitter_t *em, const char *k, const char *v)
{
	if (!v)
		return;
	emit_scalar(em, k);
	emit_scalar(em, v);
}

/* A URL may carry user:password@ or ?token=...: printed redacted. */
static void emit_kv_url(yaml_emitter_t *em, const char *k, const char *v)
{
	struct dd_buf b = DD_BUF_INIT;

	if (!v)
		return;
	redact_append(&b, v, strlen(v));
	emit_kv(em, k, dd_buf_str(&b));
	dd_buf_release(&b);
}

static void emit_kv_secret(yaml_emitter_t *em, const char *k, const char *v)
{
	if (v)
		emit_kv(em, k, "****");
}

static void emit_kv_int(yaml_emitter_t *em, const char *k, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	emit_kv(em, k, num);
}

static void begin(yaml_emitter_t *em, int mapping)
{
	yaml_event_t ev;

	if (mapping)
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	else
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	emit(em, &ev);
}

static void end(yaml_emitter_t *em, int mapping)
{
	yaml_event_t ev;

	if (mapping)
		yaml_mapping_end_event_initialize(&ev);
	else
		yaml_sequence_end_event_initialize(&ev);
	emit(em, &ev);
}

static void emit_list(yaml_emitter_t *em, const char *key, const struct dd_strv *sv)
{
	if (!sv->n)
		return;
	emit_scalar(em, key);
	begin(em, 0);
	for (size_t i = 0; i < sv->n; i++)
		emit_scalar(em, sv->v[i]);
	end(em, 0);
}

static void emit_source(yaml_emitter_t *em, const struct dd_source *s)
{
	begin(em, 1);
	emit_kv(em, "name", s->name);
	emit_kv(em, "kind", dd_source_kind_name(s->kind));
	emit_kv_url(em, "url", s->url);
	emit_kv_url(em, "ui_url", s->ui_url);
	emit_kv(em, "path", s->path);
	emit_kv(em, "username", s->username);
	emit_kv_secret(em, "password", s->password);
	emit_kv_secret(em, "token", s->token);
	emit_kv_secret(em, "api_key", s->api_key);
	emit_kv_secret(em, "auth_string", s->auth_string);
	emit_kv(em, "username_env", s->username_env);
	emit_kv(em, "password_env", s->password_env);
	emit_kv(em, "token_env", s->token_env);
	emit_kv(em, "api_key_env", s->api_key_env);
	emit_kv(em, "auth_string_env", s->auth_string_env);
	emit_kv(em, "ca_file", s->ca_file);
	if (s->insecure)
		emit_kv(em, "insecure", "true");
	emit_kv_int(em, "concurrency", s->concurrency);
	emit_kv_int(em, "timeout", s->timeout_s);
	emit_kv_int(em, "connect_timeout", s->connect_timeout_s);
	emit_kv_int(em, "max_log_mb", (long long)(s->max_log_bytes >> 20));
	emit_kv_int(em, "retry_after_max", s->retry_after_max_s);
	emit_kv_int(em, "retry_budget", s->retry_budget_s);
	emit_kv_int(em, "success_logs", s->success_logs);
	emit_kv_int(em, "success_log_kb", (long long)(s->success_log_bytes >> 10));
	emit_kv(em, "from", s->origin);
	end(em, 1);
}

/* A duration as it would be written in the file: the largest unit that
 * holds it exactly (6h, 90m, 2d, 45s), so it reads back the same. */
static void exact_duration(int64_t s, char *out, size_t outlen)
{
	static const struct { int64_t secs; char unit; } units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s && s % units[i].secs == 0) {
			snprintf(out, outlen, "%lld%c", (long long)(s / units[i].secs), units[i].unit);
			return;
		}
	snprintf(out, outlen, "%llds", (long long)s);
}

static void emit_repo(yaml_emitter_t *em, const struct dd_repo *r)
{
	char lag[32];

	exact_duration(r->deploy_lag_s, lag, sizeof(lag));
	begin(em, 1);
	emit_kv(em, "path", r->path);
	emit_kv(em, "branch", r->branch);
	emit_kv(em, "deploy_lag", lag);
	if (r->n_maps) {
		emit_scalar(em, "map");
		begin(em, 0);
		for (size_t i = 0; i < r->n_maps; i++) {
			begin(em, 1);
			emit_kv(em, "from", r->maps[i].from);
			emit_kv(em, "to", r->maps[i].to);
			end(em, 1);
		}
		end(em, 0);
	}
	emit_list(em, "requirements", &r->requirement_globs);
	end(em, 1);
}

void config_print(const struct dd_config *cfg, FILE *out)
{
	yaml_emitter_t em;
	yaml_event_t ev;

	if (!yaml_emitter_initialize(&em))
		return;
	yaml_emitter_set_output(&em, write_file, out);
	yaml_emitter_set_unicode(&em, 1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&em, &ev);
	begin(&em, 1);
	emit_kv(&em, "file", cfg->file ? cfg->file : "(none: environment only)");
	{
		char *shown = store_redact(cfg->store_path);

		emit_kv(&em, "store", shown);
		free(shown);
	}
	emit_kv(&em, "store_password_env", cfg->store_password_env);
	emit_list(&em, "patterns", &cfg->pattern_dirs);
	emit_kv_int(&em, "degraded_exit", cfg->degraded_exit);
	emit_scalar(&em, "sources");
	begin(&em, 0);
	for (size_t i = 0; i < cfg->n_sources; i++)
		emit_source(&em, &cfg->sources[i]);
	end(&em, 0);
	emit_scalar(&em, "repos");
	begin(&em, 0);
	for (size_t i = 0; i < cfg->n_repos; i++)
		emit_repo(&em, &cfg->repos[i]);
	end(&em, 0);
	if (cfg->post.origin) {
		emit_scalar(&em, "post");
		begin(&em, 1);
		emit_kv(&em, "url_env", cfg->post.url_env);
		emit_kv(&em, "format", cfg->post.format);
		emit_kv(&em, "routing_key_env", cfg->post.routing_key_env);
		emit_kv_url(&em, "report_url", cfg->post.report_url);
		emit_kv(&em, "from", cfg->post.origin);
		end(&em, 1);
	}
	end(&em, 1);
	yaml_document_end_event_initialize(&ev, 1);
	emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&em, &ev);
	yaml_emitter_flush(&em);
	yaml_emitter_delete(&em);
}
