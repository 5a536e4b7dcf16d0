/*
 * secrets.c - the credential mask (see include/dagdoc/secrets.h).
 *
 * The forms are kept longest first, so that a form containing another
 * (a JWT and its payload part) is masked whole.  Masking finds the next
 * occurrence of every form with memmem, so a 16 MiB log with a dozen
 * forms costs a dozen memmem passes, not one comparison per byte.
 */
#include "dagdoc/util.h"

#include <pthread.h>

#include "dagdoc/secrets.h"

#define MASK "****"

struct form {
	char *s;
	size_t len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct form *forms;
static size_t n_forms, cap_forms;

static void add_form_locked(const char *s, size_t len)
{
	size_t at;

	if (len < SECRETS_MIN_LEN)
		return;
	for (size_t i = 0; i < n_forms; i++)
		if (forms[i].len == len && !memcmp(forms[i].s, s, len))
			return;
	DD_GROW(forms, cap_forms, n_forms + 1);
	for (at = 0; at < n_forms && forms[at].len >= len; at++)
		;
	memmove(forms + at + 1, forms + at, (n_forms - at) * sizeof(*forms));
	forms[at].s = dd_xstrndup(s, len);
	forms[at].len = len;
	n_forms++;
}

static void add_form(const struct dd_buf *b)
{
	add_form_locked(b->data ? b->data : "", b->len);
}

void secrets_base64(struct dd_buf *out, const unsigned char *p, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		dd_buf_addch(out, tbl[(v >> 18) & 63]);
		dd_buf_addch(out, tbl[(v >> 12) & 63]);
		dd_buf_addch(out, i + 1 < n ? tbl[(v >> 6) & 63] : '=');
		dd_buf_addch(out, i + 2 < n ? tbl[v & 63] : '=');
	}
}

/* The forms in which s is sent: as is, percent-encoded (a URL or a form
 * body), JSON-escaped (a JSON body), and each long part of a dotted token. */
static void add_encodings_locked(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct dd_buf b = DD_BUF_INIT;
	size_t len = strlen(s);

	add_form_locked(s, len);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (dd_is_alnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			dd_buf_addch(&b, (char)*p);
		} else {
			dd_buf_addch(&b, '%');
			dd_buf_addch(&b, hex[*p >> 4]);
			dd_buf_addch(&b, hex[*p & 15]);
		}
	}
	add_form(&b);
	dd_buf_reset(&b);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			dd_buf_addf(&b, "\\%c", *p);
		else if (*p == '\n')
			dd_buf_adds(&b, "\\n");
		else if (*p == '\t')
			dd_buf_adds(&b, "\\t");
		else if (*p == '\r')
			dd_buf_adds(&b, "\\r");
		else if (*p < 0x20)
			dd_buf_addf(&b, "\\u%04x", *p);
		else
			dd_buf_addch(&b, (char)*p);
	}
	add_form(&b);
	dd_buf_release(&b);
	if (strchr(s, '.')) {
		const char *p = s;

		while (*p) {
			size_t k = strcspn(p, ".");

			if (k >= 16)
				add_form_locked(p, k);
			p += k;
			if (*p == '.')
				p++;
		}
	}
}

void secrets_add(const char *s)
{
	if (!s || strlen(s) < SECRETS_MIN_LEN)
		return;
	pthread_mutex_lock(&lock);
	add_encodings_locked(s);
	pthread_mutex_unlock(&lock);
}

void secrets_add_basic(const char *user, const char *password)
{
	struct dd_buf plain = DD_BUF_INIT, b64 = DD_BUF_INIT;

	if (!password || !*password)
		return;
	dd_buf_addf(&plain, "%s:%s", user ? user : "", password);
	secrets_base64(&b64, (const unsigned char *)plain.data, plain.len);
	pthread_mutex_lock(&lock);
	if (strlen(password) >= SECRETS_MIN_LEN)
		add_encodings_locked(password);
	add_form(&b64);
	pthread_mutex_unlock(&lock);
	memset(plain.data, 0, plain.len);
	dd_buf_release(&plain);
	dd_buf_release(&b64);
}

void secrets_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_forms; i++) {
		memset(forms[i].s, 0, forms[i].len);
		free(forms[i].s);
	}
	free(forms);
	forms = NULL;
	n_forms = cap_forms = 0;
	pthread_mutex_unlock(&lock);
}

/* ---- masking ----------------------------------------------------------------- */

int secrets_found(const char *p, size_t n)
{
	int found = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_forms && !found; i++)
		found = memmem(p, n, forms[i].s, forms[i].len) != NULL;
	pthread_mutex_unlock(&lock);
	return found;
}

/* The longest k in [min, form length) for which p[n-k..n) is the start of a form. */
static size_t tail_locked(const char *p, size_t n, size_t min)
{
	size_t best = 0;

	for (size_t i = 0; i < n_forms; i++) {
		size_t k = forms[i].len - 1 < n ? forms[i].len - 1 : n;

		for (; k > best && k >= min; k--)
			if (!memcmp(p + n - k, forms[i].s, k)) {
				best = k;
				break;
			}
	}
	return best;
}

size_t secrets_hold(const char *p, size_t n)
{
	size_t k;

	pthread_mutex_lock(&lock);
	k = tail_locked(p, n, 1);
	pthread_mutex_unlock(&lock);
	return k;
}

size_t secrets_mask_append(struct dd_buf *out, const char *p, size_t n)
{
	const char **next;
	size_t pos = 0, masked = 0, tail;

	pthread_mutex_lock(&lock);
	if (!n_forms) {
		pthread_mutex_unlock(&lock);
		dd_buf_add(out, p, n);
		return 0;
	}
	next = dd_xcalloc(n_forms, sizeof(*next));
	for (size_t i = 0; i < n_forms; i++)
		next[i] = memmem(p, n, forms[i].s, forms[i].len);
	for (;;) {
		size_t best = n_forms;

		/* the earliest occurrence; on a tie the longest form (listed first) */
		for (size_t i = 0; i < n_forms; i++) {
			if (next[i] && next[i] < p + pos)
				next[i] = memmem(p + pos, n - pos, forms[i].s, forms[i].len);
			if (next[i] && (best == n_forms || next[i] < next[best]))
				best = i;
		}
		if (best == n_forms)
			break;
		dd_buf_add(out, p + pos, (size_t)(next[best] - (p + pos)));
		dd_buf_adds(out, MASK);
		pos = (size_t)(next[best] - p) + forms[best].len;
		masked++;
	}
	tail = tail_locked(p + pos, n - pos, SECRETS_MIN_TAIL);
	pthread_mutex_unlock(&lock);
	free(next);
	dd_buf_add(out, p + pos, n - pos - tail);
	if (tail) {
		dd_buf_adds(out, MASK);
		masked++;
	}
	return masked;
}

void secrets_mask(char *s)
{
	struct dd_buf b = DD_BUF_INIT;
	size_t n = strlen(s);

	if (secrets_mask_append(&b, s, n))
		memcpy(s, b.data, b.len + 1);
	dd_buf_release(&b);
}
