/*
 * report_text.c - the report as text for a terminal and as Markdown (see
 * report.h); colours from render.h.
 */
#include "dagdoc/util.h"

#include "dagdoc/render.h"
#include "dagdoc/report.h"
#include "report_impl.h"

const char *report_source_label(const struct report_source *s)
{
	return s->describe ? s->describe : s->kind;
}

void report_history_text(const struct report_cause_mark *m, char *out, size_t len)
{
	char when[32];

	if (m->is_new) {
		snprintf(out, len, "new");
		return;
	}
	triage_format_minute(m->first_seen_ms, when, sizeof(when));
	snprintf(out, len, "recurring: in %lld earlier report%s since %s", (long long)m->seen_before,
	         m->seen_before == 1 ? "" : "s", when);
}

/* ---- text ------------------------------------------------------------------------ */

#define C(st, code) render_color((st)->color, code)

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
	triage_format_minute(g->run_ms[0], a, sizeof(a));
	triage_format_minute(g->run_ms[g->n_runs - 1], b, sizeof(b));
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

void report_render_text(const struct report *r, const struct report_style *st, FILE *out)
{
	char made[32], from[32], hist[160], why[160];
	size_t rec = 0, nnew = report_count_new(r, &rec);
		struct triage_style ts = { st->color, st->explain, 3, 0 };

	triage_format_minute(r->made_ms, made, sizeof(made));
	triage_format_minute(r->from_ms, from, sizeof(from));
	fprintf(out, "%sdagdoc report%s — %s UTC, runs since %s (%s)\n", C(st, RC_BOLD), C(st, RC_RESET), made, from, r->since);
	fprintf(out, "%zu DAG%s ran: %s%zu failing%s, %zu recovered, %zu healthy; failures: %zu new, %zu recurring\n",
	        r->n_dags, r->n_dags == 1 ? "" : "s", report_count(r, REPORT_FAILING) ? C(st, RC_RED) : "",
	        report_count(r, REPORT_FAILING), C(st, RC_RESET), report_count(r, REPORT_RECOVERED),
	        report_count(r, REPORT_HEALTHY), nnew, rec);
	for (size_t i = 0; i < r->n_sources; i++) {
		const struct report_source *s = &r->sources[i];

		if (s->error)
			fprintf(out, "%ssource %s could not be read%s: %s\n", C(st, RC_YELLOW), s->name, C(st, RC_RESET), s->error);
		else
			fprintf(out, "source %s: %s%s\n", s->name, report_source_label(s), s->synced ? "" : " (not synced: --offline)");
	}
	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		fputs("\nfailures\n", out);
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];
			size_t k = 0;
			const struct rk_cause *c = report_dag_top(d, &k);

			if (d->status == REPORT_HEALTHY)
				continue;
			fprintf(out, "   %s%-9s%s %s (%s)", d->status == REPORT_FAILING ? C(st, RC_RED) : C(st, RC_YELLOW),
			        report_status_name(d->status), C(st, RC_RESET), d->dag_id, d->source);
			if (c)
				fprintf(out, ": %s, confidence %.2f [%s]", c->summary, c->confidence,
				        d->marks[k].is_new ? "new" : "recurring");
			else if (report_not_running(d, why, sizeof(why)))
				fprintf(out, ": %s", why);
			fputc('\n', out);
			for (size_t v = 0; c && v < c->n_verdicts; v++) {
				char *line = triage_verdict_text(&c->verdicts[v], 0);

				fprintf(out, "             %s\n", line);
				free(line);
			}
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
					report_history_text(&d->marks[k], hist, sizeof(hist));
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
	if (report_count_degraded(r)) {
		fputs("\nquiet failures (the task succeeded)\n", out);
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct an_result *an = &r->dags[i].triage.an;

			for (size_t k = 0; k < an->n_quiet; k++)
				fprintf(out, "   %s.%s %s: %s\n", r->dags[i].dag_id, an->quiet[k].task_id,
				        quiet_kind_name(an->quiet[k].kind), an->quiet[k].detail);
		}
	}
	if (r->n_fleet) {
		fputs("\ncauses across the fleet\n", out);
		for (size_t i = 0; i < r->n_fleet; i++) {
			fprintf(out, "   %-22s %zu DAG%s, best confidence %.2f:", rk_kind_name(r->fleet[i].kind), r->fleet[i].n_dags,
			        r->fleet[i].n_dags == 1 ? "" : "s", r->fleet[i].best);
			for (size_t k = 0; k < r->fleet[i].dags.n; k++)
				fprintf(out, "%s %s", k ? "," : "", r->fleet[i].dags.v[k]);
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
				fprintf(out, "%s %s (%zu run%s%s)", first ? "" : ",", r->dags[i].dag_id,
				        r->dags[i].runs_in_period, r->dags[i].runs_in_period == 1 ? "" : "s",
				        r->dags[i].triage.degraded ? ", degraded" : "");
				first = 0;
			}
		fputc('\n', out);
	}
	if (!r->n_dags)
		fprintf(out, "\nno DAG ran since %s\n", from);
	for (size_t i = 0; i < r->notes.n; i++)
		fprintf(out, "note: %s\n", r->notes.v[i]);
}

/* ---- Markdown ----------------------------------------------------------------------- */

void report_render_md(const struct report *r, const struct report_style *st, FILE *out)
{
	char made[32], from[32], hist[160], why[160];
	size_t rec = 0, nnew = report_count_new(r, &rec);
		struct triage_style ts = { 0, st->explain, 3, 0 };

	triage_format_minute(r->made_ms, made, sizeof(made));
	triage_format_minute(r->from_ms, from, sizeof(from));
	fprintf(out, "## dagdoc report — %s UTC\n\n", made);
	fprintf(out, "Runs since %s (%s): **%zu DAG%s ran — %zu failing, %zu recovered, %zu healthy**; "
	        "failures: %zu new, %zu recurring.\n",
	        from, r->since, r->n_dags, r->n_dags == 1 ? "" : "s", report_count(r, REPORT_FAILING),
	        report_count(r, REPORT_RECOVERED), report_count(r, REPORT_HEALTHY), nnew, rec);
	for (size_t i = 0; i < r->n_sources; i++)
		if (r->sources[i].error) {
			fprintf(out, "\n> **Source %s could not be read:** ", r->sources[i].name);
			render_md_text(out, r->sources[i].error, 0);
			fputc('\n', out);
		}
	if (report_count(r, REPORT_FAILING) + report_count(r, REPORT_RECOVERED)) {
		fputs("\n| DAG | source | status | top cause | confidence | history |\n|---|---|---|---|---|---|\n", out);
		for (size_t i = 0; i < r->n_dags; i++) {
			const struct report_dag *d = &r->dags[i];
			size_t k = 0;
			const struct rk_cause *c = report_dag_top(d, &k);

			if (d->status == REPORT_HEALTHY)
				continue;
			fputs("| ", out);
			render_md_code(out, d->dag_id, RENDER_MD_CELL);
			fputs(" | ", out);
			render_md_text(out, d->source, RENDER_MD_CELL);
			fprintf(out, " | %s | ", report_status_name(d->status));
			if (!c && report_not_running(d, why, sizeof(why))) {
				render_md_text(out, why, RENDER_MD_CELL);
				fputs(" | | |\n", out);
			} else if (c) {
				render_md_text(out, c->summary, RENDER_MD_CELL);
				report_history_text(&d->marks[k], hist, sizeof(hist));
				for (size_t v = 0; v < c->n_verdicts; v++) {
					char *line = triage_verdict_text(&c->verdicts[v], 0);

					fputs("; ", out);
					render_md_text(out, line, 0);
					free(line);
				}
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
				render_md_code(out, r->dags[i].dag_id, 0);
				fputs(" ", out);
				render_md_code(out, c->failure, 0);
				fprintf(out, " (fingerprint `%s`)\n", c->fingerprint);
			}
	}
	if (r->n_flaky) {
		fputs("\n**Flaky tasks**\n\n", out);
		for (size_t i = 0; i < r->n_flaky; i++) {
			const struct report_flaky *f = &r->flaky[i];

			fputs("- ", out);
			render_md_code(out, r->dags[f->dag].dag_id, 0);
			fputs(" / ", out);
			render_md_code(out, f->task_id, 0);
			fprintf(out, ": intermittent %.2f, passed on retry %zu×, failed in %zu of %zu runs\n", f->score,
			        f->retry_recovered, f->failed, f->runs);
		}
	}
	if (report_count_degraded(r)) {
		fputs("\n**Quiet failures** (the task succeeded)\n\n", out);
		for (size_t i = 0; i < r->n_dags; i++)
			for (size_t k = 0; k < r->dags[i].triage.an.n_quiet; k++) {
				const struct quiet_finding *q = &r->dags[i].triage.an.quiet[k];

				fputs("- ", out);
				render_md_code(out, r->dags[i].dag_id, 0);
				fputs(" / ", out);
				render_md_code(out, q->task_id, 0);
				fprintf(out, " %s: ", quiet_kind_name(q->kind));
				render_md_text(out, q->detail, 0);
				fputc('\n', out);
			}
	}
	if (r->n_fleet) {
		fputs("\n**Causes across the fleet**\n\n| cause | DAGs | best confidence |\n|---|---|---|\n", out);
		for (size_t i = 0; i < r->n_fleet; i++) {
			fprintf(out, "| %s | ", rk_kind_name(r->fleet[i].kind));
			for (size_t k = 0; k < r->fleet[i].dags.n; k++) {
				fputs(k ? ", " : "", out);
				render_md_code(out, r->fleet[i].dags.v[k], 0);
			}
			fprintf(out, " | %.2f |\n", r->fleet[i].best);
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
				render_md_code(out, r->dags[i].dag_id, 0);
				first = 0;
			}
		fputc('\n', out);
	}
	if (!r->n_dags)
		fprintf(out, "\nNo DAG ran since %s.\n", from);
	for (size_t i = 0; i < r->notes.n; i++) {
		fputs("\n> note: ", out);
		render_md_text(out, r->notes.v[i], 0);
		fputc('\n', out);
	}
}

