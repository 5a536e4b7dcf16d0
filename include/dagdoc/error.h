/*
 * error.h - how every dagdoc module reports failure.
 *
 * Rules (after libgit2): a function returns 0 on success or a negative
 * DD_E* code, and fills the caller's `struct dd_error` with one sentence a
 * user can act on ("what happened; what to do").  Modules never print and
 * never exit; only the commands (src/cmd/) talk to the user.
 *
 * The error struct is caller-owned, fixed-size and needs no release.
 * Every function taking `struct dd_error *err` accepts NULL.
 * Messages never contain secrets: callers pass redacted text, and every
 * registered credential (secrets.h) is masked when the message is set.
 */
#ifndef DAGDOC_ERROR_H
#define DAGDOC_ERROR_H

enum dd_code {
	DD_OK = 0,
	DD_ERR = -1,       /* generic failure */
	DD_EUSAGE = -2,    /* bad option or argument from the user */
	DD_EIO = -3,       /* file system */
	DD_EPARSE = -4,    /* malformed input: config, pattern, JSON, log */
	DD_ENOTFOUND = -5, /* no such DAG, run, file, pattern ... */
	DD_EAUTH = -6,     /* 401/403, missing or expired credentials */
	DD_ENET = -7,      /* DNS, refused, TLS, timeout, 5xx after retries */
	DD_ELIMIT = -8,    /* a size, time or match limit was hit */
	DD_ESTORE = -9,    /* the store (SQLite, PostgreSQL) */
	DD_EPROTO = -10,   /* a server answered something not in its API */
	DD_EINTR = -11,    /* interrupted by a signal */
	DD_EGIT = -12,     /* libgit2 */
	DD_EEXIST = -13,   /* a file that must not be replaced exists */
	DD_EBUSY = -14,    /* the store was busy (a deadlock, a conflict, a sync of the same
	                    * source by another dagdoc): redo the transaction, or wait */
};

#define DD_ERROR_MSG_MAX 1024

struct dd_error {
	int code;                    /* last DD_E* code, 0 when clear */
	char msg[DD_ERROR_MSG_MAX];  /* one or two sentences, no trailing newline */
};

#define DD_ERROR_INIT { 0, { 0 } }

/* Sets code and message (printf format); returns `code` so callers can
 * write `return dd_error_set(err, DD_EIO, "cannot read %s: %s", p, e);`. */
int dd_error_set(struct dd_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends context: "loading patterns: " + existing message.  Returns code. */
int dd_error_prefix(struct dd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void dd_error_clear(struct dd_error *err);

/* Short name of a code ("io", "parse", ...), for JSON and tests. */
const char *dd_code_name(int code);

#endif
