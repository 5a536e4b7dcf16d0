/*
 * model.h - the orchestrator-neutral data model: what connectors produce,
 * the store keeps and analysis reads.
 *
 * Airflow terms are used throughout: a Prefect flow (or deployment) is a
 * "DAG", a flow run a "run", a task run a "task instance" and each entry of
 * its state history that ends in a terminal or retry state a "try".
 *
 * Every string field is owned by the struct that holds it; the *_release
 * functions free the fields (not the struct itself) and leave it zeroed.
 * Times are int64 ms since the epoch, UTC, 0 when unknown.
 */
#ifndef DAGDOC_MODEL_H
#define DAGDOC_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Normalised states, stored as their lower-case names (dd_state_name). */
enum dd_state {
	DD_STATE_UNKNOWN = 0,
	DD_STATE_SCHEDULED,
	DD_STATE_QUEUED,
	DD_STATE_RUNNING,
	DD_STATE_SUCCESS,
	DD_STATE_FAILED,
	DD_STATE_UPSTREAM_FAILED,
	DD_STATE_SKIPPED,
	DD_STATE_UP_FOR_RETRY,
	DD_STATE_UP_FOR_RESCHEDULE,
	DD_STATE_DEFERRED,
	DD_STATE_REMOVED,
	DD_STATE_RESTARTING,
	DD_STATE_CRASHED,    /* Prefect Crashed */
	DD_STATE_CANCELLED,  /* Prefect Cancelled, Airflow has no equivalent */
	DD_STATE_LATE,       /* Prefect Late (scheduled, never picked up) */
	DD_STATE_PENDING,    /* Prefect Pending */
	DD_STATE_TIMED_OUT,  /* Prefect TimedOut (a failure) */
	DD_STATE__COUNT
};

const char *dd_state_name(enum dd_state s);        /* "success", "up_for_retry" ... */
/* Accepts dagdoc names, Airflow names ("upstream_failed", "none" -> UNKNOWN)
 * and Prefect state types/names ("COMPLETED", "AwaitingRetry", "NotReady"
 * -> upstream_failed, "TimedOut" ...), case-insensitively. */
enum dd_state dd_state_parse(const char *s);
int dd_state_is_terminal(enum dd_state s);         /* will not change any more */
int dd_state_is_failure(enum dd_state s);          /* failed, crashed, timed_out, upstream_failed */
/* A try that failed (its log is worth fetching and classifying): failed,
 * up_for_retry, crashed, timed_out.  upstream_failed never ran a try. */
int dd_state_is_failed_try(enum dd_state s);

struct dd_task {
	char *task_id;
	char *operator_name;     /* "PythonOperator", "ExternalTaskSensor", Prefect task name */
	int is_sensor;           /* operator looks like a sensor */
	char **downstream;       /* NULL-terminated task ids, may be NULL */
	size_t n_downstream;
};

struct dd_dag {
	char *dag_id;            /* Airflow dag_id; Prefect flow name */
	char *fileloc;           /* Airflow fileloc; Prefect deployment entrypoint path */
	char *external_id;       /* Prefect flow UUID; NULL for Airflow */
	int is_paused;
	struct dd_task *tasks;
	size_t n_tasks;
};

struct dd_run {
	char *run_id;            /* Airflow dag_run_id; Prefect flow run UUID */
	char *run_name;          /* Prefect flow run name; NULL for Airflow */
	enum dd_state state;
	char *run_type;          /* "scheduled", "manual", "backfill", ... */
	int64_t logical_ms;      /* logical/execution date or Prefect expected start */
	int64_t queued_ms;
	int64_t start_ms;
	int64_t end_ms;
	char *note;              /* state message (Prefect), run note (Airflow) */
	char *bundle_version;    /* Airflow 3: the DAG bundle's version the run ran (a Git bundle's
	                            commit), NULL when unknown */
	int dag_version;         /* Airflow 3: the DAG version number the run ran, 0 unknown */
};

struct dd_task_instance {
	char *run_id;
	char *task_id;
	int map_index;           /* -1 when not mapped */
	enum dd_state state;
	int try_number;          /* latest try */
	int max_tries;           /* total tries allowed (retries + 1), 0 unknown */
	char *operator_name;
	char *hostname;
	char *external_id;       /* Prefect task run UUID */
	int64_t queued_ms;
	int64_t start_ms;
	int64_t end_ms;
	char *note;              /* state message */
};

struct dd_try {
	char *run_id;
	char *task_id;
	int map_index;
	int try_number;          /* 1-based */
	enum dd_state state;
	char *hostname;
	int64_t queued_ms;
	int64_t start_ms;
	int64_t end_ms;
	char *note;
};

void dd_task_release(struct dd_task *t);
void dd_dag_release(struct dd_dag *d);            /* frees tasks too */
void dd_run_release(struct dd_run *r);
void dd_task_instance_release(struct dd_task_instance *ti);
void dd_try_release(struct dd_try *t);
/* Deep copies (*d owns its strings; release with the matching release). */
void dd_run_copy(struct dd_run *d, const struct dd_run *s);
void dd_task_instance_copy(struct dd_task_instance *d, const struct dd_task_instance *s);
void dd_try_copy(struct dd_try *d, const struct dd_try *s);

#endif
