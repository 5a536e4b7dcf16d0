/*
 * analyze_stalls.c - what a DAG's history says beyond its failures: sensors timing out,
 * queues and runs far longer than usual, stuck work, stale upstream DAGs,
 * upstream_failed chains, scheduler health, import errors (see analyze.h).
 */
#include "dagdoc/util.h"

#include <math.h>

#include "dagdoc/redact.h"

#include "analyze_impl.h"

/* ---- stalls ------------------------------------------------------------------------ */

static void add_stall(struct an_result *res, size_t *cap, enum an_stall_kind kind, const char *task_id,
                      const char *run_id, const char *entity, size_t count, double severity,
                      char *detail)
{
	struct an_stall *s;

	DD_GROW(res->stalls, *cap, res->n_stalls + 1);
	s = &res->stalls[res->n_stalls++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->task_id = dd_xstrdup(task_id);
	s->run_id = dd_xstrdup(run_id);
	s->entity = dd_xstrdup(entity);
	s->count = count;
	s->severity = severity;
	s->detail = detail;
}

/* Successful tries of a task getting steadily longer: the median of the
 * newest third against the oldest third. */
static void growth_stall(struct ctx *c, const struct an_task *at, size_t *cap)
{
	struct an_result *res = c->res;
	size_t n = 0, n_tis = 1;     /* a mapped task has several instances per run */
	double *d;

	for (size_t r = 0; r < res->n_runs; r++)
		n_tis += c->runs[r].n_tis;
	d = dd_xcalloc(n_tis, sizeof(double));
	for (size_t r = 0; r < res->n_runs; r++)
		for (size_t k = 0; k < c->runs[r].n_tis; k++) {
			const struct ti_rec *ti = &c->runs[r].tis[k];
			const struct try_rec *last;

			if (!ti_is(ti, res, at) || ti->state != DD_STATE_SUCCESS || !ti->n_tries)
				continue;
			last = &ti->tries[ti->n_tries - 1];
			if (last->start_ms && last->end_ms > last->start_ms)
				d[n++] = (double)(last->end_ms - last->start_ms) / 1000.0;
		}
	if (n >= GROWTH_MIN_RUNS) {
		size_t third = n / 3;
		double first = an_median(d, third);              /* an_median() sorts its slice: */
		double last = an_median(d + n - third, third);   /* the two slices do not overlap */

		if (first > 0 && last >= FAST_MIN_S && last >= GROWTH_FACTOR * first)
			add_stall(res, cap, AN_STALL_DURATION_GROWTH, at->task_id, NULL, NULL, n, 0.5,
			          dd_xasprintf("%s's successful runs grew from %.0f s to %.0f s (x%.1f) over the window: more input?",
			                       at->task_id, first, last, last / first));
	}
	free(d);
}

static void duration_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t t = 0; t < res->n_tasks; t++) {
		const struct an_task *at = &res->tasks[t];
		size_t long_q = 0, long_run = 0, fast = 0;
		const char *q_run = NULL, *l_run = NULL, *f_run = NULL;
		double worst_q = 0, worst_l = 0, fastest = 0;

		if (at->success < MIN_HISTORY)
			continue;
		for (size_t r = 0; r < res->n_runs; r++)
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];
				double q, d;

				if (!ti_is(ti, res, at))
					continue;
				q = ti->queued_ms && ti->start_ms > ti->queued_ms ? (double)(ti->start_ms - ti->queued_ms) / 1000.0 : 0;
				d = ti->start_ms && ti->end_ms > ti->start_ms ? (double)(ti->end_ms - ti->start_ms) / 1000.0 : 0;
				if (at->median_queue_s > 0 && q > FAR_FACTOR * at->median_queue_s && q > FAR_MIN_S) {
					long_q++;
					q_run = res->runs[r].run_id;
					worst_q = fmax(worst_q, q);
				}
				/* Failed tries that ran far longer than a success (one try
				 * at a time: a task instance's span includes retry delays). */
				for (size_t x = 0; x < ti->n_tries; x++) {
					const struct try_rec *tr = &ti->tries[x];
					double td = tr->start_ms && tr->end_ms > tr->start_ms
					          ? (double)(tr->end_ms - tr->start_ms) / 1000.0 : 0;

					if (dd_state_is_failed_try(tr->state) && at->median_duration_s > 0 &&
					    td > FAR_FACTOR * at->median_duration_s && td > FAR_MIN_S) {
						long_run++;
						l_run = res->runs[r].run_id;
						worst_l = fmax(worst_l, td);
					}
				}
				if (ti->state == DD_STATE_SUCCESS && at->median_duration_s >= FAST_MIN_S && d > 0 &&
				    d < FAST_FACTOR * at->median_duration_s) {
					fast++;
					f_run = res->runs[r].run_id;
					fastest = fastest == 0 ? d : fmin(fastest, d);
				}
			}
		growth_stall(c, at, cap);
		if (long_q)
			add_stall(res, cap, AN_STALL_LONG_QUEUE, at->task_id, q_run, NULL, long_q, 0.5,
			          dd_xasprintf("%s waited up to %.0f s in the queue (usually %.0f s) in %zu %s",
			                       at->task_id, worst_q, at->median_queue_s, long_q, DD_PLURAL(long_q, "run", "runs")));
		if (long_run)
			add_stall(res, cap, AN_STALL_LONG_RUNNING, at->task_id, l_run, NULL, long_run, 0.5,
			          dd_xasprintf("%s ran up to %.0f s before failing (a success usually takes %.0f s): %zu failed tries",
			                       at->task_id, worst_l, at->median_duration_s, long_run));
		if (fast)
			add_stall(res, cap, AN_STALL_FAST_SUCCESS, at->task_id, f_run, NULL, fast, 0.4,
			          dd_xasprintf("%s succeeded in %.0f s where it usually takes %.0f s (%zu %s): empty input?",
			                       at->task_id, fastest, at->median_duration_s, fast, DD_PLURAL(fast, "run", "runs")));
	}
}

/* Still queued or running when the states were read. */
static int is_waiting(enum dd_state s)
{
	return s == DD_STATE_QUEUED || s == DD_STATE_SCHEDULED || s == DD_STATE_LATE || s == DD_STATE_PENDING;
}

static int is_running(enum dd_state s)
{
	return s == DD_STATE_RUNNING || s == DD_STATE_UP_FOR_RESCHEDULE || s == DD_STATE_DEFERRED ||
	       s == DD_STATE_RESTARTING;
}

static double seconds_between(int64_t from_ms, int64_t to_ms)
{
	return from_ms && to_ms > from_ms ? (double)(to_ms - from_ms) / 1000.0 : 0;
}

/* The newest time the store holds for this DAG, when no sync time is known. */
int64_t an_newest_stamp(const struct ctx *c)
{
	int64_t t = 0;

	for (size_t r = 0; r < c->res->n_runs; r++) {
		const struct an_run *ar = &c->res->runs[r];

		t = ar->start_ms > t ? ar->start_ms : t;
		t = ar->end_ms > t ? ar->end_ms : t;
		for (size_t k = 0; k < c->runs[r].n_tis; k++) {
			const struct ti_rec *ti = &c->runs[r].tis[k];

			t = ti->queued_ms > t ? ti->queued_ms : t;
			t = ti->start_ms > t ? ti->start_ms : t;
			t = ti->end_ms > t ? ti->end_ms : t;
		}
	}
	return t;
}

struct stuck {
	size_t n;
	double worst_s;
	const char *run_id;
};

static void stuck_note(struct stuck *s, double elapsed, const char *run_id, char *run_flag)
{
	if (run_flag)
		*run_flag = 1;
	s->n++;
	if (elapsed > s->worst_s) {
		s->worst_s = elapsed;
		s->run_id = run_id;
	}
}

static int far_longer(double elapsed, double usual)
{
	return elapsed > FAR_MIN_S && elapsed > FAR_FACTOR * usual;
}

/* Task instances, and runs, that were still queued or running when the
 * source was last read, far longer than they usually take. */
static void stuck_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;
	int64_t now = res->as_of_ms;
	double *run_durs = dd_xcalloc(res->n_runs + 1, sizeof(double));
	char *task_stuck = dd_xcalloc(res->n_runs + 1, 1);    /* runs with a stuck task */
	size_t n_run_durs = 0;
	struct stuck whole = { 0, 0, NULL };
	double usual_run;
	char took[24], usual[24];

	for (size_t t = 0; t < res->n_tasks; t++) {
		const struct an_task *at = &res->tasks[t];
		struct stuck queued = { 0, 0, NULL }, running = { 0, 0, NULL };

		if (at->runs < MIN_HISTORY)
			continue;
		for (size_t r = 0; r < res->n_runs; r++)
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];
				const struct try_rec *last = ti->n_tries ? &ti->tries[ti->n_tries - 1] : NULL;
				int64_t started = last && last->start_ms ? last->start_ms : ti->start_ms;

				if (!ti_is(ti, res, at))
					continue;
				if (is_waiting(ti->state) && far_longer(seconds_between(ti->queued_ms, now), at->median_queue_s))
					stuck_note(&queued, seconds_between(ti->queued_ms, now), res->runs[r].run_id, &task_stuck[r]);
				else if (is_running(ti->state) && at->median_duration_s > 0 &&
				         far_longer(seconds_between(started, now), at->median_duration_s))
					stuck_note(&running, seconds_between(started, now), res->runs[r].run_id, &task_stuck[r]);
			}
		if (queued.n) {
			dd_format_duration(queued.worst_s, took, sizeof(took));
			if (at->median_queue_s > 0)
				dd_format_duration(at->median_queue_s, usual, sizeof(usual));
			else
				snprintf(usual, sizeof(usual), "an unknown time");
			add_stall(res, cap, AN_STALL_STUCK_QUEUED, at->task_id, queued.run_id, NULL, queued.n, 0.8,
			          dd_xasprintf("%s has been queued for %s in run %s (it usually waits %s): %zu %s not started",
			                       at->task_id, took, queued.run_id, usual, queued.n,
			                       DD_PLURAL(queued.n, "instance", "instances")));
			res->stalls[res->n_stalls - 1].seconds = queued.worst_s;
			res->stalls[res->n_stalls - 1].usual_s = at->median_queue_s;
		}
		if (running.n) {
			dd_format_duration(running.worst_s, took, sizeof(took));
			dd_format_duration(at->median_duration_s, usual, sizeof(usual));
			add_stall(res, cap, AN_STALL_STUCK_RUNNING, at->task_id, running.run_id, NULL, running.n, 0.8,
			          dd_xasprintf("%s %s for %s in run %s (a success usually takes %s): %zu %s not finished",
			                       at->task_id, at->is_sensor ? "has been waiting" : "has been running", took,
			                       running.run_id, usual, running.n, DD_PLURAL(running.n, "instance", "instances")));
			res->stalls[res->n_stalls - 1].seconds = running.worst_s;
			res->stalls[res->n_stalls - 1].usual_s = at->median_duration_s;
		}
	}
	/* A run that is not finishing while none of its tasks is stuck: nothing
	 * gets scheduled (pools, concurrency limits, the scheduler). */
	for (size_t r = 0; r < res->n_runs; r++)
		if (res->runs[r].state == DD_STATE_SUCCESS && res->runs[r].end_ms > res->runs[r].start_ms && res->runs[r].start_ms)
			run_durs[n_run_durs++] = seconds_between(res->runs[r].start_ms, res->runs[r].end_ms);
	usual_run = n_run_durs >= MIN_HISTORY ? an_median(run_durs, n_run_durs) : 0;
	free(run_durs);
	for (size_t r = 0; usual_run > 0 && r < res->n_runs; r++) {
		const struct an_run *ar = &res->runs[r];

		if (dd_state_is_terminal(ar->state) || !far_longer(seconds_between(ar->start_ms, now), usual_run))
			continue;
		if (!task_stuck[r])
			stuck_note(&whole, seconds_between(ar->start_ms, now), ar->run_id, NULL);
	}
	free(task_stuck);
	if (whole.n) {
		dd_format_duration(whole.worst_s, took, sizeof(took));
		dd_format_duration(usual_run, usual, sizeof(usual));
		add_stall(res, cap, AN_STALL_STUCK_RUNNING, NULL, whole.run_id, NULL, whole.n, 0.6,
		          dd_xasprintf("run %s has been going for %s (a successful run usually takes %s) with no task stuck: "
		                       "are its tasks waiting for a pool slot or a concurrency limit?",
		                       whole.run_id, took, usual));
		res->stalls[res->n_stalls - 1].seconds = whole.worst_s;
		res->stalls[res->n_stalls - 1].usual_s = usual_run;
	}
}

struct dag_last_success {
	int64_t last_ms;
	int64_t prev_ms;
	double interval_s;
	size_t n;
	int64_t stamps[64];
};

static int on_upstream_run(const struct dd_store_run *r, void *ud)
{
	struct dag_last_success *ls = ud;
	int64_t t = r->run.logical_ms ? r->run.logical_ms : r->run.start_ms;

	if (ls->n < DD_ARRAY_SIZE(ls->stamps))
		ls->stamps[ls->n++] = t;
	else {
		memmove(ls->stamps, ls->stamps + 1, sizeof(ls->stamps) - sizeof(ls->stamps[0]));
		ls->stamps[ls->n - 1] = t;
	}
	if (r->run.state == DD_STATE_SUCCESS)
		ls->last_ms = t;
	return 0;
}

/* Sensors naming an upstream DAG (entity upstream_dag) whose newest success is old. */
static void upstream_dag_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t gi = 0; gi < res->n_groups; gi++) {
		const char *up = dd_failure_entity(&res->groups[gi].failure, "upstream_dag");
		struct dag_last_success ls;
		struct dd_error e2 = DD_ERROR_INIT;
		int64_t ref;
		double *iv;
		size_t ni = 0;
		char when[40];

		if (!up || store_dag_ref(c->store, NULL, up, &ref, &e2) < 0)
			continue;
		memset(&ls, 0, sizeof(ls));
		if (store_runs(c->store, ref, 0, 0, on_upstream_run, &ls, &e2) < 0 || ls.n < 2)
			continue;
		iv = dd_xcalloc(ls.n, sizeof(double));
		for (size_t i = 1; i < ls.n; i++)
			if (ls.stamps[i] > ls.stamps[i - 1])
				iv[ni++] = (double)(ls.stamps[i] - ls.stamps[i - 1]) / 1000.0;
		ls.interval_s = an_median(iv, ni);
		free(iv);
		if (ls.interval_s <= 0)
			continue;
		{
			int64_t ref_time = res->groups[gi].last_ms ? res->groups[gi].last_ms : res->to_ms;
			double age = ls.last_ms ? (double)(ref_time - ls.last_ms) / 1000.0 : 1e18;

			if (age < STALE_INTERVALS * ls.interval_s)
				continue;
			if (ls.last_ms)
				dd_format_time(ls.last_ms, 0, when, sizeof(when));
			add_stall(res, cap, AN_STALL_UPSTREAM_DAG, res->groups[gi].task_ids.v[0],
			          res->groups[gi].last_run, up, 1, 0.9,
			          ls.last_ms ? dd_xasprintf("upstream DAG %s last succeeded at %s, %.1f of its usual intervals before this failure",
			                                    up, when, age / ls.interval_s)
			                     : dd_xasprintf("upstream DAG %s has no successful run in the store", up));
		}
	}
}

static void sensor_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t t = 0; t < res->n_tasks; t++) {
		const struct an_task *at = &res->tasks[t];
		size_t resched = 0, timeouts = 0;
		const char *last_run = NULL;

		if (!at->is_sensor)
			continue;
		for (size_t r = 0; r < res->n_runs; r++)
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];

				if (!ti_is(ti, res, at))
					continue;
				for (size_t x = 0; x < ti->n_tries; x++)
					if (ti->tries[x].state == DD_STATE_UP_FOR_RESCHEDULE)
						resched++;
				if (dd_state_is_failure(ti->state) && ti->state != DD_STATE_UPSTREAM_FAILED) {
					timeouts++;
					last_run = res->runs[r].run_id;
				}
			}
		if (timeouts)
			add_stall(res, cap, AN_STALL_SENSOR_TIMEOUT, at->task_id, last_run, NULL, timeouts, 0.8,
			          dd_xasprintf("sensor %s failed in %zu %s%s", at->task_id, timeouts, DD_PLURAL(timeouts, "run", "runs"),
			                       resched ? " after rescheduling" : ""));
	}
}

/* An import error of the DAG's file: it does not parse. */
static void import_error_stall(struct ctx *c, const struct dd_import_error *ie, size_t *cap)
{
	{
		const char *last = ie->stack_trace ? ie->stack_trace : "";
		const char *end = last + strlen(last);
		const char *line;

		while (end > last && (end[-1] == '\n' || end[-1] == ' '))
			end--;
		line = end;
		while (line > last && line[-1] != '\n')
			line--;
		struct dd_failure f;
		struct dd_error e2 = DD_ERROR_INIT;
		struct an_stall *st;

		struct dd_buf red = DD_BUF_INIT;

		/* The stack trace is raw text from the source: redact what is shown. */
		redact_append(&red, line, (size_t)(end - line));
		add_stall(c->res, cap, AN_STALL_IMPORT_ERROR, NULL, NULL, ie->filename, 1, 1.0,
		          dd_xasprintf("%s does not parse: %s", ie->filename, dd_buf_str(&red)));
		dd_buf_release(&red);
		/* What the stack trace names (the missing module, the bad line ...). */
		st = &c->res->stalls[c->res->n_stalls - 1];
		memset(&f, 0, sizeof(f));
		if (ie->stack_trace && classify_buffer(c->lib, ie->filename, ie->stack_trace, strlen(ie->stack_trace),
		                                       &f, &e2) == 0) {
			st->entities = f.entities;
			st->n_entities = f.n_entities;
			f.entities = NULL;
			f.n_entities = 0;
		}
		dd_failure_release(&f);
	}
}

static void health_stalls(struct ctx *c, size_t *cap)
{
	const struct dd_health *h = &c->health;
	int64_t taken = c->health_ms;

	for (size_t i = 0; i < c->ie_files.n; i++) {
		struct dd_import_error ie = { 0 };

		ie.filename = c->ie_files.v[i];
		ie.stack_trace = *c->ie_traces.v[i] ? c->ie_traces.v[i] : NULL;
		import_error_stall(c, &ie, cap);
	}
	if (!taken)
		return;
	if (h->scheduler_status && strcmp(h->scheduler_status, "healthy")) {
		add_stall(c->res, cap, AN_STALL_SCHEDULER, NULL, NULL, "scheduler", 1, 0.8,
		          dd_xasprintf("the scheduler reported itself %s", h->scheduler_status));
	} else if (h->scheduler_heartbeat_ms && taken - h->scheduler_heartbeat_ms > HEARTBEAT_STALE_S * 1000LL) {
		add_stall(c->res, cap, AN_STALL_SCHEDULER, NULL, NULL, "scheduler", 1, 0.7,
		          dd_xasprintf("the scheduler's last heartbeat was %lld s old when checked",
		                       (long long)((taken - h->scheduler_heartbeat_ms) / 1000)));
	}
}

static void upstream_failed_stalls(struct ctx *c, size_t *cap)
{
	struct an_result *res = c->res;

	for (size_t gi = 0; gi < res->n_groups; gi++) {
		const struct an_group *g = &res->groups[gi];

		if (g->downstream_upstream_failed)
			add_stall(res, cap, AN_STALL_UPSTREAM_FAILED, g->task_ids.v[0], g->last_run,
			          g->task_ids.v[0], g->downstream_upstream_failed, 0.3,
			          dd_xasprintf("%zu downstream task %s left upstream_failed by %s",
			                       g->downstream_upstream_failed,
			                       DD_PLURAL(g->downstream_upstream_failed, "instance was", "instances were"),
			                       g->task_ids.v[0]));
	}
}

void an_find_stalls(struct ctx *c)
{
	size_t cap = 0;

	sensor_stalls(c, &cap);
	duration_stalls(c, &cap);
	stuck_stalls(c, &cap);
	upstream_dag_stalls(c, &cap);
	upstream_failed_stalls(c, &cap);
	health_stalls(c, &cap);
}
