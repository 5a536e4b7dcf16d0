/*
 * util.h - small shared helpers: allocation, growable buffers, string
 * vectors, time and duration parsing, whole-file reads.
 *
 * Allocation: the dd_x* allocators never return NULL; on exhaustion they
 * print "dagdoc: out of memory" and abort (as git's xmalloc does).  Every
 * other module may therefore treat allocation as infallible.
 *
 * Include this header first in every .c file of the project: it pulls in
 * the common system headers and then banned.h.
 */
#ifndef DAGDOC_UTIL_H
#define DAGDOC_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dagdoc/error.h"

#define DD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation never fails for a caller: on out-of-memory dagdoc prints
 * "dagdoc: out of memory" and aborts (dd_die_oom, the one place that does;
 * a library that allocates for us and fails calls it too). */
void dd_die_oom(void) __attribute__((noreturn));
void *dd_xmalloc(size_t n);
void *dd_xcalloc(size_t nmemb, size_t size);
void *dd_xrealloc(void *p, size_t n);
char *dd_xstrdup(const char *s);               /* NULL in, NULL out */
char *dd_xstrndup(const char *s, size_t n);
char *dd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *array (of *cap elements of `size` bytes) to hold at least `need`. */
void dd_grow(void **array, size_t *cap, size_t need, size_t size);
#define DD_GROW(arr, cap, need) dd_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* ---- growable byte buffer (git's strbuf) ------------------------------
 * `data` is always NUL-terminated when non-NULL.  Owned by the struct;
 * dd_buf_release frees it, dd_buf_detach hands it to the caller. */
struct dd_buf {
	char *data;
	size_t len;
	size_t cap;
};
#define DD_BUF_INIT { NULL, 0, 0 }

void dd_buf_init(struct dd_buf *b);
void dd_buf_release(struct dd_buf *b);
void dd_buf_reset(struct dd_buf *b);            /* len = 0, keeps memory */
void dd_buf_grow(struct dd_buf *b, size_t extra);
void dd_buf_add(struct dd_buf *b, const void *p, size_t n);
void dd_buf_adds(struct dd_buf *b, const char *s);
void dd_buf_addch(struct dd_buf *b, char c);
void dd_buf_addf(struct dd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dd_buf_vaddf(struct dd_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
char *dd_buf_detach(struct dd_buf *b);          /* never NULL; caller frees */
const char *dd_buf_str(const struct dd_buf *b); /* "" when empty */

/* ---- string vector ------------------------------------------------------
 * Owns its strings.  v[n] is NULL. */
struct dd_strv {
	char **v;
	size_t n;
	size_t cap;
};
#define DD_STRV_INIT { NULL, 0, 0 }

void dd_strv_push(struct dd_strv *sv, const char *s);      /* copies s */
void dd_strv_push_owned(struct dd_strv *sv, char *s);      /* takes s */
void dd_strv_release(struct dd_strv *sv);
void dd_strv_truncate(struct dd_strv *sv, size_t n);   /* keeps the first n */
int dd_strv_contains(const struct dd_strv *sv, const char *s);

/* ---- strings ------------------------------------------------------------ */
int dd_starts_with(const char *s, const char *prefix);
int dd_ends_with(const char *s, const char *suffix);
/* Levenshtein distance, for "did you mean" suggestions. */
size_t dd_edit_distance(const char *a, const char *b);

/* "Did you mean": offer the candidates one by one; dd_closest_pick gives
 * the nearest when it is near enough to be a typo of `want` (at most a
 * third of its length in edits, and at least 2 allowed), else NULL.  The
 * struct keeps its own copy of the best candidate: dd_closest_release. */
struct dd_closest {
	const char *want;
	char *best;
	size_t best_d;
};
#define DD_CLOSEST_INIT(w) { (w), NULL, (size_t)-1 }
void dd_closest_offer(struct dd_closest *c, const char *candidate);
const char *dd_closest_pick(const struct dd_closest *c);
void dd_closest_release(struct dd_closest *c);
/* "1 run" / "2 runs": the noun that goes with a count. */
#define DD_PLURAL(n, one, many) ((n) == 1 ? (one) : (many))
/* ASCII character classes, the same in every locale (unlike <ctype.h>). */
static inline int dd_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}
static inline int dd_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline int dd_is_alnum(unsigned char c)
{
	return dd_is_digit(c) || dd_is_alpha(c);
}
/* For s[i] just after an ESC (0x1b): the index just past the terminal
 * escape sequence it starts (CSI "[...final", OSC "]...BEL or ESC \", or
 * one more character), at most n. */
size_t dd_escape_end(const char *s, size_t n, size_t i);

/* ---- UTF-8 ---------------------------------------------------------------
 * Logs carry any bytes; every JSON and HTML output of dagdoc is valid
 * UTF-8.  dd_utf8_fix appends p[0..n) with each byte that does not belong
 * to a valid sequence (stray continuation bytes, cut sequences, overlong
 * forms, surrogates, code points past U+10FFFF) replaced by U+FFFD, and
 * returns how many were replaced. */
size_t dd_utf8_fix(struct dd_buf *out, const char *p, size_t n);
/* The line an excerpt ends with when bytes were replaced. */
#define DD_UTF8_NOTE "[dagdoc: bytes that are not UTF-8 are shown as \xEF\xBF\xBD]"
/* A copy of s fixed by dd_utf8_fix that says so: when anything was
 * replaced, a last line DD_UTF8_NOTE.  NULL in, NULL out; caller frees. */
char *dd_utf8_excerpt(const char *s);

/* ---- time ---------------------------------------------------------------
 * All times in dagdoc are int64 milliseconds since the Unix epoch, UTC;
 * 0 means unknown. */
/* qsort that takes an empty array as NULL (qsort itself may not). */
void dd_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* The median of v[0..n), sorting v in place (n log n); NAN when n is 0. */
double dd_median_sort(double *v, size_t n);
int64_t dd_now_ms(void);
/* Days since 1970-01-01 of a proleptic Gregorian date (y, m 1-12, d 1-31). */
int64_t dd_days_from_civil(int64_t y, int m, int d);
/* Parses ISO 8601 / RFC 3339 ("2024-05-01T02:00:13.123+0000",
 * "2024-05-01T02:00:13Z", "2024-05-01 02:00:13,123", "2024-05-01T02:00:13.123456+00:00",
 * "2024-05-01"); returns 0 or DD_EPARSE. */
int dd_parse_time(const char *s, int64_t *out_ms);
/* Writes "2024-05-01T02:00:13Z" (or with ".123" when ms != 0 and
 * with_ms) into out (>= 32 bytes). */
void dd_format_time(int64_t ms, int with_ms, char *out, size_t outlen);
/* "30d", "24h", "90m", "45s", "2w", or a bare number of seconds.
 * Returns 0 or DD_EUSAGE with a message. */
int dd_parse_duration(const char *s, int64_t *out_seconds, struct dd_error *err);
/* The reverse, for people: "45s", "12m", "9h 40m", "3d 4h" (two units at
 * most) into out (>= 24 bytes). */
void dd_format_duration(double seconds, char *out, size_t outlen);

/* ---- hashing and the cache directory -------------------------------------
 * FNV-1a (64 bit) of n bytes continuing from h; start from DD_FNV_INIT. */
#define DD_FNV_INIT 0xcbf29ce484222325ULL
uint64_t dd_fnv1a(uint64_t h, const void *p, size_t n);
/* $XDG_CACHE_HOME/dagdoc/NAME, else ~/.cache/dagdoc/NAME; NULL when
 * DAGDOC_NO_CACHE is set (to anything but "0") or no home is known.
 * Caches are never needed: a cache that cannot be read or written is
 * simply not used.  Caller frees. */
char *dd_cache_path(const char *name);

/* ---- files --------------------------------------------------------------
 * Reads a whole file (at most max bytes, 0 = no limit) into b (appends).
 * DD_EIO with "cannot read PATH: strerror" or DD_ELIMIT when larger. */
int dd_read_file(const char *path, size_t max, struct dd_buf *b, struct dd_error *err);
/* The same, piece by piece: piece(p, n, ud) for each piece read (a
 * non-zero result stops the read and is returned); "-" reads standard
 * input.  DD_ELIMIT "NAME is larger than MAX bytes" past max (0: none). */
int dd_read_stream(const char *path, size_t max, int (*piece)(const char *p, size_t n, void *ud),
                   void *ud, struct dd_error *err);
/* The one line that marks where a log was cut (the head and the tail of
 * an over-long log are kept, the middle dropped; http.h's capped buffer
 * while it downloads, store_log_cap when it is stored):
 *   "[dagdoc: N bytes omitted; the log was longer than LIMIT bytes]\n"
 * Written to out (snprintf's rules); returns its length. */
size_t dd_omitted_marker(char *out, size_t outlen, uint64_t omitted, uint64_t limit);
/* mkdir -p for the parent directories of path (mode 0700). */
int dd_mkdir_parents(const char *path, struct dd_error *err);
/* Writes a whole file through a temporary file beside it and rename(2):
 * readers see the old file or the new one, never half of it.  With
 * DD_WRITE_MKDIR the parent directories are created (caches); without,
 * a missing directory is an error (a path the user gave).  With
 * DD_WRITE_NEW an existing file is never replaced (DD_EEXIST, "PATH
 * already exists"); with DD_WRITE_PRIVATE the file is mode 0600.  DD_EIO
 * with "cannot write PATH: strerror".  The one atomic write of dagdoc. */
enum { DD_WRITE_MKDIR = 1, DD_WRITE_NEW = 2, DD_WRITE_PRIVATE = 4 };
int dd_write_file_atomic(const char *path, const void *data, size_t len, unsigned flags, struct dd_error *err);
/* A data directory of dagdoc's (NAME = "patterns", "knowledge"): $ENV_VAR
 * if set, else the first that exists of <dir of /proc/self/exe>/NAME,
 * <exe dir>/../NAME, <exe dir>/../share/dagdoc/NAME, DD_DATADIR/NAME
 * (resolved with realpath).  Allocated; NULL when none exists. */
char *dd_data_dir(const char *name, const char *env_var);

#include "dagdoc/banned.h"

#endif
