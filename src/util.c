/*
 * util.c - allocation, dd_buf, dd_strv, time and duration parsing, files.
 */
#include "dagdoc/util.h"

#include <math.h>

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

void dd_die_oom(void)
{
	fputs("dagdoc: out of memory\n", stderr);
	abort();
}

void *dd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		dd_die_oom();
	return p;
}

void *dd_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		dd_die_oom();
	return p;
}

void *dd_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		dd_die_oom();
	return q;
}

char *dd_xstrdup(const char *s)
{
	return s ? dd_xstrndup(s, strlen(s)) : NULL;
}

char *dd_xstrndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = dd_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dd_xasprintf(const char *fmt, ...)
{
	struct dd_buf b = DD_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	dd_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return dd_buf_detach(&b);
}

void dd_grow(void **array, size_t *cap, size_t need, size_t size)
{
	size_t ncap;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap *= 2;
	*array = dd_xrealloc(*array, ncap * size);
	*cap = ncap;
}

/* ---- dd_buf ------------------------------------------------------------- */

void dd_buf_init(struct dd_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void dd_buf_release(struct dd_buf *b)
{
	free(b->data);
	dd_buf_init(b);
}

void dd_buf_reset(struct dd_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void dd_buf_grow(struct dd_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (need < b->cap * 2)
		need = b->cap * 2;
	if (need < 64)
		need = 64;
	b->data = dd_xrealloc(b->data, need);
	b->cap = need;
}

void dd_buf_add(struct dd_buf *b, const void *p, size_t n)
{
	dd_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void dd_buf_adds(struct dd_buf *b, const char *s)
{
	dd_buf_add(b, s, strlen(s));
}

void dd_buf_addch(struct dd_buf *b, char c)
{
	dd_buf_add(b, &c, 1);
}

void dd_buf_vaddf(struct dd_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	dd_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		dd_buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void dd_buf_addf(struct dd_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *dd_buf_detach(struct dd_buf *b)
{
	char *p;

	if (!b->data)
		dd_buf_grow(b, 0);
	p = b->data;
	p[b->len] = '\0';
	dd_buf_init(b);
	return p;
}

const char *dd_buf_str(const struct dd_buf *b)
{
	return b->data ? b->data : "";
}

/* ---- dd_strv ------------------------------------------------------------ */

void dd_strv_push_owned(struct dd_strv *sv, char *s)
{
	DD_GROW(sv->v, sv->cap, sv->n + 2);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void dd_strv_push(struct dd_strv *sv, const char *s)
{
	dd_strv_push_owned(sv, dd_xstrdup(s));
}

void dd_strv_truncate(struct dd_strv *sv, size_t n)
{
	while (sv->n > n)
		free(sv->v[--sv->n]);
}

void dd_strv_release(struct dd_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int dd_strv_contains(const struct dd_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

/* ---- strings ------------------------------------------------------------ */

int dd_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int dd_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

size_t dd_edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	size_t *row = dd_xmalloc((m + 1) * sizeof(*row));
	size_t result;

	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	result = row[m];
	free(row);
	return result;
}

size_t dd_escape_end(const char *str, size_t n, size_t i)
{
	const unsigned char *s = (const unsigned char *)str;

	if (i < n && s[i] == '[') {
		i++;
		while (i < n && !(s[i] >= 0x40 && s[i] <= 0x7e))
			i++;
		if (i < n)
			i++;
	} else if (i < n && s[i] == ']') {
		i++;
		while (i < n && s[i] != 0x07 && !(s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\'))
			i++;
		if (i < n)
			i += s[i] == 0x07 ? 1 : 2;
	} else if (i < n) {
		i++;
	}
	return i;
}

void dd_closest_offer(struct dd_closest *c, const char *candidate)
{
	size_t d = dd_edit_distance(c->want, candidate);

	if (d < c->best_d) {
		c->best_d = d;
		free(c->best);
		c->best = dd_xstrdup(candidate);
	}
}

const char *dd_closest_pick(const struct dd_closest *c)
{
	size_t len = strlen(c->want), max = len / 3 > 2 ? len / 3 : 2;

	return c->best && c->best_d <= max ? c->best : NULL;
}

void dd_closest_release(struct dd_closest *c)
{
	free(c->best);
	c->best = NULL;
	c->best_d = (size_t)-1;
}

/* ---- time --------------------------------------------------------------- */

int64_t dd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
int64_t dd_days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	int64_t yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int dd_parse_time(const char *s, int64_t *out_ms)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	int64_t offset_s = 0;

	if (!s)
		return DD_EPARSE;
	while (*p == ' ')
		p++;
	if (read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) ||
	    *p++ != '-' || read_digits(&p, 2, &d))
		return DD_EPARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return DD_EPARSE;
	if (*p == 'T' || *p == ' ' || *p == 't') {
		p++;
		if (read_digits(&p, 2, &h) || *p++ != ':' || read_digits(&p, 2, &mi))
			return DD_EPARSE;
		if (*p == ':') {
			p++;
			if (read_digits(&p, 2, &sec))
				return DD_EPARSE;
		}
		if (*p == '.' || *p == ',') {
			int scale = 100;

			p++;
			if (*p < '0' || *p > '9')
				return DD_EPARSE;
			while (*p >= '0' && *p <= '9') {
				ms += (*p - '0') * scale;
				scale /= 10;
				p++;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return DD_EPARSE;
		while (*p == ' ')
			p++;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh, om = 0;

			p++;
			if (read_digits(&p, 2, &oh))
				return DD_EPARSE;
			if (*p == ':')
				p++;
			if (*p >= '0' && *p <= '9' && read_digits(&p, 2, &om))
				return DD_EPARSE;
			offset_s = sign * (oh * 3600 + om * 60);
		} else if (!strncmp(p, "UTC", 3)) {
			p += 3;
		}
	}
	while (*p == ' ')
		p++;
	if (*p)
		return DD_EPARSE;
	*out_ms = ((dd_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - offset_s) * 1000 + ms;
	return 0;
}

void dd_format_time(int64_t ms, int with_ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int rem = (int)(ms - (int64_t)t * 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (with_ms && rem)
		snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
	else
		snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void dd_format_duration(double seconds, char *out, size_t outlen)
{
	long long s = seconds > 0 ? (long long)(seconds + 0.5) : 0;

	if (s < 60)
		snprintf(out, outlen, "%llds", s);
	else if (s < 3600)
		snprintf(out, outlen, "%lldm", s / 60);
	else if (s < 86400 && s % 3600 < 60)
		snprintf(out, outlen, "%lldh", s / 3600);
	else if (s < 86400)
		snprintf(out, outlen, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s % 86400 < 3600)
		snprintf(out, outlen, "%lldd", s / 86400);
	else
		snprintf(out, outlen, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

int dd_parse_duration(const char *s, int64_t *out_seconds, struct dd_error *err)
{
	char *end;
	long long v;
	int64_t unit = 1;

	if (!s || !*s)
		return dd_error_set(err, DD_EUSAGE, "empty duration; use e.g. 30d, 24h, 90m");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno || v < 0)
		goto bad;
	switch (*end) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: goto bad;
	}
	if (*end && end[1])
		goto bad;
	if (v > INT64_MAX / unit / 1000)   /* it is used in milliseconds */
		return dd_error_set(err, DD_EUSAGE, "'%s' is too long a duration", s);
	*out_seconds = (int64_t)v * unit;
	return 0;
bad:
	return dd_error_set(err, DD_EUSAGE, "'%s' is not a duration; use a number with s, m, h, d or w (e.g. 30d, 24h)", s);
}

/* ---- files -------------------------------------------------------------- */

int dd_read_stream(const char *path, size_t max, int (*piece)(const char *p, size_t n, void *ud),
                   void *ud, struct dd_error *err)
{
	int is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	const char *name = is_stdin ? "standard input" : path;
	char chunk[65536];
	size_t n, total = 0;
	int rc = 0;

	if (!f)
		return dd_error_set(err, DD_EIO, "cannot read %s: %s", path, strerror(errno));
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		total += n;
		if (max && total > max)
			rc = dd_error_set(err, DD_ELIMIT, "%s is larger than %zu bytes", name, max);
		else
			rc = piece(chunk, n, ud);
	}
	if (rc == 0 && ferror(f))
		rc = dd_error_set(err, DD_EIO, "cannot read %s: %s", name, strerror(errno));
	if (!is_stdin)
		fclose(f);
	return rc;
}

static int add_piece(const char *p, size_t n, void *ud)
{
	dd_buf_add(ud, p, n);
	return 0;
}

int dd_read_file(const char *path, size_t max, struct dd_buf *b, struct dd_error *err)
{
	return dd_read_stream(path, max, add_piece, b, err);
}

int dd_mkdir_parents(const char *path, struct dd_error *err)
{
	char *copy = dd_xstrdup(path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) && errno != EEXIST) {
			int e = errno;

			dd_error_set(err, DD_EIO, "cannot create directory %s: %s", copy, strerror(e));
			free(copy);
			return DD_EIO;
		}
		*p = '/';
	}
	free(copy);
	return 0;
}

size_t dd_omitted_marker(char *out, size_t outlen, uint64_t omitted, uint64_t limit)
{
	return (size_t)snprintf(out, outlen, "[dagdoc: %llu bytes omitted; the log was longer than %llu bytes]\n",
	                        (unsigned long long)omitted, (unsigned long long)limit);
}

int dd_write_file_atomic(const char *path, const void *data, size_t len, unsigned flags, struct dd_error *err)
{
	char *tmp;
	FILE *f;
	int ok, e;

	if ((flags & DD_WRITE_MKDIR) && dd_mkdir_parents(path, err) < 0)
		return DD_EIO;
	tmp = dd_xasprintf("%s.%ld.tmp", path, (long)getpid());
	f = fopen(tmp, "wb");
	ok = f && fwrite(data, 1, len, f) == len;
	if (ok && (flags & DD_WRITE_PRIVATE) && fchmod(fileno(f), 0600) != 0)
		ok = 0;
	if (f && fclose(f) != 0)
		ok = 0;
	/* link(2) fails with EEXIST where rename(2) would replace */
	if (ok && ((flags & DD_WRITE_NEW) ? link(tmp, path) : rename(tmp, path)) == 0) {
		if (flags & DD_WRITE_NEW)
			unlink(tmp);
		free(tmp);
		return 0;
	}
	e = errno;
	unlink(tmp);
	free(tmp);
	if (e == EEXIST && (flags & DD_WRITE_NEW))
		return dd_error_set(err, DD_EEXIST, "%s already exists; it was left as it is", path);
	return dd_error_set(err, DD_EIO, "cannot write %s: %s", path, strerror(e));
}

/* ---- hashing and the cache directory ---------------------------------------- */

uint64_t dd_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

char *dd_cache_path(const char *name)
{
	const char *no = getenv("DAGDOC_NO_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (no && *no && strcmp(no, "0"))
		return NULL;
	if (xdg && *xdg == '/')
		return dd_xasprintf("%s/dagdoc/%s", xdg, name);
	if (home && *home == '/')
		return dd_xasprintf("%s/.cache/dagdoc/%s", home, name);
	return NULL;
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *dd_data_dir(const char *name, const char *env_var)
{
	const char *env = env_var ? getenv(env_var) : NULL;
	char exe[PATH_MAX];
	ssize_t n;
	char *cand;

	if (env && *env)
		return dd_xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		static const char *const rel[] = { "/", "/../", "/../share/dagdoc/" };
		char *slash;

		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			for (size_t i = 0; i < DD_ARRAY_SIZE(rel); i++) {
				cand = dd_xasprintf("%s%s%s", exe, rel[i], name);
				if (is_dir(cand)) {
					char *real = realpath(cand, NULL);   /* "build/../patterns" -> "patterns" in messages */

					if (real) {
						free(cand);
						return real;
					}
					return cand;
				}
				free(cand);
			}
		}
	}
	cand = dd_xasprintf("%s/%s", DD_DATADIR, name);
	if (is_dir(cand))
		return cand;
	free(cand);
	return NULL;
}

/* ---- UTF-8 ---------------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at p[0..n), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

size_t dd_utf8_fix(struct dd_buf *out, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, run = 0, bad = 0;

	dd_buf_grow(out, n);
	while (i < n) {
		size_t k = utf8_seq(s + i, n - i);

		if (k) {
			i += k;
			continue;
		}
		dd_buf_add(out, p + run, i - run);
		dd_buf_adds(out, "\xEF\xBF\xBD");
		bad++;
		i++;
		run = i;
	}
	dd_buf_add(out, p + run, n - run);
	return bad;
}

char *dd_utf8_excerpt(const char *s)
{
	struct dd_buf b = DD_BUF_INIT;

	if (!s)
		return NULL;
	if (dd_utf8_fix(&b, s, strlen(s))) {
		if (b.len && b.data[b.len - 1] != '\n')
			dd_buf_addch(&b, '\n');
		dd_buf_adds(&b, DD_UTF8_NOTE);
	}
	return dd_buf_detach(&b);
}

/* ---- statistics ----------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void dd_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

double dd_median_sort(double *v, size_t n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
