/*
 * http.h - the one HTTP module, over libcurl (easy + multi).
 *
 * A client is made for one source: base URL, credentials, TLS settings,
 * timeouts and the concurrency limit.  Every request it sends carries
 * `User-Agent: dagdoc/<version>`, accepts gzip/deflate, verifies TLS (a
 * `ca_file` may be given; `insecure` turns verification off and emits one
 * HTTP_LOG_WARN line), and takes its proxy from the usual environment
 * variables (http_proxy, https_proxy, no_proxy: libcurl's own handling).
 *
 * Transfers run through http_run(): up to `concurrency` at once on one
 * multi handle (connections are kept alive and reused).  One retry policy
 * for every request (all are idempotent reads; the webhook post is the one
 * write and follows it too): connection errors, timeouts, a body cut short,
 * 429, 500, 502, 503 and 504 are retried with exponential backoff and full
 * jitter (base 0.5 s, cap 30 s), at most max_attempts times, within a
 * total retry time per transfer (5 minutes by default).  Retry-After
 * (seconds or HTTP-date) is honoured while one request's waits stay within
 * retry_after_max_ms and all waits of the client (one sync of a source)
 * within wait_budget_ms; past either the request fails at once, its
 * sentence naming the wait asked for and the limit.  Other 4xx are never
 * retried.
 *
 * Bodies: gzip and deflate are asked for and decoded here, not by libcurl,
 * so that a compressed stream cut short is a failed attempt (never a short
 * body taken as whole), a streamed body inflates to at most max_inflate
 * bytes (a gzip bomb stops there), and the attempt's time limit holds
 * while decoding.  An answer whose header passes 256 kB is refused.
 *
 * Secrets: credentials go to libcurl as options or headers and nowhere
 * else.  The client registers each with the credential mask (secrets.h)
 * in every form it sends it: the password and the base64 "user:password"
 * of Basic auth, the bearer token (also one set later, such as a token
 * obtained at run time), the user-info of the URL.  Trace lines and error
 * messages carry URLs with user-info removed and secret-looking query
 * values replaced by "***", and are masked (before any cut to length).
 * Authorization headers are never passed to the trace hook.
 *
 * Ownership: http_client_new allocates the client, http_client_free frees
 * it (the client copies every string of its options).  Transfers are
 * caller-owned; http_xfer_release frees what the client put in them.
 */
#ifndef DAGDOC_HTTP_H
#define DAGDOC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "dagdoc/error.h"
#include "dagdoc/util.h"

/* ---- trace and warning hook ---------------------------------------------
 * Process-wide, installed by the command (modules never print).  TRACE
 * lines (one per request attempt: method, redacted URL, status, bytes, ms,
 * retry reason) are sent only for clients made with `trace` set; WARN lines
 * (TLS verification off) always. */
enum { HTTP_LOG_TRACE = 0, HTTP_LOG_WARN = 1 };
typedef void (*http_log_fn)(int level, const char *line, void *ud);
void http_set_log_hook(http_log_fn fn, void *ud);

struct http_opts {
	const char *base_url;       /* required: "http://host:8080", "https://x/api" */
	const char *service;        /* "Airflow", "Prefect": used in messages */
	const char *url_env;        /* variable to check in "is X right?", e.g. "DAGDOC_AIRFLOW_URL" */
	const char *server_hint;    /* "is the Airflow webserver running" */
	const char *auth_hint;      /* "check DAGDOC_AIRFLOW_TOKEN" (401/403 sentences) */
	const char *bearer;         /* SECRET: "Authorization: Bearer <bearer>" */
	const char *username;       /* basic auth (with password) */
	const char *password;       /* SECRET */
	const char *ca_file;
	int insecure;
	int concurrency;            /* default 8 */
	int timeout_s;              /* total per attempt, default 60 (streamed bodies:
	                             * no data for that long, or 10x in all) */
	int connect_timeout_s;      /* default 10 */
	size_t max_body_bytes;      /* cap on a collected (non-streamed) body, default 64 MiB */
	int64_t retry_budget_ms;    /* total time one transfer may spend retrying, default 300000 */
	int max_attempts;           /* default 8 (connection refused: at most 3) */
	int64_t backoff_base_ms;    /* default 500 */
	int64_t backoff_cap_ms;     /* default 30000 */
	int64_t retry_after_max_ms; /* the most one request waits for Retry-After in all, default 60000 */
	int64_t wait_budget_ms;     /* the most all retries of this client wait in all, default 300000 */
	int trace;                  /* send TRACE lines to the hook */
};

struct http_client;

/* Process-wide defaults for the backoff base, cap and total retry time of
 * clients made afterwards whose options leave them 0 (0 here: the built-in
 * 500 ms, 30 s, 5 min).  For tests and benchmarks. */
void http_set_retry_policy(int64_t base_ms, int64_t cap_ms, int64_t budget_ms);

int http_client_new(const struct http_opts *o, struct http_client **out, struct dd_error *err);
void http_client_free(struct http_client *c);
/* Replaces the bearer token (after a token exchange or refresh). */
void http_client_set_bearer(struct http_client *c, const char *token);

struct http_stats {
	uint64_t requests;          /* attempts sent */
	uint64_t retries;
	uint64_t bytes;             /* response bytes received */
};
void http_client_stats(const struct http_client *c, struct http_stats *out);
/* The base URL as given, redacted (for messages). */
const char *http_client_base(const struct http_client *c);

/* ---- transfers ----------------------------------------------------------
 * Fill the request part, run, read the result part.  `url` is either a
 * path joined to the base URL ("/api/v1/dags?limit=100") or an absolute
 * URL; the caller owns it and may replace it in `done` to send a follow-up
 * request (continuation tokens, the next page).
 *
 * Bodies of 2xx answers go to `sink` when set (streamed; `reset` is called
 * before a retry that re-sends after bytes were delivered), else into
 * `body` (at most max_body_bytes: DD_ELIMIT).  Bodies of other statuses are
 * always collected into `body` (first 64 KiB) for the error message.
 *
 * `done` is called when the transfer finished (after retries) whatever the
 * outcome; it returns 0 (finished), 1 (send it again: the caller changed
 * url/post and `body`/`captured` are cleared first) or a negative code
 * that aborts http_run, which returns it. */
struct http_xfer {
	/* request, set by the caller */
	const char *method;         /* NULL: GET, or POST when post is set */
	char *url;                  /* caller-owned */
	const char *post;           /* JSON body; Content-Type application/json */
	size_t post_len;
	const char *accept;         /* Accept header; NULL: application/json */
	const char *capture_header; /* a response header to keep, e.g. "Airflow-Continuation-Token" */
	int (*sink)(struct http_xfer *x, const char *p, size_t n);   /* non-zero aborts */
	void (*reset)(struct http_xfer *x);
	int (*done)(struct http_xfer *x);
	void *ud;
	size_t max_inflate;         /* streamed (sink) bodies: the most a compressed body may
	                             * inflate to; 0: max_body_bytes */
	/* result */
	long status;                /* last HTTP status, 0 when no answer */
	struct dd_buf body;
	char *captured;             /* value of capture_header, NULL if absent */
	char *content_type;         /* Content-Type of the answer, NULL if absent */
	int rc;                     /* 0, or DD_ENET / DD_ELIMIT with err filled */
	struct dd_error err;
	int attempts;
	int64_t elapsed_ms;         /* of the whole series of attempts */
	void *priv;                 /* private to http.c */
};

/* Runs transfers to completion, up to the client's concurrency at once.
 * Returns 0, or the negative code a `done` callback returned. */
int http_run(struct http_client *c, struct http_xfer **xs, size_t n, struct dd_error *err);
/* One transfer, synchronously.  Returns x->rc. */
int http_run1(struct http_client *c, struct http_xfer *x);
void http_xfer_release(struct http_xfer *x);   /* frees body/captured, not url */
/* http_run1, then http_check, then http_parse_json into *out (a cJSON *,
 * caller frees).  On failure x->status still tells what the server said. */
int http_fetch_json(struct http_client *c, struct http_xfer *x, void **out, struct dd_error *err);

/* ---- results as sentences ---------------------------------------------- */

/* For a finished transfer: x->rc when it failed in transport, 0 for 2xx,
 * else a negative code and one sentence for the status: 401/403 DD_EAUTH
 * naming auth_hint, 404 DD_ENOTFOUND, 429/5xx DD_ENET ("kept answering 503
 * ... after N attempts"), other 4xx DD_EPROTO with the server's detail.
 * An answer of the wrong Content-Type is checked by http_check_type. */
int http_check(struct http_client *c, const struct http_xfer *x, struct dd_error *err);
/* 0 when the answer's Content-Type (its media type) is one of `types`
 * (NULL-terminated, the first being what was asked for) or absent, else
 * DD_EPROTO "Airflow at URL answered GET /path with text/html where it was
 * asked for text/plain (an HTML page: the sign-in page of a proxy ...?)". */
int http_check_type(struct http_client *c, const struct http_xfer *x, const char *const *types,
                    struct dd_error *err);
/* Parses x->body as JSON into *out (caller frees with cJSON_Delete), or
 * DD_EPROTO "Airflow at URL answered GET /path with a body that is not
 * JSON (...)". `out` is a cJSON ** passed as void ** to keep cJSON out of
 * this header. */
int http_parse_json(struct http_client *c, const struct http_xfer *x, void **out,
                    struct dd_error *err);
/* http_check, then (on 2xx) http_parse_json into *out (NULL on failure). */
int http_check_json(struct http_client *c, const struct http_xfer *x, void **out,
                    struct dd_error *err);
/* The server's own error text from a JSON error body ("detail", "title",
 * "exception_message"), or NULL; caller frees. */
char *http_error_detail(const char *body, size_t len);

/* ---- helpers (public for the tests) ------------------------------------ */

/* base + path with exactly one '/' between them; an absolute path (with
 * "://") is returned as is.  Caller frees. */
char *http_join_url(const char *base, const char *path);
/* URL without user-info, secret-looking query values as "***".  Caller frees. */
char *http_redact_url(const char *url);
/* "http://host:port" of a URL (no user-info, path or query).  Caller frees. */
char *http_url_origin(const char *url);
/* Appends s percent-encoded (RFC 3986 unreserved kept). */
void http_buf_add_escaped(struct dd_buf *b, const char *s);
/* Retry-After value: delta-seconds or an HTTP-date, relative to now_ms.
 * Returns 0 and *out_ms (>= 0), or -1 when unparseable. */
int http_parse_retry_after(const char *value, int64_t now_ms, int64_t *out_ms);
/* Full-jitter backoff for attempt n (0-based): uniform in
 * [0, min(cap, base * 2^n)], drawn from `rnd`. */
int64_t http_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t rnd);
/* One sentence for a libcurl failure (curl_code is a CURLcode; os_errno
 * from CURLINFO_OS_ERRNO; detail the CURLOPT_ERRORBUFFER text). */
void http_describe_failure(int curl_code, int os_errno, const char *detail,
                           const char *url, const struct http_opts *o, int attempts,
                           int timeout_s, struct dd_error *err);

/* ---- a size-capped text buffer for logs ---------------------------------
 * Keeps the first `head` bytes and the LAST (cap - head) bytes of what is
 * added (the failure is at the end of a log), in memory bounded by cap,
 * however much is added.  http_capbuf_finish joins them with a line
 * the cut marked as dd_omitted_marker says (cut at line boundaries).  */
struct http_capbuf {
	size_t cap, head_max;
	struct dd_buf head;
	char *ring;
	size_t ring_size, ring_pos, ring_len, ring_alloc;
	uint64_t total;
};
void http_capbuf_init(struct http_capbuf *b, size_t cap);   /* head = min(64 KiB, cap / 2) */
void http_capbuf_add(struct http_capbuf *b, const char *p, size_t n);
void http_capbuf_reset(struct http_capbuf *b);
int http_capbuf_truncated(const struct http_capbuf *b);
/* The kept text (NUL-terminated, caller frees), *len its length. */
char *http_capbuf_finish(struct http_capbuf *b, size_t *len);
void http_capbuf_release(struct http_capbuf *b);

#endif
