/*
 * conn_util.c - what the Airflow and Prefect connectors share: JSON member
 * readers, one JSON request, connection options, list callbacks, and the
 * plumbing of log jobs (declared in conn_impl.h, private to connectors/).
 */
#include "dagdoc/util.h"

#include <cjson/cJSON.h>

#include "dagdoc/http.h"
#include "conn_impl.h"

/* ---- JSON members ---------------------------------------------------------- */

const char *conn_jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *conn_jdup(const cJSON *o, const char *k)
{
	const char *s = conn_jstr(o, k);
	return s ? dd_xstrdup(s) : NULL;
}

int64_t conn_jtime(const cJSON *o, const char *k)
{
	const char *s = conn_jstr(o, k);
	int64_t ms = 0;

	if (s && dd_parse_time(s, &ms) < 0)
		ms = 0;
	return ms;
}

int conn_jint(const cJSON *o, const char *k, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
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

/* ---- list callbacks -------------------------------------------------------- */

int conn_id_item(struct dd_conn *c, const cJSON *el, void *ud)
{
	struct conn_id_ud *u = ud;
	const char *id = conn_jstr(el, u->key);

	(void)c;
	return id ? u->cb(id, u->ud) : 0;
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

int conn_ti_emit(struct conn_ti_ud *u, struct dd_task_instance *ti)
{
	int rc;

	if (!ti->run_id)
		ti->run_id = dd_xstrdup(u->run_id);
	rc = ti->task_id ? u->cb(ti, u->ud) : 0;
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
