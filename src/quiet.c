/*
 * quiet.c - quiet failures in the logs of successful tries: counts that
 * fall off a cliff and inputs that lag (see include/dagdoc/quiet.h).  The
 * training metrics are quiet_train.c.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <math.h>

#include "dagdoc/logparse.h"
#include "dagdoc/quiet.h"
#include "dagdoc/redact.h"

#include "quiet_impl.h"

#define LOG_LINES_MAX 5000 /* lines of one log that are read */
#define SERIES_MAX    4096 /* templates one task tracks */
#define MSG_MAX       400  /* longer messages are not templates */
#define DAY_MS        86400000LL

const char *quiet_kind_name(enum quiet_kind k)
{
	switch (k) {
	case QUIET_VALUE: return "value";
	case QUIET_STALE_INPUT: return "stale_input";
	case QUIET_TRAIN_NAN: return "training_nan";
	case QUIET_TRAIN_DIVERGED: return "training_diverged";
	case QUIET_TRAIN_OVERFIT: return "training_overfit";
	case QUIET_TRAIN_WORSE: return "training_worse";
	}
	return "quiet";
}

/* ---- templates ------------------------------------------------------------------ */

/* Whether the number ending at msg[i] (exclusive) counts things: " 3120 orders". */
static int count_noun_follows(const char *msg, size_t len, size_t i)
{
	static const char *const time_units[] = {"seconds",      "secs",        "minutes", "mins",   "hours",
						 "hrs",          "days",        "weeks",   "millis", "milliseconds",
						 "microseconds", "nanoseconds", "ms",      "us",     "ns"};
	size_t w = 0;

	if (i >= len || msg[i] != ' ')
		return 0;
	i++;
	while (i + w < len && isalpha((unsigned char)msg[i + w]))
		w++;
	if (w < 3 || (msg[i + w - 1] != 's' && msg[i + w - 1] != 'S'))
		return 0;
	for (size_t k = 0; k < DD_ARRAY_SIZE(time_units); k++)
		if (strlen(time_units[k]) == w && !strncasecmp(msg + i, time_units[k], w))
			return 0;
	return 1;
}

int quiet_template(const char *msg, size_t len, struct dd_buf *shape, struct quiet_num *nums, size_t max)
{
	int letters = 0, words = 0, n = 0;

	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)msg[i];

		if (isdigit(ch) && (i == 0 || !isalnum((unsigned char)msg[i - 1]))) {
			char num[32];
			size_t k = 0;

			while (i < len && (isdigit((unsigned char)msg[i]) || msg[i] == ',' || msg[i] == '.') &&
			       k + 1 < sizeof(num)) {
				if (msg[i] != ',')
					num[k++] = msg[i];
				i++;
			}
			num[k] = '\0';
			if ((size_t)n < max) {
				nums[n].value = strtod(num, NULL);
				nums[n].count = count_noun_follows(msg, len, i);
			}
			n++;
			dd_buf_addch(shape, '#');
			letters = 0;
			continue;
		}
		letters = isalpha(ch) ? letters + 1 : 0;
		if (letters == 3)
			words++;
		dd_buf_addch(shape, (char)ch);
		i++;
	}
	return words ? n : -1;
}

/* ---- statistics ----------------------------------------------------------------- */

double quiet_median(const double *v, size_t n)
{
	double *c, m;

	if (!n)
		return NAN;
	c = dd_xmalloc(n * sizeof(*c));
	memcpy(c, v, n * sizeof(*c));
	m = dd_median_sort(c, n);
	free(c);
	return m;
}

/* How far x is from the baseline b[0..n): > 0 above, < 0 below, 0 not far. */
int quiet_far(double x, const double *b, size_t n, double min_ratio)
{
	double m = quiet_median(b, n), mad, scale, lo = INFINITY, hi = -INFINITY;
	double *dev;

	if (n < QUIET_MIN_POINTS || !isfinite(x))
		return 0;
	dev = dd_xmalloc(n * sizeof(*dev));
	for (size_t i = 0; i < n; i++) {
		dev[i] = fabs(b[i] - m);
		lo = fmin(lo, b[i]);
		hi = fmax(hi, b[i]);
	}
	mad = quiet_median(dev, n);
	free(dev);
	if (x >= lo && x <= hi)
		return 0; /* the history has been there (a Sunday's 0 rows, every Sunday) */
	if (x == 0 && lo > 0 && m >= 3)
		return -1; /* a zero where there never was one */
	scale = fmax(1.4826 * mad, QUIET_FLOOR_REL * fabs(m));
	if (scale <= 0)
		scale = 1e-9;
	if (fabs(x - m) <= QUIET_K * scale || fabs(x - m) < min_ratio * fabs(m))
		return 0;
	return x > m ? 1 : -1;
}

/* A lag far past the usual: at least a day more than the median and more than any before. */
int quiet_far_lag(double x, const double *b, size_t n, double min_ratio)
{
	double hi = -INFINITY;

	(void)min_ratio;
	if (n < QUIET_MIN_POINTS || !isfinite(x))
		return 0;
	for (size_t i = 0; i < n; i++)
		hi = fmax(hi, b[i]);
	return x >= quiet_median(b, n) + 1 && x > hi;
}

/* The onset of the newest streak of values far off (in one direction)
 * from the values before it: the first j from which every value is far
 * from the QUIET_BASELINE values before j; v[0..n) finite.  n when the
 * newest value is not far. */
size_t quiet_onset(const double *v, size_t n, double min_ratio, int (*far)(double, const double *, size_t, double))
{
	for (size_t j = QUIET_MIN_POINTS; j < n; j++) {
		size_t from = j > QUIET_BASELINE ? j - QUIET_BASELINE : 0;
		int dir = far(v[j], v + from, j - from, min_ratio), ok = dir != 0;

		for (size_t k = j + 1; k < n && ok; k++)
			ok = far(v[k], v + from, j - from, min_ratio) == dir;
		if (ok)
			return j;
	}
	return n;
}

/* ---- dates of inputs ------------------------------------------------------------ */

static int digits_at(const char *s, size_t len, size_t i, size_t n)
{
	if (i + n > len)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (!isdigit((unsigned char)s[i + k]))
			return 0;
	return 1;
}

static int key_before(const char *msg, size_t i, const char *key)
{
	size_t k = strlen(key);

	if (i < k || strncasecmp(msg + i - k, key, k))
		return 0;
	return i == k || (!isalnum((unsigned char)msg[i - k - 1]) && msg[i - k - 1] != '_');
}

static int token_has_slash(const char *msg, size_t len, size_t i)
{
	static const char stops[] = " \t'\"`,()[]{}<>";
	size_t a = i, b = i;

	while (a > 0 && !strchr(stops, msg[a - 1]))
		a--;
	while (b < len && !strchr(stops, msg[b]))
		b++;
	for (size_t k = a; k < b; k++)
		if (msg[k] == '/' && (k < i || k > i + 9 || msg[i + 4] != '/'))
			return 1;
	return msg[i + 4] == '/'; /* 2026/12/01 is a path's */
}

static int has_where(const char *msg, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++)
		if (!strncasecmp(msg + i, "where ", 6) && (i == 0 || !isalnum((unsigned char)msg[i - 1])))
			return 1;
	return 0;
}

int quiet_input_date(const char *msg, size_t len, int64_t *day)
{
	int where = -1;

	for (size_t i = 0; i + 10 <= len; i++) {
		char sep = msg[i + 4];
		int y, m, d, why;

		if ((i && isalnum((unsigned char)msg[i - 1])) || !digits_at(msg, len, i, 4) ||
		    (sep != '-' && sep != '/') || !digits_at(msg, len, i + 5, 2) || msg[i + 7] != sep ||
		    !digits_at(msg, len, i + 8, 2) || (i + 10 < len && isdigit((unsigned char)msg[i + 10])))
			continue;
		why = key_before(msg, i, "dt=") || key_before(msg, i, "ds=") || key_before(msg, i, "date=") ||
		      key_before(msg, i, "partition=") || key_before(msg, i, "day=") || token_has_slash(msg, len, i);
		if (!why && i && (msg[i - 1] == '\'' || msg[i - 1] == '"')) {
			if (where < 0)
				where = has_where(msg, len);
			why = where;
		}
		if (!why)
			continue;
		y = atoi(msg + i);
		m = (msg[i + 5] - '0') * 10 + msg[i + 6] - '0';
		d = (msg[i + 8] - '0') * 10 + msg[i + 9] - '0';
		if (y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
			continue;
		*day = dd_days_from_civil(y, m, d);
		return 1;
	}
	return 0;
}

/* ---- one task ------------------------------------------------------------------- */

struct series {
	char *key;
	char *what;           /* the message with the numbers as '#', redacted */
	enum quiet_kind kind; /* QUIET_VALUE or QUIET_STALE_INPUT */
	double *v;            /* per log; NAN: absent, or twice in the log */
	size_t cap;
	size_t last_log; /* log that set it last, +1 */
	char *last;      /* stale inputs: the line of the log that set it last, redacted */
	size_t present;
};

struct quiet_task {
	char *task_id;
	char **run_ids;
	int64_t *run_ms;
	size_t n_logs, cap_logs;
	struct series *s;
	size_t n_s, cap_s;
	size_t *hash; /* open addressing: index + 1 into s; 0 empty */
	size_t hash_cap;
	struct qt_train train; /* quiet_train.c */
	size_t lines;          /* of the current log */
};

struct quiet_task *quiet_task_new(const char *task_id)
{
	struct quiet_task *q = dd_xcalloc(1, sizeof(*q));

	q->task_id = dd_xstrdup(task_id);
	q->hash_cap = 256;
	q->hash = dd_xcalloc(q->hash_cap, sizeof(*q->hash));
	return q;
}

void quiet_task_free(struct quiet_task *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_logs; i++)
		free(q->run_ids[i]);
	free(q->run_ids);
	free(q->run_ms);
	for (size_t i = 0; i < q->n_s; i++) {
		free(q->s[i].key);
		free(q->s[i].what);
		free(q->s[i].last);
		free(q->s[i].v);
	}
	free(q->s);
	free(q->hash);
	qt_train_release(&q->train);
	free(q->task_id);
	free(q);
}

static uint64_t key_hash(const char *k)
{
	return dd_fnv1a(DD_FNV_INIT, k, strlen(k));
}

static void rehash(struct quiet_task *q)
{
	free(q->hash);
	q->hash_cap *= 2;
	q->hash = dd_xcalloc(q->hash_cap, sizeof(*q->hash));
	for (size_t i = 0; i < q->n_s; i++) {
		size_t h = key_hash(q->s[i].key) & (q->hash_cap - 1);

		while (q->hash[h])
			h = (h + 1) & (q->hash_cap - 1);
		q->hash[h] = i + 1;
	}
}

/* The series of key (made when new, unless there are too many). */
static struct series *series_for(struct quiet_task *q, const char *key, const char *msg, size_t len,
				 enum quiet_kind kind)
{
	size_t h = key_hash(key) & (q->hash_cap - 1);
	struct series *s;

	for (; q->hash[h]; h = (h + 1) & (q->hash_cap - 1))
		if (!strcmp(q->s[q->hash[h] - 1].key, key))
			return &q->s[q->hash[h] - 1];
	if (q->n_s >= SERIES_MAX)
		return NULL;
	DD_GROW(q->s, q->cap_s, q->n_s + 1);
	s = &q->s[q->n_s++];
	memset(s, 0, sizeof(*s));
	s->key = dd_xstrdup(key);
	s->kind = kind;
	{
		struct dd_buf shape = DD_BUF_INIT, red = DD_BUF_INIT;
		struct quiet_num dummy;

		quiet_template(msg, len, &shape, &dummy, 0);
		redact_append(&red, dd_buf_str(&shape), shape.len);
		s->what = dd_buf_detach(&red);
		dd_buf_release(&shape);
	}
	q->hash[h] = q->n_s;
	if (q->n_s * 2 > q->hash_cap)
		rehash(q);
	return s;
}

static void series_put(struct quiet_task *q, struct series *s, double value)
{
	size_t log = q->n_logs - 1;

	if (s->cap < q->n_logs) {
		size_t old = s->cap;

		DD_GROW(s->v, s->cap, q->n_logs);
		for (size_t i = old; i < s->cap; i++)
			s->v[i] = NAN;
	}
	if (s->last_log == log + 1) { /* twice in one log: not one value */
		if (!isnan(s->v[log]))
			s->present--;
		s->v[log] = NAN;
		return;
	}
	s->last_log = log + 1;
	s->v[log] = value;
	s->present++;
}

static int has_digit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)s[i]))
			return 1;
	return 0;
}

static int on_line(const struct dd_logline *l, void *ud)
{
	struct quiet_task *q = ud;
	struct dd_buf shape = DD_BUF_INIT;
	struct quiet_num nums[8];
	int n;
	int64_t day;

	if ((l->flags & DD_LINE_CONT) || ++q->lines > LOG_LINES_MAX)
		return 0;
	qt_train_line(&q->train, l->msg, l->msg_len);
	if (l->level >= 40 || l->msg_len > MSG_MAX || !has_digit(l->msg, l->msg_len))
		return 0;
	n = quiet_template(l->msg, l->msg_len, &shape, nums, DD_ARRAY_SIZE(nums));
	if (n <= 0 || (size_t)n > DD_ARRAY_SIZE(nums))
		goto out;
	for (int k = 0; k < n; k++) {
		struct series *s;
		char *key;

		if (!nums[k].count)
			continue;
		key = dd_xasprintf("v%d\x1f%s", k, dd_buf_str(&shape));
		s = series_for(q, key, l->msg, l->msg_len, QUIET_VALUE);
		if (s)
			series_put(q, s, nums[k].value);
		free(key);
	}
	if (quiet_input_date(l->msg, l->msg_len, &day)) {
		char *key = dd_xasprintf("d\x1f%s", dd_buf_str(&shape));
		struct series *s = series_for(q, key, l->msg, l->msg_len, QUIET_STALE_INPUT);
		int64_t run_day = q->run_ms[q->n_logs - 1] / DAY_MS;

		if (s) {
			struct dd_buf red = DD_BUF_INIT;

			series_put(q, s, (double)(run_day - day));
			redact_append(&red, l->msg, l->msg_len);
			free(s->last);
			s->last = dd_buf_detach(&red);
		}
		free(key);
	}
out:
	dd_buf_release(&shape);
	return 0;
}

void quiet_task_add_log(struct quiet_task *q, const char *run_id, int64_t logical_ms, const char *text, size_t len)
{
	struct dd_logreader *rd = logreader_new();
	struct dd_error e = DD_ERROR_INIT;
	size_t cap = q->cap_logs;

	DD_GROW(q->run_ids, q->cap_logs, q->n_logs + 1);
	if (cap != q->cap_logs)
		q->run_ms = dd_xrealloc(q->run_ms, q->cap_logs * sizeof(*q->run_ms));
	q->run_ids[q->n_logs] = dd_xstrdup(run_id);
	q->run_ms[q->n_logs] = logical_ms;
	q->n_logs++;
	q->lines = 0;
	qt_train_begin(&q->train);
	if (logreader_feed(rd, text, len, on_line, q, &e) == 0)
		logreader_finish(rd, on_line, q, &e);
	logreader_free(rd);
	qt_train_end(&q->train);
}

/* ---- findings ------------------------------------------------------------------- */

struct quiet_finding *quiet_add_finding(struct quiet_task *q, struct quiet_finding **v, size_t *n, size_t *cap,
					enum quiet_kind kind, const double *values, size_t onset)
{
	struct quiet_finding *f;

	DD_GROW(*v, *cap, *n + 1);
	f = &(*v)[(*n)++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->task_id = dd_xstrdup(q->task_id);
	f->n_values = q->n_logs;
	f->values = dd_xcalloc(q->n_logs, sizeof(*f->values));
	f->run_ids = dd_xcalloc(q->n_logs, sizeof(*f->run_ids));
	f->run_ms = dd_xcalloc(q->n_logs, sizeof(*f->run_ms));
	for (size_t i = 0; i < q->n_logs; i++) {
		f->values[i] = values[i];
		f->run_ids[i] = dd_xstrdup(q->run_ids[i]);
		f->run_ms[i] = q->run_ms[i];
	}
	f->onset = onset;
	f->now = q->n_logs ? values[q->n_logs - 1] : NAN;
	f->usual = NAN;
	return f;
}

/* Judges one tracked series: its finite values in order, the newest from the newest log. */
static void judge_series(struct quiet_task *q, const struct series *s, struct quiet_finding **v, size_t *n, size_t *cap)
{
	double *x = dd_xmalloc(q->n_logs * sizeof(*x));
	size_t *at = dd_xmalloc(q->n_logs * sizeof(*at));
	size_t m = 0, onset;
	int stale = s->kind == QUIET_STALE_INPUT;

	for (size_t i = 0; i < q->n_logs && i < s->cap; i++)
		if (!isnan(s->v[i])) {
			at[m] = i;
			x[m++] = s->v[i];
		}
	if (m <= QUIET_MIN_POINTS || at[m - 1] != q->n_logs - 1)
		goto out;
	onset = quiet_onset(x, m, 0.5, stale ? quiet_far_lag : quiet_far);
	if (onset < m) {
		size_t from = onset > QUIET_BASELINE ? onset - QUIET_BASELINE : 0;
		double usual = quiet_median(x + from, onset - from), now = x[m - 1];
		struct quiet_finding *f = quiet_add_finding(q, v, n, cap, s->kind, s->v, at[onset]);
		struct dd_buf d = DD_BUF_INIT;

		f->what = dd_xstrdup(s->what);
		f->usual = usual;
		if (stale) {
			dd_buf_addf(&d,
				    "\"%s\" reads an input %.0f day%s behind its run's date, where it usually lags %g "
				    "(since run %s)",
				    s->last ? s->last : s->what, now, now == 1 ? "" : "s", usual,
				    q->run_ids[at[onset]]);
			f->severity = fmin(1.0, 0.5 + (now - usual) / 6);
		} else {
			char a[40], b[40];

			quiet_format_value(now, a, sizeof(a));
			quiet_format_value(usual, b, sizeof(b));
			dd_buf_addf(&d,
				    "\"%s\" logged %s, where it usually logs %s (median of the %zu runs before; "
				    "since run %s)",
				    s->what, a, b, onset - from, q->run_ids[at[onset]]);
			f->severity = now == 0 ? 1.0 : fmin(1.0, fabs(now - usual) / fmax(fabs(usual), 1e-9));
		}
		f->detail = dd_buf_detach(&d);
	}
out:
	free(x);
	free(at);
}

void quiet_task_finish(struct quiet_task *q, struct quiet_finding **v, size_t *n, size_t *cap)
{
	size_t need = (size_t)ceil(QUIET_MIN_SHARE * (double)q->n_logs);

	for (size_t i = 0; i < q->n_s; i++)
		if (q->s[i].present > QUIET_MIN_POINTS && q->s[i].present >= need)
			judge_series(q, &q->s[i], v, n, cap);
	qt_train_judge(q, &q->train, v, n, cap);
}

void quiet_findings_free(struct quiet_finding *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].task_id);
		free(v[i].what);
		free(v[i].detail);
		free(v[i].values);
		for (size_t k = 0; k < v[i].n_values; k++)
			free(v[i].run_ids[k]);
		free(v[i].run_ids);
		free(v[i].run_ms);
		free(v[i].upstream_dag);
	}
	free(v);
}

size_t quiet_task_logs(const struct quiet_task *q)
{
	return q->n_logs;
}

const char *quiet_task_run(const struct quiet_task *q, size_t i)
{
	return q->run_ids[i];
}

/* ---- the rest --------------------------------------------------------------------- */

char *quiet_sensor_upstream(const char *text, size_t len)
{
	static const char key[] = " in dag ";
	const char *end = text + len;

	for (const char *p = text; p && p < end; p = memchr(p, '\n', (size_t)(end - p)), p = p ? p + 1 : NULL) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *poke, *dag;
		size_t n = 0;

		if (!eol)
			eol = end;
		poke = memmem(p, (size_t)(eol - p), "Poking for ", 11);
		if (!poke)
			continue;
		dag = memmem(poke, (size_t)(eol - poke), key, sizeof(key) - 1);
		if (!dag)
			continue;
		dag += sizeof(key) - 1;
		while (dag + n < eol &&
		       (isalnum((unsigned char)dag[n]) || dag[n] == '_' || dag[n] == '-' || dag[n] == '.'))
			n++;
		if (n)
			return dd_xstrndup(dag, n);
	}
	return NULL;
}

void quiet_format_value(double v, char *out, size_t n)
{
	char digits[32];
	size_t len, k = 0;

	if (!isfinite(v) || fabs(v) >= 1e15 || v != floor(v)) {
		snprintf(out, n, "%.4g", v);
		return;
	}
	len = (size_t)snprintf(digits, sizeof(digits), "%.0f", fabs(v));
	if (v < 0 && k + 1 < n)
		out[k++] = '-';
	for (size_t i = 0; i < len && k + 2 < n; i++) {
		out[k++] = digits[i];
		if ((len - i - 1) % 3 == 0 && i + 1 < len)
			out[k++] = ',';
	}
	out[k] = '\0';
}

void quiet_scale(const double *v, size_t n, double *out)
{
	double lo = INFINITY, hi = -INFINITY;

	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i])) {
			lo = fmin(lo, v[i]);
			hi = fmax(hi, v[i]);
		}
	for (size_t i = 0; i < n; i++)
		out[i] = !isfinite(v[i]) ? NAN : hi > lo ? (v[i] - lo) / (hi - lo) : 0.5;
}
