/*
 * analyze_grid.c - the run x task grid of a DAG's newest runs (see analyze.h).
 */
#include "dagdoc/util.h"

#include "analyze_impl.h"

/* ---- the run x task grid -------------------------------------------------------- */

/* Which of several states of one task in one run the grid shows: a failure
 * over upstream_failed over unfinished over success over skipped. */
static int grid_rank(enum dd_state s)
{
	if (s == DD_STATE__COUNT)
		return -1;
	if (dd_state_is_failure(s) && s != DD_STATE_UPSTREAM_FAILED)
		return 6;
	if (s == DD_STATE_UPSTREAM_FAILED)
		return 5;
	if (!dd_state_is_terminal(s))
		return 4;
	if (s == DD_STATE_SUCCESS)
		return 2;
	if (s == DD_STATE_SKIPPED)
		return 1;
	return 3;
}

const struct an_cell *an_grid_cell(const struct an_grid *g, size_t task, size_t run)
{
	return &g->cells[task * g->n_runs + run];
}

void an_build_grid(struct ctx *c)
{
	struct an_result *res = c->res;
	struct an_grid *g = &res->grid;
	size_t first = res->n_runs > AN_GRID_RUNS ? res->n_runs - AN_GRID_RUNS : 0;

	g->n_runs = res->n_runs - first;
	g->n_tasks = res->n_tasks;
	g->run_ids = dd_xcalloc(g->n_runs + 1, sizeof(char *));
	g->run_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_states = dd_xcalloc(g->n_runs + 1, sizeof(enum dd_state));
	g->task_ids = dd_xcalloc(g->n_tasks + 1, sizeof(char *));
	g->cells = dd_xcalloc(g->n_runs * g->n_tasks + 1, sizeof(struct an_cell));
	for (size_t i = 0; i < g->n_runs * g->n_tasks; i++)
		g->cells[i].state = DD_STATE__COUNT;
	for (size_t t = 0; t < g->n_tasks; t++)
		g->task_ids[t] = dd_xstrdup(res->tasks[t].task_id);
	for (size_t r = 0; r < g->n_runs; r++) {
		const struct run_rec *rr = &c->runs[first + r];

		g->run_ids[r] = dd_xstrdup(res->runs[first + r].run_id);
		g->run_ms[r] = res->runs[first + r].logical_ms;
		g->run_states[r] = res->runs[first + r].state;
		for (size_t k = 0; k < rr->n_tis; k++) {
			const struct ti_rec *ti = &rr->tis[k];
			int t = an_task_index(res, ti->task_id);
			const struct try_rec *newest_failed = NULL;
			struct an_cell *cell;

			if (t < 0)
				continue;
			cell = &g->cells[(size_t)t * g->n_runs + r];
			if (grid_rank(ti->state) > grid_rank(cell->state))
				cell->state = ti->state;
			for (size_t x = 0; x < ti->n_tries; x++) {
				const struct try_rec *tr = &ti->tries[x];

				if (tr->try_number > cell->tries)
					cell->tries = tr->try_number;
				if (dd_state_is_failed_try(tr->state)) {
					cell->failed_tries++;
					if (!newest_failed || tr->try_number > newest_failed->try_number)
						newest_failed = tr;
				}
			}
			if (newest_failed && newest_failed->category) {
				free(cell->category);
				free(cell->error);
				cell->category = dd_xstrdup(newest_failed->category);
				cell->error = dd_xstrdup(newest_failed->error);
			}
		}
	}
}

void an_grid_release(struct an_grid *g)
{
	for (size_t r = 0; r < g->n_runs; r++)
		free(g->run_ids[r]);
	for (size_t t = 0; t < g->n_tasks; t++)
		free(g->task_ids[t]);
	for (size_t i = 0; i < g->n_runs * g->n_tasks; i++) {
		free(g->cells[i].category);
		free(g->cells[i].error);
	}
	free(g->run_ids);
	free(g->run_ms);
	free(g->run_states);
	free(g->task_ids);
	free(g->cells);
	memset(g, 0, sizeof(*g));
}
