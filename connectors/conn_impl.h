/*
 * conn_impl.h - private to connectors/: the table of operations each
 * orchestrator fills, and the connector object the public conn_* functions
 * dispatch through (connectors/connector.c).
 */
#ifndef DAGDOC_CONN_IMPL_H
#define DAGDOC_CONN_IMPL_H

#include "dagdoc/connector.h"

struct dd_conn_ops {
	const char *kind;
	int (*open)(struct dd_conn *c, struct dd_error *err);   /* sets c->impl, c->description */
	void (*close)(struct dd_conn *c);                        /* frees c->impl */
	int (*list_dags)(struct dd_conn *c, dd_dag_id_cb cb, void *ud, struct dd_error *err);
	int (*get_dag)(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err);
	int (*list_runs)(struct dd_conn *c, const char *dag_id, int64_t since_ms,
	                 dd_run_cb cb, void *ud, struct dd_error *err);
	int (*list_task_instances)(struct dd_conn *c, const char *dag_id, const char *run_id,
	                           dd_ti_cb cb, void *ud, struct dd_error *err);
	int (*list_tries)(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
	                  dd_try_cb cb, void *ud, struct dd_error *err);
	int (*fetch_logs)(struct dd_conn *c, const struct dd_log_request *reqs, size_t n,
	                  dd_log_cb cb, void *ud, struct dd_error *err);
	int (*health)(struct dd_conn *c, struct dd_health *out, struct dd_error *err);   /* may be NULL */
	int (*list_import_errors)(struct dd_conn *c, dd_import_error_cb cb, void *ud,
	                          struct dd_error *err);                                /* may be NULL */
	/* `dag_id` run `run_id` (task_id may be NULL) in the UI; may be NULL. */
	char *(*ui_url)(const struct dd_source *src, const char *dag_id, const char *run_id,
	                const char *task_id);
};

struct dd_conn {
	const struct dd_source *source;
	const struct dd_conn_ops *ops;
	void *impl;
	int verbose;
	char description[256];
	struct dd_conn_stats stats;   /* kept up to date by the implementation */
};

extern const struct dd_conn_ops dd_airflow_ops;
extern const struct dd_conn_ops dd_prefect_ops;
extern const struct dd_conn_ops dd_logdir_ops;

#endif
