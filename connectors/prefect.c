/*
 * prefect.c - the Prefect connector: a self-hosted server (PREFECT_API_URL,
 * optional basic auth from PREFECT_API_AUTH_STRING) or Prefect Cloud
 * (https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>, bearer
 * PREFECT_API_KEY).
 *
 * Mapping: a flow plays the DAG (or a deployment, named "flow/deployment"),
 * a flow run a run, a task run a task instance (task_id = the task run's
 * name, stable across runs: "extract-0"), and each Running..terminal (or
 * ..AwaitingRetry) segment of a task run's state history a try.  Upstream
 * edges come from task_inputs (task_run entries under any key but
 * "__parents__").  Logs come from POST /logs/filter (200 per page),
 * restricted to the try's time window, and are rendered one record per line:
 * "YYYY-MM-DD HH:MM:SS.mmm | LEVEL | logger - message".
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dagdoc/http.h"
#include "prefect_impl.h"

#define MAX_LOG_PAGES 5000
#define PF_MAX_TRIES 1000         /* a run_count above this is not believed */
#define PAGE PF_PAGE

/* ---- helpers ------------------------------------------------------------ */

/* Copies the client's request counters into c->stats. */
void pf_sync_stats(struct dd_conn *c)
{
	struct pf *p = c->impl;

	conn_sync_stats(c, p->http);
}

char *pf_print_json(cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	char *out = dd_xstrdup(s ? s : "{}");

	cJSON_free(s);
	cJSON_Delete(j);
	return out;
}

cJSON *pf_any_of(const char *id)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "any_");
	cJSON_AddItemToArray(a, cJSON_CreateString(id));
	return o;
}

void pf_iso(int64_t ms, char *out, size_t n)
{
	dd_format_time(ms, 1, out, n);
}

/* One JSON request to the server (see conn_json). */
int pf_json(struct dd_conn *c, const char *url, const char *post, cJSON **out,
                   long *status, struct dd_error *err)
{
	struct pf *p = c->impl;

	return conn_json(c, p->http, url, post, out, status, err);
}

int pf_check_list(struct dd_conn *c, const char *path, const cJSON *j, struct dd_error *err)
{
	struct pf *p = c->impl;

	if (cJSON_IsArray(j))
		return 0;
	return dd_error_set(err, DD_EPROTO, "Prefect at %s answered POST %s with something other than a list; "
	                    "is PREFECT_API_URL the API (ending in /api)?", http_client_base(p->http), path);
}

int pf_limit_of_422(long status, const char *body, size_t len)
{
	static const char said[] = "must be less than or equal to ";
	char *detail = status == 422 ? http_error_detail(body, len) : NULL;
	const char *at = detail ? strstr(detail, said) : NULL;
	long n = at ? strtol(at + sizeof(said) - 1, NULL, 10) : 0;

	free(detail);
	return n > 0 && n <= INT32_MAX ? (int)n : 0;
}

/* One page of a listing: *out its answer.  A 422 naming the server's page
 * limit below the one asked for lowers p->limit and asks again. */
static int post_page(struct dd_conn *c, const char *path, cJSON *body, int *limit, cJSON **out,
                     struct dd_error *err)
{
	struct pf *p = c->impl;

	for (;;) {
		struct http_xfer x = { 0 };
		char *post;
		void *jv = NULL;
		int rc, said;

		cJSON_ReplaceItemInObject(body, "limit", cJSON_CreateNumber(*limit));
		post = cJSON_PrintUnformatted(body);
		x.url = (char *)path;
		x.post = post;
		x.post_len = strlen(post);
		conn_set_endpoint(c, "POST", path);
		http_run1(p->http, &x);
		pf_sync_stats(c);
		said = x.rc == 0 ? pf_limit_of_422(x.status, x.body.data, x.body.len) : 0;
		if (said > 0 && said < *limit) {
			p->limit = *limit = said;
			http_xfer_release(&x);
			cJSON_free(post);
			continue;
		}
		rc = http_check_json(p->http, &x, &jv, err);
		http_xfer_release(&x);
		cJSON_free(post);
		*out = jv;
		return rc;
	}
}

int pf_pages(struct dd_conn *c, const char *path, cJSON *body,
             int (*item)(struct dd_conn *, const cJSON *, void *), void *ud, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct conn_pager pager = { 0, 0 };
	int64_t offset = 0;
	int limit = p->limit && p->limit < PAGE ? p->limit : PAGE;
	int rc = 0;

	cJSON_AddNumberToObject(body, "limit", limit);
	cJSON_AddNumberToObject(body, "offset", 0);
	for (;;) {
		cJSON *j = NULL, *el;
		int n = 0;

		cJSON_ReplaceItemInObject(body, "offset", cJSON_CreateNumber((double)offset));
		rc = post_page(c, path, body, &limit, &j, err);
		if (rc == 0)
			rc = pf_check_list(c, path, j, err);
		if (rc == 0)
			rc = conn_page_check(c, &pager, j, err);
		if (rc < 0) {
			cJSON_Delete(j);
			break;
		}
		cJSON_ArrayForEach(el, j) {
			n++;
			rc = item(c, el, ud);
			if (rc)
				break;
		}
		cJSON_Delete(j);
		if (rc)
			break;
		offset += n;
		if (n < limit)
			break;
	}
	cJSON_Delete(body);
	return rc;
}

/* ---- open/close --------------------------------------------------------- */

static void pf_free(struct pf *p)
{
	if (!p)
		return;
	http_client_free(p->http);
	free(p->base);
	free(p->account);
	free(p->workspace);
	free(p->version);
	free(p->url_env);
	free(p->auth_hint);
	for (size_t i = 0; i < p->n_flows; i++) {
		free(p->flows[i].dag_id);
		free(p->flows[i].flow_id);
		free(p->flows[i].deployment_id);
		free(p->flows[i].entrypoint);
	}
	free(p->flows);
	for (size_t i = 0; i < p->n_wins; i++) {
		free(p->wins[i].task_run_id);
		free(p->wins[i].starts);
	}
	free(p->wins);
	dd_strv_release(&p->names);
	free(p);
}

/* Cloud URLs: .../accounts/<a>/workspaces/<w>[/...] */
static void parse_cloud(struct pf *p, const char *url)
{
	const char *a = strstr(url, "/accounts/"), *w = strstr(url, "/workspaces/");

	if (a) {
		a += 10;
		p->account = dd_xstrndup(a, strcspn(a, "/?#"));
	}
	if (w) {
		w += 12;
		p->workspace = dd_xstrndup(w, strcspn(w, "/?#"));
	}
	p->cloud = strstr(url, "api.prefect.cloud") != NULL || (a && w);
}

static void pf_close(struct dd_conn *c)
{
	pf_free(c->impl);
	c->impl = NULL;
}

static int pf_open(struct dd_conn *c, struct dd_error *err)
{
	const struct dd_source *s = c->source;
	struct pf *p;
	struct http_opts o = { 0 };
	struct http_xfer x = { 0 };
	char *user = NULL;
	const char *pass = NULL;
	size_t n;
	int rc;

	if (!s->url || !*s->url)
		return dd_error_set(err, DD_EUSAGE, "source %s has no url; set PREFECT_API_URL (e.g. "
		                    "http://127.0.0.1:4200/api)", s->name);
	p = dd_xcalloc(1, sizeof(*p));
	c->impl = p;
	n = strlen(s->url);
	while (n > 0 && s->url[n - 1] == '/')
		n--;
	p->base = dd_xstrndup(s->url, n);
	parse_cloud(p, p->base);
	p->url_env = conn_url_env(s, "PREFECT_API_URL");
	{
		char *key = conn_cred_where(s, s->api_key_env, "api_key", "PREFECT_API_KEY");
		char *auth = conn_cred_where(s, s->auth_string_env, "auth_string", "PREFECT_API_AUTH_STRING");

		if (s->api_key && *s->api_key)
			p->auth_hint = dd_xasprintf("check %s (a Prefect Cloud key, pnu_... or pnb_..., with "
			                            "access to this workspace)", key);
		else if (s->auth_string && *s->auth_string)
			p->auth_hint = dd_xasprintf("check %s (user:password, as the server's "
			                            "PREFECT_SERVER_API_AUTH_STRING)", auth);
		else
			p->auth_hint = dd_xstrdup(p->cloud ? "set PREFECT_API_KEY" :
			                          "set PREFECT_API_AUTH_STRING (user:password) for a server with "
			                          "basic auth, or PREFECT_API_KEY for Prefect Cloud");
		rc = p->cloud && !(s->api_key && *s->api_key) ?
		     dd_error_set(err, DD_EAUTH, "Prefect Cloud needs an API key; set %s", key) : 0;
		free(key);
		free(auth);
		if (rc < 0)
			goto fail;
	}
	if (p->cloud && (!p->account || !p->workspace)) {
		rc = dd_error_set(err, DD_EUSAGE, "a Prefect Cloud URL names an account and a workspace "
		                  "(https://api.prefect.cloud/api/accounts/<id>/workspaces/<id>); fix %s",
		                  p->url_env);
		goto fail;
	}
	o.base_url = p->base;
	o.service = p->cloud ? "Prefect Cloud" : "Prefect";
	o.url_env = p->url_env;
	o.server_hint = "is the Prefect server running";
	o.auth_hint = p->auth_hint;
	if (s->api_key && *s->api_key) {
		o.bearer = s->api_key;
	} else if (s->auth_string && *s->auth_string) {
		const char *colon = strchr(s->auth_string, ':');
		user = colon ? dd_xstrndup(s->auth_string, (size_t)(colon - s->auth_string)) :
		       dd_xstrdup(s->auth_string);
		pass = colon ? colon + 1 : "";
		o.username = user;
		o.password = pass;
	}
	conn_http_opts(&o, c);
	rc = http_client_new(&o, &p->http, err);
	free(user);
	if (rc < 0)
		goto fail;

	/* an authenticated call that every server has: the package version */
	x.url = (char *)"/admin/version";
	http_run1(p->http, &x);
	pf_sync_stats(c);
	if (x.rc == 0 && (x.status == 404 || x.status == 405)) {
		/* Cloud and some proxies do not expose it: check the key elsewhere */
		cJSON *j = NULL;
		http_xfer_release(&x);
		rc = pf_json(c, "/flows/filter", "{\"limit\":1}", &j, NULL, err);
		cJSON_Delete(j);
		if (rc < 0)
			goto fail;
	} else {
		void *jv = NULL;
		rc = http_check_json(p->http, &x, &jv, err);
		http_xfer_release(&x);
		if (rc < 0)
			goto fail;
		if (cJSON_IsString((cJSON *)jv))
			p->version = dd_xstrdup(((cJSON *)jv)->valuestring);
		cJSON_Delete(jv);
	}
	if (p->cloud)
		snprintf(c->description, sizeof(c->description), "prefect cloud (workspace %s)",
		         p->workspace);
	else
		snprintf(c->description, sizeof(c->description), "prefect %s",
		         p->version ? p->version : "server");
	return 0;
fail:
	if (p->http)
		pf_sync_stats(c);
	pf_close(c);
	return rc;
}

/* ---- flows -------------------------------------------------------------- */

static int pf_list_dags(struct dd_conn *c, dd_dag_id_cb cb, void *ud, struct dd_error *err)
{
	struct conn_id_ud u = { cb, ud, "name", "flow" };
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "sort", "NAME_ASC");
	return pf_pages(c, "/flows/filter", body, conn_id_item, &u, err);
}

static int no_such_flow(struct dd_conn *c, const char *dag_id, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct dd_error e2 = DD_ERROR_INIT;
	const char *best;
	char flow[256];

	snprintf(flow, sizeof(flow), "%.*s", (int)strcspn(dag_id, "/"), dag_id);
	if (!p->names_loaded && pf_list_dags(c, conn_collect_id, &p->names, &e2) == 0)
		p->names_loaded = 1;
	best = conn_closest(flow, &p->names);
	if (best)
		return dd_error_set(err, DD_ENOTFOUND, "no flow named %s on %s; did you mean %s?", flow,
		                    c->source->name, best);
	return dd_error_set(err, DD_ENOTFOUND, "no flow named %s on %s%s", flow, c->source->name,
	                    p->names_loaded ? (p->names.n ? "" : " (it has no flows yet)") : "");
}

struct flow_ref *pf_find_ref(struct pf *p, const char *dag_id)
{
	for (size_t i = 0; i < p->n_flows; i++)
		if (!strcmp(p->flows[i].dag_id, dag_id))
			return &p->flows[i];
	return NULL;
}

struct flow_ref *pf_add_ref(struct pf *p, const struct flow_ref *r)
{
	DD_GROW(p->flows, p->cap_flows, p->n_flows + 1);
	p->flows[p->n_flows] = *r;
	return &p->flows[p->n_flows++];
}

/* Finds (and caches) the flow or deployment a dag_id names. */
int pf_resolve(struct dd_conn *c, const char *dag_id, struct flow_ref **out, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct dd_buf url = DD_BUF_INIT;
	const char *slash = strchr(dag_id, '/');
	struct flow_ref r = { 0 };
	cJSON *j = NULL;
	long status = 0;
	int rc;

	if ((*out = pf_find_ref(p, dag_id)) != NULL)
		return 0;
	if (slash) {
		char *flow = dd_xstrndup(dag_id, (size_t)(slash - dag_id));
		dd_buf_adds(&url, "/deployments/name/");
		http_buf_add_escaped(&url, flow);
		dd_buf_addch(&url, '/');
		http_buf_add_escaped(&url, slash + 1);
		free(flow);
	} else {
		dd_buf_adds(&url, "/flows/name/");
		http_buf_add_escaped(&url, dag_id);
	}
	rc = pf_json(c, url.data, NULL, &j, &status, err);
	dd_buf_release(&url);
	if (rc < 0) {
		if (status == 404) {
			if (slash) {
				/* is it the flow or the deployment that is missing? */
				char *flow = dd_xstrndup(dag_id, (size_t)(slash - dag_id));
				struct flow_ref *fr;
				rc = pf_resolve(c, flow, &fr, err);
				free(flow);
				if (rc < 0)
					return rc;
				return dd_error_set(err, DD_ENOTFOUND, "no deployment named %s on %s",
				                    dag_id, c->source->name);
			}
			return no_such_flow(c, dag_id, err);
		}
		return rc;
	}
	{
		struct conn_check ck = CONN_CHECK_INIT;

		if (conn_jis_obj(&ck, j)) {
			r.flow_id = dd_xstrdup(conn_jstr_req(&ck, j, slash ? "flow_id" : "id"));
			if (slash) {
				r.deployment_id = dd_xstrdup(conn_jstr_req(&ck, j, "id"));
				r.entrypoint = conn_jdup(&ck, j, "entrypoint");
				r.entry_known = 1;
			}
		}
		cJSON_Delete(j);
		if (ck.bad) {
			char what[300];

			free(r.flow_id);
			free(r.deployment_id);
			free(r.entrypoint);
			snprintf(what, sizeof(what), "%s %.200s", slash ? "deployment" : "flow", dag_id);
			conn_reject(c, what, NULL, &ck);
			return dd_error_set(err, DD_EPROTO, "Prefect at %s answered the lookup of %s with an "
			                    "object that fails its check (%s)", http_client_base(p->http), dag_id,
			                    ck.problem);
		}
	}
	r.dag_id = dd_xstrdup(dag_id);
	*out = pf_add_ref(p, &r);
	return 0;
}

cJSON *pf_runs_body(const struct flow_ref *f)
{
	cJSON *body = cJSON_CreateObject();

	if (f->deployment_id) {
		cJSON *d = cJSON_AddObjectToObject(body, "deployments");
		cJSON_AddItemToObject(d, "id", pf_any_of(f->deployment_id));
	} else {
		cJSON *fl = cJSON_AddObjectToObject(body, "flows");
		cJSON_AddItemToObject(fl, "id", pf_any_of(f->flow_id));
	}
	return body;
}

/* The task's own name of a task run named `name`: the name less
 * "-<dynamic_key>", or less the key's first characters, which is all
 * Prefect 3 puts in a name (load_model-863 for a key 8634c1...).  Caller
 * frees; NULL for a NULL name. */
static char *task_name_of(const char *name, const char *dyn)
{
	const char *dash = name ? strrchr(name, '-') : NULL;
	size_t n = name ? strlen(name) : 0;

	if (dash && dyn && dash > name && dash[1] && !strncmp(dash + 1, dyn, strlen(dash + 1)))
		n = (size_t)(dash - name);
	return name ? dd_xstrndup(name, n) : NULL;
}

int pf_collect_tr(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct tr_list *l = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	struct tr_rec r;
	const cJSON *inputs, *param, *in;

	memset(&r, 0, sizeof(r));
	if (conn_jis_obj(&ck, el)) {
		r.id = dd_xstrdup(conn_jstr_req(&ck, el, "id"));
		r.name = dd_xstrdup(conn_jstr_req(&ck, el, "name"));
		r.task = task_name_of(r.name, conn_jstr(&ck, el, "dynamic_key"));
	}
	inputs = conn_jobj(&ck, el, "task_inputs");
	cJSON_ArrayForEach(param, inputs) {
		if (param->string && !strcmp(param->string, "__parents__"))
			continue;
		if (!cJSON_IsArray(param))
			conn_check_fail(&ck, "task_inputs: %s is not a list", param->string ? param->string : "?");
		cJSON_ArrayForEach(in, param) {
			const char *t = conn_jstr(&ck, in, "input_type"), *id = conn_jstr(&ck, in, "id");
			if (t && !strcmp(t, "task_run") && id && !dd_strv_contains(&r.upstream_ids, id))
				dd_strv_push(&r.upstream_ids, id);
		}
	}
	if (ck.bad) {
		conn_reject(c, "task run (for the DAG's tasks)", NULL, &ck);
		free(r.id);
		free(r.name);
		free(r.task);
		dd_strv_release(&r.upstream_ids);
		return 0;
	}
	DD_GROW(l->v, l->cap, l->n + 1);
	l->v[l->n++] = r;
	return 0;
}

void pf_tr_list_release(struct tr_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].name);
		free(l->v[i].task);
		dd_strv_release(&l->v[i].upstream_ids);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

cJSON *pf_task_runs_body(const char *const *ids, size_t n)
{
	cJSON *body = cJSON_CreateObject(), *tr = cJSON_AddObjectToObject(body, "task_runs");
	cJSON *fr = cJSON_AddObjectToObject(tr, "flow_run_id"), *any = cJSON_AddArrayToObject(fr, "any_");

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(any, cJSON_CreateString(ids[i]));
	cJSON_AddStringToObject(body, "sort", "EXPECTED_START_TIME_ASC");
	return body;
}

int pf_recent_run_id(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct dd_strv *v = ud;

	struct conn_check ck = CONN_CHECK_INIT;
	const char *id = conn_jis_obj(&ck, el) ? conn_jstr_req(&ck, el, "id") : NULL;

	if (ck.bad)
		conn_reject(c, "flow run (for the DAG's tasks)", NULL, &ck);
	else
		dd_strv_push(v, id);
	return v->n >= 5 ? 1 : 0;
}

void pf_dag_tasks(struct dd_dag *out, const struct tr_list *l)
{
	out->tasks = dd_xcalloc(l->n + 1, sizeof(*out->tasks));
	for (size_t i = 0; i < l->n; i++) {
		struct dd_task *t = NULL;
		for (size_t k = 0; k < out->n_tasks; k++)
			if (!strcmp(out->tasks[k].task_id, l->v[i].name))
				t = &out->tasks[k];
		if (!t) {
			t = &out->tasks[out->n_tasks++];
			t->task_id = dd_xstrdup(l->v[i].name);
			t->operator_name = dd_xstrdup(l->v[i].task);   /* as a task run's (the analysis groups by it) */
			t->downstream = dd_xcalloc(l->n + 1, sizeof(char *));
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		for (size_t u = 0; u < l->v[i].upstream_ids.n; u++) {
			const char *up_name = NULL;
			for (size_t k = 0; k < l->n; k++)
				if (!strcmp(l->v[k].id, l->v[i].upstream_ids.v[u]))
					up_name = l->v[k].name;
			if (!up_name)
				continue;
			for (size_t k = 0; k < out->n_tasks; k++) {
				struct dd_task *t = &out->tasks[k];
				int have = 0;
				if (strcmp(t->task_id, up_name))
					continue;
				for (size_t d = 0; d < t->n_downstream; d++)
					have |= !strcmp(t->downstream[d], l->v[i].name);
				if (!have && t->n_downstream < l->n)
					t->downstream[t->n_downstream++] = dd_xstrdup(l->v[i].name);
			}
		}
	}
}

/* ---- runs, task runs, tries --------------------------------------------- */

/* The state of a flow run or task run (state_name/state_type, or state {}). */
static enum dd_state state_of(struct conn_check *ck, const cJSON *el)
{
	const char *name = conn_jstr(ck, el, "state_name"), *type = conn_jstr(ck, el, "state_type");
	const cJSON *st = conn_jobj(ck, el, "state");
	enum dd_state s;

	if (!name)
		name = conn_jstr(ck, st, "name");
	if (!type)
		type = conn_jstr(ck, st, "type");
	s = dd_state_parse(name);
	if (s == DD_STATE_UNKNOWN)
		s = dd_state_parse(type);
	return s;
}

static char *state_message(struct conn_check *ck, const cJSON *el)
{
	const char *m = conn_jstr(ck, conn_jobj(ck, el, "state"), "message");
	return m && *m ? dd_xstrdup(m) : NULL;
}

int pf_read_run(const cJSON *el, struct dd_run *r, struct conn_check *ck)
{
	memset(r, 0, sizeof(*r));
	if (!conn_jis_obj(ck, el))
		return -1;
	r->run_id = dd_xstrdup(conn_jstr_req(ck, el, "id"));
	r->run_name = conn_jdup(ck, el, "name");
	r->state = state_of(ck, el);
	r->run_type = dd_xstrdup(conn_jbool(ck, el, "auto_scheduled") ? "scheduled" : "manual");
	r->logical_ms = conn_jtime(ck, el, "expected_start_time");
	r->start_ms = conn_jtime(ck, el, "start_time");
	r->end_ms = conn_jtime(ck, el, "end_time");
	if (!r->logical_ms)
		r->logical_ms = r->start_ms;
	if (!r->logical_ms)
		conn_check_fail(ck, "expected_start_time: missing, and no start_time either");
	r->note = state_message(ck, el);
	if (ck->bad) {
		dd_run_release(r);
		return -1;
	}
	return 0;
}

static int pf_list_runs(struct dd_conn *c, const char *dag_id, int64_t since_ms,
                        dd_run_cb cb, void *ud, struct dd_error *err)
{
	struct flow_ref *f;
	struct conn_run_ud u = { cb, ud, pf_read_run, "id", "flow run", 0 };
	cJSON *body;
	int rc = pf_resolve(c, dag_id, &f, err);

	if (rc < 0)
		return rc;
	body = pf_runs_body(f);
	if (since_ms > 0) {
		char t[40];
		cJSON *fr = cJSON_AddObjectToObject(body, "flow_runs");
		cJSON *est = cJSON_AddObjectToObject(fr, "expected_start_time");
		pf_iso(since_ms, t, sizeof(t));
		cJSON_AddStringToObject(est, "after_", t);
	}
	cJSON_AddStringToObject(body, "sort", "EXPECTED_START_TIME_ASC");
	return pf_pages(c, "/flow_runs/filter", body, conn_run_item, &u, err);
}

int pf_read_task_run(const cJSON *el, struct dd_task_instance *ti, struct conn_check *ck)
{
	const cJSON *pol;

	memset(ti, 0, sizeof(*ti));
	if (!conn_jis_obj(ck, el))
		return -1;
	pol = conn_jobj(ck, el, "empirical_policy");
	ti->run_id = conn_jdup(ck, el, "flow_run_id");
	ti->task_id = dd_xstrdup(conn_jstr_req(ck, el, "name"));
	ti->map_index = -1;
	ti->state = state_of(ck, el);
	ti->try_number = conn_jint(ck, el, "run_count", 0, PF_MAX_TRIES, 0);
	if (cJSON_GetObjectItemCaseSensitive(pol, "retries"))
		ti->max_tries = conn_jint(ck, pol, "retries", 0, PF_MAX_TRIES, -1) + 1;
	ti->operator_name = task_name_of(ti->task_id, conn_jstr(ck, el, "dynamic_key"));   /* the task's own name */
	ti->external_id = dd_xstrdup(conn_jstr_req(ck, el, "id"));
	/* A task run Scheduled (or Late, or awaiting a concurrency slot) waits its
	 * turn since it was due; one Pending waits for its upstream tasks, and
	 * its expected_start_time is only when it was created. */
	ti->queued_ms = conn_jtime(ck, el, "expected_start_time");
	if (ti->state != DD_STATE_SCHEDULED && ti->state != DD_STATE_LATE)
		ti->queued_ms = 0;
	ti->start_ms = conn_jtime(ck, el, "start_time");
	ti->end_ms = conn_jtime(ck, el, "end_time");
	ti->note = state_message(ck, el);
	return ck->bad ? -1 : 0;
}

/* A page item callback (ud: struct conn_ti_ud): one task run. */
static int ti_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_task_instance ti;

	pf_read_task_run(el, &ti, &ck);
	return conn_ti_emit(c, ud, &ti, &ck);
}

static int pf_list_task_instances(struct dd_conn *c, const char *dag_id, const char *run_id,
                                  dd_ti_cb cb, void *ud, struct dd_error *err)
{
	struct conn_ti_ud u = { cb, ud, run_id };

	(void)dag_id;
	return pf_pages(c, "/task_runs/filter", pf_task_runs_body(&run_id, 1), ti_item, &u, err);
}

static struct try_window *window_for(struct pf *p, const char *id)
{
	for (size_t i = 0; i < p->n_wins; i++)
		if (!strcmp(p->wins[i].task_run_id, id))
			return &p->wins[i];
	return NULL;
}

/* Turns a state history into tries; records the try windows. */
int pf_read_states(const cJSON *states, const struct dd_task_instance *ti, struct dd_try **out,
                   size_t *n_out, struct conn_check *ck)
{
	size_t cap = (size_t)cJSON_GetArraySize(states) + 2, n = 0;
	struct dd_try *v = dd_xcalloc(cap, sizeof(*v));
	const cJSON *s;
	int open = 0;

	if (!cJSON_IsArray(states))
		conn_check_fail(ck, "the answer: %s where a list of states is expected",
		                cJSON_IsObject(states) ? "an object" : "something else");
	cJSON_ArrayForEach(s, states) {
		const char *type, *name, *msg;
		int64_t ts;
		int terminal, retry;

		if (!conn_jis_obj(ck, s))
			break;
		type = conn_jstr_req(ck, s, "type");
		name = conn_jstr(ck, s, "name");
		msg = conn_jstr(ck, s, "message");
		ts = conn_jtime(ck, s, "timestamp");
		if (!ts && !ck->bad)
			conn_check_fail(ck, "timestamp: missing where the time of the state is expected");
		if (ck->bad)
			break;
		terminal = !strcmp(type, "COMPLETED") || !strcmp(type, "FAILED") ||
		           !strcmp(type, "CRASHED") || !strcmp(type, "CANCELLED");
		retry = name && !strcmp(name, "AwaitingRetry");
		if (!strcmp(type, "RUNNING")) {
			struct dd_try *t;
			if (open)   /* Running again without an end: that try is lost */
				v[n - 1].state = DD_STATE_UNKNOWN;
			if (n + 1 >= cap)
				continue;
			t = &v[n++];
			t->try_number = (int)n;
			t->state = DD_STATE_RUNNING;
			t->start_ms = ts;
			open = 1;
		} else if (open && (terminal || retry)) {
			struct dd_try *t = &v[n - 1];
			t->state = retry ? DD_STATE_UP_FOR_RETRY : dd_state_parse(name ? name : type);
			if (t->state == DD_STATE_UNKNOWN)
				t->state = dd_state_parse(type);
			t->end_ms = ts;
			t->note = msg && *msg ? dd_xstrdup(msg) : NULL;
			open = 0;
		} else if (!open && terminal && n + 1 < cap &&
		           (!strcmp(type, "CRASHED") || !strcmp(type, "FAILED"))) {
			/* failed or crashed without ever running */
			struct dd_try *t = &v[n++];
			t->try_number = (int)n;
			t->state = dd_state_parse(name ? name : type);
			t->start_ms = t->end_ms = ts;
			t->note = msg && *msg ? dd_xstrdup(msg) : NULL;
		}
	}
	if (ck->bad) {
		for (size_t i = 0; i < n; i++)
			dd_try_release(&v[i]);
		free(v);
		*out = NULL;
		*n_out = 0;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].run_id = dd_xstrdup(ti ? ti->run_id : NULL);
		v[i].task_id = dd_xstrdup(ti ? ti->task_id : NULL);
		v[i].map_index = -1;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* Turns a state history into tries (pf_read_states); records the try
 * windows.  -1 (problem in ck, nothing recorded) when a state fails its check. */
static int tries_from_states(struct pf *p, const cJSON *states, const struct dd_task_instance *ti,
                             struct dd_try **out, size_t *n_out, struct conn_check *ck)
{
	struct try_window *w;
	size_t n;

	if (pf_read_states(states, ti, out, n_out, ck) < 0)
		return -1;
	n = *n_out;
	if (ti && ti->external_id) {
		w = window_for(p, ti->external_id);
		if (!w) {
			DD_GROW(p->wins, p->cap_wins, p->n_wins + 1);
			w = &p->wins[p->n_wins++];
			memset(w, 0, sizeof(*w));
			w->task_run_id = dd_xstrdup(ti->external_id);
		}
		free(w->starts);
		w->starts = dd_xcalloc(n + 1, sizeof(int64_t));
		w->n = n;
		for (size_t i = 0; i < n; i++)
			w->starts[i] = (*out)[i].start_ms;
	}
	return 0;
}

char *pf_states_url(const char *task_run_id)
{
	struct dd_buf url = DD_BUF_INIT;

	dd_buf_adds(&url, "/task_run_states/?task_run_id=");
	http_buf_add_escaped(&url, task_run_id);
	return dd_buf_detach(&url);
}

int pf_needs_history(const struct dd_task_instance *ti)
{
	/* one run: the task run itself is the try.  None: a try only when it
	 * failed or crashed without running (pf_read_states) */
	return ti->try_number > 1 || (ti->try_number == 0 && dd_state_is_failed_try(ti->state));
}

int pf_tries_of(struct pf *p, const struct dd_task_instance *ti, const cJSON *states, struct dd_try **out,
                size_t *n_out, struct conn_check *ck)
{
	struct dd_try *v = NULL;
	size_t n = 0;

	if (states && tries_from_states(p, states, ti, &v, &n, ck) < 0) {
		*out = NULL;
		*n_out = 0;
		return -1;
	}
	if (n == 0 && ti->try_number > 0) {
		/* no history kept: one try per run_count, the last in the current state */
		free(v);
		n = (size_t)ti->try_number;
		v = dd_xcalloc(n + 1, sizeof(*v));
		for (size_t i = 0; i < n; i++) {
			v[i].run_id = dd_xstrdup(ti->run_id);
			v[i].task_id = dd_xstrdup(ti->task_id);
			v[i].map_index = -1;
			v[i].try_number = (int)i + 1;
			v[i].state = i + 1 < n ? DD_STATE_UP_FOR_RETRY : ti->state;
			if (i + 1 == n) {
				v[i].start_ms = ti->start_ms;
				v[i].end_ms = ti->end_ms;
				v[i].note = dd_xstrdup(ti->note);
			}
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

static int pf_list_tries(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
                         dd_try_cb cb, void *ud, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_try *v = NULL;
	cJSON *states = NULL;
	size_t n;
	int rc;

	(void)dag_id;
	if (!ti->external_id)
		return dd_error_set(err, DD_EUSAGE, "task run %s has no Prefect id", ti->task_id);
	if (pf_needs_history(ti)) {
		char *url = pf_states_url(ti->external_id);

		rc = pf_json(c, url, NULL, &states, NULL, err);
		free(url);
		if (rc < 0)
			return rc;
	}
	rc = pf_tries_of(p, ti, states, &v, &n, &ck);
	cJSON_Delete(states);
	if (rc < 0) {
		char what[200];

		snprintf(what, sizeof(what), "the state history of task run %.120s", ti->task_id);
		conn_reject(c, what, ti->run_id, &ck);
		return 0;   /* no tries: the run is not stored complete */
	}
	return conn_emit_tries(v, n, cb, ud);
}

/* ---- logs --------------------------------------------------------------- */

struct logjob {
	struct dd_conn *c;
	struct conn_log_out out;   /* request, capped text, callback */
	struct http_xfer x;
	cJSON *filter;       /* body without limit/offset */
	char *post;
	int64_t offset;
	int pages;
};

static const char *level_name(int lv)
{
	if (lv >= 50) return "CRITICAL";
	if (lv >= 40) return "ERROR";
	if (lv >= 30) return "WARNING";
	if (lv >= 20) return "INFO";
	if (lv >= 10) return "DEBUG";
	return "NOTSET";
}

int pf_read_log_record(const cJSON *rec, struct dd_buf *line, struct conn_check *ck)
{
	const char *msg, *name;
	int64_t ts;
	int level;
	struct tm tm;
	time_t secs;

	if (!conn_jis_obj(ck, rec))
		return -1;
	level = conn_jint(ck, rec, "level", 0, 100, 0);
	msg = conn_jstr(ck, rec, "message");
	name = conn_jstr(ck, rec, "name");
	ts = conn_jtime(ck, rec, "timestamp");
	if (!ts && !ck->bad)
		conn_check_fail(ck, "timestamp: missing where the time of the record is expected");
	secs = (time_t)(ts / 1000);
	if (!ck->bad && (ts < 0 || !gmtime_r(&secs, &tm)))
		conn_check_fail(ck, "timestamp: before 1970");
	if (ck->bad)
		return -1;
	dd_buf_addf(line, "%04d-%02d-%02d %02d:%02d:%02d.%03d | %s | %s - %s\n",
	            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	            (int)(ts % 1000), level_name(level), name ? name : "prefect", msg ? msg : "");
	return 0;
}

static void set_post(struct logjob *j)
{
	cJSON *b = cJSON_Duplicate(j->filter, 1);

	cJSON_AddNumberToObject(b, "limit", PAGE);
	cJSON_AddNumberToObject(b, "offset", (double)j->offset);
	free(j->post);
	j->post = pf_print_json(b);
	j->x.post = j->post;
	j->x.post_len = strlen(j->post);
}

static int log_done(struct http_xfer *x)
{
	struct logjob *j = x->ud;
	struct pf *p = j->c->impl;
	struct dd_error e = DD_ERROR_INIT;
	void *jv = NULL;
	const cJSON *rec;
	int rc, n = 0;
	struct dd_buf line = DD_BUF_INIT;

	pf_sync_stats(j->c);
	conn_set_endpoint(j->c, "POST", x->url);
	rc = http_check_json(p->http, x, &jv, &e);
	if (rc == 0 && !cJSON_IsArray((cJSON *)jv)) {
		cJSON_Delete(jv);
		rc = dd_error_set(&e, DD_EPROTO, "Prefect answered POST /logs/filter with something "
		                  "other than a list of log records");
	}
	if (rc < 0)
		return conn_log_deliver(&j->out, &e);
	cJSON_ArrayForEach(rec, (cJSON *)jv) {
		struct conn_check ck = CONN_CHECK_INIT;

		n++;
		dd_buf_reset(&line);
		if (pf_read_log_record(rec, &line, &ck) < 0) {
			/* a log with a record that fails its check is not stored as complete */
			dd_error_set(&e, DD_EPROTO, "Prefect answered POST /logs/filter with a log record that "
			             "fails its check: %s", ck.problem);
			dd_buf_release(&line);
			cJSON_Delete(jv);
			return conn_log_deliver(&j->out, &e);
		}
		http_capbuf_add(&j->out.cap, line.data, line.len);
	}
	dd_buf_release(&line);
	cJSON_Delete(jv);
	j->pages++;
	if (n >= PAGE && j->pages < MAX_LOG_PAGES) {
		j->offset += n;
		set_post(j);
		return 1;
	}
	return conn_log_deliver(&j->out, NULL);
}

/* Fills try windows for task runs not seen by list_tries (concurrently). */
static void prefetch_windows(struct dd_conn *c, const struct dd_log_request *reqs, size_t n)
{
	struct pf *p = c->impl;
	struct http_xfer *xv = dd_xcalloc(n + 1, sizeof(*xv));
	struct http_xfer **xs = dd_xcalloc(n + 1, sizeof(*xs));
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		if (!reqs[i].external_id || window_for(p, reqs[i].external_id))
			continue;
		for (size_t k = 0; k < i; k++)
			dup |= reqs[k].external_id && !strcmp(reqs[k].external_id, reqs[i].external_id);
		if (dup)
			continue;
		xv[m].url = pf_states_url(reqs[i].external_id);
		xv[m].ud = (void *)&reqs[i];
		xs[m] = &xv[m];
		m++;
	}
	if (m)
		http_run(p->http, xs, m, NULL);
	for (size_t i = 0; i < m; i++) {
		const struct dd_log_request *r = xv[i].ud;
		void *jv = NULL;
		struct dd_error e = DD_ERROR_INIT;
		if (http_check_json(p->http, &xv[i], &jv, &e) == 0) {
			struct conn_check ck = CONN_CHECK_INIT;
			struct dd_task_instance ti = { 0 };
			struct dd_try *v = NULL;
			size_t k = 0;

			/* a history that fails its check leaves no window: the log is then
			 * the task run's whole log */
			ti.external_id = (char *)r->external_id;
			if (tries_from_states(p, jv, &ti, &v, &k, &ck) == 0) {
				for (size_t t = 0; t < k; t++)
					dd_try_release(&v[t]);
				free(v);
			}
		}
		cJSON_Delete(jv);
		http_xfer_release(&xv[i]);
		free(xv[i].url);
	}
	free(xv);
	free(xs);
	pf_sync_stats(c);
}

static int pf_fetch_logs(struct dd_conn *c, const struct dd_log_request *reqs, size_t n,
                         dd_log_cb cb, void *ud, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct logjob *jobs = dd_xcalloc(n + 1, sizeof(*jobs));
	struct http_xfer **xs = dd_xcalloc(n + 1, sizeof(*xs));
	int cb_ret = 0, rc;

	prefetch_windows(c, reqs, n);
	for (size_t i = 0; i < n; i++) {
		struct logjob *j = &jobs[i];
		cJSON *logs;

		j->c = c;
		conn_log_out_init(&j->out, c, &reqs[i], cb, ud, &cb_ret);
		j->filter = cJSON_CreateObject();
		logs = cJSON_AddObjectToObject(j->filter, "logs");
		if (reqs[i].external_id) {
			struct try_window *w = window_for(p, reqs[i].external_id);
			int k = reqs[i].try_number;
			cJSON_AddItemToObject(logs, "task_run_id", pf_any_of(reqs[i].external_id));
			if (w && k >= 1 && (size_t)k <= w->n && w->n > 1) {
				cJSON *ts = cJSON_AddObjectToObject(logs, "timestamp");
				char t[40];
				if (k > 1 && w->starts[k - 1]) {
					pf_iso(w->starts[k - 1], t, sizeof(t));
					cJSON_AddStringToObject(ts, "after_", t);
				}
				if ((size_t)k < w->n && w->starts[k]) {
					pf_iso(w->starts[k] - 1, t, sizeof(t));
					cJSON_AddStringToObject(ts, "before_", t);
				}
			}
		} else {
			cJSON *tr = cJSON_AddObjectToObject(logs, "task_run_id");
			cJSON_AddItemToObject(logs, "flow_run_id", pf_any_of(reqs[i].run_id));
			cJSON_AddBoolToObject(tr, "is_null_", 1);
		}
		cJSON_AddStringToObject(j->filter, "sort", "TIMESTAMP_ASC");
		j->x.url = (char *)"/logs/filter";
		j->x.ud = j;
		j->x.done = log_done;
		set_post(j);
		xs[i] = &j->x;
	}
	rc = conn_run_logs(c, p->http, xs, n, &cb_ret, err);
	for (size_t i = 0; i < n; i++) {
		http_capbuf_release(&jobs[i].out.cap);
		http_xfer_release(&jobs[i].x);
		cJSON_Delete(jobs[i].filter);
		free(jobs[i].post);
	}
	free(jobs);
	free(xs);
	return rc;
}

/* ---- health ------------------------------------------------------------- */

static int pool_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct dd_buf *b = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	const char *name = conn_jstr(&ck, el, "name"), *st = conn_jstr(&ck, el, "status");

	if (ck.bad)
		conn_reject(c, "work pool", NULL, &ck);
	else if (name)
		dd_buf_addf(b, "%s%s %s", b->len ? ", " : "work pools: ", name, st ? st : "?");
	return 0;
}

static int pf_health(struct dd_conn *c, struct dd_health *out, struct dd_error *err)
{
	struct pf *p = c->impl;
	struct http_xfer x = { 0 };
	struct dd_buf d = DD_BUF_INIT;
	struct dd_error e2 = DD_ERROR_INIT;
	cJSON *j = NULL;
	int rc;

	rc = pf_json(c, "/health", NULL, &j, NULL, err);
	if (rc < 0)
		return rc;
	out->scheduler_status = dd_xstrdup(cJSON_IsTrue(j) ? "healthy" : "unhealthy");
	cJSON_Delete(j);
	if (!p->cloud) {
		x.url = (char *)"/ready";
		http_run1(p->http, &x);
		pf_sync_stats(c);
		if (x.rc == 0 && x.status != 404)
			out->metadatabase_status = dd_xstrdup(x.status == 200 ? "healthy" : "unhealthy");
		http_xfer_release(&x);
	}
	/* work pools: NOT_READY means no worker is polling */
	if (pf_pages(c, "/work_pools/filter", cJSON_CreateObject(), pool_item, &d, &e2) == 0 && d.len)
		out->detail = dd_buf_detach(&d);
	dd_buf_release(&d);
	return 0;
}

/* ---- UI links ----------------------------------------------------------- */

static void pf_ui(const struct dd_conn *c, struct dd_ui *out)
{
	const struct pf *p = c->impl;
	const struct dd_source *src = c->source;
	struct dd_buf b = DD_BUF_INIT;
	const char *from = src->ui_url ? src->ui_url : src->url;
	size_t n = strlen(from);

	while (n > 0 && from[n - 1] == '/')
		n--;
	if (src->ui_url) {
		dd_buf_add(&b, from, n);
	} else if (p->cloud && p->account && p->workspace) {
		dd_buf_adds(&b, "https://app.prefect.cloud/account/");
		http_buf_add_escaped(&b, p->account);
		dd_buf_adds(&b, "/workspace/");
		http_buf_add_escaped(&b, p->workspace);
	} else {
		if (n >= 4 && !strncmp(from + n - 4, "/api", 4))
			n -= 4;
		dd_buf_add(&b, from, n);
	}
	snprintf(out->form, sizeof(out->form), "prefect");
	snprintf(out->base, sizeof(out->base), "%s", dd_buf_str(&b));
	dd_buf_release(&b);
}

const struct dd_conn_ops dd_prefect_ops = {
	.kind = "prefect",
	.open = pf_open,
	.close = pf_close,
	.list_dags = pf_list_dags,
	.get_dag = pf_get_dag,
	.list_runs = pf_list_runs,
	.list_task_instances = pf_list_task_instances,
	.list_tries = pf_list_tries,
	.fetch_logs = pf_fetch_logs,
	.health = pf_health,
	.list_import_errors = NULL,
	.list_dag_summaries = pf_list_dag_summaries,
	.get_dags = pf_get_dags,
	.list_runs_multi = pf_list_runs_multi,
	.list_run_tis = pf_list_run_tis,
	.ui = pf_ui,
};
