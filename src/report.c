/*
 * report.c - the nightly report's model: the DAGs and their marks, the
 * flaky tasks, the fleet rows, new vs recurring against the store.  The
 * renderers are report_text.c (text, Markdown), report_json.c,
 * report_html.c and report_webhook.c; they read only struct report.
 */
#include "dagdoc/util.h"

#include "dagdoc/connector.h"
#include "dagdoc/report.h"

#define DAY_MS (86400LL * 1000)

/* ---- model ------------------------------------------------------------------ */

const char *report_status_name(enum report_status s)
{
	switch (s) {
	case REPORT_FAILING: return "failing";
	case REPORT_RECOVERED: return "recovered";
	default: return "healthy";
	}
}

void report_init(struct report *r, int64_t made_ms, int64_t since_s, const char *since_label)
{
	memset(r, 0, sizeof(*r));
	r->made_ms = made_ms;
	r->from_ms = made_ms - since_s * 1000;
	r->since = dd_xstrdup(since_label);
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->n_sources; i++) {
		free(r->sources[i].name);
		free(r->sources[i].kind);
		free(r->sources[i].describe);
		free(r->sources[i].error);
	}
	for (size_t i = 0; i < r->n_dags; i++) {
		struct report_dag *d = &r->dags[i];

		free(d->source);
		free(d->dag_id);
		triage_release(&d->triage);
		free(d->marks);
	}
	for (size_t i = 0; i < r->n_flaky; i++)
		free(r->flaky[i].task_id);
	for (size_t i = 0; i < r->n_fleet; i++)
		dd_strv_release(&r->fleet[i].dags);
	free(r->fleet);
	free(r->sources);
	free(r->dags);
	free(r->flaky);
	free(r->since);
	dd_strv_release(&r->notes);
	for (size_t i = 0; i < r->n_fixed; i++)
		free(r->fixed[i].fingerprint);
	free(r->fixed);
	memset(r, 0, sizeof(*r));
}

void report_add_source(struct report *r, const char *name, const char *kind,
                       const char *describe, const char *error, int synced)
{
	struct report_source *s;

	r->sources = dd_xrealloc(r->sources, (r->n_sources + 1) * sizeof(*r->sources));
	s = &r->sources[r->n_sources++];
	s->name = dd_xstrdup(name);
	s->kind = dd_xstrdup(kind);
	s->describe = dd_xstrdup(describe);
	s->error = dd_xstrdup(error);
	s->synced = synced;
}

int64_t report_run_time(const struct an_run *run)
{
	int64_t t = run->logical_ms;

	if (run->start_ms > t)
		t = run->start_ms;
	if (run->end_ms > t)
		t = run->end_ms;
	return t;
}

static const struct an_group *group_of(const struct an_result *an, const char *fingerprint)
{
	for (size_t i = 0; fingerprint && i < an->n_groups; i++)
		if (!strcmp(an->groups[i].fingerprint, fingerprint))
			return &an->groups[i];
	return NULL;
}

static const struct an_run *run_of(const struct an_result *an, const char *run_id)
{
	for (size_t i = 0; run_id && i < an->n_runs; i++)
		if (!strcmp(an->runs[i].run_id, run_id))
			return &an->runs[i];
	return NULL;
}

void report_add_dag(struct report *r, const char *source, struct triage_result *t)
{
	struct report_dag *d;
	const struct an_result *an;
	int any_in_period = 0;

	r->dags = dd_xrealloc(r->dags, (r->n_dags + 1) * sizeof(*r->dags));
	d = &r->dags[r->n_dags];
	memset(d, 0, sizeof(*d));
	d->triage = *t;
	memset(t, 0, sizeof(*t));
	an = &d->triage.an;
	d->source = dd_xstrdup(source ? source : an->source);
	d->dag_id = dd_xstrdup(an->dag_id);
	for (size_t i = 0; i < an->n_runs; i++)
		if (report_run_time(&an->runs[i]) >= r->from_ms) {
			d->runs_in_period++;
			if (dd_state_is_failure(an->runs[i].state))
				d->failed_in_period++;
		}
	d->marks = dd_xcalloc(d->triage.rk.n_causes + 1, sizeof(*d->marks));
	for (size_t i = 0; i < d->triage.rk.n_causes; i++) {
		const struct rk_cause *c = &d->triage.rk.causes[i];
		const struct an_group *g = group_of(an, c->fingerprint);
		const struct an_run *last = g ? run_of(an, g->last_run) : NULL;

		d->marks[i].in_report = c->still_failing || (last && report_run_time(last) >= r->from_ms);
		any_in_period |= d->marks[i].in_report;
		for (size_t k = 0; k < i; k++)
			if (c->fingerprint && d->triage.rk.causes[k].fingerprint &&
			    !strcmp(c->fingerprint, d->triage.rk.causes[k].fingerprint))
				d->marks[i].dup = 1;
	}
	if (d->triage.failing)
		d->status = REPORT_FAILING;
	else if (d->failed_in_period || any_in_period)
		d->status = REPORT_RECOVERED;
	else
		d->status = REPORT_HEALTHY;
	r->n_dags++;
}

static int dag_cmp(const void *a, const void *b)
{
	const struct report_dag *x = a, *y = b;
	int c;

	if (x->status != y->status)
		return (int)y->status - (int)x->status;
	c = strcmp(x->source ? x->source : "", y->source ? y->source : "");
	return c ? c : strcmp(x->dag_id ? x->dag_id : "", y->dag_id ? y->dag_id : "");
}

static int flaky_cmp(const void *a, const void *b)
{
	const struct report_flaky *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return strcmp(x->task_id, y->task_id);
}

static char *scope_of(const struct report_dag *d)
{
	return dd_xasprintf("%s/%s", d->source ? d->source : "", d->dag_id);
}

/* Causes in the report grouped by kind: most DAGs first, then best confidence. */
static void collect_fleet(struct report *r)
{
	struct report_fleet_row *rows = dd_xcalloc(RK__COUNT + 1, sizeof(*rows));
	size_t n = 0;

	for (size_t i = 0; i < r->n_dags; i++) {
		const struct report_dag *d = &r->dags[i];

		for (size_t k = 0; k < d->triage.rk.n_causes; k++) {
			const struct rk_cause *c = &d->triage.rk.causes[k];
			size_t j;

			if (!d->marks[k].in_report)
				continue;
			for (j = 0; j < n && rows[j].kind != c->kind; j++)
				;
			if (j == n) {
				memset(&rows[n], 0, sizeof(rows[n]));
				rows[n++].kind = c->kind;
			}
			if (!dd_strv_contains(&rows[j].dags, d->dag_id)) {
				dd_strv_push(&rows[j].dags, d->dag_id);
				rows[j].n_dags++;
			}
			if (c->confidence > rows[j].best)
				rows[j].best = c->confidence;
		}
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			struct report_fleet_row *a = &rows[j - 1], *b = &rows[j];
			struct report_fleet_row tmp;

			if (a->n_dags > b->n_dags || (a->n_dags == b->n_dags && a->best >= b->best))
				break;
			tmp = *a;
			*a = *b;
			*b = tmp;
		}
	r->fleet = rows;
	r->n_fleet = n;
}

int64_t report_date_start(int64_t ms)
{
	return ms - ((ms % DAY_MS) + DAY_MS) % DAY_MS;
}

/* Does a cause of d still fail with fingerprint fp? */
static int still_failing_with(const struct report_dag *d, const char *fp)
{
	for (size_t k = 0; k < d->triage.rk.n_causes; k++) {
		const struct rk_cause *c = &d->triage.rk.causes[k];

		if (c->still_failing && c->fingerprint && !strcmp(c->fingerprint, fp))
			return 1;
	}
	return 0;
}

/* The failures of the previous report date that no cause still fails with. */
static int collect_fixed(struct report *r, struct dd_store *store, int64_t before_ms, struct dd_error *err)
{
	for (size_t i = 0; i < r->n_dags; i++) {
		struct dd_strv prev = DD_STRV_INIT;
		char *scope = scope_of(&r->dags[i]);
		int rc = store_report_previous(store, scope, before_ms, &prev, err);

		free(scope);
		for (size_t k = 0; rc == 0 && k < prev.n; k++) {
			if (still_failing_with(&r->dags[i], prev.v[k]))
				continue;
			r->fixed = dd_xrealloc(r->fixed, (r->n_fixed + 1) * sizeof(*r->fixed));
			r->fixed[r->n_fixed].dag = i;
			r->fixed[r->n_fixed++].fingerprint = dd_xstrdup(prev.v[k]);
		}
		dd_strv_release(&prev);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int report_finish(struct report *r, struct dd_store *store, int record, struct dd_error *err)
{
	/* earlier reports are those of earlier dates (never 0: "every report") */
	int64_t before_ms = report_date_start(r->made_ms) ? report_date_start(r->made_ms) : 1;
	int rc;

	if (r->n_dags > 1)
		qsort(r->dags, r->n_dags, sizeof(*r->dags), dag_cmp);
	for (size_t i = 0; i < r->n_dags; i++) {
		const struct an_result *an = &r->dags[i].triage.an;

		for (size_t t = 0; t < an->n_tasks; t++) {
			const struct an_task *at = &an->tasks[t];
			struct report_flaky *f;

			if (at->intermittent < REPORT_FLAKY_MIN)
				continue;
			r->flaky = dd_xrealloc(r->flaky, (r->n_flaky + 1) * sizeof(*r->flaky));
			f = &r->flaky[r->n_flaky++];
			f->dag = i;
			f->task_id = dd_xstrdup(at->task_id);
			f->score = at->intermittent;
			f->retry_recovered = at->retry_recovered;
			f->failed = at->failed;
			f->runs = at->runs;
		}
	}
	if (r->n_flaky > 1)
		qsort(r->flaky, r->n_flaky, sizeof(*r->flaky), flaky_cmp);
	collect_fleet(r);
	if (!store)
		return 0;
	if ((rc = collect_fixed(r, store, before_ms, err)) < 0)
		return rc;
	/* Look every cause up before recording any, so two DAGs (or two causes)
	 * sharing a scope and fingerprint do not see each other. */
	for (size_t i = 0; i < r->n_dags; i++) {
		struct report_dag *d = &r->dags[i];
		char *scope = scope_of(d);

		for (size_t k = 0; k < d->triage.rk.n_causes; k++) {
			struct report_cause_mark *m = &d->marks[k];

			if (!m->in_report)
				continue;
			rc = store_report_seen(store, scope, d->triage.rk.causes[k].fingerprint, before_ms,
			                       &m->seen_before, &m->first_seen_ms, err);
			if (rc < 0) {
				free(scope);
				return rc;
			}
			m->is_new = m->seen_before == 0;
		}
		free(scope);
	}
	if (!record)
		return 0;
	for (size_t i = 0; i < r->n_dags; i++) {
		struct report_dag *d = &r->dags[i];
		char *scope = scope_of(d);

		for (size_t k = 0; k < d->triage.rk.n_causes; k++) {
			if (!d->marks[k].in_report || d->marks[k].dup)
				continue;
			rc = store_report_put(store, r->made_ms, scope, d->triage.rk.causes[k].fingerprint, err);
			if (rc < 0) {
				free(scope);
				return rc;
			}
		}
		free(scope);
	}
	return 0;
}

size_t report_count(const struct report *r, enum report_status s)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_dags; i++)
		n += r->dags[i].status == s;
	return n;
}

size_t report_count_degraded(const struct report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_dags; i++)
		n += r->dags[i].triage.degraded;
	return n;
}

size_t report_count_new(const struct report *r, size_t *recurring)
{
	size_t n = 0, old = 0;

	for (size_t i = 0; i < r->n_dags; i++)
		for (size_t k = 0; k < r->dags[i].triage.rk.n_causes; k++) {
			const struct report_cause_mark *m = &r->dags[i].marks[k];

			if (!m->in_report || m->dup)
				continue;
			if (m->is_new)
				n++;
			else
				old++;
		}
	if (recurring)
		*recurring = old;
	return n;
}

size_t report_sources_failed(const struct report *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_sources; i++)
		n += r->sources[i].error != NULL;
	return n;
}

const struct rk_cause *report_dag_top(const struct report_dag *d, size_t *k_out)
{
	for (size_t k = 0; k < d->triage.rk.n_causes; k++)
		if (d->marks[k].in_report) {
			if (k_out)
				*k_out = k;
			return &d->triage.rk.causes[k];
		}
	return NULL;
}

int report_not_running(const struct report_dag *d, char *out, size_t len)
{
	char when[32], every[24];

	if (!d->triage.an.not_running)
		return 0;
	triage_format_minute(d->triage.an.last_scheduled_ms, when, sizeof(when));
	dd_format_duration((double)d->triage.an.cadence_ms / 1000.0, every, sizeof(every));
	snprintf(out, len, "not running: no scheduled run since %s (they came every %s)", when, every);
	return 1;
}

char report_cell_letter(const struct an_cell *c)
{
	switch (c->state) {
	case DD_STATE__COUNT: return ' ';
	case DD_STATE_SUCCESS: return c->failed_tries ? 'r' : '.';
	case DD_STATE_UPSTREAM_FAILED: return 'u';
	case DD_STATE_SKIPPED: return 's';
	default:
		if (dd_state_is_failure(c->state))
			return 'X';
		if (!dd_state_is_terminal(c->state))
			return '~';
		return '-';
	}
}

const char *report_cell_state(const struct an_cell *c)
{
	return c->state == DD_STATE__COUNT ? "none" : dd_state_name(c->state);
}
