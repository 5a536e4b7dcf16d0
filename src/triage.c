/*
 * triage.c - one DAG's diagnosis (the renderers are triage_render.c).
 * See triage.h.
 */
#include "dagdoc/util.h"

#include "dagdoc/connector.h"
#include "dagdoc/evidence.h"
#include "dagdoc/triage.h"

struct newest {
	int64_t ref;
	int64_t newest_ms;
	int64_t source_ref;
	char *source_kind;
};

static int on_dag(const struct dd_store_dag *d, void *ud)
{
	struct newest *n = ud;

	if (d->ref != n->ref)
		return 0;
	n->newest_ms = d->last_logical_ms;
	n->source_ref = d->source_ref;
	n->source_kind = dd_xstrdup(d->source_kind);
	return 1;
}

/* The link for the top cause's newest failing run (and task), or the
 * newest run. */
static char *ui_link(const char *form, const char *base, const struct triage_result *t)
{
	const struct an_result *an = &t->an;
	const char *run = NULL, *task = NULL;

	if (!form || !an->dag_id)
		return NULL;
	if (t->rk.n_causes) {
		const struct rk_cause *top = &t->rk.causes[0];

		task = top->task_ids.n ? top->task_ids.v[0] : NULL;
		run = top->first_bad_run;
		for (size_t i = 0; i < an->n_groups; i++)
			if (!strcmp(an->groups[i].fingerprint, top->fingerprint) && an->groups[i].last_run)
				run = an->groups[i].last_run;
	}
	if (!run && an->n_quiet && an->quiet[0].n_values) {   /* degraded: the newest run of the quiet failure */
		task = an->quiet[0].task_id;
		run = an->quiet[0].run_ids[an->quiet[0].n_values - 1];
	}
	if (!run && an->n_runs)
		run = an->runs[an->n_runs - 1].run_id;
	return conn_ui_link(form, base, an->dag_id, run, task);
}

int triage_dag(struct dd_store *store, int64_t dag_ref, const struct pat_library *lib,
               struct gitcorr_repo **repos, size_t n_repos, int64_t since_s, const struct rk_input *in,
               struct triage_result *out, struct dd_error *err)
{
	struct newest n = { dag_ref, 0, 0, NULL };
	char *form = NULL, *base = NULL;
	int64_t to_ms, from_ms;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = store_dags(store, 0, on_dag, &n, err);
	out->source_kind = n.source_kind;
	if (rc < 0)
		return rc;
	to_ms = n.newest_ms ? n.newest_ms : dd_now_ms();
	from_ms = to_ms - since_s * 1000;
	out->newest_ms = n.newest_ms;
	rc = analyze_dag(store, dag_ref, lib, from_ms, to_ms, &out->an, err);
	if (rc < 0)
		return rc;
	rc = rank_causes(&out->an, repos, n_repos, in, &out->rk, err);
	if (rc < 0) {
		analyze_release(&out->an);
		return rc;
	}
	for (size_t i = 0; i < out->an.n_groups; i++)
		if (out->an.groups[i].still_failing)
			out->failing = 1;
	for (size_t i = 0; i < out->rk.n_causes; i++)   /* stuck work is ongoing too */
		if (out->rk.causes[i].still_failing)
			out->failing = 1;
	if (out->an.n_runs && dd_state_is_failure(out->an.runs[out->an.n_runs - 1].state))
		out->failing = 1;
	if (out->an.not_running)
		out->failing = 1;
	out->degraded = out->an.n_quiet > 0;
	for (size_t i = 0; in && in->outputs && i < in->outputs->n; i++) {
		const struct ev_output *o = &in->outputs->v[i];

		if (o->kind == EV_UNKNOWN)
			dd_strv_push_owned(&out->unrecognised_evidence,
			                   dd_xasprintf("%s line %d: %s", o->origin, o->line, o->why));
	}
	/* the link comes from what the sync stored: the same online and offline */
	if (n.source_ref && store_source_ui(store, n.source_ref, &form, &base, NULL) == 0) {
		out->ui_url = ui_link(form, base, out);
		triage_link_grid(out, form, base);
	}
	free(form);
	free(base);
	return 0;
}

int triage_exit_status(const struct triage_result *t, int degraded_exit)
{
	return t->failing ? 1 : t->degraded && degraded_exit ? 1 : 0;
}

static void free_urls(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void triage_link_grid(struct triage_result *t, const char *form, const char *base)
{
	const struct an_grid *g = &t->an.grid;
	char *probe = conn_ui_link(form, base, t->an.dag_id, NULL, NULL);

	free_urls(t->cell_urls, g->n_runs * g->n_tasks);
	free_urls(t->run_urls, g->n_runs);
	t->cell_urls = t->run_urls = NULL;
	if (!probe)
		return;
	free(probe);
	t->cell_urls = dd_xcalloc(g->n_runs * g->n_tasks + 1, sizeof(char *));
	t->run_urls = dd_xcalloc(g->n_runs + 1, sizeof(char *));
	for (size_t r = 0; r < g->n_runs; r++)
		t->run_urls[r] = conn_ui_link(form, base, t->an.dag_id, g->run_ids[r], NULL);
	for (size_t k = 0; k < g->n_tasks; k++)
		for (size_t r = 0; r < g->n_runs; r++) {
			const struct an_cell *c = an_grid_cell(g, k, r);

			if (c->state == DD_STATE__COUNT)
				continue;
			t->cell_urls[k * g->n_runs + r] = conn_ui_try_link(form, base, t->an.dag_id, g->run_ids[r],
			                                                   g->task_ids[k], c->tries, c->task_run_id);
		}
}

void triage_release(struct triage_result *t)
{
	free_urls(t->cell_urls, t->an.grid.n_runs * t->an.grid.n_tasks);
	free_urls(t->run_urls, t->an.grid.n_runs);
	analyze_release(&t->an);
	rank_release(&t->rk);
	free(t->ui_url);
	free(t->source_kind);
	dd_strv_release(&t->unrecognised_evidence);
	memset(t, 0, sizeof(*t));
}

void triage_format_minute(int64_t ms, char *out, size_t outlen)
{
	char iso[40];

	if (!ms) {
		snprintf(out, outlen, "?");
		return;
	}
	dd_format_time(ms, 0, iso, sizeof(iso));
	snprintf(out, outlen, "%.10s %.5s", iso, iso + 11);
}
