/*
 * connector.c - picks the implementation for a source's kind and forwards
 * the public conn_* calls to it.
 */
#include "dagdoc/util.h"

#include "conn_impl.h"
#include "dagdoc/http.h"

static const struct dd_conn_ops *ops_for(enum dd_source_kind kind)
{
	switch (kind) {
	case DD_SOURCE_AIRFLOW: return &dd_airflow_ops;
	case DD_SOURCE_PREFECT: return &dd_prefect_ops;
	case DD_SOURCE_LOGS: return &dd_logdir_ops;
	}
	return NULL;
}

int conn_open(const struct dd_source *src, int verbose, struct dd_conn **out,
              struct dd_error *err)
{
	const struct dd_conn_ops *ops = ops_for(src->kind);
	struct dd_conn *c;

	if (ops && !ops->open)
		ops = NULL;
	int rc;

	*out = NULL;
	if (!ops)
		return dd_error_set(err, DD_EUSAGE, "source %s has an unknown kind", src->name);
	if (src->unset_env)   /* before any request: not a 401 blamed on other variables */
		return dd_error_set(err, DD_EUSAGE, "%s", src->unset_env);
	c = dd_xcalloc(1, sizeof(*c));
	c->source = src;
	c->ops = ops;
	c->verbose = verbose;
	snprintf(c->description, sizeof(c->description), "%s source %s", ops->kind, src->name);
	rc = ops->open(c, err);
	if (rc < 0) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void conn_close(struct dd_conn *c)
{
	if (!c)
		return;
	c->ops->close(c);
	free(c);
}

void conn_on_reject(struct dd_conn *c, dd_reject_cb cb, void *ud)
{
	c->on_reject = cb;
	c->reject_ud = ud;
}

const char *conn_describe(const struct dd_conn *c)
{
	return c->description;
}

int conn_list_dags(struct dd_conn *c, dd_dag_id_cb cb, void *ud, struct dd_error *err)
{
	return c->ops->list_dags(c, cb, ud, err);
}

int conn_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err)
{
	return c->ops->get_dag(c, dag_id, out, err);
}

int conn_list_runs(struct dd_conn *c, const char *dag_id, int64_t since_ms,
                   dd_run_cb cb, void *ud, struct dd_error *err)
{
	return c->ops->list_runs(c, dag_id, since_ms, cb, ud, err);
}

int conn_list_task_instances(struct dd_conn *c, const char *dag_id, const char *run_id,
                             dd_ti_cb cb, void *ud, struct dd_error *err)
{
	return c->ops->list_task_instances(c, dag_id, run_id, cb, ud, err);
}

int conn_list_tries(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
                    dd_try_cb cb, void *ud, struct dd_error *err)
{
	return c->ops->list_tries(c, dag_id, ti, cb, ud, err);
}

int conn_fetch_logs(struct dd_conn *c, const struct dd_log_request *reqs, size_t n,
                    dd_log_cb cb, void *ud, struct dd_error *err)
{
	return c->ops->fetch_logs(c, reqs, n, cb, ud, err);
}

/* ---- fleet operations: the connector's own, else the per-DAG ones ------- */

struct summary_ud {
	dd_dag_cb cb;
	void *ud;
};

static int summary_of_id(const char *dag_id, void *ud)
{
	struct summary_ud *u = ud;
	struct dd_dag d = { 0 };

	d.dag_id = (char *)dag_id;
	return u->cb(&d, u->ud);
}

int conn_list_dag_summaries(struct dd_conn *c, dd_dag_cb cb, void *ud, struct dd_error *err)
{
	struct summary_ud u = { cb, ud };

	if (c->ops->list_dag_summaries)
		return c->ops->list_dag_summaries(c, cb, ud, err);
	return c->ops->list_dags(c, summary_of_id, &u, err);
}

int conn_get_dags(struct dd_conn *c, const char *const *dag_ids, size_t n, dd_dag_result_cb cb,
                  void *ud, struct dd_error *err)
{
	int rc = 0;

	if (c->ops->get_dags)
		return c->ops->get_dags(c, dag_ids, n, cb, ud, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct dd_dag d = { 0 };
		struct dd_error e = DD_ERROR_INIT;

		c->reject_dag = dag_ids[i];
		rc = c->ops->get_dag(c, dag_ids[i], &d, &e);
		c->reject_dag = NULL;
		if (rc < 0 && conn_stops_all(rc)) {
			*err = e;
			break;
		}
		if (rc == 0 && !d.dag_id)
			d.dag_id = dd_xstrdup(dag_ids[i]);
		rc = cb(i, rc < 0 ? NULL : &d, rc < 0 ? &e : NULL, ud);
		dd_dag_release(&d);
	}
	return rc;
}

struct run_of_dag {
	dd_dag_run_cb cb;
	void *ud;
	size_t i;
};

static int run_of_dag(const struct dd_run *run, void *ud)
{
	struct run_of_dag *u = ud;

	return u->cb(u->i, run, u->ud);
}

int conn_list_runs_multi(struct dd_conn *c, const char *const *dag_ids, const int64_t *since_ms,
                         size_t n, dd_dag_run_cb cb, void *ud, struct dd_error *err)
{
	int rc = 0;

	if (c->ops->list_runs_multi)
		return c->ops->list_runs_multi(c, dag_ids, since_ms, n, cb, ud, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct run_of_dag u = { cb, ud, i };

		c->reject_dag = dag_ids[i];
		rc = c->ops->list_runs(c, dag_ids[i], since_ms[i], run_of_dag, &u, err);
		c->reject_dag = NULL;
	}
	return rc;
}

struct tis_acc {
	struct dd_ti_tries *v;
	size_t n, cap;
};

static int acc_ti(const struct dd_task_instance *ti, void *ud)
{
	struct tis_acc *a = ud;

	DD_GROW(a->v, a->cap, a->n + 1);
	memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
	dd_task_instance_copy(&a->v[a->n++].ti, ti);
	return 0;
}

static int acc_try(const struct dd_try *t, void *ud)
{
	struct dd_ti_tries *x = ud;
	struct dd_try *d;

	x->tries = dd_xrealloc(x->tries, (x->n_tries + 1) * sizeof(*x->tries));
	d = &x->tries[x->n_tries++];
	dd_try_copy(d, t);
	return 0;
}

void conn_ti_tries_release(struct dd_ti_tries *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dd_task_instance_release(&v[i].ti);
		for (size_t j = 0; j < v[i].n_tries; j++)
			dd_try_release(&v[i].tries[j]);
		free(v[i].tries);
	}
	free(v);
}

int conn_list_run_tis(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb,
                      void *ud, struct dd_error *err)
{
	int rc = 0;

	if (c->ops->list_run_tis)
		return c->ops->list_run_tis(c, runs, n, cb, ud, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct tis_acc a = { NULL, 0, 0 };
		struct dd_error e = DD_ERROR_INIT;

		c->reject_dag = runs[i].dag_id;
		rc = c->ops->list_task_instances(c, runs[i].dag_id, runs[i].run_id, acc_ti, &a, &e);
		for (size_t k = 0; k < a.n && rc == 0; k++) {
			if (!a.v[k].ti.run_id)
				a.v[k].ti.run_id = dd_xstrdup(runs[i].run_id);
			rc = c->ops->list_tries(c, runs[i].dag_id, &a.v[k].ti, acc_try, &a.v[k], &e);
		}
		c->reject_dag = NULL;
		if (rc < 0 && conn_stops_all(rc))
			*err = e;
		else
			rc = cb(&runs[i], rc < 0 ? NULL : a.v, rc < 0 ? 0 : a.n, rc < 0 ? &e : NULL, ud);
		conn_ti_tries_release(a.v, a.n);
	}
	return rc;
}

int conn_health(struct dd_conn *c, struct dd_health *out, struct dd_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!c->ops->health)
		return 0;
	return c->ops->health(c, out, err);
}

int conn_list_import_errors(struct dd_conn *c, dd_import_error_cb cb, void *ud,
                            struct dd_error *err)
{
	if (!c->ops->list_import_errors)
		return 0;
	return c->ops->list_import_errors(c, cb, ud, err);
}

void conn_stats(const struct dd_conn *c, struct dd_conn_stats *out)
{
	*out = c->stats;
}

void conn_ui(const struct dd_conn *c, struct dd_ui *out)
{
	memset(out, 0, sizeof(*out));
	if (c->ops->ui)
		c->ops->ui(c, out);
	if (out->base[0]) {
		/* the base is built from the source URL, which may hold user:password@ */
		char *clean = http_redact_url(out->base);

		snprintf(out->base, sizeof(out->base), "%s", clean);
		free(clean);
	}
	if (!out->base[0])
		out->form[0] = '\0';
}

/* Appends "/<escaped>" */
static void add_seg(struct dd_buf *b, const char *s)
{
	dd_buf_addch(b, '/');
	http_buf_add_escaped(b, s);
}

/* conn_ui_link, and with logs set conn_ui_try_link (see connector.h) */
static char *ui_link(const char *form, const char *base, const char *dag_id, const char *run_id,
                     const char *task_id, int logs, int try_number, const char *task_run_id)
{
	struct dd_buf b = DD_BUF_INIT;

	if (!form || !base || !*base || !dag_id)
		return NULL;
	dd_buf_adds(&b, base);
	if (!strcmp(form, "airflow-grid")) {
		dd_buf_adds(&b, "/dags");
		add_seg(&b, dag_id);
		dd_buf_adds(&b, "/grid");
		if (run_id) {
			dd_buf_adds(&b, "?dag_run_id=");
			http_buf_add_escaped(&b, run_id);
			if (task_id) {
				dd_buf_adds(&b, "&task_id=");
				http_buf_add_escaped(&b, task_id);
				if (logs)
					dd_buf_adds(&b, "&tab=logs");
			}
		}
	} else if (!strcmp(form, "airflow-runs")) {
		dd_buf_adds(&b, "/dags");
		add_seg(&b, dag_id);
		if (run_id) {
			dd_buf_adds(&b, "/runs");
			add_seg(&b, run_id);
			if (task_id) {
				dd_buf_adds(&b, "/tasks");
				add_seg(&b, task_id);
				if (logs && try_number > 0)
					dd_buf_addf(&b, "?try_number=%d", try_number);
			}
		}
	} else if (!strcmp(form, "prefect")) {
		if (logs && task_run_id && *task_run_id) {
			dd_buf_adds(&b, "/runs/task-run/");
			http_buf_add_escaped(&b, task_run_id);
		} else if (run_id) {
			dd_buf_adds(&b, "/runs/flow-run/");
			http_buf_add_escaped(&b, run_id);
		}
	} else {
		dd_buf_release(&b);
		return NULL;
	}
	return dd_buf_detach(&b);
}

char *conn_ui_link(const char *form, const char *base, const char *dag_id, const char *run_id,
                   const char *task_id)
{
	return ui_link(form, base, dag_id, run_id, task_id, 0, 0, NULL);
}

char *conn_ui_try_link(const char *form, const char *base, const char *dag_id, const char *run_id,
                       const char *task_id, int try_number, const char *task_run_id)
{
	return ui_link(form, base, dag_id, run_id, task_id, 1, try_number, task_run_id);
}

void dd_health_release(struct dd_health *h)
{
	free(h->scheduler_status);
	free(h->metadatabase_status);
	free(h->detail);
	memset(h, 0, sizeof(*h));
}
