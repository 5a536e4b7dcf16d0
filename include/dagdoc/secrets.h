/*
 * secrets.h - the one credential mask of the process.
 *
 * Every secret dagdoc holds or obtains is registered here once: passwords,
 * tokens and API keys from the configuration, the token the Airflow 3 API
 * gives at run time, a webhook URL.  Registering a secret also registers
 * every form in which dagdoc sends it: as is, percent-encoded, JSON-escaped,
 * and, for a token of dot-separated parts (a JWT), each long part; the
 * value of an HTTP Basic header (base64 of "user:password") is registered
 * with secrets_add_basic.  Secrets shorter than SECRETS_MIN_LEN bytes are
 * not registered (they would mask ordinary words).
 *
 * Masking replaces each occurrence of a registered form by "****".  A text
 * that ends in the first SECRETS_MIN_TAIL or more bytes of a form (a
 * message cut by a length cap in the middle of a token) has that tail
 * masked too.
 *
 * Where it applies (every byte that leaves the process): every error
 * message (dd_error_set / dd_error_prefix), HTTP traces, stdout and stderr
 * (src/cmd/cli.c filters both streams), the files and posts commands write,
 * and every text and log the store writes.
 *
 * Thread-safe (one mutex).  Strings are copied; nothing is owned by the
 * caller afterwards.  secrets_clear forgets everything (tests).
 */
#ifndef DAGDOC_SECRETS_H
#define DAGDOC_SECRETS_H

#include <stddef.h>

struct dd_buf;

#define SECRETS_MIN_LEN 6
#define SECRETS_MIN_TAIL 8

/* Registers s (NULL or too short: ignored) and its encodings. */
void secrets_add(const char *s);
/* Registers password and the base64 value of "user:password" (the value
 * of the Authorization: Basic header); user may be NULL or empty. */
void secrets_add_basic(const char *user, const char *password);
void secrets_clear(void);

/* Does p[0..n) hold a registered form (whole)? */
int secrets_found(const char *p, size_t n);
/* Masks the NUL-terminated string s in place (it never grows: "****" is
 * no longer than any form). */
void secrets_mask(char *s);
/* Appends p[0..n) to out with every form masked; returns how many
 * occurrences were masked (tails included). */
size_t secrets_mask_append(struct dd_buf *out, const char *p, size_t n);
/* For a stream written piece by piece: how many bytes at the end of
 * p[0..n) could be the start of a form that the next piece completes.
 * Hold them back and mask them with what follows. */
size_t secrets_hold(const char *p, size_t n);
/* Standard base64 (with padding) of p[0..n), appended to out. */
void secrets_base64(struct dd_buf *out, const unsigned char *p, size_t n);

#endif
