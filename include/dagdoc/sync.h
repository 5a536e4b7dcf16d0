/*
 * sync.h - fills the store from one source, incrementally.  `dagdoc sync`,
 * triage and report all call sync_run.
 *
 * What one sync does, for each DAG (all DAGs of the source when none are
 * named):
 *  1. Refreshes the DAG (tasks and dependencies), the source's import
 *     errors and a health snapshot: one transaction.
 *  2. Lists runs from a cursor: the oldest run that was unfinished at the
 *     last sync (or the newest run, when all were finished), or `since_ms`
 *     when the window was never covered.  A run already stored in a
 *     finished state and listed in that same state is skipped: no task
 *     instance, try or log requests.  Every other run (new, unfinished,
 *     or changed, e.g. cleared) gets its task instances and tries fetched,
 *     then written in ONE transaction per run.
 *  3. Fetches the logs of failed tries (failed, up_for_retry, crashed,
 *     timed_out) in the window that are not stored yet, and for each task
 *     that failed in the window, the log of its newest successful try as a
 *     baseline when not stored yet.  Logs are fetched concurrently by the
 *     connector, `log_batch` at a time, capped and compressed as each
 *     arrives (memory holds one raw log plus the batch's compressed ones),
 *     then written in one transaction per batch.
 *  Network calls are never made inside a transaction, so the write lock
 *  is held for milliseconds and readers (WAL) are never blocked.
 *  4. Moves the DAG's cursor (one small transaction).
 *
 * Crash safety: a process killed at any point loses at most the open
 * transaction; nothing is ever half-written, and the next sync redoes the
 * lost batch (the cursor only moves after a DAG's runs are all stored).
 *
 * Errors:
 *  - A permanent connector error (auth, no such DAG, protocol) or a
 *    network error after the connector's retries stops the sync: the
 *    current batch is rolled back and the connector's sentence returned.
 *  - A log that cannot be fetched (transient) does not stop the sync: it
 *    is counted in stats->logs_failed (first message in
 *    stats->first_log_error) and fetched again by the next sync.  A log
 *    the source does not have (DD_ENOTFOUND) is recorded as missing and
 *    not asked for again (stats->logs_missing).  sync_run returns 0 in
 *    both cases; `dagdoc sync` exits 2 when logs_failed > 0.
 *  - When *interrupted becomes non-zero (SIGINT/SIGTERM handler), the sync
 *    stops after the current batch commits and returns DD_EINTR
 *    "interrupted; run the same command again to finish".
 *
 * Ownership: options and their strings are only read; stats is filled.
 */
#ifndef DAGDOC_SYNC_H
#define DAGDOC_SYNC_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "dagdoc/config.h"
#include "dagdoc/connector.h"
#include "dagdoc/error.h"
#include "dagdoc/store.h"

struct dd_sync_stats {
	size_t dags;
	size_t runs_listed;        /* runs the source listed from the cursor */
	size_t runs_in_window;     /* stored runs of the synced DAGs since since_ms */
	size_t runs_new;           /* not in the store before */
	size_t runs_updated;       /* stored but unfinished or changed: fetched again */
	size_t runs_skipped;       /* finished and stored: nothing fetched */
	size_t tis;                /* task instances written */
	size_t tries;              /* tries written */
	size_t logs;               /* logs stored (baselines included) */
	size_t baselines;          /* of which last-success baselines */
	uint64_t log_bytes;        /* bytes of the stored logs as delivered */
	size_t logs_missing;       /* the source has no log: recorded, not asked again */
	size_t logs_failed;        /* could not be fetched now: the next sync retries */
	char first_log_error[DD_ERROR_MSG_MAX];
	uint64_t requests;         /* connector requests (conn_stats) */
	uint64_t retries;          /* connector retries (conn_stats) */
	const char *current_dag;   /* for progress lines; valid during the callback */
};

struct dd_sync_options {
	const char *const *dag_ids;    /* NULL/0: every DAG of the source */
	size_t n_dag_ids;
	int64_t since_ms;              /* window start (logical date) */
	/* Called after each batch and each stored log (may be NULL). */
	void (*progress)(const struct dd_sync_stats *st, void *ud);
	void *progress_ud;
	volatile sig_atomic_t *interrupted;   /* may be NULL */
	size_t log_batch;              /* logs per transaction, 0: 16 */
	/* TEST ONLY (may be NULL): called inside each run batch's transaction,
	 * just before its commit, with the batch number (1-based).  `dagdoc
	 * sync` uses it for DAGDOC_TEST_SLOW_BATCH (see src/cmd_sync.c). */
	void (*batch_hook)(size_t batch, void *ud);
	void *batch_hook_ud;
};

int sync_run(struct dd_store *s, struct dd_conn *c, const struct dd_source *src,
             const struct dd_sync_options *opts, struct dd_sync_stats *stats,
             struct dd_error *err);

#endif
