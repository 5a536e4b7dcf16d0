/*
 * quiet_train.c - training that went wrong and still succeeded: the losses
 * Keras, PyTorch Lightning, the Hugging Face Trainer and plain scripts
 * print, per epoch (see include/dagdoc/quiet.h).
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <math.h>

#include "quiet_impl.h"

#define OVERFIT_RISE   1.15 /* the last validation loss over its lowest */
#define DIVERGE_FACTOR 2.0  /* the last training loss over its lowest */
#define WORSE_RATIO    0.5  /* a final loss at least 1.5 x the usual */

static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '/' || c == '.';
}

/* The number at s (strtod's forms: 0.41, 4.5e-05, nan, inf, -inf), ending at a non-name character. */
static int number_at(const char *s, const char *end, double *out)
{
	char buf[48];
	size_t n = 0;
	char *stop;

	while (s + n < end && n + 1 < sizeof(buf) && (name_char(s[n]) || s[n] == '-' || s[n] == '+'))
		n++;
	if (!n)
		return 0;
	while (n > 1 && s[n - 1] == '.') /* a sentence's full stop */
		n--;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, &stop);
	return stop != buf && (*stop == '\0' || (*stop == '.' && stop[1] == '\0'));
}

/* "Epoch 3/10", "Epoch 3: 100%|...", "epoch 3 loss=nan", "'epoch': 1.0" (word "epoch"), or "=> STEP 750",
 * "iteration=756", "iter: 20" (word "step"): the epoch or step a line names. */
static int marker_of(const char *msg, size_t len, const char *word, double *out)
{
	const char *end = msg + len;
	size_t w = strlen(word);

	for (size_t i = 0; i + w < len; i++) {
		const char *p;

		if (strncasecmp(msg + i, word, w) || (i && (isalnum((unsigned char)msg[i - 1]) || msg[i - 1] == '_')))
			continue;
		p = msg + i + w;
		while (p < end && strchr(" :='\"", *p))
			p++;
		if (p == msg + i + w || p >= end || !isdigit((unsigned char)*p))
			continue;
		if (number_at(p, end, out) || (*out = strtod(p, NULL), 1))
			return 1;
	}
	return 0;
}

static struct qt_point *point_for(struct qt_train *t, double key)
{
	struct qt_point *p;

	if (t->n_p && t->p[t->n_p - 1].key == key)
		return &t->p[t->n_p - 1];
	DD_GROW(t->p, t->cap_p, t->n_p + 1);
	p = &t->p[t->n_p++];
	p->key = key;
	p->train = p->val = NAN;
	return p;
}

void qt_train_begin(struct qt_train *t)
{
	t->n_p = 0;
	t->epoch = NAN;
	t->unit = "step"; /* a loss line's order, until a line names an epoch or a step */
	t->seen_epoch = 0;
	t->nan = 0;
	t->train_name[0] = t->val_name[0] = t->nan_name[0] = '\0';
}

void qt_train_line(struct qt_train *t, const char *msg, size_t len)
{
	const char *end = msg + len;
	double epoch, key = NAN;
	struct qt_point *pt = NULL;
	int summary = memmem(msg, len, "train_runtime", 13) != NULL;

	if (len > 2000 || (!memmem(msg, len, "loss", 4) && !memmem(msg, len, "poch", 4) &&
			   !memmem(msg, len, "tep", 3) && !memmem(msg, len, "iter", 4)))
		return; /* no loss, epoch or step: most lines */
	if (marker_of(msg, len, "epoch", &epoch)) {
		t->epoch = epoch;
		t->unit = "epoch";
		t->seen_epoch = 1;
	} else if (!t->seen_epoch && (marker_of(msg, len, "step", &epoch) || marker_of(msg, len, "iteration", &epoch) ||
				      marker_of(msg, len, "iter", &epoch))) {
		t->epoch = epoch;
		t->unit = "step";
	}
	for (const char *p = msg; p < end; p++) {
		const char *name = p, *q;
		char lower[32];
		size_t n = 0;
		double v;
		int val;

		if (!(isalpha((unsigned char)*p) || *p == '_') || (p > msg && name_char(p[-1])))
			continue;
		while (p < end && name_char(*p))
			p++;
		n = (size_t)(p - name);
		q = p;
		if (q < end && (*q == '\'' || *q == '"'))
			q++;
		while (q < end && *q == ' ')
			q++;
		if (q >= end || (*q != ':' && *q != '='))
			continue;
		q++;
		while (q < end && *q == ' ')
			q++;
		if (end - q > 7 && !strncmp(q, "tensor(", 7)) /* PyTorch: 'loss_cls': tensor(nan, device=...) */
			q += 7;
		if (n >= sizeof(lower) || !number_at(q, end, &v))
			continue;
		for (size_t k = 0; k < n; k++)
			lower[k] = (char)tolower((unsigned char)name[k]);
		lower[n] = '\0';
		if (!strstr(lower, "loss") || dd_ends_with(lower, "_step") || dd_starts_with(lower, "test") ||
		    (summary && !strcmp(lower, "train_loss")))
			continue;
		val = dd_starts_with(lower, "val") || dd_starts_with(lower, "eval") || strstr(lower, "_val") != NULL;
		if (!pt) {
			key = isnan(t->epoch) ? (double)t->n_p : ceil(t->epoch);
			pt = point_for(t, key);
		}
		if (val) {
			pt->val = v;
			snprintf(t->val_name, sizeof(t->val_name), "%.*s", (int)n, name);
		} else {
			pt->train = v;
			snprintf(t->train_name, sizeof(t->train_name), "%.*s", (int)n, name);
		}
		if (!isfinite(v) && !t->nan) {
			t->nan = 1;
			t->nan_key = key;
			snprintf(t->nan_name, sizeof(t->nan_name), "%.*s", (int)n, name);
		}
	}
}

/* The last finite value of a point's field, and the lowest with its key. */
static size_t finite_of(const struct qt_train *t, int val, double *v, double *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_p; i++) {
		double x = val ? t->p[i].val : t->p[i].train;

		if (isfinite(x)) {
			v[n] = x;
			keys[n++] = t->p[i].key;
		}
	}
	return n;
}

static size_t argmin(const double *v, size_t n)
{
	size_t m = 0;

	for (size_t i = 1; i < n; i++)
		if (v[i] < v[m])
			m = i;
	return m;
}

void qt_train_end(struct qt_train *t)
{
	struct qt_run *r;
	double *tr = dd_xmalloc((t->n_p + 1) * sizeof(double)), *tk = dd_xmalloc((t->n_p + 1) * sizeof(double));
	double *va = dd_xmalloc((t->n_p + 1) * sizeof(double)), *vk = dd_xmalloc((t->n_p + 1) * sizeof(double));
	size_t nt = finite_of(t, 0, tr, tk), nv = finite_of(t, 1, va, vk);

	DD_GROW(t->runs, t->cap_runs, t->n_runs + 1);
	r = &t->runs[t->n_runs++];
	memset(r, 0, sizeof(*r));
	r->final = NAN;
	r->has = t->n_p > 0;
	if (!r->has)
		goto out;
	if (!t->final_name[0])
		snprintf(t->final_name, sizeof(t->final_name), "%s", t->val_name[0] ? t->val_name : t->train_name);
	if (t->val_name[0] && !strcmp(t->final_name, t->val_name))
		r->final = nv ? va[nv - 1] : NAN;
	else if (!strcmp(t->final_name, t->train_name))
		r->final = nt ? tr[nt - 1] : NAN;
	if (t->nan) {
		r->nan = 1;
		r->final = NAN;
		r->why = dd_xasprintf("%s became nan at %s %g", t->nan_name, t->unit, t->nan_key);
		goto out;
	}
	if (nt >= 3) {
		size_t lo = argmin(tr, nt);

		if (tr[nt - 1] > DIVERGE_FACTOR * tr[lo] && tr[nt - 1] > tr[0]) {
			r->diverged = 1;
			r->why = dd_xasprintf("%s diverged: from %g (%s %g) up to %g (%s %g)", t->train_name, tr[lo],
					      t->unit, tk[lo], tr[nt - 1], t->unit, tk[nt - 1]);
			goto out;
		}
	}
	/* over-fitting: epochs with both losses */
	{
		size_t n = 0, lo;
		double *a = tr, *b = va;

		for (size_t i = 0; i < t->n_p; i++)
			if (isfinite(t->p[i].train) && isfinite(t->p[i].val)) {
				a[n] = t->p[i].train;
				b[n] = t->p[i].val;
				tk[n++] = t->p[i].key;
			}
		if (n < 4)
			goto out;
		lo = argmin(b, n);
		if (lo + 3 <= n && b[n - 1] >= OVERFIT_RISE * b[lo] && b[n - 1] > b[n - 2] && b[n - 2] > b[n - 3] &&
		    a[n - 1] < a[lo] && a[n - 1] <= a[n - 2]) {
			r->overfit = 1;
			r->why = dd_xasprintf("%s rose from %g (%s %g) to %g (%s %g) while %s fell from %g to %g",
					      t->val_name, b[lo], t->unit, tk[lo], b[n - 1], t->unit, tk[n - 1],
					      t->train_name, a[lo], a[n - 1]);
		}
	}
out:
	free(tr);
	free(tk);
	free(va);
	free(vk);
}

static int far_up(double x, const double *b, size_t n, double min_ratio)
{
	return quiet_far(x, b, n, min_ratio) > 0;
}

static size_t streak(const struct qt_train *t, size_t n, int which)
{
	size_t k = n;

	while (k > 0) {
		const struct qt_run *r = &t->runs[k - 1];

		if (!(which == 0 ? r->nan : which == 1 ? r->diverged : r->overfit))
			break;
		k--;
	}
	return k;
}

void qt_train_judge(struct quiet_task *q, struct qt_train *t, struct quiet_finding **v, size_t *n, size_t *cap)
{
	size_t runs = quiet_task_logs(q), m = 0;
	const struct qt_run *last;
	double *finals, *x;
	size_t *at;
	struct quiet_finding *f = NULL;

	if (!runs || t->n_runs != runs || !t->runs[runs - 1].has)
		return;
	last = &t->runs[runs - 1];
	finals = dd_xmalloc(runs * sizeof(*finals));
	x = dd_xmalloc(runs * sizeof(*x));
	at = dd_xmalloc(runs * sizeof(*at));
	for (size_t i = 0; i < runs; i++) {
		finals[i] = t->runs[i].final;
		if (isfinite(finals[i])) {
			at[m] = i;
			x[m++] = finals[i];
		}
	}
	if (last->nan || last->diverged || last->overfit) {
		int which = last->nan ? 0 : last->diverged ? 1 : 2;
		size_t onset = streak(t, runs, which);

		f = quiet_add_finding(q, v, n, cap,
				      which == 0   ? QUIET_TRAIN_NAN
				      : which == 1 ? QUIET_TRAIN_DIVERGED
						   : QUIET_TRAIN_OVERFIT,
				      finals, onset);
		f->severity = which == 0 ? 1.0 : which == 1 ? 0.8 : 0.6;
		f->detail = onset + 1 < runs
				    ? dd_xasprintf("%s (in each run since %s)", last->why, quiet_task_run(q, onset))
				    : dd_xstrdup(last->why);
		{
			size_t k = 0;

			for (size_t i = 0; i < m && at[i] < onset; i++)
				k++;
			if (k)
				f->usual = quiet_median(x, k);
		}
	} else if (m > QUIET_MIN_POINTS && at[m - 1] == runs - 1) {
		size_t onset = quiet_onset(x, m, WORSE_RATIO, far_up);

		if (onset < m) {
			size_t from = onset > QUIET_BASELINE ? onset - QUIET_BASELINE : 0;

			f = quiet_add_finding(q, v, n, cap, QUIET_TRAIN_WORSE, finals, at[onset]);
			f->usual = quiet_median(x + from, onset - from);
			f->severity = fmin(1.0, 0.4 + (x[m - 1] / fmax(f->usual, 1e-9) - 1) / 4);
			f->detail = dd_xasprintf(
				"the final %s is %g, where the runs before ended at %g (median of %zu; "
				"since run %s)",
				t->final_name, x[m - 1], f->usual, onset - from, quiet_task_run(q, at[onset]));
		}
	}
	if (f)
		f->what = dd_xstrdup(last->nan ? t->nan_name : t->final_name);
	free(finals);
	free(x);
	free(at);
}

void qt_train_release(struct qt_train *t)
{
	for (size_t i = 0; i < t->n_runs; i++)
		free(t->runs[i].why);
	free(t->runs);
	free(t->p);
	memset(t, 0, sizeof(*t));
}
