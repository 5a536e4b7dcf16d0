/*
 * airflow_fleet.c - the Airflow connector's fleet operations (connector.h):
 * the definitions of many DAGs, the runs of many DAGs and the task
 * instances and tries of many runs, so that the number of requests follows
 * the amount of data, not the number of DAGs or runs.
 *
 * Runs and task instances come from the batch endpoints (POST
 * .../dags/~/dagRuns/list, .../dags/~/dagRuns/~/taskInstances/list), whose
 * pages are asked for at once: the first page of every listing together,
 * then every remaining page together (http_run, up to the source's
 * concurrency).  The first pages ask for a large page; the server clamps
 * page_limit to its [api] maximum_page_limit without saying so, and an
 * answer with fewer items than asked while total_entries says more shows
 * that limit, which the connection keeps for its later listings.
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "dagdoc/http.h"
#include "airflow_impl.h"

#define AF_ASK_PAGE 1000          /* page_limit asked for until the server showed its own */
#define AF_IDS_PER_BODY 100       /* DAG ids, or run ids, in one request body */

/* ---- batch listings, their pages asked for at once ------------------------ */

struct listing;
/* Reads one element of a listing's answer into the caller's accumulator. */
typedef void (*listing_item_fn)(struct dd_conn *c, struct listing *l, const cJSON *el, void *ud);

/* One query of a batch endpoint (one request body without its paging). */
struct listing {
	char *filters;            /* the body's other members, JSON text without braces */
	int rc;                   /* 0, or why it could not be read (after the HTTP client's retries) */
	struct dd_error err;
	int64_t total;            /* total_entries of its first page, -1 unknown */
	int64_t first_n;          /* items on its first page */
	uint64_t first_hash;      /* its first page's items (a later page the same: offset ignored) */
};

struct listing_call {
	struct dd_conn *c;
	const char *path;         /* "/api/v1/dags/~/dagRuns/list" */
	const char *key;          /* the answer's list: "dag_runs", "task_instances" */
	listing_item_fn item;
	void *ud;
};

struct page {
	struct http_xfer x;
	const struct listing_call *call;
	struct listing *l;
	int64_t offset;
	char *body;
	int rc;                   /* this page's failure */
	struct dd_error err;
};

static int page_done(struct http_xfer *x)
{
	struct page *p = x->ud;
	struct dd_conn *c = p->call->c;
	struct af *a = c->impl;
	struct listing *l = p->l;
	void *jv = NULL;
	const cJSON *arr, *total, *el;

	af_sync_stats(c);
	conn_set_endpoint(c, "POST", x->url);
	p->rc = http_check_json(a->http, x, &jv, &p->err);
	if (p->rc < 0)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(jv, p->call->key);
	total = cJSON_GetObjectItemCaseSensitive(jv, "total_entries");
	if (!cJSON_IsArray(arr)) {
		p->rc = dd_error_set(&p->err, DD_EPROTO, "Airflow at %s answered %s without a \"%s\" list; is "
		                     "this the Airflow REST API?", a->root, c->endpoint, p->call->key);
		goto out;
	}
	if (p->offset == 0) {
		l->total = cJSON_IsNumber(total) && total->valuedouble >= 0 && total->valuedouble < 1e15 ?
		           (int64_t)total->valuedouble : -1;
		l->first_n = cJSON_GetArraySize(arr);
		l->first_hash = conn_items_hash(arr);
	} else if (cJSON_GetArraySize(arr) > 0 && conn_items_hash(arr) == l->first_hash) {
		p->rc = dd_error_set(&p->err, DD_EPROTO, "%s at %s answered the page at offset %lld with its first "
		                     "page again while claiming %lld entries; stopped (does the server ignore "
		                     "page_offset?)", c->source->name, c->endpoint, (long long)p->offset,
		                     (long long)l->total);
		goto out;
	}
	cJSON_ArrayForEach(el, arr)
		p->call->item(c, l, el, p->call->ud);
out:
	cJSON_Delete(jv);
	dd_buf_release(&x->body);   /* read: bound what all pages hold at once */
	return 0;
}

/* (Re)arms p's transfer: POST {"page_offset", "page_limit", filters...}. */
static void page_arm(struct page *p)
{
	http_xfer_release(&p->x);
	memset(&p->x, 0, sizeof(p->x));
	dd_error_clear(&p->err);
	p->rc = 0;
	p->x.url = (char *)p->call->path;
	p->x.post = p->body;
	p->x.post_len = strlen(p->body);
	p->x.done = page_done;
	p->x.ud = p;
}

static void page_init(struct page *p, const struct listing_call *call, struct listing *l, int64_t offset,
                      int limit)
{
	memset(p, 0, sizeof(*p));
	p->call = call;
	p->l = l;
	p->offset = offset;
	p->body = dd_xasprintf("{\"page_offset\":%lld,\"page_limit\":%d%s%s}", (long long)offset, limit,
	                       *l->filters ? "," : "", l->filters);
	page_arm(p);
}

static void pages_release(struct page *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		http_xfer_release(&ps[i].x);
		free(ps[i].body);
	}
	free(ps);
}

/* Runs ps[0..n) at once.  Pages refused with 401 after a token exchange
 * (the token expired) are sent again once with a new token.  Each failed
 * page's error goes to its listing; DD_EAUTH (credentials refused) is
 * returned, with err. */
static int run_pages(struct dd_conn *c, struct page *ps, size_t n, struct dd_error *err)
{
	struct af *a = c->impl;
	struct http_xfer **xs = dd_xcalloc(n + 1, sizeof(*xs));
	size_t m = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		xs[i] = &ps[i].x;
	rc = http_run(a->http, xs, n, err);
	if (rc == 0 && a->exchanged) {
		for (size_t i = 0; i < n; i++)
			if (ps[i].rc == DD_EAUTH && ps[i].x.status == 401)
				xs[m++] = &ps[i].x;
		if (m > 0 && af_exchange_token(c, err) == 0) {
			for (size_t i = 0; i < m; i++)
				page_arm(xs[i]->ud);
			rc = http_run(a->http, xs, m, err);
		}
	}
	free(xs);
	af_sync_stats(c);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct listing *l = ps[i].l;

		if (ps[i].rc == DD_EAUTH) {
			*err = ps[i].err;
			rc = DD_EAUTH;
		} else if (ps[i].rc < 0 && l->rc == 0) {
			l->rc = ps[i].rc;
			l->err = ps[i].err;
		}
	}
	return rc;
}

/* Reads every page of listings ls[0..n): the first pages at once, then the
 * server's page limit learnt from them, then every remaining page at once.
 * A listing that could not be read keeps its error (ls[i].rc, .err); the
 * call fails only when the credentials are refused. */
static int fetch_listings(const struct listing_call *call, struct listing *ls, size_t n, struct dd_error *err)
{
	struct dd_conn *c = call->c;
	struct af *a = c->impl;
	int ask = a->page_limit > 0 ? a->page_limit : AF_ASK_PAGE, limit = ask;
	struct page *ps = dd_xcalloc(n + 1, sizeof(*ps));
	size_t np = 0;
	int rc;

	if (n == 0) {
		free(ps);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		ls[i].total = -1;
		page_init(&ps[i], call, &ls[i], 0, ask);
	}
	rc = run_pages(c, ps, n, err);
	pages_release(ps, n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct listing *l = &ls[i];

		if (l->rc == 0 && l->first_n == 0 && l->total > 0)
			l->rc = dd_error_set(&l->err, DD_EPROTO, "%s at %s answered an empty first page while claiming "
			                     "%lld entries", c->source->name, call->path, (long long)l->total);
		/* fewer than asked while there is more: the server's own limit */
		if (l->rc == 0 && l->first_n > 0 && l->first_n < ask && l->total > l->first_n && l->first_n < limit)
			limit = (int)l->first_n;
	}
	if (limit < ask)
		a->page_limit = limit;
	for (size_t i = 0; i < n; i++) {
		int64_t rest = ls[i].rc == 0 && ls[i].total > ls[i].first_n ? ls[i].total - ls[i].first_n : 0;
		int64_t pages = (rest + limit - 1) / limit;

		if (pages > CONN_MAX_PAGES) {
			ls[i].rc = dd_error_set(&ls[i].err, DD_EPROTO, "%s at %s claims %lld entries, past %d pages; not "
			                        "read", c->source->name, call->path, (long long)ls[i].total,
			                        CONN_MAX_PAGES);
			continue;
		}
		np += (size_t)pages;
	}
	ps = dd_xcalloc(np + 1, sizeof(*ps));
	np = 0;
	for (size_t i = 0; i < n; i++)
		for (int64_t off = ls[i].first_n; ls[i].rc == 0 && off < ls[i].total; off += limit)
			page_init(&ps[np++], call, &ls[i], off, limit);
	rc = np ? run_pages(c, ps, np, err) : 0;
	pages_release(ps, np);
	return rc;
}

static void listings_release(struct listing *ls, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ls[i].filters);
	free(ls);
}

/* Appends `"name":["v0","v1",...]` (JSON-escaped). */
static void add_id_list(struct dd_buf *b, const char *name, const char *const *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	char *text;

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	text = cJSON_PrintUnformatted(arr);
	dd_buf_addf(b, "%s\"%s\":%s", b->len ? "," : "", name, text);
	cJSON_free(text);
	cJSON_Delete(arr);
}

/* An id member of an answer's element, read leniently (NULL when absent). */
static const char *member_id(const cJSON *el, const char *key)
{
	return cJSON_IsObject(el) ? conn_jstr(NULL, el, key) : NULL;
}

/* ---- index of the ids a call asked for ---------------------------------- */

struct key_ref {
	const char *dag_id, *run_id;     /* run_id NULL: a DAG */
	size_t i;                        /* its index in the caller's array */
};

static int cmp_key_ref(const void *x, const void *y)
{
	const struct key_ref *a = x, *b = y;
	int d = strcmp(a->dag_id, b->dag_id);

	if (d || !a->run_id || !b->run_id)
		return d;
	return strcmp(a->run_id, b->run_id);
}

/* The entry for (dag_id, run_id) in sorted v[0..n), or NULL. */
static const struct key_ref *find_key(const struct key_ref *v, size_t n, const char *dag_id, const char *run_id)
{
	struct key_ref k = { dag_id, run_id, 0 };

	if (!dag_id || (!run_id && n && v[0].run_id))
		return NULL;
	return bsearch(&k, v, n, sizeof(*v), cmp_key_ref);
}

/* ---- GET requests of many objects at once --------------------------------- */

/* The JSON answer of a finished GET transfer into *jv (0), or its error in e. */
static int get_answer(struct dd_conn *c, struct http_xfer *x, void **jv, struct dd_error *e)
{
	struct af *a = c->impl;

	af_sync_stats(c);
	conn_set_endpoint(c, "GET", x->url);
	return http_check_json(a->http, x, jv, e);
}

/* ---- definitions of many DAGs ------------------------------------------- */

struct dag_job {
	struct http_xfer x;
	struct dd_conn *c;
	const char *dag_id;
	struct dd_dag dag;
	int step;                 /* 0: /dags/{id}, 1: /dags/{id}/tasks */
	int rc;
	struct dd_error err;
	char *url;
};

static int dag_done(struct http_xfer *x)
{
	struct dag_job *j = x->ud;
	void *jv = NULL;

	j->rc = get_answer(j->c, x, &jv, &j->err);
	if (j->rc < 0)
		return 0;
	if (j->step == 0) {
		af_dag_answer(j->c, j->dag_id, jv, &j->dag);
		cJSON_Delete(jv);
		j->step = 1;
		dd_buf_release(&x->body);
		/* then its tasks, on the same transfer */
		char *tasks = dd_xasprintf("%s/tasks", j->url);

		free(j->url);
		j->url = tasks;
		x->url = j->url;
		return 1;
	}
	af_tasks_answer(j->c, j->dag_id, jv, &j->dag);
	cJSON_Delete(jv);
	return 0;
}

int af_get_dags(struct dd_conn *c, const char *const *dag_ids, size_t n, dd_dag_result_cb cb, void *ud,
                struct dd_error *err)
{
	struct af *a = c->impl;
	struct dag_job *jobs = dd_xcalloc(n + 1, sizeof(*jobs));
	struct http_xfer **xs = dd_xcalloc(n + 1, sizeof(*xs));
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct dd_buf u = DD_BUF_INIT;

		af_dag_path(a, &u, dag_ids[i]);
		jobs[i].c = c;
		jobs[i].dag_id = dag_ids[i];
		jobs[i].url = dd_buf_detach(&u);
		jobs[i].x.url = jobs[i].url;
		jobs[i].x.done = dag_done;
		jobs[i].x.ud = &jobs[i];
		xs[i] = &jobs[i].x;
	}
	rc = http_run(a->http, xs, n, err);
	af_sync_stats(c);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct dag_job *j = &jobs[i];

		if (j->rc == DD_EAUTH) {
			*err = j->err;
			rc = DD_EAUTH;
		} else if (j->rc < 0 && j->step == 0 && j->x.status == 404) {
			j->rc = af_no_such_dag(c, j->dag_id, &j->err);
		}
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct dag_job *j = &jobs[i];

		rc = cb(i, j->rc < 0 ? NULL : &j->dag, j->rc < 0 ? &j->err : NULL, ud);
	}
	for (size_t i = 0; i < n; i++) {
		dd_dag_release(&jobs[i].dag);
		http_xfer_release(&jobs[i].x);
		free(jobs[i].url);
	}
	free(jobs);
	free(xs);
	return rc;
}

/* ---- runs of many DAGs -------------------------------------------------- */

struct dag_runs {
	struct run_at {
		struct dd_run run;
		int64_t at;               /* what the per-DAG listing orders and filters by */
	} *v;
	size_t n, cap;
};

struct runs_call {
	struct af *a;
	const int64_t *since_ms;
	struct key_ref *dags;         /* sorted */
	size_t n_dags;
	struct dag_runs *per_dag;     /* by the caller's index */
};

static void run_item(struct dd_conn *c, struct listing *l, const cJSON *el, void *ud)
{
	struct runs_call *u = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	const char *dag_id = member_id(el, "dag_id");
	const struct key_ref *k = find_key(u->dags, u->n_dags, dag_id, NULL);
	struct run_at r;

	(void)l;
	if (af_read_run(el, &r.run, &ck) < 0 || !k) {
		const char *id = member_id(el, "dag_run_id");
		char what[300];

		if (!ck.bad)
			conn_check_fail(&ck, "dag_id: %s", dag_id ? "a DAG that was not asked for" :
			                "missing where the run's DAG is expected");
		dd_run_release(&r.run);   /* released already when it failed its checks */
		snprintf(what, sizeof(what), "run %.200s", id ? id : "(no id)");
		conn_reject_dag(c, dag_id, what, id, &ck);
		return;
	}
	/* the per-DAG listing filters and orders by execution_date (v1), run_after (v2) */
	r.at = u->a->api == 2 ? conn_jtime(NULL, el, "run_after") : 0;
	if (!r.at)
		r.at = r.run.logical_ms;
	if (r.at < u->since_ms[k->i]) {
		dd_run_release(&r.run);
		return;
	}
	struct dag_runs *d = &u->per_dag[k->i];

	DD_GROW(d->v, d->cap, d->n + 1);
	d->v[d->n++] = r;
}

static int cmp_run_at(const void *x, const void *y)
{
	const struct run_at *a = x, *b = y;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return strcmp(a->run.run_id, b->run.run_id);
}

int af_list_runs_multi(struct dd_conn *c, const char *const *dag_ids, const int64_t *since_ms, size_t n,
                       dd_dag_run_cb cb, void *ud, struct dd_error *err)
{
	struct af *a = c->impl;
	char path[64];
	struct runs_call u = { a, since_ms, dd_xcalloc(n + 1, sizeof(struct key_ref)), n,
	                       dd_xcalloc(n + 1, sizeof(struct dag_runs)) };
	struct listing_call call = { c, path, "dag_runs", run_item, &u };
	size_t n_ls = (n + AF_IDS_PER_BODY - 1) / AF_IDS_PER_BODY;
	struct listing *ls = dd_xcalloc(n_ls + 1, sizeof(*ls));
	int rc;

	snprintf(path, sizeof(path), "%s/dags/~/dagRuns/list", a->prefix);
	for (size_t i = 0; i < n; i++)
		u.dags[i] = (struct key_ref){ dag_ids[i], NULL, i };
	dd_qsort(u.dags, n, sizeof(*u.dags), cmp_key_ref);
	for (size_t k = 0; k < n_ls; k++) {
		size_t lo = k * AF_IDS_PER_BODY, hi = lo + AF_IDS_PER_BODY < n ? lo + AF_IDS_PER_BODY : n;
		int64_t since = INT64_MAX;
		struct dd_buf b = DD_BUF_INIT;

		for (size_t i = lo; i < hi; i++)
			if (since_ms[i] < since)
				since = since_ms[i];
		add_id_list(&b, "dag_ids", dag_ids + lo, hi - lo);
		/* id: unique, so pages asked for at once neither overlap nor miss */
		dd_buf_adds(&b, ",\"order_by\":\"id\"");
		if (since > 0) {
			char t[40];

			dd_format_time(since, 1, t, sizeof(t));
			dd_buf_addf(&b, ",\"%s\":\"%s\"", a->api == 2 ? "run_after_gte" : "execution_date_gte", t);
		}
		ls[k].filters = dd_buf_detach(&b);
	}
	rc = fetch_listings(&call, ls, n_ls, err);
	for (size_t k = 0; k < n_ls && rc == 0; k++)
		if (ls[k].rc < 0) {
			*err = ls[k].err;
			rc = ls[k].rc;
		}
	for (size_t i = 0; i < n; i++) {
		struct dag_runs *d = &u.per_dag[i];

		dd_qsort(d->v, d->n, sizeof(*d->v), cmp_run_at);
		for (size_t j = 0; j < d->n; j++) {
			if (rc == 0)
				rc = cb(i, &d->v[j].run, ud);
			dd_run_release(&d->v[j].run);
		}
		free(d->v);
	}
	listings_release(ls, n_ls);
	free(u.dags);
	free(u.per_dag);
	return rc;
}

/* ---- task instances and tries of many runs ------------------------------ */

struct run_tis {
	struct dd_ti_tries *v;
	size_t n, cap;
	int rc;                       /* its chunk or one of its tries could not be read */
	struct dd_error err;
};

struct tis_call {
	const struct dd_run_key *runs;
	struct key_ref *keys;         /* sorted (dag_id, run_id) */
	size_t n;
	struct run_tis *per_run;      /* by the caller's index */
};

static void ti_item(struct dd_conn *c, struct listing *l, const cJSON *el, void *ud)
{
	struct tis_call *u = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	const char *dag_id = member_id(el, "dag_id"), *run_id = member_id(el, "dag_run_id");
	const struct key_ref *k = find_key(u->keys, u->n, dag_id, run_id);
	struct dd_task_instance ti;

	(void)l;
	if (dag_id && run_id && !k)
		return;   /* a run of the same id in another DAG of the chunk: not asked for */
	if (af_read_ti(el, run_id, &ti, &ck) < 0 || !k) {
		char what[200];

		if (!ck.bad)
			conn_check_fail(&ck, "%s: missing where the task instance's %s is expected",
			                dag_id ? "dag_run_id" : "dag_id", dag_id ? "run" : "DAG");
		snprintf(what, sizeof(what), "task instance %.120s", ti.task_id ? ti.task_id : "(no task_id)");
		conn_reject_dag(c, dag_id, what, run_id, &ck);
		dd_task_instance_release(&ti);
		return;
	}
	struct run_tis *r = &u->per_run[k->i];

	DD_GROW(r->v, r->cap, r->n + 1);
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	r->v[r->n++].ti = ti;
}

struct tries_job {
	struct http_xfer x;
	struct dd_conn *c;
	const char *dag_id;
	struct run_tis *run;
	struct dd_ti_tries *t;
	char *url;
	int rc;
	struct dd_error err;
};

static int tries_done(struct http_xfer *x)
{
	struct tries_job *j = x->ud;
	void *jv = NULL;

	j->rc = get_answer(j->c, x, &jv, &j->err);
	if (j->rc == 0) {
		af_tries_answer(j->c, j->dag_id, &j->t->ti, jv, &j->t->tries, &j->t->n_tries);
		cJSON_Delete(jv);
	} else if (x->status == 404) {
		af_tries_missing(j->c->impl, &j->err);
		j->rc = 0;   /* synthesised below */
	}
	dd_buf_release(&x->body);
	return 0;
}

/* The tries of every task instance of the runs that were read: one request
 * for each with more than one try, all at once; the others (and every one
 * on a server without the history) are made from the task instance. */
static int fetch_tries(struct dd_conn *c, struct tis_call *u, struct dd_error *err)
{
	struct af *a = c->impl;
	struct tries_job *jobs = NULL;
	struct http_xfer **xs;
	size_t nj = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < u->n && !a->no_tries_endpoint; i++) {
		struct run_tis *r = &u->per_run[i];

		for (size_t k = 0; r->rc == 0 && k < r->n; k++) {
			struct dd_ti_tries *t = &r->v[k];
			struct dd_buf url = DD_BUF_INIT;

			if (t->ti.try_number <= 1)
				continue;
			DD_GROW(jobs, cap, nj + 1);
			af_tries_path(a, &url, u->runs[i].dag_id, &t->ti);
			jobs[nj] = (struct tries_job){ .c = c, .dag_id = u->runs[i].dag_id, .run = r, .t = t,
			                               .url = dd_buf_detach(&url) };
			nj++;
		}
	}
	xs = dd_xcalloc(nj + 1, sizeof(*xs));
	for (size_t i = 0; i < nj; i++) {
		jobs[i].x.url = jobs[i].url;
		jobs[i].x.done = tries_done;
		jobs[i].x.ud = &jobs[i];
		xs[i] = &jobs[i].x;
	}
	if (nj)
		rc = http_run(a->http, xs, nj, err);
	af_sync_stats(c);
	for (size_t i = 0; i < nj; i++) {
		struct tries_job *j = &jobs[i];

		if (rc == 0 && j->rc == DD_EAUTH) {
			*err = j->err;
			rc = DD_EAUTH;
		} else if (j->rc < 0 && j->run->rc == 0) {
			j->run->rc = j->rc;
			j->run->err = j->err;
		}
		http_xfer_release(&j->x);
		free(j->url);
	}
	free(jobs);
	free(xs);
	for (size_t i = 0; i < u->n; i++)
		for (size_t k = 0; k < u->per_run[i].n; k++) {
			struct dd_ti_tries *t = &u->per_run[i].v[k];

			if (!t->tries)
				af_synth_tries(&t->ti, &t->tries, &t->n_tries);
		}
	return rc;
}

static int cmp_ti_tries(const void *x, const void *y)
{
	const struct dd_ti_tries *a = x, *b = y;
	int d = strcmp(a->ti.task_id, b->ti.task_id);

	return d ? d : (a->ti.map_index > b->ti.map_index) - (a->ti.map_index < b->ti.map_index);
}

/* Groups the sorted keys into request bodies: up to AF_IDS_PER_BODY runs
 * each, of as few DAGs as the order gives. */
static size_t tis_listings(struct af *a, const struct key_ref *keys, size_t n, struct listing **out)
{
	size_t n_ls = (n + AF_IDS_PER_BODY - 1) / AF_IDS_PER_BODY;
	struct listing *ls = dd_xcalloc(n_ls + 1, sizeof(*ls));

	for (size_t k = 0; k < n_ls; k++) {
		size_t lo = k * AF_IDS_PER_BODY, hi = lo + AF_IDS_PER_BODY < n ? lo + AF_IDS_PER_BODY : n;
		const char **dags = dd_xcalloc(hi - lo + 1, sizeof(*dags));
		const char **runs = dd_xcalloc(hi - lo + 1, sizeof(*runs));
		size_t nd = 0;
		struct dd_buf b = DD_BUF_INIT;

		for (size_t i = lo; i < hi; i++) {
			if (!nd || strcmp(dags[nd - 1], keys[i].dag_id))
				dags[nd++] = keys[i].dag_id;
			runs[i - lo] = keys[i].run_id;
		}
		add_id_list(&b, "dag_ids", dags, nd);
		add_id_list(&b, "dag_run_ids", runs, hi - lo);
		if (a->api == 2)
			dd_buf_adds(&b, ",\"order_by\":\"id\"");   /* unique: pages at once neither overlap nor miss */
		ls[k].filters = dd_buf_detach(&b);
		free(dags);
		free(runs);
	}
	*out = ls;
	return n_ls;
}

int af_list_run_tis(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb, void *ud,
                    struct dd_error *err)
{
	struct af *a = c->impl;
	char path[80];
	struct tis_call u = { runs, dd_xcalloc(n + 1, sizeof(struct key_ref)), n,
	                      dd_xcalloc(n + 1, sizeof(struct run_tis)) };
	struct listing_call call = { c, path, "task_instances", ti_item, &u };
	struct listing *ls;
	size_t n_ls;
	int rc;

	snprintf(path, sizeof(path), "%s/dags/~/dagRuns/~/taskInstances/list", a->prefix);
	for (size_t i = 0; i < n; i++)
		u.keys[i] = (struct key_ref){ runs[i].dag_id, runs[i].run_id, i };
	dd_qsort(u.keys, n, sizeof(*u.keys), cmp_key_ref);
	n_ls = tis_listings(a, u.keys, n, &ls);
	rc = fetch_listings(&call, ls, n_ls, err);
	/* a chunk that could not be read: its runs get its error */
	for (size_t k = 0; k < n_ls; k++) {
		size_t lo = k * AF_IDS_PER_BODY, hi = lo + AF_IDS_PER_BODY < n ? lo + AF_IDS_PER_BODY : n;

		for (size_t i = lo; i < hi && ls[k].rc < 0; i++) {
			struct run_tis *r = &u.per_run[u.keys[i].i];

			r->rc = ls[k].rc;
			r->err = ls[k].err;
		}
	}
	listings_release(ls, n_ls);
	if (rc == 0)
		rc = fetch_tries(c, &u, err);
	for (size_t i = 0; i < n; i++) {
		struct run_tis *r = &u.per_run[i];

		if (rc == 0) {
			dd_qsort(r->v, r->n, sizeof(*r->v), cmp_ti_tries);
			rc = cb(&runs[i], r->rc < 0 ? NULL : r->v, r->rc < 0 ? 0 : r->n, r->rc < 0 ? &r->err : NULL, ud);
		}
		conn_ti_tries_release(r->v, r->n);
	}
	free(u.keys);
	free(u.per_run);
	return rc;
}
