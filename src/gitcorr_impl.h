/*
 * gitcorr_impl.h - private to git correlation (src/gitcorr.c: opening a
 * repository and the public questions, answered from the cache first;
 * gitcorr_git.c: the libgit2 work; gitcorr_cache.c: answers kept between
 * runs).  gitcorr.h is the public surface.
 */
#ifndef DAGDOC_GITCORR_IMPL_H
#define DAGDOC_GITCORR_IMPL_H

#include <cJSON.h>
#include <git2.h>

#include "dagdoc/gitcorr.h"

/* Commits this many past the window's start are still read, for clocks
 * that disagree (git log --since uses the same slop). */
#define WALK_SLOP 5

struct gitcorr_repo {
	git_repository *repo;       /* NULL until a question the cache cannot answer */
	git_oid head;
	char *path;
	char *real;                 /* realpath of path (the cache's key and state), NULL if none */
	const struct dd_repo *cfg;
	/* the answer cache (see "answers kept between runs" below) */
	uint64_t state;             /* ref_state() when the answers were computed, 0: no cache */
	char *cache_file;           /* NULL: no cache */
	cJSON *answers;             /* key -> answer */
	int dirty;
	struct dd_strv files;       /* every file of the deployed tree, read on first need */
	int files_read;
};

/* "WHAT PATH: libgit2's message" as DD_EGIT. */
int git_fail(struct dd_error *err, const char *what, const char *path);

int gc_blame_git(struct gitcorr_repo *r, const char *path, int line, int64_t since_ms,
                 int64_t as_of_ms, struct gitcorr_commit *out, int *before_since,
                 struct dd_error *err);
int gc_blame_at_git(struct gitcorr_repo *r, const char *path, int line, const char *since_id,
                    const char *as_of_id, struct gitcorr_commit *out, int *before_since,
                    struct dd_error *err);
int gc_range_git(struct gitcorr_repo *r, const char *from_id, const char *to_id,
                 struct gitcorr_commit **out, size_t *n_out, int *off_branch, struct dd_error *err);
int gc_req_lines_git(struct gitcorr_repo *r, int64_t as_of_ms, const struct dd_strv *packages,
                     struct gitcorr_req_line **out, size_t *n_out, struct dd_error *err);
char *gc_cache_file_of(const char *real, const struct dd_repo *cfg);
const cJSON *gc_cache_get(const struct gitcorr_repo *r, const char *key);
void gc_cache_load(struct gitcorr_repo *r);
void gc_cache_put(struct gitcorr_repo *r, const char *key, cJSON *answer);
void gc_cache_save(struct gitcorr_repo *r);
char *gc_configured_map(const struct gitcorr_repo *r, const char *opath);
int gc_imports_git(struct gitcorr_repo *r, const char *path, int64_t as_of_ms, struct dd_strv *out,
                   struct dd_error *err);
int gc_mentions_git(struct gitcorr_repo *r, const char *id, const char *path, const char *needle);
int gc_open_git(struct gitcorr_repo *r, struct dd_error *err);
uint64_t gc_ref_state(const char *path);
char *gc_suffix_git(struct gitcorr_repo *r, const char *opath);
int gc_window_git(struct gitcorr_repo *r, int64_t from_ms, int64_t to_ms,
                  struct gitcorr_commit **out, size_t *n_out, struct dd_error *err);

#endif
