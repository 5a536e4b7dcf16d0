/*
 * redact.c - secret masking and control-sequence removal.  See redact.h.
 *
 * Two passes: control sequences are dropped into a scratch buffer, then one
 * left-to-right scan looks for secrets at word starts and at "://".
 */
#include "dagdoc/util.h"
#include "dagdoc/redact.h"

#define MASK "****"

struct dd_redactor {
	int in_key;          /* inside a private-key block */
	struct dd_buf clean;
};

static inline int is_word(unsigned char c)
{
	return dd_is_alnum(c) || c == '_' || c == '-';
}

static inline int lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int ci_prefix(const unsigned char *s, size_t n, const char *p)
{
	size_t i;

	for (i = 0; p[i]; i++)
		if (i >= n || lower(s[i]) != (unsigned char)p[i])
			return 0;
	return 1;
}

static int ci_suffix(const unsigned char *s, size_t n, const char *p)
{
	size_t pl = strlen(p);

	return n >= pl && ci_prefix(s + n - pl, pl, p);
}

/* ---- pass 1: control characters ------------------------------------------- */

static void strip_controls(const unsigned char *s, size_t n, struct dd_buf *out)
{
	size_t i = 0;

	dd_buf_reset(out);
	dd_buf_grow(out, n);
	while (i < n) {
		size_t j = i;

		while (j < n && (s[j] >= 0x20 || s[j] == '\t' || s[j] == '\n') && s[j] != 0x7f)
			j++;
		if (j > i)
			dd_buf_add(out, s + i, j - i);
		i = j;
		if (i >= n)
			break;
		if (s[i] == 0x1b) {
			i = dd_escape_end((const char *)s, n, i + 1);
		} else {
			i++;   /* other C0 control, DEL */
		}
	}
}

/* ---- pass 2: secrets -------------------------------------------------------- */

static const char *const secret_key_suffixes[] = {
	"password", "passwd", "pwd", "token", "secret", "api_key", "api-key", "apikey", "access_key",
	"secret_key", "private_key", "fernet_key", "authorization",
};

static int is_secret_key(const unsigned char *s, size_t n)
{
	size_t k;

	for (k = 0; k < DD_ARRAY_SIZE(secret_key_suffixes); k++)
		if (ci_suffix(s, n, secret_key_suffixes[k]))
			return 1;
	return 0;
}

static int looks_secret(const unsigned char *s, size_t n)
{
	size_t i;
	int digit = 0;

	for (i = 0; i < n; i++)
		if (dd_is_digit(s[i]))
			digit = 1;
	return (n >= 8 && digit) || n >= 16;
}

static int is_value_end(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ',' || c == ';' || c == '&' || c == ')' || c == '}' ||
	       c == ']' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\';
}

static int is_token_char(unsigned char c)
{
	return dd_is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

/* A quote at s[i] (optionally escaped: \" or \'); returns its length (1 or 2) and the quote char. */
static size_t quote_at(const unsigned char *s, size_t n, size_t i, unsigned char *q)
{
	if (i < n && (s[i] == '"' || s[i] == '\'')) {
		*q = s[i];
		return 1;
	}
	if (i + 1 < n && s[i] == '\\' && (s[i + 1] == '"' || s[i + 1] == '\'')) {
		*q = s[i + 1];
		return 2;
	}
	return 0;
}

/* After a secret key name ending at s[i]: separator and value.  On success
 * appends the separator part verbatim plus MASK and returns the new index,
 * else returns 0. */
static size_t key_value(struct dd_buf *out, const unsigned char *s, size_t n, size_t i,
                        const unsigned char *key, size_t keylen, int cli)
{
	size_t j = i, ql, vstart, vend;
	unsigned char q = 0, kq = 0;
	int colon;

	ql = quote_at(s, n, j, &kq);   /* closing quote of a quoted key */
	j += ql;
	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	if (cli && !ql && j == i + 1 && j < n && s[j] != '=' && s[j] != ':' && s[j] != '-') {
		/* "--password hunter2" */
		colon = 0;
	} else {
		if (j >= n || (s[j] != '=' && s[j] != ':'))
			return 0;
		colon = s[j] == ':';
		j++;
	}
	if (j < n && s[j] == '>')   /* "=>" */
		j++;
	if (colon && j < n && s[j] == '/')   /* "token://" is a URI, not a value */
		return 0;
	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	ql = quote_at(s, n, j, &q);
	if (ql) {
		vstart = j + ql;
		vend = vstart;
		while (vend < n && s[vend] != '\n') {
			if (s[vend] == '\\' && vend + 1 < n) {
				if (s[vend + 1] == q && ql == 2)
					break;
				vend += 2;
				continue;
			}
			if (s[vend] == q)
				break;
			vend++;
		}
	} else {
		vstart = j;
		vend = j;
		while (vend < n && !is_value_end(s[vend]))
			vend++;
		if (vend == vstart)
			return 0;
		if (colon && vstart > i + 1 && !kq && ci_suffix(key, keylen, "token") &&
		    !looks_secret(s + vstart, vend - vstart))
			return 0;
	}
	dd_buf_add(out, s + i, vstart - i);
	if (ci_suffix(key, keylen, "authorization")) {
		static const char *const schemes[] = { "bearer ", "basic ", "token ", "digest ", "negotiate " };
		size_t k, lim = ql ? vend : n;

		for (k = 0; k < DD_ARRAY_SIZE(schemes); k++)
			if (ci_prefix(s + vstart, lim - vstart, schemes[k]))
				break;
		if (k < DD_ARRAY_SIZE(schemes)) {
			size_t sl = strlen(schemes[k]);

			dd_buf_add(out, s + vstart, sl);
			vstart += sl;
			if (!ql) {
				vend = vstart;
				while (vend < n && !is_value_end(s[vend]))
					vend++;
			}
		}
	}
	if (vend > vstart)
		dd_buf_adds(out, MASK);
	return vend;
}

static size_t span(const unsigned char *s, size_t n, size_t i, int (*ok)(unsigned char))
{
	while (i < n && ok(s[i]))
		i++;
	return i;
}

static int is_b64url(unsigned char c)
{
	return dd_is_alnum(c) || c == '-' || c == '_';
}

static int is_upnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || dd_is_digit(c);
}

static int is_tokword(unsigned char c)
{
	return dd_is_alnum(c) || c == '_';
}

/* The path of a Slack incoming webhook: T.../B.../secret */
static int is_hook_path(unsigned char c)
{
	return dd_is_alnum(c) || c == '/' || c == '_' || c == '-';
}

static int is_slack(unsigned char c)
{
	return dd_is_alnum(c) || c == '-';
}

/* Token-shaped secrets at a word start; returns the end index or 0. */
static size_t token_at(const unsigned char *s, size_t n, size_t i)
{
	size_t e;

	switch (s[i]) {
	case 'A':
		if (i + 20 <= n && (!memcmp(s + i, "AKIA", 4) || !memcmp(s + i, "ASIA", 4))) {
			e = span(s, n, i + 4, is_upnum);
			if (e - i == 20 && (e == n || !dd_is_alnum(s[e])))
				return e;
		}
		if (i + 39 <= n && !memcmp(s + i, "AIza", 4)) {
			e = span(s, n, i + 4, is_b64url);
			if (e - i >= 39)
				return e;
		}
		break;
	case 'e':
		if (i + 3 < n && !memcmp(s + i, "eyJ", 3)) {
			e = span(s, n, i, is_b64url);
			if (e + 4 < n && s[e] == '.' && !memcmp(s + e + 1, "eyJ", 3)) {
				e = span(s, n, e + 1, is_b64url);
				if (e < n && s[e] == '.') {
					e = span(s, n, e + 1, is_b64url);
					return e;
				}
			}
		}
		break;
	case 'g':
		if (i + 4 < n && s[i + 1] == 'h' && s[i + 3] == '_' &&
		    (s[i + 2] == 'p' || s[i + 2] == 'o' || s[i + 2] == 'u' || s[i + 2] == 's' || s[i + 2] == 'r')) {
			e = span(s, n, i + 4, is_tokword);
			if (e - i >= 24)
				return e;
		}
		if (i + 11 < n && !memcmp(s + i, "github_pat_", 11)) {
			e = span(s, n, i + 11, is_tokword);
			if (e - i >= 30)
				return e;
		}
		break;
	case 'h':
		/* a Slack incoming-webhook URL: its path is the credential */
		if (i + 25 < n && !memcmp(s + i, "hooks.slack.com/services/", 25)) {
			e = span(s, n, i + 25, is_hook_path);
			if (e - i >= 35)
				return e;
		}
		break;
	case 'x':
		if (i + 5 < n && !memcmp(s + i, "xox", 3) && strchr("bapsr", s[i + 3]) && s[i + 3] && s[i + 4] == '-') {
			e = span(s, n, i + 5, is_slack);
			if (e - i >= 15)
				return e;
		}
		break;
	}
	return 0;
}

static const char BEGIN_MARK[] = "-----BEGIN ";
static const char END_MARK[] = "-----END ";

/* At s[i] == '-': "-----BEGIN ... PRIVATE KEY-----"?  Returns the end index of the marker or 0. */
static size_t key_marker(const unsigned char *s, size_t n, size_t i, const char *mark)
{
	size_t ml = strlen(mark), j;
	const unsigned char *dash;

	if (i + ml > n || memcmp(s + i, mark, ml))
		return 0;
	j = i + ml;
	dash = memmem(s + j, n - j, "-----", 5);
	if (!dash || dash - (s + j) > 64)
		return 0;
	if (!memmem(s + j, (size_t)(dash - (s + j)), "PRIVATE KEY", 11))
		return 0;
	return (size_t)(dash - s) + 5;
}

static void redact_core(struct dd_buf *out, const unsigned char *s, size_t n, int *in_key)
{
	size_t i = 0, lit = 0;

#define FLUSH() do { if (i > lit) dd_buf_add(out, s + lit, i - lit); } while (0)
	while (i < n) {
		unsigned char c = s[i], prev = i ? s[i - 1] : 0;
		size_t e;

		if (*in_key) {
			/* mask up to the END marker */
			size_t j = i;
			int masked = 0;

			while (j < n) {
				const unsigned char *m = memmem(s + j, n - j, END_MARK, sizeof(END_MARK) - 1);

				if (!m) {
					j = n;
					break;
				}
				if ((e = key_marker(s, n, (size_t)(m - s), END_MARK))) {
					if (m > s + i) {
						dd_buf_adds(out, MASK);
						masked = 1;
					}
					dd_buf_add(out, m, e - (size_t)(m - s));
					i = lit = e;
					*in_key = 0;
					break;
				}
				j = (size_t)(m - s) + 1;
			}
			if (*in_key) {
				if (n > i && !masked)
					dd_buf_adds(out, MASK);
				return;
			}
			continue;
		}
		if (c == '-' && (e = key_marker(s, n, i, BEGIN_MARK))) {
			FLUSH();
			dd_buf_add(out, s + i, e - i);
			i = lit = e;
			*in_key = 1;
			continue;
		}
		if (c == ':' && i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/' && i > 0 && dd_is_alnum(prev)) {
			/* scheme://userinfo@host */
			size_t h = i + 3, at = 0, colon = 0, j;

			for (j = h; j < n; j++) {
				unsigned char d = s[j];

				if (d == '/' || d == ' ' || d == '\t' || d == '\n' || d == '?' || d == '#' || d == '"' ||
				    d == '\'' || d == '<' || d == '>' || d == '`' || d == '\\')
					break;
				if (d == '@')
					at = j;
			}
			if (at) {
				for (j = h; j < at; j++)
					if (s[j] == ':') {
						colon = j;
						break;
					}
				if (colon) {
					i = colon + 1;
					FLUSH();
					dd_buf_adds(out, MASK);
					i = lit = at;
					continue;
				}
				if (at - h >= 20) {
					i = h;
					FLUSH();
					dd_buf_adds(out, MASK);
					i = lit = at;
					continue;
				}
			}
			i = h;
			continue;
		}
		if ((dd_is_alpha(c) || c == '_') && !dd_is_alnum(prev) && prev != '_') {
			size_t w = i;

			if ((e = token_at(s, n, i))) {
				FLUSH();
				dd_buf_adds(out, MASK);
				i = lit = e;
				continue;
			}
			while (w < n && is_word(s[w]))
				w++;
			if ((w - i == 6 && ci_prefix(s + i, 6, "bearer")) && w + 1 < n && s[w] == ' ') {
				size_t te = span(s, n, w + 1, is_token_char);

				if (te - (w + 1) >= 8) {
					i = w + 1;
					FLUSH();
					dd_buf_adds(out, MASK);
					i = lit = te;
					continue;
				}
			}
			if (is_secret_key(s + i, w - i)) {
				size_t keystart = i;

				i = w;
				FLUSH();
				lit = i;
				e = key_value(out, s, n, w, s + keystart, w - keystart,
				              keystart >= 2 && s[keystart - 1] == '-' && s[keystart - 2] == '-');
				if (e) {
					i = lit = e;
					continue;
				}
				continue;   /* key_value appended nothing */
			}
			i = w;
			continue;
		}
		i++;
	}
	FLUSH();
#undef FLUSH
}

void redact_append(struct dd_buf *out, const char *in, size_t len)
{
	struct dd_buf clean = DD_BUF_INIT;
	int in_key = 0;

	if (!in || !len)
		return;
	strip_controls((const unsigned char *)in, len, &clean);
	redact_core(out, (const unsigned char *)dd_buf_str(&clean), clean.len, &in_key);
	dd_buf_release(&clean);
}

struct dd_redactor *redactor_new(void)
{
	return dd_xcalloc(1, sizeof(struct dd_redactor));
}

void redactor_free(struct dd_redactor *r)
{
	if (!r)
		return;
	dd_buf_release(&r->clean);
	free(r);
}

void redactor_line(struct dd_redactor *r, struct dd_buf *out, const char *line, size_t len)
{
	if (!line || !len)
		return;
	strip_controls((const unsigned char *)line, len, &r->clean);
	redact_core(out, (const unsigned char *)dd_buf_str(&r->clean), r->clean.len, &r->in_key);
}
