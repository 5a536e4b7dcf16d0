/*
 * airflow.c - the Airflow connector: REST API v1 (Airflow 2.x) and v2
 * (Airflow 3.x), detected from /api/v2/version then /api/v1/version.
 *
 * Auth: v1 sends a bearer token or basic auth; v2 sends a bearer token,
 * given or obtained from POST /auth/token with the username and password
 * (and obtained again once when the server says it expired).
 *
 * Logs: streamed forms are the default because a failed try's log can be
 * hundreds of MB and only a capped head and tail are kept:
 *   v1: text/plain (the server streams every chunk to the end of the log;
 *       no JSON wrapper, no Python-repr decoding, no continuation tokens);
 *   v2: application/x-ndjson (one structured event per line, passed on
 *       unchanged as one JSON line; the Airflow-Continuation-Token header
 *       is followed while it yields more lines).
 * The JSON forms (v1: {"content": "<repr of [(host, text)]>",
 * "continuation_token"}, v2: {"content": [events], "continuation_token"})
 * are used when DAGDOC_AIRFLOW_LOG_FORMAT=json, or when the server answers
 * 406 to the streamed form; their continuation tokens are followed.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dagdoc/http.h"
#include "airflow_impl.h"

#define PAGE 100
#define MAX_LOG_PAGES 1000

/* ---- small helpers ------------------------------------------------------ */

void af_sync_stats(struct dd_conn *c)
{
	struct af *a = c->impl;

	conn_sync_stats(c, a->http);
}

static char *strip_api(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= 7 && (!strncmp(url + n - 7, "/api/v1", 7) || !strncmp(url + n - 7, "/api/v2", 7)))
		n -= 7;
	while (n > 0 && url[n - 1] == '/')
		n--;
	return dd_xstrndup(url, n);
}

void af_add_seg(struct dd_buf *b, const char *s)
{
	dd_buf_addch(b, '/');
	http_buf_add_escaped(b, s);
}

static void add_time_param(struct dd_buf *b, const char *name, int64_t ms)
{
	char t[40];

	dd_format_time(ms, 1, t, sizeof(t));
	dd_buf_addf(b, "&%s=", name);
	http_buf_add_escaped(b, t);
}

int af_json(struct dd_conn *c, const char *url, const char *post, cJSON **out,
                   long *status, struct dd_error *err)
{
	struct af *a = c->impl;
	long st = 0;
	int rc = conn_json(c, a->http, url, post, out, &st, err);

	if (rc < 0 && st == 401 && a->exchanged) {
		struct dd_error e2 = DD_ERROR_INIT;
		if (af_exchange_token(c, &e2) == 0) {
			dd_error_clear(err);
			rc = conn_json(c, a->http, url, post, out, &st, err);
		}
	}
	if (status)
		*status = st;
	return rc;
}

/* ---- open/close --------------------------------------------------------- */

int af_exchange_token(struct dd_conn *c, struct dd_error *err)
{
	struct af *a = c->impl;
	const struct dd_source *s = c->source;
	struct http_xfer x = { 0 };
	cJSON *body = cJSON_CreateObject(), *j = NULL;
	char *post;
	void *jv = NULL;
	const char *tok;
	int rc;

	cJSON_AddStringToObject(body, "username", s->username);
	cJSON_AddStringToObject(body, "password", s->password);
	post = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	http_client_set_bearer(a->http, NULL);
	x.url = (char *)"/auth/token";
	x.post = post;
	x.post_len = strlen(post);
	http_run1(a->http, &x);
	memset(post, 0, x.post_len);
	cJSON_free(post);
	af_sync_stats(c);
	if (x.rc == 0 && (x.status == 401 || x.status == 403 || x.status == 400 || x.status == 422)) {
		char *d = http_error_detail(x.body.data, x.body.len);
		rc = dd_error_set(err, DD_EAUTH, "Airflow at %s did not give a token for the username "
		                  "and password (%ld%s%s); %s", a->root, x.status,
		                  d ? ": " : "", d ? d : "", a->auth_hint);
		free(d);
		http_xfer_release(&x);
		return rc;
	}
	rc = http_check_json(a->http, &x, &jv, err);
	http_xfer_release(&x);
	if (rc < 0)
		return rc;
	j = jv;
	tok = conn_jstr(NULL, j, "access_token");
	if (!tok || !*tok) {
		cJSON_Delete(j);
		return dd_error_set(err, DD_EPROTO, "Airflow at %s answered POST /auth/token without an "
		                    "access_token; is this an Airflow 3 API server?", a->root);
	}
	http_client_set_bearer(a->http, tok);
	cJSON_Delete(j);
	a->exchanged = 1;
	return 0;
}

static void af_free(struct af *a)
{
	if (!a)
		return;
	http_client_free(a->http);
	free(a->root);
	free(a->version);
	free(a->url_env);
	free(a->auth_hint);
	dd_strv_release(&a->dag_ids);
	free(a);
}

/* GET a version endpoint: 1 found (version set), 0 not there, <0 error. */
static int probe_version(struct dd_conn *c, const char *path, struct dd_error *err)
{
	struct af *a = c->impl;
	struct http_xfer x = { 0 };
	void *jv = NULL;
	int rc;

	x.url = (char *)path;
	http_run1(a->http, &x);
	af_sync_stats(c);
	if (x.rc) {
		rc = http_check(a->http, &x, err);
		http_xfer_release(&x);
		return rc;
	}
	/* an Airflow 2 server may guard unknown /api/v2 paths with its auth */
	if (x.status == 404 || x.status == 405 ||
	    (!strcmp(path, "/api/v2/version") && (x.status == 401 || x.status == 403))) {
		http_xfer_release(&x);
		return 0;
	}
	rc = http_check_json(a->http, &x, &jv, err);
	http_xfer_release(&x);
	if (rc < 0)
		return rc;
	if (!conn_jstr(NULL, jv, "version")) {
		cJSON_Delete(jv);
		return 0;
	}
	free(a->version);
	a->version = conn_jdup(NULL, jv, "version");
	cJSON_Delete(jv);
	return 1;
}

static void af_close(struct dd_conn *c)
{
	af_free(c->impl);
	c->impl = NULL;
}

static int af_open(struct dd_conn *c, struct dd_error *err)
{
	const struct dd_source *s = c->source;
	struct af *a;
	struct http_opts o = { 0 };
	const char *fmt = getenv("DAGDOC_AIRFLOW_LOG_FORMAT");
	int rc;

	if (!s->url || !*s->url)
		return dd_error_set(err, DD_EUSAGE, "source %s has no url; set DAGDOC_AIRFLOW_URL to the "
		                    "Airflow webserver's address (e.g. http://localhost:8080)", s->name);
	a = dd_xcalloc(1, sizeof(*a));
	c->impl = a;
	a->root = strip_api(s->url);
	a->url_env = conn_url_env(s, "DAGDOC_AIRFLOW_URL");
	if (s->token && *s->token) {
		char *t = conn_cred_where(s, s->token_env, "token", "DAGDOC_AIRFLOW_TOKEN");
		a->auth_hint = dd_xasprintf("check %s", t);
		free(t);
	} else if (s->username && *s->username) {
		/* name where each came from: a literal username is not DAGDOC_AIRFLOW_USERNAME */
		char *u = conn_cred_where(s, s->username_env, "username", "DAGDOC_AIRFLOW_USERNAME");
		char *pw = conn_cred_where(s, s->password_env, "password", "DAGDOC_AIRFLOW_PASSWORD");
		a->auth_hint = dd_xasprintf("check %s and %s", u, pw);
		free(u);
		free(pw);
	} else
		a->auth_hint = dd_xstrdup("set DAGDOC_AIRFLOW_TOKEN, or DAGDOC_AIRFLOW_USERNAME and "
		                          "DAGDOC_AIRFLOW_PASSWORD");
	a->log_json = fmt && !strcasecmp(fmt, "json");

	o.base_url = a->root;
	o.service = "Airflow";
	o.url_env = a->url_env;
	o.server_hint = "is the Airflow webserver running";
	o.auth_hint = a->auth_hint;
	o.bearer = s->token && *s->token ? s->token : NULL;
	conn_http_opts(&o, c);
	if (!o.bearer && s->username && s->password) {
		/* v1: basic auth; v2: replaced by the token from /auth/token */
		o.username = s->username;
		o.password = s->password;
	}
	rc = http_client_new(&o, &a->http, err);
	if (rc < 0)
		goto fail;

	rc = probe_version(c, "/api/v2/version", err);
	if (rc < 0)
		goto fail;
	if (rc == 1 && a->version && a->version[0] >= '3') {
		a->api = 2;
	} else {
		rc = probe_version(c, "/api/v1/version", err);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			rc = dd_error_set(err, DD_EPROTO, "no Airflow REST API at %s (neither /api/v2/version "
			                  "nor /api/v1/version answered); is %s the webserver's address?",
			                  http_client_base(a->http), a->url_env);
			goto fail;
		}
		a->api = 1;
	}
	a->prefix = a->api == 2 ? "/api/v2" : "/api/v1";
	if (a->api == 2 && !o.bearer && s->username && s->password) {
		rc = af_exchange_token(c, err);
		if (rc < 0)
			goto fail;
	}
	snprintf(c->description, sizeof(c->description), "airflow %s (api v%d)",
	         a->version ? a->version : "?", a->api);
	return 0;
fail:
	if (a->http)
		af_sync_stats(c);
	af_close(c);
	return rc;
}

/* ---- DAGs --------------------------------------------------------------- */

/* Pages through a collection: calls item(cJSON *, ud) for each element of
 * `key` (or `alt_key`). */
static int af_pages(struct dd_conn *c, const char *base_url, const char *key, const char *alt_key,
                    int (*item)(struct dd_conn *, const cJSON *, void *), void *ud,
                    long *status, struct dd_error *err)
{
	struct conn_pager pager = { 0, 0 };
	int64_t offset = 0;

	for (;;) {
		char *url = dd_xasprintf("%s%climit=%d&offset=%lld", base_url,
		                         strchr(base_url, '?') ? '&' : '?', PAGE, (long long)offset);
		cJSON *j = NULL, *arr, *el;
		int rc, n = 0;
		double total;

		rc = af_json(c, url, NULL, &j, status, err);
		free(url);
		if (rc < 0)
			return rc;
		arr = cJSON_GetObjectItemCaseSensitive(j, key);
		if (!arr && alt_key)
			arr = cJSON_GetObjectItemCaseSensitive(j, alt_key);
		if (!cJSON_IsArray(arr)) {
			struct af *a = c->impl;
			cJSON_Delete(j);
			return dd_error_set(err, DD_EPROTO, "Airflow at %s answered GET %s without a \"%s\" "
			                    "list; is this the Airflow REST API?", a->root, base_url, key);
		}
		if ((rc = conn_page_check(c, &pager, arr, err)) < 0) {
			cJSON_Delete(j);
			return rc;
		}
		total = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "total_entries")) ?
		        cJSON_GetObjectItemCaseSensitive(j, "total_entries")->valuedouble : -1;
		cJSON_ArrayForEach(el, arr) {
			n++;
			rc = item(c, el, ud);
			if (rc) {
				cJSON_Delete(j);
				return rc;
			}
		}
		cJSON_Delete(j);
		offset += n;
		if (n == 0 || (total >= 0 && offset >= total) || (total < 0 && n < PAGE))
			return 0;
	}
}

/* af_pages over the collection at the API prefix + path. */
static int af_list(struct dd_conn *c, const char *path, const char *key,
                   int (*item)(struct dd_conn *, const cJSON *, void *), void *ud,
                   struct dd_error *err)
{
	struct af *a = c->impl;
	char *url = dd_xasprintf("%s%s", a->prefix, path);
	int rc = af_pages(c, url, key, NULL, item, ud, NULL, err);

	free(url);
	return rc;
}

static int af_list_dags(struct dd_conn *c, dd_dag_id_cb cb, void *ud, struct dd_error *err)
{
	struct conn_id_ud u = { cb, ud, "dag_id", "DAG" };

	return af_list(c, "/dags", "dags", conn_id_item, &u, err);
}

struct summary_ud {
	dd_dag_cb cb;
	void *ud;
};

/* A page item callback (ud: struct summary_ud): one DAG of the listing. */
static int summary_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct summary_ud *u = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_dag d = { 0 };
	int rc = 0;

	if (af_read_dag(el, &d, &ck) < 0 || !d.dag_id) {
		const char *id = cJSON_IsObject(el) ? conn_jstr(NULL, el, "dag_id") : NULL;
		char what[300];

		if (!ck.bad)
			conn_check_fail(&ck, "dag_id: missing where the DAG's id is expected");
		snprintf(what, sizeof(what), "DAG %.200s", id ? id : "(no dag_id)");
		conn_reject_dag(c, id, what, NULL, &ck);
	} else {
		rc = u->cb(&d, u->ud);
	}
	dd_dag_release(&d);
	return rc;
}

int af_list_dag_summaries(struct dd_conn *c, dd_dag_cb cb, void *ud, struct dd_error *err)
{
	struct summary_ud u = { cb, ud };

	return af_list(c, "/dags", "dags", summary_item, &u, err);
}

int af_no_such_dag(struct dd_conn *c, const char *dag_id, struct dd_error *err)
{
	struct af *a = c->impl;
	struct dd_error e2 = DD_ERROR_INIT;
	const char *best;

	if (!a->dag_ids_loaded) {
		if (af_list_dags(c, conn_collect_id, &a->dag_ids, &e2) == 0)
			a->dag_ids_loaded = 1;
	}
	best = conn_closest(dag_id, &a->dag_ids);
	if (best)
		return dd_error_set(err, DD_ENOTFOUND, "no DAG named %s on %s; did you mean %s?", dag_id,
		                    c->source->name, best);
	if (a->dag_ids_loaded)
		return dd_error_set(err, DD_ENOTFOUND, "no DAG named %s on %s (it has %zu DAG%s)", dag_id,
		                    c->source->name, a->dag_ids.n, a->dag_ids.n == 1 ? "" : "s");
	return dd_error_set(err, DD_ENOTFOUND, "no DAG named %s on %s", dag_id, c->source->name);
}

int af_read_dag(const cJSON *j, struct dd_dag *out, struct conn_check *ck)
{
	if (!conn_jis_obj(ck, j))
		return -1;
	out->dag_id = conn_jdup(ck, j, "dag_id");
	out->fileloc = conn_jdup(ck, j, "fileloc");
	out->is_paused = conn_jbool(ck, j, "is_paused");
	return ck->bad ? -1 : 0;
}

int af_read_task(const cJSON *el, struct dd_task *t, struct conn_check *ck)
{
	const cJSON *ds, *d;
	const char *op;

	memset(t, 0, sizeof(*t));
	if (!conn_jis_obj(ck, el))
		return -1;
	t->task_id = dd_xstrdup(conn_jstr_req(ck, el, "task_id"));
	op = conn_jstr(ck, el, "operator_name");
	if (!op)
		op = conn_jstr(ck, conn_jobj(ck, el, "class_ref"), "class_name");
	t->operator_name = dd_xstrdup(op);
	t->is_sensor = op && strstr(op, "Sensor") != NULL;
	ds = conn_jlist(ck, el, "downstream_task_ids");
	t->downstream = dd_xcalloc((size_t)cJSON_GetArraySize(ds) + 1, sizeof(char *));
	cJSON_ArrayForEach(d, ds) {
		if (!cJSON_IsString(d) || !*d->valuestring) {
			conn_check_fail(ck, "downstream_task_ids: holds something other than task ids");
			break;
		}
		t->downstream[t->n_downstream++] = dd_xstrdup(d->valuestring);
	}
	if (ck->bad) {
		dd_task_release(t);
		return -1;
	}
	return 0;
}

void af_dag_answer(struct dd_conn *c, const char *dag_id, const cJSON *j, struct dd_dag *out)
{
	struct conn_check ck = CONN_CHECK_INIT;

	memset(out, 0, sizeof(*out));
	if (af_read_dag(j, out, &ck) < 0) {
		char what[300];

		snprintf(what, sizeof(what), "DAG %.200s", dag_id);
		conn_reject_dag(c, dag_id, what, NULL, &ck);
		dd_dag_release(out);
		memset(out, 0, sizeof(*out));
	}
	if (!out->dag_id)
		out->dag_id = dd_xstrdup(dag_id);
}

void af_tasks_answer(struct dd_conn *c, const char *dag_id, const cJSON *j, struct dd_dag *out)
{
	struct conn_check ck = CONN_CHECK_INIT;
	const cJSON *arr = conn_jlist(&ck, j, "tasks"), *el;

	if (ck.bad || !arr) {
		if (!ck.bad)
			conn_check_fail(&ck, "tasks: missing where a list is expected");
		conn_reject_dag(c, dag_id, "task list", NULL, &ck);
	}
	out->tasks = dd_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*out->tasks));
	cJSON_ArrayForEach(el, arr) {
		struct conn_check tck = CONN_CHECK_INIT;

		if (af_read_task(el, &out->tasks[out->n_tasks], &tck) == 0) {
			out->n_tasks++;
		} else {
			char what[300];

			snprintf(what, sizeof(what), "a task of DAG %.200s", dag_id);
			conn_reject_dag(c, dag_id, what, NULL, &tck);
		}
	}
}

void af_dag_path(struct af *a, struct dd_buf *url, const char *dag_id)
{
	dd_buf_adds(url, a->prefix);
	dd_buf_adds(url, "/dags");
	af_add_seg(url, dag_id);
}

static int af_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err)
{
	struct af *a = c->impl;
	struct dd_buf url = DD_BUF_INIT;
	cJSON *j = NULL;
	long status = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	af_dag_path(a, &url, dag_id);
	rc = af_json(c, url.data, NULL, &j, &status, err);
	if (rc < 0) {
		dd_buf_release(&url);
		if (status == 404)
			return af_no_such_dag(c, dag_id, err);
		return rc;
	}
	af_dag_answer(c, dag_id, j, out);
	cJSON_Delete(j);
	j = NULL;

	dd_buf_adds(&url, "/tasks");
	rc = af_json(c, url.data, NULL, &j, &status, err);
	dd_buf_release(&url);
	if (rc < 0) {
		dd_dag_release(out);
		return rc;
	}
	af_tasks_answer(c, dag_id, j, out);
	cJSON_Delete(j);
	return 0;
}

/* ---- runs, task instances, tries ---------------------------------------- */

int af_read_run(const cJSON *el, struct dd_run *r, struct conn_check *ck)
{
	memset(r, 0, sizeof(*r));
	if (!conn_jis_obj(ck, el))
		return -1;
	/* v1 and v2 name it dag_run_id; an empty one is no id */
	r->run_id = dd_xstrdup(conn_jstr_req(ck, el, conn_jstr(NULL, el, "dag_run_id") ||
	                                               !conn_jstr(NULL, el, "run_id") ? "dag_run_id" : "run_id"));
	r->state = dd_state_parse(conn_jstr(ck, el, "state"));
	if (!conn_jstr(ck, el, "state"))
		conn_check_fail(ck, "state: missing where a run state is expected");
	r->run_type = conn_jdup(ck, el, "run_type");
	r->logical_ms = conn_jtime(ck, el, "logical_date");
	if (!r->logical_ms)
		r->logical_ms = conn_jtime(ck, el, "execution_date");
	if (!r->logical_ms)
		r->logical_ms = conn_jtime(ck, el, "run_after");
	if (!r->logical_ms)
		conn_check_fail(ck, "logical_date: missing, and no execution_date or run_after either");
	r->queued_ms = conn_jtime(ck, el, "queued_at");
	r->start_ms = conn_jtime(ck, el, "start_date");
	r->end_ms = conn_jtime(ck, el, "end_date");
	r->note = conn_jdup(ck, el, "note");
	/* Airflow 3: what the run ran (a Git DAG bundle's commit, the DAG version) */
	r->bundle_version = conn_jdup(ck, el, "bundle_version");
	{
		const cJSON *vers = conn_jlist(ck, el, "dag_versions"), *v;

		cJSON_ArrayForEach(v, vers) {
			int n = conn_jis_obj(ck, v) ? conn_jint(ck, v, "version_number", 0, 1 << 30, 0) : 0;

			if (n > r->dag_version)
				r->dag_version = n;
		}
	}
	if (ck->bad) {
		dd_run_release(r);
		return -1;
	}
	return 0;
}

static int af_list_runs(struct dd_conn *c, const char *dag_id, int64_t since_ms,
                        dd_run_cb cb, void *ud, struct dd_error *err)
{
	struct af *a = c->impl;
	struct dd_buf url = DD_BUF_INIT;
	struct conn_run_ud u = { cb, ud, af_read_run, "dag_run_id", "run", 0 };
	long status = 0;
	int rc;

	af_dag_path(a, &url, dag_id);
	dd_buf_adds(&url, "/dagRuns");
	if (a->api == 2) {
		dd_buf_adds(&url, "?order_by=run_after");
		if (since_ms > 0)
			add_time_param(&url, "run_after_gte", since_ms);
	} else {
		dd_buf_adds(&url, "?order_by=execution_date");
		if (since_ms > 0)
			add_time_param(&url, "execution_date_gte", since_ms);
	}
	rc = af_pages(c, url.data, "dag_runs", NULL, conn_run_item, &u, &status, err);
	dd_buf_release(&url);
	if (rc < 0 && status == 404)
		return af_no_such_dag(c, dag_id, err);
	if (rc == 0 && u.n == 0) {
		/* Airflow lists no runs for a DAG that does not exist: check */
		cJSON *j = NULL;
		struct dd_error e2 = DD_ERROR_INIT;

		url = (struct dd_buf)DD_BUF_INIT;
		af_dag_path(a, &url, dag_id);
		rc = af_json(c, url.data, NULL, &j, &status, &e2);
		dd_buf_release(&url);
		cJSON_Delete(j);
		if (rc < 0 && status == 404)
			return af_no_such_dag(c, dag_id, err);
		if (rc < 0 && err)
			*err = e2;
	}
	return rc;
}

int af_read_ti(const cJSON *el, const char *run_id, struct dd_task_instance *ti, struct conn_check *ck)
{
	const char *op;

	memset(ti, 0, sizeof(*ti));
	if (!conn_jis_obj(ck, el))
		return -1;
	ti->run_id = conn_jdup(ck, el, "dag_run_id");
	if (!ti->run_id)
		ti->run_id = dd_xstrdup(run_id);
	ti->task_id = dd_xstrdup(conn_jstr_req(ck, el, "task_id"));
	ti->map_index = conn_jint(ck, el, "map_index", -1, INT32_MAX, -1);
	ti->state = dd_state_parse(conn_jstr(ck, el, "state"));
	if (!cJSON_GetObjectItemCaseSensitive(el, "try_number"))
		conn_check_fail(ck, "try_number: missing where a whole number is expected");
	ti->try_number = conn_jint(ck, el, "try_number", 0, AF_MAX_TRIES, 0);
	ti->max_tries = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(el, "max_tries")) ?
	                conn_jint(ck, el, "max_tries", -1, AF_MAX_TRIES, 0) + 1 :
	                (conn_jint(ck, el, "max_tries", -1, AF_MAX_TRIES, 0), 0);
	op = conn_jstr(ck, el, "operator_name");
	if (!op)
		op = conn_jstr(ck, el, "operator");
	ti->operator_name = dd_xstrdup(op);
	ti->hostname = conn_jdup(ck, el, "hostname");
	if (ti->hostname && !*ti->hostname) {
		free(ti->hostname);
		ti->hostname = NULL;
	}
	ti->queued_ms = conn_jtime(ck, el, "queued_when");
	ti->start_ms = conn_jtime(ck, el, "start_date");
	ti->end_ms = conn_jtime(ck, el, "end_date");
	ti->note = conn_jdup(ck, el, "note");
	return ck->bad ? -1 : 0;
}

/* A page item callback (ud: struct conn_ti_ud): one task instance. */
static int ti_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct conn_ti_ud *u = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_task_instance ti;

	af_read_ti(el, u->run_id, &ti, &ck);
	return conn_ti_emit(c, u, &ti, &ck);
}

void af_ti_path(struct af *a, struct dd_buf *url, const char *dag_id, const char *run_id)
{
	af_dag_path(a, url, dag_id);
	dd_buf_adds(url, "/dagRuns");
	af_add_seg(url, run_id);
	dd_buf_adds(url, "/taskInstances");
}

static int af_list_task_instances(struct dd_conn *c, const char *dag_id, const char *run_id,
                                  dd_ti_cb cb, void *ud, struct dd_error *err)
{
	struct af *a = c->impl;
	struct dd_buf url = DD_BUF_INIT;
	struct conn_ti_ud u = { cb, ud, run_id };
	long status = 0;
	int rc;

	af_ti_path(a, &url, dag_id, run_id);
	rc = af_pages(c, url.data, "task_instances", NULL, ti_item, &u, &status, err);
	dd_buf_release(&url);
	if (rc < 0 && status == 404)
		return dd_error_set(err, DD_ENOTFOUND, "no run %s of DAG %s on %s (404)", run_id, dag_id,
		                    c->source->name);
	return rc;
}

static int cmp_try(const void *x, const void *y)
{
	const struct dd_try *a = x, *b = y;
	return (a->try_number > b->try_number) - (a->try_number < b->try_number);
}

/* Try `number` of ti; with details only for the current try (the others
 * failed and were retried, their details are gone). */
static void try_of_ti(struct dd_try *t, const struct dd_task_instance *ti, int number)
{
	t->run_id = dd_xstrdup(ti->run_id);
	t->task_id = dd_xstrdup(ti->task_id);
	t->map_index = ti->map_index;
	t->try_number = number;
	if (number < ti->try_number) {
		t->state = DD_STATE_UP_FOR_RETRY;
		return;
	}
	t->state = ti->state;
	t->hostname = dd_xstrdup(ti->hostname);
	t->queued_ms = ti->queued_ms;
	t->start_ms = ti->start_ms;
	t->end_ms = ti->end_ms;
	t->note = dd_xstrdup(ti->note);
}

void af_synth_tries(const struct dd_task_instance *ti, struct dd_try **out, size_t *n)
{
	size_t k = ti->try_number > 0 ? (size_t)ti->try_number : 0;

	*out = dd_xcalloc(k + 1, sizeof(**out));
	for (size_t i = 0; i < k; i++)
		try_of_ti(&(*out)[i], ti, (int)i + 1);
	*n = k;
}

/* A try of ti (or its list) that failed its checks. */
static void reject_try(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
                       const struct conn_check *ck)
{
	char what[200];

	snprintf(what, sizeof(what), "a try of task instance %.120s", ti->task_id);
	conn_reject_dag(c, dag_id, what, ti->run_id, ck);
}

void af_tries_path(struct af *a, struct dd_buf *url, const char *dag_id, const struct dd_task_instance *ti)
{
	af_ti_path(a, url, dag_id, ti->run_id);
	af_add_seg(url, ti->task_id);
	if (ti->map_index >= 0 && a->api == 1)
		dd_buf_addf(url, "/%d", ti->map_index);
	dd_buf_adds(url, "/tries");
	if (a->api == 2)
		dd_buf_addf(url, "?map_index=%d", ti->map_index);
}

void af_tries_answer(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti, const cJSON *j,
                     struct dd_try **out, size_t *n_out)
{
	struct conn_check lck = CONN_CHECK_INIT;
	const cJSON *arr, *el;
	struct dd_try *tries;
	size_t n = 0;

	arr = conn_jlist(&lck, j, "task_instances");
	if (!arr && !lck.bad)
		arr = conn_jlist(&lck, j, "task_instances_history");
	if (!arr && !lck.bad)
		conn_check_fail(&lck, "task_instances: missing where a list of tries is expected");
	if (lck.bad)
		reject_try(c, dag_id, ti, &lck);
	tries = dd_xcalloc((size_t)cJSON_GetArraySize(arr) + 2, sizeof(*tries));
	cJSON_ArrayForEach(el, arr) {
		struct conn_check ck = CONN_CHECK_INIT;
		struct dd_task_instance h;
		struct dd_try *t = &tries[n];

		if (af_read_ti(el, ti->run_id, &h, &ck) == 0 && h.try_number < 1)
			conn_check_fail(&ck, "try_number: %d where a try (1 or more) is expected", h.try_number);
		if (!ck.bad && strcmp(h.task_id, ti->task_id))
			conn_check_fail(&ck, "task_id: a try of another task");
		if (ck.bad) {
			reject_try(c, dag_id, ti, &ck);
			dd_task_instance_release(&h);
			continue;
		}
		n++;
		t->run_id = h.run_id;
		t->task_id = h.task_id;
		t->map_index = h.map_index;
		t->try_number = h.try_number;
		t->state = h.state;
		t->hostname = h.hostname;
		t->queued_ms = h.queued_ms;
		t->start_ms = h.start_ms;
		t->end_ms = h.end_ms;
		t->note = h.note;
		free(h.operator_name);
		free(h.external_id);
	}
	qsort(tries, n, sizeof(*tries), cmp_try);
	/* the current try is left out while it is up_for_retry */
	if (n == 0 || tries[n - 1].try_number < ti->try_number)
		try_of_ti(&tries[n++], ti, ti->try_number);
	*out = tries;
	*n_out = n;
}

void af_tries_missing(struct af *a, const struct dd_error *e)
{
	/* 404: before Airflow 2.10 there is no /tries endpoint */
	if (a->api == 1 && (strstr(e->msg, "requested URL was not found") || strstr(e->msg, "Not Found")))
		a->no_tries_endpoint = 1;
}

static int af_list_tries(struct dd_conn *c, const char *dag_id, const struct dd_task_instance *ti,
                         dd_try_cb cb, void *ud, struct dd_error *err)
{
	struct af *a = c->impl;
	struct dd_try *tries = NULL;
	size_t n = 0;
	int rc = 0;

	/* one try: it is the task instance itself, no request needed */
	if (!a->no_tries_endpoint && ti->try_number > 1) {
		struct dd_buf url = DD_BUF_INIT;
		cJSON *j = NULL;
		long status = 0;
		struct dd_error e2 = DD_ERROR_INIT;

		af_tries_path(a, &url, dag_id, ti);
		rc = af_json(c, url.data, NULL, &j, &status, &e2);
		dd_buf_release(&url);
		if (rc < 0 && status != 404) {
			if (err)
				*err = e2;
			return rc;
		}
		if (rc == 0) {
			af_tries_answer(c, dag_id, ti, j, &tries, &n);
			cJSON_Delete(j);
		} else {
			af_tries_missing(a, &e2);
		}
	}
	if (!tries)
		af_synth_tries(ti, &tries, &n);
	return conn_emit_tries(tries, n, cb, ud);
}

/* ---- logs --------------------------------------------------------------- */

enum { LF_TEXT, LF_JSON1, LF_NDJSON, LF_JSON2 };

/* The answer each form asks for (Content-Type); anything else, an SSO
 * sign-in page above all, is a failed fetch. */
static const char *const text_types[] = { "text/plain", NULL };
static const char *const json_types[] = { "application/json", NULL };
static const char *const ndjson_types[] = { "application/x-ndjson", NULL };
static const char *const *const form_types[] = {
	[LF_TEXT] = text_types, [LF_JSON1] = json_types, [LF_NDJSON] = ndjson_types, [LF_JSON2] = json_types,
};

struct logjob {
	struct dd_conn *c;
	struct conn_log_out out;    /* request, capped text, callback */
	struct http_xfer x;
	struct dd_buf line;         /* NDJSON: partial line */
	char *url_base;             /* .../logs/N?full_content=true&map_index=M */
	char *token;                /* last continuation token */
	int form;
	int pages;
	uint64_t page_bytes;        /* bytes this page yielded */
	int64_t log_pos;            /* from the last token followed */
	int bad_line;               /* NDJSON: a line that is not a JSON event */
	char bad_line_start[48];
};

static int sink_text(struct http_xfer *x, const char *p, size_t n)
{
	struct logjob *j = x->ud;

	http_capbuf_add(&j->out.cap, p, n);
	j->page_bytes += n;
	return 0;
}

static void ndjson_line(struct logjob *j, const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (!n)
		return;
	if ((p[0] != '{' || p[n - 1] != '}') && !j->bad_line) {
		/* every line of an NDJSON answer is one JSON event: not an HTML page, not cut */
		size_t k = 0;

		j->bad_line = 1;
		for (size_t i = 0; i < n && k + 4 < sizeof(j->bad_line_start) && i < 40; i++)
			j->bad_line_start[k++] = (unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f ? p[i] : '.';
		j->bad_line_start[k] = '\0';
	}
	http_capbuf_add(&j->out.cap, p, n);
	http_capbuf_add(&j->out.cap, "\n", 1);
	j->page_bytes += n + 1;
}

static int sink_ndjson(struct http_xfer *x, const char *p, size_t n)
{
	struct logjob *j = x->ud;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		if (j->line.len + k > (1u << 20)) {
			/* an enormous line: pass it through in pieces */
			http_capbuf_add(&j->out.cap, j->line.data ? j->line.data : "", j->line.len);
			http_capbuf_add(&j->out.cap, p, k);
			j->page_bytes += j->line.len + k;
			dd_buf_reset(&j->line);
		} else {
			dd_buf_add(&j->line, p, k);
		}
		if (!nl)
			break;
		ndjson_line(j, j->line.data ? j->line.data : "", j->line.len);
		dd_buf_reset(&j->line);
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

static void reset_page(struct http_xfer *x)
{
	struct logjob *j = x->ud;

	/* a retry re-sends this page: forget what it delivered so far */
	if (j->pages == 0)
		http_capbuf_reset(&j->out.cap);
	dd_buf_reset(&j->line);
	j->page_bytes = 0;
	j->bad_line = 0;
}

/* Decodes one Python string literal at *pp (quote ' or "); appends to out. */
static int py_string(const char **pp, const char *end, struct dd_buf *out)
{
	const char *p = *pp;
	char q;

	if (p >= end || (*p != '\'' && *p != '"'))
		return -1;
	q = *p++;
	while (p < end && *p != q) {
		if (*p != '\\') {
			dd_buf_addch(out, *p++);
			continue;
		}
		p++;
		if (p >= end)
			return -1;
		switch (*p) {
		case 'n': dd_buf_addch(out, '\n'); p++; break;
		case 't': dd_buf_addch(out, '\t'); p++; break;
		case 'r': dd_buf_addch(out, '\r'); p++; break;
		case '\\': dd_buf_addch(out, '\\'); p++; break;
		case '\'': dd_buf_addch(out, '\''); p++; break;
		case '"': dd_buf_addch(out, '"'); p++; break;
		case 'x': case 'u': case 'U': {
			int digits = *p == 'x' ? 2 : *p == 'u' ? 4 : 8;
			unsigned long cp = 0;
			p++;
			for (int i = 0; i < digits; i++, p++) {
				if (p >= end || !isxdigit((unsigned char)*p))
					return -1;
				cp = cp * 16 + (unsigned long)(isdigit((unsigned char)*p) ? *p - '0' :
				                               (tolower((unsigned char)*p) - 'a' + 10));
			}
			if (cp < 0x80) {
				dd_buf_addch(out, (char)cp);
			} else if (cp < 0x800) {
				dd_buf_addch(out, (char)(0xC0 | (cp >> 6)));
				dd_buf_addch(out, (char)(0x80 | (cp & 0x3F)));
			} else if (cp < 0x10000) {
				dd_buf_addch(out, (char)(0xE0 | (cp >> 12)));
				dd_buf_addch(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
				dd_buf_addch(out, (char)(0x80 | (cp & 0x3F)));
			} else {
				dd_buf_addch(out, (char)(0xF0 | (cp >> 18)));
				dd_buf_addch(out, (char)(0x80 | ((cp >> 12) & 0x3F)));
				dd_buf_addch(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
				dd_buf_addch(out, (char)(0x80 | (cp & 0x3F)));
			}
			break;
		}
		default:
			dd_buf_addch(out, '\\');
			dd_buf_addch(out, *p++);
			break;
		}
	}
	if (p >= end)
		return -1;
	*pp = p + 1;
	return 0;
}

/* v1 JSON "content": the repr of [(host, text), ...]; appends the texts.
 * Anything else is taken as plain text. */
void af_v1_texts(const char *s, struct dd_buf *out)
{
	const char *p = s, *end = s + strlen(s);
	struct dd_buf host = DD_BUF_INIT, text = DD_BUF_INIT;
	int ok = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p < end && *p == '[') {
		p++;
		ok = 1;
		for (;;) {
			while (p < end && (isspace((unsigned char)*p) || *p == ','))
				p++;
			if (p < end && *p == ']')
				break;
			if (p >= end || *p != '(') {
				ok = 0;
				break;
			}
			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			dd_buf_reset(&host);
			if (py_string(&p, end, &host) < 0) {
				ok = 0;
				break;
			}
			while (p < end && (isspace((unsigned char)*p) || *p == ','))
				p++;
			if (py_string(&p, end, &text) < 0) {
				ok = 0;
				break;
			}
			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p >= end || *p != ')') {
				ok = 0;
				break;
			}
			p++;
			if (text.len && text.data[text.len - 1] != '\n')
				dd_buf_addch(&text, '\n');
		}
	}
	if (ok) {
		dd_buf_add(out, text.data ? text.data : "", text.len);
	} else {
		size_t n = strlen(s);
		dd_buf_add(out, s, n);
		if (n && s[n - 1] != '\n')
			dd_buf_addch(out, '\n');
	}
	dd_buf_release(&host);
	dd_buf_release(&text);
}

int af_read_log_page(const cJSON *j, struct dd_buf *text, char **token, struct conn_check *ck)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(j, "content"), *ev;

	*token = NULL;
	if (!conn_jis_obj(ck, j))
		return -1;
	if (cJSON_IsString(content)) {
		af_v1_texts(content->valuestring, text);
	} else if (cJSON_IsArray(content)) {
		cJSON_ArrayForEach(ev, content) {
			char *line;

			if (!cJSON_IsObject(ev) && !cJSON_IsString(ev)) {
				conn_check_fail(ck, "content: holds something other than log events");
				return -1;
			}
			line = cJSON_PrintUnformatted(ev);
			dd_buf_adds(text, line ? line : "");
			dd_buf_addch(text, '\n');
			cJSON_free(line);
		}
	} else {
		conn_check_fail(ck, "content: %s where the log (text or a list of events) is expected",
		                content ? "something else" : "missing");
		return -1;
	}
	*token = conn_jdup(ck, j, "continuation_token");
	if (ck->bad) {
		free(*token);
		*token = NULL;
		return -1;
	}
	return 0;
}

/* What an itsdangerous continuation token "<base64url json>.<sig>" says:
 * *end = end_of_log, *pos = log_pos (-1 when absent or unreadable). */
void af_token_info(const char *tok, int *end, int64_t *pos)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	struct dd_buf out = DD_BUF_INIT;
	uint32_t acc = 0;
	int bits = 0;

	*end = 0;
	*pos = -1;
	if (!tok || *tok == '.')   /* compressed payloads are not read */
		return;
	for (const char *p = tok; *p && *p != '.'; p++) {
		const char *q = strchr(tbl, *p);
		if (!q)
			break;
		acc = (acc << 6) | (uint32_t)(q - tbl);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dd_buf_addch(&out, (char)((acc >> bits) & 0xFF));
		}
	}
	if (out.len) {
		cJSON *j = cJSON_ParseWithLength(out.data, out.len);
		const cJSON *lp = cJSON_GetObjectItemCaseSensitive(j, "log_pos");
		*end = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "end_of_log"));
		if (cJSON_IsNumber(lp) && lp->valuedouble >= 0 && lp->valuedouble < 9e15)
			*pos = (int64_t)lp->valuedouble;
		cJSON_Delete(j);
	}
	dd_buf_release(&out);
}

/* Is a continuation token worth following: more to come, and ahead of the
 * position already read? */
static int follow_token(struct logjob *j, const char *tok)
{
	int end;
	int64_t pos;

	if (!tok || !*tok || j->page_bytes == 0 || (j->token && !strcmp(tok, j->token)))
		return 0;
	af_token_info(tok, &end, &pos);
	if (end || (pos >= 0 && pos <= j->log_pos))
		return 0;
	if (pos >= 0)
		j->log_pos = pos;
	return 1;
}

static void set_page_url(struct logjob *j)
{
	struct dd_buf u = DD_BUF_INIT;

	dd_buf_adds(&u, j->url_base);
	if (j->token) {
		/* a follow-up page: only what comes after the token's position */
		dd_buf_adds(&u, "&token=");
		http_buf_add_escaped(&u, j->token);
	} else {
		dd_buf_adds(&u, "&full_content=true");
	}
	free(j->x.url);
	j->x.url = dd_buf_detach(&u);
	switch (j->form) {
	case LF_TEXT: j->x.accept = "text/plain"; j->x.sink = sink_text; break;
	case LF_NDJSON: j->x.accept = "application/x-ndjson"; j->x.sink = sink_ndjson; break;
	default: j->x.accept = "application/json"; j->x.sink = NULL; break;
	}
	j->x.capture_header = j->form == LF_NDJSON ? "Airflow-Continuation-Token" : NULL;
	j->x.reset = reset_page;
}

/* Hands the log (or e) to the callback; frees the job's buffers. */
static int deliver(struct logjob *j, const struct dd_error *e)
{
	int r = conn_log_deliver(&j->out, e);

	dd_buf_release(&j->line);
	return r;
}

static int log_done(struct http_xfer *x)
{
	struct logjob *j = x->ud;
	struct af *a = j->c->impl;
	struct dd_error e = DD_ERROR_INIT;
	char *next = NULL;
	int rc;

	af_sync_stats(j->c);
	conn_set_endpoint(j->c, "GET", x->url);
	if (x->rc == 0 && x->status == 406 && (j->form == LF_TEXT || j->form == LF_NDJSON) &&
	    j->pages == 0) {
		/* this server does not stream: use the JSON form */
		j->form = j->form == LF_TEXT ? LF_JSON1 : LF_JSON2;
		set_page_url(j);
		return 1;
	}
	rc = http_check(a->http, x, &e);
	if (rc < 0) {
		if (x->status == 404)
			dd_error_set(&e, DD_ENOTFOUND, "no log of try %d of task %s in run %s of DAG %s on %s "
			             "(404)", j->out.req->try_number, j->out.req->task_id, j->out.req->run_id,
			             j->out.req->dag_id, j->c->source->name);
		return deliver(j, &e);
	}
	/* what was asked for, whole: the type, then the body */
	rc = http_check_type(a->http, x, form_types[j->form], &e);
	if (rc == 0 && j->bad_line)
		rc = dd_error_set(&e, DD_EPROTO, "%s at %s answered %s with a line that is not a JSON log "
		                  "event (%s) where NDJSON was asked for", "Airflow", a->root, j->c->endpoint,
		                  j->bad_line_start);
	if (rc < 0)
		return deliver(j, &e);
	j->pages++;
	if (j->form == LF_JSON1 || j->form == LF_JSON2) {
		struct conn_check ck = CONN_CHECK_INIT;
		struct dd_buf text = DD_BUF_INIT;
		void *jv = NULL;
		char *tok = NULL;

		j->page_bytes = 0;
		rc = http_parse_json(a->http, x, &jv, &e);
		if (rc < 0)
			return deliver(j, &e);
		rc = af_read_log_page(jv, &text, &tok, &ck);
		cJSON_Delete(jv);
		if (rc < 0) {
			dd_buf_release(&text);
			dd_error_set(&e, DD_EPROTO, "Airflow at %s answered %s with a log page that fails its "
			             "check: %s", a->root, j->c->endpoint, ck.problem);
			return deliver(j, &e);
		}
		http_capbuf_add(&j->out.cap, dd_buf_str(&text), text.len);
		j->page_bytes += text.len;
		dd_buf_release(&text);
		if (follow_token(j, tok))
			next = tok;
		else
			free(tok);
	} else {
		if (j->line.len) {
			ndjson_line(j, j->line.data, j->line.len);
			dd_buf_reset(&j->line);
		}
		if (j->form == LF_NDJSON && follow_token(j, x->captured))
			next = dd_xstrdup(x->captured);
	}
	if (next && j->pages < MAX_LOG_PAGES) {
		free(j->token);
		j->token = next;
		j->page_bytes = 0;
		set_page_url(j);
		return 1;
	}
	free(next);
	return deliver(j, NULL);
}

static int af_fetch_logs(struct dd_conn *c, const struct dd_log_request *reqs, size_t n,
                         dd_log_cb cb, void *ud, struct dd_error *err)
{
	struct af *a = c->impl;
	struct logjob *jobs = dd_xcalloc(n + 1, sizeof(*jobs));
	struct http_xfer **xs = dd_xcalloc(n + 1, sizeof(*xs));
	int cb_ret = 0, rc;

	for (size_t i = 0; i < n; i++) {
		struct logjob *j = &jobs[i];
		struct dd_buf u = DD_BUF_INIT;

		j->c = c;
		conn_log_out_init(&j->out, c, &reqs[i], cb, ud, &cb_ret);
		j->form = a->api == 2 ? (a->log_json ? LF_JSON2 : LF_NDJSON) : (a->log_json ? LF_JSON1 : LF_TEXT);
		af_ti_path(a, &u, reqs[i].dag_id, reqs[i].run_id);
		af_add_seg(&u, reqs[i].task_id);
		dd_buf_addf(&u, "/logs/%d?map_index=%d", reqs[i].try_number,
		            reqs[i].map_index);
		j->url_base = dd_buf_detach(&u);
		j->x.ud = j;
		j->x.done = log_done;
		j->x.max_inflate = conn_log_inflate_cap(c);
		set_page_url(j);
		xs[i] = &j->x;
	}
	rc = conn_run_logs(c, a->http, xs, n, &cb_ret, err);
	for (size_t i = 0; i < n; i++) {
		http_capbuf_release(&jobs[i].out.cap);
		dd_buf_release(&jobs[i].line);
		http_xfer_release(&jobs[i].x);
		free(jobs[i].x.url);
		free(jobs[i].url_base);
		free(jobs[i].token);
	}
	free(jobs);
	free(xs);
	return rc;
}

/* ---- health, import errors ---------------------------------------------- */

int af_read_health(const cJSON *j, struct dd_health *out, struct conn_check *ck)
{
	static const char *const extra[] = { "triggerer", "dag_processor" };
	const cJSON *s;
	struct dd_buf d = DD_BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (!conn_jis_obj(ck, j))
		return -1;
	s = conn_jobj(ck, j, "scheduler");
	out->scheduler_status = conn_jdup(ck, s, "status");
	out->scheduler_heartbeat_ms = conn_jtime(ck, s, "latest_scheduler_heartbeat");
	out->metadatabase_status = conn_jdup(ck, conn_jobj(ck, j, "metadatabase"), "status");
	for (size_t i = 0; i < DD_ARRAY_SIZE(extra); i++) {
		const char *st = conn_jstr(ck, conn_jobj(ck, j, extra[i]), "status");
		if (st)
			dd_buf_addf(&d, "%s%s %s", d.len ? ", " : "", extra[i], st);
	}
	out->detail = d.len ? dd_buf_detach(&d) : NULL;
	dd_buf_release(&d);
	if (ck->bad) {
		dd_health_release(out);
		return -1;
	}
	return 0;
}

static int af_health(struct dd_conn *c, struct dd_health *out, struct dd_error *err)
{
	struct af *a = c->impl;
	struct conn_check ck = CONN_CHECK_INIT;
	cJSON *j = NULL;
	int rc = af_json(c, a->api == 2 ? "/api/v2/monitor/health" : "/api/v1/health", NULL, &j, NULL, err);

	if (rc < 0)
		return rc;
	if (af_read_health(j, out, &ck) < 0) {
		conn_reject(c, "health", NULL, &ck);
		rc = dd_error_set(err, DD_EPROTO, "%s: health: %s", c->endpoint, ck.problem);
	}
	cJSON_Delete(j);
	return rc;
}

struct ie_ud {
	dd_import_error_cb cb;
	void *ud;
};

int af_read_import_error(const cJSON *el, struct dd_import_error *ie, struct conn_check *ck)
{
	memset(ie, 0, sizeof(*ie));
	if (!conn_jis_obj(ck, el))
		return -1;
	ie->filename = dd_xstrdup(conn_jstr_req(ck, el, "filename"));
	ie->stack_trace = conn_jdup(ck, el, "stack_trace");
	ie->timestamp_ms = conn_jtime(ck, el, "timestamp");
	if (ck->bad) {
		free(ie->filename);
		free(ie->stack_trace);
		memset(ie, 0, sizeof(*ie));
		return -1;
	}
	return 0;
}

static int ie_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct ie_ud *u = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_import_error ie;
	int rc;

	if (af_read_import_error(el, &ie, &ck) < 0) {
		conn_reject(c, "import error", NULL, &ck);
		return 0;
	}
	rc = u->cb(&ie, u->ud);
	free(ie.filename);
	free(ie.stack_trace);
	return rc;
}

static int af_list_import_errors(struct dd_conn *c, dd_import_error_cb cb, void *ud,
                                 struct dd_error *err)
{
	struct ie_ud u = { cb, ud };

	return af_list(c, "/importErrors", "import_errors", ie_item, &u, err);
}

/* ---- UI links ----------------------------------------------------------- */

static void af_ui(const struct dd_conn *c, struct dd_ui *out)
{
	const struct af *a = c->impl;
	const struct dd_source *src = c->source;
	char *root = src->ui_url ? strip_api(src->ui_url) : dd_xstrdup(a->root);

	snprintf(out->form, sizeof(out->form), "%s", a->api == 2 ? "airflow-runs" : "airflow-grid");
	snprintf(out->base, sizeof(out->base), "%s", root);
	free(root);
}

const struct dd_conn_ops dd_airflow_ops = {
	.kind = "airflow",
	.open = af_open,
	.close = af_close,
	.list_dags = af_list_dags,
	.get_dag = af_get_dag,
	.list_runs = af_list_runs,
	.list_task_instances = af_list_task_instances,
	.list_tries = af_list_tries,
	.fetch_logs = af_fetch_logs,
	.health = af_health,
	.list_import_errors = af_list_import_errors,
	.list_dag_summaries = af_list_dag_summaries,
	.get_dags = af_get_dags,
	.list_runs_multi = af_list_runs_multi,
	.list_run_tis = af_list_run_tis,
	.ui = af_ui,
};
