/*
 * http.c - libcurl (easy + multi) with retries, backoff, redaction and
 * one-sentence errors.  See include/dagdoc/http.h.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <zlib.h>

#include "dagdoc/http.h"
#include "dagdoc/secrets.h"

#ifndef DD_VERSION
#define DD_VERSION "0"
#endif

#define ERR_BODY_MAX (64 * 1024)

static http_log_fn g_hook;
static void *g_hook_ud;

void http_set_log_hook(http_log_fn fn, void *ud)
{
	g_hook = fn;
	g_hook_ud = ud;
}

static int64_t g_base_ms, g_cap_ms, g_budget_ms;

void http_set_retry_policy(int64_t base_ms, int64_t cap_ms, int64_t budget_ms)
{
	g_base_ms = base_ms;
	g_cap_ms = cap_ms;
	g_budget_ms = budget_ms;
}

struct http_client {
	struct http_opts o;
	char *base;            /* as given */
	char *base_redacted;
	char *origin;          /* redacted scheme://host:port */
	char *bearer_header;   /* SECRET */
	CURLM *multi;
	CURL **pool;
	size_t n_pool, cap_pool;
	struct http_stats stats;
	uint64_t rng;
	int64_t waited_ms;     /* the waits between retries scheduled so far (wait_budget_ms) */
};

enum { XS_NEW = 0, XS_PENDING, XS_ACTIVE, XS_WAITING, XS_DONE };

struct xpriv {
	struct http_client *c;
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	char *full_url;
	int state;
	int64_t first_ms, due_ms, attempt_start;
	uint64_t delivered;
	int overflow, sink_abort, late, bad_encoding, huge_header;
	char *retry_after;
	const char *retry_reason;
	int64_t ra_waited_ms;  /* Retry-After waits of this transfer so far */
	int64_t deadline_ms;   /* of the current attempt, decoding included */
	/* a compressed body, decoded here (libcurl's decoder does not say when a
	 * stream is cut short, nor bound what it inflates) */
	char *encoding;        /* Content-Encoding of the answer, NULL: identity */
	z_stream zs;
	int z_state;           /* 0 none, 1 inflating, 2 stream ended */
	int z_raw_tried;       /* "deflate" without its zlib header */
	uint64_t inflated;     /* decoded bytes of this attempt */
	size_t header_bytes;   /* of this answer's header */
};

/* ---- small helpers ------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static const char *opt_str(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

static char *xdup_or_null(const char *s)
{
	return s ? dd_xstrdup(s) : NULL;
}

static void emit(const struct http_client *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void emit(const struct http_client *c, int level, const char *fmt, ...)
{
	struct dd_buf line = DD_BUF_INIT, masked = DD_BUF_INIT;
	va_list ap;

	if (!g_hook || (level == HTTP_LOG_TRACE && !c->o.trace))
		return;
	va_start(ap, fmt);
	dd_buf_vaddf(&line, fmt, ap);
	va_end(ap);
	secrets_mask_append(&masked, dd_buf_str(&line), line.len);
	g_hook(level, dd_buf_str(&masked), g_hook_ud);
	dd_buf_release(&line);
	dd_buf_release(&masked);
}

/* ---- URLs --------------------------------------------------------------- */

char *http_join_url(const char *base, const char *path)
{
	size_t bl;

	if (!path || !*path)
		return dd_xstrdup(base);
	if (strstr(path, "://"))
		return dd_xstrdup(path);
	bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	while (*path == '/')
		path++;
	return dd_xasprintf("%.*s/%s", (int)bl, base, path);
}

static int secret_param(const char *name, size_t n)
{
	static const char *const words[] = {
		"token", "key", "password", "passwd", "secret", "auth", "signature", "sig",
		"credential", "session",
	};
	char low[64];

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[n] = '\0';
	for (size_t i = 0; i < DD_ARRAY_SIZE(words); i++)
		if (strstr(low, words[i]))
			return 1;
	return 0;
}

/* Where the authority part of a URL starts and ends. */
static void split_authority(const char *url, const char **auth, const char **auth_end)
{
	const char *p = strstr(url, "://");

	*auth = p ? p + 3 : url;
	*auth_end = *auth + strcspn(*auth, "/?#");
}

/* Appends url's scheme and authority without user-info; returns where the
 * authority ends in url. */
static const char *add_origin(struct dd_buf *b, const char *url)
{
	const char *auth, *auth_end, *at;

	split_authority(url, &auth, &auth_end);
	dd_buf_add(b, url, (size_t)(auth - url));
	at = memrchr(auth, '@', (size_t)(auth_end - auth));
	if (at)
		auth = at + 1;
	dd_buf_add(b, auth, (size_t)(auth_end - auth));
	return auth_end;
}

char *http_redact_url(const char *url)
{
	struct dd_buf b = DD_BUF_INIT;
	const char *auth_end, *q;

	if (!url)
		return dd_xstrdup("");
	auth_end = add_origin(&b, url);
	q = strchr(auth_end, '?');
	if (!q) {
		dd_buf_adds(&b, auth_end);
		return dd_buf_detach(&b);
	}
	dd_buf_add(&b, auth_end, (size_t)(q + 1 - auth_end));
	q++;
	while (*q && *q != '#') {
		size_t plen = strcspn(q, "&#");
		const char *eq = memchr(q, '=', plen);

		if (eq && secret_param(q, (size_t)(eq - q))) {
			dd_buf_add(&b, q, (size_t)(eq + 1 - q));
			dd_buf_adds(&b, "***");
		} else {
			dd_buf_add(&b, q, plen);
		}
		q += plen;
		if (*q == '&') {
			dd_buf_addch(&b, '&');
			q++;
		}
	}
	dd_buf_adds(&b, q);
	return dd_buf_detach(&b);
}

char *http_url_origin(const char *url)
{
	struct dd_buf b = DD_BUF_INIT;

	add_origin(&b, url);
	return dd_buf_detach(&b);
}

static char *url_host(const char *url)
{
	const char *auth, *auth_end, *at, *colon;

	split_authority(url, &auth, &auth_end);
	at = memrchr(auth, '@', (size_t)(auth_end - auth));
	if (at)
		auth = at + 1;
	if (*auth == '[') {
		const char *rb = memchr(auth, ']', (size_t)(auth_end - auth));
		if (rb)
			return dd_xstrndup(auth + 1, (size_t)(rb - auth - 1));
	}
	colon = memchr(auth, ':', (size_t)(auth_end - auth));
	return dd_xstrndup(auth, (size_t)((colon ? colon : auth_end) - auth));
}

/* The path and query of a redacted URL (for "GET /api/v1/dags"). */
static const char *url_path(const char *url)
{
	const char *auth, *auth_end;

	split_authority(url, &auth, &auth_end);
	return *auth_end ? auth_end : "/";
}

void http_buf_add_escaped(struct dd_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			dd_buf_addch(b, (char)ch);
		} else {
			dd_buf_addch(b, '%');
			dd_buf_addch(b, hex[ch >> 4]);
			dd_buf_addch(b, hex[ch & 15]);
		}
	}
}

/* ---- retry timing ------------------------------------------------------- */

int http_parse_retry_after(const char *value, int64_t now_ms, int64_t *out_ms)
{
	const char *p;
	char *end;
	time_t t;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!*value)
		return -1;
	for (p = value; *p && isdigit((unsigned char)*p); p++)
		;
	if (p > value) {
		const char *q = p;
		while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			q++;
		if (*q)
			return -1;
		errno = 0;
		long long s = strtoll(value, &end, 10);
		if (errno == ERANGE || s > 86400LL * 365)
			s = 86400LL * 365;
		*out_ms = (int64_t)s * 1000;
		return 0;
	}
	t = curl_getdate(value, NULL);
	if (t == (time_t)-1)
		return -1;
	*out_ms = (int64_t)t * 1000 - now_ms;
	if (*out_ms < 0)
		*out_ms = 0;
	return 0;
}

int64_t http_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t rnd)
{
	int64_t ceil_ms = base_ms;

	if (base_ms <= 0)
		return 0;
	for (int i = 0; i < attempt && ceil_ms < cap_ms; i++)
		ceil_ms *= 2;
	if (ceil_ms > cap_ms)
		ceil_ms = cap_ms;
	return (int64_t)(rnd % (uint64_t)(ceil_ms + 1));
}

/* ---- failure sentences -------------------------------------------------- */

/* Does a libcurl code mean the connection broke before a full answer? */
static int broken_connection(CURLcode rc)
{
	switch (rc) {
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

void http_describe_failure(int curl_code, int os_errno, const char *detail,
                           const char *url, const struct http_opts *o, int attempts,
                           int timeout_s, struct dd_error *err)
{
	char *origin = http_url_origin(url);
	char *host = url_host(url);
	const char *url_env = opt_str(o ? o->url_env : NULL, "the source's url");
	const char *hint = opt_str(o ? o->server_hint : NULL, "is the server running");
	const char *d = detail && *detail ? detail : curl_easy_strerror((CURLcode)curl_code);
	char tries[64] = "";

	if (attempts > 1)
		snprintf(tries, sizeof(tries), " (%d attempts)", attempts);
	switch ((CURLcode)curl_code) {
	case CURLE_COULDNT_RESOLVE_HOST:
		dd_error_set(err, DD_ENET, "could not resolve host %s; check the host name in %s",
		             host, url_env);
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		dd_error_set(err, DD_ENET, "could not resolve the proxy host for %s (%s); check the "
		             "https_proxy/http_proxy environment variables", origin, d);
		break;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED || strstr(d, "refused"))
			dd_error_set(err, DD_ENET, "cannot reach %s: connection refused%s; %s and is %s right?",
			             origin, tries, hint, url_env);
		else
			dd_error_set(err, DD_ENET, "cannot reach %s: %s%s; %s and is %s right?",
			             origin, os_errno ? strerror(os_errno) : d, tries, hint, url_env);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (strstr(d, "too slow") && o && o->timeout_s)
			/* a streamed answer that stalled: the limit is the stall, not the total */
			dd_error_set(err, DD_ENET, "%s stopped sending for %d s in the middle of an answer%s; "
			             "raise the source's timeout (now %d s), or check the server's load", origin,
			             o->timeout_s, tries, o->timeout_s);
		else if (strstr(d, "onnect") || strstr(d, "esolv"))
			dd_error_set(err, DD_ENET, "cannot reach %s: no connection within the connect "
			             "timeout%s; %s and is %s right?", origin, tries, hint, url_env);
		else
			dd_error_set(err, DD_ENET, "%s did not answer within %d s%s; raise the source's "
			             "timeout (now %d s), or check the server's load", origin, timeout_s, tries,
			             o && o->timeout_s ? o->timeout_s : timeout_s);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		dd_error_set(err, DD_ENET, "TLS certificate of %s could not be verified (%s); set "
		             "ca_file, or insecure: true if you must", host, d);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		dd_error_set(err, DD_ENET, "TLS handshake with %s failed (%s); check that %s uses the "
		             "right scheme and port, or set ca_file", host, d, url_env);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		dd_error_set(err, DD_EUSAGE, "the URL %s is not a usable http(s) URL (%s); fix %s",
		             origin, d, url_env);
		break;
	case CURLE_OUT_OF_MEMORY:
		if (detail && strstr(detail, "header")) {
			/* libcurl's word for an answer whose header is too large */
			dd_error_set(err, DD_EPROTO, "%s answered with a header too large to read (%s); a proxy "
			             "in front of it may be misconfigured", origin, d);
			break;
		}
		/* fall through */
	default:
		if (broken_connection((CURLcode)curl_code))
			dd_error_set(err, DD_ENET, "the connection to %s broke before a full answer (%s)%s; "
			             "try again, or check a proxy or load balancer in between", origin, d,
			             tries);
		else
			dd_error_set(err, DD_ENET, "request to %s failed: %s%s", origin, d, tries);
		break;
	}
	free(origin);
	free(host);
}

/* ---- client ------------------------------------------------------------- */

int http_client_new(const struct http_opts *o, struct http_client **out, struct dd_error *err)
{
	struct http_client *c;

	*out = NULL;
	if (!o->base_url || !*o->base_url)
		return dd_error_set(err, DD_EUSAGE, "no URL configured for the %s source; set %s",
		                    opt_str(o->service, "HTTP"), opt_str(o->url_env, "url"));
	if (!strstr(o->base_url, "://") ||
	    (strncasecmp(o->base_url, "http://", 7) && strncasecmp(o->base_url, "https://", 8))) {
		char *r = http_redact_url(o->base_url);
		int rc = dd_error_set(err, DD_EUSAGE, "%s is not an http:// or https:// URL; fix %s",
		                      r, opt_str(o->url_env, "the source's url"));
		free(r);
		return rc;
	}
	pthread_once(&curl_once, curl_init_once);
	c = dd_xcalloc(1, sizeof(*c));
	c->o = *o;
	c->o.service = xdup_or_null(opt_str(o->service, "the server"));
	c->o.url_env = xdup_or_null(o->url_env);
	c->o.server_hint = xdup_or_null(o->server_hint);
	c->o.auth_hint = xdup_or_null(o->auth_hint);
	c->o.bearer = NULL;
	c->o.username = xdup_or_null(o->username);
	c->o.password = xdup_or_null(o->password);
	c->o.ca_file = xdup_or_null(o->ca_file);
	c->o.base_url = NULL;
	if (c->o.concurrency <= 0)
		c->o.concurrency = 8;
	if (c->o.concurrency > 256)
		c->o.concurrency = 256;
	if (c->o.timeout_s <= 0)
		c->o.timeout_s = 60;
	if (c->o.connect_timeout_s <= 0)
		c->o.connect_timeout_s = 10;
	if (!c->o.max_body_bytes)
		c->o.max_body_bytes = 64u << 20;
	if (c->o.retry_budget_ms <= 0)
		c->o.retry_budget_ms = g_budget_ms > 0 ? g_budget_ms : 300000;
	if (c->o.max_attempts <= 0)
		c->o.max_attempts = 8;
	if (c->o.backoff_base_ms <= 0)
		c->o.backoff_base_ms = g_base_ms > 0 ? g_base_ms : 500;
	if (c->o.backoff_cap_ms <= 0)
		c->o.backoff_cap_ms = g_cap_ms > 0 ? g_cap_ms : 30000;
	if (c->o.retry_after_max_ms <= 0)
		c->o.retry_after_max_ms = 60000;
	if (c->o.wait_budget_ms <= 0)
		c->o.wait_budget_ms = 300000;
	c->base = dd_xstrdup(o->base_url);
	c->base_redacted = http_redact_url(o->base_url);
	c->origin = http_url_origin(o->base_url);
	/* every credential this client sends, in the forms it sends them */
	{
		const char *auth, *auth_end, *at;
		split_authority(o->base_url, &auth, &auth_end);
		at = memrchr(auth, '@', (size_t)(auth_end - auth));
		if (at) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));
			char *user = dd_xstrndup(auth, (size_t)((colon ? colon : at) - auth));
			char *pw = colon ? dd_xstrndup(colon + 1, (size_t)(at - colon - 1)) : NULL;
			if (pw)
				secrets_add_basic(user, pw);
			else
				secrets_add(user);   /* a token given as the user-info */
			free(user);
			free(pw);
		}
	}
	secrets_add_basic(o->username, o->password);
	http_client_set_bearer(c, o->bearer);
	c->multi = curl_multi_init();
	if (!c->multi) {
		http_client_free(c);
		return dd_error_set(err, DD_ERR, "libcurl could not start (curl_multi_init failed)");
	}
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->o.concurrency);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->o.concurrency + 2);
	c->rng = (uint64_t)dd_now_ms() * 2654435761u ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)c;
	if (!c->rng)
		c->rng = 88172645463325252ull;
	if (c->o.insecure)
		emit(c, HTTP_LOG_WARN, "TLS verification is OFF for %s (insecure: true); anyone on the "
		     "network path can read and alter this traffic", c->origin);
	*out = c;
	return 0;
}

void http_client_set_bearer(struct http_client *c, const char *token)
{
	if (c->bearer_header) {
		memset(c->bearer_header, 0, strlen(c->bearer_header));
		free(c->bearer_header);
	}
	c->bearer_header = token && *token ? dd_xasprintf("Authorization: Bearer %s", token) : NULL;
	secrets_add(token);
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_pool; i++)
		curl_easy_cleanup(c->pool[i]);
	free(c->pool);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	http_client_set_bearer(c, NULL);
	free((char *)c->o.service);
	free((char *)c->o.url_env);
	free((char *)c->o.server_hint);
	free((char *)c->o.auth_hint);
	free((char *)c->o.username);
	free((char *)c->o.password);
	free((char *)c->o.ca_file);
	free(c->base);
	free(c->base_redacted);
	free(c->origin);
	free(c);
}

void http_client_stats(const struct http_client *c, struct http_stats *out)
{
	*out = c->stats;
}

const char *http_client_base(const struct http_client *c)
{
	return c->base_redacted;
}

/* ---- transfers ---------------------------------------------------------- */

/* The most header bytes one answer may carry (libcurl refuses a single
 * header line over 100 kB on its own). */
#define HEADER_MAX (256 * 1024)

static void decoder_end(struct xpriv *xp)
{
	if (xp->z_state)
		inflateEnd(&xp->zs);
	xp->z_state = 0;
	xp->z_raw_tried = 0;
	xp->inflated = 0;
}

/* Forgets what the headers of the last answer said (a retry, a redirect,
 * a 100-continue). */
static void forget_answer(struct http_xfer *x, struct xpriv *xp)
{
	free(xp->retry_after);
	xp->retry_after = NULL;
	free(xp->encoding);
	xp->encoding = NULL;
	free(x->content_type);
	x->content_type = NULL;
	xp->header_bytes = 0;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct http_xfer *x = ud;
	struct xpriv *xp = x->priv;
	size_t n = sz * nm;
	const char *colon = memchr(p, ':', n);
	size_t name_len, vlen;
	const char *v;
	char **slot = NULL;

	if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		forget_answer(x, xp);
		return n;
	}
	xp->header_bytes += n;
	if (xp->header_bytes > HEADER_MAX) {
		xp->huge_header = 1;
		return 0;
	}
	if (!colon)
		return n;
	name_len = (size_t)(colon - p);
	v = colon + 1;
	while (v < p + n && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(p + n - v);
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (name_len == 11 && !strncasecmp(p, "Retry-After", 11))
		slot = &xp->retry_after;
	else if (name_len == 16 && !strncasecmp(p, "Content-Encoding", 16))
		slot = &xp->encoding;
	else if (name_len == 12 && !strncasecmp(p, "Content-Type", 12))
		slot = &x->content_type;
	else if (x->capture_header && strlen(x->capture_header) == name_len &&
	         !strncasecmp(p, x->capture_header, name_len))
		slot = &x->captured;
	if (slot) {
		free(*slot);
		*slot = dd_xstrndup(v, vlen);
	}
	return n;
}

/* Hands decoded bytes on: to the sink, into the body, or for an answer
 * that is not 2xx its first 64 KiB.  Returns -1 to stop the transfer. */
static int deliver(struct http_xfer *x, struct xpriv *xp, long st, const char *p, size_t n)
{
	if (st >= 200 && st < 300) {
		if (x->sink) {
			size_t cap = x->max_inflate ? x->max_inflate : xp->c->o.max_body_bytes;

			if (xp->encoding && xp->inflated > cap) {
				xp->overflow = 1;
				return -1;
			}
			xp->delivered += n;
			if (x->sink(x, p, n)) {
				xp->sink_abort = 1;
				return -1;
			}
			return 0;
		}
		if (x->body.len + n > xp->c->o.max_body_bytes) {
			xp->overflow = 1;
			return -1;
		}
		dd_buf_add(&x->body, p, n);
		return 0;
	}
	if (x->body.len < ERR_BODY_MAX)
		dd_buf_add(&x->body, p, n < ERR_BODY_MAX - x->body.len ? n : ERR_BODY_MAX - x->body.len);
	return 0;
}

static int encoding_is(const struct xpriv *xp, const char *name)
{
	return xp->encoding && !strcasecmp(xp->encoding, name);
}

/* Inflates one piece of a gzip or deflate body and delivers what comes
 * out, 64 KiB at a time, minding the attempt's deadline.  Returns -1 to
 * stop the transfer. */
static int inflate_piece(struct http_xfer *x, struct xpriv *xp, long st, const char *p, size_t n)
{
	int deflate = encoding_is(xp, "deflate");
	unsigned char out[65536];

	if (xp->z_state == 0) {
		memset(&xp->zs, 0, sizeof(xp->zs));
		if (inflateInit2(&xp->zs, deflate ? 15 : 15 + 16) != Z_OK) {
			xp->bad_encoding = 1;
			return -1;
		}
		xp->z_state = 1;
	}
	xp->zs.next_in = (Bytef *)p;
	xp->zs.avail_in = (uInt)n;
	while (xp->zs.avail_in > 0) {
		size_t got;
		int r;

		if (xp->z_state == 2) {
			/* a gzip stream may hold several members; nothing else may follow */
			if (deflate || xp->zs.avail_in < 2 || xp->zs.next_in[0] != 0x1f || xp->zs.next_in[1] != 0x8b) {
				xp->bad_encoding = 1;
				return -1;
			}
			inflateReset(&xp->zs);
			xp->z_state = 1;
		}
		xp->zs.next_out = out;
		xp->zs.avail_out = sizeof(out);
		r = inflate(&xp->zs, Z_NO_FLUSH);
		if (r == Z_DATA_ERROR && deflate && !xp->z_raw_tried && xp->zs.total_out == 0 &&
		    xp->zs.total_in <= n) {
			/* "deflate" sent as a raw stream, without the zlib header */
			inflateEnd(&xp->zs);
			memset(&xp->zs, 0, sizeof(xp->zs));
			xp->z_raw_tried = 1;
			if (inflateInit2(&xp->zs, -15) != Z_OK) {
				xp->z_state = 0;
				xp->bad_encoding = 1;
				return -1;
			}
			xp->zs.next_in = (Bytef *)p;
			xp->zs.avail_in = (uInt)n;
			continue;
		}
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			xp->bad_encoding = 1;
			return -1;
		}
		got = sizeof(out) - xp->zs.avail_out;
		xp->inflated += got;
		if (got && deliver(x, xp, st, (const char *)out, got) < 0)
			return -1;
		if (r == Z_STREAM_END)
			xp->z_state = 2;
		if (dd_now_ms() > xp->deadline_ms) {
			xp->late = 1;
			return -1;
		}
		if (!got && r == Z_BUF_ERROR)
			break;
	}
	return 0;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct http_xfer *x = ud;
	struct xpriv *xp = x->priv;
	size_t n = sz * nm;
	long st = 0;

	curl_easy_getinfo(xp->easy, CURLINFO_RESPONSE_CODE, &st);
	if (xp->encoding && !encoding_is(xp, "identity")) {
		if (!encoding_is(xp, "gzip") && !encoding_is(xp, "x-gzip") && !encoding_is(xp, "deflate")) {
			xp->bad_encoding = 2;   /* not one dagdoc asked for */
			return 0;
		}
		if (!(st >= 200 && st < 300) && x->body.len >= ERR_BODY_MAX)
			return n;           /* an error answer: its first 64 KiB are enough */
		return inflate_piece(x, xp, st, p, n) < 0 ? 0 : n;
	}
	if (deliver(x, xp, st, p, n) < 0)
		return 0;
	if (x->sink && dd_now_ms() > xp->deadline_ms) {
		xp->late = 1;
		return 0;
	}
	return n;
}

static CURL *easy_get(struct http_client *c)
{
	if (c->n_pool > 0)
		return c->pool[--c->n_pool];
	return curl_easy_init();
}

static void easy_put(struct http_client *c, CURL *e)
{
	curl_easy_reset(e);
	DD_GROW(c->pool, c->cap_pool, c->n_pool + 1);
	c->pool[c->n_pool++] = e;
}

/* How long one attempt may take in all: timeout, or for a streamed body
 * (a huge log) ten times that. */
static int64_t attempt_limit_s(const struct http_client *c, const struct http_xfer *x)
{
	return x->sink ? (int64_t)c->o.timeout_s * 10 : c->o.timeout_s;
}

static int start_attempt(struct http_client *c, struct http_xfer *x)
{
	struct xpriv *xp = x->priv;
	CURL *e = easy_get(c);
	char accept[256];
	const char *method = x->method ? x->method : (x->post ? "POST" : "GET");

	if (!e)
		return dd_error_set(&x->err, DD_ERR, "libcurl could not start a transfer");
	xp->easy = e;
	xp->errbuf[0] = '\0';
	xp->overflow = xp->sink_abort = xp->late = xp->bad_encoding = xp->huge_header = 0;
	forget_answer(x, xp);
	decoder_end(xp);
	free(xp->full_url);
	xp->full_url = http_join_url(c->base, x->url);
	dd_buf_reset(&x->body);
	free(x->captured);
	x->captured = NULL;
	if (xp->delivered && x->reset)
		x->reset(x);
	xp->delivered = 0;

	snprintf(accept, sizeof(accept), "Accept: %s", x->accept ? x->accept : "application/json");
	xp->hdrs = curl_slist_append(NULL, accept);
	xp->hdrs = curl_slist_append(xp->hdrs, "Expect:");
	if (x->post)
		xp->hdrs = curl_slist_append(xp->hdrs, "Content-Type: application/json");
	if (c->bearer_header)
		xp->hdrs = curl_slist_append(xp->hdrs, c->bearer_header);

	curl_easy_setopt(e, CURLOPT_URL, xp->full_url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, xp->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "dagdoc/" DD_VERSION);
	/* compressed bodies are decoded in on_write, bounded and checked whole */
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
	curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (x->sink) {
		/* a streamed body (a huge log) may take long: give up when it stalls
		 * for timeout_s, or after ten times that in all */
		curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)attempt_limit_s(c, x));
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)c->o.timeout_s);
	} else {
		curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)c->o.timeout_s);
	}
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)c->o.connect_timeout_s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, xp->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (c->o.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (c->o.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->o.ca_file);
	if (c->o.username && c->o.password && !c->bearer_header) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, c->o.username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->o.password);
	}
	if (x->post) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->post_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->post);
	}
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	else if (!strcmp(method, "GET") && x->post)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "GET");

	xp->attempt_start = dd_now_ms();
	xp->deadline_ms = xp->attempt_start + attempt_limit_s(c, x) * 1000;
	if (!xp->first_ms)
		xp->first_ms = xp->attempt_start;
	x->attempts++;
	c->stats.requests++;
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_slist_free_all(xp->hdrs);
		xp->hdrs = NULL;
		easy_put(c, e);
		xp->easy = NULL;
		return dd_error_set(&x->err, DD_ERR, "libcurl could not queue a transfer");
	}
	xp->state = XS_ACTIVE;
	return 0;
}

static int retryable_curl(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || broken_connection(rc);
}

/* One policy for every request: they are all idempotent reads (a webhook
 * post is the one write, and it is retried the same way). */
static int retryable_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* The attempt broke in a way that is not the network's: one sentence in
 * x->err; *retry set when another attempt may do better. */
static void attempt_fault(struct http_client *c, struct http_xfer *x, struct xpriv *xp, long st,
                          const char *method, const char *path, char *what, size_t wlen, int *retry)
{
	if (xp->overflow && xp->encoding && x->sink) {
		size_t cap = x->max_inflate ? x->max_inflate : c->o.max_body_bytes;

		snprintf(what, wlen, "%ld, inflated past %zu MiB, stopped", st, cap >> 20);
		x->rc = dd_error_set(&x->err, DD_ELIMIT, "%s at %s answered %s %s with a %s body that inflates "
		                     "to more than %zu MiB; dagdoc stopped decoding it (a compressed answer that "
		                     "large is refused: raise max_log_mb if the log is real)", c->o.service,
		                     c->origin, method, path, xp->encoding, cap >> 20);
	} else if (xp->overflow) {
		snprintf(what, wlen, "%ld, body over %zu MiB, stopped", st, c->o.max_body_bytes >> 20);
		x->rc = dd_error_set(&x->err, DD_ELIMIT, "%s at %s answered %s %s with more than %zu MiB; "
		                     "the answer is too large to read", c->o.service, c->origin, method,
		                     path, c->o.max_body_bytes >> 20);
	} else if (xp->sink_abort) {
		snprintf(what, wlen, "stopped by the reader");
		x->rc = dd_error_set(&x->err, DD_ELIMIT, "reading %s %s from %s was stopped", method, path,
		                     c->origin);
	} else if (xp->late) {
		snprintf(what, wlen, "%ld, over %lld s, stopped", st, (long long)attempt_limit_s(c, x));
		x->rc = dd_error_set(&x->err, DD_ENET, "%s did not finish answering %s %s within %lld s%s; raise "
		                     "the source's timeout (now %d s), or check the server's load", c->origin,
		                     method, path, (long long)attempt_limit_s(c, x),
		                     xp->encoding ? " (decoding its compressed body included)" : "",
		                     c->o.timeout_s);
		*retry = 1;
	} else if (xp->bad_encoding == 2) {
		snprintf(what, wlen, "%ld, Content-Encoding %.40s", st, xp->encoding);
		x->rc = dd_error_set(&x->err, DD_EPROTO, "%s at %s answered %s %s with Content-Encoding '%.40s', "
		                     "which dagdoc did not ask for (it accepts gzip and deflate); is a proxy in "
		                     "between rewriting answers?", c->o.service, c->origin, method, path,
		                     xp->encoding);
	} else if (xp->bad_encoding) {
		snprintf(what, wlen, "%ld, a broken %s body", st, xp->encoding);
		x->rc = dd_error_set(&x->err, DD_ENET, "%s at %s answered %s %s with a %s body that does not "
		                     "decode; try again, or check a proxy or load balancer in between",
		                     c->o.service, c->origin, method, path, xp->encoding);
		*retry = 1;
	} else if (xp->huge_header) {
		snprintf(what, wlen, "a header too large, stopped");
		x->rc = dd_error_set(&x->err, DD_EPROTO, "%s at %s answered %s %s with a response header too "
		                     "large to read (a line over 100 kB or over %d kB in all); a proxy in front "
		                     "of it may be misconfigured", c->o.service, c->origin, method, path,
		                     HEADER_MAX / 1024);
	}
}

/* Refuses to wait `delay` ms for a retry when the server asked for longer
 * than one request may wait (retry_after_max_ms) or the client's waits
 * would pass wait_budget_ms; the refusal is x's error. */
static int wait_refused(struct http_client *c, struct http_xfer *x, struct xpriv *xp, int64_t delay,
                        int retry_after, long st, const char *method, const char *path)
{
	char asked[32], most[32];

	dd_format_duration((double)delay / 1000.0, asked, sizeof(asked));
	if (retry_after && xp->ra_waited_ms + delay > c->o.retry_after_max_ms) {
		dd_format_duration((double)c->o.retry_after_max_ms / 1000.0, most, sizeof(most));
		return dd_error_set(&x->err, DD_ENET, "%s at %s answered %ld to %s %s and asked to wait %s before "
		                    "trying again (Retry-After: %.60s); dagdoc waits at most %s per request "
		                    "(retry_after_max): try again later", c->o.service, c->origin, st, method,
		                    path, asked, xp->retry_after, most);
	}
	if (c->waited_ms + delay > c->o.wait_budget_ms) {
		dd_format_duration((double)c->o.wait_budget_ms / 1000.0, most, sizeof(most));
		if (st)
			return dd_error_set(&x->err, DD_ENET, "%s at %s answered %ld to %s %s; not retried: the "
			                    "retries of this sync have waited their budget of %s (retry_budget): "
			                    "try again later", c->o.service, c->origin, st, method, path, most);
		return 1;   /* a transport failure: its own sentence says what happened */
	}
	return 0;
}

/* What happened to one attempt; returns 1 when it is to be retried. */
static int finish_attempt(struct http_client *c, struct http_xfer *x, CURLcode res)
{
	struct xpriv *xp = x->priv;
	long st = 0, os_errno = 0;
	curl_off_t dl = 0;
	int64_t now = dd_now_ms(), ms = now - xp->attempt_start, delay = -1;
	char *rurl = http_redact_url(xp->full_url);
	const char *method = x->method ? x->method : (x->post ? "POST" : "GET");
	char what[256];
	int retry = 0, refused = 0;

	curl_easy_getinfo(xp->easy, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_getinfo(xp->easy, CURLINFO_SIZE_DOWNLOAD_T, &dl);
	curl_easy_getinfo(xp->easy, CURLINFO_OS_ERRNO, &os_errno);
	c->stats.bytes += (uint64_t)(dl > 0 ? dl : 0);
	x->status = res == CURLE_OK ? st : 0;
	x->rc = 0;

	if (res == CURLE_OK && xp->z_state == 1 && st >= 200 && st < 300) {
		/* the body ended before its compressed stream did: cut short */
		snprintf(what, sizeof(what), "%ld, %s stream cut at %lld bytes", st, xp->encoding, (long long)dl);
		x->rc = dd_error_set(&x->err, DD_ENET, "%s at %s answered %s %s with a %s body cut short (its "
		                     "compressed stream ends before its end, after %lld bytes); try again, or "
		                     "check a proxy or load balancer in between", c->o.service, c->origin,
		                     method, url_path(rurl), xp->encoding, (long long)dl);
		x->status = 0;
		retry = 1;
	} else if (res == CURLE_OK) {
		snprintf(what, sizeof(what), "%ld (%lld bytes, %lld ms)", st, (long long)dl, (long long)ms);
		if (retryable_status(st)) {
			retry = 1;
			xp->retry_reason = "status";
		}
	} else if (xp->overflow || xp->sink_abort || xp->late || xp->bad_encoding || xp->huge_header ||
	           res == CURLE_OUT_OF_MEMORY) {
		/* libcurl says "out of memory" for a header line over its 100 kB limit */
		xp->huge_header |= res == CURLE_OUT_OF_MEMORY;
		attempt_fault(c, x, xp, st, method, url_path(rurl), what, sizeof(what), &retry);
	} else {
		snprintf(what, sizeof(what), "%.200s (%lld ms)", xp->errbuf[0] ? xp->errbuf :
		         curl_easy_strerror(res), (long long)ms);
		refused = res == CURLE_COULDNT_CONNECT;
		if (retryable_curl(res))
			retry = 1;
	}
	decoder_end(xp);

	if (retry) {
		int max = refused ? (c->o.max_attempts < 3 ? c->o.max_attempts : 3) : c->o.max_attempts;
		int64_t ra;
		int have_ra = x->status && xp->retry_after &&
		              http_parse_retry_after(xp->retry_after, dd_now_ms(), &ra) == 0;
		int r;

		delay = have_ra ? ra : http_backoff_ms(x->attempts - 1, c->o.backoff_base_ms,
		                                       c->o.backoff_cap_ms, rng_next(&c->rng));
		if (x->attempts >= max) {
			retry = 0;
		} else if ((r = wait_refused(c, x, xp, delay, have_ra, x->status, method, url_path(rurl))) != 0) {
			retry = 0;
			if (r < 0)
				x->rc = r;
		} else if (now + delay - xp->first_ms > c->o.retry_budget_ms) {
			retry = 0;
		} else {
			emit(c, HTTP_LOG_TRACE, "%s %s -> %s; retry %d in %.1f s (%s)", method, rurl, what,
			     x->attempts, (double)delay / 1000.0, have_ra ? "Retry-After" : "backoff");
			xp->due_ms = now + delay;
			if (have_ra)
				xp->ra_waited_ms += delay;
			c->waited_ms += delay;
			c->stats.retries++;
			x->rc = 0;
		}
	}
	if (!retry) {
		emit(c, HTTP_LOG_TRACE, "%s %s -> %s", method, rurl, what);
		if (res != CURLE_OK && !x->rc) {
			x->rc = DD_ENET;
			http_describe_failure(res, (int)os_errno, xp->errbuf, xp->full_url, &c->o, x->attempts,
			                      (int)attempt_limit_s(c, x), &x->err);
			x->rc = x->err.code;
		}
		x->elapsed_ms = now - xp->first_ms;
	}
	free(rurl);
	curl_multi_remove_handle(c->multi, xp->easy);
	curl_slist_free_all(xp->hdrs);
	xp->hdrs = NULL;
	easy_put(c, xp->easy);
	xp->easy = NULL;
	return retry;
}

static void xpriv_free(struct http_xfer *x)
{
	struct xpriv *xp = x->priv;

	if (!xp)
		return;
	free(xp->full_url);
	free(xp->retry_after);
	free(xp->encoding);
	decoder_end(xp);
	free(xp);
	x->priv = NULL;
}

static void abort_active(struct http_client *c, struct http_xfer **xs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct xpriv *xp = xs[i]->priv;
		if (!xp)
			continue;
		if (xp->easy) {
			curl_multi_remove_handle(c->multi, xp->easy);
			easy_put(c, xp->easy);
		}
		curl_slist_free_all(xp->hdrs);
		xpriv_free(xs[i]);
	}
}

/* Puts a transfer back to its first attempt, its result cleared. */
static void xfer_restart(struct http_xfer *x, struct xpriv *xp)
{
	xp->state = XS_PENDING;
	xp->first_ms = 0;
	x->status = 0;
	x->rc = 0;
	x->attempts = 0;
	dd_error_clear(&x->err);
}

int http_run(struct http_client *c, struct http_xfer **xs, size_t n, struct dd_error *err)
{
	size_t *queue = dd_xmalloc((n + 1) * sizeof(*queue));
	size_t qhead = 0, qtail = 0, active = 0, waiting = 0, left = n;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		struct http_xfer *x = xs[i];
		struct xpriv *xp = dd_xcalloc(1, sizeof(*xp));
		xp->c = c;
		x->priv = xp;
		xfer_restart(x, xp);
		queue[qtail++] = i;
	}
	/* queue is a ring of capacity n+1: each transfer is in it at most once */
	while (left > 0) {
		int64_t now = dd_now_ms(), next_due = INT64_MAX;
		int still = 0;
		CURLMsg *m;
		int timeout;

		/* retries that are due first, then new transfers */
		if (waiting) {
			for (size_t i = 0; i < n && active < (size_t)c->o.concurrency; i++) {
				struct xpriv *xp = xs[i]->priv;
				if (xp && xp->state == XS_WAITING && xp->due_ms <= now) {
					waiting--;
					if (start_attempt(c, xs[i]) == 0) {
						active++;
					} else {
						xs[i]->rc = xs[i]->err.code;
						xp->state = XS_PENDING;
						queue[qtail] = i;
						qtail = (qtail + 1) % (n + 1);
					}
				}
			}
		}
		while (active < (size_t)c->o.concurrency && qhead != qtail) {
			size_t i = queue[qhead];
			struct xpriv *xp = xs[i]->priv;
			qhead = (qhead + 1) % (n + 1);
			if (xp->state != XS_PENDING)
				continue;
			if (xs[i]->rc) {
				/* could not even start: finish it */
				xp->state = XS_DONE;
				left--;
				if (xs[i]->done) {
					int r = xs[i]->done(xs[i]);
					if (r < 0) {
						ret = r;
						goto out;
					}
				}
				continue;
			}
			if (start_attempt(c, xs[i]) == 0) {
				active++;
			} else {
				xs[i]->rc = xs[i]->err.code;
				queue[qtail] = i;
				qtail = (qtail + 1) % (n + 1);
			}
		}
		if (left == 0)
			break;

		curl_multi_perform(c->multi, &still);
		while ((m = curl_multi_info_read(c->multi, &still)) != NULL) {
			struct http_xfer *x = NULL;
			struct xpriv *xp;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			xp = x->priv;
			active--;
			if (finish_attempt(c, x, m->data.result)) {
				xp->state = XS_WAITING;
				waiting++;
				continue;
			}
			xp->state = XS_DONE;
			if (x->done) {
				int r = x->done(x);
				if (r < 0) {
					ret = r;
					goto out;
				}
				if (r == 1) {
					size_t idx = 0;
					while (xs[idx] != x)
						idx++;
					xfer_restart(x, xp);
					queue[qtail] = idx;
					qtail = (qtail + 1) % (n + 1);
					continue;
				}
			}
			left--;
		}
		if (left == 0)
			break;
		now = dd_now_ms();
		for (size_t i = 0; waiting && i < n; i++) {
			struct xpriv *xp = xs[i]->priv;
			if (xp && xp->state == XS_WAITING && xp->due_ms < next_due)
				next_due = xp->due_ms;
		}
		timeout = 1000;
		if (qhead != qtail && active < (size_t)c->o.concurrency)
			timeout = 0;
		else if (next_due != INT64_MAX)
			timeout = next_due <= now ? 0 : (next_due - now < 1000 ? (int)(next_due - now) : 1000);
		if (timeout > 0 || active > 0)
			curl_multi_poll(c->multi, NULL, 0, timeout, NULL);
	}
out:
	abort_active(c, xs, n);
	free(queue);
	if (ret < 0 && err && !err->code)
		dd_error_set(err, ret, "a transfer was stopped");
	return ret;
}

int http_run1(struct http_client *c, struct http_xfer *x)
{
	struct http_xfer *xs[1] = { x };
	int r = http_run(c, xs, 1, NULL);

	return r < 0 ? r : x->rc;
}

int http_fetch_json(struct http_client *c, struct http_xfer *x, void **out, struct dd_error *err)
{
	http_run1(c, x);
	return http_check_json(c, x, out, err);
}

int http_check_json(struct http_client *c, const struct http_xfer *x, void **out,
                    struct dd_error *err)
{
	int rc;

	*out = NULL;
	rc = http_check(c, x, err);
	if (rc < 0)
		return rc;
	return http_parse_json(c, x, out, err);
}

void http_xfer_release(struct http_xfer *x)
{
	dd_buf_release(&x->body);
	free(x->captured);
	x->captured = NULL;
	free(x->content_type);
	x->content_type = NULL;
	xpriv_free(x);
}

/* ---- results ------------------------------------------------------------ */

char *http_error_detail(const char *body, size_t len)
{
	cJSON *j, *d;
	char *out = NULL;
	static const char *const keys[] = { "detail", "exception_message", "title", "message", "error" };

	if (!body || !len)
		return NULL;
	j = cJSON_ParseWithLength(body, len);
	if (!j)
		return NULL;
	for (size_t i = 0; i < DD_ARRAY_SIZE(keys) && !out; i++) {
		d = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
		if (cJSON_IsString(d) && d->valuestring[0])
			out = dd_xstrdup(d->valuestring);
		else if (cJSON_IsArray(d) && cJSON_GetArraySize(d) > 0) {
			cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(d, 0), "msg");
			if (cJSON_IsString(m))
				out = dd_xstrdup(m->valuestring);
		}
	}
	cJSON_Delete(j);
	if (out) {
		secrets_mask(out);   /* before the cut, which could leave half a secret */
		if (strlen(out) > 200)
			out[200] = '\0';
	}
	return out;
}

int http_check(struct http_client *c, const struct http_xfer *x, struct dd_error *err)
{
	const char *method = x->method ? x->method : (x->post ? "POST" : "GET");
	char *rurl, *detail, dpart[300] = "";
	const char *path;
	int rc;

	if (x->rc) {
		if (err) {
			*err = x->err;
		}
		return x->rc;
	}
	if (x->status >= 200 && x->status < 300)
		return 0;
	{
		char *full = http_join_url(c->base, x->url);
		rurl = http_redact_url(full);
		free(full);
	}
	path = url_path(rurl);
	detail = http_error_detail(x->body.data, x->body.len);
	if (detail)
		snprintf(dpart, sizeof(dpart), ": %s", detail);
	switch (x->status) {
	case 401:
		rc = dd_error_set(err, DD_EAUTH, "%s at %s rejected the credentials (401%s); %s",
		                  c->o.service, c->origin, dpart, opt_str(c->o.auth_hint, "check the credentials"));
		break;
	case 403:
		rc = dd_error_set(err, DD_EAUTH, "%s at %s refused %s %s (403%s); %s, and make sure that "
		                  "account may read it", c->o.service, c->origin, method, path, dpart,
		                  opt_str(c->o.auth_hint, "check the credentials"));
		break;
	case 404:
		rc = dd_error_set(err, DD_ENOTFOUND, "%s at %s has nothing at %s %s (404%s); is %s right?",
		                  c->o.service, c->origin, method, path, dpart,
		                  opt_str(c->o.url_env, "the source's url"));
		break;
	case 429: case 500: case 502: case 503: case 504:
		rc = dd_error_set(err, DD_ENET, "%s at %s kept answering %ld to %s %s (%d attempts over "
		                  "%.0f s)%s; try again later", c->o.service, c->origin, x->status, method,
		                  path, x->attempts, (double)x->elapsed_ms / 1000.0, dpart);
		break;
	default:
		if (x->status >= 500)
			rc = dd_error_set(err, DD_ENET, "%s at %s failed on %s %s (%ld%s); check the server's "
			                  "own logs", c->o.service, c->origin, method, path, x->status, dpart);
		else
			rc = dd_error_set(err, DD_EPROTO, "%s at %s answered %s %s with status %ld%s",
			                  c->o.service, c->origin, method, path, x->status, dpart);
		break;
	}
	free(detail);
	free(rurl);
	return rc;
}

/* Is the media type of a Content-Type value (before any ';') `type`? */
static int media_is(const char *content_type, const char *type)
{
	size_t n;

	if (!content_type)
		return 0;
	while (*content_type == ' ')
		content_type++;
	n = strcspn(content_type, "; ");
	return n == strlen(type) && !strncasecmp(content_type, type, n);
}

int http_check_type(struct http_client *c, const struct http_xfer *x, const char *const *types,
                    struct dd_error *err)
{
	const char *method = x->method ? x->method : (x->post ? "POST" : "GET");
	char *full, *rurl, got[64];
	int rc;

	if (!x->content_type)
		return 0;
	for (size_t i = 0; types[i]; i++)
		if (media_is(x->content_type, types[i]))
			return 0;
	snprintf(got, sizeof(got), "%.*s", (int)strcspn(x->content_type, ";"), x->content_type);
	full = http_join_url(c->base, x->url);
	rurl = http_redact_url(full);
	rc = dd_error_set(err, DD_EPROTO, "%s at %s answered %s %s with %s where it was asked for %s%s",
	                  c->o.service, c->origin, method, url_path(rurl), got, types[0],
	                  media_is(x->content_type, "text/html") ? " (an HTML page: the sign-in page of a "
	                  "proxy whose session expired?)" : "");
	free(full);
	free(rurl);
	return rc;
}

int http_parse_json(struct http_client *c, const struct http_xfer *x, void **out,
                    struct dd_error *err)
{
	const char *end = NULL;
	const char *method = x->method ? x->method : (x->post ? "POST" : "GET");
	cJSON *j;
	char *full, *rurl, why[160];
	size_t len = x->body.len, off;
	int rc;

	*out = NULL;
	j = len ? cJSON_ParseWithLengthOpts(x->body.data, len, &end, 0) : NULL;
	if (j) {
		*out = j;
		return 0;
	}
	off = end && end >= x->body.data ? (size_t)(end - x->body.data) : 0;
	if (len && media_is(x->content_type, "text/html")) {
		snprintf(why, sizeof(why), "an HTML page where JSON was expected (the sign-in page of a "
		         "proxy in front of the server?)");
	} else if (!len) {
		snprintf(why, sizeof(why), "an empty body where JSON was expected");
	} else {
		size_t k = off;
		while (k < len && isspace((unsigned char)x->body.data[k]))
			k++;
		if ((k >= len || off + 1 >= len) && off > 0)
			snprintf(why, sizeof(why), "a body that is not JSON: it ends at byte %zu in the "
			         "middle of a value (truncated?)", len);
		else {
			struct dd_buf head = DD_BUF_INIT;
			char start[24];
			size_t sl = 0;
			/* the excerpt comes from the masked head: a cut never shows half a secret */
			secrets_mask_append(&head, x->body.data, len < 4096 ? len : 4096);
			for (size_t i = 0; i < head.len && sl < 20; i++)
				start[sl++] = isprint((unsigned char)head.data[i]) ? head.data[i] : '.';
			start[sl] = '\0';
			dd_buf_release(&head);
			snprintf(why, sizeof(why), "a body that is not JSON (error at byte %zu of %zu; it "
			         "starts \"%s\")", off, len, start);
		}
	}
	full = http_join_url(c->base, x->url);
	rurl = http_redact_url(full);
	rc = dd_error_set(err, DD_EPROTO, "%s at %s answered %s %s with %s", c->o.service, c->origin,
	                  method, url_path(rurl), why);
	free(full);
	free(rurl);
	return rc;
}

/* ---- capped text buffer ------------------------------------------------- */

void http_capbuf_init(struct http_capbuf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	if (cap < 16)
		cap = 16;
	b->cap = cap;
	b->head_max = cap / 2 < 65536 ? cap / 2 : 65536;
	b->ring_size = cap - b->head_max;
}

void http_capbuf_add(struct http_capbuf *b, const char *p, size_t n)
{
	b->total += n;
	if (b->head.len < b->head_max) {
		size_t k = b->head_max - b->head.len;
		if (k > n)
			k = n;
		dd_buf_add(&b->head, p, k);
		p += k;
		n -= k;
	}
	if (!n)
		return;
	/* the ring grows with the text until it is full, then wraps */
	if (b->ring_alloc < b->ring_size && b->ring_len + n > b->ring_alloc) {
		size_t want = b->ring_alloc ? b->ring_alloc * 2 : 65536;
		while (want < b->ring_len + n && want < b->ring_size)
			want *= 2;
		if (want > b->ring_size)
			want = b->ring_size;
		b->ring = dd_xrealloc(b->ring, want);
		b->ring_alloc = want;
	}
	if (b->ring_len + n <= b->ring_alloc && b->ring_pos == b->ring_len) {
		memcpy(b->ring + b->ring_len, p, n);
		b->ring_len += n;
		b->ring_pos = b->ring_len % b->ring_size;
		return;
	}
	if (n >= b->ring_size) {
		memcpy(b->ring, p + n - b->ring_size, b->ring_size);
		b->ring_pos = 0;
		b->ring_len = b->ring_size;
		return;
	}
	while (n > 0) {
		size_t k = b->ring_size - b->ring_pos;
		if (k > n)
			k = n;
		memcpy(b->ring + b->ring_pos, p, k);
		b->ring_pos = (b->ring_pos + k) % b->ring_size;
		b->ring_len = b->ring_len + k > b->ring_size ? b->ring_size : b->ring_len + k;
		p += k;
		n -= k;
	}
}

void http_capbuf_reset(struct http_capbuf *b)
{
	dd_buf_reset(&b->head);
	b->ring_pos = b->ring_len = 0;
	b->total = 0;
}

int http_capbuf_truncated(const struct http_capbuf *b)
{
	return b->total > b->head.len + b->ring_len;
}

char *http_capbuf_finish(struct http_capbuf *b, size_t *len)
{
	struct dd_buf out = DD_BUF_INIT;
	size_t start = (b->ring_pos + b->ring_size - b->ring_len) % (b->ring_size ? b->ring_size : 1);
	size_t head_keep = b->head.len, tail_skip = 0;

	if (http_capbuf_truncated(b)) {
		const char *nl = b->head.len ? memrchr(b->head.data, '\n', b->head.len) : NULL;
		uint64_t omitted;

		if (nl)
			head_keep = (size_t)(nl - b->head.data) + 1;
		/* skip the partial first line of the tail */
		for (size_t i = 0; i < b->ring_len; i++) {
			if (b->ring[(start + i) % b->ring_size] == '\n') {
				tail_skip = i + 1;
				break;
			}
		}
		if (tail_skip == b->ring_len)
			tail_skip = 0;
		omitted = b->total - head_keep - (b->ring_len - tail_skip);
		dd_buf_grow(&out, head_keep + b->ring_len + 64);
		dd_buf_add(&out, b->head.data, head_keep);
		if (out.len && out.data[out.len - 1] != '\n')
			dd_buf_addch(&out, '\n');
		{
			char marker[128];

			dd_omitted_marker(marker, sizeof(marker), omitted, b->cap);
			dd_buf_adds(&out, marker);
		}
	} else {
		dd_buf_grow(&out, head_keep + b->ring_len + 1);
		dd_buf_add(&out, b->head.data, head_keep);
	}
	for (size_t i = tail_skip; i < b->ring_len;) {
		size_t pos = (start + i) % b->ring_size;
		size_t k = b->ring_size - pos;
		if (k > b->ring_len - i)
			k = b->ring_len - i;
		dd_buf_add(&out, b->ring + pos, k);
		i += k;
	}
	*len = out.len;
	return dd_buf_detach(&out);
}

void http_capbuf_release(struct http_capbuf *b)
{
	dd_buf_release(&b->head);
	free(b->ring);
	memset(b, 0, sizeof(*b));
}
