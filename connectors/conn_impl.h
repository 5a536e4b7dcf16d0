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
	/* Fleet operations (connector.h); each may be NULL: connector.c then
	 * loops over the per-DAG operations above. */
	int (*list_dag_summaries)(struct dd_conn *c, dd_dag_cb cb, void *ud, struct dd_error *err);
	int (*get_dags)(struct dd_conn *c, const char *const *dag_ids, size_t n, dd_dag_result_cb cb,
	                void *ud, struct dd_error *err);
	int (*list_runs_multi)(struct dd_conn *c, const char *const *dag_ids, const int64_t *since_ms,
	                       size_t n, dd_dag_run_cb cb, void *ud, struct dd_error *err);
	int (*list_run_tis)(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb,
	                    void *ud, struct dd_error *err);
	/* Where the UI is and its link form (see struct dd_ui), once open;
	 * may be NULL (no UI). */
	void (*ui)(const struct dd_conn *c, struct dd_ui *out);
};

struct dd_conn {
	const struct dd_source *source;
	const struct dd_conn_ops *ops;
	void *impl;
	int verbose;
	char description[256];
	struct dd_conn_stats stats;   /* kept up to date by the implementation */
	char endpoint[256];           /* the request whose answer is being read */
	dd_reject_cb on_reject;
	void *reject_ud;
	const char *reject_dag;       /* the DAG a rejection belongs to when the
	                               * connector names none (conn_reject) */
};

extern const struct dd_conn_ops dd_airflow_ops;
extern const struct dd_conn_ops dd_prefect_ops;
extern const struct dd_conn_ops dd_logdir_ops;

/* ---- helpers the HTTP connectors share (connectors/conn_util.c) ---------- */

struct cJSON;

/* ---- reading what a server sent: validate, then use ------------------------
 * Each reader checks one member k of object o and returns its value.  A
 * member that is absent or null gives the default (NULL, 0, dflt).  One of
 * another type, out of range or (a time) unreadable gives the default and,
 * when ck is not NULL, records the first such problem in ck: the object
 * it belongs to is then rejected whole (conn_reject), never stored with
 * the member dropped.  ck NULL reads leniently (error bodies, hints). */
struct conn_check {
	int bad;
	char problem[320];    /* "try_number: a string (\"1\") where an integer is expected" */
};
#define CONN_CHECK_INIT { 0, { 0 } }

/* Records a problem (the first one is kept). */
void conn_check_fail(struct conn_check *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A string member (borrowed). */
const char *conn_jstr(struct conn_check *ck, const struct cJSON *o, const char *k);
/* A string member that must be there and not empty. */
const char *conn_jstr_req(struct conn_check *ck, const struct cJSON *o, const char *k);
/* conn_jstr, copied (caller frees). */
char *conn_jdup(struct conn_check *ck, const struct cJSON *o, const char *k);
/* An ISO 8601 time, in ms since the epoch. */
int64_t conn_jtime(struct conn_check *ck, const struct cJSON *o, const char *k);
/* A whole number in [min, max]. */
int conn_jint(struct conn_check *ck, const struct cJSON *o, const char *k, int min, int max, int dflt);
int conn_jbool(struct conn_check *ck, const struct cJSON *o, const char *k);
/* An array or an object member (borrowed), NULL when absent or null. */
const struct cJSON *conn_jlist(struct conn_check *ck, const struct cJSON *o, const char *k);
const struct cJSON *conn_jobj(struct conn_check *ck, const struct cJSON *o, const char *k);
/* Is el an object?  (else a problem: "a string where an object is expected") */
int conn_jis_obj(struct conn_check *ck, const struct cJSON *el);

/* Reports an object that failed its checks to the callback set with
 * conn_on_reject (and counts it): `object` names it ("task instance
 * transform"), run_id the run it belongs to (NULL when unknown).  The
 * endpoint is the request the connector made last (c->endpoint). */
void conn_reject(struct dd_conn *c, const char *object, const char *run_id, const struct conn_check *ck);
/* The same for an object of DAG dag_id (fleet operations, where many DAGs
 * are read at once); conn_reject names c->reject_dag. */
void conn_reject_dag(struct dd_conn *c, const char *dag_id, const char *object, const char *run_id,
                     const struct conn_check *ck);
/* Sets c->endpoint to "METHOD /path" of url (no query, no base). */
void conn_set_endpoint(struct dd_conn *c, const char *method, const char *url);

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
/* Where a credential of s comes from, for a hint: the variable its *_env
 * key names (env), else for a source from the environment env_default,
 * else "the KEY of source NAME (FILE:LINE)".  Caller frees. */
char *conn_cred_where(const struct dd_source *s, const char *env, const char *key,
                      const char *env_default);
/* Fills the TLS, concurrency, timeout and trace fields of *o from the
 * connection's source. */
void conn_http_opts(struct http_opts *o, const struct dd_conn *c);

/* Callback and data of a list_dags call; `key` names the member holding
 * the id in each element of the answer. */
struct conn_id_ud {
	dd_dag_id_cb cb;
	void *ud;
	const char *key;
	const char *what;     /* "DAG", "flow": names a rejected element */
};
/* Every listing ends: a page that repeats the one before it (a server
 * that ignores offset while claiming more) or a listing past
 * CONN_MAX_PAGES pages is DD_EPROTO, naming c->endpoint. */
#define CONN_MAX_PAGES 20000
struct conn_pager {
	uint64_t last;        /* hash of the previous page's items */
	int pages;
};
int conn_page_check(struct dd_conn *c, struct conn_pager *p, const struct cJSON *items,
                    struct dd_error *err);
/* What conn_page_check compares pages by: a hash of the items (0 for none). */
uint64_t conn_items_hash(const struct cJSON *items);
/* Does rc stop a whole call (authentication, an interrupt, the store, a
 * usage error), rather than leave out some DAGs or runs? */
int conn_stops_all(int rc);

/* A page item callback (ud: struct conn_id_ud): hands the element's id
 * on, or rejects an element without one. */
int conn_id_item(struct dd_conn *c, const struct cJSON *el, void *ud);
/* Callback and data of a list_runs call: `read` checks and reads one
 * element, id_key names its id member, `what` the object in a rejection;
 * n counts the elements seen. */
struct conn_run_ud {
	dd_run_cb cb;
	void *ud;
	int (*read)(const struct cJSON *el, struct dd_run *out, struct conn_check *ck);
	const char *id_key, *what;
	size_t n;
};
/* A page item callback (ud: struct conn_run_ud): hands the run on, or
 * rejects it. */
int conn_run_item(struct dd_conn *c, const struct cJSON *el, void *ud);
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
/* Hands *ti to u->cb, or when ck found a problem rejects it (conn_reject);
 * then releases it.  Returns what the callback returned (0 when rejected). */
int conn_ti_emit(struct dd_conn *c, struct conn_ti_ud *u, struct dd_task_instance *ti,
                 const struct conn_check *ck);
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

/* ---- how each connector reads each answer (public for the fuzz targets) ----
 * Each reader fills *out from one element of an answer, checking it (see
 * conn_check); 0, or -1 with the problem in ck and *out released. */
int af_read_dag(const struct cJSON *j, struct dd_dag *out, struct conn_check *ck);             /* GET /dags/{id} */
int af_read_task(const struct cJSON *el, struct dd_task *out, struct conn_check *ck);          /* .../tasks */
int af_read_run(const struct cJSON *el, struct dd_run *out, struct conn_check *ck);            /* .../dagRuns */
int af_read_ti(const struct cJSON *el, const char *run_id, struct dd_task_instance *out,
               struct conn_check *ck);                                                          /* taskInstances, tries */
int af_read_import_error(const struct cJSON *el, struct dd_import_error *out, struct conn_check *ck);
int af_read_health(const struct cJSON *j, struct dd_health *out, struct conn_check *ck);
/* A JSON log page: its text (v1 repr decoded, v2 one event a line) appended
 * to text, *token its continuation token (caller frees). */
int af_read_log_page(const struct cJSON *j, struct dd_buf *text, char **token, struct conn_check *ck);
/* The texts of a v1 "content" repr [(host, text), ...], or s as it is. */
void af_v1_texts(const char *s, struct dd_buf *out);
/* What a continuation token says: end_of_log, log_pos (-1 unknown). */
void af_token_info(const char *tok, int *end, int64_t *pos);

int pf_read_run(const struct cJSON *el, struct dd_run *out, struct conn_check *ck);           /* /flow_runs/filter */
int pf_read_task_run(const struct cJSON *el, struct dd_task_instance *out, struct conn_check *ck);  /* /task_runs/filter */
/* /task_run_states/: the tries a state history shows (*out caller-freed, *n of them). */
int pf_read_states(const struct cJSON *states, const struct dd_task_instance *ti, struct dd_try **out,
                   size_t *n, struct conn_check *ck);
/* /logs/filter: one record, appended to line as "ts | LEVEL | logger - message\n". */
int pf_read_log_record(const struct cJSON *rec, struct dd_buf *line, struct conn_check *ck);

#endif
