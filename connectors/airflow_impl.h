/*
 * airflow_impl.h - private to the Airflow connector: its state and what its
 * per-DAG operations (airflow.c) share with its fleet operations
 * (airflow_fleet.c).
 */
#ifndef DAGDOC_AIRFLOW_IMPL_H
#define DAGDOC_AIRFLOW_IMPL_H

#include <cjson/cJSON.h>

#include "conn_impl.h"

#define AF_MAX_TRIES 1000         /* a try_number above this is not believed */

struct af {
	struct http_client *http;
	int api;                  /* 1 or 2 */
	const char *prefix;       /* "/api/v1" or "/api/v2" */
	char *root;               /* server root URL, no /api/vN */
	char *version;
	int exchanged;            /* v2 token came from /auth/token */
	int log_json;             /* use the JSON log form */
	int no_tries_endpoint;    /* /tries answered "no such URL": synthesise */
	int page_limit;           /* the server's page limit, once an answer showed it; 0 unknown */
	struct dd_strv dag_ids;
	int dag_ids_loaded;
	char *url_env, *auth_hint;
};

/* ---- airflow.c ------------------------------------------------------------ */

/* Copies the client's request counters into c->stats. */
void af_sync_stats(struct dd_conn *c);
/* Appends "/<escaped s>". */
void af_add_seg(struct dd_buf *b, const char *s);
/* One JSON request (conn_json).  On 401 after a token exchange, exchanges again once. */
int af_json(struct dd_conn *c, const char *url, const char *post, cJSON **out, long *status,
            struct dd_error *err);
/* POST /auth/token with the source's username and password; sets the bearer. */
int af_exchange_token(struct dd_conn *c, struct dd_error *err);
/* DD_ENOTFOUND "no DAG named X on SOURCE; did you mean Y?" (may list the DAGs once). */
int af_no_such_dag(struct dd_conn *c, const char *dag_id, struct dd_error *err);
/* PREFIX/dags/D */
void af_dag_path(struct af *a, struct dd_buf *url, const char *dag_id);
/* PREFIX/dags/D/dagRuns/R/taskInstances */
void af_ti_path(struct af *a, struct dd_buf *url, const char *dag_id, const char *run_id);
/* .../taskInstances/T[/M]/tries[?map_index=M]: every try of ti */
void af_tries_path(struct af *a, struct dd_buf *url, const char *dag_id, const struct dd_task_instance *ti);

/* The answer of GET /dags/{id}: *out filled (the DAG rejected leaves only
 * its id); release with dd_dag_release. */
void af_dag_answer(struct dd_conn *c, const char *dag_id, const cJSON *j, struct dd_dag *out);
/* The answer of GET /dags/{id}/tasks added to *out; rejected tasks are left out. */
void af_tasks_answer(struct dd_conn *c, const char *dag_id, const cJSON *j, struct dd_dag *out);
/* The answer of .../tries for ti: its tries oldest first, the current one
 * added when the list leaves it out (*out caller-freed, *n of them). */
void af_tries_answer(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti, const cJSON *j,
                     struct dd_try **out, size_t *n);
/* The tries of ti made from ti itself (an API without the history). */
void af_synth_tries(const struct dd_task_instance *ti, struct dd_try **out, size_t *n);
/* A 404 of .../tries (error e): on a server without the endpoint, remembers to synthesise. */
void af_tries_missing(struct af *a, const struct dd_error *e);

/* ---- airflow_fleet.c (the fleet operations of connector.h) ----------------- */

int af_list_dag_summaries(struct dd_conn *c, dd_dag_cb cb, void *ud, struct dd_error *err);
int af_get_dags(struct dd_conn *c, const char *const *dag_ids, size_t n, dd_dag_result_cb cb, void *ud,
                struct dd_error *err);
int af_list_runs_multi(struct dd_conn *c, const char *const *dag_ids, const int64_t *since_ms, size_t n,
                       dd_dag_run_cb cb, void *ud, struct dd_error *err);
int af_list_run_tis(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb, void *ud,
                    struct dd_error *err);

#endif
