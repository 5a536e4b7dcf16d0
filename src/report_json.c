/*
 * report_json.c - the report as JSON (see report.h).
 */
#include "dagdoc/util.h"

#include <cJSON.h>

#include "dagdoc/jsonout.h"
#include "dagdoc/report.h"
#include "report_impl.h"

/* ---- JSON ---------------------------------------------------------------------------- */

/* The grid with each run's and cell's wall clock and link into the UI (as
 * the HTML grid's tooltips and links). */
static cJSON *grid_json(const struct triage_result *t)
{
	const struct an_grid *g = &t->an.grid;
	cJSON *o = cJSON_CreateObject(), *runs = cJSON_CreateArray(), *tasks = cJSON_CreateArray();
	cJSON *cells = cJSON_CreateArray();

	for (size_t r = 0; r < g->n_runs; r++) {
		cJSON *x = cJSON_CreateObject();

		cJSON_AddStringToObject(x, "run_id", g->run_ids[r]);
		cJSON_AddStringToObject(x, "state", dd_state_name(g->run_states[r]));
		jsonout_time(x, "logical_date", g->run_ms[r]);
		jsonout_time(x, "started", g->run_start_ms ? g->run_start_ms[r] : 0);
		jsonout_time(x, "ended", g->run_end_ms ? g->run_end_ms[r] : 0);
		jsonout_str(x, "url", t->run_urls ? t->run_urls[r] : NULL);
		cJSON_AddItemToArray(runs, x);
	}
	for (size_t k = 0; k < g->n_tasks; k++) {
		cJSON *row = cJSON_CreateArray();

		cJSON_AddItemToArray(tasks, cJSON_CreateString(g->task_ids[k]));
		for (size_t r = 0; r < g->n_runs; r++) {
			const struct an_cell *c = an_grid_cell(g, k, r);
			cJSON *x = cJSON_CreateObject();

			cJSON_AddStringToObject(x, "state", report_cell_state(c));
			cJSON_AddNumberToObject(x, "tries", c->tries);
			cJSON_AddNumberToObject(x, "failed_tries", c->failed_tries);
			jsonout_str(x, "category", c->category);
			jsonout_str(x, "error", c->error);
			jsonout_time(x, "started", c->start_ms);
			jsonout_time(x, "ended", c->end_ms);
			jsonout_str(x, "url", t->cell_urls ? t->cell_urls[k * g->n_runs + r] : NULL);
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
	if (c->n_verdicts) {
		cJSON *vs = cJSON_CreateArray();

		for (size_t i = 0; i < c->n_verdicts; i++)
			cJSON_AddItemToArray(vs, cJSON_CreateString(c->verdicts[i].what));
		cJSON_AddStringToObject(x, "established",
					c->confirmed > 0   ? "confirmed"
					: c->confirmed < 0 ? "refuted"
							   : "open");
		cJSON_AddItemToObject(x, "verdicts", vs);
	}
	return x;
}

void report_json_head(const struct report *r, cJSON *meta, cJSON *sum)
{
	size_t rec = 0, nnew = report_count_new(r, &rec);

	jsonout_time(meta, "made", r->made_ms);
	jsonout_time(meta, "from", r->from_ms);
	cJSON_AddStringToObject(meta, "since", r->since ? r->since : "");
	cJSON_AddNumberToObject(sum, "dags", (double)r->n_dags);
	cJSON_AddNumberToObject(sum, "failing", (double)report_count(r, REPORT_FAILING));
	cJSON_AddNumberToObject(sum, "recovered", (double)report_count(r, REPORT_RECOVERED));
	cJSON_AddNumberToObject(sum, "healthy", (double)report_count(r, REPORT_HEALTHY));
	cJSON_AddNumberToObject(sum, "new_failures", (double)nnew);
	cJSON_AddNumberToObject(sum, "recurring_failures", (double)rec);
}

cJSON *report_to_json(const struct report *r, int explain)
{
	cJSON *o = cJSON_CreateObject(), *meta = cJSON_CreateObject(), *sum = cJSON_CreateObject();
	cJSON *sources = cJSON_CreateArray(), *nf = cJSON_CreateArray(), *rf = cJSON_CreateArray();
	cJSON *flaky = cJSON_CreateArray(), *fleet = cJSON_CreateArray(), *dags = cJSON_CreateArray();
	cJSON *notes = cJSON_CreateArray();

	report_json_head(r, meta, sum);
	cJSON_AddItemToObject(o, "report", meta);
	cJSON_AddNumberToObject(sum, "flaky_tasks", (double)r->n_flaky);
	cJSON_AddNumberToObject(sum, "degraded", (double)report_count_degraded(r));
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
	{
		cJSON *q = cJSON_CreateArray();

		for (size_t i = 0; i < r->n_dags; i++)
			for (size_t k = 0; k < r->dags[i].triage.an.n_quiet; k++) {
				cJSON *x = triage_quiet_json(&r->dags[i].triage.an.quiet[k]);

				cJSON_AddStringToObject(x, "dag_id", r->dags[i].dag_id);
				jsonout_str(x, "source", r->dags[i].source);
				cJSON_AddItemToArray(q, x);
			}
		cJSON_AddItemToObject(o, "quiet_failures", q);
	}
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
	for (size_t i = 0; i < r->n_fleet; i++) {
		cJSON *x = cJSON_CreateObject(), *dl = cJSON_CreateArray();

		cJSON_AddStringToObject(x, "kind", rk_kind_name(r->fleet[i].kind));
		for (size_t k = 0; k < r->fleet[i].dags.n; k++)
			cJSON_AddItemToArray(dl, cJSON_CreateString(r->fleet[i].dags.v[k]));
		cJSON_AddItemToObject(x, "dags", dl);
		cJSON_AddNumberToObject(x, "best_confidence", jsonout_round3(r->fleet[i].best));
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
		cJSON_AddItemToObject(x, "grid", grid_json(&d->triage));
		cJSON_AddItemToArray(dags, x);
	}
	cJSON_AddItemToObject(o, "dags", dags);
	for (size_t i = 0; i < r->notes.n; i++)
		cJSON_AddItemToArray(notes, cJSON_CreateString(r->notes.v[i]));
	cJSON_AddItemToObject(o, "notes", notes);
	return o;
}

