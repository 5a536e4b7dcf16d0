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

/* Is task t (of res->tasks) an end of a dependency of the DAG? */
static int in_edge(const struct ctx *c, const char *task_id)
{
	for (size_t i = 0; i < c->dag.n_tasks; i++) {
		const struct dd_task *d = &c->dag.tasks[i];

		for (size_t k = 0; k < d->n_downstream; k++)
			if (!strcmp(d->downstream[k], task_id) || (!strcmp(d->task_id, task_id) &&
			                                          an_task_index(c->res, d->downstream[k]) >= 0))
				return 1;
	}
	return 0;
}

/* Does task `up` (of res->tasks) feed task `down` directly? */
static int feeds(const struct ctx *c, const char *up, const char *down)
{
	for (size_t i = 0; i < c->dag.n_tasks; i++)
		if (!strcmp(c->dag.tasks[i].task_id, up))
			for (size_t k = 0; k < c->dag.tasks[i].n_downstream; k++)
				if (!strcmp(c->dag.tasks[i].downstream[k], down))
					return 1;
	return 0;
}

/* The rows of the grid: indexes into res->tasks in topological order (Kahn's
 * algorithm, the smallest task id first among those ready), then the tasks in
 * no dependency, by task id.  A cycle (never in a valid DAG) leaves its tasks
 * to the second part.  Caller frees. */
static size_t *grid_rows(const struct ctx *c)
{
	const struct an_result *res = c->res;
	size_t n = res->n_tasks, done = 0;
	size_t *rows = dd_xcalloc(n + 1, sizeof(size_t)), *indeg = dd_xcalloc(n + 1, sizeof(size_t));
	char *placed = dd_xcalloc(n + 1, 1), *edged = dd_xcalloc(n + 1, 1);

	for (size_t t = 0; t < n; t++) {
		edged[t] = (char)in_edge(c, res->tasks[t].task_id);
		for (size_t u = 0; u < n; u++)
			indeg[t] += u != t && feeds(c, res->tasks[u].task_id, res->tasks[t].task_id);
	}
	for (int part = 0; part < 2; part++)
		for (;;) {
			size_t best = n;

			for (size_t t = 0; t < n; t++)
				if (!placed[t] && (part ? 1 : edged[t] && !indeg[t]) &&
				    (best == n || strcmp(res->tasks[t].task_id, res->tasks[best].task_id) < 0))
					best = t;
			if (best == n)
				break;
			placed[best] = 1;
			rows[done++] = best;
			for (size_t t = 0; !part && t < n; t++)
				if (t != best && indeg[t] && feeds(c, res->tasks[best].task_id, res->tasks[t].task_id))
					indeg[t]--;
		}
	free(indeg);
	free(placed);
	free(edged);
	return rows;
}

/* The newest try of ti: its number, and its wall clock into cell (the
 * instance's when no try says; the earliest start and latest end over the
 * instances of a mapped task). */
static void cell_clock(struct an_cell *cell, const struct ti_rec *ti)
{
	const struct try_rec *newest = NULL;
	int64_t start, end;

	for (size_t x = 0; x < ti->n_tries; x++)
		if (!newest || ti->tries[x].try_number > newest->try_number)
			newest = &ti->tries[x];
	start = newest && newest->start_ms ? newest->start_ms : ti->start_ms;
	end = newest && newest->end_ms ? newest->end_ms : ti->end_ms;
	if (start && (!cell->start_ms || start < cell->start_ms))
		cell->start_ms = start;
	if (end > cell->end_ms)
		cell->end_ms = end;
	if (ti->external_id && !cell->task_run_id)
		cell->task_run_id = dd_xstrdup(ti->external_id);
}

void an_build_grid(struct ctx *c)
{
	struct an_result *res = c->res;
	struct an_grid *g = &res->grid;
	size_t first = res->n_runs > AN_GRID_RUNS ? res->n_runs - AN_GRID_RUNS : 0;
	size_t *rows = grid_rows(c);
	int *row_of = dd_xcalloc(res->n_tasks + 1, sizeof(int));

	g->n_runs = res->n_runs - first;
	g->n_tasks = res->n_tasks;
	g->run_ids = dd_xcalloc(g->n_runs + 1, sizeof(char *));
	g->run_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_start_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_end_ms = dd_xcalloc(g->n_runs + 1, sizeof(int64_t));
	g->run_states = dd_xcalloc(g->n_runs + 1, sizeof(enum dd_state));
	g->task_ids = dd_xcalloc(g->n_tasks + 1, sizeof(char *));
	g->cells = dd_xcalloc(g->n_runs * g->n_tasks + 1, sizeof(struct an_cell));
	for (size_t i = 0; i < g->n_runs * g->n_tasks; i++)
		g->cells[i].state = DD_STATE__COUNT;
	for (size_t t = 0; t < g->n_tasks; t++) {
		g->task_ids[t] = dd_xstrdup(res->tasks[rows[t]].task_id);
		row_of[rows[t]] = (int)t;
	}
	for (size_t r = 0; r < g->n_runs; r++) {
		const struct run_rec *rr = &c->runs[first + r];

		g->run_ids[r] = dd_xstrdup(res->runs[first + r].run_id);
		g->run_ms[r] = res->runs[first + r].logical_ms;
		g->run_start_ms[r] = res->runs[first + r].start_ms;
		g->run_end_ms[r] = res->runs[first + r].end_ms;
		g->run_states[r] = res->runs[first + r].state;
		for (size_t k = 0; k < rr->n_tis; k++) {
			const struct ti_rec *ti = &rr->tis[k];
			int t = an_task_index(res, ti->task_id);
			const struct try_rec *newest_failed = NULL;
			struct an_cell *cell;

			if (t < 0)
				continue;
			cell = &g->cells[(size_t)row_of[t] * g->n_runs + r];
			if (grid_rank(ti->state) > grid_rank(cell->state))
				cell->state = ti->state;
			cell_clock(cell, ti);
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
	free(rows);
	free(row_of);
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
		free(g->cells[i].task_run_id);
	}
	free(g->run_ids);
	free(g->run_ms);
	free(g->run_start_ms);
	free(g->run_end_ms);
	free(g->run_states);
	free(g->task_ids);
	free(g->cells);
	memset(g, 0, sizeof(*g));
}
