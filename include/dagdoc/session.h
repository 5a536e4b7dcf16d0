/*
 * session.h - the pipeline every diagnosing command goes through.
 *
 * A session holds what `triage`, `runbook`, `report` and `sync` share:
 * the configuration, the store, the pattern library and the git
 * repositories.  Its steps are the only way those commands reach the
 * stages below them, so they cannot drift apart:
 *
 *   session_sync         one source into the store (sync.h)
 *   session_sync_sources several sources at once, a thread each
 *   session_find_dag     the DAG a command names: sync it (unless
 *                        offline), then look it up in the store
 *   session_triage       triage.h's diagnosis, then (unless offline) the
 *                        upstream DAGs its sensors wait on are synced and
 *                        the DAG is looked at again with their history;
 *                        the verdicts engineers established (the store's
 *                        `established`, and s->evidence pasted now) are
 *                        weighed, and the new ones recorded with the local
 *                        user and the time
 *   session_report       every source synced, the DAGs of the period
 *                        chosen, each one through session_triage, the
 *                        report finished against its history (report.h)
 *
 *   command ──> session ──> sync ──> connector ──> http
 *                  │    └─> triage ──> analyze ──> classify / store
 *                  │                └─> rank ──> gitcorr
 *                  └─> report (model; renderers read it only)
 *
 * Nothing here prints.  A step returns 0 or a negative DD_E* code with
 * err filled; what the user should hear that is not an error (a
 * repository that cannot be read, a source that could not be reached
 * while the store still answers, a sync that left gaps) is appended to
 * s->notes, one sentence each, for the command to show.  Hooks let a
 * command draw a progress line and catch Ctrl-C during a sync.
 *
 * Ownership: session_open borrows cfg (keep it alive until
 * session_close) and owns the store, the pattern library and the
 * repositories it opens; session_close releases them.  The sources
 * returned by session_find_dag point into cfg.
 */
#ifndef DAGDOC_SESSION_H
#define DAGDOC_SESSION_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "dagdoc/config.h"
#include "dagdoc/error.h"
#include "dagdoc/report.h"
#include "dagdoc/sync.h"
#include "dagdoc/triage.h"

struct pat_library;
struct gitcorr_repo;
struct ev_set;

/* What a command lends the session's syncs (every member may be 0). */
struct session_hooks {
	/* After each batch and stored log; `source` is the source's name. */
	void (*progress)(const char *source, const struct dd_sync_stats *st, void *ud);
	/* Around each sync: on = 1 before it starts, 0 after it ends (a
	 * command installs its Ctrl-C handler and clears its progress line). */
	void (*sync_guard)(int on, void *ud);
	/* A longer step that is not a sync starts (what it is, one line) or
	 * ends (NULL): the git correlation of a triage. */
	void (*step)(const char *what, void *ud);
	void *ud;
	volatile sig_atomic_t *interrupted;   /* set by the command's signal handler */
	int verbose;                          /* connector traces */
	/* TEST ONLY: see struct dd_sync_options.batch_hook. */
	void (*batch_hook)(size_t batch, void *ud);
	void *batch_hook_ud;
};

struct dd_session {
	struct dd_config *cfg;           /* borrowed */
	struct dd_store *store;          /* owned */
	int offline;                     /* no network: read the store only */
	struct pat_library *lib;         /* owned; session_library loads it (a command that
	                                  * loaded one already may hand it over here) */
	struct dd_strv lib_problems;     /* what kept the library from loading */
	struct gitcorr_repo **repos;     /* owned; session_repos opens them */
	size_t n_repos;
	int repos_opened;
	struct session_hooks hooks;
	struct dd_strv synced;           /* "SOURCE\tDAG" (DAG "*": all) synced in this session */
	struct dd_strv notes;            /* for the command to show; it may clear them */
	const struct ev_set *evidence;   /* borrowed: outputs pasted for session_triage (evidence.h), or NULL */
};

/*
 * Opens the store at store_path for a session over cfg.  Offline (nothing
 * will be synced), a store this user may not write is opened read-only.
 */
int session_open(struct dd_session *s, struct dd_config *cfg, const char *store_path, int offline,
                 struct dd_error *err);
void session_close(struct dd_session *s);

/* Loads the pattern library (built-ins + the config's pattern dirs) once.
 * DD_EPATTERN with s->lib_problems holding every problem, one per line. */
int session_library(struct dd_session *s, struct dd_error *err);

/* Opens the configured repositories once; one that cannot be read is a
 * note.  Returns how many are open. */
size_t session_repos(struct dd_session *s);

/*
 * Syncs dag_ids (n 0: every DAG) of src since now - since_s.  With
 * SESSION_SYNC_EACH the named DAGs are synced one at a time and one the
 * source does not have is skipped (a report reads several sources);
 * stats then count what all of them left out.  A DAG synced once in the
 * session is not synced again for its upstream (session_triage).  describe (may be NULL,
 * >= 256 bytes) receives conn_describe().  Gaps (sync.h) are in stats,
 * not notes: sync_gap_sentences says them.
 */
enum { SESSION_SYNC_EACH = 1 };
int session_sync(struct dd_session *s, const struct dd_source *src, const char *const *dag_ids, size_t n,
                 int64_t since_s, unsigned flags, struct dd_sync_stats *stats, char *describe,
                 struct dd_error *err);

/*
 * Several sources at once, each in a thread of its own with its own
 * connection and store handle (the sources' requests overlap; each keeps
 * its own concurrency).  Each v[i].src is synced as session_sync would
 * (flags and dag_ids the same for all); its outcome goes to v[i]: rc, err,
 * stats, describe.  One source failing does not stop the others.  Returns
 * DD_EINTR when the sync was interrupted (what each stored is kept), else 0.
 * The progress hook is called from those threads, one call at a time.
 */
struct session_source_sync {
	const struct dd_source *src;     /* set by the caller */
	int rc;
	struct dd_error err;
	struct dd_sync_stats stats;
	char describe[256];
};
int session_sync_sources(struct dd_session *s, struct session_source_sync *v, size_t n, const char *const *dag_ids,
                         size_t n_dags, int64_t since_s, unsigned flags);

/*
 * The DAG (or Prefect flow) named dag_id: unless offline, the source
 * (source_name, else the first configured) is synced for it; then it is
 * looked up in the store.  Offline without a source name, *src is the
 * configured source the stored DAG came from, or NULL.  Returns 0, a
 * negative DD_E* code when the source or its sync failed, or 1 with err
 * set (DD_ENOTFOUND) when the store has no such DAG: the message offers
 * the closest stored name.  A sync's gaps become notes.
 */
int session_find_dag(struct dd_session *s, const char *source_name, const char *dag_id, int64_t since_s,
                     const struct dd_source **src, int64_t *dag_ref, struct dd_error *err);

/* How many DAGs the store holds (0 for a store nothing was synced into). */
size_t session_stored_dags(struct dd_session *s);
/* The ids of the DAGs the store holds, of one source (NULL: every source;
 * one the store does not know: none), appended to out once each, by source
 * then id.  The caller owns out. */
int session_dag_ids(struct dd_session *s, const char *source, struct dd_strv *out, struct dd_error *err);

/* The diagnosis of one DAG over since_s (triage.h), with the upstream
 * DAGs of its sensors synced first when online and src is known.  Every
 * verdict the store holds for its failures is weighed, and so are the
 * outputs of s->evidence; the verdicts those give are recorded in the
 * store (with $USER and now), unless it is read-only (then a note says
 * so). */
int session_triage(struct dd_session *s, const struct dd_source *src, int64_t dag_ref, int64_t since_s,
                   struct triage_result *t, struct dd_error *err);

/* What a report covers. */
struct session_report_scope {
	int64_t since_s;                 /* the period */
	const char *since_label;         /* as given: "24h" */
	int64_t history_s;               /* how far back each triage looks (>= since_s) */
	const struct dd_strv *sources;   /* configured source names to read; empty: all */
	const struct dd_strv *dags;      /* DAG ids to report; empty: every DAG that ran */
	int record;                      /* record the report's failures in the store */
};

struct session_report_outcome {
	size_t sources_tried, sources_failed;   /* syncs attempted / failed */
	size_t dags_missing;                    /* DAGs named that no source has */
	size_t dags_failed;                     /* DAGs that could not be triaged */
};

/*
 * Builds the report: each source synced (one that cannot be read is
 * named in the report and in the notes; its DAGs come from the store),
 * the DAGs chosen, each triaged with session_triage, and report_finish
 * run against the store's report history.  A read-only store does not
 * record (a note says so).  Returns DD_EINTR after Ctrl-C, a store error,
 * or 0 with *out telling what went wrong along the way.
 */
int session_report(struct dd_session *s, const struct session_report_scope *scope, struct report *r,
                   struct session_report_outcome *out, struct dd_error *err);

#endif
