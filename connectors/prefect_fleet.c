/*
 * prefect_fleet.c - the Prefect connector's fleet operations (connector.h):
 * the flows and flow runs of many DAGs and the task runs and tries of many
 * flow runs, through the /filter endpoints with id sets.  Listings go in
 * pages of the server's own limit (learnt from its 422 the first time),
 * requested at once after a /count says how many; state histories are
 * asked for concurrently.  get_dag is get_dags of one DAG, so the two read
 * and reject alike.
 */
#include "dagdoc/util.h"

#include <stdlib.h>

#include "dagdoc/http.h"
#include "prefect_impl.h"

#define IDS_PER_FILTER 500          /* ids in one any_ list */
#define MAX_IDS_BYTES (1 << 20)     /* and their bytes: far below Cloud's 5 MiB cap on a body (413) */
#define RECENT_RUNS 5               /* the latest runs whose task runs give a DAG's tasks */

/* ---- ids in filters --------------------------------------------------------- */

/* The end of the chunk of ids starting at `from`: at most IDS_PER_FILTER ids
 * and MAX_IDS_BYTES of them, at least one. */
static size_t chunk_end(const char *const *ids, size_t from, size_t n)
{
	size_t bytes = 0, i = from;

	while (i < n && i - from < IDS_PER_FILTER) {
		bytes += strlen(ids[i]) + 4;
		if (bytes > MAX_IDS_BYTES && i > from)
			break;
		i++;
	}
	return i;
}

/* {"key": {"any_": [ids[from..to)]}} added to obj under `model`. */
static void add_any(cJSON *body, const char *model, const char *key, const char *const *ids, size_t from,
                    size_t to)
{
	cJSON *m = cJSON_GetObjectItemCaseSensitive(body, model);
	cJSON *k, *any;

	if (!m)
		m = cJSON_AddObjectToObject(body, model);
	k = cJSON_AddObjectToObject(m, key);
	any = cJSON_AddArrayToObject(k, "any_");
	for (size_t i = from; i < to; i++)
		cJSON_AddItemToArray(any, cJSON_CreateString(ids[i]));
}

/* ---- a listing in pages requested at once ------------------------------------ */

struct listing {
	struct dd_conn *c;
	const char *path, *count_path;
	const cJSON *filter;      /* the body without limit and offset */
	/* each element of each page (in order within a page, pages in any order) */
	void (*item)(struct dd_conn *c, const cJSON *el, void *ud);
	void *ud;
	int rc;                   /* the first failure */
	struct dd_error err;
};

struct page {
	struct listing *l;
	struct http_xfer x;
	char *post;
	int64_t offset;
	int limit;
	int n;                    /* elements answered */
};

static void page_set(struct page *pg, int limit)
{
	cJSON *b = cJSON_Duplicate(pg->l->filter, 1);

	pg->limit = limit;
	cJSON_AddNumberToObject(b, "limit", limit);
	cJSON_AddNumberToObject(b, "offset", (double)pg->offset);
	free(pg->post);
	pg->post = pf_print_json(b);
	pg->x.url = (char *)pg->l->path;
	pg->x.post = pg->post;
	pg->x.post_len = strlen(pg->post);
}

/* One page answered: the limit learnt from a 422, or its elements handed on. */
static int page_done(struct http_xfer *x)
{
	struct page *pg = x->ud;
	struct listing *l = pg->l;
	struct pf *p = l->c->impl;
	struct dd_error e = DD_ERROR_INIT;
	void *jv = NULL;
	const cJSON *el;
	int rc, said;

	pf_sync_stats(l->c);
	conn_set_endpoint(l->c, "POST", x->url);
	said = x->rc == 0 ? pf_limit_of_422(x->status, x->body.data, x->body.len) : 0;
	if (said > 0 && said < pg->limit) {
		p->limit = said;
		page_set(pg, said);
		return 1;
	}
	rc = http_check_json(p->http, x, &jv, &e);
	if (rc == 0)
		rc = pf_check_list(l->c, l->path, jv, &e);
	dd_buf_release(&x->body);
	if (rc < 0) {
		cJSON_Delete(jv);
		if (!l->rc) {
			l->rc = rc;
			l->err = e;
		}
		return rc;   /* the listing failed: its other pages are not needed */
	}
	if (!p->limit)
		p->limit = pg->limit;   /* the large page passed: the server allows it */
	cJSON_ArrayForEach(el, (cJSON *)jv) {
		pg->n++;
		l->item(l->c, el, l->ud);
	}
	cJSON_Delete(jv);
	return 0;
}

/* Requests n pages from offset `from` at once; *last_n the elements of the last. */
static int run_pages(struct listing *l, int64_t from, size_t n, int limit, int *last_n)
{
	struct pf *p = l->c->impl;
	struct page *pv = dd_xcalloc(n + 1, sizeof(*pv));
	struct http_xfer **xs = dd_xcalloc(n + 1, sizeof(*xs));
	struct dd_error e = DD_ERROR_INIT;
	int rc;

	for (size_t i = 0; i < n; i++) {
		pv[i].l = l;
		pv[i].offset = from + (int64_t)i * limit;
		pv[i].x.ud = &pv[i];
		pv[i].x.done = page_done;
		page_set(&pv[i], limit);
		xs[i] = &pv[i].x;
	}
	rc = http_run(p->http, xs, n, &e);
	if (rc < 0 && !l->rc) {
		l->rc = rc;
		l->err = e;
	}
	*last_n = n ? pv[n - 1].n : 0;
	for (size_t i = 0; i < n; i++) {
		http_xfer_release(&pv[i].x);
		free(pv[i].post);
	}
	free(pv);
	free(xs);
	return l->rc;
}

/* How many elements the listing's filter matches (its /count). */
static int listing_count(struct listing *l, int64_t *total, struct dd_error *err)
{
	struct pf *p = l->c->impl;
	cJSON *b = cJSON_Duplicate(l->filter, 1), *j = NULL;
	char *post;
	int rc;

	cJSON_DeleteItemFromObjectCaseSensitive(b, "sort");
	post = pf_print_json(b);
	rc = pf_json(l->c, l->count_path, post, &j, NULL, err);
	free(post);
	if (rc == 0 && (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 1e12))
		rc = dd_error_set(err, DD_EPROTO, "Prefect at %s answered POST %s with something other than a "
		                  "count", http_client_base(p->http), l->count_path);
	*total = rc == 0 ? (int64_t)j->valuedouble : 0;
	cJSON_Delete(j);
	return rc;
}

/* Every element the filter matches: the first page alone (while the
 * limit is unknown it asks for PF_ASK_LIMIT and learns); when it is full,
 * the count, then every other page at once.  What a listing gains between
 * its count and its pages comes with the next sync. */
static int listing_run(struct listing *l, struct dd_error *err)
{
	struct pf *p = l->c->impl;
	int64_t total = 0;
	int last = 0, rc;

	if (run_pages(l, 0, 1, p->limit ? p->limit : PF_ASK_LIMIT, &last) < 0)
		goto fail;
	if (last < p->limit)
		return 0;
	if ((rc = listing_count(l, &total, err)) < 0)
		return rc;
	if (total > p->limit) {
		size_t n = (size_t)((total - p->limit + p->limit - 1) / p->limit);

		if (run_pages(l, p->limit, n, p->limit, &last) < 0)
			goto fail;
	}
	return 0;
fail:
	*err = l->err;
	return l->rc;
}

/* ---- flows and deployments by name, many at once ------------------------------ */

struct found {
	struct dd_strv flow_names, flow_ids;
	struct dd_strv dep_flow_ids, dep_names, dep_ids, dep_entries;   /* entry "" when none */
};

/* Elements that fail their check are left out here: pf_resolve looks such a
 * DAG up alone and rejects what it gets. */
static int found_flow(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct found *f = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	const char *id = NULL, *name = NULL;

	(void)c;
	if (conn_jis_obj(&ck, el)) {
		id = conn_jstr_req(&ck, el, "id");
		name = conn_jstr_req(&ck, el, "name");
	}
	if (!ck.bad) {
		dd_strv_push(&f->flow_names, name);
		dd_strv_push(&f->flow_ids, id);
	}
	return 0;
}

static int found_deployment(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct found *f = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	const char *id = NULL, *flow = NULL, *name = NULL, *entry = NULL;

	(void)c;
	if (conn_jis_obj(&ck, el)) {
		id = conn_jstr_req(&ck, el, "id");
		flow = conn_jstr_req(&ck, el, "flow_id");
		name = conn_jstr_req(&ck, el, "name");
		entry = conn_jstr(&ck, el, "entrypoint");
	}
	if (!ck.bad) {
		dd_strv_push(&f->dep_ids, id);
		dd_strv_push(&f->dep_flow_ids, flow);
		dd_strv_push(&f->dep_names, name);
		dd_strv_push(&f->dep_entries, entry ? entry : "");
	}
	return 0;
}

static void found_release(struct found *f)
{
	dd_strv_release(&f->flow_names);
	dd_strv_release(&f->flow_ids);
	dd_strv_release(&f->dep_flow_ids);
	dd_strv_release(&f->dep_names);
	dd_strv_release(&f->dep_ids);
	dd_strv_release(&f->dep_entries);
}

static ptrdiff_t index_of(const struct dd_strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return (ptrdiff_t)i;
	return -1;
}

/* The flow's first deployment (by name), or the deployment `name` of it; -1 none. */
static ptrdiff_t deployment_of(const struct found *f, const char *flow_id, const char *name)
{
	for (size_t i = 0; i < f->dep_ids.n; i++)
		if (!strcmp(f->dep_flow_ids.v[i], flow_id) && (!name || !strcmp(f->dep_names.v[i], name)))
			return (ptrdiff_t)i;
	return -1;
}

/* Looks up, in a few listings, the flows and deployments that dag_ids name
 * and are not cached yet, and caches them (entrypoints too).  Those it does
 * not find stay uncached: pf_resolve says what is missing. */
static int resolve_many(struct dd_conn *c, const char *const *dag_ids, size_t n, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct dd_strv names = DD_STRV_INIT;
	struct found f = { DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT };
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		char *flow = dd_xstrndup(dag_ids[i], strcspn(dag_ids[i], "/"));

		if (!pf_find_ref(p, dag_ids[i]) && !dd_strv_contains(&names, flow))
			dd_strv_push(&names, flow);
		free(flow);
	}
	for (size_t i = 0, end; i < names.n && rc == 0; i = end) {
		cJSON *body = cJSON_CreateObject();

		end = chunk_end((const char *const *)names.v, i, names.n);
		add_any(body, "flows", "name", (const char *const *)names.v, i, end);
		rc = pf_pages(c, "/flows/filter", body, found_flow, &f, err);
	}
	for (size_t i = 0, end; i < f.flow_ids.n && rc == 0; i = end) {
		cJSON *body = cJSON_CreateObject();

		end = chunk_end((const char *const *)f.flow_ids.v, i, f.flow_ids.n);
		add_any(body, "flows", "id", (const char *const *)f.flow_ids.v, i, end);
		cJSON_AddStringToObject(body, "sort", "NAME_ASC");
		rc = pf_pages(c, "/deployments/filter", body, found_deployment, &f, err);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *slash = strchr(dag_ids[i], '/');
		char *flow = dd_xstrndup(dag_ids[i], strcspn(dag_ids[i], "/"));
		ptrdiff_t fi = index_of(&f.flow_names, flow), di;
		struct flow_ref r = { 0 };

		free(flow);
		if (fi < 0 || pf_find_ref(p, dag_ids[i]))
			continue;
		di = deployment_of(&f, f.flow_ids.v[fi], slash ? slash + 1 : NULL);
		if (slash && di < 0)
			continue;
		r.dag_id = dd_xstrdup(dag_ids[i]);
		r.flow_id = dd_xstrdup(f.flow_ids.v[fi]);
		r.deployment_id = slash ? dd_xstrdup(f.dep_ids.v[di]) : NULL;
		r.entrypoint = di >= 0 && *f.dep_entries.v[di] ? dd_xstrdup(f.dep_entries.v[di]) : NULL;
		r.entry_known = 1;
		pf_add_ref(p, &r);
	}
	found_release(&f);
	dd_strv_release(&names);
	return rc;
}

/* The cache index of each dag_id, resolving those resolve_many left (one
 * request each, for its error).  idx[i] is -1 with errs[i] for a DAG that
 * cannot be read; a failure of the whole call is returned. */
static int refs_of(struct dd_conn *c, const char *const *dag_ids, size_t n, ptrdiff_t *idx,
                   struct dd_error *errs, struct dd_error *err)
{
	struct pf *p = c->impl;
	int rc = resolve_many(c, dag_ids, n, err);

	for (size_t i = 0; i < n && rc == 0; i++) {
		struct flow_ref *f = pf_find_ref(p, dag_ids[i]);
		int r = f ? 0 : pf_resolve(c, dag_ids[i], &f, &errs[i]);

		if (r < 0 && conn_stops_all(r)) {
			*err = errs[i];
			return r;
		}
		idx[i] = r < 0 ? -1 : f - p->flows;
	}
	return rc;
}

/* ---- DAG definitions ---------------------------------------------------------- */

enum dag_step { STEP_ENTRY, STEP_RECENT, STEP_TASKS, STEP_DONE };

struct dag_job {
	struct dd_conn *c;
	const char *dag_id;
	ptrdiff_t ref;            /* in p->flows; -1: not found (err) */
	enum dag_step step;
	struct http_xfer x;
	char *post;
	int64_t offset;           /* STEP_TASKS: the page */
	int limit;
	struct conn_pager pager;
	struct dd_strv recent;    /* the latest runs' ids */
	struct tr_list trs;       /* their task runs */
	struct dd_dag dag;
	int rc;
	struct dd_error err;
};

static void job_post(struct dag_job *j, const char *path, cJSON *body)
{
	free(j->post);
	j->post = pf_print_json(body);
	j->x.url = (char *)path;
	j->x.post = j->post;
	j->x.post_len = strlen(j->post);
}

/* Sets up the request of the job's step: 1, or 0 when it has none left. */
static int dag_job_next(struct dag_job *j)
{
	struct pf *p = j->c->impl;
	const struct flow_ref *f = &p->flows[j->ref];
	cJSON *b;

	if (j->step == STEP_ENTRY && f->entry_known)
		j->step = STEP_RECENT;
	switch (j->step) {
	case STEP_ENTRY:   /* the file: the entrypoint of the flow's first deployment */
		b = cJSON_CreateObject();
		cJSON_AddItemToObject(cJSON_AddObjectToObject(b, "flows"), "id", pf_any_of(f->flow_id));
		cJSON_AddNumberToObject(b, "limit", 1);
		job_post(j, "/deployments/filter", b);
		return 1;
	case STEP_RECENT:
		b = pf_runs_body(f);
		cJSON_AddStringToObject(b, "sort", "EXPECTED_START_TIME_DESC");
		cJSON_AddNumberToObject(b, "limit", RECENT_RUNS);
		job_post(j, "/flow_runs/filter", b);
		return 1;
	case STEP_TASKS:
		b = pf_task_runs_body((const char *const *)j->recent.v, j->recent.n);
		j->limit = p->limit && p->limit < PF_PAGE ? p->limit : PF_PAGE;
		cJSON_AddNumberToObject(b, "limit", j->limit);
		cJSON_AddNumberToObject(b, "offset", (double)j->offset);
		job_post(j, "/task_runs/filter", b);
		return 1;
	case STEP_DONE:
		break;
	}
	return 0;
}

static void read_entry(struct dag_job *j, const cJSON *list)
{
	struct pf *p = j->c->impl;
	struct flow_ref *f = &p->flows[j->ref];

	if (cJSON_GetArraySize(list) > 0) {
		struct conn_check ck = CONN_CHECK_INIT;
		char *ep = conn_jdup(&ck, cJSON_GetArrayItem(list, 0), "entrypoint");

		if (ck.bad)
			conn_reject(j->c, "deployment (for the DAG's file)", NULL, &ck);
		else
			f->entrypoint = ep;
	}
	f->entry_known = 1;
}

static int dag_done(struct http_xfer *x)
{
	struct dag_job *j = x->ud;
	struct dd_conn *c = j->c;
	struct pf *p = c->impl;
	const cJSON *el;
	void *jv = NULL;
	int rc, said, n = 0;

	pf_sync_stats(c);
	conn_set_endpoint(c, "POST", x->url);
	said = x->rc == 0 ? pf_limit_of_422(x->status, x->body.data, x->body.len) : 0;
	if (j->step == STEP_TASKS && said > 0 && said < j->limit) {
		p->limit = said;
		return dag_job_next(j);
	}
	rc = http_check_json(p->http, x, &jv, &j->err);
	if (rc == 0)
		rc = pf_check_list(c, x->url, jv, &j->err);
	if (rc == 0 && j->step == STEP_TASKS)
		rc = conn_page_check(c, &j->pager, jv, &j->err);
	if (rc < 0) {
		cJSON_Delete(jv);
		j->rc = rc;
		return conn_stops_all(rc) ? rc : 0;
	}
	c->reject_dag = j->dag_id;
	switch (j->step) {
	case STEP_ENTRY:
		read_entry(j, jv);
		j->step = STEP_RECENT;
		break;
	case STEP_RECENT:
		cJSON_ArrayForEach(el, (cJSON *)jv)
			if (pf_recent_run_id(c, el, &j->recent))
				break;
		j->step = j->recent.n ? STEP_TASKS : STEP_DONE;
		break;
	case STEP_TASKS:
		cJSON_ArrayForEach(el, (cJSON *)jv) {
			n++;
			pf_collect_tr(c, el, &j->trs);
		}
		j->offset += n;
		if (n < j->limit)
			j->step = STEP_DONE;
		break;
	case STEP_DONE:
		break;
	}
	c->reject_dag = NULL;
	cJSON_Delete(jv);
	return dag_job_next(j);
}

static void dag_jobs_release(struct dag_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		http_xfer_release(&jobs[i].x);
		free(jobs[i].post);
		dd_strv_release(&jobs[i].recent);
		pf_tr_list_release(&jobs[i].trs);
		dd_dag_release(&jobs[i].dag);
	}
	free(jobs);
}

/* Reads n definitions at once into *out (caller releases with
 * dag_jobs_release): each job's dag, or its rc and err. */
static int run_dag_jobs(struct dd_conn *c, const char *const *dag_ids, size_t n, struct dag_job **out,
                        struct dd_error *err)
{
	struct pf *p = c->impl;
	struct dag_job *jobs = dd_xcalloc(n + 1, sizeof(*jobs));
	struct http_xfer **xs = dd_xcalloc(n + 1, sizeof(*xs));
	struct dd_error *errs = dd_xcalloc(n + 1, sizeof(*errs));
	ptrdiff_t *idx = dd_xcalloc(n + 1, sizeof(*idx));
	size_t m = 0;
	int rc = refs_of(c, dag_ids, n, idx, errs, err);

	for (size_t i = 0; i < n; i++) {
		struct dag_job *j = &jobs[i];

		j->c = c;
		j->dag_id = dag_ids[i];
		j->ref = idx[i];
		if (rc < 0)
			continue;
		if (j->ref < 0) {
			j->rc = errs[i].code ? errs[i].code : DD_ENOTFOUND;
			j->err = errs[i];
			continue;
		}
		j->x.ud = j;
		j->x.done = dag_done;
		if (dag_job_next(j))
			xs[m++] = &j->x;
	}
	if (rc == 0 && m)
		rc = http_run(p->http, xs, m, err);
	for (size_t i = 0; i < n && rc < 0; i++)
		if (jobs[i].rc == rc)
			*err = jobs[i].err;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct dag_job *j = &jobs[i];
		const struct flow_ref *f;

		if (j->rc < 0)
			continue;
		f = &p->flows[j->ref];
		j->dag.dag_id = dd_xstrdup(j->dag_id);
		j->dag.external_id = dd_xstrdup(f->deployment_id ? f->deployment_id : f->flow_id);
		if (f->entrypoint)
			j->dag.fileloc = dd_xstrndup(f->entrypoint, strcspn(f->entrypoint, ":"));
		pf_dag_tasks(&j->dag, &j->trs);
	}
	pf_sync_stats(c);
	free(xs);
	free(errs);
	free(idx);
	*out = jobs;
	return rc;
}

int pf_get_dags(struct dd_conn *c, const char *const *dag_ids, size_t n, dd_dag_result_cb cb, void *ud,
                struct dd_error *err)
{
	struct dag_job *jobs;
	int rc = run_dag_jobs(c, dag_ids, n, &jobs, err);

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cb(i, jobs[i].rc < 0 ? NULL : &jobs[i].dag, jobs[i].rc < 0 ? &jobs[i].err : NULL, ud);
	dag_jobs_release(jobs, n);
	return rc;
}

int pf_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err)
{
	struct dag_job *jobs;
	int rc = run_dag_jobs(c, &dag_id, 1, &jobs, err);

	memset(out, 0, sizeof(*out));
	if (rc == 0 && jobs[0].rc < 0) {
		rc = jobs[0].rc;
		*err = jobs[0].err;
	} else if (rc == 0) {
		*out = jobs[0].dag;
		memset(&jobs[0].dag, 0, sizeof(jobs[0].dag));
	}
	dag_jobs_release(jobs, 1);
	return rc;
}

/* ---- DAG summaries -------------------------------------------------------------- */

/* Every flow, with the file of its first deployment (by name); each is
 * cached, so the fleet operations that follow need no lookup. */
int pf_list_dag_summaries(struct dd_conn *c, dd_dag_cb cb, void *ud, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct found f = { DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT };
	cJSON *body = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(body, "sort", "NAME_ASC");
	rc = pf_pages(c, "/flows/filter", body, found_flow, &f, err);
	if (rc == 0) {
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "sort", "NAME_ASC");
		rc = pf_pages(c, "/deployments/filter", body, found_deployment, &f, err);
	}
	for (size_t i = 0; i < f.flow_ids.n && rc == 0; i++) {
		ptrdiff_t di = deployment_of(&f, f.flow_ids.v[i], NULL);
		const char *entry = di >= 0 && *f.dep_entries.v[di] ? f.dep_entries.v[di] : NULL;
		struct dd_dag d = { 0 };

		if (!pf_find_ref(p, f.flow_names.v[i])) {
			struct flow_ref r = { 0 };

			r.dag_id = dd_xstrdup(f.flow_names.v[i]);
			r.flow_id = dd_xstrdup(f.flow_ids.v[i]);
			r.entrypoint = dd_xstrdup(entry);
			r.entry_known = 1;
			pf_add_ref(p, &r);
		}
		d.dag_id = f.flow_names.v[i];
		d.external_id = f.flow_ids.v[i];
		d.fileloc = entry ? dd_xstrndup(entry, strcspn(entry, ":")) : NULL;
		rc = cb(&d, ud);
		free(d.fileloc);
	}
	found_release(&f);
	return rc;
}

/* ---- runs of many DAGs ------------------------------------------------------------ */

/* A flow or deployment id and the DAG it plays. */
struct id_dag {
	const char *id;
	size_t dag;
};

static int id_dag_cmp(const void *a, const void *b)
{
	const struct id_dag *x = a, *y = b;
	int d = strcmp(x->id, y->id);

	return d ? d : (x->dag > y->dag) - (x->dag < y->dag);
}

/* The first entry of v[0..n) (sorted) with id, or n. */
static size_t id_dag_first(const struct id_dag *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct dag_runs {
	struct dd_run *v;
	size_t n, cap;
};

struct runs_multi {
	const char *const *dag_ids;
	const int64_t *since_ms;
	const struct id_dag *chunk;   /* the DAGs of the listing, by id */
	size_t n_chunk;
	const char *id_key;           /* "flow_id" or "deployment_id" */
	struct dag_runs *runs;        /* per DAG */
};

static void multi_run_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct runs_multi *u = ud;
	const char *key = cJSON_IsObject(el) ? conn_jstr(NULL, el, u->id_key) : NULL;

	for (size_t k = key ? id_dag_first(u->chunk, u->n_chunk, key) : u->n_chunk;
	     k < u->n_chunk && !strcmp(u->chunk[k].id, key); k++) {
		size_t d = u->chunk[k].dag;
		struct conn_check ck = CONN_CHECK_INIT;
		struct dd_run r;
		struct dag_runs *dr = &u->runs[d];

		/* validate, then use: a date that cannot be read is a rejected run,
		 * never one taken for old and dropped */
		if (pf_read_run(el, &r, &ck) < 0) {
			const char *id = cJSON_IsObject(el) ? conn_jstr(NULL, el, "id") : NULL;
			char what[300];

			snprintf(what, sizeof(what), "flow run %.200s", id ? id : "(no id)");
			conn_reject_dag(c, u->dag_ids[d], what, id, &ck);
			continue;
		}
		if (u->since_ms[d] > 0 && r.logical_ms < u->since_ms[d]) {
			dd_run_release(&r);
			continue;   /* older than this DAG's own since */
		}
		DD_GROW(dr->v, dr->cap, dr->n + 1);
		dr->v[dr->n++] = r;
	}
}

static int run_cmp(const void *a, const void *b)
{
	const struct dd_run *x = a, *y = b;

	if (x->logical_ms != y->logical_ms)
		return x->logical_ms < y->logical_ms ? -1 : 1;
	return strcmp(x->run_id, y->run_id);
}

static void dag_runs_release(struct dag_runs *dr)
{
	for (size_t i = 0; i < dr->n; i++)
		dd_run_release(&dr->v[i]);
	free(dr->v);
	memset(dr, 0, sizeof(*dr));
}

/* Hands the runs of one DAG on, oldest first and each once, and frees them. */
static int deliver_runs(size_t d, struct dag_runs *dr, dd_dag_run_cb cb, void *ud)
{
	int rc = 0;

	dd_qsort(dr->v, dr->n, sizeof(*dr->v), run_cmp);
	for (size_t i = 0; i < dr->n && rc == 0; i++)
		if (!(i > 0 && !strcmp(dr->v[i].run_id, dr->v[i - 1].run_id)))
			rc = cb(d, &dr->v[i], ud);
	dag_runs_release(dr);
	return rc;
}

/* The runs of the DAGs in v[0..n) (flows or deployments by id, sorted), in
 * chunks of ids: one listing each, from the earliest since of its DAGs,
 * which are delivered when it ends. */
static int runs_of_ids(struct dd_conn *c, struct runs_multi *u, const struct id_dag *v, size_t n,
                       const char *model, dd_dag_run_cb cb, void *ud, struct dd_error *err)
{
	const char **ids = dd_xcalloc(n + 1, sizeof(*ids));
	int rc = 0;

	for (size_t from = 0, to; from < n && rc == 0; from = to) {
		cJSON *filter = cJSON_CreateObject();
		struct listing l = { 0 };
		int64_t since = INT64_MAX;
		size_t n_ids = 0, bytes = 0;

		for (to = from; to < n; to++) {
			if (n_ids && !strcmp(ids[n_ids - 1], v[to].id))
				continue;
			if (n_ids == IDS_PER_FILTER || (n_ids && bytes + strlen(v[to].id) + 4 > MAX_IDS_BYTES))
				break;
			bytes += strlen(v[to].id) + 4;
			ids[n_ids++] = v[to].id;
		}
		for (size_t k = from; k < to; k++)
			if (u->since_ms[v[k].dag] < since)
				since = u->since_ms[v[k].dag];
		add_any(filter, model, "id", ids, 0, n_ids);
		if (since > 0) {
			char t[40];
			cJSON *est = cJSON_AddObjectToObject(cJSON_AddObjectToObject(filter, "flow_runs"),
			                                     "expected_start_time");

			pf_iso(since, t, sizeof(t));
			cJSON_AddStringToObject(est, "after_", t);
		}
		cJSON_AddStringToObject(filter, "sort", "EXPECTED_START_TIME_ASC");
		u->chunk = v + from;
		u->n_chunk = to - from;
		l.c = c;
		l.path = "/flow_runs/filter";
		l.count_path = "/flow_runs/count";
		l.filter = filter;
		l.item = multi_run_item;
		l.ud = u;
		rc = listing_run(&l, err);
		cJSON_Delete(filter);
		for (size_t k = from; k < to; k++) {
			if (rc == 0)
				rc = deliver_runs(v[k].dag, &u->runs[v[k].dag], cb, ud);
			dag_runs_release(&u->runs[v[k].dag]);
		}
	}
	free(ids);
	return rc;
}

int pf_list_runs_multi(struct dd_conn *c, const char *const *dag_ids, const int64_t *since_ms, size_t n,
                       dd_dag_run_cb cb, void *ud, struct dd_error *err)
{
	struct pf *p = c->impl;
	ptrdiff_t *idx = dd_xcalloc(n + 1, sizeof(*idx));
	struct dd_error *errs = dd_xcalloc(n + 1, sizeof(*errs));
	struct id_dag *flows = dd_xcalloc(n + 1, sizeof(*flows)), *deps = dd_xcalloc(n + 1, sizeof(*deps));
	size_t n_flows = 0, n_deps = 0;
	struct runs_multi u = { dag_ids, since_ms, NULL, 0, NULL, dd_xcalloc(n + 1, sizeof(struct dag_runs)) };
	int rc = refs_of(c, dag_ids, n, idx, errs, err);

	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct flow_ref *f;

		if (idx[i] < 0) {   /* one DAG that cannot be listed fails the call */
			*err = errs[i];
			rc = errs[i].code ? errs[i].code : DD_ENOTFOUND;
			break;
		}
		f = &p->flows[idx[i]];
		if (f->deployment_id)
			deps[n_deps++] = (struct id_dag){ f->deployment_id, i };
		else
			flows[n_flows++] = (struct id_dag){ f->flow_id, i };
	}
	dd_qsort(flows, n_flows, sizeof(*flows), id_dag_cmp);
	dd_qsort(deps, n_deps, sizeof(*deps), id_dag_cmp);
	if (rc == 0 && n_flows) {
		u.id_key = "flow_id";
		rc = runs_of_ids(c, &u, flows, n_flows, "flows", cb, ud, err);
	}
	if (rc == 0 && n_deps) {
		u.id_key = "deployment_id";
		rc = runs_of_ids(c, &u, deps, n_deps, "deployments", cb, ud, err);
	}
	pf_sync_stats(c);
	free(u.runs);
	free(flows);
	free(deps);
	free(errs);
	free(idx);
	return rc;
}

/* ---- task runs and tries of many flow runs --------------------------------------- */

struct run_slot {
	const struct dd_run_key *key;
	struct dd_ti_tries *v;
	size_t n, cap;
	int rc;                   /* its task runs or a history could not be read */
	struct dd_error err;
};

struct tis_chunk {
	struct run_slot *slots;
	struct id_dag *by_run;    /* flow run id -> slot, sorted */
	size_t n;
};

static void chunk_ti_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct tis_chunk *t = ud;
	const char *fr = cJSON_IsObject(el) ? conn_jstr(NULL, el, "flow_run_id") : NULL;

	if (!fr) {
		/* validate, then use: a task run that names no flow run is rejected
		 * (its run unknown: every run of the request is left out), never
		 * skipped as if it were not there */
		struct conn_check ck = CONN_CHECK_INIT;

		conn_check_fail(&ck, cJSON_IsObject(el) ? "flow_run_id: missing where the task run's flow run is expected"
		                                         : "a task run that is not an object");
		conn_reject_dag(c, NULL, "task run", NULL, &ck);
		return;
	}
	for (size_t k = fr ? id_dag_first(t->by_run, t->n, fr) : t->n; k < t->n && !strcmp(t->by_run[k].id, fr);
	     k++) {
		struct run_slot *s = &t->slots[t->by_run[k].dag];
		struct conn_check ck = CONN_CHECK_INIT;
		struct dd_task_instance ti;

		pf_read_task_run(el, &ti, &ck);
		if (!ti.run_id)
			ti.run_id = dd_xstrdup(s->key->run_id);
		if (ck.bad) {
			char what[200];

			snprintf(what, sizeof(what), "task instance %.120s", ti.task_id ? ti.task_id : "(no task_id)");
			conn_reject_dag(c, s->key->dag_id, what, s->key->run_id, &ck);
			dd_task_instance_release(&ti);
			continue;
		}
		DD_GROW(s->v, s->cap, s->n + 1);
		memset(&s->v[s->n], 0, sizeof(s->v[s->n]));
		s->v[s->n++].ti = ti;
	}
}

struct states_job {
	struct dd_conn *c;
	struct http_xfer x;
	struct run_slot *slot;
	size_t k;                 /* the task run in slot->v */
};

static int states_done(struct http_xfer *x)
{
	struct states_job *j = x->ud;
	struct pf *p = j->c->impl;
	struct dd_ti_tries *t = &j->slot->v[j->k];
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_error e = DD_ERROR_INIT;
	void *jv = NULL;
	int rc;

	pf_sync_stats(j->c);
	conn_set_endpoint(j->c, "GET", x->url);
	rc = http_check_json(p->http, x, &jv, &e);
	if (rc < 0) {
		if (!j->slot->rc) {
			j->slot->rc = rc;
			j->slot->err = e;
		}
		return conn_stops_all(rc) ? rc : 0;
	}
	if (pf_tries_of(p, &t->ti, jv, &t->tries, &t->n_tries, &ck) < 0) {
		char what[200];

		/* no tries: the run is not stored complete */
		snprintf(what, sizeof(what), "the state history of task run %.120s", t->ti.task_id);
		conn_reject_dag(j->c, j->slot->key->dag_id, what, t->ti.run_id, &ck);
	}
	cJSON_Delete(jv);
	return 0;
}

/* The tries of every task run of the chunk: those that need their history
 * at once, the others from the task run. */
static int chunk_tries(struct dd_conn *c, struct run_slot *slots, size_t n, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct states_job *jobs = NULL;
	struct http_xfer **xs;
	size_t m = 0, cap = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; slots[i].rc == 0 && k < slots[i].n; k++) {
			struct dd_ti_tries *t = &slots[i].v[k];
			struct conn_check ck = CONN_CHECK_INIT;

			if (!pf_needs_history(&t->ti)) {
				pf_tries_of(p, &t->ti, NULL, &t->tries, &t->n_tries, &ck);
				continue;
			}
			DD_GROW(jobs, cap, m + 1);
			memset(&jobs[m], 0, sizeof(jobs[m]));
			jobs[m].c = c;
			jobs[m].slot = &slots[i];
			jobs[m].k = k;
			jobs[m].x.url = pf_states_url(t->ti.external_id);
			jobs[m].x.done = states_done;
			m++;
		}
	}
	xs = dd_xcalloc(m + 1, sizeof(*xs));
	for (size_t i = 0; i < m; i++) {
		jobs[i].x.ud = &jobs[i];
		xs[i] = &jobs[i].x;
	}
	if (m)
		rc = http_run(p->http, xs, m, err);
	for (size_t i = 0; i < m; i++) {
		if (rc < 0 && jobs[i].slot->rc == rc)
			*err = jobs[i].slot->err;
		http_xfer_release(&jobs[i].x);
		free(jobs[i].x.url);
	}
	free(jobs);
	free(xs);
	return rc;
}

/* One chunk of runs: their task runs in one listing, then their tries;
 * each run delivered once. */
static int run_tis_chunk(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb, void *ud,
                         struct dd_error *err)
{
	struct tis_chunk t = { dd_xcalloc(n + 1, sizeof(*t.slots)), dd_xcalloc(n + 1, sizeof(*t.by_run)), n };
	const char **ids = dd_xcalloc(n + 1, sizeof(*ids));
	size_t n_ids = 0;
	cJSON *filter;
	struct listing l = { 0 };
	struct dd_error e = DD_ERROR_INIT;
	int rc;

	for (size_t i = 0; i < n; i++) {
		t.slots[i].key = &runs[i];
		t.by_run[i] = (struct id_dag){ runs[i].run_id, i };
	}
	dd_qsort(t.by_run, n, sizeof(*t.by_run), id_dag_cmp);
	for (size_t i = 0; i < n; i++)
		if (!n_ids || strcmp(ids[n_ids - 1], t.by_run[i].id))
			ids[n_ids++] = t.by_run[i].id;
	filter = pf_task_runs_body(ids, n_ids);
	l.c = c;
	l.path = "/task_runs/filter";
	l.count_path = "/task_runs/count";
	l.filter = filter;
	l.item = chunk_ti_item;
	l.ud = &t;
	rc = listing_run(&l, &e);
	cJSON_Delete(filter);
	for (size_t i = 0; rc < 0 && i < n; i++) {
		t.slots[i].rc = rc;
		t.slots[i].err = e;
	}
	if (rc < 0 && conn_stops_all(rc))
		*err = e;
	else
		rc = chunk_tries(c, t.slots, n, err);
	for (size_t i = 0; i < n; i++) {
		const struct run_slot *s = &t.slots[i];

		if (rc == 0)
			rc = cb(s->key, s->rc ? NULL : s->v, s->rc ? 0 : s->n, s->rc ? &s->err : NULL, ud);
		conn_ti_tries_release(s->v, s->n);
	}
	pf_sync_stats(c);
	free(ids);
	free(t.slots);
	free(t.by_run);
	return rc;
}

int pf_list_run_tis(struct dd_conn *c, const struct dd_run_key *runs, size_t n, dd_run_tis_cb cb, void *ud,
                    struct dd_error *err)
{
	const char **ids = dd_xcalloc(n + 1, sizeof(*ids));
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		ids[i] = runs[i].run_id;
	for (size_t from = 0, to; from < n && rc == 0; from = to) {
		to = chunk_end(ids, from, n);
		rc = run_tis_chunk(c, runs + from, to - from, cb, ud, err);
	}
	free(ids);
	return rc;
}
