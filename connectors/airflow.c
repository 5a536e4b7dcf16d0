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
#include <pthread.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dagdoc/http.h"
#include "conn_impl.h"

#define PAGE 100
#define MAX_LOG_PAGES 1000

struct af {
	struct http_client *http;
	int api;                  /* 1 or 2 */
	const char *prefix;       /* "/api/v1" or "/api/v2" */
	char *root;               /* server root URL, no /api/vN */
	char *version;
	int exchanged;            /* v2 token came from /auth/token */
	int log_json;             /* use the JSON log form */
	int no_tries_endpoint;    /* /tries answered "no such URL": synthesise */
	struct dd_strv dag_ids;
	int dag_ids_loaded;
	char *url_env, *auth_hint;
};

/* ---- source -> API version, for ui_url (which gets no connection) ------- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { char *url; int api; } reg[32];
static size_t n_reg;

static void reg_set(const char *url, int api)
{
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < n_reg; i++)
		if (!strcmp(reg[i].url, url)) {
			reg[i].api = api;
			pthread_mutex_unlock(&reg_lock);
			return;
		}
	if (n_reg < DD_ARRAY_SIZE(reg)) {
		reg[n_reg].url = dd_xstrdup(url);
		reg[n_reg++].api = api;
	}
	pthread_mutex_unlock(&reg_lock);
}

static int reg_get(const char *url)
{
	int api = 0;

	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < n_reg; i++)
		if (!strcmp(reg[i].url, url))
			api = reg[i].api;
	pthread_mutex_unlock(&reg_lock);
	return api;
}

/* ---- small helpers ------------------------------------------------------ */

/* Copies the client's request counters into c->stats. */
static void sync_stats(struct dd_conn *c)
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

/* Appends "/<escaped>" */
static void add_seg(struct dd_buf *b, const char *s)
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

/* One JSON request.  On 401 after a token exchange, exchanges again once. */
static int exchange_token(struct dd_conn *c, struct dd_error *err);

static int af_json(struct dd_conn *c, const char *url, const char *post, cJSON **out,
                   long *status, struct dd_error *err)
{
	struct af *a = c->impl;
	long st = 0;
	int rc = conn_json(c, a->http, url, post, out, &st, err);

	if (rc < 0 && st == 401 && a->exchanged) {
		struct dd_error e2 = DD_ERROR_INIT;
		if (exchange_token(c, &e2) == 0) {
			dd_error_clear(err);
			rc = conn_json(c, a->http, url, post, out, &st, err);
		}
	}
	if (status)
		*status = st;
	return rc;
}

/* ---- open/close --------------------------------------------------------- */

static int exchange_token(struct dd_conn *c, struct dd_error *err)
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
	sync_stats(c);
	if (x.rc == 0 && (x.status == 401 || x.status == 403 || x.status == 400 || x.status == 422)) {
		char *d = http_error_detail(x.body.data, x.body.len);
		rc = dd_error_set(err, DD_EAUTH, "Airflow at %s did not give a token for the username "
		                  "and password (%ld%s%s); check %s and %s", a->root, x.status,
		                  d ? ": " : "", d ? d : "",
		                  s->username_env ? s->username_env : "DAGDOC_AIRFLOW_USERNAME",
		                  s->password_env ? s->password_env : "DAGDOC_AIRFLOW_PASSWORD");
		free(d);
		http_xfer_release(&x);
		return rc;
	}
	rc = http_check_json(a->http, &x, &jv, err);
	http_xfer_release(&x);
	if (rc < 0)
		return rc;
	j = jv;
	tok = conn_jstr(j, "access_token");
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
	sync_stats(c);
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
	if (!conn_jstr(jv, "version")) {
		cJSON_Delete(jv);
		return 0;
	}
	free(a->version);
	a->version = conn_jdup(jv, "version");
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
	if (s->token && *s->token)
		a->auth_hint = dd_xasprintf("check %s", s->token_env ? s->token_env : "DAGDOC_AIRFLOW_TOKEN");
	else if (s->username && *s->username)
		a->auth_hint = dd_xasprintf("check %s and %s",
		                            s->username_env ? s->username_env : "DAGDOC_AIRFLOW_USERNAME",
		                            s->password_env ? s->password_env : "DAGDOC_AIRFLOW_PASSWORD");
	else
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
		rc = exchange_token(c, err);
		if (rc < 0)
			goto fail;
	}
	reg_set(s->url, a->api);
	snprintf(c->description, sizeof(c->description), "airflow %s (api v%d)",
	         a->version ? a->version : "?", a->api);
	return 0;
fail:
	if (a->http)
		sync_stats(c);
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
	struct conn_id_ud u = { cb, ud, "dag_id" };

	return af_list(c, "/dags", "dags", conn_id_item, &u, err);
}

/* "no DAG named X on SOURCE; did you mean Y?" */
static int no_such_dag(struct dd_conn *c, const char *dag_id, struct dd_error *err)
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

static int af_get_dag(struct dd_conn *c, const char *dag_id, struct dd_dag *out, struct dd_error *err)
{
	struct af *a = c->impl;
	struct dd_buf url = DD_BUF_INIT;
	cJSON *j = NULL, *arr, *el;
	long status = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	dd_buf_adds(&url, a->prefix);
	dd_buf_adds(&url, "/dags");
	add_seg(&url, dag_id);
	rc = af_json(c, url.data, NULL, &j, &status, err);
	if (rc < 0) {
		dd_buf_release(&url);
		if (status == 404)
			return no_such_dag(c, dag_id, err);
		return rc;
	}
	out->dag_id = conn_jdup(j, "dag_id");
	if (!out->dag_id)
		out->dag_id = dd_xstrdup(dag_id);
	out->fileloc = conn_jdup(j, "fileloc");
	out->is_paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "is_paused"));
	cJSON_Delete(j);
	j = NULL;

	dd_buf_adds(&url, "/tasks");
	rc = af_json(c, url.data, NULL, &j, &status, err);
	dd_buf_release(&url);
	if (rc < 0) {
		dd_dag_release(out);
		return rc;
	}
	arr = cJSON_GetObjectItemCaseSensitive(j, "tasks");
	out->tasks = dd_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*out->tasks));
	cJSON_ArrayForEach(el, arr) {
		struct dd_task *t = &out->tasks[out->n_tasks];
		const cJSON *ds = cJSON_GetObjectItemCaseSensitive(el, "downstream_task_ids"), *d;
		const char *op = conn_jstr(el, "operator_name");

		if (!conn_jstr(el, "task_id"))
			continue;
		out->n_tasks++;
		t->task_id = conn_jdup(el, "task_id");
		if (!op)
			op = conn_jstr(cJSON_GetObjectItemCaseSensitive(el, "class_ref"), "class_name");
		t->operator_name = op ? dd_xstrdup(op) : NULL;
		t->is_sensor = op && strstr(op, "Sensor") != NULL;
		t->downstream = dd_xcalloc((size_t)cJSON_GetArraySize(ds) + 1, sizeof(char *));
		cJSON_ArrayForEach(d, ds)
			if (cJSON_IsString(d))
				t->downstream[t->n_downstream++] = dd_xstrdup(d->valuestring);
	}
	cJSON_Delete(j);
	return 0;
}

/* ---- runs, task instances, tries ---------------------------------------- */

struct run_ud {
	dd_run_cb cb;
	void *ud;
	size_t n;
};

static int run_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct run_ud *u = ud;
	struct dd_run r = { 0 };
	int rc;

	(void)c;
	r.run_id = conn_jdup(el, "dag_run_id");
	if (!r.run_id)
		r.run_id = conn_jdup(el, "run_id");
	r.state = dd_state_parse(conn_jstr(el, "state"));
	r.run_type = conn_jdup(el, "run_type");
	r.logical_ms = conn_jtime(el, "logical_date");
	if (!r.logical_ms)
		r.logical_ms = conn_jtime(el, "execution_date");
	if (!r.logical_ms)
		r.logical_ms = conn_jtime(el, "run_after");
	r.queued_ms = conn_jtime(el, "queued_at");
	r.start_ms = conn_jtime(el, "start_date");
	r.end_ms = conn_jtime(el, "end_date");
	r.note = conn_jdup(el, "note");
	u->n++;
	rc = r.run_id ? u->cb(&r, u->ud) : 0;
	dd_run_release(&r);
	return rc;
}

static int af_list_runs(struct dd_conn *c, const char *dag_id, int64_t since_ms,
                        dd_run_cb cb, void *ud, struct dd_error *err)
{
	struct af *a = c->impl;
	struct dd_buf url = DD_BUF_INIT;
	struct run_ud u = { cb, ud, 0 };
	long status = 0;
	int rc;

	dd_buf_adds(&url, a->prefix);
	dd_buf_adds(&url, "/dags");
	add_seg(&url, dag_id);
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
	rc = af_pages(c, url.data, "dag_runs", NULL, run_item, &u, &status, err);
	dd_buf_release(&url);
	if (rc < 0 && status == 404)
		return no_such_dag(c, dag_id, err);
	if (rc == 0 && u.n == 0) {
		/* Airflow lists no runs for a DAG that does not exist: check */
		cJSON *j = NULL;
		struct dd_error e2 = DD_ERROR_INIT;

		url = (struct dd_buf)DD_BUF_INIT;
		dd_buf_adds(&url, a->prefix);
		dd_buf_adds(&url, "/dags");
		add_seg(&url, dag_id);
		rc = af_json(c, url.data, NULL, &j, &status, &e2);
		dd_buf_release(&url);
		cJSON_Delete(j);
		if (rc < 0 && status == 404)
			return no_such_dag(c, dag_id, err);
		if (rc < 0 && err)
			*err = e2;
	}
	return rc;
}

static void ti_from_json(const cJSON *el, struct dd_task_instance *ti, const char *run_id)
{
	const char *op = conn_jstr(el, "operator_name");

	memset(ti, 0, sizeof(*ti));
	ti->run_id = conn_jdup(el, "dag_run_id");
	if (!ti->run_id)
		ti->run_id = dd_xstrdup(run_id);
	ti->task_id = conn_jdup(el, "task_id");
	ti->map_index = conn_jint(el, "map_index", -1);
	ti->state = dd_state_parse(conn_jstr(el, "state"));
	ti->try_number = conn_jint(el, "try_number", 0);
	ti->max_tries = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(el, "max_tries")) ?
	                conn_jint(el, "max_tries", 0) + 1 : 0;
	if (!op)
		op = conn_jstr(el, "operator");
	ti->operator_name = op ? dd_xstrdup(op) : NULL;
	ti->hostname = conn_jstr(el, "hostname") && *conn_jstr(el, "hostname") ?
	               conn_jdup(el, "hostname") : NULL;
	ti->queued_ms = conn_jtime(el, "queued_when");
	ti->start_ms = conn_jtime(el, "start_date");
	ti->end_ms = conn_jtime(el, "end_date");
	ti->note = conn_jdup(el, "note");
}

/* A page item callback (ud: struct conn_ti_ud): one task instance. */
static int ti_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct conn_ti_ud *u = ud;
	struct dd_task_instance ti;

	(void)c;
	ti_from_json(el, &ti, u->run_id);
	return conn_ti_emit(u, &ti);
}

static void ti_path(struct af *a, struct dd_buf *url, const char *dag_id, const char *run_id)
{
	dd_buf_adds(url, a->prefix);
	dd_buf_adds(url, "/dags");
	add_seg(url, dag_id);
	dd_buf_adds(url, "/dagRuns");
	add_seg(url, run_id);
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

	ti_path(a, &url, dag_id, run_id);
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

static int synth_tries(const struct dd_task_instance *ti, struct dd_try **out, size_t *n)
{
	size_t k = ti->try_number > 0 ? (size_t)ti->try_number : 0;

	*out = dd_xcalloc(k + 1, sizeof(**out));
	for (size_t i = 0; i < k; i++)
		try_of_ti(&(*out)[i], ti, (int)i + 1);
	*n = k;
	return 0;
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
		cJSON *j = NULL, *arr, *el;
		long status = 0;
		struct dd_error e2 = DD_ERROR_INIT;

		ti_path(a, &url, dag_id, ti->run_id);
		add_seg(&url, ti->task_id);
		if (ti->map_index >= 0 && a->api == 1)
			dd_buf_addf(&url, "/%d", ti->map_index);
		dd_buf_adds(&url, "/tries");
		if (a->api == 2)
			dd_buf_addf(&url, "?map_index=%d", ti->map_index);
		rc = af_json(c, url.data, NULL, &j, &status, &e2);
		dd_buf_release(&url);
		if (rc < 0 && status != 404) {
			if (err)
				*err = e2;
			return rc;
		}
		if (rc == 0) {
			arr = cJSON_GetObjectItemCaseSensitive(j, "task_instances");
			if (!cJSON_IsArray(arr))
				arr = cJSON_GetObjectItemCaseSensitive(j, "task_instances_history");
			tries = dd_xcalloc((size_t)cJSON_GetArraySize(arr) + 2, sizeof(*tries));
			cJSON_ArrayForEach(el, arr) {
				struct dd_task_instance h;
				struct dd_try *t = &tries[n];

				ti_from_json(el, &h, ti->run_id);
				if (!h.task_id || h.try_number < 1) {
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
			cJSON_Delete(j);
			qsort(tries, n, sizeof(*tries), cmp_try);
			/* the current try is left out while it is up_for_retry */
			if (n == 0 || tries[n - 1].try_number < ti->try_number)
				try_of_ti(&tries[n++], ti, ti->try_number);
		} else {
			/* 404: before Airflow 2.10 there is no /tries endpoint */
			const char *m = e2.msg;
			if (a->api == 1 && (strstr(m, "requested URL was not found") || strstr(m, "Not Found")))
				a->no_tries_endpoint = 1;
		}
	}
	if (!tries)
		synth_tries(ti, &tries, &n);
	return conn_emit_tries(tries, n, cb, ud);
}

/* ---- logs --------------------------------------------------------------- */

enum { LF_TEXT, LF_JSON1, LF_NDJSON, LF_JSON2 };

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
static void add_v1_content(struct logjob *j, const char *s)
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
		http_capbuf_add(&j->out.cap, text.data ? text.data : "", text.len);
		j->page_bytes += text.len;
	} else {
		size_t n = strlen(s);
		http_capbuf_add(&j->out.cap, s, n);
		if (n && s[n - 1] != '\n')
			http_capbuf_add(&j->out.cap, "\n", 1);
		j->page_bytes += n;
	}
	dd_buf_release(&host);
	dd_buf_release(&text);
}

static int add_v2_content(struct logjob *j, const cJSON *content)
{
	const cJSON *ev;

	cJSON_ArrayForEach(ev, content) {
		char *line = cJSON_PrintUnformatted(ev);
		if (line) {
			ndjson_line(j, line, strlen(line));
			cJSON_free(line);
		}
	}
	return 0;
}

/* What an itsdangerous continuation token "<base64url json>.<sig>" says:
 * *end = end_of_log, *pos = log_pos (-1 when absent or unreadable). */
static void token_info(const char *tok, int *end, int64_t *pos)
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
		if (cJSON_IsNumber(lp))
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
	token_info(tok, &end, &pos);
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

	sync_stats(j->c);
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
	j->pages++;
	if (j->form == LF_JSON1 || j->form == LF_JSON2) {
		void *jv = NULL;
		cJSON *content;
		const char *tok;

		j->page_bytes = 0;
		rc = http_parse_json(a->http, x, &jv, &e);
		if (rc < 0)
			return deliver(j, &e);
		content = cJSON_GetObjectItemCaseSensitive(jv, "content");
		if (cJSON_IsString(content))
			add_v1_content(j, content->valuestring);
		else if (cJSON_IsArray(content))
			add_v2_content(j, content);
		tok = conn_jstr(jv, "continuation_token");
		if (follow_token(j, tok))
			next = dd_xstrdup(tok);
		cJSON_Delete(jv);
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
		ti_path(a, &u, reqs[i].dag_id, reqs[i].run_id);
		add_seg(&u, reqs[i].task_id);
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

static int af_health(struct dd_conn *c, struct dd_health *out, struct dd_error *err)
{
	struct af *a = c->impl;
	char *url = dd_xasprintf("%s", a->api == 2 ? "/api/v2/monitor/health" : "/api/v1/health");
	cJSON *j = NULL, *s;
	int rc = af_json(c, url, NULL, &j, NULL, err);

	free(url);
	if (rc < 0)
		return rc;
	s = cJSON_GetObjectItemCaseSensitive(j, "scheduler");
	out->scheduler_status = conn_jdup(s, "status");
	out->scheduler_heartbeat_ms = conn_jtime(s, "latest_scheduler_heartbeat");
	out->metadatabase_status = conn_jdup(cJSON_GetObjectItemCaseSensitive(j, "metadatabase"),
	                                     "status");
	{
		struct dd_buf d = DD_BUF_INIT;
		static const char *const extra[] = { "triggerer", "dag_processor" };
		for (size_t i = 0; i < DD_ARRAY_SIZE(extra); i++) {
			const char *st = conn_jstr(cJSON_GetObjectItemCaseSensitive(j, extra[i]), "status");
			if (st)
				dd_buf_addf(&d, "%s%s %s", d.len ? ", " : "", extra[i], st);
		}
		out->detail = d.len ? dd_buf_detach(&d) : NULL;
		dd_buf_release(&d);
	}
	cJSON_Delete(j);
	return 0;
}

struct ie_ud {
	dd_import_error_cb cb;
	void *ud;
};

static int ie_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct ie_ud *u = ud;
	struct dd_import_error ie = { 0 };
	int rc;

	(void)c;
	ie.filename = conn_jdup(el, "filename");
	ie.stack_trace = conn_jdup(el, "stack_trace");
	ie.timestamp_ms = conn_jtime(el, "timestamp");
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

static char *af_ui_url(const struct dd_source *src, const char *dag_id, const char *run_id,
                       const char *task_id)
{
	struct dd_buf b = DD_BUF_INIT;
	char *root;
	int api;

	if (!src->url && !src->ui_url)
		return NULL;
	api = src->url ? reg_get(src->url) : 0;
	if (!api && src->url && strstr(src->url, "/api/v2"))
		api = 2;
	root = strip_api(src->ui_url ? src->ui_url : src->url);
	dd_buf_adds(&b, root);
	free(root);
	dd_buf_adds(&b, "/dags");
	add_seg(&b, dag_id);
	if (api == 2) {
		if (run_id) {
			dd_buf_adds(&b, "/runs");
			add_seg(&b, run_id);
			if (task_id) {
				dd_buf_adds(&b, "/tasks");
				add_seg(&b, task_id);
			}
		}
	} else {
		dd_buf_adds(&b, "/grid");
		if (run_id) {
			dd_buf_adds(&b, "?dag_run_id=");
			http_buf_add_escaped(&b, run_id);
			if (task_id) {
				dd_buf_adds(&b, "&task_id=");
				http_buf_add_escaped(&b, task_id);
			}
		}
	}
	return dd_buf_detach(&b);
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
	.ui_url = af_ui_url,
};
