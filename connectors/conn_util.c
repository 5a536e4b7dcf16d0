/*
 * conn_util.c - what the Airflow and Prefect connectors share: JSON member
 * readers, one JSON request, connection options, list callbacks, and the
 * plumbing of log jobs (declared in conn_impl.h, private to connectors/).
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "dagdoc/http.h"
#include "conn_impl.h"

/* ---- JSON members, checked ----------------------------------------------- */

void conn_check_fail(struct conn_check *ck, const char *fmt, ...)
{
	va_list ap;

	if (!ck || ck->bad)
		return;
	ck->bad = 1;
	va_start(ap, fmt);
	vsnprintf(ck->problem, sizeof(ck->problem), fmt, ap);
	va_end(ap);
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v)) return "a string";
	if (cJSON_IsNumber(v)) return "a number";
	if (cJSON_IsBool(v)) return "a boolean";
	if (cJSON_IsArray(v)) return "a list";
	if (cJSON_IsObject(v)) return "an object";
	return "something else";
}

/* "a string (\"1\")", "a number (1e+30)": what was there, short. */
static void describe(const cJSON *v, char *out, size_t n)
{
	if (cJSON_IsString(v)) {
		size_t k = 0;

		snprintf(out, n, "a string (\"");
		k = strlen(out);
		for (const char *p = v->valuestring; *p && k + 6 < n && p - v->valuestring < 40; p++)
			out[k++] = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?';
		snprintf(out + k, n - k, "%s\")", strlen(v->valuestring) > 40 ? "..." : "");
	} else if (cJSON_IsNumber(v)) {
		snprintf(out, n, "a number (%.6g)", v->valuedouble);
	} else {
		snprintf(out, n, "%s", type_name(v));
	}
}

/* The member, or NULL when absent or null. */
static const cJSON *member(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return v && !cJSON_IsNull(v) ? v : NULL;
}

static void wrong_type(struct conn_check *ck, const cJSON *v, const char *k, const char *want)
{
	char got[80];

	describe(v, got, sizeof(got));
	conn_check_fail(ck, "%s: %s where %s is expected", k, got, want);
}

const char *conn_jstr(struct conn_check *ck, const cJSON *o, const char *k)
{
	const cJSON *v = member(o, k);

	if (!v)
		return NULL;
	if (!cJSON_IsString(v)) {
		wrong_type(ck, v, k, "a string");
		return NULL;
	}
	return v->valuestring;
}

const char *conn_jstr_req(struct conn_check *ck, const cJSON *o, const char *k)
{
	const char *s;

	if (!member(o, k)) {
		conn_check_fail(ck, "%s: missing where a name is expected", k);
		return NULL;
	}
	s = conn_jstr(ck, o, k);
	if (s && !*s) {
		conn_check_fail(ck, "%s: empty where a name is expected", k);
		return NULL;
	}
	return s;
}

char *conn_jdup(struct conn_check *ck, const cJSON *o, const char *k)
{
	const char *s = conn_jstr(ck, o, k);

	return s ? dd_xstrdup(s) : NULL;
}

int64_t conn_jtime(struct conn_check *ck, const cJSON *o, const char *k)
{
	const cJSON *v = member(o, k);
	int64_t ms = 0;

	if (!v)
		return 0;
	if (!cJSON_IsString(v)) {
		wrong_type(ck, v, k, "an ISO 8601 time");
		return 0;
	}
	if (dd_parse_time(v->valuestring, &ms) < 0) {
		char got[80];

		describe(v, got, sizeof(got));
		conn_check_fail(ck, "%s: %s is not an ISO 8601 time", k, got);
		return 0;
	}
	return ms;
}

int conn_jint(struct conn_check *ck, const cJSON *o, const char *k, int min, int max, int dflt)
{
	const cJSON *v = member(o, k);
	char want[80];

	if (!v)
		return dflt;
	if (cJSON_IsNumber(v) && v->valuedouble >= min && v->valuedouble <= max &&
	    v->valuedouble == (double)(int)v->valuedouble)
		return (int)v->valuedouble;
	snprintf(want, sizeof(want), "a whole number from %d to %d", min, max);
	wrong_type(ck, v, k, want);
	return dflt;
}

int conn_jbool(struct conn_check *ck, const cJSON *o, const char *k)
{
	const cJSON *v = member(o, k);

	if (v && !cJSON_IsBool(v))
		wrong_type(ck, v, k, "true or false");
	return cJSON_IsTrue(v);
}

/* The member when it is of the type `is` tells, else NULL (a problem when
 * it is there but of another type). */
static const cJSON *typed(struct conn_check *ck, const cJSON *o, const char *k,
                          cJSON_bool (*is)(const cJSON *), const char *want)
{
	const cJSON *v = member(o, k);

	if (v && !is(v)) {
		wrong_type(ck, v, k, want);
		return NULL;
	}
	return v;
}

const cJSON *conn_jlist(struct conn_check *ck, const cJSON *o, const char *k)
{
	return typed(ck, o, k, cJSON_IsArray, "a list");
}

const cJSON *conn_jobj(struct conn_check *ck, const cJSON *o, const char *k)
{
	return typed(ck, o, k, cJSON_IsObject, "an object");
}

int conn_jis_obj(struct conn_check *ck, const cJSON *el)
{
	if (cJSON_IsObject(el))
		return 1;
	wrong_type(ck, el, "the element", "an object");
	return 0;
}

void conn_set_endpoint(struct dd_conn *c, const char *method, const char *url)
{
	const char *path = strstr(url, "://") ? strchr(strstr(url, "://") + 3, '/') : url;

	if (!path)
		path = "/";
	snprintf(c->endpoint, sizeof(c->endpoint), "%s %.*s", method, (int)strcspn(path, "?#"), path);
}

void conn_reject_dag(struct dd_conn *c, const char *dag_id, const char *object, const char *run_id,
                     const struct conn_check *ck)
{
	struct dd_reject r;

	c->stats.rejected++;
	if (!c->on_reject)
		return;
	r.endpoint = c->endpoint;
	r.object = object;
	r.dag_id = dag_id;
	r.run_id = run_id;
	r.problem = ck->problem;
	c->on_reject(&r, c->reject_ud);
}

void conn_reject(struct dd_conn *c, const char *object, const char *run_id, const struct conn_check *ck)
{
	conn_reject_dag(c, c->reject_dag, object, run_id, ck);
}

/* ---- requests ------------------------------------------------------------- */

void conn_sync_stats(struct dd_conn *c, struct http_client *h)
{
	struct http_stats s;

	http_client_stats(h, &s);
	c->stats.requests = s.requests;
	c->stats.retries = s.retries;
	c->stats.bytes = s.bytes;
}

int conn_json(struct dd_conn *c, struct http_client *h, const char *url, const char *post,
              cJSON **out, long *status, struct dd_error *err)
{
	struct http_xfer x = { 0 };
	void *j = NULL;
	int rc;

	x.url = (char *)url;
	x.post = post;
	x.post_len = post ? strlen(post) : 0;
	conn_set_endpoint(c, post ? "POST" : "GET", url);
	rc = http_fetch_json(h, &x, &j, err);
	if (status)
		*status = x.status;
	http_xfer_release(&x);
	conn_sync_stats(c, h);
	*out = j;
	return rc;
}

char *conn_url_env(const struct dd_source *s, const char *env)
{
	return s->origin && strcmp(s->origin, "environment") ?
	       dd_xasprintf("the url of source %s (%s)", s->name, s->origin) : dd_xstrdup(env);
}

char *conn_cred_where(const struct dd_source *s, const char *env, const char *key,
                      const char *env_default)
{
	if (env)
		return dd_xstrdup(env);
	if (!s->origin || !strcmp(s->origin, "environment"))
		return dd_xstrdup(env_default);
	return dd_xasprintf("the %s of source %s (%s)", key, s->name, s->origin);
}

void conn_http_opts(struct http_opts *o, const struct dd_conn *c)
{
	const struct dd_source *s = c->source;

	o->ca_file = s->ca_file;
	o->insecure = s->insecure;
	o->concurrency = s->concurrency;
	o->timeout_s = s->timeout_s;
	o->connect_timeout_s = s->connect_timeout_s;
	o->retry_after_max_ms = (int64_t)s->retry_after_max_s * 1000;
	o->wait_budget_ms = (int64_t)s->retry_budget_s * 1000;
	o->trace = c->verbose;
}

uint64_t conn_items_hash(const cJSON *items)
{
	char *text = cJSON_GetArraySize(items) ? cJSON_PrintUnformatted(items) : NULL;
	uint64_t h = text ? dd_fnv1a(DD_FNV_INIT, text, strlen(text)) : 0;

	cJSON_free(text);
	return h;
}

int conn_stops_all(int rc)
{
	return rc == DD_EAUTH || rc == DD_EINTR || rc == DD_ESTORE || rc == DD_EUSAGE;
}

int conn_page_check(struct dd_conn *c, struct conn_pager *p, const cJSON *items, struct dd_error *err)
{
	uint64_t h = conn_items_hash(items);

	if (++p->pages > CONN_MAX_PAGES)
		return dd_error_set(err, DD_EPROTO, "%s at %s: the listing went on past %d pages; stopped "
		                    "(does the server ignore offset?)", c->source->name, c->endpoint,
		                    CONN_MAX_PAGES);
	if (h && p->pages > 1 && h == p->last)
		return dd_error_set(err, DD_EPROTO, "%s at %s answered the same page twice in a row while "
		                    "claiming more; stopped (does the server ignore offset?)",
		                    c->source->name, c->endpoint);
	p->last = h;
	return 0;
}

/* ---- list callbacks -------------------------------------------------------- */

int conn_id_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct conn_id_ud *u = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	const char *id = conn_jis_obj(&ck, el) ? conn_jstr_req(&ck, el, u->key) : NULL;

	if (ck.bad) {
		conn_reject(c, u->what, NULL, &ck);
		return 0;
	}
	return u->cb(id, u->ud);
}

int conn_run_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct conn_run_ud *u = ud;
	struct conn_check ck = CONN_CHECK_INIT;
	struct dd_run r;
	int rc;

	u->n++;
	if (u->read(el, &r, &ck) < 0) {
		const char *id = cJSON_IsObject(el) ? conn_jstr(NULL, el, u->id_key) : NULL;
		char what[300];

		snprintf(what, sizeof(what), "%s %.200s", u->what, id ? id : "(no id)");
		conn_reject(c, what, id, &ck);
		return 0;
	}
	rc = u->cb(&r, u->ud);
	dd_run_release(&r);
	return rc;
}

int conn_collect_id(const char *id, void *ud)
{
	dd_strv_push(ud, id);
	return 0;
}

const char *conn_closest(const char *name, const struct dd_strv *names)
{
	struct dd_closest near = DD_CLOSEST_INIT(name);
	const char *best = NULL;

	for (size_t i = 0; i < names->n; i++)
		dd_closest_offer(&near, names->v[i]);
	/* hand back the caller's string, which outlives this call */
	for (size_t i = 0; dd_closest_pick(&near) && i < names->n && !best; i++)
		if (!strcmp(names->v[i], near.best))
			best = names->v[i];
	dd_closest_release(&near);
	return best;
}

int conn_ti_emit(struct dd_conn *c, struct conn_ti_ud *u, struct dd_task_instance *ti,
                 const struct conn_check *ck)
{
	int rc = 0;

	if (!ti->run_id)
		ti->run_id = dd_xstrdup(u->run_id);
	if (ck->bad) {
		char what[200];

		snprintf(what, sizeof(what), "task instance %.120s", ti->task_id ? ti->task_id : "(no task_id)");
		conn_reject(c, what, u->run_id, ck);
	} else {
		rc = u->cb(ti, u->ud);
	}
	dd_task_instance_release(ti);
	return rc;
}

int conn_emit_tries(struct dd_try *v, size_t n, dd_try_cb cb, void *ud)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = cb(&v[i], ud);
		dd_try_release(&v[i]);
	}
	free(v);
	return rc;
}

/* ---- log jobs -------------------------------------------------------------- */

/* The log cap of a source: max_log_bytes, 16 MiB when unset. */
static size_t log_cap(const struct dd_conn *c)
{
	int64_t max = c->source->max_log_bytes;

	return max > 0 ? (size_t)max : 16u << 20;
}

size_t conn_log_inflate_cap(const struct dd_conn *c)
{
	return log_cap(c) * 8;
}

void conn_log_out_init(struct conn_log_out *o, const struct dd_conn *c,
                       const struct dd_log_request *req, dd_log_cb cb, void *ud, int *cb_ret)
{
	o->req = req;
	o->cb = cb;
	o->ud = ud;
	o->cb_ret = cb_ret;
	http_capbuf_init(&o->cap, log_cap(c));
}

int conn_log_deliver(struct conn_log_out *o, const struct dd_error *e)
{
	size_t len = 0;
	char *text = NULL;
	int r;

	if (!e) {
		text = http_capbuf_finish(&o->cap, &len);
		r = o->cb(o->req, text, len, http_capbuf_truncated(&o->cap), NULL, o->ud);
	} else {
		r = o->cb(o->req, "", 0, 0, e, o->ud);
	}
	free(text);
	http_capbuf_release(&o->cap);
	if (r) {
		*o->cb_ret = r;
		return CONN_STOP;
	}
	return 0;
}

int conn_run_logs(struct dd_conn *c, struct http_client *h, struct http_xfer **xs, size_t n,
                  const int *cb_ret, struct dd_error *err)
{
	int rc = http_run(h, xs, n, NULL);

	conn_sync_stats(c, h);
	if (rc == CONN_STOP)
		return *cb_ret;
	if (rc < 0)
		return dd_error_set(err, rc, "fetching logs from %s was stopped", c->source->name);
	return 0;
}
