/*
 * sync.h - fills the store from one source, incrementally.  `dagdoc sync`,
 * triage and report all call sync_run.
 *
 * What one sync does, for the DAGs named (else every DAG the source lists):
 * it asks for data, not for DAGs, through the connector's fleet operations
 * (connector.h: a few listings for all DAGs, task instances of many runs
 * per request, pages and logs fetched concurrently), so a sync with
 * nothing new costs a few requests per source whatever the number of DAGs.
 *  1. Stores the source, its import errors and a health snapshot (one
 *     transaction).  DAGs named have their definitions (tasks and
 *     dependencies) read first; one the source lacks stops the sync.
 *  2. Lists the runs of all DAGs at once (DAGS_PER_LISTING per listing),
 *     each DAG from its cursor: the oldest run that was unfinished at the
 *     last sync (or the newest run, when all were finished), or `since_ms`
 *     when the window was never covered.  A run already stored in a
 *     finished state and listed in that same state is skipped: no task
 *     instance, try or log requests.
 *  3. Reads the definition of each DAG that is new to the store (or not
 *     stored whole), has new runs, has unfinished runs to fetch again and
 *     a definition older than an hour, or whose pause the listing reports
 *     changed (all at once, each written as it arrives).  A DAG with
 *     nothing new costs nothing.
 *  4. Fetches the task instances and tries of every other run (new,
 *     unfinished, or changed, e.g. cleared), many runs per request, and
 *     writes each run in ONE transaction as it arrives.  A DAG's cursor
 *     moves (one small transaction) once all its runs are in.
 *  5. Fetches the logs of every DAG in one pool, `log_batch` at a time
 *     (one transaction per batch): of failed tries (failed, up_for_retry,
 *     crashed, timed_out) in the window that are not stored yet, and for
 *     each task that failed in the window, the log of its newest
 *     successful try as a baseline when not stored yet, and the log of the
 *     successful try of each task in its newest src->success_logs runs
 *     with one in the window (0: none; a mapped task's lowest map index)
 *     not stored yet, capped at src->success_log_bytes, for quiet failures
 *     (quiet.h), when every run of the DAG was stored whole (so a faulty
 *     sync picks no success a healthy one would not).  A log stored (or
 *     recorded missing) is never asked for again, so a sync with nothing
 *     new makes no log request.  Logs are capped and compressed as each
 *     arrives (memory holds one raw log plus the batch's compressed ones).
 *  Network calls are never made inside a transaction, so the write lock
 *  is held for milliseconds and readers (WAL) are never blocked.
 *
 * Crash safety: a process killed at any point loses at most the open
 * transaction; nothing is ever half-written, and the next sync redoes the
 * lost batch (the cursor only moves after a DAG's runs are all stored).
 *
 * Validate, then store: every object the connector hands on has passed
 * its checks (connector.h); one that fails is reported and counted
 * (stats->rejected, the first message in stats->first_problem) and the
 * run it belongs to is not written at all: no run row, task instance or
 * try of it, so the next sync sees it as new (or unfinished) and fetches
 * it again; a healthy sync after a faulty one leaves the store as a
 * healthy sync alone would.  A run rejected from a listing (where it
 * belongs is unknown) keeps the DAG's cursor where it was.  A part of a
 * DAG's definition that is rejected keeps the stored definition (a new
 * DAG is stored by name only) until one arrives whole.
 *
 * Errors:
 *  - Credentials refused, the store failing, Ctrl-C, or a DAG named that
 *    the source does not have stop the sync: the current batch is rolled
 *    back and the connector's sentence returned.  So does a third network
 *    failure in a row (the server is gone): the runs of one failed request
 *    count once; a run listing counts once for each DAG it covers, so a
 *    listing of three DAGs or more that the network fails stops the sync.
 *  - Any other failure of a request for task instances (network after the
 *    HTTP client's retries, an answer not in the API, a size limit) leaves
 *    the runs it was for out, counted in stats->runs_incomplete, and the
 *    sync goes on; a failed run listing leaves its DAGs out
 *    (stats->dags_failed).  Either is fetched again by the next sync (the
 *    cursor never passes a run left out).
 *  - A log that cannot be fetched, or whose body fails its checks (a
 *    compressed stream cut short, an HTML page, not the JSON asked for)
 *    does not stop the sync: it is counted in stats->logs_failed (first
 *    message in stats->first_log_error) and fetched again by the next
 *    sync.  A log the source does not have (DD_ENOTFOUND) is recorded as
 *    missing and not asked for again (stats->logs_missing).
 *  - sync_run returns 0 in all these cases; `dagdoc sync` exits 2 when
 *    anything was rejected, left out or not fetched (the store is
 *    incomplete).
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
	size_t runs_new;           /* not in the store before (decided in the write transaction) */
	size_t runs_updated;       /* stored but unfinished or changed: fetched again */
	size_t runs_skipped;       /* finished and stored: nothing fetched */
	size_t tis;                /* task instances written */
	size_t tries;              /* tries written */
	size_t logs;               /* logs stored (baselines included) */
	size_t baselines;          /* of which last-success baselines */
	size_t successes;          /* of which successes read for quiet failures */
	uint64_t log_bytes;        /* bytes of the stored logs as delivered */
	size_t logs_missing;       /* the source has no log: recorded, not asked again */
	size_t logs_failed;        /* could not be fetched now: the next sync retries */
	char first_log_error[DD_ERROR_MSG_MAX];
	size_t rejected;           /* objects that failed their checks: not stored */
	size_t runs_incomplete;    /* runs left out (rejected object or failed fetch): fetched again */
	size_t dags_failed;        /* DAGs whose definition or runs could not be read this time */
	char first_problem[DD_ERROR_MSG_MAX];   /* of those three */
	uint64_t requests;         /* connector requests (conn_stats) */
	uint64_t retries;          /* connector retries (conn_stats) */
	uint64_t bytes;            /* bytes the connector received (conn_stats) */
	size_t dags_total;         /* DAGs this sync goes through (known once listed) */
	size_t dags_done;          /* of which their runs are stored (or left for the next sync) */
	size_t runs_to_fetch;      /* listed runs whose task instances are fetched (known once listed) */
	size_t runs_fetched;       /* of which stored */
	size_t logs_planned;       /* logs to fetch (known once the runs are in) */
	size_t logs_done;          /* of which answered (stored, missing or failed) */
};

struct dd_sync_options {
	const char *const *dag_ids;    /* NULL/0: every DAG of the source */
	size_t n_dag_ids;
	int64_t since_ms;              /* window start (logical date) */
	/* Called after each batch and each stored log (may be NULL). */
	void (*progress)(const struct dd_sync_stats *st, void *ud);
	void *progress_ud;
	volatile sig_atomic_t *interrupted;   /* may be NULL */
	size_t log_batch;              /* logs per transaction, 0: 64 */
	/* TEST ONLY (may be NULL): called inside each run batch's transaction,
	 * just before its commit, with the batch number (1-based).  `dagdoc
	 * sync` uses it for DAGDOC_TEST_SLOW_BATCH (see src/cmd/cli_session.c). */
	void (*batch_hook)(size_t batch, void *ud);
	void *batch_hook_ud;
};

int sync_run(struct dd_store *s, struct dd_conn *c, const struct dd_source *src,
             const struct dd_sync_options *opts, struct dd_sync_stats *stats,
             struct dd_error *err);

/* The gaps of a sync (rejected, runs_incomplete, dags_failed,
 * logs_failed and their first messages): added from one stats to
 * another (the first messages kept), and cleared. */
void sync_add_gaps(struct dd_sync_stats *to, const struct dd_sync_stats *from);
void sync_clear_gaps(struct dd_sync_stats *st);
/* Appends one sentence per kind of gap to out: as a warning ("...; the
 * next sync fetches them again") or, with as_error, as what `dagdoc sync`
 * exits 2 with ("...; run sync again to fetch it").  Returns how many
 * kinds of gap there were (0: the store is complete). */
int sync_gap_sentences(const struct dd_sync_stats *st, int as_error, struct dd_strv *out);

#endif
