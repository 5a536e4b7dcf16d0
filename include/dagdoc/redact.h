/*
 * redact.h - mask secrets and strip terminal control sequences from text
 * before it reaches output, traces, errors or the store.
 *
 * Masks (replacing the secret with "****"):
 *   - passwords in URIs: scheme://user:pass@host -> scheme://user:****@host
 *     (a userinfo without ':' that is 20+ characters long is masked whole);
 *   - values of keys whose name is, or ends in, password, passwd, pwd, token,
 *     secret, api_key/api-key/apikey, access_key, secret_key, private_key,
 *     fernet_key, authorization (case-insensitive; db_password=, client_secret=,
 *     aws_secret_access_key=, x-api-key: ...), written key=value, key: value,
 *     "key": "value", 'key': 'value', \"key\": \"value\" (escaped JSON);
 *     for "token: value" with an unquoted value the value must look like a
 *     secret (8+ characters with a digit, or 16+ characters);
 *   - "Authorization: Bearer x" / "Basic x" / "Token x" (the scheme word is
 *     kept), and "Bearer x" anywhere;
 *   - AWS access key ids (AKIA/ASIA + 16 upper-case letters or digits);
 *   - private-key blocks: everything between "-----BEGIN ... PRIVATE KEY-----"
 *     and "-----END ... PRIVATE KEY-----" (the markers are kept);
 *   - Slack tokens (xoxb-, xoxa-, xoxp-, xoxr-, xoxs-), GitHub tokens (ghp_,
 *     gho_, ghu_, ghs_, ghr_, github_pat_), Google API keys (AIza...),
 *     JWTs (eyJ...\.eyJ...\....).
 * Removes: ANSI CSI (ESC [ ... final) and OSC (ESC ] ... BEL or ESC \)
 * sequences, other ESC sequences, and C0 control characters except \t and \n
 * (so \r and NUL go too).  Everything else is copied unchanged.
 */
#ifndef DAGDOC_REDACT_H
#define DAGDOC_REDACT_H

#include <stddef.h>

struct dd_buf;

/* Appends `in` to out with secrets masked ("****") and terminal control
 * sequences removed.  `in` may hold several lines; out is caller-owned. */
void redact_append(struct dd_buf *out, const char *in, size_t len);

/* Stateful variant for multi-line input (a private key block spans lines):
 * feed one line at a time (without its newline; nothing is added after it).
 * Lines inside a private-key block come out as "****".
 * redactor_new allocates, redactor_free releases (NULL is fine). */
struct dd_redactor;
struct dd_redactor *redactor_new(void);
void redactor_free(struct dd_redactor *r);
void redactor_line(struct dd_redactor *r, struct dd_buf *out, const char *line, size_t len);

#endif
