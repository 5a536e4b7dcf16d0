/*
 * analyze.c - a DAG's stored history turned into failure groups with
 * onsets, per-task flakiness, and stalls.  See include/dagdoc/analyze.h.
 */
#include "dagdoc/util.h"

#include <ctype.h>
#include <math.h>
#include <cJSON.h>

#include "dagdoc/analyze.h"
#include "dagdoc/classify.h"
#include "dagdoc/knowledge.h"
#include "dagdoc/redact.h"

#include "analyze_impl.h"

static char *fnv_hex(uint64_t h)
{
	return dd_xasprintf("%016llx", (unsigned long long)h);
}

static uint64_t fnv(uint64_t h, const char *s)
{
	h = dd_fnv1a(h, s ? s : "", s ? strlen(s) : 0);
	return h * 0x100000001b3ULL;   /* separator */
}

char *analyze_library_hash(const struct pat_library *lib)
{
	uint64_t h = DD_FNV_INIT;
	char conf[32];

	h = fnv(h, DD_VERSION);
	h = fnv(h, CLASSIFY_LOGIC);                         /* how the classifier decides */
	h = fnv(h, kb_digest(pat_library_knowledge(lib)));  /* what the knowledge base says */
	for (size_t i = 0; i < pat_library_count(lib); i++) {
		const struct pat_pattern *p = pat_library_get(lib, i);

		h = fnv(h, p->id);
		h = fnv(h, p->category);
		h = fnv(h, p->stage);
		snprintf(conf, sizeof(conf), "%.4f", p->confidence);
		h = fnv(h, conf);
		for (size_t j = 0; j < p->regex.n; j++)
			h = fnv(h, p->regex.v[j]);
		for (size_t j = 0; j < p->checks.n; j++)
			h = fnv(h, p->checks.v[j]);
		for (size_t j = 0; j < p->fix.n; j++)
			h = fnv(h, p->fix.v[j]);
	}
	return fnv_hex(h);
}

const char *an_stall_kind_name(enum an_stall_kind k)
{
	switch (k) {
	case AN_STALL_SENSOR_TIMEOUT: return "sensor_timeout";
	case AN_STALL_LONG_QUEUE: return "long_queue";
	case AN_STALL_LONG_RUNNING: return "long_running";
	case AN_STALL_UPSTREAM_DAG: return "upstream_dag_stale";
	case AN_STALL_FAST_SUCCESS: return "fast_success";
	case AN_STALL_SCHEDULER: return "scheduler";
	case AN_STALL_IMPORT_ERROR: return "import_error";
	case AN_STALL_UPSTREAM_FAILED: return "upstream_failed";
	case AN_STALL_DURATION_GROWTH: return "duration_growth";
	case AN_STALL_STUCK_QUEUED: return "stuck_queued";
	case AN_STALL_STUCK_RUNNING: return "stuck_running";
	}
	return "stall";
}

/* ---- loading ------------------------------------------------------------------ */

/* The rows of a history's task instances, tries and versions come in the
 * order of its runs: each finds its run from where the one before was. */
struct run_walk {
	struct ctx *c;
	size_t at;
};

/* The run run_ref (w->at is its index), or NULL when it was not loaded. */
static struct run_rec *walk_to(struct run_walk *w, int64_t run_ref)
{
	size_t n = w->c->res->n_runs;

	while (w->at < n && w->c->runs[w->at].ref != run_ref)
		w->at++;
	if (w->at == n)                 /* not in order after all: look again from the start */
		for (w->at = 0; w->at < n && w->c->runs[w->at].ref != run_ref; w->at++)
			;
	return w->at < n ? &w->c->runs[w->at] : NULL;
}

static int on_try(const struct dd_store_try *t, void *ud)
{
	struct run_rec *rr = walk_to(ud, t->run_ref);

	if (!rr)
		return 0;
	for (size_t i = 0; i < rr->n_tis; i++) {
		struct ti_rec *ti = &rr->tis[i];
		struct try_rec *tr;

		if (ti->ref != t->ti_ref)
			continue;
		DD_GROW(ti->tries, ti->cap_tries, ti->n_tries + 1);
		tr = &ti->tries[ti->n_tries++];
		memset(tr, 0, sizeof(*tr));
		tr->ref = t->ref;
		tr->try_number = t->t.try_number;
		tr->state = t->t.state;
		tr->start_ms = t->t.start_ms;
		tr->end_ms = t->t.end_ms;
		tr->has_log = t->has_log && !t->log_missing;
		return 0;
	}
	return 0;
}

/* The task a task instance is of.  Prefect names each task run after its
 * task and a dynamic key (load_model-863, load_model-a39), one name per
 * flow run; the connector keeps the task's own name as the operator. */
static char *task_identity(int prefect, const char *task_id, const char *task_name)
{
	size_t n = task_name ? strlen(task_name) : 0;

	if (prefect && n && !strncmp(task_id, task_name, n) && task_id[n] == '-' && task_id[n + 1])
		return dd_xstrdup(task_name);
	return dd_xstrdup(task_id);
}

static int on_ti(const struct dd_store_ti *t, void *ud)
{
	struct run_rec *rr = walk_to(ud, t->run_ref);
	struct ti_rec *ti;

	if (!rr)
		return 0;
	DD_GROW(rr->tis, rr->cap_tis, rr->n_tis + 1);
	ti = &rr->tis[rr->n_tis++];
	memset(ti, 0, sizeof(*ti));
	ti->ref = t->ref;
	ti->task_id = task_identity(rr->prefect, t->ti.task_id, t->ti.operator_name);
	ti->map_index = t->ti.map_index;
	ti->state = t->ti.state;
	ti->queued_ms = t->ti.queued_ms;
	ti->start_ms = t->ti.start_ms;
	ti->end_ms = t->ti.end_ms;
	ti->external_id = dd_xstrdup(t->ti.external_id);
	return 0;
}

static int on_run(const struct dd_store_run *r, void *ud)
{
	struct ctx *c = ud;
	struct an_result *res = c->res;
	struct an_run *ar;
	struct run_rec *rr;
	size_t cap = c->cap_runs;

	DD_GROW(res->runs, c->cap_runs, res->n_runs + 1);
	if (c->cap_runs != cap)
		c->runs = dd_xrealloc(c->runs, c->cap_runs * sizeof(*c->runs));
	ar = &res->runs[res->n_runs];
	rr = &c->runs[res->n_runs];
	res->n_runs++;
	memset(ar, 0, sizeof(*ar));
	memset(rr, 0, sizeof(*rr));
	ar->run_id = dd_xstrdup(r->run.run_id);
	ar->scheduled = (r->run.run_type && !strcmp(r->run.run_type, "scheduled")) ||
	                (!r->run.run_type && r->run.run_id && dd_starts_with(r->run.run_id, "scheduled__"));
	ar->state = r->run.state;
	ar->logical_ms = r->run.logical_ms ? r->run.logical_ms : r->run.start_ms;
	ar->start_ms = r->run.start_ms;
	ar->end_ms = r->run.end_ms;
	rr->ref = r->ref;
	rr->prefect = c->prefect;
	return 0;
}

static int on_version(int64_t run_ref, const char *bundle_version, int dag_version, void *ud)
{
	struct run_walk *w = ud;
	struct an_result *res = w->c->res;

	if (!walk_to(w, run_ref))
		return 0;
	if (!res->ran)
		res->ran = dd_xcalloc(res->n_runs, sizeof(*res->ran));
	an_set_str(&res->ran[w->at].bundle_version, bundle_version);
	res->ran[w->at].dag_version = dag_version;
	return 0;
}

/* An import error of the source that names this DAG's file. */
static int on_import_error(const struct dd_import_error *ie, void *ud)
{
	struct ctx *c = ud;
	const char *fl = c->res->fileloc, *base;

	if (!fl || !ie->filename)
		return 0;
	base = strrchr(fl, '/');
	base = base ? base + 1 : fl;
	if (strcmp(ie->filename, fl) && !dd_ends_with(ie->filename, base))
		return 0;
	dd_strv_push(&c->ie_files, ie->filename);
	dd_strv_push(&c->ie_traces, ie->stack_trace ? ie->stack_trace : "");
	return 0;
}

/* The one read of the DAG's history: its runs in the window with their
 * task instances and tries, and its source's newest health snapshot and
 * import errors.  Everything after works on what this loaded (logs and
 * the last successful try before the window are read on demand). */
static int load_history(struct ctx *c, int64_t from_ms, int64_t to_ms)
{
	struct dd_error ignored = DD_ERROR_INIT;
	int64_t end_ms = to_ms ? to_ms + 1 : 0;
	int rc = store_runs(c->store, c->dag_ref, from_ms, end_ms, on_run, c, c->err);
	struct run_walk versions = { c, 0 }, tis = { c, 0 }, tries = { c, 0 };

	if (rc == 0)
		rc = store_run_versions(c->store, c->dag_ref, from_ms, end_ms, on_version, &versions, c->err);
	if (rc == 0)
		rc = store_task_instances(c->store, c->dag_ref, from_ms, end_ms, on_ti, &tis, c->err);
	if (rc == 0)
		rc = store_tries(c->store, c->dag_ref, from_ms, end_ms, on_try, &tries, c->err);
	if (rc < 0 || !c->source_ref)
		return rc;
	/* the source's state is a hint: a store without it still analyses */
	store_import_errors(c->store, c->source_ref, on_import_error, c, &ignored);
	if (store_health_latest(c->store, c->source_ref, &c->health, &c->health_ms, &ignored) < 0)
		c->health_ms = 0;
	return 0;
}

/* The DAG's tasks named as the analysis names task instances: a Prefect
 * flow's task runs listed as tasks (extract-0 -> transform-0) become its
 * tasks (extract -> transform), one entry each. */
static void dag_task_identity(struct ctx *c)
{
	struct dd_dag *d = &c->dag;
	char **names;
	size_t n = 0;

	if (!c->prefect || !d->n_tasks)
		return;
	names = dd_xcalloc(d->n_tasks, sizeof(*names));
	for (size_t i = 0; i < d->n_tasks; i++)
		names[i] = task_identity(1, d->tasks[i].task_id, d->tasks[i].operator_name);
	/* downstream ids by the names of the tasks they are */
	for (size_t i = 0; i < d->n_tasks; i++)
		for (size_t k = 0; k < d->tasks[i].n_downstream; k++)
			for (size_t j = 0; j < d->n_tasks; j++)
				if (!strcmp(d->tasks[i].downstream[k], d->tasks[j].task_id) &&
				    strcmp(d->tasks[i].downstream[k], names[j])) {
					free(d->tasks[i].downstream[k]);
					d->tasks[i].downstream[k] = dd_xstrdup(names[j]);
					break;
				}
	for (size_t i = 0; i < d->n_tasks; i++) {
		size_t same = n;

		for (size_t j = 0; j < n; j++)
			if (!strcmp(d->tasks[j].task_id, names[i]))
				same = j;
		if (same == n) {            /* the first run of this task: it stands for it */
			if (n != i) {
				d->tasks[n] = d->tasks[i];
				memset(&d->tasks[i], 0, sizeof(d->tasks[i]));
			}
			free(d->tasks[n].task_id);
			d->tasks[n].task_id = names[i];
			n++;
			continue;
		}
		/* another run of it: its downstream ids join the first's */
		for (size_t k = 0; k < d->tasks[i].n_downstream; k++) {
			struct dd_task *t = &d->tasks[same];
			int dup = 0;

			for (size_t x = 0; x < t->n_downstream; x++)
				dup |= !strcmp(t->downstream[x], d->tasks[i].downstream[k]);
			if (dup || !strcmp(d->tasks[i].downstream[k], t->task_id))
				continue;
			t->downstream = dd_xrealloc(t->downstream, (t->n_downstream + 2) * sizeof(char *));
			t->downstream[t->n_downstream++] = dd_xstrdup(d->tasks[i].downstream[k]);
			t->downstream[t->n_downstream] = NULL;
		}
		free(names[i]);
		dd_task_release(&d->tasks[i]);
	}
	d->n_tasks = n;
	free(names);
}

/* ---- classification of failed tries ---------------------------------------------- */

static char *fallback_key(const char *what, const char *task_id)
{
	return dd_xasprintf("%s:%s", what, task_id);
}

/* Classifies the stored log of one try (the failure carries the decisive
 * frames and the packages); with g (the try is the group's newest), also
 * compares the log with the task's last success.  The log is read once. */
static int classify_stored(struct ctx *c, int64_t try_ref, struct dd_failure *out, struct dd_buf *log)
{
	struct dd_store_log_info info;
	int rc = store_log_get(c->store, try_ref, log, &info, c->err);

	c->res->n_log_reads += rc == 0;
	if (rc == 0)
		rc = classify_buffer(c->lib, "log", dd_buf_str(log), log->len, out, c->err);
	return rc;
}

static int classify_try(struct ctx *c, int64_t try_ref, struct dd_failure *out, struct an_group *g)
{
	struct dd_buf log = DD_BUF_INIT;
	int rc = classify_stored(c, try_ref, out, &log);

	if (rc == 0 && g)
		an_compare_with_baseline(c, g, &log);
	dd_buf_release(&log);
	return rc;
}

static void held_release(struct held *h)
{
	dd_failure_release(&h->failure);
	dd_buf_release(&h->log);
	h->try_ref = 0;
}

/* What the grid shows of a classified try: its category and its error
 * ("Type: message", else the title). */
static void keep_classification(struct try_rec *tr, const struct dd_failure *f)
{
	free(tr->category);
	free(tr->error);
	tr->category = dd_xstrdup(f->category);
	if (f->exc_type && f->exc_message && *f->exc_message)
		tr->error = dd_xasprintf("%s: %s", f->exc_type, f->exc_message);
	else if (f->exc_type)
		tr->error = dd_xstrdup(f->exc_type);
	else
		tr->error = dd_xstrdup(f->exc_message ? f->exc_message : f->title);
}

/* The group key of one failed try: from the cache, else classified now. */
static int try_key(struct ctx *c, const struct ti_rec *ti, struct try_rec *tr, char **key, struct held *keep)
{
	struct dd_store_classification sc;
	struct dd_failure f;
	int rc;

	*key = NULL;
	if (!tr->has_log) {
		c->res->n_unlogged++;
		*key = fallback_key(dd_state_name(tr->state == DD_STATE_UP_FOR_RETRY ? DD_STATE_FAILED : tr->state),
		                    ti->task_id);
		return 0;
	}
	memset(&sc, 0, sizeof(sc));
	rc = store_classification_get(c->store, tr->ref, c->res->library_hash, &sc, c->err);
	if (rc == 0 && classify_cache_decode(sc.failure_json, &f) == 0) {
		*key = sc.fingerprint ? dd_xstrdup(sc.fingerprint)
		                      : fallback_key(sc.category ? sc.category : "none", ti->task_id);
		store_classification_release(&sc);
		keep_classification(tr, &f);
		dd_failure_release(&f);
		return 0;
	}
	if (rc == 0) {               /* a cache entry of another form: classify again */
		store_classification_release(&sc);
		rc = DD_ENOTFOUND;
	}
	if (rc != DD_ENOTFOUND)
		return rc;
	memset(&f, 0, sizeof(f));
	{
		struct dd_buf log = DD_BUF_INIT;

		rc = classify_stored(c, tr->ref, &f, &log);
		if (rc == 0 && keep && log.len <= HELD_LOG_MAX) {
			held_release(keep);
			keep->log = log;
			dd_buf_init(&log);
		}
		dd_buf_release(&log);
	}
	if (rc == DD_ENOTFOUND) {         /* the log went missing: treat as unlogged */
		c->res->n_unlogged++;
		*key = fallback_key(dd_state_name(tr->state), ti->task_id);
		return 0;
	}
	if (rc < 0)
		return rc;
	c->res->n_classified++;
	{
		char *json = classify_cache_encode(&f);

		*key = f.fingerprint ? dd_xstrdup(f.fingerprint) : fallback_key(f.category, ti->task_id);
		sc.category = f.category;
		sc.pattern_id = f.pattern;
		sc.fingerprint = *key;
		sc.confidence = f.confidence;
		sc.failure_json = json;
		sc.created_ms = dd_now_ms();
		rc = store_classification_put(c->store, tr->ref, c->res->library_hash, &sc, c->err);
		free(json);
	}
	keep_classification(tr, &f);
	if (keep && rc == 0 && keep->log.data) {
		keep->failure = f;
		keep->try_ref = tr->ref;
	} else {
		dd_failure_release(&f);
	}
	return rc;
}

/* ---- groups ---------------------------------------------------------------------- */

static struct an_group *group_for(struct an_result *res, size_t *cap, const char *key)
{
	struct an_group *g;

	for (size_t i = 0; i < res->n_groups; i++)
		if (!strcmp(res->groups[i].fingerprint, key))
			return &res->groups[i];
	DD_GROW(res->groups, *cap, res->n_groups + 1);
	g = &res->groups[res->n_groups++];
	memset(g, 0, sizeof(*g));
	g->fingerprint = dd_xstrdup(key);
	return g;
}

int an_task_index(const struct an_result *res, const char *task_id)
{
	for (size_t i = 0; i < res->n_tasks; i++)
		if (!strcmp(res->tasks[i].task_id, task_id))
			return (int)i;
	return -1;
}

const struct an_task *an_result_task(const struct an_result *r, const char *task_id)
{
	int i = an_task_index(r, task_id);

	return i < 0 ? NULL : &r->tasks[i];
}

void an_set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = dd_xstrdup(s);
}

/* The state of task t in run i: failed if any map index failed, success if
 * all succeeded; DD_STATE__COUNT when the run has no such task. */
enum dd_state an_task_state(const struct run_rec *rr, int task)
{
	enum dd_state st = DD_STATE__COUNT;

	for (size_t k = 0; k < rr->n_tis; k++) {
		const struct ti_rec *ti = &rr->tis[k];

		if (ti->task != task)
			continue;
		if (st == DD_STATE__COUNT || dd_state_is_failure(ti->state) ||
		    (st == DD_STATE_SUCCESS && ti->state != DD_STATE_SUCCESS))
			st = ti->state;
	}
	return st;
}

/* Whether run i has a failed try of task `task` with group key `key`. */
static int run_has_key(const struct run_rec *rr, int task, const char *key, int *final_failed)
{
	int found = 0;

	*final_failed = 0;
	for (size_t k = 0; k < rr->n_tis; k++) {
		const struct ti_rec *ti = &rr->tis[k];

		if (ti->task != task)
			continue;
		for (size_t t = 0; t < ti->n_tries; t++)
			if (ti->tries[t].fp && !strcmp(ti->tries[t].fp, key)) {
				found = 1;
				if (dd_state_is_failure(ti->state))
					*final_failed = 1;
			}
	}
	return found;
}

double an_median(double *v, size_t n)
{
	return n ? dd_median_sort(v, n) : 0;
}

static void compute_tasks(struct ctx *c)
{
	struct an_result *res = c->res;
	size_t cap = 0;

	/* Tasks: the DAG's, then any seen in runs only. */
	for (size_t i = 0; i < c->dag.n_tasks; i++) {
		DD_GROW(res->tasks, cap, res->n_tasks + 1);
		memset(&res->tasks[res->n_tasks], 0, sizeof(res->tasks[0]));
		res->tasks[res->n_tasks].task_id = dd_xstrdup(c->dag.tasks[i].task_id);
		res->tasks[res->n_tasks].operator_name = dd_xstrdup(c->dag.tasks[i].operator_name);
		res->tasks[res->n_tasks].is_sensor = c->dag.tasks[i].is_sensor;
		res->n_tasks++;
	}
	for (size_t r = 0; r < res->n_runs; r++)
		for (size_t k = 0; k < c->runs[r].n_tis; k++) {
			struct ti_rec *ti = &c->runs[r].tis[k];

			ti->task = an_task_index(res, ti->task_id);
			if (ti->task < 0) {
				DD_GROW(res->tasks, cap, res->n_tasks + 1);
				memset(&res->tasks[res->n_tasks], 0, sizeof(res->tasks[0]));
				res->tasks[res->n_tasks].task_id = dd_xstrdup(ti->task_id);
				ti->task = (int)res->n_tasks++;
			}
		}

	for (size_t t = 0; t < res->n_tasks; t++) {
		struct an_task *at = &res->tasks[t];
		size_t n_tis = 1;     /* a mapped task has several instances per run */
		double *durs, *queues;

		for (size_t r = 0; r < res->n_runs; r++)
			n_tis += c->runs[r].n_tis;
		durs = dd_xcalloc(n_tis, sizeof(double));
		queues = dd_xcalloc(n_tis, sizeof(double));
		size_t nd = 0, nq = 0;
		int prev = -1;     /* 1 good, 0 bad */
		size_t failed_tis = 0;

		for (size_t r = 0; r < res->n_runs; r++) {
			enum dd_state st = an_task_state(&c->runs[r], (int)t);

			if (st == DD_STATE__COUNT)
				continue;
			at->runs++;
			if (st == DD_STATE_SUCCESS) {
				at->success++;
				at->last_good_ms = res->runs[r].logical_ms;
				an_set_str(&at->last_good_run, res->runs[r].run_id);
			} else if (st == DD_STATE_UPSTREAM_FAILED) {
				at->upstream_failed++;
			} else if (dd_state_is_failure(st)) {
				at->failed++;
			} else if (st == DD_STATE_SKIPPED) {
				at->skipped++;
			} else if (!dd_state_is_terminal(st)) {
				at->running++;
			}
			if (st == DD_STATE_SUCCESS || (dd_state_is_failure(st) && st != DD_STATE_UPSTREAM_FAILED)) {
				int now = st == DD_STATE_SUCCESS;

				if (prev >= 0 && prev != now)
					at->flips++;
				prev = now;
			}
			for (size_t k = 0; k < c->runs[r].n_tis; k++) {
				const struct ti_rec *ti = &c->runs[r].tis[k];
				int had_failed_try = 0;

				if (ti->task != (int)t)
					continue;
				for (size_t x = 0; x < ti->n_tries; x++)
					if (dd_state_is_failed_try(ti->tries[x].state))
						had_failed_try = 1;
				if (ti->n_tries > 1)
					at->retried++;
				if (had_failed_try) {
					failed_tis++;
					if (ti->state == DD_STATE_SUCCESS)
						at->retry_recovered++;
				}
				if (ti->state == DD_STATE_SUCCESS && ti->n_tries) {
					const struct try_rec *last = &ti->tries[ti->n_tries - 1];

					if (last->start_ms && last->end_ms > last->start_ms)
						durs[nd++] = (double)(last->end_ms - last->start_ms) / 1000.0;
				} else if (ti->state == DD_STATE_SUCCESS && ti->start_ms && ti->end_ms > ti->start_ms) {
					durs[nd++] = (double)(ti->end_ms - ti->start_ms) / 1000.0;
				}
				if (ti->queued_ms && ti->start_ms > ti->queued_ms)
					queues[nq++] = (double)(ti->start_ms - ti->queued_ms) / 1000.0;
			}
		}
		at->median_duration_s = an_median(durs, nd);
		at->median_queue_s = an_median(queues, nq);
		free(durs);
		free(queues);
		/* Intermittent: recovering on retry, and failures scattered among
		 * successes (many flips for few failures) rather than one streak. */
		if (failed_tis || at->failed) {
			double recover = failed_tis ? (double)at->retry_recovered / (double)failed_tis : 0;
			double bad = (double)(at->failed + at->retry_recovered);
			double scatter = bad > 0 && at->success > 0 ? fmin(1.0, (double)at->flips / (2.0 * bad)) : 0;

			at->intermittent = fmin(1.0, 0.6 * recover + 0.4 * scatter +
			                             (recover > 0 && scatter > 0.5 ? 0.1 : 0));
		}
	}
}

/* When the group's first failed try in run r started (wall clock); the
 * run's start, else its logical date, when no try says. */
static int64_t failed_try_start(const struct ctx *c, size_t r, const struct an_group *g)
{
	int64_t first = 0;

	for (size_t k = 0; k < c->runs[r].n_tis; k++) {
		const struct ti_rec *ti = &c->runs[r].tis[k];

		if (!dd_strv_contains(&g->task_ids, ti->task_id))
			continue;
		for (size_t t = 0; t < ti->n_tries; t++)
			if (ti->tries[t].fp && !strcmp(ti->tries[t].fp, g->fingerprint) && ti->tries[t].start_ms &&
			    (!first || ti->tries[t].start_ms < first))
				first = ti->tries[t].start_ms;
	}
	if (!first)
		first = c->res->runs[r].start_ms ? c->res->runs[r].start_ms : c->res->runs[r].logical_ms;
	return first;
}

/* When the group's tasks' tries of the good run r started (the earliest
 * of their last tries: the one that passed), likewise. */
static int64_t good_try_start(const struct ctx *c, size_t r, const struct an_group *g)
{
	int64_t first = 0;

	for (size_t k = 0; k < c->runs[r].n_tis; k++) {
		const struct ti_rec *ti = &c->runs[r].tis[k];

		if (!dd_strv_contains(&g->task_ids, ti->task_id) || ti->state != DD_STATE_SUCCESS || !ti->n_tries)
			continue;
		if (ti->tries[ti->n_tries - 1].start_ms && (!first || ti->tries[ti->n_tries - 1].start_ms < first))
			first = ti->tries[ti->n_tries - 1].start_ms;
	}
	if (!first)
		first = c->res->runs[r].start_ms ? c->res->runs[r].start_ms : c->res->runs[r].logical_ms;
	return first;
}

static int build_groups(struct ctx *c)
{
	struct an_result *res = c->res;
	size_t cap = 0;
	int rc;

	for (size_t r = 0; r < res->n_runs; r++) {
		struct run_rec *rr = &c->runs[r];

		for (size_t k = 0; k < rr->n_tis; k++) {
			struct ti_rec *ti = &rr->tis[k];

			/* A failed task instance with no failed try stored: its state is the evidence. */
			if (dd_state_is_failure(ti->state) && ti->state != DD_STATE_UPSTREAM_FAILED) {
				int any = 0;

				for (size_t t = 0; t < ti->n_tries; t++)
					any |= dd_state_is_failed_try(ti->tries[t].state);
				if (!any) {
					DD_GROW(ti->tries, ti->cap_tries, ti->n_tries + 1);
					memset(&ti->tries[ti->n_tries], 0, sizeof(ti->tries[0]));
					ti->tries[ti->n_tries].state = ti->state;
					ti->tries[ti->n_tries].try_number = ti->n_tries + 1;
					ti->n_tries++;
				}
			}
			for (size_t t = 0; t < ti->n_tries; t++) {
				struct try_rec *tr = &ti->tries[t];
				struct an_group *g;
				int seen_in_ti = 0;

				if (!dd_state_is_failed_try(tr->state))
					continue;
				{
					struct held h = { 0, { 0 }, DD_BUF_INIT };

					rc = try_key(c, ti, tr, &tr->fp, &h);
					if (rc < 0) {
						held_release(&h);
						return rc;
					}
					g = group_for(res, &cap, tr->fp);
					DD_GROW(c->held, c->cap_held, res->n_groups);
					if (c->cap_held > c->n_held_zeroed) {
						memset(c->held + c->n_held_zeroed, 0,
						       (c->cap_held - c->n_held_zeroed) * sizeof(*c->held));
						c->n_held_zeroed = c->cap_held;
					}
					if (tr->ref && res->runs[r].logical_ms >= g->last_ms) {
						/* the group's newest try so far: keep what was read of it */
						struct held *gh = &c->held[g - res->groups];

						held_release(gh);
						if (h.try_ref)
							*gh = h;
						else
							held_release(&h);
					} else {
						held_release(&h);
					}
				}
				g->n_tries++;
				if (!dd_strv_contains(&g->task_ids, ti->task_id))
					dd_strv_push(&g->task_ids, ti->task_id);
				if (tr->ref && res->runs[r].logical_ms >= g->last_ms)
					g->try_ref = tr->ref;
				for (size_t u = 0; u < t; u++)
					if (ti->tries[u].fp && !strcmp(ti->tries[u].fp, tr->fp))
						seen_in_ti = 1;
				if (!seen_in_ti) {        /* once per task instance */
					g->n_tis++;
					if (ti->state == DD_STATE_SUCCESS)
						g->retry_recovered++;
				}
			}
		}
	}

	/* Per group: runs, onset, sharpness.  Each run touching the group's
	 * tasks is labelled B (a task ended failed with this fingerprint), G (a
	 * task succeeded, none ended failed with it) or N (neither: recovered
	 * on retry, upstream_failed, another failure).  The onset is the first
	 * B after the last G that precedes the newest B. */
	{
		char *label = dd_xcalloc(res->n_runs + 1, 1);

		for (size_t gi = 0; gi < res->n_groups; gi++) {
			struct an_group *g = &res->groups[gi];
			size_t last_b = (size_t)-1, onset = (size_t)-1, good_before = 0, bad_before = 0, last_g = (size_t)-1;
			int *tix = dd_xcalloc(g->task_ids.n + 1, sizeof(*tix));

			for (size_t t = 0; t < g->task_ids.n; t++)
				tix[t] = an_task_index(res, g->task_ids.v[t]);
			for (size_t r = 0; r < res->n_runs; r++) {
				int in_run = 0, final_any = 0, good = 0, touched = 0;

				for (size_t t = 0; t < g->task_ids.n; t++) {
					int final_failed;
					enum dd_state st = an_task_state(&c->runs[r], tix[t]);

					if (st != DD_STATE__COUNT)
						touched = 1;
					if (run_has_key(&c->runs[r], tix[t], g->fingerprint, &final_failed)) {
						in_run = 1;
						final_any |= final_failed;
					} else if (st == DD_STATE_SUCCESS) {
						good = 1;
					}
				}
				label[r] = !touched ? 0 : final_any ? 'B' : good && !in_run ? 'G' : 'N';
				if (in_run) {
					g->n_runs++;
					if (final_any)
						g->n_runs_final++;
					if (!g->first_run) {
						g->first_ms = res->runs[r].logical_ms;
						an_set_str(&g->first_run, res->runs[r].run_id);
					}
					g->last_ms = res->runs[r].logical_ms;
					an_set_str(&g->last_run, res->runs[r].run_id);
				}
				if (label[r] == 'B')
					last_b = r;
			}
			free(tix);
			if (last_b == (size_t)-1) {        /* every failure recovered on retry */
				g->onset_ms = g->first_ms;
				an_set_str(&g->onset_run, g->first_run);
				for (size_t r = 0; r < res->n_runs && !g->onset_start_ms; r++)
					if (g->first_run && !strcmp(res->runs[r].run_id, g->first_run))
						g->onset_start_ms = failed_try_start(c, r, g);
				continue;
			}
			onset = last_b;
			for (size_t r = last_b + 1; r-- > 0; ) {
				if (label[r] == 'G')
					break;
				if (label[r] == 'B')
					onset = r;
			}
			for (size_t r = 0; r < onset; r++)
				if (label[r] == 'G') {
					good_before++;
					g->last_good_ms = res->runs[r].logical_ms;
					an_set_str(&g->last_good_run, res->runs[r].run_id);
					last_g = r;
				} else if (label[r] == 'B') {
					bad_before++;
				}
			if (last_g != (size_t)-1)
				g->last_good_start_ms = good_try_start(c, last_g, g);
			g->onset_ms = res->runs[onset].logical_ms;
			g->onset_start_ms = failed_try_start(c, onset, g);
			an_set_str(&g->onset_run, res->runs[onset].run_id);
			g->good_before = good_before;
			g->still_failing = 1;
			/* A whole DAG run that succeeded after the last failure also ends
			 * it (the task may have been renamed or removed). */
			for (size_t r = last_b + 1; r < res->n_runs; r++)
				if (res->runs[r].state == DD_STATE_SUCCESS)
					g->still_failing = 0;
			for (size_t r = onset; r < res->n_runs; r++) {
				if (!label[r])
					continue;
				g->runs_since_onset++;
				if (label[r] == 'B')
					g->failed_since_onset++;
				if (label[r] == 'G' && r > last_b)
					g->still_failing = 0;
			}
			{
				double after = (double)g->failed_since_onset / (double)g->runs_since_onset;
				double before = good_before >= MIN_HISTORY ? 1.0
				              : good_before ? 0.5 + 0.5 * (double)good_before / MIN_HISTORY : 0.3;

				/* the same failure before the onset: it flaps, it did not begin here */
				if (good_before)
					before *= (double)good_before / (double)(good_before + bad_before);
				g->onset_sharpness = after * before;
			}
		}
		free(label);
	}
	return 0;
}

/* upstream_failed task instances traced to the failed task(s) upstream of
 * them in the same run; counted on the groups of those roots. */
static void trace_upstream_failed(struct ctx *c)
{
	struct an_result *res = c->res;
	size_t nt = c->dag.n_tasks;

	if (!nt)
		return;
	for (size_t r = 0; r < res->n_runs; r++) {
		struct run_rec *rr = &c->runs[r];

		for (size_t k = 0; k < rr->n_tis; k++) {
			const char *target = rr->tis[k].task_id;
			unsigned char *seen;
			size_t *queue, qh = 0, qt = 0;

			if (rr->tis[k].state != DD_STATE_UPSTREAM_FAILED)
				continue;
			seen = dd_xcalloc(nt, 1);
			queue = dd_xcalloc(nt, sizeof(*queue));
			for (size_t i = 0; i < nt; i++)
				if (!strcmp(c->dag.tasks[i].task_id, target)) {
					seen[i] = 1;
					queue[qt++] = i;
				}
			while (qh < qt) {
				const char *cur = c->dag.tasks[queue[qh++]].task_id;

				/* upstream of cur: tasks listing cur downstream */
				for (size_t u = 0; u < nt; u++) {
					const struct dd_task *up = &c->dag.tasks[u];
					int is_up = 0;

					if (seen[u])
						continue;
					for (size_t d = 0; d < up->n_downstream; d++)
						if (!strcmp(up->downstream[d], cur))
							is_up = 1;
					if (!is_up)
						continue;
					seen[u] = 1;
					/* the DAG's tasks come first in res->tasks, in its order */
					if (an_task_state(rr, (int)u) == DD_STATE_UPSTREAM_FAILED) {
						queue[qt++] = u;
						continue;
					}
					for (size_t gi = 0; gi < res->n_groups; gi++) {
						int ff;

						if (run_has_key(rr, (int)u, res->groups[gi].fingerprint, &ff) && ff)
							res->groups[gi].downstream_upstream_failed++;
					}
				}
			}
			free(seen);
			free(queue);
		}
	}
}

/* ---- entry --------------------------------------------------------------------- */

static int cmp_group(const void *a, const void *b)
{
	const struct an_group *x = a, *y = b;

	if (x->n_runs_final != y->n_runs_final)
		return x->n_runs_final < y->n_runs_final ? 1 : -1;
	if (x->n_tries != y->n_tries)
		return x->n_tries < y->n_tries ? 1 : -1;
	return x->last_ms < y->last_ms ? 1 : x->last_ms > y->last_ms ? -1 : 0;
}

struct find_dag {
	int64_t ref;
	char *source, *source_kind;
	int64_t source_ref;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* See an_result.not_running. */
static void find_not_running(struct an_result *res)
{
	int64_t *gaps = dd_xcalloc(res->n_runs + 1, sizeof(*gaps)), last = 0;
	size_t n = 0;

	for (size_t r = 0; r < res->n_runs; r++) {
		if (!res->runs[r].scheduled)
			continue;
		if (last && res->runs[r].logical_ms > last)
			gaps[n++] = res->runs[r].logical_ms - last;
		last = res->runs[r].logical_ms;
	}
	if (n >= 2) {
		/* silence longer than three usual gaps and than twice the
		 * longest one seen: a weekday schedule's weekend is not silence */
		int64_t quiet_for;

		qsort(gaps, n, sizeof(*gaps), cmp_i64);
		res->cadence_ms = gaps[n / 2];
		res->last_scheduled_ms = last;
		quiet_for = 3 * res->cadence_ms > 2 * gaps[n - 1] ? 3 * res->cadence_ms : 2 * gaps[n - 1];
		res->not_running = !res->is_paused && res->cadence_ms > 0 &&
		                   res->source_kind && strcmp(res->source_kind, "logs") &&
		                   res->as_of_ms > last + quiet_for;
	}
	free(gaps);
}

static int find_dag_cb(const struct dd_store_dag *d, void *ud)
{
	struct find_dag *f = ud;

	if (d->ref != f->ref)
		return 0;
	f->source = dd_xstrdup(d->source_name);
	f->source_kind = dd_xstrdup(d->source_kind);
	f->source_ref = d->source_ref;
	return 1;
}

int analyze_dag(struct dd_store *store, int64_t dag_ref, const struct pat_library *lib,
                int64_t from_ms, int64_t to_ms, struct an_result *out, struct dd_error *err)
{
	struct ctx c;
	struct find_dag fd = { dag_ref, NULL, NULL, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.store = store;
	c.dag_ref = dag_ref;
	c.lib = lib;
	c.res = out;
	c.err = err;
	out->from_ms = from_ms;
	out->to_ms = to_ms;
	out->library_hash = analyze_library_hash(lib);
	rc = store_dag_get(store, dag_ref, &c.dag, err);
	if (rc < 0)
		goto done;
	out->dag_id = dd_xstrdup(c.dag.dag_id);
	out->fileloc = dd_xstrdup(c.dag.fileloc);
	out->is_paused = c.dag.is_paused;
	rc = store_dags(store, 0, find_dag_cb, &fd, err);
	if (rc < 0)
		goto done;
	out->source = fd.source;
	out->source_kind = fd.source_kind;
	c.source_ref = fd.source_ref;
	c.prefect = fd.source_kind && !strcmp(fd.source_kind, "prefect");
	dag_task_identity(&c);
	rc = load_history(&c, from_ms, to_ms);
	if (rc < 0)
		goto done;
	for (size_t r = 0; r < out->n_runs; r++) {
		if (out->runs[r].state == DD_STATE_SUCCESS)
			out->n_success++;
		else if (dd_state_is_failure(out->runs[r].state))
			out->n_failed++;
		else if (!dd_state_is_terminal(out->runs[r].state))
			out->n_running++;
	}
	compute_tasks(&c);
	rc = store_begin(store, err);
	if (rc < 0)
		goto done;
	rc = build_groups(&c);
	if (rc < 0) {
		store_rollback(store);
		goto done;
	}
	rc = store_commit(store, err);
	if (rc < 0)
		goto done;
	/* The newest failed try of each group, classified in full. */
	for (size_t gi = 0; gi < out->n_groups; gi++) {
		struct an_group *g = &out->groups[gi];

		struct held *h = gi < c.n_held_zeroed ? &c.held[gi] : NULL;

		if (h && h->try_ref && h->try_ref == g->try_ref) {
			/* classified while grouping: its log is still here */
			g->failure = h->failure;
			memset(&h->failure, 0, sizeof(h->failure));
			an_compare_with_baseline(&c, g, &h->log);
			continue;
		}
		if (g->try_ref && classify_try(&c, g->try_ref, &g->failure, g) == 0)
			continue;
		dd_failure_release(&g->failure);
		memset(&g->failure, 0, sizeof(g->failure));
		dd_error_clear(err);
	}
	/* what each failure is tied to: packages, and a new interpreter */
	for (size_t gi = 0; gi < out->n_groups; gi++) {
		struct an_group *g = &out->groups[gi];

		an_failure_ties(pat_library_knowledge(lib), &g->failure, &g->ties, &g->n_ties, &g->interp);
	}
	if (out->n_groups)
		qsort(out->groups, out->n_groups, sizeof(*out->groups), cmp_group);
	trace_upstream_failed(&c);
	/* A log folder may be a copy taken long ago: its own newest time is "now". */
	if ((!fd.source_kind || strcmp(fd.source_kind, "logs")) &&
	    store_cursor_get_i64(store, fd.source_ref, out->dag_id, STORE_CURSOR_RUNS_READ, &out->as_of_ms, err) < 0) {
		out->as_of_ms = 0;
		dd_error_clear(err);
	}
	if (!out->as_of_ms)
		out->as_of_ms = an_newest_stamp(&c);
	find_not_running(out);
	an_find_stalls(&c);
	an_find_quiet(&c);
	an_build_grid(&c);
	rc = 0;
done:
	for (size_t r = 0; r < out->n_runs; r++) {
		for (size_t k = 0; k < c.runs[r].n_tis; k++) {
			struct ti_rec *ti = &c.runs[r].tis[k];

			for (size_t t = 0; t < ti->n_tries; t++) {
				free(ti->tries[t].fp);
				free(ti->tries[t].category);
				free(ti->tries[t].error);
			}
			free(ti->tries);
			free(ti->task_id);
			free(ti->external_id);
		}
		free(c.runs[r].tis);
	}
	free(c.runs);
	for (size_t i = 0; i < c.n_held_zeroed; i++)
		held_release(&c.held[i]);
	free(c.held);
	dd_dag_release(&c.dag);
	dd_health_release(&c.health);
	dd_strv_release(&c.ie_files);
	dd_strv_release(&c.ie_traces);
	if (rc < 0)
		analyze_release(out);
	return rc;
}

void analyze_release(struct an_result *r)
{
	an_grid_release(&r->grid);
	free(r->dag_id);
	free(r->source);
	free(r->source_kind);
	free(r->fileloc);
	for (size_t i = 0; i < r->n_runs; i++) {
		free(r->runs[i].run_id);
		if (r->ran)
			free(r->ran[i].bundle_version);
	}
	free(r->runs);
	free(r->ran);
	for (size_t i = 0; i < r->n_tasks; i++) {
		free(r->tasks[i].task_id);
		free(r->tasks[i].operator_name);
		free(r->tasks[i].last_good_run);
	}
	free(r->tasks);
	for (size_t i = 0; i < r->n_groups; i++) {
		struct an_group *g = &r->groups[i];

		free(g->fingerprint);
		dd_failure_release(&g->failure);
		dd_strv_release(&g->task_ids);
		free(g->first_run);
		free(g->last_run);
		free(g->onset_run);
		free(g->input_drop);
		free(g->last_good_run);
		an_ties_free(g->ties, g->n_ties);
		an_interp_release(&g->interp);
	}
	free(r->groups);
	for (size_t i = 0; i < r->n_stalls; i++) {
		free(r->stalls[i].task_id);
		free(r->stalls[i].run_id);
		free(r->stalls[i].detail);
		free(r->stalls[i].entity);
		for (size_t e = 0; e < r->stalls[i].n_entities; e++) {
			free(r->stalls[i].entities[e].name);
			free(r->stalls[i].entities[e].value);
		}
		free(r->stalls[i].entities);
	}
	free(r->stalls);
	quiet_findings_free(r->quiet, r->n_quiet);
	free(r->library_hash);
	memset(r, 0, sizeof(*r));
}
