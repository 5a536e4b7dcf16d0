/*
 * gitcorr_cache.c - answers kept between runs, keyed by the state of the repository's
 * refs (see below).
 */
#include "dagdoc/util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gitcorr_impl.h"

/* ---- answers kept between runs -------------------------------------------------
 * Starting libgit2 costs more than a warm triage's whole git work (Debian's
 * build parses the system CA bundle in git_libgit2_init, ~14 ms), and the
 * answers only change when the deployed history does.  So every answer
 * (a window's commits, a mapped path, a blame, a diff search, a module's
 * imports) is kept in $XDG_CACHE_HOME/dagdoc/git-<repo key>.json with the
 * state of the repository's refs, and reused while that state holds: the
 * next triage with nothing new opens no repository at all.
 *
 * The state is read with stat(2) only: HEAD, packed-refs, shallow,
 * info/grafts and every file and directory under refs/ (name, inode, size,
 * mtime).  Git replaces a ref file by rename on every commit, fetch, pull,
 * checkout, reset and gc, so any of them changes the state.  A repository
 * whose .git is a file (worktree, submodule) is not cached. */

#define CACHE_FORMAT "2"   /* 2: requirement changes carry required_by; ranges, requirement lines */
#define CACHE_MAX_ANSWERS 20000
#define CACHE_MAX_AGE_DAYS 30

static uint64_t hash_str(uint64_t h, const char *s)
{
	return dd_fnv1a(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

static uint64_t hash_stat(uint64_t h, const char *path)
{
	struct stat st;
	int64_t v[4] = { 0, 0, 0, 0 };

	if (stat(path, &st) == 0) {
		v[0] = (int64_t)st.st_ino;
		v[1] = (int64_t)st.st_size;
		v[2] = (int64_t)st.st_mtim.tv_sec;
		v[3] = (int64_t)st.st_mtim.tv_nsec;
	}
	h = hash_str(h, path);
	return dd_fnv1a(h, v, sizeof(v));
}

static uint64_t hash_tree(uint64_t h, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;

	h = hash_stat(h, dir);
	if (depth > 16 || !(d = opendir(dir)))
		return h;
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		p = dd_xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			h = hash_tree(h, p, depth + 1);
		else
			h = hash_stat(h, p);
		free(p);
	}
	closedir(d);
	return h;
}

/* The state of the refs of the repository at path (see above); 0 when its
 * layout is not a plain .git directory or a bare repository. */
uint64_t gc_ref_state(const char *path)
{
	static const char *const files[] = { "HEAD", "packed-refs", "shallow", "info/grafts" };
	struct stat st;
	char *gitdir = dd_xasprintf("%s/.git", path);
	uint64_t h = DD_FNV_INIT;

	if (stat(gitdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		char *head = dd_xasprintf("%s/HEAD", path), *refs = dd_xasprintf("%s/refs", path);
		int bare = stat(head, &st) == 0 && stat(refs, &st) == 0 && S_ISDIR(st.st_mode);

		free(head);
		free(refs);
		free(gitdir);
		if (!bare)
			return 0;
		gitdir = dd_xstrdup(path);
	}
	for (size_t i = 0; i < DD_ARRAY_SIZE(files); i++) {
		char *f = dd_xasprintf("%s/%s", gitdir, files[i]);

		h = hash_stat(h, f);
		free(f);
	}
	{
		char *refs = dd_xasprintf("%s/refs", gitdir);

		h = hash_tree(h, refs, 0);
		free(refs);
	}
	free(gitdir);
	return h ? h : 1;
}

/* The cache file of a repository as configured (path, branch, maps, globs). */
char *gc_cache_file_of(const char *real, const struct dd_repo *cfg)
{
	uint64_t h = hash_str(DD_FNV_INIT, DD_VERSION "/" CACHE_FORMAT);
	char name[40];

	h = hash_str(h, real);
	h = hash_str(h, cfg->branch);
	for (size_t i = 0; i < cfg->n_maps; i++) {
		h = hash_str(h, cfg->maps[i].from);
		h = hash_str(h, cfg->maps[i].to);
	}
	for (size_t i = 0; i < cfg->requirement_globs.n; i++)
		h = hash_str(h, cfg->requirement_globs.v[i]);
	snprintf(name, sizeof(name), "git-%016llx.json", (unsigned long long)h);
	return dd_cache_path(name);
}

void gc_cache_load(struct gitcorr_repo *r)
{
	struct dd_buf b = DD_BUF_INIT;
	cJSON *doc = NULL, *answers;
	char state[20];

	r->answers = NULL;
	snprintf(state, sizeof(state), "%016llx", (unsigned long long)r->state);
	if (r->cache_file && dd_read_file(r->cache_file, 64u << 20, &b, NULL) == 0 &&
	    (doc = cJSON_ParseWithLength(b.data ? b.data : "", b.len)) != NULL &&
	    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "state")) &&
	    !strcmp(cJSON_GetObjectItemCaseSensitive(doc, "state")->valuestring, state) &&
	    cJSON_IsObject(answers = cJSON_GetObjectItemCaseSensitive(doc, "answers")))
		r->answers = cJSON_DetachItemViaPointer(doc, answers);
	cJSON_Delete(doc);
	dd_buf_release(&b);
	if (!r->answers)
		r->answers = cJSON_CreateObject();
}

/* Drops the answers of repositories not triaged for CACHE_MAX_AGE_DAYS. */
static void cache_prune(const char *kept)
{
	char *dir = dd_xstrdup(kept), *slash = strrchr(dir, '/');
	DIR *d;
	struct dirent *de;
	time_t now = time(NULL);

	if (!slash || (*slash = '\0', !(d = opendir(dir)))) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (!dd_starts_with(de->d_name, "git-") || !dd_ends_with(de->d_name, ".json"))
			continue;
		p = dd_xasprintf("%s/%s", dir, de->d_name);
		if (stat(p, &st) == 0 && now - st.st_mtime > CACHE_MAX_AGE_DAYS * 86400L)
			unlink(p);
		free(p);
	}
	closedir(d);
	free(dir);
}

void gc_cache_save(struct gitcorr_repo *r)
{
	cJSON *doc;
	char state[20], *text;

	if (!r->cache_file || !r->dirty || !r->state)
		return;
	snprintf(state, sizeof(state), "%016llx", (unsigned long long)r->state);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "state", state);
	cJSON_AddItemReferenceToObject(doc, "answers", r->answers);
	text = cJSON_PrintUnformatted(doc);
	if (text && dd_write_file_atomic(r->cache_file, text, strlen(text), DD_WRITE_MKDIR, NULL) == 0)   /* best effort */
		cache_prune(r->cache_file);
	free(text);
	cJSON_Delete(doc);
}

const cJSON *gc_cache_get(const struct gitcorr_repo *r, const char *key)
{
	return r->answers ? cJSON_GetObjectItemCaseSensitive(r->answers, key) : NULL;
}

void gc_cache_put(struct gitcorr_repo *r, const char *key, cJSON *answer)
{
	if (!r->answers || !r->state) {
		cJSON_Delete(answer);
		return;
	}
	if (cJSON_GetArraySize(r->answers) >= CACHE_MAX_ANSWERS) {
		cJSON_Delete(r->answers);
		r->answers = cJSON_CreateObject();
	}
	cJSON_DeleteItemFromObjectCaseSensitive(r->answers, key);
	cJSON_AddItemToObject(r->answers, key, answer);
	r->dirty = 1;
}

/* Opens the repository with libgit2 (once). */
