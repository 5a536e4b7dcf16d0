/*
 * gitcorr.h - what changed in a pipeline's git repository around the time
 * its failures began (libgit2).
 *
 * A repository is opened from its configuration (struct dd_repo: path,
 * deployed branch, path maps, requirement globs).  gitcorr_window lists
 * the commits of the deployed branch in a time window, newest first, with
 * the files each touched and the exact package versions each moved in the
 * requirement files.  The walk is ordered by commit time and stops as soon
 * as everything left is older than the window (as `git log --since` does),
 * so a recent window costs the same in a 50-commit or a 50,000-commit
 * repository.
 *
 * Answers are cached between runs in $XDG_CACHE_HOME/dagdoc/git-*.json
 * together with the state of the repository's refs (stat(2) of HEAD,
 * packed-refs and refs/), and reused while that state holds, so a warm
 * triage opens no repository at all (libgit2's start-up alone costs more
 * than its answers).  DAGDOC_NO_CACHE=1 turns the cache off.  gitcorr_open
 * therefore checks the repository only when it has no cached answers.
 *
 * Ownership: gitcorr_open allocates the repository handle (gitcorr_close
 * frees it); commit arrays are the caller's (gitcorr_commits_free), and so
 * are requirement lines (gitcorr_req_lines_free); strings returned by
 * gitcorr_map_path are the caller's.
 */
#ifndef DAGDOC_GITCORR_H
#define DAGDOC_GITCORR_H

#include <stdint.h>

#include "dagdoc/config.h"
#include "dagdoc/error.h"
#include "dagdoc/reqparse.h"
#include "dagdoc/util.h"

#define GITCORR_ID_HEX 40

struct gitcorr_commit {
	char id[GITCORR_ID_HEX + 1];
	char *summary;                 /* first line of the message */
	char *author;                  /* "Name <email>" */
	int64_t time_ms;               /* committer time */
	struct dd_strv files;          /* repository paths touched (vs first parent) */
	int files_truncated;           /* more than GITCORR_MAX_FILES were touched */
	struct dd_req_change *req_changes;   /* moved package versions, by file */
	size_t n_req_changes;
};
#define GITCORR_MAX_FILES 500

struct gitcorr_repo;

int gitcorr_open(const struct dd_repo *cfg, struct gitcorr_repo **out, struct dd_error *err);
void gitcorr_close(struct gitcorr_repo *r);
const char *gitcorr_path(const struct gitcorr_repo *r);
int64_t gitcorr_deploy_lag_ms(const struct gitcorr_repo *r);

/* Commits with committer time in [from_ms, to_ms], newest first. */
int gitcorr_window(struct gitcorr_repo *r, int64_t from_ms, int64_t to_ms,
                   struct gitcorr_commit **out, size_t *n_out, struct dd_error *err);
void gitcorr_commits_free(struct gitcorr_commit *c, size_t n);

/* The commits of the deployed history between two commits (the DAG bundle
 * versions an orchestrator reports a good and a bad run ran): those to_id
 * has and from_id has not (`git log from..to`), newest first, filled as by
 * gitcorr_window, at most GITCORR_MAX_RANGE; from_id NULL: to_id and its
 * history up to that many.  Ids may be abbreviated.  DD_ENOTFOUND, with a
 * sentence naming the commit and the repository, when the repository lacks
 * either; *off_branch is set when the deployed branch does not contain
 * to_id (the commits are still read). */
#define GITCORR_MAX_RANGE 1000
int gitcorr_range(struct gitcorr_repo *r, const char *from_id, const char *to_id,
                  struct gitcorr_commit **out, size_t *n_out, int *off_branch, struct dd_error *err);

/* True when path is a requirement file by the repo's globs. */
int gitcorr_is_requirement_file(const struct gitcorr_repo *r, const char *path);

/* The repository path of a file the orchestrator names (Airflow fileloc,
 * a traceback frame, a Prefect entrypoint): the configured maps first,
 * else the longest suffix of it that exists in the deployed tree
 * (/opt/airflow/dags/etl/load.py finds dags/etl/load.py).  NULL if none. */
char *gitcorr_map_path(struct gitcorr_repo *r, const char *orchestrator_path);

/* The commit that last changed line `line` of repository path `path` as
 * the deployed branch stood at as_of_ms (the newest commit not after it).
 * The search stops at since_ms (0: no bound): when the line is older than
 * that, *before_since is set and *out is the last commit before since_ms
 * (so a recent window costs little however long the history).  Fills id,
 * summary, author and time of *out (no files).  DD_ENOTFOUND when the
 * path or line does not exist then. */
int gitcorr_blame_line(struct gitcorr_repo *r, const char *path, int line, int64_t since_ms,
                       int64_t as_of_ms, struct gitcorr_commit *out, int *before_since,
                       struct dd_error *err);

/* gitcorr_blame_line with the history given by commits (a bundle range):
 * the line as commit as_of_id has it, the search stopping at since_id (NULL:
 * no bound; *before_since set when the line is that old). */
int gitcorr_blame_at(struct gitcorr_repo *r, const char *path, int line, const char *since_id,
                     const char *as_of_id, struct gitcorr_commit *out, int *before_since,
                     struct dd_error *err);

/* Whether the change commit `id` made to `path` (vs its first parent)
 * adds or removes a line containing `needle` (case-insensitive). */
int gitcorr_diff_mentions(struct gitcorr_repo *r, const char *id, const char *path,
                          const char *needle);

/* The repository files the Python file `path` (a repository path) imports,
 * and the files they import, three levels deep and 64 files at most, as
 * the deployed branch stood at as_of_ms; appended to out.  Imports are
 * read from the source text (import and from-import statements, relative
 * ones included) and resolved against the file's package, each directory
 * above it and their plugins/ and src/ folders; third-party and standard
 * modules resolve to nothing. */
int gitcorr_imports(struct gitcorr_repo *r, const char *path, int64_t as_of_ms, struct dd_strv *out,
                    struct dd_error *err);

/* The package versions pinned by the repo's requirement files at the
 * newest commit not after as_of_ms (for "pandas 2.0.0 is deployed"). */
int gitcorr_requirements_at(struct gitcorr_repo *r, int64_t as_of_ms, struct dd_reqset *out,
                            struct dd_error *err);

/* Where the deployed requirement files declare a package: every line of a
 * requirement file (by the repo's globs) at the newest commit not after
 * as_of_ms that declares one of `packages` (names normalised or not), in
 * the order of `packages`, then of the files.  A version reqparse does not
 * call exact (reqparse_is_exact) is a loose pin: a rebuild of the image can
 * install another release with no commit at all.  Lines a file declares
 * through an include are the included file's. */
struct gitcorr_req_line {
	char *package;             /* normalised */
	char *file;                /* repository path */
	int line;                  /* 1-based; 0 when the form has no lines (a lock's JSON) */
	char *text;                /* the line as written, blanks around it removed ("" when line is 0) */
	char *version;             /* as reqparse writes it: "" unpinned, ">=2.10,<3", "2.0.0" */
};
int gitcorr_requirement_lines(struct gitcorr_repo *r, int64_t as_of_ms, const struct dd_strv *packages,
                              struct gitcorr_req_line **out, size_t *n_out, struct dd_error *err);
void gitcorr_req_lines_free(struct gitcorr_req_line *v, size_t n);

void gitcorr_commit_release(struct gitcorr_commit *c);

#endif
