/*
 * connector.h - the one interface behind which each orchestrator API hides.
 * Nothing outside connectors/ knows an API exists.
 *
 * A connector is opened for one configured source, then asked for DAGs,
 * runs, task instances, tries and logs.  Listing functions stream results
 * through callbacks (a callback returning non-zero stops the listing and
 * that value is returned).  Structs passed to callbacks are owned by the
 * connector and valid only during the call: copy what you keep.
 *
 * Ownership: conn_open allocates *out; conn_close frees it.
 */
#ifndef DAGDOC_CONNECTOR_H
#define DAGDOC_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/config.h"
#include "dagdoc/error.h"
#include "dagdoc/model.h"
#include "dagdoc/util.h"

struct dd_conn;

struct dd_conn_stats {
	uint64_t requests;
	uint64_t retries;
	uint64_t bytes;
	uint64_t rejected;            /* objects that failed validation (see dd_reject) */
};

/*
 * Validate, then hand on: every object a server sends (a DAG, task, run,
 * task instance, try, import error, health record, log record) is checked
 * against what dagdoc needs (types, ranges, times) before a callback sees
 * it.  One that fails is never handed on, not even with the bad member
 * dropped: it is reported to the reject callback, which names where it
 * came from and what was wrong (masked like every message).  A log whose
 * body fails its checks reaches the log callback as an error instead.
 */
struct dd_reject {
	const char *endpoint;         /* "GET /api/v1/dags/etl_daily/dagRuns" (no query) */
	const char *object;           /* "run scheduled__...", "task instance transform" */
	const char *dag_id;           /* the DAG it belongs to; NULL when unknown */
	const char *run_id;           /* the run it belongs to; NULL when unknown */
	const char *problem;          /* "try_number: a string (\"1\") where an integer is expected" */
};
typedef void (*dd_reject_cb)(const struct dd_reject *r, void *ud);

struct dd_health {
	char *scheduler_status;       /* "healthy", "unhealthy", NULL unknown */
	int64_t scheduler_heartbeat_ms;
	char *metadatabase_status;
	char *detail;                 /* Prefect: work pool / worker summary */
};
void dd_health_release(struct dd_health *h);

struct dd_import_error {
	char *filename;
	char *stack_trace;
	int64_t timestamp_ms;
};

/* One log to fetch: one try of one task instance. */
struct dd_log_request {
	const char *dag_id;
	const char *run_id;
	const char *task_id;
	int map_index;
	int try_number;
	const char *external_id;      /* Prefect task run id; NULL = flow-level log */
	void *user;                   /* passed back to the callback */
};

typedef int (*dd_dag_id_cb)(const char *dag_id, void *ud);
typedef int (*dd_run_cb)(const struct dd_run *run, void *ud);
typedef int (*dd_ti_cb)(const struct dd_task_instance *ti, void *ud);
typedef int (*dd_try_cb)(const struct dd_try *t, void *ud);
typedef int (*dd_import_error_cb)(const struct dd_import_error *ie, void *ud);
/* text is the log as plain text lines (connectors convert JSON/structured
 * forms to one line per event); truncated is set when the cap was hit.
 * err is non-NULL when this one log could not be fetched. */
typedef int (*dd_log_cb)(const struct dd_log_request *req, const char *text,
                         size_t len, int truncated, const struct dd_error *err,
                         void *ud);

/* A source whose file names an unset *_env variable (src->unset_env) is
 * refused, DD_EUSAGE with that file:line, before any request is made. */
int conn_open(const struct dd_source *src, int verbose, struct dd_conn **out,
              struct dd_error *err);
void conn_close(struct dd_conn *c);
/* Where rejected objects are reported (the struct is valid during the call). */
void conn_on_reject(struct dd_conn *c, dd_reject_cb cb, void *ud);

/* "airflow 2.10.5 (api v1)", "prefect 3.1.0", "log folder /x". */
const char *conn_describe(const struct dd_conn *c);

int conn_list_dags(struct dd_conn *c, dd_dag_id_cb cb, void *ud, struct dd_error *err);
/* DD_ENOTFOUND "no DAG named X on SOURCE; did you mean Y?" */
int conn_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err);
/* Runs whose logical date (or start) is >= since_ms, oldest first. */
int conn_list_runs(struct dd_conn *c, const char *dag_id, int64_t since_ms,
                   dd_run_cb cb, void *ud, struct dd_error *err);
int conn_list_task_instances(struct dd_conn *c, const char *dag_id, const char *run_id,
                             dd_ti_cb cb, void *ud, struct dd_error *err);
/* Every try of one task instance, oldest first (synthesised from the
 * task instance when the API has no try history). */
int conn_list_tries(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
                    dd_try_cb cb, void *ud, struct dd_error *err);
/* Fetches n logs, up to the source's concurrency at once. */
int conn_fetch_logs(struct dd_conn *c, const struct dd_log_request *reqs, size_t n,
                    dd_log_cb cb, void *ud, struct dd_error *err);
/* ---- fleet operations ------------------------------------------------------
 * The same data as the per-DAG calls above, for many DAGs and runs at once.
 * A connector uses its API's batch endpoints (Airflow: GET /dags, POST
 * /dags/~/dagRuns/list, POST /dags/~/dagRuns/~/taskInstances/list; Prefect:
 * the /filter endpoints with id sets), pages sized by the server's own limit
 * and requested concurrently (up to the source's concurrency), so the
 * number of requests follows the amount of data, not the number of DAGs or
 * runs.  A connector without them gets the per-DAG calls in a loop (the
 * same results, one request after another): connectors/connector.c.
 *
 * Failure: a negative return stops the caller (credentials refused, a
 * callback's code, the server gone).  Where only some DAGs or runs could
 * not be read, each callback gets `err` for them and the others are
 * delivered.  Rejected objects (dd_reject) carry their DAG and run. */

/* Every DAG of the source as its listing shows it: dag_id, is_paused,
 * fileloc and external_id where the listing has them; no tasks (n_tasks 0). */
typedef int (*dd_dag_cb)(const struct dd_dag *dag, void *ud);
int conn_list_dag_summaries(struct dd_conn *c, dd_dag_cb cb, void *ud, struct dd_error *err);

/* The definitions (with tasks and dependencies, as conn_get_dag) of n DAGs.
 * cb is called once per DAG, in any order, with its index in dag_ids and
 * either the DAG or err (DD_ENOTFOUND: the source has no such DAG). */
typedef int (*dd_dag_result_cb)(size_t i, const struct dd_dag *dag, const struct dd_error *err, void *ud);
int conn_get_dags(struct dd_conn *c, const char *const *dag_ids, size_t n, dd_dag_result_cb cb,
                  void *ud, struct dd_error *err);

/* The runs of n DAGs: of DAG i those whose logical date (or start) is >=
 * since_ms[i].  cb gets the DAG's index; order within a DAG is oldest first,
 * across DAGs any.  One DAG whose runs could not be listed fails the whole
 * call (the caller keeps every cursor). */
typedef int (*dd_dag_run_cb)(size_t dag_index, const struct dd_run *run, void *ud);
int conn_list_runs_multi(struct dd_conn *c, const char *const *dag_ids, const int64_t *since_ms,
                         size_t n, dd_dag_run_cb cb, void *ud, struct dd_error *err);

/* One run whose task instances are wanted; `user` is handed back. */
struct dd_run_key {
	const char *dag_id;
	const char *run_id;
	void *user;
};
/* One task instance with its tries, oldest first (synthesised from the
 * task instance when the API keeps no history, as conn_list_tries). */
struct dd_ti_tries {
	struct dd_task_instance ti;    /* ti.run_id filled */
	struct dd_try *tries;
	size_t n_tries;
};
/* Called once per requested run, in any order, with `run` pointing at
 * its entry of the runs[] the call was given, when all its task
 * instances and their tries are in: v[0..n) (n 0: it has none), or err
 * when they could not be fetched (after the HTTP client's retries).  An
 * object of the run that failed its checks was reported to the reject
 * callback before this call and is not in v. */
/* Frees v[0..n) (each task instance and its tries) and v (a copy the
 * caller made and owns). */
void conn_ti_tries_release(struct dd_ti_tries *v, size_t n);
typedef int (*dd_run_tis_cb)(const struct dd_run_key *run, const struct dd_ti_tries *v, size_t n,
                             const struct dd_error *err, void *ud);
int conn_list_run_tis(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb,
                      void *ud, struct dd_error *err);

int conn_health(struct dd_conn *c, struct dd_health *out, struct dd_error *err);
int conn_list_import_errors(struct dd_conn *c, dd_import_error_cb cb, void *ud,
                            struct dd_error *err);
void conn_stats(const struct dd_conn *c, struct dd_conn_stats *out);
/*
 * The orchestrator's UI: where it is and the form of its links, learnt
 * when the connection opens (Airflow's API version decides the form) and
 * stored with the source at sync, so a link reads the same online and
 * --offline and needs no connection.  Forms:
 *   "airflow-grid"  Airflow 2: BASE/dags/D/grid?dag_run_id=R&task_id=T
 *   "airflow-runs"  Airflow 3: BASE/dags/D/runs/R/tasks/T
 *   "prefect"       Prefect:   BASE/runs/flow-run/R
 * base never holds credentials; both are "" when the source has no UI.
 */
struct dd_ui {
	char form[16];
	char base[1024];
};
void conn_ui(const struct dd_conn *c, struct dd_ui *out);
/* A link to a run (task_id may be NULL) from a stored form and base;
 * NULL when form is unknown or empty.  Caller frees. */
char *conn_ui_link(const char *form, const char *base, const char *dag_id, const char *run_id,
                  const char *task_id);
/* A link to one try's log of a task in a run, likewise:
 *   "airflow-grid"  BASE/dags/D/grid?dag_run_id=R&task_id=T&tab=logs
 *   "airflow-runs"  BASE/dags/D/runs/R/tasks/T?try_number=N (the task
 *                   instance page opens on its log; the UI's search
 *                   parameter try_number picks the try)
 *   "prefect"       BASE/runs/task-run/ID with the task run's id, else the
 *                   flow run's page
 * try_number 0 (unknown) leaves it out; task_run_id may be NULL. */
char *conn_ui_try_link(const char *form, const char *base, const char *dag_id, const char *run_id,
                       const char *task_id, int try_number, const char *task_run_id);

#endif
