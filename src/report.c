/*
 * report.c - the nightly report: model, grid, history marks and the text,
 * Markdown, JSON, HTML and webhook renderers.  See report.h.
 */
#include "dagdoc/util.h"

#include <cJSON.h>

#include "dagdoc/jsonout.h"
#include "dagdoc/connector.h"
#include "dagdoc/report.h"

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
	free(r->sources);
	free(r->dags);
	free(r->flaky);
	free(r->since);
	dd_strv_release(&r->notes);
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

int report_finish(struct report *r, struct dd_store *store, int record, struct dd_error *err)
{
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
	if (!store)
		return 0;
	/* Look every cause up before recording any, so two DAGs (or two causes)
	 * sharing a scope and fingerprint do not see each other. */
	for (size_t i = 0; i < r->n_dags; i++) {
		struct report_dag *d = &r->dags[i];
		char *scope = scope_of(d);

		for (size_t k = 0; k < d->triage.rk.n_causes; k++) {
			struct report_cause_mark *m = &d->marks[k];
			int rc;

			if (!m->in_report)
				continue;
			rc = store_report_seen(store, scope, d->triage.rk.causes[k].fingerprint, r->made_ms,
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
			int rc;

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

/* ---- shared helpers for the renderers ------------------------------------------ */

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

struct fleet_row {
	enum rk_kind kind;
	size_t n_dags;
	double best;
	struct dd_strv dags;
};

/* Causes in the report grouped by kind: most DAGs first, then best confidence. */
static size_t fleet_causes(const struct report *r, struct fleet_row *rows)
{
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
			struct fleet_row *a = &rows[j - 1], *b = &rows[j];
			struct fleet_row tmp;

			if (a->n_dags > b->n_dags || (a->n_dags == b->n_dags && a->best >= b->best))
				break;
			tmp = *a;
			*a = *b;
			*b = tmp;
		}
	return n;
}

static void fleet_release(struct fleet_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dd_strv_release(&rows[i].dags);
}

static void minute(int64_t ms, char *out, size_t len)
{
	triage_format_minute(ms, out, len);
}

static const char *source_label(const struct report_source *s)
{
	return s->describe ? s->describe : s->kind;
}

/* ---- text ------------------------------------------------------------------------ */

#define C(st, code) ((st)->color ? (code) : "")
#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

static void grid_text(const struct an_grid *g, FILE *out, const char *indent)
{
	char a[32], b[32];
	int w = 4;

	if (!g->n_runs || !g->n_tasks)
		return;
	for (size_t t = 0; t < g->n_tasks; t++)
		if ((int)strlen(g->task_ids[t]) > w)
			w = (int)strlen(g->task_ids[t]);
	if (w > 40)
		w = 40;
	minute(g->run_ms[0], a, sizeof(a));
	minute(g->run_ms[g->n_runs - 1], b, sizeof(b));
	fprintf(out, "%sruns %s .. %s, oldest first\n", indent, a, b);
	fprintf(out, "%s%-*s ", indent, w, "run");
	for (size_t r = 0; r < g->n_runs; r++)
		fputc(dd_state_is_failure(g->run_states[r]) ? 'X' : g->run_states[r] == DD_STATE_SUCCESS ? '.' : '~', out);
	fputc('\n', out);
	for (size_t t = 0; t < g->n_tasks; t++) {
		fprintf(out, "%s%-*.*s ", indent, w, w, g->task_ids[t]);
		for (size_t r = 0; r < g->n_runs; r++)
			fputc(report_cell_letter(an_grid_cell(g, t, r)), out);
		fputc('\n', out);
	}
	fprintf(out, "%s(. success  r passed on retry  X failed  u upstream failed  s skipped  ~ running)\n", indent);
}

static const struct rk_cause *top_in_report(const struct report_dag *d, size_t *k_out)
{
	for (size_t k = 0; k < d->triage.rk.n_causes; k++)
		if (d->marks[k].in_report) {
			if (k_out)
				*k_out = k;
			return &d->triage.rk.causes[k];
		}
	return NULL;
}

static void history_line(const struct report_cause_mark *m, char *out, size_t len)
{
	char when[32];

	if (m->is_new) {
		snprintf(out, len, "new");
		return;
	}
	minute(m->first_seen_ms, when, sizeof(when));
	snprintf(out, len, "recurring: in %lld earlier report%s since %s", (long long)m->seen_before,
	         m->seen_before == 1 ? "" : "s", when);
}

void report_render_text(const struct report *r, const struct report_style *st, FILE *out)
{
	char made[32], from[32], hist[160];
	size_t rec = 0, nnew = report_count_new(r, &rec);
	struct fleet_row *rows = dd_xcalloc(RK__COUNT + 1, sizeof(*rows));
	size_t n_rows = fleet_causes(r, rows);
	struct triage_style ts = { st->color, st->explain, 3, 0 };

	minute(r->made_ms, made, sizeof(made));
	minute(r->from_ms, from, sizeof(from));
	fprintf(out, "%sdagdoc report%s — %s UTC, runs since %s (%s)\n", C(st, BOLD), C(st, RESET), made, from, r->since);
	fprintf(out, "%zu DAG%s ran: %s%zu failing%s, %zu recovered, %zu healthy; failures: %zu new, %zu recurring\n",
	        r->n_dags, r->n_dags == 1 ? "" : "s", report_count(r, REPORT_FAILING) ? C(st, RED) : "",
	        report_count(r, REPORT_FAILING), C(st, RESET), report_count(r, REPORT_RECOVERED),
	        report_count(r, REPORT_HEALTHY), nnew, rec);
	for (size_t i = 0; i < r->n_sources; i++) {
		const struct report_source *s = &r->sources[i];

		if (s->error)
			fprintf(out, "%ssource %s could not be read%s: %s\n", C(st, YELLOW), s->name, C(st, RESET), s->error);
		else
			fprintf(out, "source %s: %s%s\n", s->name, source_label(s), s->synced ? "" : " (not synced: --offline)");
	}
	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		fputs("\nfailures\n", out);
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];
			size_t k = 0;
			const struct rk_cause *c = top_in_report(d, &k);

			if (d->status == REPORT_HEALTHY)
				continue;
			fprintf(out, "   %s%-9s%s %s (%s)", d->status == REPORT_FAILING ? C(st, RED) : C(st, YELLOW),
			        report_status_name(d->status), C(st, RESET), d->dag_id, d->source);
			if (c)
				fprintf(out, ": %s, confidence %.2f [%s]", c->summary, c->confidence,
				        d->marks[k].is_new ? "new" : "recurring");
			fputc('\n', out);
		}
	}
	if (nnew + rec) {
		for (int pass = 1; pass >= 0; pass--) {
			int shown = 0;

			for (size_t i = 0; i < r->n_dags; i++) {
				const struct report_dag *d = &r->dags[i];

				for (size_t k = 0; k < d->triage.rk.n_causes; k++) {
					const struct rk_cause *c = &d->triage.rk.causes[k];

					if (!d->marks[k].in_report || d->marks[k].dup || d->marks[k].is_new != pass)
						continue;
					if (!shown++)
						fputs(pass ? "\nnew failures\n" : "\nrecurring failures\n", out);
					history_line(&d->marks[k], hist, sizeof(hist));
					fprintf(out, "   %s %s: %.*s (%s)%s%s\n", d->dag_id, c->task_ids.n ? c->task_ids.v[0] : "-",
					        (int)strcspn(c->failure, "\n"), c->failure, c->fingerprint, pass ? "" : "; ",
					        pass ? "" : hist);
				}
			}
		}
	}
	if (r->n_flaky) {
		fputs("\nflaky tasks\n", out);
		for (size_t i = 0; i < r->n_flaky; i++) {
			const struct report_flaky *f = &r->flaky[i];

			fprintf(out, "   %s.%s: intermittent %.2f; passed on retry %zu time%s, failed in %zu of %zu runs\n",
			        r->dags[f->dag].dag_id, f->task_id, f->score, f->retry_recovered,
			        f->retry_recovered == 1 ? "" : "s", f->failed, f->runs);
		}
	}
	if (n_rows) {
		fputs("\ncauses across the fleet\n", out);
		for (size_t i = 0; i < n_rows; i++) {
			fprintf(out, "   %-22s %zu DAG%s, best confidence %.2f:", rk_kind_name(rows[i].kind), rows[i].n_dags,
			        rows[i].n_dags == 1 ? "" : "s", rows[i].best);
			for (size_t k = 0; k < rows[i].dags.n; k++)
				fprintf(out, "%s %s", k ? "," : "", rows[i].dags.v[k]);
			fputc('\n', out);
		}
	}
	for (size_t i = 0; i < r->n_dags; i++) {
		const struct report_dag *d = &r->dags[i];

		if (d->status == REPORT_HEALTHY)
			continue;
		fputs("\n────────────────────────────────────────────────────────────────────────\n", out);
		fprintf(out, "[%s] ", d->source);
		triage_render_text(&d->triage, &ts, out);
		fputc('\n', out);
		grid_text(&d->triage.an.grid, out, "   ");
	}
	if (report_count(r, REPORT_HEALTHY)) {
		int first = 1;

		fputs("\nhealthy:", out);
		for (size_t i = 0; i < r->n_dags; i++)
			if (r->dags[i].status == REPORT_HEALTHY) {
				fprintf(out, "%s %s (%zu run%s)", first ? "" : ",", r->dags[i].dag_id, r->dags[i].runs_in_period,
				        r->dags[i].runs_in_period == 1 ? "" : "s");
				first = 0;
			}
		fputc('\n', out);
	}
	if (!r->n_dags)
		fprintf(out, "\nno DAG ran since %s\n", from);
	for (size_t i = 0; i < r->notes.n; i++)
		fprintf(out, "note: %s\n", r->notes.v[i]);
	fleet_release(rows, n_rows);
	free(rows);
}

/* ---- Markdown ----------------------------------------------------------------------- */

static void md_text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (strchr("\\`*_[]<>|#~", *s))
			fputc('\\', out);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
	}
}

static void md_code(FILE *out, const char *s)
{
	fputc('`', out);
	for (; s && *s; s++)
		fputc(*s == '`' ? '\'' : *s == '\n' || *s == '|' ? ' ' : *s, out);
	fputc('`', out);
}

void report_render_md(const struct report *r, const struct report_style *st, FILE *out)
{
	char made[32], from[32], hist[160];
	size_t rec = 0, nnew = report_count_new(r, &rec);
	struct fleet_row *rows = dd_xcalloc(RK__COUNT + 1, sizeof(*rows));
	size_t n_rows = fleet_causes(r, rows);
	struct triage_style ts = { 0, st->explain, 3, 0 };

	minute(r->made_ms, made, sizeof(made));
	minute(r->from_ms, from, sizeof(from));
	fprintf(out, "## dagdoc report — %s UTC\n\n", made);
	fprintf(out, "Runs since %s (%s): **%zu DAG%s ran — %zu failing, %zu recovered, %zu healthy**; "
	        "failures: %zu new, %zu recurring.\n",
	        from, r->since, r->n_dags, r->n_dags == 1 ? "" : "s", report_count(r, REPORT_FAILING),
	        report_count(r, REPORT_RECOVERED), report_count(r, REPORT_HEALTHY), nnew, rec);
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			fprintf(out, "\n> **Source %s could not be read:** ", r->sources[i].name);
			md_text(out, r->sources[i].error);
			fputc('\n', out);
		}
	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		fputs("\n| DAG | source | status | top cause | confidence | history |\n|---|---|---|---|---|---|\n", out);
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];
			size_t k = 0;
			const struct rk_cause *c = top_in_report(d, &k);

			if (d->status == REPORT_HEALTHY)
				continue;
			fputs("| ", out);
			md_code(out, d->dag_id);
			fputs(" | ", out);
			md_text(out, d->source);
			fprintf(out, " | %s | ", report_status_name(d->status));
			if (c) {
				md_text(out, c->summary);
				history_line(&d->marks[k], hist, sizeof(hist));
				fprintf(out, " | %.2f | %s%s%s |\n", c->confidence, d->marks[k].is_new ? "**" : "", hist,
				        d->marks[k].is_new ? "**" : "");
			} else {
				fputs("— | | |\n", out);
			}
		}
	}
	if (nnew) {
		fputs("\n**New failures**\n\n", out);
		for (size_t i = 0; i < r->n_dags; i++)
			for (size_t k = 0; k < r->dags[i].triage.rk.n_causes; k++) {
				const struct rk_cause *c = &r->dags[i].triage.rk.causes[k];

				if (!r->dags[i].marks[k].in_report || r->dags[i].marks[k].dup || !r->dags[i].marks[k].is_new)
					continue;
				fputs("- ", out);
				md_code(out, r->dags[i].dag_id);
				fputs(" ", out);
				md_code(out, c->failure);
				fprintf(out, " (fingerprint `%s`)\n", c->fingerprint);
			}
	}
	if (r->n_flaky) {
		fputs("\n**Flaky tasks**\n\n", out);
		for (size_t i = 0; i < r->n_flaky; i++) {
			const struct report_flaky *f = &r->flaky[i];

			fputs("- ", out);
			md_code(out, r->dags[f->dag].dag_id);
			fputs(" / ", out);
			md_code(out, f->task_id);
			fprintf(out, ": intermittent %.2f, passed on retry %zu×, failed in %zu of %zu runs\n", f->score,
			        f->retry_recovered, f->failed, f->runs);
		}
	}
	if (n_rows) {
		fputs("\n**Causes across the fleet**\n\n| cause | DAGs | best confidence |\n|---|---|---|\n", out);
		for (size_t i = 0; i < n_rows; i++) {
			fprintf(out, "| %s | ", rk_kind_name(rows[i].kind));
			for (size_t k = 0; k < rows[i].dags.n; k++) {
				fputs(k ? ", " : "", out);
				md_code(out, rows[i].dags.v[k]);
			}
			fprintf(out, " | %.2f |\n", rows[i].best);
		}
	}
	for (size_t i = 0; i < r->n_dags; i++) {
		const struct report_dag *d = &r->dags[i];

		if (d->status == REPORT_HEALTHY)
			continue;
		fputs("\n---\n\n", out);
		triage_render_md(&d->triage, &ts, out);
		if (d->triage.ui_url) {
			fputs("\n", out);
			fprintf(out, "[open in the orchestrator](<%s>)\n", d->triage.ui_url);
		}
		if (d->triage.an.grid.n_runs && d->triage.an.grid.n_tasks) {
			fputs("\n```\n", out);
			grid_text(&d->triage.an.grid, out, "");
			fputs("```\n", out);
		}
	}
	if (report_count(r, REPORT_HEALTHY)) {
		int first = 1;

		fputs("\n**Healthy:** ", out);
		for (size_t i = 0; i < r->n_dags; i++)
			if (r->dags[i].status == REPORT_HEALTHY) {
				fputs(first ? "" : ", ", out);
				md_code(out, r->dags[i].dag_id);
				first = 0;
			}
		fputc('\n', out);
	}
	if (!r->n_dags)
		fprintf(out, "\nNo DAG ran since %s.\n", from);
	for (size_t i = 0; i < r->notes.n; i++) {
		fputs("\n> note: ", out);
		md_text(out, r->notes.v[i]);
		fputc('\n', out);
	}
	fleet_release(rows, n_rows);
	free(rows);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static const char *cell_state_name(const struct an_cell *c)
{
	return c->state == DD_STATE__COUNT ? "none" : dd_state_name(c->state);
}

static cJSON *grid_json(const struct an_grid *g)
{
	cJSON *o = cJSON_CreateObject(), *runs = cJSON_CreateArray(), *tasks = cJSON_CreateArray();
	cJSON *cells = cJSON_CreateArray();

	for (size_t r = 0; r < g->n_runs; r++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "run_id", g->run_ids[r]);
		cJSON_AddStringToObject(x, "state", dd_state_name(g->run_states[r]));
		jsonout_time(x, "logical_date", g->run_ms[r]);
		cJSON_AddItemToArray(runs, x);
	}
	for (size_t t = 0; t < g->n_tasks; t++) {
		cJSON *row = cJSON_CreateArray();

		cJSON_AddItemToArray(tasks, cJSON_CreateString(g->task_ids[t]));
		for (size_t r = 0; r < g->n_runs; r++) {
			const struct an_cell *c = an_grid_cell(g, t, r);
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "state", cell_state_name(c));
			cJSON_AddNumberToObject(x, "tries", c->tries);
			cJSON_AddNumberToObject(x, "failed_tries", c->failed_tries);
			jsonout_str(x, "category", c->category);
			jsonout_str(x, "error", c->error);
			cJSON_AddItemToArray(row, x);
		}
		cJSON_AddItemToArray(cells, row);
	}
	cJSON_AddItemToObject(o, "runs", runs);
	cJSON_AddItemToObject(o, "tasks", tasks);
	cJSON_AddItemToObject(o, "cells", cells);
	return o;
}

static cJSON *failure_ref_json(const struct report_dag *d, size_t k)
{
	const struct rk_cause *c = &d->triage.rk.causes[k];
	const struct report_cause_mark *m = &d->marks[k];
	cJSON *x = cJSON_CreateObject(), *tasks = cJSON_CreateArray();

	cJSON_AddStringToObject(x, "source", d->source);
	cJSON_AddStringToObject(x, "dag_id", d->dag_id);
	cJSON_AddStringToObject(x, "fingerprint", c->fingerprint);
	cJSON_AddStringToObject(x, "summary", c->summary);
	cJSON_AddStringToObject(x, "failure", c->failure);
	cJSON_AddStringToObject(x, "category", c->category);
	for (size_t i = 0; i < c->task_ids.n; i++)
		cJSON_AddItemToArray(tasks, cJSON_CreateString(c->task_ids.v[i]));
	cJSON_AddItemToObject(x, "task_ids", tasks);
	cJSON_AddNumberToObject(x, "confidence", jsonout_round3(c->confidence));
	cJSON_AddBoolToObject(x, "new", m->is_new);
	cJSON_AddNumberToObject(x, "earlier_reports", (double)m->seen_before);
	jsonout_time(x, "first_reported", m->first_seen_ms);
	return x;
}

cJSON *report_to_json(const struct report *r, int explain)
{
	cJSON *o = cJSON_CreateObject(), *meta = cJSON_CreateObject(), *sum = cJSON_CreateObject();
	cJSON *sources = cJSON_CreateArray(), *nf = cJSON_CreateArray(), *rf = cJSON_CreateArray();
	cJSON *flaky = cJSON_CreateArray(), *fleet = cJSON_CreateArray(), *dags = cJSON_CreateArray();
	cJSON *notes = cJSON_CreateArray();
	struct fleet_row *rows = dd_xcalloc(RK__COUNT + 1, sizeof(*rows));
	size_t n_rows = fleet_causes(r, rows), rec = 0, nnew = report_count_new(r, &rec);

	jsonout_time(meta, "made", r->made_ms);
	jsonout_time(meta, "from", r->from_ms);
	cJSON_AddStringToObject(meta, "since", r->since ? r->since : "");
	cJSON_AddItemToObject(o, "report", meta);
	cJSON_AddNumberToObject(sum, "dags", (double)r->n_dags);
	cJSON_AddNumberToObject(sum, "failing", (double)report_count(r, REPORT_FAILING));
	cJSON_AddNumberToObject(sum, "recovered", (double)report_count(r, REPORT_RECOVERED));
	cJSON_AddNumberToObject(sum, "healthy", (double)report_count(r, REPORT_HEALTHY));
	cJSON_AddNumberToObject(sum, "new_failures", (double)nnew);
	cJSON_AddNumberToObject(sum, "recurring_failures", (double)rec);
	cJSON_AddNumberToObject(sum, "flaky_tasks", (double)r->n_flaky);
	cJSON_AddNumberToObject(sum, "sources_failed", (double)report_sources_failed(r));
	cJSON_AddItemToObject(o, "summary", sum);
	for (size_t i = 0; i < r->n_sources; i++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "name", r->sources[i].name);
		jsonout_str(x, "kind", r->sources[i].kind);
		jsonout_str(x, "describe", r->sources[i].describe);
		cJSON_AddBoolToObject(x, "synced", r->sources[i].synced);
		jsonout_str(x, "error", r->sources[i].error);
		cJSON_AddItemToArray(sources, x);
	}
	cJSON_AddItemToObject(o, "sources", sources);
	for (size_t i = 0; i < r->n_dags; i++)
		for (size_t k = 0; k < r->dags[i].triage.rk.n_causes; k++)
			if (r->dags[i].marks[k].in_report && !r->dags[i].marks[k].dup)
				cJSON_AddItemToArray(r->dags[i].marks[k].is_new ? nf : rf, failure_ref_json(&r->dags[i], k));
	cJSON_AddItemToObject(o, "new_failures", nf);
	cJSON_AddItemToObject(o, "recurring_failures", rf);
	for (size_t i = 0; i < r->n_flaky; i++) {
		const struct report_flaky *f = &r->flaky[i];
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "source", r->dags[f->dag].source);
		cJSON_AddStringToObject(x, "dag_id", r->dags[f->dag].dag_id);
		cJSON_AddStringToObject(x, "task_id", f->task_id);
		cJSON_AddNumberToObject(x, "intermittent", jsonout_round3(f->score));
		cJSON_AddNumberToObject(x, "retry_recovered", (double)f->retry_recovered);
		cJSON_AddNumberToObject(x, "failed_runs", (double)f->failed);
		cJSON_AddNumberToObject(x, "runs", (double)f->runs);
		cJSON_AddItemToArray(flaky, x);
	}
	cJSON_AddItemToObject(o, "flaky_tasks", flaky);
	for (size_t i = 0; i < n_rows; i++) {
		cJSON *x = cJSON_CreateObject(), *dl = cJSON_CreateArray();

		cJSON_AddStringToObject(x, "kind", rk_kind_name(rows[i].kind));
		for (size_t k = 0; k < rows[i].dags.n; k++)
			cJSON_AddItemToArray(dl, cJSON_CreateString(rows[i].dags.v[k]));
		cJSON_AddItemToObject(x, "dags", dl);
		cJSON_AddNumberToObject(x, "best_confidence", jsonout_round3(rows[i].best));
		cJSON_AddItemToArray(fleet, x);
	}
	cJSON_AddItemToObject(o, "fleet_causes", fleet);
	for (size_t i = 0; i < r->n_dags; i++) {
		const struct report_dag *d = &r->dags[i];
		cJSON *x = cJSON_CreateObject(), *hist = cJSON_CreateArray();

		cJSON_AddStringToObject(x, "source", d->source);
		cJSON_AddStringToObject(x, "dag_id", d->dag_id);
		cJSON_AddStringToObject(x, "status", report_status_name(d->status));
		cJSON_AddNumberToObject(x, "runs_in_period", (double)d->runs_in_period);
		cJSON_AddNumberToObject(x, "failed_in_period", (double)d->failed_in_period);
		for (size_t k = 0; k < d->triage.rk.n_causes; k++) {
			cJSON *h = cJSON_CreateObject();

			cJSON_AddStringToObject(h, "fingerprint", d->triage.rk.causes[k].fingerprint);
			cJSON_AddBoolToObject(h, "in_report", d->marks[k].in_report);
			cJSON_AddBoolToObject(h, "new", d->marks[k].in_report && d->marks[k].is_new);
			cJSON_AddNumberToObject(h, "earlier_reports", (double)d->marks[k].seen_before);
			jsonout_time(h, "first_reported", d->marks[k].first_seen_ms);
			cJSON_AddItemToArray(hist, h);
		}
		cJSON_AddItemToObject(x, "history", hist);
		cJSON_AddItemToObject(x, "triage", triage_to_json(&d->triage, explain));
		cJSON_AddItemToObject(x, "grid", grid_json(&d->triage.an.grid));
		cJSON_AddItemToArray(dags, x);
	}
	cJSON_AddItemToObject(o, "dags", dags);
	for (size_t i = 0; i < r->notes.n; i++)
		cJSON_AddItemToArray(notes, cJSON_CreateString(r->notes.v[i]));
	cJSON_AddItemToObject(o, "notes", notes);
	fleet_release(rows, n_rows);
	free(rows);
	return o;
}

/* ---- HTML -------------------------------------------------------------------------------- */

void report_html_escape(struct dd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '&': dd_buf_adds(b, "&amp;"); break;
		case '<': dd_buf_adds(b, "&lt;"); break;
		case '>': dd_buf_adds(b, "&gt;"); break;
		case '"': dd_buf_adds(b, "&quot;"); break;
		case '\'': dd_buf_adds(b, "&#39;"); break;
		default:
			if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
				break;
			dd_buf_addch(b, (char)ch);
		}
	}
}

/* The page is built in a buffer; every dynamic string goes through E(). */
struct html {
	struct dd_buf b;
};

static void H(struct html *h, const char *raw)
{
	dd_buf_adds(&h->b, raw);
}

static void HF(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Only for numbers and fixed words: never pass data through %s here. */
static void HF(struct html *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd_buf_vaddf(&h->b, fmt, ap);
	va_end(ap);
}

static void E(struct html *h, const char *s)
{
	report_html_escape(&h->b, s);
}

static const struct {
	const char *category;
	const char *color;
} category_colors[] = {
	{ "dependency_upgrade", "#8250df" },
	{ "stalled_upstream", "#1b7c83" },
	{ "intermittent", "#e16f24" },
	{ "resource", "#953800" },
	{ "orchestrator", "#57606a" },
	{ "config_credentials", "#bf3989" },
	{ "code_bug", "#cf222e" },
	{ "data_quality", "#b08800" },
	{ "ml_training", "#5a32a3" },
};
#define COLOR_FAILED_OTHER "#ff5a52"
#define COLOR_SUCCESS "#2da44e"
#define COLOR_RETRIED "#9be9a8"
#define COLOR_UPSTREAM "#f5c08b"
#define COLOR_SKIPPED "#d0d7de"
#define COLOR_RUNNING "#54aeff"
#define COLOR_OTHER "#afb8c1"

static const char *category_color(const char *category)
{
	for (size_t i = 0; category && i < DD_ARRAY_SIZE(category_colors); i++)
		if (!strcmp(category_colors[i].category, category))
			return category_colors[i].color;
	return COLOR_FAILED_OTHER;
}

static const char *cell_color(const struct an_cell *c)
{
	switch (report_cell_letter(c)) {
	case '.': return COLOR_SUCCESS;
	case 'r': return COLOR_RETRIED;
	case 'u': return COLOR_UPSTREAM;
	case 's': return COLOR_SKIPPED;
	case '~': return COLOR_RUNNING;
	case 'X': return category_color(c->category);
	default: return COLOR_OTHER;
	}
}

static const char CSS[] =
	":root{--fg:#1f2328;--mut:#59636e;--bg:#fff;--card:#f6f8fa;--bd:#d1d9e0;--red:#cf222e;--amb:#9a6700;--grn:#1a7f37}"
	"*{box-sizing:border-box}"
	"body{margin:0;padding:1rem;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}"
	"main{max-width:64rem;margin:0 auto}"
	"h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .4rem;overflow-wrap:anywhere}h3{font-size:1rem;margin:1rem 0 .3rem}"
	".mut{color:var(--mut)}"
	".cards{display:flex;flex-wrap:wrap;gap:.5rem;margin:.8rem 0}"
	".card{flex:1 1 7rem;background:var(--card);border:1px solid var(--bd);border-radius:8px;padding:.5rem .7rem}"
	".card b{display:block;font-size:1.5rem}"
	".failing{color:var(--red)}.recovered{color:var(--amb)}.healthy{color:var(--grn)}"
	".badge{display:inline-block;font-size:.75rem;font-weight:600;border-radius:1em;padding:0 .5em;border:1px solid currentColor}"
	".new{color:#fff;background:var(--red);border-color:var(--red)}"
	"table{border-collapse:collapse;width:100%;margin:.4rem 0}td,th{text-align:left;vertical-align:top;padding:.3rem .4rem;border-bottom:1px solid var(--bd)}"
	".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}"
	"code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}"
	"code{background:var(--card);border-radius:4px;padding:0 .25em;overflow-wrap:anywhere}"
	"pre{background:var(--card);border:1px solid var(--bd);border-radius:6px;padding:.5rem;overflow-x:auto;white-space:pre}"
	".cause{border-left:4px solid var(--bd);padding:.1rem 0 .1rem .8rem;margin:.8rem 0}"
	".cause.top{border-color:var(--red)}"
	".cause ul{margin:.2rem 0;padding-left:1.2rem}"
	".warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem .7rem;margin:.5rem 0}"
	".legend{display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-size:.8rem;color:var(--mut);margin:.3rem 0}"
	".legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.25rem;vertical-align:-1px}"
	"svg.grid{display:block;max-width:none}svg.grid text{font:11px ui-monospace,Menlo,Consolas,monospace;fill:var(--fg)}"
	"@media (max-width:600px){body{padding:.6rem;font-size:14px}.card b{font-size:1.2rem}td,th{padding:.25rem}}";

#define CELL 16
#define GAP 2

static void grid_svg(struct html *h, const struct report_dag *d)
{
	const struct an_grid *g = &d->triage.an.grid;
	size_t label_chars = 4;
	int label_w, top = 40, w, hgt;

	if (!g->n_runs || !g->n_tasks) {
		H(h, "<p class=\"mut\">No task instances stored for these runs.</p>\n");
		return;
	}
	for (size_t t = 0; t < g->n_tasks; t++)
		if (strlen(g->task_ids[t]) > label_chars)
			label_chars = strlen(g->task_ids[t]);
	if (label_chars > 28)
		label_chars = 28;
	label_w = (int)label_chars * 7 + 8;
	w = label_w + (int)g->n_runs * (CELL + GAP) + 4;
	hgt = top + (int)(g->n_tasks + 1) * (CELL + GAP) + 4;
	H(h, "<div class=\"scroll\"><svg class=\"grid\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" ");
	HF(h, "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><desc>run by task grid of ", w, hgt, w, hgt);
	E(h, d->dag_id);
	H(h, "</desc>\n");
	/* Column headers: the run's day, rotated. */
	for (size_t r = 0; r < g->n_runs; r++) {
		char day[32], md[8];
		int x = label_w + (int)r * (CELL + GAP) + CELL / 2 + 4;

		minute(g->run_ms[r], day, sizeof(day));
		snprintf(md, sizeof(md), "%.5s", strlen(day) >= 10 ? day + 5 : day);
		HF(h, "<text transform=\"translate(%d,%d) rotate(-60)\">", x, top - 4);
		E(h, md);
		H(h, "</text>\n");
	}
	/* Row 0: the run's own state. */
	HF(h, "<text x=\"0\" y=\"%d\">run</text>\n", top + CELL - 4);
	for (size_t r = 0; r < g->n_runs; r++) {
		enum dd_state s = g->run_states[r];
		const char *col = dd_state_is_failure(s) ? "#cf222e" : s == DD_STATE_SUCCESS ? COLOR_SUCCESS
		                  : !dd_state_is_terminal(s) ? COLOR_RUNNING : COLOR_OTHER;
		char when[32];

		minute(g->run_ms[r], when, sizeof(when));
		HF(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\"><title>",
		   label_w + (int)r * (CELL + GAP), top, CELL, CELL, col);
		E(h, g->run_ids[r]);
		H(h, " (");
		E(h, when);
		H(h, "): ");
		E(h, dd_state_name(s));
		H(h, "</title></rect>\n");
	}
	for (size_t t = 0; t < g->n_tasks; t++) {
		int y = top + (int)(t + 1) * (CELL + GAP);
		char label[40];

		snprintf(label, sizeof(label), "%.*s%s", (int)label_chars - (strlen(g->task_ids[t]) > label_chars ? 1 : 0),
		         g->task_ids[t], strlen(g->task_ids[t]) > label_chars ? "…" : "");
		HF(h, "<text x=\"0\" y=\"%d\"><title>", y + CELL - 4);
		E(h, g->task_ids[t]);
		H(h, "</title>");
		E(h, label);
		H(h, "</text>\n");
		for (size_t r = 0; r < g->n_runs; r++) {
			const struct an_cell *c = an_grid_cell(g, t, r);
			int x = label_w + (int)r * (CELL + GAP);

			if (c->state == DD_STATE__COUNT) {
				HF(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"none\" stroke=\"#d1d9e0\" "
				   "stroke-dasharray=\"2 2\"><title>", x + 1, y + 1, CELL - 2, CELL - 2);
				E(h, g->task_ids[t]);
				H(h, " in ");
				E(h, g->run_ids[r]);
				H(h, ": no task instance</title></rect>\n");
				continue;
			}
			HF(h, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\" fill=\"%s\" data-state=\"", x, y,
			   CELL, CELL, cell_color(c));
			E(h, cell_state_name(c));
			H(h, "\"><title>");
			E(h, g->task_ids[t]);
			H(h, " in ");
			E(h, g->run_ids[r]);
			H(h, ": ");
			E(h, cell_state_name(c));
			if (c->tries > 1)
				HF(h, " after %d tries", c->tries);
			if (c->failed_tries && c->state == DD_STATE_SUCCESS)
				HF(h, " (%d failed %s first)", c->failed_tries, c->failed_tries == 1 ? "try" : "tries");
			if (c->category) {
				H(h, "\ncategory: ");
				E(h, c->category);
			}
			if (c->error) {
				H(h, "\nerror: ");
				E(h, c->error);
			}
			H(h, "</title></rect>\n");
		}
	}
	H(h, "</svg></div>\n");
}

static void legend(struct html *h, const struct report *r)
{
	static const struct { const char *label, *color; } states[] = {
		{ "success", COLOR_SUCCESS }, { "passed on retry", COLOR_RETRIED }, { "upstream failed", COLOR_UPSTREAM },
		{ "skipped", COLOR_SKIPPED }, { "running", COLOR_RUNNING }, { "failed, unclassified", COLOR_FAILED_OTHER },
	};

	H(h, "<div class=\"legend\">");
	for (size_t i = 0; i < DD_ARRAY_SIZE(states); i++) {
		HF(h, "<span><i style=\"background:%s\"></i>", states[i].color);
		E(h, states[i].label);
		H(h, "</span>");
	}
	for (size_t i = 0; i < DD_ARRAY_SIZE(category_colors); i++) {
		int used = 0;

		for (size_t d = 0; d < r->n_dags && !used; d++)
			for (size_t c = 0; c < r->dags[d].triage.an.grid.n_runs * r->dags[d].triage.an.grid.n_tasks && !used; c++)
				used = r->dags[d].triage.an.grid.cells[c].category &&
				       !strcmp(r->dags[d].triage.an.grid.cells[c].category, category_colors[i].category) &&
				       report_cell_letter(&r->dags[d].triage.an.grid.cells[c]) == 'X';
		if (!used)
			continue;
		HF(h, "<span><i style=\"background:%s\"></i>failed: ", category_colors[i].color);
		E(h, category_colors[i].category);
		H(h, "</span>");
	}
	H(h, "</div>\n");
}

static void html_list(struct html *h, const char *label, const struct dd_strv *v, size_t max, int code)
{
	if (!v->n)
		return;
	H(h, "<div><b>");
	E(h, label);
	H(h, "</b><ul>");
	for (size_t i = 0; i < v->n && i < max; i++) {
		H(h, code ? "<li><code>" : "<li>");
		E(h, v->v[i]);
		H(h, code ? "</code></li>" : "</li>");
	}
	H(h, "</ul></div>\n");
}

static void history_badge(struct html *h, const struct report_cause_mark *m)
{
	char hist[160];

	if (!m->in_report)
		return;
	if (m->is_new) {
		H(h, " <span class=\"badge new\">new</span>");
		return;
	}
	history_line(m, hist, sizeof(hist));
	H(h, " <span class=\"badge mut\">");
	E(h, hist);
	H(h, "</span>");
}

static void cause_html(struct html *h, const struct report_dag *d, size_t k)
{
	const struct rk_cause *c = &d->triage.rk.causes[k];
	struct dd_strv ev = DD_STRV_INIT;
	char a[32], b[32];

	HF(h, "<div class=\"cause%s\"><h3>%zu. ", k == 0 ? " top" : "", k + 1);
	E(h, c->summary);
	HF(h, " <span class=\"mut\">confidence %.2f · ", c->confidence);
	E(h, rk_kind_name(c->kind));
	H(h, "</span>");
	history_badge(h, &d->marks[k]);
	H(h, "</h3>\n<div>failure <code>");
	E(h, c->failure);
	H(h, "</code></div>\n<div class=\"mut\">task ");
	for (size_t i = 0; i < c->task_ids.n; i++) {
		H(h, i ? ", <code>" : "<code>");
		E(h, c->task_ids.v[i]);
		H(h, "</code>");
	}
	minute(c->first_bad_ms, a, sizeof(a));
	if (c->stuck)
		H(h, " · <b class=\"failing\">not finished</b> in the run of ");
	else
		HF(h, " · %zu failed run(s), %zu tries · onset ", c->failed_runs, c->tries);
	E(h, a);
	if (c->last_good_ms) {
		minute(c->last_good_ms, b, sizeof(b));
		H(h, " · last good ");
		E(h, b);
	}
	if (!c->stuck)
		H(h, c->still_failing ? " · <b class=\"failing\">still failing</b>" : " · not failing now");
	H(h, "</div>\n");
	for (size_t i = 0; i < c->n_commits && i < 3; i++) {
		const struct rk_commit *m = &c->commits[i];
		char when[32], id[8];

		minute(m->commit.time_ms, when, sizeof(when));
		snprintf(id, sizeof(id), "%.7s", m->commit.id);
		H(h, "<div>change <code>");
		E(h, id);
		H(h, "</code> “");
		E(h, m->commit.summary);
		H(h, "” <span class=\"mut\">(");
		E(h, m->commit.author);
		H(h, ", ");
		E(h, when);
		H(h, ")</span>");
		for (size_t w = 0; w < m->why.n; w++) {
			H(h, " — ");
			E(h, m->why.v[w]);
		}
		H(h, "</div>\n");
	}
	for (size_t i = 0; i < c->n_evidence; i++)
		dd_strv_push(&ev, c->evidence[i].text);
	html_list(h, "evidence", &ev, 8, 0);
	dd_strv_release(&ev);
	html_list(h, "checks", &c->checks, 6, 1);
	html_list(h, "fix", &c->fix, 4, 0);
	if (c->excerpt) {
		H(h, "<details><summary>log excerpt</summary><pre>");
		E(h, c->excerpt);
		H(h, "</pre></details>\n");
	}
	H(h, "</div>\n");
}

static void dag_html(struct html *h, const struct report_dag *d)
{
	const struct an_result *an = &d->triage.an;

	H(h, "<section class=\"dag\" id=\"dag-");
	E(h, d->source);
	H(h, "-");
	E(h, d->dag_id);
	H(h, "\"><h2>");
	E(h, d->dag_id);
	H(h, " <span class=\"mut\">(");
	E(h, d->source);
	HF(h, ")</span> <span class=\"badge %s\">%s</span></h2>\n", report_status_name(d->status),
	   report_status_name(d->status));
	HF(h, "<p>%zu of the last %zu runs failed; in the period %zu of %zu.", an->n_failed, an->n_runs,
	   d->failed_in_period, d->runs_in_period);
	if (d->triage.ui_url) {
		H(h, " <a href=\"");
		E(h, d->triage.ui_url);
		H(h, "\">open in the orchestrator</a>");
	}
	H(h, "</p>\n");
	for (size_t k = 0; k < d->triage.rk.n_causes && k < 3; k++)
		cause_html(h, d, k);
	if (d->triage.rk.n_causes > 3) {
		HF(h, "<p class=\"mut\">%zu more cause(s): <code>dagdoc triage ", d->triage.rk.n_causes - 3);
		E(h, d->dag_id);
		H(h, "</code></p>\n");
	}
	if (an->n_stalls) {
		struct dd_strv v = DD_STRV_INIT;

		for (size_t i = 0; i < an->n_stalls; i++)
			dd_strv_push_owned(&v, dd_xasprintf("%s: %s", an_stall_kind_name(an->stalls[i].kind),
			                                    an->stalls[i].detail));
		html_list(h, "also seen", &v, 8, 0);
		dd_strv_release(&v);
	}
	html_list(h, "notes", &d->triage.rk.notes, 8, 0);
	H(h, "<h3>runs × tasks</h3>\n");
	grid_svg(h, d);
	H(h, "</section>\n");
}

void report_render_html(const struct report *r, FILE *out)
{
	struct html h = { DD_BUF_INIT };
	char made[32], from[32], hist[160];
	size_t rec = 0, nnew = report_count_new(r, &rec);
	struct fleet_row *rows = dd_xcalloc(RK__COUNT + 1, sizeof(*rows));
	size_t n_rows = fleet_causes(r, rows);

	minute(r->made_ms, made, sizeof(made));
	minute(r->from_ms, from, sizeof(from));
	H(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
	      "<title>dagdoc report ");
	E(&h, made);
	H(&h, "</title>\n<style>");
	H(&h, CSS);
	H(&h, "</style></head>\n<body><main>\n<header><h1>dagdoc report</h1><p class=\"mut\">");
	E(&h, made);
	H(&h, " UTC · runs since ");
	E(&h, from);
	H(&h, " (");
	E(&h, r->since);
	H(&h, ")</p></header>\n");

	H(&h, "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">");
	HF(&h, "<div class=\"card\"><b>%zu</b>DAGs ran</div>", r->n_dags);
	HF(&h, "<div class=\"card failing\"><b>%zu</b>failing</div>", report_count(r, REPORT_FAILING));
	HF(&h, "<div class=\"card recovered\"><b>%zu</b>recovered</div>", report_count(r, REPORT_RECOVERED));
	HF(&h, "<div class=\"card healthy\"><b>%zu</b>healthy</div>", report_count(r, REPORT_HEALTHY));
	HF(&h, "<div class=\"card\"><b>%zu</b>new failures</div>", nnew);
	HF(&h, "<div class=\"card\"><b>%zu</b>recurring</div>", rec);
	H(&h, "</div>\n");
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			H(&h, "<div class=\"warn\"><b>Source ");
			E(&h, r->sources[i].name);
			H(&h, " could not be read:</b> ");
			E(&h, r->sources[i].error);
			H(&h, "</div>\n");
		}
	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		H(&h, "<div class=\"scroll\"><table id=\"failures\"><tr><th>DAG</th><th>status</th><th>top cause</th><th>history</th></tr>\n");
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];
			size_t k = 0;
			const struct rk_cause *c = top_in_report(d, &k);

			if (d->status == REPORT_HEALTHY)
				continue;
			H(&h, "<tr><td><a href=\"#dag-");
			E(&h, d->source);
			H(&h, "-");
			E(&h, d->dag_id);
			H(&h, "\">");
			E(&h, d->dag_id);
			H(&h, "</a> <span class=\"mut\">");
			E(&h, d->source);
			HF(&h, "</span></td><td class=\"%s\">%s</td><td>", report_status_name(d->status),
			   report_status_name(d->status));
			if (c) {
				E(&h, c->summary);
				HF(&h, " <span class=\"mut\">%.2f</span></td><td>", c->confidence);
				if (d->marks[k].is_new) {
					H(&h, "<span class=\"badge new\">new</span>");
				} else {
					history_line(&d->marks[k], hist, sizeof(hist));
					E(&h, hist);
				}
			} else {
				H(&h, "</td><td>");
			}
			H(&h, "</td></tr>\n");
		}
		H(&h, "</table></div>\n");
	}
	if (nnew + rec) {
		H(&h, "<h3>New and recurring failures</h3><ul id=\"new-recurring\">\n");
		for (int pass = 1; pass >= 0; pass--)
			for (size_t i = 0; i < r->n_dags; i++)
				for (size_t k = 0; k < r->dags[i].triage.rk.n_causes; k++) {
					const struct report_dag *d = &r->dags[i];
					const struct rk_cause *c = &d->triage.rk.causes[k];

					if (!d->marks[k].in_report || d->marks[k].dup || d->marks[k].is_new != pass)
						continue;
					H(&h, "<li>");
					history_badge(&h, &d->marks[k]);
					H(&h, " <b>");
					E(&h, d->dag_id);
					H(&h, "</b> <code>");
					E(&h, c->failure);
					H(&h, "</code> <span class=\"mut\">");
					E(&h, c->fingerprint);
					H(&h, "</span></li>\n");
				}
		H(&h, "</ul>\n");
	}
	if (r->n_flaky) {
		H(&h, "<h3>Flaky tasks</h3><ul id=\"flaky\">\n");
		for (size_t i = 0; i < r->n_flaky; i++) {
			const struct report_flaky *f = &r->flaky[i];

			H(&h, "<li><code>");
			E(&h, r->dags[f->dag].dag_id);
			H(&h, ".");
			E(&h, f->task_id);
			HF(&h, "</code> intermittent %.2f: passed on retry %zu×, failed in %zu of %zu runs</li>\n", f->score,
			   f->retry_recovered, f->failed, f->runs);
		}
		H(&h, "</ul>\n");
	}
	if (n_rows) {
		H(&h, "<h3>Causes across the fleet</h3><div class=\"scroll\"><table id=\"fleet\"><tr><th>cause</th><th>DAGs</th><th>best confidence</th></tr>\n");
		for (size_t i = 0; i < n_rows; i++) {
			H(&h, "<tr><td>");
			E(&h, rk_kind_name(rows[i].kind));
			H(&h, "</td><td>");
			for (size_t k = 0; k < rows[i].dags.n; k++) {
				H(&h, k ? ", " : "");
				E(&h, rows[i].dags.v[k]);
			}
			HF(&h, "</td><td>%.2f</td></tr>\n", rows[i].best);
		}
		H(&h, "</table></div>\n");
	}
	if (!r->n_dags) {
		H(&h, "<p>No DAG ran since ");
		E(&h, from);
		H(&h, ".</p>\n");
	}
	H(&h, "</section>\n");

	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		legend(&h, r);
		for (size_t i = 0; i < r->n_dags; i++)
			if (r->dags[i].status != REPORT_HEALTHY)
				dag_html(&h, &r->dags[i]);
	}
	if (report_count(r, REPORT_HEALTHY)) {
		H(&h, "<section id=\"healthy\"><h2>Healthy</h2><div class=\"scroll\"><table><tr><th>DAG</th><th>source</th><th>runs in the period</th><th>last runs</th></tr>\n");
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];

			if (d->status != REPORT_HEALTHY)
				continue;
			H(&h, "<tr><td>");
			E(&h, d->dag_id);
			H(&h, "</td><td>");
			E(&h, d->source);
			HF(&h, "</td><td>%zu</td><td>%zu of %zu succeeded</td></tr>\n", d->runs_in_period,
			   d->triage.an.n_success, d->triage.an.n_runs);
		}
		H(&h, "</table></div></section>\n");
	}
	if (r->notes.n) {
		H(&h, "<section id=\"notes\"><h2>Notes</h2><ul>");
		for (size_t i = 0; i < r->notes.n; i++) {
			H(&h, "<li>");
			E(&h, r->notes.v[i]);
			H(&h, "</li>");
		}
		H(&h, "</ul></section>\n");
	}
	H(&h, "<footer class=\"mut\"><p>Made by dagdoc " DD_VERSION ". Hover or tap a grid cell for its state, "
	      "failure category and error.</p></footer>\n</main></body></html>\n");
	fwrite(h.b.data, 1, h.b.len, out);
	dd_buf_release(&h.b);
	fleet_release(rows, n_rows);
	free(rows);
}

/* ---- webhook ------------------------------------------------------------------------------ */

static void slack_escape(struct dd_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			dd_buf_adds(b, "&amp;");
		else if (*s == '<')
			dd_buf_adds(b, "&lt;");
		else if (*s == '>')
			dd_buf_adds(b, "&gt;");
		else if ((unsigned char)*s >= 0x20 || *s == '\n')
			dd_buf_addch(b, *s);
	}
}

#define WEBHOOK_MAX_DAGS 15

char *report_webhook_text(const struct report *r)
{
	struct dd_buf b = DD_BUF_INIT;
	char made[32];
	size_t rec = 0, nnew = report_count_new(r, &rec), shown = 0, not_healthy = 0;

	minute(r->made_ms, made, sizeof(made));
	dd_buf_addf(&b, "*dagdoc report* %s UTC, last ", made);
	slack_escape(&b, r->since);
	dd_buf_addf(&b, ": %zu DAG%s ran: %zu failing, %zu recovered, %zu healthy; failures: %zu new, %zu recurring",
	            r->n_dags, r->n_dags == 1 ? "" : "s", report_count(r, REPORT_FAILING),
	            report_count(r, REPORT_RECOVERED), report_count(r, REPORT_HEALTHY), nnew, rec);
	for (size_t i = 0; i < r->n_dags; i++) {
		const struct report_dag *d = &r->dags[i];
		size_t k = 0;
		const struct rk_cause *c = top_in_report(d, &k);

		if (d->status == REPORT_HEALTHY)
			continue;
		if (not_healthy++ >= WEBHOOK_MAX_DAGS)
			continue;
		shown++;
		dd_buf_adds(&b, "\n• *");
		slack_escape(&b, d->dag_id);
		dd_buf_adds(&b, "* (");
		slack_escape(&b, d->source);
		dd_buf_addf(&b, ") %s", report_status_name(d->status));
		if (c) {
			dd_buf_addf(&b, ", %s: ", d->marks[k].is_new ? "*new*" : "recurring");
			slack_escape(&b, c->summary);
			dd_buf_addf(&b, " (confidence %.2f)", c->confidence);
			if (c->task_ids.n) {
				dd_buf_adds(&b, ", task ");
				slack_escape(&b, c->task_ids.v[0]);
			}
		}
	}
	if (not_healthy > shown)
		dd_buf_addf(&b, "\n… and %zu more", not_healthy - shown);
	if (r->n_flaky) {
		dd_buf_adds(&b, "\nFlaky:");
		for (size_t i = 0; i < r->n_flaky && i < 5; i++) {
			dd_buf_adds(&b, i ? ", " : " ");
			slack_escape(&b, r->dags[r->flaky[i].dag].dag_id);
			dd_buf_addch(&b, '.');
			slack_escape(&b, r->flaky[i].task_id);
			dd_buf_addf(&b, " (%.2f)", r->flaky[i].score);
		}
	}
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			dd_buf_adds(&b, "\nSource ");
			slack_escape(&b, r->sources[i].name);
			dd_buf_adds(&b, " could not be read: ");
			slack_escape(&b, r->sources[i].error);
		}
	return dd_buf_detach(&b);
}

char *report_webhook_payload(const struct report *r)
{
	char *text = report_webhook_text(r);
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "text", text);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(text);
	return s;
}
