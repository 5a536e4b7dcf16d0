/*
 * analyze_quiet.c - quiet failures of the DAG's tasks: each task's stored
 * successful logs in the window, oldest run first, through quiet.h.
 */
#include "dagdoc/util.h"

#include "dagdoc/quiet.h"

#include "analyze_impl.h"

/* The newest successful logs of a task that are read (the baseline and its streak fit well within). */
#define QUIET_READ_MAX 40

/* The successful try with a stored log of `task` in run r (the first instance that has one). */
static const struct try_rec *success_with_log(const struct ctx *c, size_t r, size_t task)
{
	const struct run_rec *rr = &c->runs[r];

	for (size_t k = 0; k < rr->n_tis; k++) {
		const struct ti_rec *ti = &rr->tis[k];

		if (ti->task != (int)task || ti->state != DD_STATE_SUCCESS)
			continue;
		for (size_t t = ti->n_tries; t-- > 0;)
			if (ti->tries[t].state == DD_STATE_SUCCESS && ti->tries[t].has_log)
				return &ti->tries[t];
	}
	return NULL;
}

/* Most severe first; then in task order (the order they were found). */
static int cmp_quiet(const void *a, const void *b)
{
	const struct quiet_finding *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity < y->severity ? 1 : -1;
	return x->task_index < y->task_index ? -1 : x->task_index > y->task_index;
}

void an_find_quiet(struct ctx *c)
{
	struct an_result *res = c->res;
	size_t cap = 0;
	char *upstream = NULL;
	struct dd_buf log = DD_BUF_INIT;

	for (size_t task = 0; task < res->n_tasks; task++) {
		size_t *runs = dd_xmalloc((res->n_runs + 1) * sizeof(*runs)), n = 0, from;
		struct quiet_task *q;

		for (size_t r = 0; r < res->n_runs; r++)
			if (success_with_log(c, r, task))
				runs[n++] = r;
		if (n <= QUIET_MIN_POINTS && (!res->tasks[task].is_sensor || upstream)) {
			free(runs);
			continue;
		}
		from = n > QUIET_READ_MAX ? n - QUIET_READ_MAX : 0;
		q = quiet_task_new(res->tasks[task].task_id);
		for (size_t i = from; i < n; i++) {
			const struct try_rec *tr = success_with_log(c, runs[i], task);
			struct dd_store_log_info info;
			struct dd_error e = DD_ERROR_INIT;

			dd_buf_reset(&log);
			if (store_log_get(c->store, tr->ref, &log, &info, &e) < 0)
				continue;
			res->n_log_reads++;
			if (res->tasks[task].is_sensor && !upstream)
				upstream = quiet_sensor_upstream(dd_buf_str(&log), log.len);
			if (n <= QUIET_MIN_POINTS) {
				if (upstream)
					break; /* read for the sensor's upstream DAG only */
				continue;
			}
			quiet_task_add_log(q, res->runs[runs[i]].run_id, res->runs[runs[i]].logical_ms,
					   dd_buf_str(&log), log.len);
		}
		{
			size_t before = res->n_quiet;

			quiet_task_finish(q, &res->quiet, &res->n_quiet, &cap);
			for (size_t k = before; k < res->n_quiet; k++)
				res->quiet[k].task_index = k;
		}
		quiet_task_free(q);
		free(runs);
	}
	if (res->n_quiet > 1)
		qsort(res->quiet, res->n_quiet, sizeof(*res->quiet), cmp_quiet);
	/* a stale input is tied to the upstream DAG a sensor of this DAG waits for */
	for (size_t i = 0; i < res->n_quiet && upstream; i++)
		if (res->quiet[i].kind == QUIET_STALE_INPUT)
			res->quiet[i].upstream_dag = dd_xstrdup(upstream);
	free(upstream);
	dd_buf_release(&log);
}
