/*
 * store.h - the store: the only way the rest of dagdoc touches a database.
 *
 * Where it is: a file path (SQLite, the default: $XDG_STATE_HOME/dagdoc/
 * dagdoc.db or --store FILE) or a PostgreSQL URL (postgresql://... or
 * postgres://..., a libpq connection URI: a team's shared store).  Both
 * backends hold the same schema and answer every function below the same
 * way; the private layer src/store_db.c keeps what differs between them.
 *
 * SQLite: WAL mode, busy_timeout 5000 ms, foreign_keys ON, synchronous
 * NORMAL; the schema version is PRAGMA user_version and every dagdoc store
 * has PRAGMA application_id "dagd" (an empty file is taken as new).  A
 * file SQLite cannot read is "damaged" when it has SQLite's header or
 * dagdoc's application id, else "not a dagdoc store".
 * PostgreSQL: the table dagdoc_meta (key, value) names the application
 * ("application" = "dagdoc") and the schema ("schema_version"); an empty
 * database is initialised, one holding other tables but no dagdoc_meta is
 * refused ("not a dagdoc store").  The password: the URL's, else
 * store_opts.password (the configuration's store_password_env), else
 * libpq's own (PGPASSWORD, PGSERVICE, ~/.pgpass).  Every password is
 * registered with secrets.h and every message names the store redacted
 * (store_redact: user@host:port/db, no password).
 *
 * The schema is versioned (STORE_SCHEMA_VERSION); opening applies the
 * missing forward migrations in order, each in one transaction that also
 * bumps the version, one process at a time.  A store written by a newer
 * dagdoc is refused (DD_ESTORE), and so is another application's database.
 * Schema: 1 = core tables; 2 = report_history + classifications by
 * fingerprint; 3 = sources' UI; 4 = run_versions (what each run ran);
 * 5 = established (verdicts engineers reached with triage --evidence).
 * Migration steps live in src/store.c, append only, one list for both
 * backends.
 * Every text bound into a statement and every log stored has the
 * registered credentials masked (secrets.h): what a server echoes back
 * never reaches the store.
 * Every statement is prepared once (cached in the store) with bound
 * parameters.
 *
 * Rows are addressed by refs: int64 row ids handed out by the *_put and
 * lookup functions (a source ref, a DAG ref, a run ref, a task-instance
 * ref, a try ref).  Refs stay valid for the life of the store (and
 * store_copy keeps them).
 *
 * Transactions: store_begin/store_commit/store_rollback wrap a batch of
 * writes (SQLite: BEGIN IMMEDIATE).  Outside of them every write commits on
 * its own.  A process killed inside a transaction loses that transaction
 * only.  Every put is an upsert on its natural key, so several dagdoc
 * processes writing one PostgreSQL store at once lose and duplicate no row.
 * A deadlock or serialization failure there (SQLSTATE 40P01, 40001) of a
 * single write outside a transaction is retried inside the store; inside a
 * transaction the failing put or store_commit returns DD_EBUSY after
 * rolling the transaction back: the caller may redo the whole transaction
 * (sync does, up to 3 times).
 *
 * Ownership:
 *  - store_open allocates the store; store_close frees it (NULL is fine).
 *  - Structs passed to iteration callbacks (dd_store_run, dd_store_ti,
 *    dd_store_try, ...) are owned by the store and valid only during the
 *    call: copy what you keep.  A callback returning non-zero stops the
 *    iteration and that value is returned.
 *  - *_get functions fill caller-provided structs whose string fields are
 *    then owned by the caller: free them with the matching *_release
 *    (model.h releases for dd_run/dd_dag/..., store_*_release below).
 *  - Input structs and strings are only read, never kept.
 *  - store_path and store_shown return the store's own strings.
 *
 * Errors: 0 or a negative DD_E* code with err filled; DD_ENOTFOUND when a
 * looked-up row does not exist; DD_ESTORE for database failures, naming the
 * store (redacted) and what to do; DD_EBUSY as above and for a sync lock
 * held by another process.
 */
#ifndef DAGDOC_STORE_H
#define DAGDOC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/connector.h"
#include "dagdoc/error.h"
#include "dagdoc/model.h"
#include "dagdoc/util.h"

/* The schema version this binary writes. */
#define STORE_SCHEMA_VERSION 5

/* Logs longer than the cap keep their first STORE_LOG_HEAD_BYTES and their
 * tail (the failure is at the end) around a one-line marker. */
#define STORE_LOG_HEAD_BYTES 65536
#define STORE_LOG_DEFAULT_MAX ((size_t)16 << 20)

struct dd_store;

/* Opens `where` (a path or a PostgreSQL URL; a file is created, mode 0600,
 * with its parent directories when missing) and migrates.  A corrupt or non-SQLite file, another
 * application's database, or one from a newer dagdoc is DD_ESTORE with a
 * sentence naming the path and what to do. */
int store_open(const char *path, struct dd_store **out, struct dd_error *err);
void store_close(struct dd_store *s);
/* Opens an existing store to read it only: nothing is created, migrated
 * or written (a store in WAL mode in a directory that cannot be written is
 * read as immutable).  One of another schema version is refused.  Writes
 * then fail with DD_ESTORE, except store_classification_put, a cache,
 * which keeps nothing.  For --offline commands on a store they cannot
 * write. */
int store_open_readonly(const char *path, struct dd_store **out, struct dd_error *err);
/* How to open: store_open_with takes both (NULL: store_open's defaults). */
struct store_opts {
	const char *password;   /* PostgreSQL, when the URL has none; NULL: libpq's own */
	int readonly;           /* as store_open_readonly */
};
int store_open_with(const char *where, const struct store_opts *o, struct dd_store **out,
                    struct dd_error *err);
int store_readonly(const struct dd_store *s);
/* Where the store is, as given (a URL may hold a password: never print it). */
const char *store_path(const struct dd_store *s);
/* Where the store is, as messages show it (store_redact). */
const char *store_shown(const struct dd_store *s);
int store_is_postgres(const struct dd_store *s);
/* Is `where` a PostgreSQL URL (postgresql://, postgres://)? */
int store_is_url(const char *where);
/* Registers the password of a store URL (if it holds one) with secrets.h. */
void store_register_password(const char *where);
/* A store location for people: a URL as scheme://user@host:port/db (no
 * password, no parameters), a path as is.  Caller frees. */
char *store_redact(const char *where);
int store_schema_version(struct dd_store *s);

/* Test and tooling hook: creates or migrates the store at `path` (a file
 * or a URL) only up to schema `version` (1..STORE_SCHEMA_VERSION) and
 * closes it, so tests can build an older store and watch store_open
 * migrate it. */
int store_migrate_to(const char *path, int version, struct dd_error *err);

int store_begin(struct dd_store *s, struct dd_error *err);
int store_commit(struct dd_store *s, struct dd_error *err);
void store_rollback(struct dd_store *s);   /* no-op outside a transaction */
int store_in_transaction(const struct dd_store *s);

/* One sync per source at a time, across processes: DD_EBUSY ("another
 * dagdoc is syncing source NAME on this store; ...") while another holds
 * it.  PostgreSQL: a session advisory lock keyed by a hash of the name.
 * SQLite: an open-file-description lock on one byte (at a hash of the
 * name) of the companion file <store>.lock (mode 0600), so sources lock
 * independently.  Both go when the process dies (on PostgreSQL when the
 * server notices, a moment later: a held lock is tried again for up to
 * 3 s before DD_EBUSY).  Unlock when done. */
int store_sync_lock(struct dd_store *s, const char *source_name, struct dd_error *err);
void store_sync_unlock(struct dd_store *s, const char *source_name);

/* After a write of many rows (a first sync, a copy): the database
 * re-reads what its tables hold, so that the next queries are planned
 * for it.  PostgreSQL: ANALYZE of the history tables (autovacuum would,
 * but a minute later: a report right after a first sync ran twice as
 * long without it).  SQLite: nothing (its plans follow its indexes). */
int store_refresh_statistics(struct dd_store *s, struct dd_error *err);

/* Copies every table of `from` into `to`, which must hold no rows
 * (DD_EEXIST otherwise), in one transaction, keeping every id; then moves
 * `to`'s id sequences past them and refreshes its statistics.  cb (may
 * be NULL) hears each table's row count (before the commit). */
typedef void (*store_copy_cb)(const char *table, int64_t rows, void *ud);
int store_copy(struct dd_store *from, struct dd_store *to, store_copy_cb cb, void *ud, struct dd_error *err);

/* ---- sources ------------------------------------------------------------ */

/* Inserts or updates by name. */
int store_source_put(struct dd_store *s, const char *name, const char *kind,
                     const char *description, int64_t *source_ref, struct dd_error *err);
int store_source_ref(struct dd_store *s, const char *name, int64_t *source_ref,
                     struct dd_error *err);
int store_source_set_synced(struct dd_store *s, int64_t source_ref, int64_t when_ms,
                            struct dd_error *err);
/* The source's UI as the connector learnt it at sync (connector.h, struct
 * dd_ui): its link form and base URL; "" or NULL stores none. */
int store_source_set_ui(struct dd_store *s, int64_t source_ref, const char *form, const char *base,
                        struct dd_error *err);
/* Reads them back (NULL each when never stored); caller frees both. */
int store_source_ui(struct dd_store *s, int64_t source_ref, char **form, char **base, struct dd_error *err);


/* ---- DAGs, tasks, dependencies --------------------------------------- */

/* Inserts or updates the DAG by (source, dag_id) and replaces its tasks
 * and dependencies with dag->tasks (when dag->n_tasks > 0; a DAG given
 * without tasks keeps the stored ones). */
int store_dag_put(struct dd_store *s, int64_t source_ref, const struct dd_dag *dag,
                  int64_t *dag_ref, struct dd_error *err);
/* Looks up a DAG; source_name NULL matches any source (the first by name). */
int store_dag_ref(struct dd_store *s, const char *source_name, const char *dag_id,
                  int64_t *dag_ref, struct dd_error *err);
/* Fills out with the DAG, its tasks (ordered by task_id) and each task's
 * downstream ids.  Caller releases with dd_dag_release. */
int store_dag_get(struct dd_store *s, int64_t dag_ref, struct dd_dag *out, struct dd_error *err);

struct dd_store_dag {
	int64_t ref;
	int64_t source_ref;
	const char *source_name;
	const char *source_kind;    /* "airflow", "prefect", "logs" */
	const char *dag_id;
	const char *fileloc;
	int is_paused;
	int64_t n_runs;
	int64_t last_logical_ms;    /* newest run, 0 when none */
};
typedef int (*store_dag_cb)(const struct dd_store_dag *d, void *ud);
/* DAGs of one source (source_ref 0: all sources), by source then dag_id. */
int store_dags(struct dd_store *s, int64_t source_ref, store_dag_cb cb, void *ud,
               struct dd_error *err);

/* ---- runs, task instances, tries --------------------------------------- */

struct dd_store_run {
	int64_t ref;
	int64_t dag_ref;
	struct dd_run run;
};
struct dd_store_ti {
	int64_t ref;
	int64_t run_ref;
	struct dd_task_instance ti;     /* ti.run_id is filled */
};
struct dd_store_try {
	int64_t ref;
	int64_t ti_ref;
	int64_t run_ref;
	struct dd_try t;                /* t.run_id, t.task_id, t.map_index filled */
	int64_t logical_ms;             /* of its run */
	const char *ti_external_id;     /* Prefect task run id, NULL for Airflow */
	int has_log;                    /* a log (or a "missing" marker) is stored */
	int log_missing;                /* the source had no log for it */
	int64_t log_size;               /* original bytes, 0 when none */
	int log_truncated;
};
typedef int (*store_run_cb)(const struct dd_store_run *r, void *ud);
typedef int (*store_ti_cb)(const struct dd_store_ti *ti, void *ud);
typedef int (*store_try_cb)(const struct dd_store_try *t, void *ud);

/* Upserts by (dag, run_id) / (run, task_id, map_index) / (ti, try_number). */
int store_run_put(struct dd_store *s, int64_t dag_ref, const struct dd_run *run,
                  int64_t *run_ref, struct dd_error *err);
int store_ti_put(struct dd_store *s, int64_t run_ref, const struct dd_task_instance *ti,
                 int64_t *ti_ref, struct dd_error *err);
/* A run's task instances and the tries of each, in a few statements of
 * many rows (a PostgreSQL store answers each statement over the network):
 * the same upserts as store_ti_put and store_try_put one after another,
 * so of rows with the same key the last given is kept. */
struct store_ti_rows {
	const struct dd_task_instance *ti;
	const struct dd_try *tries;
	size_t n_tries;
};
int store_tis_put(struct dd_store *s, int64_t run_ref, const struct store_ti_rows *rows, size_t n,
                  struct dd_error *err);
int store_try_put(struct dd_store *s, int64_t ti_ref, const struct dd_try *t,
                  int64_t *try_ref, struct dd_error *err);

/* One run by id; caller releases out->run with dd_run_release. */
int store_run_get(struct dd_store *s, int64_t dag_ref, const char *run_id,
                  struct dd_store_run *out, struct dd_error *err);
/* Runs of a DAG whose logical date is in [from_ms, to_ms) (to_ms 0: no
 * upper bound), oldest first. */
int store_runs(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
               store_run_cb cb, void *ud, struct dd_error *err);
/* What a run ran, as the orchestrator reports it: the DAG bundle's version
 * (Airflow 3: the git commit of a Git DAG bundle; NULL unknown) and the DAG
 * version number (0 unknown).  Replaces the run's; the run must be stored. */
int store_run_version_put(struct dd_store *s, int64_t run_ref, const char *bundle_version, int dag_version,
                          struct dd_error *err);
/* The versions of a DAG's runs with logical date in [from_ms, to_ms) (to_ms
 * 0: no bound), oldest first; runs without one are left out.  The string is
 * valid during the call. */
typedef int (*store_run_version_cb)(int64_t run_ref, const char *bundle_version, int dag_version, void *ud);
int store_run_versions(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                       store_run_version_cb cb, void *ud, struct dd_error *err);
/* Counts of a DAG's runs and tries (for tests and summaries). */
int store_count(struct dd_store *s, int64_t dag_ref, int64_t *n_runs, int64_t *n_tis,
                int64_t *n_tries, int64_t *n_logs, struct dd_error *err);
/* Task instances of the runs store_runs gives for the same arguments, run
 * by run in its order, then by task_id, map_index: one query for a whole
 * history (a PostgreSQL store answers each query over the network). */
int store_task_instances(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                         store_ti_cb cb, void *ud, struct dd_error *err);
/* Tries of those runs, in the same order, then by try_number. */
int store_tries(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                store_try_cb cb, void *ud, struct dd_error *err);
/* Tries in a failure state (failed, up_for_retry, crashed, timed_out) of
 * runs with logical date in [from_ms, to_ms) (to_ms 0: open), oldest run
 * first.  only_without_log: skip tries whose log is already stored. */
int store_failed_tries(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int64_t to_ms,
                       int only_without_log, store_try_cb cb, void *ud, struct dd_error *err);
/* The newest successful try of task_id (any map index) in a run with
 * logical date < before_ms (0: any).  DD_ENOTFOUND when none.  out is
 * delivered through cb (called at most once). */
int store_last_success_try(struct dd_store *s, int64_t dag_ref, const char *task_id,
                           int64_t before_ms, store_try_cb cb, void *ud, struct dd_error *err);

/* The successful try of each task in each of its newest per_task runs with
 * a success and logical date >= from_ms (one per run: of a mapped task, the
 * lowest map index's; a Prefect task run <task>-<key> counts as its task),
 * oldest run first. */
int store_recent_successes(struct dd_store *s, int64_t dag_ref, int64_t from_ms, int per_task, store_try_cb cb,
                           void *ud, struct dd_error *err);

/* ---- logs ----------------------------------------------------------------- */

/* Stores the log of one try, compressed with zlib.  Text longer than
 * max_bytes (0: STORE_LOG_DEFAULT_MAX) keeps its head and tail around a
 * marker line; `truncated` records a cap already applied by the source. */
int store_log_put(struct dd_store *s, int64_t try_ref, const char *text, size_t len,
                  int truncated, size_t max_bytes, struct dd_error *err);
/* The same in two steps, so a log can be capped and compressed outside a
 * transaction and written quickly inside one.  store_log_pack fills out
 * (caller releases with store_log_blob_release); store_log_put_blob
 * writes it. */
struct dd_store_log_blob {
	void *data;              /* zlib stream */
	size_t size;
	int64_t original_size;   /* bytes delivered */
	int64_t text_size;       /* bytes kept */
	int truncated;
};
int store_log_pack(const char *text, size_t len, int truncated, size_t max_bytes,
                   struct dd_store_log_blob *out, struct dd_error *err);
int store_log_put_blob(struct dd_store *s, int64_t try_ref, const struct dd_store_log_blob *b,
                       struct dd_error *err);
void store_log_blob_release(struct dd_store_log_blob *b);

/* Records that the source has no log for this try (not fetched again). */
int store_log_put_missing(struct dd_store *s, int64_t try_ref, const char *reason,
                          struct dd_error *err);
struct dd_store_log_info {
	int64_t original_size;   /* bytes the source delivered */
	int64_t text_size;       /* bytes kept (after the cap) */
	int64_t stored_size;     /* compressed bytes */
	int truncated;
	int missing;
};
/* Appends the log text to out (NUL-terminated).  DD_ENOTFOUND when no log
 * is stored (or it is a "missing" marker: then info->missing is set). */
int store_log_get(struct dd_store *s, int64_t try_ref, struct dd_buf *out,
                  struct dd_store_log_info *info, struct dd_error *err);

/* The capping rule on its own: writes text, capped, to out; returns the
 * number of bytes omitted (0 when it fits). */
size_t store_log_cap(const char *text, size_t len, size_t max_bytes, struct dd_buf *out);

/* ---- classifications ---------------------------------------------------- */

struct dd_store_classification {
	char *category;
	char *pattern_id;           /* NULL when unmatched */
	char *fingerprint;
	double confidence;
	char *failure_json;         /* the whole failure as JSON text */
	int64_t created_ms;
};
void store_classification_release(struct dd_store_classification *c);
/* Keyed by try and the pattern library's version hash; replaces. */
int store_classification_put(struct dd_store *s, int64_t try_ref, const char *library_hash,
                             const struct dd_store_classification *c, struct dd_error *err);
/* DD_ENOTFOUND when this try was not classified with this library. */
int store_classification_get(struct dd_store *s, int64_t try_ref, const char *library_hash,
                             struct dd_store_classification *out, struct dd_error *err);

/* ---- import errors and health ------------------------------------------ */

/* Replaces the source's import errors with these n. */
int store_import_errors_replace(struct dd_store *s, int64_t source_ref,
                                const struct dd_import_error *ies, size_t n,
                                struct dd_error *err);
int store_import_errors(struct dd_store *s, int64_t source_ref, dd_import_error_cb cb,
                        void *ud, struct dd_error *err);
int store_health_put(struct dd_store *s, int64_t source_ref, int64_t taken_ms,
                     const struct dd_health *h, struct dd_error *err);
/* The newest snapshot; caller releases with dd_health_release. */
int store_health_latest(struct dd_store *s, int64_t source_ref, struct dd_health *out,
                        int64_t *taken_ms, struct dd_error *err);

/* ---- sync cursors ---------------------------------------------------------- */

/* The cursor key under which sync records, per DAG, when it started reading
 * that DAG's runs: the states stored for the DAG are as of then. */
#define STORE_CURSOR_RUNS_READ "runs_read_ms"

/* (source, dag_id, key) -> value; dag_id "" for source-wide cursors. */
int store_cursor_put(struct dd_store *s, int64_t source_ref, const char *dag_id,
                     const char *key, const char *value, struct dd_error *err);
/* *value is allocated (caller frees); DD_ENOTFOUND when unset. */
int store_cursor_get(struct dd_store *s, int64_t source_ref, const char *dag_id,
                     const char *key, char **value, struct dd_error *err);
int store_cursor_put_i64(struct dd_store *s, int64_t source_ref, const char *dag_id,
                         const char *key, int64_t value, struct dd_error *err);
int store_cursor_get_i64(struct dd_store *s, int64_t source_ref, const char *dag_id,
                         const char *key, int64_t *value, struct dd_error *err);

/* ---- report history ------------------------------------------------------ */

/* Records that the report made at report_ms contained failure `fingerprint`
 * for `scope` (e.g. "prod/etl_daily"). */
int store_report_put(struct dd_store *s, int64_t report_ms, const char *scope,
                     const char *fingerprint, struct dd_error *err);
/* How many earlier report dates (UTC days of the reports with report_ms <
 * before_ms; 0: all) had it, and the first report's time (0 when never: a
 * new failure).  Reports of one date count once (a re-run is no new report). */
int store_report_seen(struct dd_store *s, const char *scope, const char *fingerprint,
                      int64_t before_ms, int64_t *count, int64_t *first_ms,
                      struct dd_error *err);
/* The fingerprints recorded for scope on the latest report date before
 * before_ms (0: any) that recorded any for it, sorted, appended to out. */
int store_report_previous(struct dd_store *s, const char *scope, int64_t before_ms, struct dd_strv *out,
                          struct dd_error *err);

/* ---- what engineers established ------------------------------------------ */

/* A verdict on one cause of a failure (rank.h: rk_verdict), by fingerprint. */
struct dd_store_fact {
	const char *fingerprint;
	const char *kind;         /* the cause's kind: rk_kind_name */
	int verdict;              /* 1 confirmed, -1 refuted */
	const char *what;         /* "numpy 2.0.0 deployed" */
	const char *tool;         /* "pip show" */
	const char *detail;       /* where it was read: "ev.txt line 2: Version: 2.0.0", or NULL */
	const char *user;         /* the local user, or NULL */
	int64_t at_ms;
};

/* Records it; the same (fingerprint, kind, what) recorded again keeps the first. */
int store_fact_put(struct dd_store *s, const struct dd_store_fact *f, struct dd_error *err);
/* Every recorded verdict, oldest first (the struct is the store's, valid during the call). */
int store_facts(struct dd_store *s, int (*cb)(const struct dd_store_fact *f, void *ud), void *ud,
                struct dd_error *err);

#endif
