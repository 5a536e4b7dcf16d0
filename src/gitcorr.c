/*
 * gitcorr.c - git correlation (gitcorr.h): opening a repository, and the
 * public questions, answered from the cache and else by libgit2.
 */
#include "dagdoc/util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dagdoc/jsonout.h"

#include "gitcorr_impl.h"

int git_fail(struct dd_error *err, const char *what, const char *path)
{
	const git_error *e = git_error_last();

	return dd_error_set(err, DD_EGIT, "%s %s: %s", what, path, e && e->message ? e->message : "libgit2 error");
}

int gc_open_git(struct gitcorr_repo *r, struct dd_error *err)
{
	git_object *obj = NULL, *peeled = NULL;
	const char *branch = r->cfg->branch && *r->cfg->branch ? r->cfg->branch : "HEAD";
	uint64_t now;

	if (r->repo)
		return 0;
	/* The refs moved since the answers were read: they describe another history. */
	if (r->state && (now = gc_ref_state(r->real)) != r->state) {
		r->state = now;
		cJSON_Delete(r->answers);
		r->answers = cJSON_CreateObject();
		r->dirty = 1;
	}
	git_libgit2_init();
	if (git_repository_open_ext(&r->repo, r->path, 0, NULL) < 0) {
		r->repo = NULL;
		git_libgit2_shutdown();
		return dd_error_set(err, DD_EGIT, "%s is not a git repository (or cannot be read); check the repos: path in the config or --repo",
		                    r->path);
	}
	if (git_revparse_single(&obj, r->repo, branch) < 0) {
		dd_error_set(err, DD_EGIT, "no branch or commit '%s' in %s; set repos: branch to the deployed branch",
		             branch, r->path);
		goto fail;
	}
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		git_fail(err, "cannot find the commit of", branch);
		goto fail;
	}
	git_oid_cpy(&r->head, git_object_id(peeled));
	git_object_free(peeled);
	git_object_free(obj);
	return 0;
fail:
	git_object_free(obj);
	git_repository_free(r->repo);
	r->repo = NULL;
	git_libgit2_shutdown();
	return DD_EGIT;
}

int gitcorr_open(const struct dd_repo *cfg, struct gitcorr_repo **out, struct dd_error *err)
{
	struct gitcorr_repo *r = dd_xcalloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	r->cfg = cfg;
	r->path = dd_xstrdup(cfg->path);
	r->real = realpath(cfg->path, NULL);
	r->state = r->real ? gc_ref_state(r->real) : 0;
	if (r->state)
		r->cache_file = gc_cache_file_of(r->real, cfg);
	if (!r->cache_file)
		r->state = 0;
	gc_cache_load(r);
	/* Answers for this very state: the repository opened fine when they
	 * were computed, and nothing it depends on has changed since. */
	if (r->state && cJSON_GetArraySize(r->answers) > 0) {
		*out = r;
		return 0;
	}
	if ((rc = gc_open_git(r, err)) < 0) {
		gitcorr_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void gitcorr_close(struct gitcorr_repo *r)
{
	if (!r)
		return;
	gc_cache_save(r);
	cJSON_Delete(r->answers);
	free(r->cache_file);
	if (r->repo) {
		git_repository_free(r->repo);
		git_libgit2_shutdown();
	}
	dd_strv_release(&r->files);
	free(r->path);
	free(r->real);
	free(r);
}

const char *gitcorr_path(const struct gitcorr_repo *r)
{
	return r->path;
}

int64_t gitcorr_deploy_lag_ms(const struct gitcorr_repo *r)
{
	return r->cfg->deploy_lag_s * 1000;
}

void gitcorr_commit_release(struct gitcorr_commit *c)
{
	free(c->summary);
	free(c->author);
	dd_strv_release(&c->files);
	req_changes_free(c->req_changes, c->n_req_changes);
	memset(c, 0, sizeof(*c));
}

void gitcorr_commits_free(struct gitcorr_commit *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gitcorr_commit_release(&c[i]);
	free(c);
}

/* ---- the public questions: the answer cache first, then libgit2 ------------------ */

static cJSON *commit_to_json(const struct gitcorr_commit *c)
{
	cJSON *o = cJSON_CreateObject(), *req = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "id", c->id);
	cJSON_AddStringToObject(o, "summary", c->summary ? c->summary : "");
	cJSON_AddStringToObject(o, "author", c->author ? c->author : "");
	cJSON_AddNumberToObject(o, "time", (double)c->time_ms);
	cJSON_AddItemToObject(o, "files", jsonout_strv(&c->files));
	cJSON_AddBoolToObject(o, "files_truncated", c->files_truncated);
	for (size_t i = 0; i < c->n_req_changes; i++) {
		const struct dd_req_change *ch = &c->req_changes[i];
		cJSON *x = cJSON_CreateArray();

		cJSON_AddItemToArray(x, cJSON_CreateString(ch->package));
		cJSON_AddItemToArray(x, ch->from ? cJSON_CreateString(ch->from) : cJSON_CreateNull());
		cJSON_AddItemToArray(x, ch->to ? cJSON_CreateString(ch->to) : cJSON_CreateNull());
		cJSON_AddItemToArray(x, cJSON_CreateString(ch->file ? ch->file : ""));
		cJSON_AddItemToArray(x, jsonout_strv(&ch->required_by));
		cJSON_AddItemToArray(req, x);
	}
	cJSON_AddItemToObject(o, "requirement_changes", req);
	return o;
}

static char *json_dup(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? dd_xstrdup(v->valuestring) : NULL;
}

static char *item_dup(const cJSON *a, int i)
{
	const cJSON *v = cJSON_GetArrayItem(a, i);

	return cJSON_IsString(v) ? dd_xstrdup(v->valuestring) : NULL;
}

static void commit_from_json(const cJSON *o, struct gitcorr_commit *c)
{
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "files");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(o, "requirement_changes");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *x;

	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", cJSON_IsString(v) ? v->valuestring : "");
	c->summary = json_dup(o, "summary");
	c->author = json_dup(o, "author");
	v = cJSON_GetObjectItemCaseSensitive(o, "time");
	c->time_ms = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	c->files_truncated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "files_truncated"));
	cJSON_ArrayForEach(x, files)
		if (cJSON_IsString(x))
			dd_strv_push(&c->files, x->valuestring);
	if (cJSON_GetArraySize(req) > 0) {
		c->req_changes = dd_xcalloc((size_t)cJSON_GetArraySize(req), sizeof(*c->req_changes));
		cJSON_ArrayForEach(x, req) {
			struct dd_req_change *ch = &c->req_changes[c->n_req_changes];

			ch->package = item_dup(x, 0);
			ch->from = item_dup(x, 1);
			ch->to = item_dup(x, 2);
			ch->file = item_dup(x, 3);
			cJSON_ArrayForEach(v, cJSON_GetArrayItem(x, 4))
				if (cJSON_IsString(v))
					dd_strv_push(&ch->required_by, v->valuestring);
			if (ch->package && ch->file) {
				c->n_req_changes++;
				continue;
			}
			req_change_release(ch);
		}
	}
	if (!c->summary)
		c->summary = dd_xstrdup("");
	if (!c->author)
		c->author = dd_xstrdup("");
}

static void commits_from_json(const cJSON *a, struct gitcorr_commit **out, size_t *n_out)
{
	const cJSON *x;
	size_t n = 0;

	*out = dd_xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(**out));
	cJSON_ArrayForEach(x, a)
		commit_from_json(x, &(*out)[n++]);
	*n_out = n;
}

static cJSON *commits_to_json(const struct gitcorr_commit *c, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, commit_to_json(&c[i]));
	return a;
}

int gitcorr_window(struct gitcorr_repo *r, int64_t from_ms, int64_t to_ms,
                   struct gitcorr_commit **out, size_t *n_out, struct dd_error *err)
{
	char *key = dd_xasprintf("window %lld %lld", (long long)from_ms, (long long)to_ms);
	const cJSON *hit = gc_cache_get(r, key);
	int rc;

	if (cJSON_IsArray(hit)) {
		commits_from_json(hit, out, n_out);
		free(key);
		return 0;
	}
	if ((rc = gc_open_git(r, err)) < 0 || (rc = gc_window_git(r, from_ms, to_ms, out, n_out, err)) < 0) {
		free(key);
		return rc;
	}
	gc_cache_put(r, key, commits_to_json(*out, *n_out));
	free(key);
	return 0;
}

int gitcorr_range(struct gitcorr_repo *r, const char *from_id, const char *to_id,
                  struct gitcorr_commit **out, size_t *n_out, int *off_branch, struct dd_error *err)
{
	char *key = dd_xasprintf("range %s %s", from_id ? from_id : "-", to_id ? to_id : "-");
	const cJSON *hit = gc_cache_get(r, key);
	cJSON *o;
	int rc;

	*out = NULL;
	*n_out = 0;
	*off_branch = 0;
	if (cJSON_IsObject(hit)) {
		const cJSON *nf = cJSON_GetObjectItemCaseSensitive(hit, "not_found");

		free(key);
		if (cJSON_IsString(nf))
			return dd_error_set(err, DD_ENOTFOUND, "%s", nf->valuestring);
		commits_from_json(cJSON_GetObjectItemCaseSensitive(hit, "commits"), out, n_out);
		*off_branch = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hit, "off_branch"));
		return 0;
	}
	if ((rc = gc_open_git(r, err)) < 0) {
		free(key);
		return rc;
	}
	rc = gc_range_git(r, from_id, to_id, out, n_out, off_branch, err);
	if (rc == 0 || rc == DD_ENOTFOUND) {
		o = cJSON_CreateObject();
		if (rc == 0) {
			cJSON_AddItemToObject(o, "commits", commits_to_json(*out, *n_out));
			cJSON_AddBoolToObject(o, "off_branch", *off_branch);
		} else {
			cJSON_AddStringToObject(o, "not_found", err ? err->msg : "not found");
		}
		gc_cache_put(r, key, o);
	}
	free(key);
	return rc;
}

char *gitcorr_map_path(struct gitcorr_repo *r, const char *opath)
{
	char *found, *key;
	const cJSON *hit;

	if (!opath || !*opath)
		return NULL;
	if ((found = gc_configured_map(r, opath)) != NULL)
		return found;
	key = dd_xasprintf("path %s", opath);
	hit = gc_cache_get(r, key);
	if (hit && (cJSON_IsString(hit) || cJSON_IsNull(hit))) {
		free(key);
		return cJSON_IsString(hit) ? dd_xstrdup(hit->valuestring) : NULL;
	}
	if (gc_open_git(r, NULL) < 0) {
		free(key);
		return NULL;
	}
	found = gc_suffix_git(r, opath);
	gc_cache_put(r, key, found ? cJSON_CreateString(found) : cJSON_CreateNull());
	free(key);
	return found;
}

/* A blame answer from the cache: 1 when there was one (its result in *rc). */
static int blame_cached(struct gitcorr_repo *r, const char *key, struct gitcorr_commit *out, int *before_since,
                        int *rc, struct dd_error *err)
{
	const cJSON *hit = gc_cache_get(r, key), *c;

	if (!cJSON_IsObject(hit))
		return 0;
	memset(out, 0, sizeof(*out));
	*before_since = 0;
	c = cJSON_GetObjectItemCaseSensitive(hit, "commit");
	if (!cJSON_IsObject(c)) {
		char *msg = json_dup(hit, "not_found");

		*rc = dd_error_set(err, DD_ENOTFOUND, "%s", msg ? msg : "not found");
		free(msg);
		return 1;
	}
	commit_from_json(c, out);
	*before_since = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hit, "before_since"));
	*rc = 0;
	return 1;
}

static void blame_keep(struct gitcorr_repo *r, const char *key, int rc, const struct gitcorr_commit *out,
                       int before_since, const struct dd_error *err)
{
	cJSON *o;

	if (rc != 0 && rc != DD_ENOTFOUND)
		return;
	o = cJSON_CreateObject();
	if (rc == 0) {
		cJSON_AddItemToObject(o, "commit", commit_to_json(out));
		cJSON_AddBoolToObject(o, "before_since", before_since);
	} else {
		cJSON_AddStringToObject(o, "not_found", err ? err->msg : "not found");
	}
	gc_cache_put(r, key, o);
}

int gitcorr_blame_line(struct gitcorr_repo *r, const char *path, int line, int64_t since_ms,
                       int64_t as_of_ms, struct gitcorr_commit *out, int *before_since,
                       struct dd_error *err)
{
	char *key = dd_xasprintf("blame %s %d %lld %lld", path, line, (long long)since_ms, (long long)as_of_ms);
	int rc;

	if (!blame_cached(r, key, out, before_since, &rc, err)) {
		if ((rc = gc_open_git(r, err)) == 0) {
			rc = gc_blame_git(r, path, line, since_ms, as_of_ms, out, before_since, err);
			blame_keep(r, key, rc, out, *before_since, err);
		}
	}
	free(key);
	return rc;
}

int gitcorr_blame_at(struct gitcorr_repo *r, const char *path, int line, const char *since_id,
                     const char *as_of_id, struct gitcorr_commit *out, int *before_since,
                     struct dd_error *err)
{
	char *key = dd_xasprintf("blame-at %s %d %s %s", path, line, since_id ? since_id : "-", as_of_id);
	int rc;

	if (!blame_cached(r, key, out, before_since, &rc, err)) {
		if ((rc = gc_open_git(r, err)) == 0) {
			rc = gc_blame_at_git(r, path, line, since_id, as_of_id, out, before_since, err);
			blame_keep(r, key, rc, out, *before_since, err);
		}
	}
	free(key);
	return rc;
}

int gitcorr_diff_mentions(struct gitcorr_repo *r, const char *id, const char *path,
                          const char *needle)
{
	char *key;
	const cJSON *hit;
	int found;

	if (!needle || !*needle)
		return 0;
	key = dd_xasprintf("mentions %s %s %s", id, path, needle);
	hit = gc_cache_get(r, key);
	if (cJSON_IsBool(hit)) {
		free(key);
		return cJSON_IsTrue(hit);
	}
	if (gc_open_git(r, NULL) < 0) {
		free(key);
		return 0;
	}
	found = gc_mentions_git(r, id, path, needle);
	gc_cache_put(r, key, cJSON_CreateBool(found));
	free(key);
	return found;
}

int gitcorr_imports(struct gitcorr_repo *r, const char *path, int64_t as_of_ms, struct dd_strv *out,
                    struct dd_error *err)
{
	char *key = dd_xasprintf("imports %s %lld", path, (long long)as_of_ms);
	const cJSON *hit = gc_cache_get(r, key), *x;
	int rc;

	if (cJSON_IsArray(hit)) {
		cJSON_ArrayForEach(x, hit)
			if (cJSON_IsString(x))
				dd_strv_push(out, x->valuestring);
		free(key);
		return 0;
	}
	if ((rc = gc_open_git(r, err)) < 0) {
		free(key);
		return rc;
	}
	{
		struct dd_strv found = DD_STRV_INIT;

		rc = gc_imports_git(r, path, as_of_ms, &found, err);
		if (rc == 0) {
			for (size_t i = 0; i < found.n; i++)
				dd_strv_push(out, found.v[i]);
			gc_cache_put(r, key, jsonout_strv(&found));
		}
		dd_strv_release(&found);
	}
	free(key);
	return rc;
}

static cJSON *req_line_to_json(const struct gitcorr_req_line *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "package", l->package);
	cJSON_AddStringToObject(o, "file", l->file);
	cJSON_AddNumberToObject(o, "line", l->line);
	cJSON_AddStringToObject(o, "text", l->text);
	cJSON_AddStringToObject(o, "version", l->version);
	return o;
}

int gitcorr_requirement_lines(struct gitcorr_repo *r, int64_t as_of_ms, const struct dd_strv *packages,
                              struct gitcorr_req_line **out, size_t *n_out, struct dd_error *err)
{
	struct dd_buf key = DD_BUF_INIT;
	const cJSON *hit, *x;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (!packages->n)
		return 0;
	dd_buf_addf(&key, "reqlines %lld", (long long)as_of_ms);
	for (size_t i = 0; i < packages->n; i++)
		dd_buf_addf(&key, " %s", packages->v[i]);
	hit = gc_cache_get(r, dd_buf_str(&key));
	if (cJSON_IsArray(hit)) {
		size_t n = 0;

		*out = dd_xcalloc((size_t)cJSON_GetArraySize(hit) + 1, sizeof(**out));
		cJSON_ArrayForEach(x, hit) {
			struct gitcorr_req_line *l = &(*out)[n];
			const cJSON *ln = cJSON_GetObjectItemCaseSensitive(x, "line");

			l->package = json_dup(x, "package");
			l->file = json_dup(x, "file");
			l->text = json_dup(x, "text");
			l->version = json_dup(x, "version");
			l->line = cJSON_IsNumber(ln) ? (int)ln->valuedouble : 0;
			if (l->package && l->file && l->text && l->version) {
				n++;
				continue;
			}
			free(l->package);
			free(l->file);
			free(l->text);
			free(l->version);
			memset(l, 0, sizeof(*l));
		}
		*n_out = n;
		dd_buf_release(&key);
		return 0;
	}
	if ((rc = gc_open_git(r, err)) == 0 && (rc = gc_req_lines_git(r, as_of_ms, packages, out, n_out, err)) == 0) {
		cJSON *a = cJSON_CreateArray();

		for (size_t i = 0; i < *n_out; i++)
			cJSON_AddItemToArray(a, req_line_to_json(&(*out)[i]));
		gc_cache_put(r, dd_buf_str(&key), a);
	}
	dd_buf_release(&key);
	return rc;
}

void gitcorr_req_lines_free(struct gitcorr_req_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].package);
		free(v[i].file);
		free(v[i].text);
		free(v[i].version);
	}
	free(v);
}
