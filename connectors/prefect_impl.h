/*
 * prefect_impl.h - private to the Prefect connector: what prefect.c (the
 * per-DAG operations) and prefect_fleet.c (the fleet operations) share.
 */
#ifndef DAGDOC_PREFECT_IMPL_H
#define DAGDOC_PREFECT_IMPL_H

#include <cjson/cJSON.h>

#include "conn_impl.h"

#define PF_PAGE 200               /* the page of the per-DAG listings (the server's default limit) */
#define PF_ASK_LIMIT 1000         /* the page a fleet listing asks for until the server names its limit */

struct flow_ref {
	char *dag_id;          /* as asked: "flow" or "flow/deployment" */
	char *flow_id;
	char *deployment_id;   /* NULL for a flow */
	char *entrypoint;
	int entry_known;       /* entrypoint looked up (it may still be NULL: no deployment) */
};

struct try_window {
	char *task_run_id;
	int64_t *starts;       /* start of try k at [k-1] */
	size_t n;
};

struct pf {
	struct http_client *http;
	char *base;
	int cloud;
	char *account, *workspace;
	char *version;
	char *url_env, *auth_hint;
	struct flow_ref *flows;
	size_t n_flows, cap_flows;
	struct dd_strv names;
	int names_loaded;
	struct try_window *wins;
	size_t n_wins, cap_wins;
	int limit;             /* the server's page limit once learnt (a 422 named it, or PF_ASK_LIMIT passed); 0 unknown */
};

/* Task runs read for a DAG's tasks (get_dag). */
struct tr_rec {
	char *id, *name;
	char *task;                /* the task it is a run of */
	struct dd_strv upstream_ids;
};
struct tr_list {
	struct tr_rec *v;
	size_t n, cap;
};

void pf_sync_stats(struct dd_conn *c);
/* Prints j (unformatted) and deletes it; caller frees the text. */
char *pf_print_json(cJSON *j);
/* {"any_": [id]} */
cJSON *pf_any_of(const char *id);
/* An ISO 8601 UTC time. */
void pf_iso(int64_t ms, char *out, size_t n);
int pf_json(struct dd_conn *c, const char *url, const char *post, cJSON **out, long *status,
            struct dd_error *err);
/* 0 when j is the list a /filter answers, else DD_EPROTO naming path. */
int pf_check_list(struct dd_conn *c, const char *path, const cJSON *j, struct dd_error *err);
/* The page limit a 422 answer names ("Invalid limit: must be less than or equal to 200."), else 0. */
int pf_limit_of_422(long status, const char *body, size_t len);
/* POSTs body (limit/offset set per page) to a /filter endpoint, page after
 * page, calling item() for each element; takes body. */
int pf_pages(struct dd_conn *c, const char *path, cJSON *body,
             int (*item)(struct dd_conn *, const cJSON *, void *), void *ud, struct dd_error *err);

/* The cached flow or deployment a dag_id names, or NULL. */
struct flow_ref *pf_find_ref(struct pf *p, const char *dag_id);
/* Adds r to the cache (taken over). */
struct flow_ref *pf_add_ref(struct pf *p, const struct flow_ref *r);
/* Finds (one request, cached) the flow or deployment a dag_id names;
 * DD_ENOTFOUND with "did you mean" when there is none. */
int pf_resolve(struct dd_conn *c, const char *dag_id, struct flow_ref **out, struct dd_error *err);
/* The flow run filter body for a flow or deployment. */
cJSON *pf_runs_body(const struct flow_ref *f);

/* Page item callbacks of get_dag: the ids of the latest few flow runs
 * (ud: struct dd_strv; 1 once there are enough), a task run for the DAG's
 * tasks (ud: struct tr_list). */
int pf_recent_run_id(struct dd_conn *c, const cJSON *el, void *ud);
int pf_collect_tr(struct dd_conn *c, const cJSON *el, void *ud);
void pf_tr_list_release(struct tr_list *l);
/* The task runs body for flow runs ids[0..n) (sorted by expected start). */
cJSON *pf_task_runs_body(const char *const *ids, size_t n);
/* Fills out's tasks and edges from the task runs l (the DAG's latest runs). */
void pf_dag_tasks(struct dd_dag *out, const struct tr_list *l);

/* Does a task run's state history need asking for?  Else its tries come
 * from the task run itself (pf_tries_of with states NULL). */
int pf_needs_history(const struct dd_task_instance *ti);
/* The tries of ti from its state history (states, NULL when not asked),
 * else one per run_count; records the try windows.  -1 with the problem in
 * ck (and no tries) when the history fails its check. */
int pf_tries_of(struct pf *p, const struct dd_task_instance *ti, const cJSON *states, struct dd_try **out,
                size_t *n, struct conn_check *ck);
/* "/task_run_states/?task_run_id=ID" (caller frees). */
char *pf_states_url(const char *task_run_id);

/* The fleet operations (prefect_fleet.c). */
int pf_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err);
int pf_list_dag_summaries(struct dd_conn *c, dd_dag_cb cb, void *ud, struct dd_error *err);
int pf_get_dags(struct dd_conn *c, const char *const *dag_ids, size_t n, dd_dag_result_cb cb, void *ud,
                struct dd_error *err);
int pf_list_runs_multi(struct dd_conn *c, const char *const *dag_ids, const int64_t *since_ms, size_t n,
                       dd_dag_run_cb cb, void *ud, struct dd_error *err);
int pf_list_run_tis(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb, void *ud,
                    struct dd_error *err);

#endif
