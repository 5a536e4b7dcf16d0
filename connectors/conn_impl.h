/*
 * conn_impl.h - private to connectors/: the table of operations each
 * orchestrator fills, and the connector object the public conn_* functions
 * dispatch through (connectors/connector.c).
 */
#ifndef DAGDOC_CONN_IMPL_H
#define DAGDOC_CONN_IMPL_H

#include "dagdoc/connector.h"
#include "dagdoc/http.h"

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

/* ---- helpers the HTTP connectors share (connectors/conn_util.c) ---------- */

struct cJSON;

/* A member's string value (borrowed), or NULL when absent or not a string. */
const char *conn_jstr(const struct cJSON *o, const char *k);
/* conn_jstr, copied (caller frees), or NULL. */
char *conn_jdup(const struct cJSON *o, const char *k);
/* A member holding an ISO 8601 time, in ms since the epoch; 0 when absent
 * or unreadable. */
int64_t conn_jtime(const struct cJSON *o, const char *k);
/* A member's number as an int, or dflt. */
int conn_jint(const struct cJSON *o, const char *k, int dflt);

/* Copies the HTTP client's request counters into c->stats. */
void conn_sync_stats(struct dd_conn *c, struct http_client *h);
/* One JSON request (GET, or POST of `post` when not NULL): *out the parsed
 * answer (caller frees with cJSON_Delete), *status (when not NULL) the HTTP
 * status, even on failure. */
int conn_json(struct dd_conn *c, struct http_client *h, const char *url, const char *post,
              struct cJSON **out, long *status, struct dd_error *err);
/* How an error names where the url came from: `env` for a source from the
 * environment, else "the url of source NAME (ORIGIN)".  Caller frees. */
char *conn_url_env(const struct dd_source *s, const char *env);
/* Fills the TLS, concurrency, timeout and trace fields of *o from the
 * connection's source. */
void conn_http_opts(struct http_opts *o, const struct dd_conn *c);

/* Callback and data of a list_dags call; `key` names the member holding
 * the id in each element of the answer. */
struct conn_id_ud {
	dd_dag_id_cb cb;
	void *ud;
	const char *key;
};
/* A page item callback (ud: struct conn_id_ud): hands the element's id on. */
int conn_id_item(struct dd_conn *c, const struct cJSON *el, void *ud);
/* A dd_dag_id_cb that pushes each id onto the struct dd_strv at ud. */
int conn_collect_id(const char *id, void *ud);
/* The entry of `names` nearest to `name` when it is close enough to
 * suggest ("did you mean"), else NULL.  Borrowed from names. */
const char *conn_closest(const char *name, const struct dd_strv *names);

/* Callback and data of a list_task_instances call; run_id fills in a task
 * instance that has none. */
struct conn_ti_ud {
	dd_ti_cb cb;
	void *ud;
	const char *run_id;
};
/* Hands *ti to u->cb when it has a task_id, then releases it; returns
 * what the callback returned (0 when skipped). */
int conn_ti_emit(struct conn_ti_ud *u, struct dd_task_instance *ti);
/* Hands v[0..n) to cb in order until it returns non-zero, then releases
 * them all and frees v; returns the callback's last result. */
int conn_emit_tries(struct dd_try *v, size_t n, dd_try_cb cb, void *ud);

/* What http_run returns when a log callback asked to stop. */
#define CONN_STOP (-1000)

/* Where one requested log goes: a size-capped buffer, then the callback. */
struct conn_log_out {
	const struct dd_log_request *req;
	struct http_capbuf cap;
	dd_log_cb cb;
	void *ud;
	int *cb_ret;                /* shared by a fetch_logs call's jobs */
};
/* Sets up *o for req, capped at the source's max_log_bytes (16 MiB when
 * unset). */
void conn_log_out_init(struct conn_log_out *o, const struct dd_conn *c,
                       const struct dd_log_request *req, dd_log_cb cb, void *ud, int *cb_ret);
/* The most a compressed log may inflate to: a multiple (8) of the
 * source's max_log_bytes.  A gzip bomb stops there, a failed fetch. */
size_t conn_log_inflate_cap(const struct dd_conn *c);
/* Hands the log (or the error e, when not NULL) to the callback and frees
 * the buffer; returns CONN_STOP when the callback asked to stop (its value
 * kept in *o->cb_ret), else 0. */
int conn_log_deliver(struct conn_log_out *o, const struct dd_error *e);
/* Runs a fetch_logs call's transfers; returns 0, the value a callback
 * stopped with, or an error. */
int conn_run_logs(struct dd_conn *c, struct http_client *h, struct http_xfer **xs, size_t n,
                  const int *cb_ret, struct dd_error *err);

#endif
